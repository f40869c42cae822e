"""Daily operation that never lies: a run finishes what a killed run left, exit 0 only when the
vault and the site are complete and current against the exchange calendar, every writing command
takes the vault's lock and clears a killed run's temp files, and every failure a user can meet
prints `kbgen: what went wrong; how to fix it` instead of a traceback."""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO_END, REPO_ROOT
from cli_runs import KBGEN, kbgen
from kbgen.vault import state as vault_state
from kbgen.vault import writer as vault_writer
from kbgen.obsidian.check import check_links
from kbgen.vault.record import read_record
from kbgen.vault.state import TEMP_PREFIX
from kbgen.vault.writer import VaultWriter


def run(project, *args):
    return kbgen("--config", project.path, *args)


def note_date(note: Path) -> str:
    return next(line for line in note.read_text().splitlines() if line.startswith("date:"))


# --- a killed run is finished by the next one -------------------------------------------------

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


# --- current against the exchange calendar ----------------------------------------------------

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


# --- the vault lock -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["publish"], ["update", "--no-fetch"]])
def test_publish_during_a_build_refuses_naming_the_other_run(demo_project, command):
    assert run(demo_project, "build").exit_code == 0
    with VaultWriter(demo_project.vault_dir):
        result = run(demo_project, *command)
    assert result.exit_code == 1
    assert f"is being written by another kbgen run (pid {os.getpid()}" in result.output
    assert "problem(s) to fix in the vault" not in result.output


# --- every failure a message, never a traceback -----------------------------------------------

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


# --- CLI conventions ----------------------------------------------------------------------------

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
