"""The evening job and what it tells the user: a run finishes what a killed run left (see
test_killed_runs), exit 0 only when the vault and the site are complete and current against the
exchange calendar, every writing command takes the vault's lock and clears a killed run's temp
files, and every failure prints `kbgen: what went wrong; how to fix it` instead of a traceback.
Also the harder cases: tickers failing inside `kbgen update`, dry runs, write errors in a real
build, the log file of a cron run, future-dated and invalid rows from Yahoo, a split in
close-only data, a researcher's note sharing a generated note's name, and the GitHub Actions
example on a partial update."""
from __future__ import annotations

import datetime as dt
import errno
import os
import re
import socket
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runs import CONFIG as FAULTS_CONFIG, kbgen, run
from conftest import DEMO_END, NETWORK_ENV, REPO_ROOT
from fake_yahoo import NOT_FOUND, Bar
from kbgen.obsidian.check import check_links
from kbgen.sources.yahoo import validate_bars
from kbgen.store import Store
from kbgen.vault import state as vault_state
from kbgen.vault import writer as vault_writer
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


def test_dry_run_update_lists_the_files_and_fetches_writes_and_publishes_nothing(demo_project, yfinance_cache_dir):
    # If the dry run fetched, this proxy would fail it (exit 3); if it published, site/ would appear.
    use_proxy(demo_project, f"http://127.0.0.1:{closed_port()}", yfinance_cache_dir)
    before = files(demo_project.root)

    result = kbgen("--config", demo_project.path, "update", "--dry-run")

    assert result.exit_code == 0, result.output
    assert f"would create Daily/{DEMO_END}.md" in result.output and "would create Home.md" in result.output
    assert f"built 1 session(s) ({DEMO_END}): notes " in result.output
    assert files(demo_project.root) == before   # no note, no vault state, no site, store untouched


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


def test_update_while_another_run_holds_the_lock_names_its_pid_and_start_time(demo_project, tmp_path):
    log = tmp_path / "update.log"
    with VaultWriter(demo_project.vault_dir):
        result = kbgen("--log-file", log, "--config", demo_project.path, "update", "--no-fetch", "--no-publish")
    assert result.exit_code == 1
    assert result.output.startswith("kbgen: ") and "is being written by another kbgen run" in result.output
    assert f"(pid {os.getpid()}, started {dt.date.today().year}" in result.output
    assert not (demo_project.vault_dir / "Daily").exists()
    assert f"pid {os.getpid()}" in log.read_text()   # the reason reaches the cron run's log


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


def test_a_researchers_note_with_a_generated_notes_name_is_reported_and_kept(demo_project):
    mine = demo_project.vault_dir / "Research" / "Apple.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# Apple\n\nMy channel checks.\n")

    result = kbgen("--config", demo_project.path, "build")

    assert result.exit_code == 0, result.output
    assert ("warning: Stocks/Apple.md: Research/Apple.md has the same name, so [[Apple]] may open either note "
            "in Obsidian; rename your note") in result.output
    assert mine.read_text() == "# Apple\n\nMy channel checks.\n"


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


def test_update_no_fetch_on_a_store_weeks_behind_names_the_missing_sessions_and_exits_3(demo_project, market_clock):
    market_clock.set_evening_of(dt.date(2026, 3, 2))
    result = run(demo_project, "update", "--no-fetch", "--no-publish")
    assert result.exit_code == 3, result.output
    # February 2026 has 19 sessions (Presidents' Day, the 16th, is a holiday), then Monday March 2.
    assert (f"the store's latest session is {DEMO_END}, but 20 session(s) have closed since "
            "(2026-02-02 .. 2026-03-02); run `kbgen fetch`") in result.output
    again = run(demo_project, "update", "--no-fetch", "--no-publish")
    assert again.exit_code == 3 and "no new session since 2026-01-30" in again.output


@pytest.mark.parametrize("evening, current", [
    (dt.date(2026, 2, 1), True),     # Sunday: nothing has closed since Friday
    (dt.date(2026, 2, 2), False),    # Monday evening: one session missing
])
def test_weekends_are_not_missing_sessions(demo_project, market_clock, evening, current):
    market_clock.set_evening_of(evening)
    result = run(demo_project, "update", "--no-fetch", "--no-publish")
    assert result.exit_code == (0 if current else 3), result.output


def test_a_market_holiday_is_not_a_missing_session(market_clock):
    from kbgen.exchange import staleness

    friday, holiday = dt.date(2026, 1, 16), dt.date(2026, 1, 19)   # Martin Luther King Jr. Day
    assert staleness(friday, dt.datetime(2026, 1, 19, 23, tzinfo=dt.timezone.utc)) is None
    assert staleness(friday, dt.datetime(2026, 1, 20, 23, tzinfo=dt.timezone.utc)).missing == 1
    # A session counts only once its close (16:00 New York, 21:00 UTC in winter) and an hour have passed.
    assert staleness(holiday, dt.datetime(2026, 1, 20, 21, 30, tzinfo=dt.timezone.utc)) is None


def test_check_names_the_missing_sessions(demo_project, market_clock):
    market_clock.set_evening_of(dt.date(2026, 2, 3))
    result = run(demo_project, "check")
    assert result.exit_code == 3
    assert "2 session(s) have closed since (2026-02-02 .. 2026-02-03)" in result.output


@pytest.mark.parametrize("command", [["publish"], ["update", "--no-fetch"]])
def test_publish_during_a_build_refuses_naming_the_other_run(demo_project, command):
    assert run(demo_project, "build").exit_code == 0
    with VaultWriter(demo_project.vault_dir):
        result = run(demo_project, *command)
    assert result.exit_code == 1
    assert f"is being written by another kbgen run (pid {os.getpid()}" in result.output
    assert "problem(s) to fix in the vault" not in result.output


def _garbage_store(project, monkeypatch):
    project.store_path.write_bytes(b"this is not a database " * 200)


def _truncated_store(project, monkeypatch):
    data = project.store_path.read_bytes()
    project.store_path.write_bytes(data[: len(data) // 3])
    for suffix in ("-wal", "-shm"):
        Path(f"{project.store_path}{suffix}").unlink(missing_ok=True)


def _checkpointed(project):
    with sqlite3.connect(project.store_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("damage", [_garbage_store, _truncated_store])
@pytest.mark.parametrize("command", [["build"], ["update", "--no-fetch"], ["check"], ["import", "prices.csv"]])
def test_a_damaged_store_says_how_to_rebuild_it(demo_project, monkeypatch, damage, command):
    _checkpointed(demo_project)
    (demo_project.root / "prices.csv").write_text("date,ticker,close\n2026-01-30,XOM,100\n")
    monkeypatch.chdir(demo_project.root)
    damage(demo_project, monkeypatch)
    result = run(demo_project, *command)
    assert result.exit_code == 1, result.output
    assert f"kbgen: {demo_project.store_path} is damaged" in result.output
    assert "move it aside and rebuild it: `kbgen import FILE.csv`" in result.output


def test_a_damaged_store_points_to_the_backup_a_clean_import_left(demo_project, monkeypatch):
    (demo_project.root / "prices.csv").write_text("date,ticker,close\n2026-01-30,ZZZ,100\n")
    assert run(demo_project, "import", str(demo_project.root / "prices.csv")).exit_code == 0
    backup = demo_project.store_path.with_name(demo_project.store_path.name + ".bak")
    assert backup.is_file()
    _garbage_store(demo_project, monkeypatch)
    result = run(demo_project, "build")
    assert f"copy the last good store, {backup}, over it" in result.output
    backup.replace(demo_project.store_path)
    assert run(demo_project, "build").exit_code == 0


def test_parallel_imports_wait_and_then_say_the_store_is_busy(demo_project, monkeypatch):
    monkeypatch.setattr("kbgen.store.BUSY_TIMEOUT", 0.2)
    (demo_project.root / "prices.csv").write_text("date,ticker,close\n2026-01-30,ZZZ,100\n")
    other = sqlite3.connect(demo_project.store_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # another import holds the write lock
    try:
        result = run(demo_project, "import", str(demo_project.root / "prices.csv"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 1
    assert "is busy: another kbgen run (import, fetch or update) is writing it; wait for it" in result.output


def test_a_full_disk_under_the_store_is_named(demo_project, monkeypatch):
    real_connect = sqlite3.connect

    def small_disk(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        return db

    monkeypatch.setattr("kbgen.store.sqlite3.connect", small_disk)
    rows = "".join(f"2020-01-{day:02d},T{n},1\n" for n in range(300) for day in range(1, 29))
    (demo_project.root / "prices.csv").write_text("date,ticker,close\n" + rows)
    result = run(demo_project, "import", str(demo_project.root / "prices.csv"))
    assert result.exit_code == 1
    assert "the disk is full; free some space and run again (the store is unchanged)" in result.output


def test_a_full_disk_when_the_manifest_is_saved_is_named(demo_project, monkeypatch):
    real = vault_state.atomic_write

    def full_for_the_manifest(target, data):
        if target.name == vault_state.MANIFEST_NAME and b"Home.md" in data:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(target, data)

    monkeypatch.setattr(vault_state, "atomic_write", full_for_the_manifest)
    result = run(demo_project, "build")
    assert result.exit_code == 1
    assert "kbgen: could not save kbgen's record of the vault" in result.output
    assert "the disk is full; free some space and run again" in result.output


def test_a_note_failing_and_then_the_manifest_failing_reports_the_first_failure(demo_project, monkeypatch):
    def everything_fails(target, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    assert run(demo_project, "build", "--date", "2026-01-29").exit_code == 0
    monkeypatch.setattr(vault_state, "atomic_write", everything_fails)
    monkeypatch.setattr(vault_writer, "atomic_write", everything_fails)
    result = run(demo_project, "build")
    assert result.exit_code in (1, 3)
    assert "the disk is full" in result.output
    assert "Traceback" not in result.output


def test_a_read_only_vault_is_named_with_what_kbgen_needs(demo_project, monkeypatch):
    real_open = os.open

    def no_permission(path, *args, **kwargs):
        if str(path).endswith("/lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(vault_state.os, "open", no_permission)
    for command in (["build"], ["publish"]):
        result = run(demo_project, *command)
        assert result.exit_code == 1
        assert f"kbgen: cannot write to the vault {os.path.realpath(demo_project.vault_dir)}" in result.output
        assert "permission denied" in result.output and "kbgen needs write access to the vault folder" in result.output


def _with_templates(project, files: dict[str, str] | None) -> None:
    text = project.path.read_text()
    folder = project.root / "my-templates"
    if files is not None:
        folder.mkdir()
        for name, body in files.items():
            (folder / name).write_text(body)
    project.path.write_text(text.replace("templates: null", f"templates: {folder}"))


def test_a_missing_templates_folder_is_named(demo_project):
    _with_templates(demo_project, None)
    result = run(demo_project, "build")
    assert result.exit_code == 1
    assert "template folder" in result.output and "does not exist" in result.output


@pytest.mark.parametrize("body, reason", [
    ("# {{ title }}\n\n{{ nosuchvar }}\n", "'nosuchvar' is undefined"),
    ("# {{ title }}\n{% for i in range(10**9) %}{% endfor %}\n", "Range too big"),
])
def test_a_template_error_names_the_template_and_line_and_writes_nothing(demo_project, body, reason):
    _with_templates(demo_project, {"daily.md.j2": body})
    result = run(demo_project, "build")
    assert result.exit_code == 1
    assert "kbgen: template daily.md.j2 failed at daily.md.j2:" in result.output and reason in result.output
    assert "nothing was written" in result.output
    assert not (demo_project.vault_dir / "Daily").exists()


def test_a_template_failing_on_the_last_session_leaves_no_link_to_it(demo_project):
    assert run(demo_project, "build", "--date", "2026-01-27").exit_code == 0
    builtin = (REPO_ROOT / "templates" / "daily.md.j2").read_text()
    _with_templates(demo_project, {"daily.md.j2": builtin.replace(
        "# {{ title }}", "# {{ title }}{% if title.startswith('2026-01-30') %}{{ nosuchvar }}{% endif %}", 1)})

    result = run(demo_project, "build", "--from", "2026-01-28", "--to", str(DEMO_END))

    assert result.exit_code == 1
    assert "the vault was written up to 2026-01-29" in result.output
    daily = demo_project.vault_dir / "Daily"
    assert not (daily / f"{DEMO_END}.md").exists()
    assert "[[2026-01-30]]" not in (daily / "2026-01-29.md").read_text()
    assert not check_links(demo_project.vault_dir).broken


def test_a_bug_is_reported_as_one_without_a_traceback(demo_project, monkeypatch):
    monkeypatch.setattr("kbgen.jobs.build.resolve_sessions", lambda *a, **k: 1 / 0)
    result = run(demo_project, "build")
    assert result.exit_code == 1
    assert "kbgen: unexpected error (ZeroDivisionError: division by zero); this is a bug in kbgen" in result.output


def test_logging_options_work_after_the_command(demo_project, tmp_path):
    log = tmp_path / "cron.log"
    result = run(demo_project, "build", "--from", "2026-01-26", "-v", "--log-file", log)
    assert result.exit_code == 0, result.output
    lines = [line for line in log.read_text().splitlines() if " build: " in line]
    assert [line.split(" build: ")[1] for line in lines] == [
        "1/5 2026-01-26", "2/5 2026-01-27", "3/5 2026-01-28", "4/5 2026-01-29", f"5/5 {DEMO_END}"]
    assert "built 5 session(s)" in log.read_text()
    quiet = run(demo_project, "update", "--no-fetch", "--no-publish", "-q")
    assert quiet.exit_code == 0 and "build:" not in quiet.output


def test_progress_counts_the_sessions_the_summary_counts(demo_project, tmp_path):
    assert run(demo_project, "build", "--date", "2026-01-27").exit_code == 0
    log = tmp_path / "run.log"
    result = run(demo_project, "--log-file", log, "build", "--from", "2026-01-29")   # relinks 01-27 too
    assert "built 2 session(s)" in result.output
    assert [line.split(" build: ")[1] for line in log.read_text().splitlines() if " build: " in line] == [
        "1/2 2026-01-29", f"2/2 {DEMO_END}"]


def test_from_after_to_is_a_usage_error(demo_project):
    result = run(demo_project, "build", "--from", "2026-01-30", "--to", "2026-01-20")
    assert result.exit_code == 2
    assert "--from 2026-01-30 is after --to 2026-01-20" in result.output


def test_a_date_that_is_not_a_session_says_which_session_was_built(demo_project):
    result = run(demo_project, "build", "--date", "2026-01-24")   # a Saturday
    assert result.exit_code == 0, result.output
    assert "2026-01-24 is not a session in the store (weekend or market holiday); building 2026-01-23" in result.output
    assert "built 1 session(s) (2026-01-23)" in result.output


def test_a_daily_note_with_broken_frontmatter_is_named_not_a_crash_of_the_next_build(demo_project):
    """The build reads the tags of older daily notes in a rotation episode's span; a note whose
    YAML a researcher broke is reported as that note's fault (the others are written)."""
    assert run(demo_project, "build", "--from", "2025-11-03").exit_code == 0
    tagged = [p for p in sorted((demo_project.vault_dir / "Daily").glob("*.md"))
              if "rotation/" in p.read_text() and p.stem < str(DEMO_END)]
    assert tagged, "the demo's rotation episode should tag some daily notes"
    broken = tagged[0]
    broken.write_text(broken.read_text().replace("---\n", "---\nlegs: [oops\n", 1))

    result = run(demo_project, "build")

    assert "this is a bug" not in result.output
    assert f"Daily/{broken.name}: invalid frontmatter" in result.output
    assert result.exit_code == 3, result.output
