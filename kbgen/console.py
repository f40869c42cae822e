"""What the terminal and the --log-file show: result lines, progress, and a build's report."""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import UsageError

log = logging.getLogger("kbgen")


def say(message: str, err: bool = False, level: int = logging.INFO) -> None:
    """Print a result line (summary, warning, error) and add it to the --log-file, if one is open,
    so the log of a cron run holds what a terminal would have shown."""
    click.echo(message, err=err)
    to_log_file(message, level)


def to_log_file(message: str, level: int) -> None:
    logger = logging.getLogger("kbgen")
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(logger.makeRecord(logger.name, level, __file__, 0, message, None, None))


def rejected_rows(rejected: dict[str, list[str]]) -> list[str]:
    """One line per ticker whose rows from Yahoo failed validation (those rows were not stored)."""
    lines = []
    for ticker, notes in sorted(rejected.items()):
        more = f"; ... and {len(notes) - 3} more" if len(notes) > 3 else ""
        lines.append(f"  {ticker}: {len(notes)} row(s) from Yahoo rejected: {'; '.join(notes[:3])}{more}")
    return lines


def setup_logging(quiet: bool, verbose: int, log_file: Path | None) -> None:
    """Progress and messages on stderr at the level -q/-v ask for; with a log file, everything there too."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("kbgen")
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if log_file else level)
    handler.setLevel(level)
    if log_file:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot open the log file {log_file}: {exc.strerror}") from None
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root.addHandler(file_handler)
    root.propagate = False


class Progress:
    """A progress bar on a terminal, plain log lines otherwise (cron, CI, pipes).

    Called as progress(done, total, message) by the long-running stages.
    """

    def __init__(self, label: str):
        self.label = label
        self._bar = None
        self._done = 0
        # A bar only at the default level: -q hides progress, -v wants a line per step.
        self._interactive = sys.stderr.isatty() and log.handlers[0].level == logging.INFO

    def __call__(self, done: int, total: int, message: str = "") -> None:
        line = f"{self.label}: {done}/{total} {message}".rstrip()
        if not self._interactive:
            log.info(line)
            return
        to_log_file(line, logging.INFO)
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def print_changes(changes) -> None:
    """What a dry run would write: one line per file, e.g. `would create Daily/2026-01-30.md`."""
    for status, path in dict.fromkeys(changes):
        click.echo(f"would {status.removesuffix('d')} {path}")


def report_notes(report, dry_run: bool) -> None:
    """A build's warnings and errors, and in a dry run the files it would write."""
    for warning in report.warnings:
        say(f"warning: {warning}", err=True, level=logging.WARNING)
    for error in report.errors:
        say(f"error: {error}", err=True, level=logging.ERROR)
    if dry_run:
        print_changes(report.changes)


def report_build(report, dry_run: bool = False) -> None:
    report_notes(report, dry_run)
    say(report.summary())
    if report.stale:
        say(f"stale (no data for the latest session): {', '.join(report.stale)}")


@contextmanager
def progress_of(label: str):
    """A Progress for a long-running stage, closed however the stage ends."""
    progress = Progress(label)
    try:
        yield progress
    finally:
        progress.close()
