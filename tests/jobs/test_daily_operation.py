"""The evening job's harder cases: some tickers failing inside `kbgen update`, dry runs, write
errors in a real build, the lock seen from `kbgen update`, the log file of a cron run,
future-dated and invalid rows from Yahoo, a split in close-only data, a researcher's note sharing
a generated note's name, and the GitHub Actions example on a partial update."""
from __future__ import annotations

import datetime as dt
import errno
import os
import re
import socket
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import DEMO_END, NETWORK_ENV, REPO_ROOT
from cli_runs import CONFIG as FAULTS_CONFIG, kbgen
from fake_yahoo import NOT_FOUND, Bar
from kbgen.vault import state as vault_state
from kbgen.sources.yahoo import validate_bars
from kbgen.store import Store
from kbgen.vault.writer import VaultWriter

DEPLOY = REPO_ROOT / "deploy"
# The fault tests' project, with prices from the first session of 2026.
CONFIG = FAULTS_CONFIG.replace("start: 2026-01-05", "start: 2026-01-02")
TICKERS = ("XLE", "XOM", "CVX", "XLU", "NEE", "SPY")


@pytest.fixture(autouse=True)
def _no_network_env(monkeypatch):
    for name in NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)


def files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_proxy(config, proxy: str, cache) -> None:
    """Point a `kbgen init` config at `proxy` and the test session's yfinance cache."""
    text = config.path.read_text()
    text = text.replace("  proxy: null ", f"  proxy: {proxy} ").replace("  cache: .kbgen/cache ", f"  cache: {cache} ")
    config.path.write_text(text)


# --- network partial: some tickers fail inside `kbgen update` ----------------------------------

def test_update_with_failing_tickers_saves_the_rest_names_the_stale_ones_and_exits_partial(
        tmp_path, monkeypatch, fake_yahoo, yahoo_certificate, yfinance_cache_dir, market_clock):
    cert, _ = yahoo_certificate
    market_clock.set_evening_of(dt.date(2026, 1, 6))
    config = tmp_path / "kbgen.yml"
    config.write_text(CONFIG.format(cache=yfinance_cache_dir,
                                    network=f", proxy: '{fake_yahoo.proxy_url}', ca_bundle: '{cert}'"))
    first, second = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    (tmp_path / "prices.csv").write_text("date,ticker,close\n" + "".join(f"{first},{t},50\n" for t in TICKERS))
    monkeypatch.chdir(tmp_path)
    assert kbgen("import", "prices.csv").exit_code == 0
    for ticker in TICKERS:
        if ticker != "CVX":
            fake_yahoo.serve(ticker, [Bar(first, 50, 51, 49, 50, 50, 100), Bar(second, 50, 52, 49, 51, 51, 100)])
    fake_yahoo.serve("NEE", [Bar(dt.date(2026, 1, 2), 50, 49, 51, 50, 50, 100),    # high below low
                             Bar(first, 50, 51, 49, 50, 50, 100), Bar(second, 50, 52, 49, 51, 51, 100)])
    fake_yahoo.fail("CVX", NOT_FOUND)
    log = tmp_path / "logs" / "update.log"

    result = kbgen("-q", "--log-file", log, "update", "--no-publish")

    assert result.exit_code == 3, result.output
    assert f"built 1 session(s) ({second})" in result.output
    assert "stale (no data for the latest session): CVX" in result.output
    assert "  CVX: " in result.output
    assert "  NEE: 1 row(s) from Yahoo rejected: 2026-01-02: high below low" in result.output
    assert result.output.rstrip().endswith("kbgen: partial update: 1 ticker(s) failed to fetch: CVX")
    with Store(tmp_path / ".kbgen" / "prices.sqlite") as store:
        last = store.last_dates()
    assert last == {**{t: second for t in TICKERS}, "CVX": first}   # everything that worked was saved
    daily = (tmp_path / "vault" / "Daily" / f"{second}.md").read_text()
    stale_line = next(line for line in daily.splitlines() if line.startswith("- Stale tickers"))
    assert "CVX" in stale_line and "XOM" not in stale_line
    # the log of the cron run holds the summary and the one-line reason, not only the warnings
    logged = log.read_text()
    assert f"built 1 session(s) ({second})" in logged and "stale (no data for the latest session): CVX" in logged
    assert "kbgen: partial update: 1 ticker(s) failed to fetch: CVX" in logged

    fetched = kbgen("fetch", "NEE")   # `kbgen fetch` names the rejected rows too
    assert fetched.exit_code == 0, fetched.output
    assert "  NEE: 1 row(s) from Yahoo rejected: 2026-01-02: high below low" in fetched.output


def test_yahoo_rows_dated_in_the_future_are_rejected():
    today = dt.date(2026, 1, 6)
    rows = pd.DataFrame({
        "ticker": "X", "date": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-07"]),
        "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "adj_close": 1.5, "volume": 10,
    })

    kept, notes = validate_bars(rows, today=today)

    assert list(kept["date"].dt.day) == [5, 6]
    assert notes == ["2026-01-07: dated in the future"]


# --- dry run ----------------------------------------------------------------------------------

def test_dry_run_update_lists_the_files_and_fetches_writes_and_publishes_nothing(demo_project, yfinance_cache_dir):
    # If the dry run fetched, this proxy would fail it (exit 3); if it published, site/ would appear.
    use_proxy(demo_project, f"http://127.0.0.1:{closed_port()}", yfinance_cache_dir)
    before = files(demo_project.root)

    result = kbgen("--config", demo_project.path, "update", "--dry-run")

    assert result.exit_code == 0, result.output
    assert f"would create Daily/{DEMO_END}.md" in result.output and "would create Home.md" in result.output
    assert f"built 1 session(s) ({DEMO_END}): notes " in result.output
    assert files(demo_project.root) == before   # no note, no vault state, no site, store untouched


# --- vault: write errors in a real build --------------------------------------------------------

def _read_only(path: Path, monkeypatch):
    path.chmod(0o444)


def _disk_full(path: Path, monkeypatch):
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == path:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(vault_state.os, "replace", replace)


@pytest.mark.parametrize("command", [["build"], ["update", "--no-fetch", "--no-publish"]])
@pytest.mark.parametrize("fault, reason", [(_read_only, "the file is read-only"),
                                           (_disk_full, "the disk is full; free some space and run again")])
def test_a_write_error_mid_build_names_the_file_and_writes_the_others(demo_project, monkeypatch, command, fault, reason):
    assert kbgen("--config", demo_project.path, "build", "--date", "2026-01-29").exit_code == 0
    vault = demo_project.vault_dir
    home = vault / "Home.md"
    old_home = home.read_bytes()
    fault(home, monkeypatch)

    result = kbgen("--config", demo_project.path, *command)

    assert result.exit_code == 3, result.output
    assert f"error: Home.md: {reason}" in result.output
    assert "1 failed" in result.output and "could not be written" in result.output
    assert home.read_bytes() == old_home
    assert (vault / "Daily" / f"{DEMO_END}.md").is_file()   # the other notes are new
    assert f"as_of: '{DEMO_END}'" in (vault / "Stocks" / "Apple.md").read_text()
    assert not [p for p in vault.rglob("*") if p.name.startswith(vault_state.TEMP_PREFIX)]


# --- lock, seen from the evening job ----------------------------------------------------------

def test_update_while_another_run_holds_the_lock_names_its_pid_and_start_time(demo_project, tmp_path):
    log = tmp_path / "update.log"
    with VaultWriter(demo_project.vault_dir):
        result = kbgen("--log-file", log, "--config", demo_project.path, "update", "--no-fetch", "--no-publish")
    assert result.exit_code == 1
    assert result.output.startswith("kbgen: ") and "is being written by another kbgen run" in result.output
    assert f"(pid {os.getpid()}, started {dt.date.today().year}" in result.output
    assert not (demo_project.vault_dir / "Daily").exists()
    assert f"pid {os.getpid()}" in log.read_text()   # the reason reaches the cron run's log


# --- data: a split in close-only prices ---------------------------------------------------------

def test_a_split_in_close_only_data_is_not_a_move_and_is_reported(tmp_path, monkeypatch):
    (tmp_path / "kbgen.yml").write_text(CONFIG.format(cache=".kbgen/cache", network=""))
    days = pd.bdate_range("2026-01-05", periods=6).date
    rows = ["date,ticker,close"]
    for i, day in enumerate(days):
        for ticker in TICKERS:
            close = 100 + i % 2   # a gentle wiggle
            if ticker == "XOM" and day == days[-1]:
                close = 100.4 / 4   # 4-for-1 split, then +0.4%
            rows.append(f"{day},{ticker},{close}")
    (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    assert kbgen("import", "prices.csv").exit_code == 0

    result = kbgen("build")

    assert result.exit_code == 0, result.output
    assert (f"warning: XOM: the close moved -75% on {days[-1]} and the data has no adjusted close; "
            "kbgen read it as a 4-for-1 split") in result.output
    for note in (tmp_path / "vault").rglob("*.md"):
        assert "-75" not in note.read_text(), note


# --- vault: a researcher's note with the name of a generated one ---------------------------------

def test_a_researchers_note_with_a_generated_notes_name_is_reported_and_kept(demo_project):
    mine = demo_project.vault_dir / "Research" / "Apple.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# Apple\n\nMy channel checks.\n")

    result = kbgen("--config", demo_project.path, "build")

    assert result.exit_code == 0, result.output
    assert ("warning: Stocks/Apple.md: Research/Apple.md has the same name, so [[Apple]] may open either note "
            "in Obsidian; rename your note") in result.output
    assert mine.read_text() == "# Apple\n\nMy channel checks.\n"


# --- deploy: the GitHub Actions example on a partial update --------------------------------------

@pytest.mark.parametrize("status, step_ok", [(0, True), (3, True), (1, False), (2, False)])
def test_github_workflow_publishes_a_partial_update_and_stops_on_a_failure(tmp_path, status, step_ok):
    """Exit 3 saved what worked: the job must go on to commit and publish it, with a warning."""
    workflow = yaml.safe_load((DEPLOY / "github-actions-kbgen.yml").read_text())
    [line] = [s["run"] for s in workflow["jobs"]["update"]["steps"]
              if "run" in s and "kbgen" in s["run"] and "update" in s["run"] and "git" not in s["run"]]
    fake = tmp_path / "kbgen"
    fake.write_text(f"#!/bin/sh\nexit {status}\n")
    fake.chmod(0o755)
    # GitHub runs a `run:` step as `bash -e {0}`
    step = subprocess.run(["bash", "-e", "-c", line], env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
                          capture_output=True, text=True)
    assert (step.returncode == 0) == step_ok, step
    assert ("::warning::" in step.stdout) == (status == 3)


# --- the summary and exit code of a run that publishes ------------------------------------------

def test_update_summary_gives_publish_time_and_a_failed_publish_exits_partial(demo_project):
    assert kbgen("--config", demo_project.path, "build", "--date", "2026-01-29").exit_code == 0
    draft = demo_project.vault_dir / "Draft.md"
    draft.write_text("# Draft\n\nSee [[Nowhere]].\n")
    failed = kbgen("--config", demo_project.path, "update", "--no-fetch")

    assert failed.exit_code == 3, failed.output
    assert (demo_project.vault_dir / "Daily" / f"{DEMO_END}.md").is_file()   # the build was kept
    [reason] = [line for line in failed.output.splitlines() if line.startswith("kbgen: ")]
    assert reason.startswith("kbgen: partial update: publish failed: ") and "Nowhere" in failed.output

    draft.unlink()
    result = kbgen("--config", demo_project.path, "update", "--no-fetch")   # nothing new: the site catches up
    assert result.exit_code == 0, result.output
    assert f"no new session since {DEMO_END}" in result.output
    assert re.search(r"^published \d+ pages in \d+\.\d s$", result.output, re.M), result.output
    assert (demo_project.root / "site" / "index.html").is_file()
