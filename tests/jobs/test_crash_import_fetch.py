"""`kbgen import` and `kbgen fetch` killed with SIGKILL mid-run leave the store consistent and whole.

The import of a 120k-row file is one transaction: after a kill the store holds either none or all
of it, and the rows of an earlier import are untouched. A fetch saves as it goes: after a kill,
every ticker in the store has all of its rows, and the next fetch completes the rest.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fake_yahoo as fake_module
from fake_yahoo import Bar
from kbgen.cli import cli
from kbgen.config import load_config
from kbgen.sources.yahoo import plan_batches
from kbgen.store import Store

KBGEN = str(Path(sys.executable).with_name("kbgen"))
CONFIG = """\
paths: {{store: prices.sqlite, cache: cache}}
universe:
  sectors:
    Energy: {{etf: XLE, members: {{{members}}}}}
  benchmarks: {{SPY: S&P 500 ETF}}
{extra}"""
KILLS = 10
EARLIER_TICKERS, BIG_TICKERS, SESSIONS = 10, 120, 1000


def price_file(path: Path, prefix: str, tickers: int, sessions: int) -> pd.DataFrame:
    """Write a long price CSV of `tickers` x `sessions` rows (prices in whole cents) and return it."""
    days = pd.bdate_range("2020-01-01", periods=sessions)
    n = np.arange(tickers * sessions)
    close = (10_000 + (n // sessions) * 100 + n % sessions) / 100
    frame = pd.DataFrame({
        "date": np.tile(days.strftime("%Y-%m-%d"), tickers),
        "ticker": np.repeat([f"{prefix}{i:03d}" for i in range(tickers)], sessions),
        "open": close - 0.25, "high": close + 1, "low": close - 1, "close": close, "adj_close": close - 0.5,
        "volume": 1000 + n % 997,
    })
    with path.open("w") as out:  # a plain loop writes this twice as fast as DataFrame.to_csv
        out.write(",".join(frame.columns) + "\n")
        out.writelines(f"{r[0]},{r[1]},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.2f},{r[7]}\n"
                       for r in frame.itertuples(index=False, name=None))
    return frame


def digest(db: sqlite3.Connection, prefix: str) -> list[tuple]:
    """Per ticker starting with the letter `prefix`: rows, first and last date, and the sum of every
    price column (to the cent)."""
    return db.execute(
        """SELECT ticker, COUNT(*), MIN(date), MAX(date), ROUND(SUM(open), 2), ROUND(SUM(high), 2),
                  ROUND(SUM(low), 2), ROUND(SUM(close), 2), ROUND(SUM(adj_close), 2), SUM(volume)
           FROM prices WHERE ticker >= ? AND ticker < ? GROUP BY ticker ORDER BY ticker""",
        (prefix, chr(ord(prefix) + 1)),
    ).fetchall()


def expected_digest(frame: pd.DataFrame) -> list[tuple]:
    grouped = frame.groupby("ticker")
    sums = grouped[["open", "high", "low", "close", "adj_close"]].sum().round(2)
    return [
        (ticker, int(len(rows)), rows["date"].min(), rows["date"].max(), *sums.loc[ticker].tolist(), int(rows["volume"].sum()))
        for ticker, rows in grouped
    ]


def inspect(store_path: Path) -> tuple[int, list[tuple], list[tuple]]:
    """Open the store as kbgen does (recovering the WAL), check its integrity; return
    (row count, every earlier row in full, the big file's digest)."""
    with Store(store_path) as store:
        assert store.integrity_ok()
    with closing(sqlite3.connect(store_path)) as db:
        count = db.execute("SELECT COUNT(*) FROM prices").fetchone()[0]
        earlier = db.execute("SELECT * FROM prices WHERE ticker >= 'E' AND ticker < 'F' ORDER BY ticker, date").fetchall()
        return count, earlier, digest(db, "B")


def companion(store_path: Path, suffix: str) -> Path:
    """SQLite's -wal or -shm file next to the store."""
    return store_path.with_name(store_path.name + suffix)


def wal_size(store_path: Path) -> int:
    try:
        return companion(store_path, "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def restore(copy: Path, store_path: Path) -> None:
    """Put back a closed store's file; a WAL left by a killed writer belongs to the old state."""
    for suffix in ("-wal", "-shm"):
        companion(store_path, suffix).unlink(missing_ok=True)
    shutil.copy(copy, store_path)


def run_until(child: subprocess.Popen, store_path: Path, deadline: float, wal_bytes: float) -> int:
    """Wait until `deadline` (monotonic) or until the WAL holds `wal_bytes`; return the WAL size then."""
    while child.poll() is None and time.monotonic() < deadline:
        size = wal_size(store_path)
        if size >= wal_bytes:
            return size
        time.sleep(0.003)
    return wal_size(store_path)


def test_killing_an_import_keeps_the_store_old_or_new_and_a_rerun_completes(tmp_path, monkeypatch):
    (tmp_path / "kbgen.yml").write_text(CONFIG.format(members="XOM: Exxon, CVX: Chevron", extra=""))
    monkeypatch.chdir(tmp_path)
    store_path = tmp_path / "prices.sqlite"
    price_file(tmp_path / "earlier.csv", "E", EARLIER_TICKERS, SESSIONS)
    big = expected_digest(price_file(tmp_path / "big.csv", "B", BIG_TICKERS, SESSIONS))
    assert CliRunner().invoke(cli, ["import", "earlier.csv"]).exit_code == 0
    old_count, earlier, nothing = inspect(store_path)
    assert (old_count, nothing) == (EARLIER_TICKERS * SESSIONS, [])
    pristine = tmp_path / "pristine.sqlite"
    shutil.copy(store_path, pristine)

    # A full run, to learn how long an import takes here and how large its transaction grows the WAL.
    started = time.monotonic()
    child = subprocess.Popen([KBGEN, "import", "big.csv"], stdout=subprocess.DEVNULL)
    peak_wal = 0
    while child.poll() is None:
        peak_wal = max(peak_wal, wal_size(store_path))
        time.sleep(0.003)
    duration = time.monotonic() - started
    assert child.returncode == 0 and inspect(store_path) == (old_count + BIG_TICKERS * SESSIONS, earlier, big)
    assert peak_wal > 1_000_000, "the import's pages should spill into the WAL before it commits"

    rng = random.Random(20260108)
    outcomes = []
    for attempt in range(KILLS):
        restore(pristine, store_path)
        child = subprocess.Popen([KBGEN, "import", "big.csv"], stdout=subprocess.DEVNULL)
        # Even attempts: a random moment of the run; odd ones: while the transaction is writing its pages.
        if attempt % 2 == 0:
            wal = run_until(child, store_path, time.monotonic() + rng.uniform(0.1, 1.0) * duration, float("inf"))
        else:
            wal = run_until(child, store_path, time.monotonic() + 3 * duration, rng.uniform(0.05, 0.6) * peak_wal)
        child.send_signal(signal.SIGKILL)
        killed = child.wait() == -signal.SIGKILL

        count, earlier_now, big_now = inspect(store_path)
        assert earlier_now == earlier, f"attempt {attempt}: the earlier import changed"
        assert (count, big_now) in [(old_count, []), (old_count + BIG_TICKERS * SESSIONS, big)], (
            f"attempt {attempt}: the store holds part of the import ({count} rows)"
        )
        outcomes.append((killed, count == old_count, wal))

        rerun = CliRunner().invoke(cli, ["import", "big.csv"])
        assert rerun.exit_code == 0, rerun.output
        assert inspect(store_path) == (old_count + BIG_TICKERS * SESSIONS, earlier, big)

    mid_write = [o for o in outcomes if o[0] and o[1] and o[2] > 100_000]
    assert len(mid_write) >= KILLS // 2, f"too few kills landed while the import was writing: {outcomes}"


# --- fetch ------------------------------------------------------------------------------------

FETCH_TICKERS = ["XLE", *(f"M{i:02d}" for i in range(1, 11)), "SPY"]
BATCH_SIZE = 3
REQUEST_DELAY = 0.12  # seconds the fake waits before each chart answer until the kill


def served_bars(base: float) -> list[Bar]:
    days = pd.bdate_range("2025-01-02", periods=40).date
    return [Bar(d, base + i, base + i + 2, base + i - 1, base + i + 1, base + i + 0.5, 1000 + i) for i, d in enumerate(days)]


def stored_bars(store: Store, ticker: str) -> list[Bar]:
    return [
        Bar(r.date.date(), r.open, r.high, r.low, r.close, r.adj_close, int(r.volume))
        for r in store.load([ticker]).itertuples()
    ]


@pytest.fixture
def chart_delay(monkeypatch) -> list[float]:
    """The fake Yahoo waits `chart_delay[0]` seconds before each chart answer (REQUEST_DELAY at first)."""
    delay = [REQUEST_DELAY]
    answer = fake_module._Handler._chart

    def slow_chart(handler, request):
        time.sleep(delay[0])
        answer(handler, request)

    monkeypatch.setattr(fake_module._Handler, "_chart", slow_chart)
    return delay


def test_killing_a_fetch_keeps_whole_tickers_and_the_next_fetch_completes(tmp_path, fake_yahoo, chart_delay,
                                                                         yahoo_certificate):
    cert, _ = yahoo_certificate
    tables = {ticker: served_bars(10.0 * (i + 1)) for i, ticker in enumerate(FETCH_TICKERS)}
    for ticker, table in tables.items():
        fake_yahoo.serve(ticker, table)
    members = ", ".join(f"{t}: {t} Corp" for t in FETCH_TICKERS[1:-1])
    network = f"network: {{proxy: '{fake_yahoo.proxy_url}', ca_bundle: '{cert}', retries: 0, batch_size: {BATCH_SIZE}}}\n"
    (tmp_path / "kbgen.yml").write_text(CONFIG.format(members=members, extra=network + "fetch: {start: 2025-01-02}\n"))
    config = load_config(tmp_path / "kbgen.yml")
    plan = [t for batch in plan_batches(list(config.securities), {}, dt.date(2025, 1, 2), 2, BATCH_SIZE) for t in batch.tickers]
    assert sorted(plan) == sorted(FETCH_TICKERS) and len(plan) // BATCH_SIZE == 4

    child = subprocess.Popen([KBGEN, "fetch"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, child.kill)  # a hung fetch must not hang the test run
    watchdog.start()
    log = [child.stderr.readline()]
    while not log[-1].startswith("fetch: 1/4") and log[-1]:
        log.append(child.stderr.readline())
    assert log[-1], f"the fetch ended before its first batch was saved: {log}"
    time.sleep(random.Random(7).uniform(0.0, 3 * BATCH_SIZE * REQUEST_DELAY))
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    watchdog.cancel()
    log += child.stderr.readlines()
    child.stderr.close()

    batches_done = max(int(line.split()[1].split("/")[0]) for line in log if line.startswith("fetch: "))
    with Store(tmp_path / "prices.sqlite") as store:
        assert store.integrity_ok()
        saved = [t for t in plan if store.load([t]).shape[0]]
        assert saved == plan[: len(saved)], "tickers are saved in plan order"
        assert len(saved) >= batches_done * BATCH_SIZE, f"a batch reported done was not saved: {log}"
        assert len(saved) < len(plan), f"the kill should land mid-fetch: {log}"
        for ticker in saved:
            assert stored_bars(store, ticker) == tables[ticker], f"{ticker} is not whole"

    chart_delay[0] = 0
    rerun = subprocess.run([KBGEN, "fetch"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    with Store(tmp_path / "prices.sqlite") as store:
        assert store.integrity_ok()
        assert {t: stored_bars(store, t) for t in FETCH_TICKERS} == tables
