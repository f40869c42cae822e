"""Runs killed with SIGKILL (or dying mid-run) leave everything old or new, and the next run
finishes the job: the vault writer and `kbgen build` (every note old or new, no temp files),
`kbgen import` (one transaction: none or all of a file) and `kbgen fetch` (whole tickers),
`kbgen update` and `kbgen publish` (the next update finishes what the killed one left)."""
from __future__ import annotations

import datetime as dt
import json
import os
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

import frontmatter
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fake_yahoo as fake_module
from cli_runs import KBGEN, run
from conftest import DEMO_END
from fake_yahoo import Bar
from kbgen.cli import cli
from kbgen.config import load_config
from kbgen.jobs.init import init_project
from kbgen.sources.yahoo import plan_batches
from kbgen.store import Store
from kbgen.vault.record import read_record
from kbgen.vault.state import TEMP_PREFIX
from kbgen.vault.writer import VaultWriter


# --- kbgen build killed ------------------------------------------------------------------

def run_build(config, *args, quiet=True):
    return subprocess.Popen([*KBGEN, "--config", str(config.path), *(["-q"] if quiet else []), "build", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_after_session(process, session: int, delay: float) -> bool:
    """SIGKILL the build `delay` seconds after it reports session `session` done (its progress
    lines on stderr), so the kill lands inside the write of the next session on any machine."""
    for line in process.stderr:
        if line.startswith(f"build: {session}/"):
            time.sleep(delay)
            break
    killed = process.poll() is None
    if killed:
        process.kill()
    process.wait()
    process.stderr.close()
    return killed


def assert_vault_sound(vault, after_a_kill=False):
    for path in vault.rglob("*"):
        # A kill can leave a temp file (hidden from Obsidian and the site by its leading dot);
        # the next run removes it.
        assert after_a_kill or not path.name.startswith(TEMP_PREFIX), f"temp file left: {path}"
    for path in vault.rglob("*.md"):
        frontmatter.load(path)  # raises on a torn file


def test_killed_builds_leave_a_sound_vault_and_the_next_build_completes(demo_project, tmp_path):
    vault = demo_project.vault_dir
    thesis = vault / "Theses" / "Long NVIDIA.md"
    mine = thesis.read_text()
    rng = random.Random(20260108)
    killed = 0
    for attempt in range(6):
        # Alternate the last session so every run has notes to change, not only to skip.
        last = "2026-01-30" if attempt % 2 else "2026-01-29"
        process = run_build(demo_project, "--from", "2026-01-12", "--to", last, "--force", quiet=False)
        # Anywhere from the first daily note to the last session, which also writes every other note.
        killed += kill_after_session(process, rng.randint(1, 13), rng.uniform(0.0, 0.15))
        assert_vault_sound(vault, after_a_kill=True)
        assert thesis.read_text().startswith(mine.split("<!-- kbgen:begin")[0])
    assert killed >= 4, "the kills should land while the build runs"
    assert any((vault / "Daily").glob("*.md")), "a killed backfill keeps the sessions it finished"
    finish = run_build(demo_project, "--from", "2026-01-12", "--to", "2026-01-30")
    assert finish.wait() == 0, finish.stderr.read()
    assert_vault_sound(vault)
    # The vault's daily notes equal those of a build that was never interrupted.
    clean = tmp_path / "clean"
    init_project(clean)
    (clean / ".kbgen").mkdir()
    shutil.copyfile(demo_project.store_path, clean / ".kbgen" / "prices.sqlite")
    reference = subprocess.run([*KBGEN, "--config", str(clean / "kbgen.yml"), "-q", "build",
                                "--from", "2026-01-12", "--to", "2026-01-30"], capture_output=True)
    assert reference.returncode == 0, reference.stderr.decode()
    built = sorted((vault / "Daily").glob("*.md"))
    assert len(built) == 14  # 2026-01-19 is a market holiday
    for path in built:
        assert path.read_bytes() == (clean / "vault" / "Daily" / path.name).read_bytes(), path.name


# --- the vault writer killed at random points ---------------------------------------------

NOTES = 30
WRITER_KILLS = 15


# Shared by this test and the child process it kills: the notes at a given revision.
NOTE_FACTORY = '''
from kbgen.model import RenderedNote

def note(i, rev):
    body = (f"# Note {i}\\n\\n<!-- kbgen:begin summary -->\\nrevision {rev}\\n<!-- kbgen:end summary -->\\n\\n"
            f"## Table\\n<!-- kbgen:begin table -->\\n" + "".join(f"| row {r} | {rev} |\\n" for r in range(40))
            + "<!-- kbgen:end table -->\\n")
    return RenderedNote(f"Daily/note-{i:02d}.md", {"type": "daily", "kbgen": {"revision": rev}}, body)
'''


CHILD = NOTE_FACTORY + '''
import sys
from kbgen.vault.writer import VaultWriter
vault, rev = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while True:  # rewrite every note at each revision until killed
    rev += 1
    with VaultWriter(vault, checkpoint_every=1000) as writer:
        for i in range(%d):
            writer.write(note(i, rev))
''' % NOTES


namespace: dict = {}


exec(NOTE_FACTORY, namespace)


note = namespace["note"]


MINE = "\nMy reading of this, kept across crashes.\n"


def assert_every_note_old_or_new(vault: Path) -> set[int]:
    """Check each note is whole; return the revisions found."""
    revisions = set()
    for i in range(NOTES):
        text = (vault / f"Daily/note-{i:02d}.md").read_text()
        post = frontmatter.loads(text)
        rev = post["kbgen"]["revision"]
        assert f"revision {rev}\n" in text and text.count(f"| {rev} |") == 40, f"note {i} is torn"
        if i % 3 == 0:
            assert text.endswith(MINE), f"note {i} lost the researcher's text"
        revisions.add(rev)
    return revisions


def test_sigkill_at_random_points_never_corrupts_the_vault(tmp_path):
    vault = tmp_path / "vault"
    with VaultWriter(vault) as writer:
        for i in range(NOTES):
            writer.write(note(i, 0))
    for i in range(0, NOTES, 3):  # a researcher annotates some notes
        path = vault / f"Daily/note-{i:02d}.md"
        path.write_text(path.read_text() + MINE)
    rng = random.Random(20260108)
    started, killed_mid_run = time.monotonic(), 0
    for attempt in range(WRITER_KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(vault), str(1000 * (attempt + 1))],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

        killed_mid_run += len(assert_every_note_old_or_new(vault)) > 1  # some notes new, some old
        with VaultWriter(vault) as writer:
            assert not list(vault.rglob(".kbgen-tmp-*"))
            json.loads((vault / ".kbgen" / "manifest.json").read_text())
            results = [writer.write(note(i, -1 - attempt)) for i in range(NOTES)]
        # kbgen's own half-committed output is never mistaken for a hand edit
        assert {r.status for r in results} == {"updated"}, writer.summary().warnings
        assert writer.errors == [] and all(r.warnings == () for r in results)
        assert_every_note_old_or_new(vault)
    assert killed_mid_run >= WRITER_KILLS // 3, "the kills should land while notes are being written"
    assert time.monotonic() - started < 30


# --- import and fetch killed --------------------------------------------------------------
# `kbgen import` and `kbgen fetch` killed with SIGKILL mid-run leave the store consistent and whole.
#
# The import of a 120k-row file is one transaction: after a kill the store holds either none or all
# of it, and the rows of an earlier import are untouched. A fetch saves as it goes: after a kill,
# every ticker in the store has all of its rows, and the next fetch completes the rest.

CONFIG = """\
paths: {{store: prices.sqlite, cache: cache}}
universe:
  sectors:
    Energy: {{etf: XLE, members: {{{members}}}}}
  benchmarks: {{SPY: S&P 500 ETF}}
{extra}"""


IMPORT_KILLS = 10


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
    child = subprocess.Popen([*KBGEN, "import", "big.csv"], stdout=subprocess.DEVNULL)
    peak_wal = 0
    while child.poll() is None:
        peak_wal = max(peak_wal, wal_size(store_path))
        time.sleep(0.003)
    duration = time.monotonic() - started
    assert child.returncode == 0 and inspect(store_path) == (old_count + BIG_TICKERS * SESSIONS, earlier, big)
    assert peak_wal > 1_000_000, "the import's pages should spill into the WAL before it commits"

    rng = random.Random(20260108)
    outcomes = []
    for attempt in range(IMPORT_KILLS):
        restore(pristine, store_path)
        child = subprocess.Popen([*KBGEN, "import", "big.csv"], stdout=subprocess.DEVNULL)
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
    assert len(mid_write) >= IMPORT_KILLS // 2, f"too few kills landed while the import was writing: {outcomes}"


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

    child = subprocess.Popen([*KBGEN, "fetch"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
    rerun = subprocess.run([*KBGEN, "fetch"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    with Store(tmp_path / "prices.sqlite") as store:
        assert store.integrity_ok()
        assert {t: stored_bars(store, t) for t in FETCH_TICKERS} == tables


# --- a killed run is finished by the next one ---------------------------------------------

def note_date(note: Path) -> str:
    return next(line for line in note.read_text().splitlines() if line.startswith("date:"))


def test_an_update_killed_after_the_daily_note_is_finished_by_the_next_run(demo_project, monkeypatch):
    assert run(demo_project, "build", "--date", "2026-01-28").exit_code == 0
    real_write = VaultWriter.write

    def killed_at_home(self, note):
        if note.path == "Home.md":
            raise KeyboardInterrupt   # the run dies after the daily note, before the notes about "now"
        return real_write(self, note)

    monkeypatch.setattr(VaultWriter, "write", killed_at_home)
    assert run(demo_project, "update", "--no-fetch", "--no-publish").exit_code != 0
    vault = demo_project.vault_dir
    assert (vault / "Daily" / f"{DEMO_END}.md").is_file()
    assert read_record(vault).built_session == dt.date(2026, 1, 28)
    monkeypatch.setattr(VaultWriter, "write", real_write)

    result = run(demo_project, "update", "--no-fetch", "--no-publish")

    assert result.exit_code == 0, result.output
    assert f"built 2 session(s) (2026-01-29 .. {DEMO_END})" in result.output
    assert note_date(vault / "Home.md") == f"date: '{DEMO_END}'"
    assert read_record(vault).built_session == DEMO_END


def _html_pages(site: Path) -> int:
    return sum(1 for _ in site.rglob("*.html")) if site.is_dir() else 0


def _pages_written_since(site: Path, since_ns: int) -> int:
    """Pages of the site rewritten since `since_ns`, read while mkdocs is writing (and removing) them."""
    written = 0
    for folder, _, names in os.walk(site):
        for name in names:
            try:
                written += name.endswith(".html") and os.stat(os.path.join(folder, name)).st_mtime_ns >= since_ns
            except FileNotFoundError:
                continue
    return written


def test_a_publish_killed_halfway_is_done_again_by_the_next_update(demo_project):
    assert run(demo_project, "update", "--no-fetch").exit_code == 0
    site = demo_project.root / "site"
    full = _html_pages(site)
    (demo_project.vault_dir / "Researcher idea.md").write_text("# Idea\n\nMy words.\n")   # the site is behind
    process = subprocess.Popen([*KBGEN, "--config", str(demo_project.path), "publish"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging, started = demo_project.root / ".site.kbgen-new", time.monotonic()
    while process.poll() is None and _pages_written_since(staging, 0) < 10:   # the new site is partly written
        time.sleep(0.005)
        assert time.monotonic() - started < 120
    process.send_signal(signal.SIGKILL)
    process.wait()
    if process.returncode != -signal.SIGKILL:
        pytest.skip("the publish finished before the kill landed")
    assert read_record(demo_project.vault_dir).published_from is None   # not taken as done
    assert _html_pages(site) == full   # readers still have the whole previous site

    result = run(demo_project, "update", "--no-fetch")

    assert result.exit_code == 0, result.output
    assert "published" in result.output
    assert _html_pages(site) == full + 1 and not staging.exists()
    assert run(demo_project, "update", "--no-fetch").output.count("published") == 0   # now current


def test_temp_files_of_a_killed_run_are_removed_by_the_next_publish(demo_project):
    assert run(demo_project, "build").exit_code == 0
    leftover = demo_project.vault_dir / "Daily" / f"{TEMP_PREFIX}abc123"
    leftover.write_text("half a note")
    result = run(demo_project, "publish")
    assert result.exit_code == 0, result.output
    assert not leftover.exists()
