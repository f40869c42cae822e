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

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..errors import os_error_hint
from ..model import RenderedNote
from .blocks import Block, BlockMerge, parse_blocks, sha
from .frontmatter import (FrontmatterError, first_line, first_newline, has_provenance, kbgen_lists, load_properties,
                          merge_frontmatter, migrate_provenance, new_note_text, note_id, split_frontmatter,
                          to_newline, with_researchers_items, dump_yaml)
from .paths import Refused, refuse_if_read_only, resolve_in_vault, stem, vault_notes
from .state import STATE_DIR, Manifest, VaultLock, atomic_write, refuse_if_locked

CREATED, UPDATED, UNCHANGED, CONFLICT, SKIPPED = "created", "updated", "unchanged", "conflict", "skipped"
STATUSES = (CREATED, UPDATED, UNCHANGED, CONFLICT, SKIPPED)


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
        self._lock: VaultLock | None = None
        self._manifest: Manifest | None = None
        self._files: dict[str, dict] = {}   # the manifest's entries, shared with self._manifest
        self._names_in_vault: set[str] | None = None  # folded note names, listed when first needed
        self._since_checkpoint = 0

    # -- lifecycle

    def __enter__(self) -> VaultWriter:
        self._root = Path(os.path.realpath(self.vault_dir))
        self._manifest = Manifest(self._root / STATE_DIR)
        self._files = self._manifest.files
        if self.dry_run:
            refuse_if_locked(self._manifest.state_dir / "lock")
            self._load_manifest()
            self._follow_renames()
            return self
        self._lock = VaultLock(self._root).__enter__()
        self.warnings.extend(self._lock.warnings)
        try:
            self._load_manifest()
            self._manifest.recover(self._resolve)
            self._follow_renames()
            self._save_manifest()
            self._manifest.open_journal()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if not self.dry_run:
                self._manifest.close(failing=exc is not None)
        finally:
            self._release()

    def _release(self) -> None:
        self._root = None
        if self._manifest is not None:
            self._manifest.release()
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
        except (OSError, UnicodeDecodeError, yaml.YAMLError, Refused, FrontmatterError) as exc:
            return self._fail(relpath, exc)
        return self._record(WriteResult(relpath, status, tuple(moved + warnings)))

    @property
    def renamed_notes(self) -> dict[str, str]:
        """kbgen_id -> note name, for the generated notes a researcher renamed: links name them so."""
        return {entry["id"]: stem(path) for path, entry in self._files.items()
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
                    and known.get("sha256") == sha(current):
                return self._record(WriteResult(relpath, UNCHANGED, ()))
            data = data() if callable(data) else data
            entry = {"generated": True, "sha256": sha(data), **({"inputs": inputs} if inputs else {})}
            if current is None:
                status, payload = CREATED, data
            else:
                status, payload = self._plan_attachment(relpath, target, current, data, warnings)
                if status == CONFLICT:
                    entry = self._files.get(relpath)
            self._commit(relpath, target, payload, entry)
        except (OSError, Refused) as exc:
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
        for path, kbgen_id in _ids_in_vault(self._root).items():
            old = lost.pop(kbgen_id, None)
            if old is None or path in self._files:
                continue
            entry = self._files.pop(old)
            self._files[path] = {**entry, "former_paths": [old, *entry.get("former_paths", [])]}
        for old in lost.values():  # deleted, not renamed: look for it no more (kbgen may write it anew)
            self._files[old] = {k: v for k, v in self._files[old].items() if k != "id"}

    def _place(self, note: RenderedNote) -> tuple[str, list[str]]:
        """The vault path to write `note` to, and a warning when kbgen moved the file there."""
        kbgen_id = note_id(note)
        if not kbgen_id or self._files.get(note.path, {}).get("id") == kbgen_id:
            return note.path, []
        current = self._path_of(kbgen_id)
        if current is None:
            return note.path, []
        if self._files[current].get("former_paths"):
            return current, []  # the researcher renamed or moved it: it stays where they put it
        if not self._name_taken_elsewhere(current) or (self._root / note.path).exists():
            return note.path, []
        warning = (f"{current}: another note now has the name {stem(current)!r}, so kbgen moved this note to "
                   f"{note.path}; links to [[{stem(current)}]] open the other note")
        if not self.dry_run:
            target = self._resolve(note.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self._resolve(current), target)
            self._files[note.path] = self._files.pop(current)
        return note.path, [warning]

    def _path_of(self, kbgen_id: str) -> str | None:
        """Where the manifest says the note with this id is (a file that exists)."""
        for path, entry in self._files.items():
            if entry.get("id") == kbgen_id and (self._root / path).exists():
                return path
        return None

    def _name_taken_elsewhere(self, relpath: str) -> bool:
        """Whether a note other than `relpath` has its name (Obsidian resolves links by name)."""
        if self._names_in_vault is None:
            self._names_in_vault = {}
            for _, path in vault_notes(self._root):
                key = path.stem.casefold()
                self._names_in_vault[key] = self._names_in_vault.get(key, 0) + 1
        return self._names_in_vault.get(stem(relpath).casefold(), 0) > 1

    def _with_identity(self, relpath: str, entry: dict | None, note: RenderedNote) -> dict | None:
        """The manifest entry with the note's kbgen_id and former paths (the merge knows neither)."""
        kbgen_id = note_id(note)
        if entry is None or not kbgen_id:
            return entry
        former = self._files.get(relpath, {}).get("former_paths")
        return {**entry, "id": kbgen_id, **({"former_paths": former} if former else {})}

    def _former_names(self) -> dict[str, list[str]]:
        """Folded current name -> the names it had before, latest first, for renamed notes."""
        names = {}
        for path, entry in self._files.items():
            former = [stem(p) for p in entry.get("former_paths", ()) if stem(p).casefold() != stem(path).casefold()]
            if former:
                names[stem(path).casefold()] = former
        return names

    # -- planning

    def _plan_note(self, note: RenderedNote, target: Path):
        """Return (status, bytes to write or None, new manifest entry, warnings)."""
        new_blocks, _ = parse_blocks(note.body, strict=True, path=note.path)
        if not isinstance(note.frontmatter, dict):
            raise Refused("the note's frontmatter must be a mapping (a kbgen bug; please report it)")
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            if note.owned_by_researcher:
                warning = f"{note.path}: the researcher's note is gone; kbgen does not recreate it"
                return SKIPPED, None, self._files.get(note.path), [warning]
            entry = {"generated": True, "blocks": {b.name: sha(b.content) for b in new_blocks}, "removed": [],
                     "lists": kbgen_lists(note.frontmatter)}
            return CREATED, new_note_text(note).encode("utf-8"), entry, []
        merged, entry, warnings, conflict = self._merge(note, migrate_provenance(raw.decode("utf-8"), note), new_blocks)
        data = merged.encode("utf-8")
        if data == raw:
            return (CONFLICT if conflict else UNCHANGED), None, entry, warnings
        refuse_if_read_only(target)
        return (CONFLICT if conflict else UPDATED), data, entry, warnings

    def _merge(self, note: RenderedNote, text: str, new_blocks: list[Block]):
        newline = "\r\n" if first_newline(text) == "\r\n" else "\n"
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        old = {"generated": False, "blocks": {}, "removed": [], **self._files.get(note.path, {})}
        head, body, warnings = self._merge_head(note, text[len(bom):], old, newline)
        blocks = BlockMerge(self.force, self._former_names)
        body, hashes, removed, conflict = blocks.merge(note.path, note.body, body, new_blocks, old, newline)
        entry = {"generated": old["generated"], "blocks": hashes, "removed": removed,
                 "lists": kbgen_lists(note.frontmatter)}
        return bom + head + body, entry, warnings + blocks.warnings, conflict

    def _merge_head(self, note: RenderedNote, text: str, old: dict, newline: str) -> tuple[str, str, list[str]]:
        """The note's frontmatter with kbgen's keys set, its body, and a warning when the
        frontmatter had to be rewritten in full."""
        doc = split_frontmatter(text)
        current = load_properties(doc[1]) if doc is not None else {}
        if not (old["generated"] or has_provenance(current)):
            # A note kbgen did not create: only its managed blocks are kbgen's; its frontmatter
            # (type, tags, aliases...) stays the researcher's, byte for byte.
            return ("", text, []) if doc is None else (doc[0] + doc[1] + doc[2], doc[3], [])
        if doc is None:
            head = "---" + newline + to_newline(dump_yaml(note.frontmatter), newline) + "---" + newline
            return (head if note.frontmatter else ""), text, []
        opening, yaml_text, closing, body = doc
        owned = with_researchers_items(note.frontmatter, current, old.get("lists"))
        merged_yaml, rewritten = merge_frontmatter(yaml_text, current, owned, newline)
        warnings = [f"{note.path}: frontmatter rewritten in full (its layout could not be edited in "
                    "place); values and key order kept, YAML comments were not"] if rewritten else []
        return opening + merged_yaml + closing, body, warnings

    def _plan_attachment(self, relpath, target: Path, current: bytes, data: bytes, warnings):
        if current == data:
            return UNCHANGED, None
        refuse_if_read_only(target)
        entry = self._files.get(relpath) or {}
        if self.force or entry.get("sha256") == sha(current):
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
            self._manifest.journal(relpath, entry)
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
        return resolve_in_vault(self._root, relpath)

    # -- manifest

    def _load_manifest(self) -> None:
        self._manifest.load()
        self.warnings.extend(self._manifest.warnings)

    def _save_manifest(self) -> None:
        self._since_checkpoint = 0
        self._manifest.save()


# --- helpers ---------------------------------------------------------------------------------

def _ids_in_vault(root: Path) -> dict[str, str]:
    """Vault-relative path -> kbgen_id of every note that has one (outside dot folders)."""
    found = {}
    for relpath, path in vault_notes(root):
        try:
            doc = split_frontmatter(path.read_text(encoding="utf-8").lstrip("\ufeff"))
            meta = load_properties(doc[1]) if doc else {}
        except (OSError, UnicodeDecodeError, FrontmatterError):
            continue
        if isinstance(meta.get("kbgen_id"), str):
            found[relpath] = meta["kbgen_id"]
    return found


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, FrontmatterError):
        return f"{exc}; kbgen left the file untouched"
    if isinstance(exc, UnicodeDecodeError):
        return "not valid UTF-8 text; kbgen left the file untouched (re-save it as UTF-8)"
    if isinstance(exc, OSError):
        return f"{os_error_hint(exc)}; the file was left as it was"
    return first_line(exc)
