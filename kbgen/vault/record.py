"""What the last *completed* build and publish were, written last, so the next run knows.

A killed run leaves daily notes or site pages that look finished but are not: the newest daily
note's name or the age of `site/index.html` would say "up to date". The record
(`vault/.kbgen/record.json`) is written only after a build has written every note of its last
session (Home, stocks, sectors and theses included) and after a publish has finished the whole
site; a publish first clears its entry, so a publish killed halfway is never taken as done.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import __version__
from .state import STATE_DIR, atomic_write

RECORD_NAME = "record.json"


@dataclass(frozen=True)
class RunRecord:
    built_through: str | None = None    # ISO date of the last session whose whole build completed
    built_at: str | None = None
    published_from: str | None = None   # fingerprint of the vault the complete site was built from
    published_at: str | None = None

    @property
    def built_session(self) -> dt.date | None:
        return dt.date.fromisoformat(self.built_through) if self.built_through else None


def _path(vault_dir: Path) -> Path:
    return Path(vault_dir) / STATE_DIR / RECORD_NAME


def read_record(vault_dir: Path) -> RunRecord:
    """The record, or an empty one (no run completed, or the file is unreadable)."""
    try:
        data = json.loads(_path(vault_dir).read_text(encoding="utf-8"))
        return RunRecord(**{k: v for k, v in data.items() if k in RunRecord.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return RunRecord()


def _write(vault_dir: Path, record: RunRecord) -> None:
    path = _path(vault_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(asdict(record), indent=1, sort_keys=True) + "\n").encode("utf-8"))


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record_build(vault_dir: Path, session: dt.date) -> None:
    """A build wrote every note of `session`, the latest the vault describes."""
    record = read_record(vault_dir)
    if record.built_session and record.built_session > session:
        return  # a past day rebuilt: the vault still describes the later session
    _write(vault_dir, replace(record, built_through=session.isoformat(), built_at=_now()))


def start_publish(vault_dir: Path) -> None:
    """Forget the last publish before the site is rewritten: a kill from here on leaves it unfinished."""
    record = read_record(vault_dir)
    if record.published_from is not None:
        _write(vault_dir, replace(record, published_from=None, published_at=None))


def record_publish(vault_dir: Path, fingerprint: str) -> None:
    _write(vault_dir, replace(read_record(vault_dir), published_from=fingerprint, published_at=_now()))


def vault_fingerprint(vault_dir: Path, site_config: Path) -> str:
    """Changes whenever a page of the site would: any file of the vault (kbgen's state and
    Obsidian's settings aside), the site configuration, or kbgen's version."""
    digest = hashlib.sha256(f"kbgen {__version__}\n".encode())
    try:
        digest.update(Path(site_config).read_bytes())
    except OSError:
        digest.update(b"no site config")
    root = Path(vault_dir)
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in (STATE_DIR, ".obsidian", ".trash"))
        for name in sorted(names):
            stat = os.stat(os.path.join(folder, name))
            relative = os.path.relpath(os.path.join(folder, name), root)
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def site_is_current(vault_dir: Path, site_config: Path, site_dir: Path) -> bool:
    """Whether the last publish finished and nothing the site shows has changed since."""
    record = read_record(vault_dir)
    return (record.published_from is not None and (Path(site_dir) / "index.html").is_file()
            and record.published_from == vault_fingerprint(vault_dir, site_config))
