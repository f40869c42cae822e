"""Writes rendered notes into the vault without ever destroying what a researcher wrote.

A note on disk is the researcher's; kbgen only owns its frontmatter keys and the managed blocks
between `<!-- kbgen:begin NAME -->` and `<!-- kbgen:end NAME -->`. Merging an update therefore:

* keeps every byte outside managed blocks (text between blocks, trailing spaces, CRLF endings);
* sets kbgen's frontmatter keys in place, leaving other keys, their order and comments alone;
* replaces a block only when its content is still what kbgen last wrote (sha256 kept in
  `.kbgen/manifest.json`); a block edited by hand is kept and reported, unless `force`;
* inserts a block the file lacks after the previous block that exists, except one the researcher
  deleted on purpose (the manifest says kbgen wrote it before), which is reported once.

Safety: writes are atomic (temp file `.kbgen-tmp-*` in the target's directory, fsync, rename) and
skipped when the bytes would not change, so mtimes stay put. Before a file is replaced, the new
block hashes go to `.kbgen/journal`; a run killed between the rename and the next manifest save
recovers them on the next open, so kbgen's own output is never mistaken for a hand edit. A lock
(`.kbgen/lock`, held with flock and naming pid, host and start time) stops two runs at once; the
kernel drops it when a run dies, so a leftover lock file is recognised as stale and cleared.
This module never deletes a note.

Renames: a generated note carries `kbgen_id` ("stock/AAPL") in its properties and its manifest
entry. A note renamed or moved in Obsidian is found by that id and written where it is now; its
former paths are kept, so a managed block whose links Obsidian rewrote to the new name still
counts as kbgen's own output. When kbgen's own name for a note changes because another note took
the old one (a thesis named like the stock), the generated file is moved to its new name.

Dry run: nothing is written, not even the lock; it only refuses to start while a real run holds
the lock, since it would read half-written state.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import frontmatter
import yaml

from .model import RenderedNote
from .errors import VaultError, os_error_hint

TEMP_PREFIX = ".kbgen-tmp-"
STATE_DIR = ".kbgen"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1

CREATED, UPDATED, UNCHANGED, CONFLICT, SKIPPED = "created", "updated", "unchanged", "conflict", "skipped"
STATUSES = (CREATED, UPDATED, UNCHANGED, CONFLICT, SKIPPED)

# Obsidian refuses these in file names, or they break [[links]] to the note.
_FORBIDDEN_NAME_CHARS = set('*"\\<>:|?#^[]')
_BLOCK = re.compile(r"<!-- kbgen:begin ([A-Za-z0-9_.-]+) -->(.*?)<!-- kbgen:end \1 -->", re.DOTALL)
_BEGIN = re.compile(r"<!-- kbgen:begin ([A-Za-z0-9_.-]+) -->")
_END = re.compile(r"<!-- kbgen:end ([A-Za-z0-9_.-]+) -->")
# A closed fenced code block (``` or ~~~): markers a researcher quotes in one are text. Inline code
# spans are not masked: one stray backtick would hide the real blocks up to the next one. An
# unclosed fence is not masked either, so kbgen's blocks after it keep being updated.
_CODE_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[`~]*[ \t]*\r?$",
                         re.MULTILINE | re.DOTALL)
_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_YAML = frontmatter.YAMLHandler()
# A wikilink's target: up to its alias, heading or end ("[[Apple\\|AAPL]]" in a table cell too).
_LINK_TARGET = re.compile(r"\[\[([^\]|#\\\n]+)(?=\\?\||#|\]\])")
# The nested property older versions wrote (as_of, source, version, simulated); now flat `kbgen_*` keys.
LEGACY_PROVENANCE = "kbgen"
# List properties kbgen writes and researchers extend in Obsidian: their items are kept.
SHARED_LISTS = ("tags", "aliases")


class VaultLocked(VaultError):
    """Another kbgen run is writing this vault."""


class _Refused(ValueError):
    """A note kbgen must not write; the message says why and how to fix it."""


@dataclass(frozen=True)
class WriteResult:
    path: str
    status: str                        # one of STATUSES
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteError:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class WriteSummary:
    counts: dict[str, int]
    warnings: list[str]
    errors: list[WriteError]

    def __str__(self) -> str:
        return ", ".join(f"{self.counts[s]} {s}" for s in STATUSES)


# --- the writer --------------------------------------------------------------------------------

class VaultWriter:
    """Merges notes into `vault_dir`; use as a context manager (it holds the vault's lock)."""

    def __init__(self, vault_dir, force: bool = False, dry_run: bool = False, checkpoint_every: int = 100):
        self.vault_dir = Path(vault_dir)
        self.force = force
        self.dry_run = dry_run
        self.checkpoint_every = checkpoint_every
        self.errors: list[WriteError] = []
        self.warnings: list[str] = []
        self._counts = dict.fromkeys(STATUSES, 0)
        self._root: Path | None = None
        self._state: Path | None = None
        self._lock: VaultLock | None = None
        self._journal = None
        self._files: dict[str, dict] = {}
        self._names_in_vault: set[str] | None = None  # folded note names, listed when first needed
        self._saved_manifest = ""
        self._since_checkpoint = 0

    # -- lifecycle

    def __enter__(self) -> VaultWriter:
        self._root = Path(os.path.realpath(self.vault_dir))
        self._state = self._root / STATE_DIR
        if self.dry_run:
            _refuse_if_locked(self._state / "lock")
            self._load_manifest()
            self._follow_renames()
            return self
        self._lock = VaultLock(self._root).__enter__()
        self.warnings.extend(self._lock.warnings)
        try:
            self._load_manifest()
            self._recover_journal()
            self._follow_renames()
            self._save_manifest()
            self._journal = open(self._state / "journal", "a", encoding="utf-8")
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if not self.dry_run:
                self._close_journal(failing=exc is not None)
        finally:
            self._release()

    def _close_journal(self, failing: bool) -> None:
        """Save the manifest and drop the journal. When the run is already failing, a second
        failure here (the disk that filled up) must not hide the first one."""
        try:
            self._save_manifest()
            self._journal.close()
            self._journal = None
            os.unlink(self._state / "journal")
        except OSError as exc:
            if failing:
                return  # the journal stays; the next run recovers from it
            raise VaultError(f"could not save kbgen's record of the vault ({self._state / MANIFEST_NAME}): "
                             f"{os_error_hint(exc)}; the notes written are complete, and the next run "
                             "recovers the record from its journal") from None

    def _release(self) -> None:
        self._root = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    # -- public API

    def write(self, note: RenderedNote) -> WriteResult:
        """Merge `note` into the file at `note.path`; per-file faults are reported, never raised."""
        self._require_open()
        relpath = note.path
        try:
            relpath, moved = self._place(note)
            target = self._resolve(relpath)
            status, data, entry, warnings = self._plan_note(replace(note, path=relpath), target)
            self._commit(relpath, target, data, self._with_identity(relpath, entry, note))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, _Refused) as exc:
            return self._fail(relpath, exc)
        return self._record(WriteResult(relpath, status, tuple(moved + warnings)))

    @property
    def renamed_notes(self) -> dict[str, str]:
        """kbgen_id -> note name, for the generated notes a researcher renamed: links name them so."""
        return {entry["id"]: _stem(path) for path, entry in self._files.items()
                if entry.get("id") and entry.get("former_paths")}

    def write_file(self, relpath: str, data: bytes | Callable[[], bytes], inputs: str | None = None) -> WriteResult:
        """Write an attachment (a chart) as is: same checks and atomicity as notes, no merging.

        A file kbgen did not write, or one changed since, is kept (status conflict) unless force.
        `data` may be a function that draws it, and `inputs` a fingerprint of what it is drawn
        from: a file kbgen wrote from the same inputs and still untouched is left as it is
        without drawing it again (drawing is most of a backfill's time).
        """
        self._require_open()
        try:
            target = self._resolve(relpath)
            warnings: list[str] = []
            try:
                current = target.read_bytes()
            except FileNotFoundError:
                current = None
            known = self._files.get(relpath) or {}
            if inputs is not None and current is not None and known.get("inputs") == inputs \
                    and known.get("sha256") == _sha(current):
                return self._record(WriteResult(relpath, UNCHANGED, ()))
            data = data() if callable(data) else data
            entry = {"generated": True, "sha256": _sha(data), **({"inputs": inputs} if inputs else {})}
            if current is None:
                status, payload = CREATED, data
            else:
                status, payload = self._plan_attachment(relpath, target, current, data, warnings)
                if status == CONFLICT:
                    entry = self._files.get(relpath)
            self._commit(relpath, target, payload, entry)
        except (OSError, _Refused) as exc:
            return self._fail(relpath, exc)
        return self._record(WriteResult(relpath, status, tuple(warnings)))

    def summary(self) -> WriteSummary:
        return WriteSummary(dict(self._counts), list(self.warnings), list(self.errors))

    # -- identity: following renames

    def _follow_renames(self) -> None:
        """Move the manifest entry of each generated note that is gone from its path to the file
        that now carries its kbgen_id (renamed or moved in Obsidian), remembering the old path."""
        lost = {entry["id"]: path for path, entry in self._files.items()
                if entry.get("id") and not (self._root / path).exists()}
        if not lost:
            return
        for path, note_id in _ids_in_vault(self._root).items():
            old = lost.pop(note_id, None)
            if old is None or path in self._files:
                continue
            entry = self._files.pop(old)
            self._files[path] = {**entry, "former_paths": [old, *entry.get("former_paths", [])]}
        for old in lost.values():  # deleted, not renamed: look for it no more (kbgen may write it anew)
            self._files[old] = {k: v for k, v in self._files[old].items() if k != "id"}

    def _place(self, note: RenderedNote) -> tuple[str, list[str]]:
        """The vault path to write `note` to, and a warning when kbgen moved the file there."""
        note_id = _note_id(note)
        if not note_id or self._files.get(note.path, {}).get("id") == note_id:
            return note.path, []
        current = self._path_of(note_id)
        if current is None:
            return note.path, []
        if self._files[current].get("former_paths"):
            return current, []  # the researcher renamed or moved it: it stays where they put it
        if not self._name_taken_elsewhere(current) or (self._root / note.path).exists():
            return note.path, []
        warning = (f"{current}: another note now has the name {_stem(current)!r}, so kbgen moved this note to "
                   f"{note.path}; links to [[{_stem(current)}]] open the other note")
        if not self.dry_run:
            target = self._resolve(note.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self._resolve(current), target)
            self._files[note.path] = self._files.pop(current)
        return note.path, [warning]

    def _path_of(self, note_id: str) -> str | None:
        """Where the manifest says the note with this id is (a file that exists)."""
        for path, entry in self._files.items():
            if entry.get("id") == note_id and (self._root / path).exists():
                return path
        return None

    def _name_taken_elsewhere(self, relpath: str) -> bool:
        """Whether a note other than `relpath` has its name (Obsidian resolves links by name)."""
        if self._names_in_vault is None:
            self._names_in_vault = {}
            for _, path in _vault_notes(self._root):
                key = path.stem.casefold()
                self._names_in_vault[key] = self._names_in_vault.get(key, 0) + 1
        return self._names_in_vault.get(_stem(relpath).casefold(), 0) > 1

    def _with_identity(self, relpath: str, entry: dict | None, note: RenderedNote) -> dict | None:
        """The manifest entry with the note's kbgen_id and former paths (the merge knows neither)."""
        note_id = _note_id(note)
        if entry is None or not note_id:
            return entry
        former = self._files.get(relpath, {}).get("former_paths")
        return {**entry, "id": note_id, **({"former_paths": former} if former else {})}

    def _former_names(self) -> dict[str, list[str]]:
        """Folded current name -> the names it had before, latest first, for renamed notes."""
        names = {}
        for path, entry in self._files.items():
            former = [_stem(p) for p in entry.get("former_paths", ()) if _stem(p).casefold() != _stem(path).casefold()]
            if former:
                names[_stem(path).casefold()] = former
        return names

    # -- planning

    def _plan_note(self, note: RenderedNote, target: Path):
        """Return (status, bytes to write or None, new manifest entry, warnings)."""
        new_blocks, _ = _parse_blocks(note.body, strict=True, path=note.path)
        if not isinstance(note.frontmatter, dict):
            raise _Refused("the note's frontmatter must be a mapping (a kbgen bug; please report it)")
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            if note.owned_by_researcher:
                warning = f"{note.path}: the researcher's note is gone; kbgen does not recreate it"
                return SKIPPED, None, self._files.get(note.path), [warning]
            entry = {"generated": True, "blocks": {b.name: _sha(b.content) for b in new_blocks}, "removed": [],
                     "lists": _kbgen_lists(note.frontmatter)}
            return CREATED, _new_note_text(note).encode("utf-8"), entry, []
        merged, entry, warnings, conflict = self._merge(note, _migrate_provenance(raw.decode("utf-8"), note), new_blocks)
        data = merged.encode("utf-8")
        if data == raw:
            return (CONFLICT if conflict else UNCHANGED), None, entry, warnings
        _refuse_if_read_only(target)
        return (CONFLICT if conflict else UPDATED), data, entry, warnings

    def _merge(self, note: RenderedNote, text: str, new_blocks: list[_Block]):
        newline = "\r\n" if _first_newline(text) == "\r\n" else "\n"
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        doc = _split_frontmatter(text[len(bom):])
        warnings: list[str] = []
        old = {"generated": False, "blocks": {}, "removed": [], **self._files.get(note.path, {})}
        current = _load_yaml(doc[1]) if doc is not None else {}
        ours = old["generated"] or _has_provenance(current)
        if not ours:
            # A note kbgen did not create: only its managed blocks are kbgen's; its frontmatter
            # (type, tags, aliases...) stays the researcher's, byte for byte.
            head, body = ("", text[len(bom):]) if doc is None else (doc[0] + doc[1] + doc[2], doc[3])
        elif doc is None:
            head, body = "", text[len(bom):]
            if note.frontmatter:
                head = "---" + newline + _to_newline(_dump(note.frontmatter), newline) + "---" + newline
        else:
            opening, yaml_text, closing, body = doc
            owned = _with_researchers_items(note.frontmatter, current, old.get("lists"))
            merged_yaml, rewritten = _merge_frontmatter(yaml_text, current, owned, newline)
            if rewritten:
                warnings.append(f"{note.path}: frontmatter rewritten in full (its layout could not be edited in "
                                "place); values and key order kept, YAML comments were not")
            head = opening + merged_yaml + closing
        body, blocks, removed, conflict = self._merge_blocks(note, body, new_blocks, old, newline, warnings)
        entry = {"generated": old["generated"], "blocks": blocks, "removed": removed,
                 "lists": _kbgen_lists(note.frontmatter)}
        return bom + head + body, entry, warnings, conflict

    def _merge_blocks(self, note, body, new_blocks, old, newline, warnings):
        """Apply the block rules to `body`; return (body, block hashes, removed names, any conflict)."""
        on_disk, unpaired = _parse_blocks(body, strict=False, path=note.path, warnings=warnings)
        conflicts = sum(block.name in unpaired for block in new_blocks)
        hashes = dict(old["blocks"])
        removed = set(old["removed"])
        edits: list[tuple[int, int, str]] = []   # (start, end, replacement) on `body`
        tail: list[str] = []                     # units appended at the end of the body
        anchor: _Block | None = None             # last block of the new note present on disk
        previous_end = None                      # end of the previous block in the new note
        for block in new_blocks:
            new_hash = _sha(block.content)
            unit_start = block.start if previous_end is None else previous_end
            previous_end = block.end
            disk = on_disk.get(block.name)
            if block.name in unpaired:
                continue
            if disk is not None:
                anchor = disk
                removed.discard(block.name)
                action = self._take_block(note.path, disk, new_hash, hashes.get(block.name), warnings)
                conflicts += action == "conflict"
                if action == "replace":
                    edits.append((disk.content_start, disk.content_end, _to_newline(block.content, newline)))
                    hashes[block.name] = new_hash
                continue
            if block.name in hashes and not self.force:
                if block.name not in removed:
                    warnings.append(f"{note.path}: block '{block.name}' was removed by hand; not adding it "
                                    "back (use --force to restore it)")
                    removed.add(block.name)
                continue
            unit = _to_newline(note.body[unit_start:block.end], newline)
            if anchor is None:
                tail.append(unit.lstrip("\r\n"))
            else:
                edits.append((anchor.end, anchor.end, unit))
            hashes[block.name] = new_hash
            removed.discard(block.name)
        return _apply(body, edits, tail, newline), hashes, sorted(removed), conflicts > 0

    def _take_block(self, path, disk: _Block, new_hash: str, recorded: str | None, warnings) -> str:
        """What to do with a block on disk: "same", "replace", or "conflict" (keep the hand edit)."""
        disk_hash = _sha(disk.content)
        if disk_hash == new_hash:
            return "same"
        if disk_hash == recorded or (recorded is None and not disk.content.strip()):
            return "replace"  # kbgen's last output, or an empty block a researcher prepared for kbgen
        if recorded is not None and self._with_former_links(disk.content, recorded):
            return "replace"  # kbgen's last output, whose links Obsidian rewrote when a note was renamed
        if self.force:
            warnings.append(f"{path}: block '{disk.name}' had hand edits; replaced them (--force)")
            return "replace"
        warnings.append(f"{path}: block '{disk.name}' was edited by hand; kept your version "
                        "(use --force to replace it)")
        return "conflict"

    def _with_former_links(self, content: str, recorded: str) -> bool:
        """Whether `content` is what kbgen recorded once links to renamed notes name them as before
        (the latest or the first former name: the names kbgen can have written)."""
        former = self._former_names()
        if not former:
            return False
        return any(_sha(_rename_links(content, {new: names[pick] for new, names in former.items()})) == recorded
                   for pick in (0, -1))

    def _plan_attachment(self, relpath, target: Path, current: bytes, data: bytes, warnings):
        if current == data:
            return UNCHANGED, None
        _refuse_if_read_only(target)
        entry = self._files.get(relpath) or {}
        if self.force or entry.get("sha256") == _sha(current):
            return UPDATED, data
        warnings.append(f"{relpath}: was changed by hand or not written by kbgen; kept it (use --force to "
                        "replace it)")
        return CONFLICT, None

    # -- committing

    def _commit(self, relpath: str, target: Path, data: bytes | None, entry: dict | None) -> None:
        if self.dry_run:
            return
        if data is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._journal_entry(relpath, entry)
            atomic_write(target, data)
        if entry is not None:
            self._files[relpath] = entry
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.checkpoint_every:
            self._save_manifest()

    def _record(self, result: WriteResult) -> WriteResult:
        self._counts[result.status] += 1
        self.warnings.extend(result.warnings)
        return result

    def _fail(self, relpath, exc: BaseException) -> WriteResult:
        error = WriteError(str(relpath), _reason(exc))
        self.errors.append(error)
        return self._record(WriteResult(str(relpath), SKIPPED, ()))

    def _require_open(self) -> None:
        if self._root is None:
            raise RuntimeError("use VaultWriter as a context manager: `with VaultWriter(vault) as writer:`")

    # -- paths

    def _resolve(self, relpath) -> Path:
        """The real path for `relpath`, refusing anything that could land outside the vault."""
        if not isinstance(relpath, str) or not relpath:
            raise _Refused("empty path; notes need a path relative to the vault")
        if relpath.startswith("/") or "\\" in relpath or re.match(r"[A-Za-z]:", relpath):
            raise _Refused("path must be relative to the vault and use '/' separators")
        for part in relpath.split("/"):
            if part in ("", ".", ".."):
                raise _Refused("path must not contain '..', '.' or empty parts")
            if part.startswith("."):
                raise _Refused(f"'{part}' starts with a dot (hidden in Obsidian and skipped by the site); rename it")
            bad = sorted({c for c in part if c in _FORBIDDEN_NAME_CHARS or ord(c) < 32})
            if bad:
                raise _Refused(f"'{part}' contains {' '.join(map(repr, bad))}, which Obsidian forbids or which breaks links")
        real = Path(os.path.realpath(self._root / relpath))
        if not real.is_relative_to(self._root) or real == self._root:
            raise _Refused("a symbolic link leads outside the vault; kbgen writes only inside it")
        if any(p.startswith(".") for p in real.relative_to(self._root).parts):
            raise _Refused("a symbolic link leads into a hidden folder of the vault; kbgen does not write there")
        return real

    # -- manifest and journal

    def _load_manifest(self) -> None:
        path = self._state / MANIFEST_NAME
        try:
            self._saved_manifest = path.read_text(encoding="utf-8")
            data = json.loads(self._saved_manifest)
            files = data["files"]
            if data.get("format") != MANIFEST_FORMAT or not isinstance(files, dict):
                raise ValueError("unknown layout")
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            self.warnings.append(f"{path}: unreadable ({exc}); starting a new manifest, so blocks kbgen wrote "
                                 "before may be reported as edited by hand")
            return
        self._files = {path: entry for path, entry in files.items() if isinstance(entry, dict)}

    def _save_manifest(self) -> None:
        self._since_checkpoint = 0
        text = json.dumps({"format": MANIFEST_FORMAT, "files": self._files}, indent=1, sort_keys=True) + "\n"
        if text != self._saved_manifest:
            atomic_write(self._state / MANIFEST_NAME, text.encode("utf-8"))
            self._saved_manifest = text
        if self._journal is not None:
            self._journal.truncate(0)

    def _journal_entry(self, relpath: str, entry: dict | None) -> None:
        if entry is None:
            return
        # Flushed to the kernel, which survives a kill. Not fsynced: that would double the cost of a
        # write, and a power cut could at worst make kbgen's own block look edited (kept, reported).
        self._journal.write(json.dumps({"path": relpath, "entry": entry}, sort_keys=True) + "\n")
        self._journal.flush()

    def _recover_journal(self) -> None:
        """Adopt what an interrupted run wrote: journal hashes that match the files on disk."""
        try:
            lines = (self._state / "journal").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                record = json.loads(line)
                relpath, entry = record["path"], record["entry"]
                target = self._resolve(relpath)
                raw = target.read_bytes()
            except (ValueError, KeyError, TypeError, OSError):
                continue  # a torn last line, or a file that was never written
            adopted = _adopt(self._files.get(relpath), entry, raw)
            if adopted is not None:
                self._files[relpath] = adopted


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


def _refuse_if_locked(path: Path) -> None:
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


# --- blocks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Block:
    name: str
    start: int           # begin marker's first character
    end: int             # just past the end marker
    content_start: int
    content_end: int
    content: str


def _parse_blocks(text: str, strict: bool, path: str, warnings: list[str] | None = None):
    """Managed blocks by name (first occurrence) and names of begin markers without an end.

    strict (kbgen's own notes): malformed markers are a bug and refuse the note; otherwise they
    are reported and the affected block is left alone.
    """
    blocks: dict[str, _Block] = {}
    problems = []
    markers = _without_fenced_code(text)  # same offsets as `text`; markers in code are blanked
    for match in _BLOCK.finditer(markers):
        name = match.group(1)
        if name in blocks:
            problems.append(f"block '{name}' appears twice; only the first is updated")
            continue
        blocks[name] = _Block(name, match.start(), match.end(), match.start(2), match.end(2), text[match.start(2):match.end(2)])
    inside = [(b.start, b.end) for b in blocks.values()]

    def outside_blocks(match) -> bool:
        return not any(s <= match.start() < e for s, e in inside)

    unpaired = {m.group(1) for m in _BEGIN.finditer(markers) if m.group(1) not in blocks and outside_blocks(m)}
    problems += [f"block '{name}' has no end marker; left it alone" for name in sorted(unpaired)]
    problems += [f"an end marker for block '{name}' has no begin marker; left it as text"
                 for name in sorted({m.group(1) for m in _END.finditer(markers) if outside_blocks(m)})]
    if strict:
        if problems:
            raise _Refused(f"the rendered note is malformed: {problems[0]} (a kbgen bug; please report it)")
        return sorted(blocks.values(), key=lambda b: b.start), unpaired
    warnings.extend(f"{path}: {p}" for p in problems)
    return blocks, unpaired


def _without_fenced_code(text: str) -> str:
    """`text` with each closed fenced code block blanked out, keeping every offset."""
    return _CODE_FENCE.sub(lambda match: " " * len(match.group(0)), text)


def _apply(body: str, edits: list[tuple[int, int, str]], tail: list[str], newline: str) -> str:
    out, position = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: e[0]):  # stable: inserts keep note order
        out += [body[position:start], replacement]
        position = end
    out.append(body[position:])
    text = "".join(out)
    for unit in tail:
        if text and not text.endswith("\n"):
            text += newline
        text += newline + unit + newline
    return text


def _adopt(old: dict | None, journaled: dict, raw: bytes) -> dict | None:
    """The manifest entry for a file an interrupted run may or may not have replaced."""
    if "sha256" in journaled:
        return journaled if _sha(raw) == journaled["sha256"] else old
    try:
        on_disk, _ = _parse_blocks(raw.decode("utf-8"), strict=False, path="", warnings=[])
    except UnicodeDecodeError:
        return old
    entry = dict(old or {"generated": journaled["generated"], "blocks": {}, "removed": []})
    entry["blocks"] = dict(entry["blocks"])
    for name, sha in journaled["blocks"].items():
        if name in on_disk and _sha(on_disk[name].content) == sha:
            entry["blocks"][name] = sha
    entry["generated"] = entry["generated"] or journaled["generated"]
    return entry


# --- frontmatter -----------------------------------------------------------------------------

def _split_frontmatter(text: str):
    """(opening fence, YAML text, closing fence, body), or None when the note has no frontmatter."""
    opening = _FENCE.match(text)
    if not opening or opening.end() >= len(text):
        return None
    yaml_start = opening.end() + 1
    closing = _FENCE.search(text, yaml_start)
    if not closing:
        raise _Refused("the frontmatter has no closing --- line; add it, kbgen left the file untouched")
    body_start = closing.end() + (1 if text[closing.end():closing.end() + 1] == "\n" else 0)
    return text[:yaml_start], text[yaml_start:closing.start()], text[closing.start():body_start], text[body_start:]


def _load_yaml(yaml_text: str) -> dict:
    try:
        data = _YAML.load(yaml_text)
    except yaml.YAMLError as exc:
        raise _Refused(f"invalid frontmatter ({_first_line(exc)}); fix the YAML between the --- lines, "
                       "kbgen left the file untouched") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _Refused("frontmatter is not a list of `key: value` properties; fix it, kbgen left the file untouched")
    return data


def _dump(mapping: dict) -> str:
    return _YAML.export(mapping, sort_keys=False) + "\n" if mapping else ""


def _same_yaml(old, new) -> bool:
    """Whether two values dump to the same YAML; identical structures do without dumping."""
    return _identical(old, new) or _dump({"k": old}) == _dump({"k": new})


def _identical(a, b) -> bool:
    """Equal with the same types and key order all the way down (True == 1, but not in YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_identical, a, b))
    return a == b


def _merge_frontmatter(yaml_text: str, current: dict, owned: dict, newline: str) -> tuple[str, bool]:
    """Set kbgen's keys in the YAML text; returns (new text, whether it had to be rewritten in full).

    Only the lines of keys whose value changes are replaced (new keys go at the end), so other
    keys keep their exact text, order and comments; the result is checked by parsing it back.
    """
    changed = [k for k in owned if k not in current or not _same_yaml(current[k], owned[k])]
    if not changed:
        return yaml_text, False
    merged = {**current, **owned}
    spliced = _splice(yaml_text, changed, owned, newline)
    if spliced is not None:
        try:
            reparsed = _YAML.load(spliced) or {}
        except yaml.YAMLError:
            reparsed = None
        if isinstance(reparsed, dict) and list(reparsed) == list(merged) and _dump(reparsed) == _dump(merged):
            return spliced, False
    return _to_newline(_dump(merged), newline), True


def _splice(yaml_text: str, changed: list, owned: dict, newline: str) -> str | None:
    try:
        root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    spans = {}
    if root is not None:
        if not isinstance(root, yaml.MappingNode) or root.flow_style:
            return None
        for key, value in root.value:
            if not isinstance(key, yaml.ScalarNode) or key.start_mark.column != 0:
                return None
            spans[key.value] = (key.start_mark.index, _value_end(yaml_text, value))
    out, position = [], 0
    for start, end, k in sorted((*spans[k], k) for k in changed if k in spans):
        out += [yaml_text[position:start], _to_newline(_dump({k: owned[k]}), newline)]
        position = end
    out.append(yaml_text[position:])
    text = "".join(out)
    appended = [k for k in changed if k not in spans]
    if appended:
        if text and not text.endswith("\n"):
            text += newline
        text += _to_newline(_dump({k: owned[k] for k in appended}), newline)
    return text


def _value_end(text: str, node) -> int:
    """Where a top-level key's text ends: its line's end, without comment lines that follow."""
    end = node.end_mark.index
    if node.end_mark.column != 0:
        newline = text.find("\n", end)
        return len(text) if newline < 0 else newline + 1
    while end > node.start_mark.index:  # block collections end at the next key: give back comments
        line_start = text.rfind("\n", 0, end - 1) + 1
        line = text[line_start:end].strip()
        if line and not line.startswith("#"):
            break
        end = line_start
    return end


def _kbgen_lists(frontmatter: dict) -> dict[str, list]:
    """The shared list properties as kbgen writes them, remembered to tell the researcher's items."""
    return {key: list(frontmatter[key]) for key in SHARED_LISTS if isinstance(frontmatter.get(key), list)}


def _with_researchers_items(owned: dict, current: dict, last_written: dict | None) -> dict:
    """kbgen's frontmatter with the items a researcher added to its shared lists (a `watchlist`
    tag, an alias) kept after kbgen's own. An item kbgen wrote last time and no longer writes
    goes. With no record of what kbgen wrote (a vault from before it was kept), the list is
    kbgen's alone, as it was then."""
    merged = dict(owned)
    for key in SHARED_LISTS:
        ours, theirs = owned.get(key), current.get(key)
        if isinstance(theirs, str):
            theirs = [theirs]  # `tags: mine`, as Obsidian lets a researcher type a single value
        if not isinstance(ours, list) or not isinstance(theirs, list) or last_written is None:
            continue
        previous = last_written.get(key, [])
        merged[key] = [*ours, *(item for item in theirs if item not in ours and item not in previous)]
    return merged


def _has_provenance(frontmatter: dict) -> bool:
    """kbgen's id property, or the nested `kbgen:` mapping older versions wrote."""
    return isinstance(frontmatter.get("kbgen_id"), str) or isinstance(frontmatter.get(LEGACY_PROVENANCE), dict)


def _migrate_provenance(text: str, note: RenderedNote) -> str:
    """The note with the nested `kbgen:` mapping of older versions replaced by its `kbgen_id`
    line (Obsidian's Properties view cannot show nested values); the merge then sets the other
    flat keys. Only that key's lines change: the researcher's keys keep their text."""
    note_id = _note_id(note)
    if not note_id or LEGACY_PROVENANCE in note.frontmatter or LEGACY_PROVENANCE + ":" not in text:
        return text
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    try:
        doc = _split_frontmatter(text[len(bom):])
        root = yaml.compose(doc[1], Loader=yaml.SafeLoader) if doc else None
    except (_Refused, yaml.YAMLError):
        return text  # the merge reports what is wrong with it
    if not isinstance(root, yaml.MappingNode):
        return text
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == LEGACY_PROVENANCE and key.start_mark.column == 0 \
                and isinstance(value, yaml.MappingNode):
            opening, yaml_text, closing, body = doc
            newline = _first_newline(text)
            line = _to_newline(_dump({"kbgen_id": note_id}), newline)
            yaml_text = yaml_text[:key.start_mark.index] + line + yaml_text[_value_end(yaml_text, value):]
            return bom + opening + yaml_text + closing + body
    return text


def has_legacy_provenance(path: Path) -> bool:
    """Whether the note at `path` has the nested `kbgen:` property of older versions (a quick
    look at its frontmatter lines, so a build can check every daily note)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if handle.readline().rstrip("\r\n") != "---":
                return False
            for line in handle:
                if line.rstrip("\r\n") == "---":
                    return False
                if line.startswith(LEGACY_PROVENANCE + ":"):
                    return line.rstrip("\r\n ") == LEGACY_PROVENANCE + ":"
    except OSError:
        return False
    return False


def _note_id(note: RenderedNote) -> str | None:
    meta = note.frontmatter
    return meta.get("kbgen_id") if isinstance(meta, dict) and isinstance(meta.get("kbgen_id"), str) else None


def _ids_in_vault(root: Path) -> dict[str, str]:
    """Vault-relative path -> kbgen_id of every note that has one (outside dot folders)."""
    found = {}
    for relpath, path in _vault_notes(root):
        try:
            doc = _split_frontmatter(path.read_text(encoding="utf-8").lstrip("\ufeff"))
            meta = _load_yaml(doc[1]) if doc else {}
        except (OSError, UnicodeDecodeError, _Refused):
            continue
        if isinstance(meta.get("kbgen_id"), str):
            found[relpath] = meta["kbgen_id"]
    return found


def _vault_notes(root: Path):
    """(vault-relative path, path) of every note Obsidian shows: none under a dot folder (.trash)."""
    for path in root.rglob("*.md"):
        relpath = path.relative_to(root).as_posix()
        if not any(part.startswith(".") for part in relpath.split("/")):
            yield relpath, path


def _rename_links(text: str, names: dict[str, str]) -> str:
    """`text` with each [[link]] whose target's name (folded) is a key of `names` pointing to its value."""
    def rename(match: re.Match) -> str:
        target = match.group(1)
        name = names.get(target.rpartition("/")[2].casefold())
        return match.group(0) if name is None else "[[" + name
    return _LINK_TARGET.sub(rename, text)


def _new_note_text(note: RenderedNote) -> str:
    head = f"---\n{_dump(note.frontmatter)}---\n" if note.frontmatter else ""
    body = note.body if note.body.endswith("\n") else note.body + "\n"
    return head + body


# --- small helpers ---------------------------------------------------------------------------

def _sha(content) -> str:
    """sha256 of a block's content with line endings normalised (an editor switching to CRLF is no edit)."""
    if isinstance(content, str):
        content = content.replace("\r\n", "\n").encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def _stem(relpath: str) -> str:
    """A note's name: its file name without `.md`."""
    return relpath.rpartition("/")[2].removesuffix(".md")


def _first_newline(text: str) -> str:
    index = text.find("\n")
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def _to_newline(text: str, newline: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", newline) if newline != "\n" else text


def _refuse_if_read_only(path: Path) -> None:
    # Mode bits, not os.access: root may write anywhere, but a read-only note is a researcher's "hands off".
    if not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise _Refused("the file is read-only; kbgen left it alone (make it writable to let kbgen update it)")


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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return "not valid UTF-8 text; kbgen left the file untouched (re-save it as UTF-8)"
    if isinstance(exc, OSError):
        return f"{os_error_hint(exc)}; the file was left as it was"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def generated_files(vault_dir) -> frozenset[str]:
    """Vault-relative paths of the files kbgen created, as recorded in the manifest."""
    try:
        data = json.loads((Path(vault_dir) / STATE_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return frozenset()  # nothing is known to be generated: the safe answer for any clean-up
    return frozenset(path for path, entry in data.get("files", {}).items() if entry.get("generated"))
