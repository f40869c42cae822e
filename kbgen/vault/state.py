"""What kbgen keeps in the vault's `.kbgen/` folder, and how it writes any file there or in the vault.

* the manifest (`manifest.json`): per file kbgen wrote, the hashes of its blocks (or of the whole
  attachment), its kbgen_id and former paths;
* the journal (`journal`): the block hashes of each file about to be replaced, so a run killed
  between the rename and the next manifest save is recovered on the next open;
* the lock (`lock`, held with flock and naming pid, host and start time): one writing run at a
  time; the kernel drops it when a run dies, so a leftover lock file is recognised as stale;
* atomic writes: a temp file `.kbgen-tmp-*` in the target's directory, fsync, rename.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import VaultError, os_error_hint
from .blocks import adopt

TEMP_PREFIX = ".kbgen-tmp-"
STATE_DIR = ".kbgen"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


class VaultLocked(VaultError):
    """Another kbgen run is writing this vault."""


# --- manifest and journal --------------------------------------------------------------------

class Manifest:
    """The manifest's entries (`files`: vault-relative path -> entry) and the journal of a run."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.path = state_dir / MANIFEST_NAME
        self.files: dict[str, dict] = {}
        self.warnings: list[str] = []
        self._saved = ""
        self._journal = None

    def load(self) -> None:
        try:
            self._saved = self.path.read_text(encoding="utf-8")
            data = json.loads(self._saved)
            files = data["files"]
            if data.get("format") != MANIFEST_FORMAT or not isinstance(files, dict):
                raise ValueError("unknown layout")
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            self.warnings.append(f"{self.path}: unreadable ({exc}); starting a new manifest, so blocks kbgen wrote "
                                 "before may be reported as edited by hand")
            return
        self.files.update((path, entry) for path, entry in files.items() if isinstance(entry, dict))

    def save(self) -> None:
        text = json.dumps({"format": MANIFEST_FORMAT, "files": self.files}, indent=1, sort_keys=True) + "\n"
        if text != self._saved:
            atomic_write(self.path, text.encode("utf-8"))
            self._saved = text
        if self._journal is not None:
            self._journal.truncate(0)

    def open_journal(self) -> None:
        self._journal = open(self.state_dir / "journal", "a", encoding="utf-8")

    def journal(self, relpath: str, entry: dict | None) -> None:
        if entry is None:
            return
        # Flushed to the kernel, which survives a kill. Not fsynced: that would double the cost of a
        # write, and a power cut could at worst make kbgen's own block look edited (kept, reported).
        self._journal.write(json.dumps({"path": relpath, "entry": entry}, sort_keys=True) + "\n")
        self._journal.flush()

    def close(self, failing: bool) -> None:
        """Save the manifest and drop the journal. When the run is already failing, a second
        failure here (the disk that filled up) must not hide the first one."""
        try:
            self.save()
            self._journal.close()
            self._journal = None
            os.unlink(self.state_dir / "journal")
        except OSError as exc:
            if failing:
                return  # the journal stays; the next run recovers from it
            raise VaultError(f"could not save kbgen's record of the vault ({self.path}): "
                             f"{os_error_hint(exc)}; the notes written are complete, and the next run "
                             "recovers the record from its journal") from None

    def release(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def recover(self, resolve: Callable[[str], Path]) -> None:
        """Adopt what an interrupted run wrote: journal hashes that match the files on disk."""
        try:
            lines = (self.state_dir / "journal").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                record = json.loads(line)
                relpath, entry = record["path"], record["entry"]
                raw = resolve(relpath).read_bytes()
            except (ValueError, KeyError, TypeError, OSError):
                continue  # a torn last line, or a file that was never written
            adopted = adopt(self.files.get(relpath), entry, raw)
            if adopted is not None:
                self.files[relpath] = adopted


def generated_files(vault_dir) -> frozenset[str]:
    """Vault-relative paths of the files kbgen created, as recorded in the manifest."""
    try:
        data = json.loads((Path(vault_dir) / STATE_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return frozenset()  # nothing is known to be generated: the safe answer for any clean-up
    return frozenset(path for path, entry in data.get("files", {}).items() if entry.get("generated"))


# --- lock ------------------------------------------------------------------------------------

class VaultLock:
    """Holds the vault's lock for one writing run (build, publish, update) and, once it is held,
    removes the temporary files a killed run left behind (nobody else is writing)."""

    def __init__(self, vault_dir):
        self.root = Path(os.path.realpath(vault_dir))
        self.path = self.root / STATE_DIR / "lock"
        self.warnings: list[str] = []
        self._fd: int | None = None

    def __enter__(self) -> VaultLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = _take_lock(self.path, self.warnings)
            self._remove_stale_temp_files()
        except OSError as exc:
            self.__exit__(None, None, None)
            raise VaultError(f"cannot write to the vault {self.root} ({exc.filename or self.path}): "
                             f"{os_error_hint(exc)}; kbgen needs write access to the vault folder") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock: a waiter that opened the old file sees the inode
        # change and retries on a fresh one.
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None

    def _remove_stale_temp_files(self) -> None:
        removed = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                if name.startswith(TEMP_PREFIX):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
        if removed:
            self.warnings.append(f"removed {removed} temporary file(s) left by an interrupted run")


def _take_lock(path: Path, warnings: list[str]) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise VaultLocked(f"{path.parent.parent} is being written by another kbgen run "
                              f"({_describe(holder)}); wait for it to finish") from None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder finished and removed this file meanwhile: lock the new one
    previous = _read_holder(fd)
    host = socket.gethostname()
    if previous and previous.get("host", host) != host:
        os.close(fd)
        raise VaultLocked(f"{path} was left by a kbgen run on host {previous.get('host')} "
                          f"({_describe(previous)}); if no run is active there, delete {path}")
    if previous:
        warnings.append(f"cleared a stale lock left by {_describe(previous)}, which is no longer running")
    mine = {"pid": os.getpid(), "host": host, "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(mine) + "\n").encode(), 0)
    os.fsync(fd)
    return fd


def refuse_if_locked(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise VaultLocked(f"{path.parent.parent} is being written by another kbgen run "
                          f"({_describe(_read_holder(fd))}); wait for it to finish") from None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> dict:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
    return f"pid {holder.get('pid', '?')}, started {holder.get('started', 'at an unknown time')}"


# --- atomic writes ---------------------------------------------------------------------------

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(target: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
