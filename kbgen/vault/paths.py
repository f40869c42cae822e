"""Where kbgen may write in a vault: paths relative to it, names Obsidian accepts, nothing hidden."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

# Obsidian refuses these in file names, or they break [[links]] to the note.
FORBIDDEN_NAME_CHARS = frozenset('*"\\<>:|?#^[]')
_DRIVE = re.compile(r"[A-Za-z]:")


class Refused(ValueError):
    """A note kbgen must not write; the message says why and how to fix it."""


def resolve_in_vault(root: Path, relpath) -> Path:
    """The real path for `relpath` under `root`, refusing anything that could land outside the vault."""
    if not isinstance(relpath, str) or not relpath:
        raise Refused("empty path; notes need a path relative to the vault")
    if relpath.startswith("/") or "\\" in relpath or _DRIVE.match(relpath):
        raise Refused("path must be relative to the vault and use '/' separators")
    for part in relpath.split("/"):
        _check_part(part)
    real = Path(os.path.realpath(root / relpath))
    if not real.is_relative_to(root) or real == root:
        raise Refused("a symbolic link leads outside the vault; kbgen writes only inside it")
    if any(p.startswith(".") for p in real.relative_to(root).parts):
        raise Refused("a symbolic link leads into a hidden folder of the vault; kbgen does not write there")
    return real


def _check_part(part: str) -> None:
    if part in ("", ".", ".."):
        raise Refused("path must not contain '..', '.' or empty parts")
    if part.startswith("."):
        raise Refused(f"'{part}' starts with a dot (hidden in Obsidian and skipped by the site); rename it")
    bad = sorted({c for c in part if c in FORBIDDEN_NAME_CHARS or ord(c) < 32})
    if bad:
        raise Refused(f"'{part}' contains {' '.join(map(repr, bad))}, which Obsidian forbids or which breaks links")


def refuse_if_read_only(path: Path) -> None:
    # Mode bits, not os.access: root may write anywhere, but a read-only note is a researcher's "hands off".
    if not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise Refused("the file is read-only; kbgen left it alone (make it writable to let kbgen update it)")


def stem(relpath: str) -> str:
    """A note's name: its file name without `.md`."""
    return relpath.rpartition("/")[2].removesuffix(".md")


def vault_notes(root: Path):
    """(vault-relative path, path) of every note Obsidian shows: none under a dot folder (.trash)."""
    for path in root.rglob("*.md"):
        relpath = path.relative_to(root).as_posix()
        if not any(part.startswith(".") for part in relpath.split("/")):
            yield relpath, path
