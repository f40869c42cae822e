"""One family of errors for everything a user can fix, and the exit codes they map to.

Each stage raises its own subclass (ConfigError, StoreError, SourceError, RenderError, VaultError,
PublishError, ...) with a message that says what went wrong and how to fix it. The CLI has a
single handler (`kbgen.cli`) that prints `kbgen: <message>` and exits with the error's code, so no
traceback reaches a user.
"""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1    # nothing, or only part, was done; the message says which
EXIT_USAGE = 2      # bad usage, config or researcher notes: nothing was written
EXIT_PARTIAL = 3    # what worked was saved; the summary names what did not


class KbgenError(Exception):
    """A failure the user can act on. `str()` is the whole message shown after `kbgen: `."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str = "", exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KbgenError):
    """Bad input the user typed or configured; nothing was written."""

    exit_code = EXIT_USAGE


class PartialError(KbgenError):
    """Part of the work was done and saved; the message names the rest."""

    exit_code = EXIT_PARTIAL


class StoreError(KbgenError):
    """The price store cannot be opened, read or written."""


class VaultError(KbgenError):
    """The vault (or kbgen's state inside it) cannot be written."""


def os_error_hint(exc: OSError) -> str:
    """What a failed file operation means for the user, and what to do about it."""
    return {
        errno.ENOSPC: "the disk is full; free some space and run again",
        errno.EDQUOT: "the disk quota is used up; free some space and run again",
        errno.EACCES: "permission denied; check the file's and folder's permissions",
        errno.EPERM: "operation not permitted; check the file's and folder's permissions",
        errno.EROFS: "the file system is read-only",
        errno.ENAMETOOLONG: "the file name is too long for the file system",
    }.get(exc.errno, exc.strerror or str(exc))


def describe_os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"cannot write or read a file{where}: {os_error_hint(exc)}"


def describe_store_error(exc: sqlite3.Error, store: Path | None) -> str:
    """A SQLite failure as a user sees it: busy, full, unopenable or damaged, and what to do."""
    text = str(exc)
    name = str(store) if store else "the price store"
    if "locked" in text or "busy" in text:
        return (f"{name} is busy: another kbgen run (import, fetch or update) is writing it; "
                "wait for it to finish and run again")
    if "full" in text:
        return f"cannot write {name}: the disk is full; free some space and run again (the store is unchanged)"
    if "unable to open" in text or "readonly" in text:
        return f"cannot open {name} ({text}); check that its folder exists and is writable, or set paths.store in kbgen.yml"
    if not any(sign in text for sign in ("not a database", "malformed", "disk image", "corrupt")):
        return f"the price store {name} failed: {text}"
    backup = store.with_name(store.name + ".bak") if store else None
    restore = (f"; or copy the last good store, {backup}, over it and run `kbgen fetch` to catch up"
               if backup and backup.is_file() else "")
    return (f"{name} is damaged ({text}); move it aside and rebuild it: `kbgen import FILE.csv` for CSV data, "
            f"`kbgen fetch --start YYYY-MM-DD` from Yahoo, or `kbgen demo` for simulated data{restore}")

class ProblemsError(UsageError):
    """Several faults found in one pass (a config, researchers' notes), all reported together."""

    def __init__(self, heading: str, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} {heading}:\n  " + "\n  ".join(self.problems))
