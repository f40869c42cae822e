"""Managed blocks: the parts of a note body between `<!-- kbgen:begin NAME -->` and
`<!-- kbgen:end NAME -->` that kbgen owns, and the rules for merging them into a note on disk.

A block is replaced only when its content is still what kbgen last wrote (its hash is in the
manifest); one edited by hand is kept and reported, unless forced. A block the file lacks is
inserted after the previous block that exists, except one the researcher deleted on purpose.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .frontmatter import to_newline
from .paths import Refused

_BLOCK = re.compile(r"<!-- kbgen:begin ([A-Za-z0-9_.-]+) -->(.*?)<!-- kbgen:end \1 -->", re.DOTALL)
_BEGIN = re.compile(r"<!-- kbgen:begin ([A-Za-z0-9_.-]+) -->")
_END = re.compile(r"<!-- kbgen:end ([A-Za-z0-9_.-]+) -->")
# A closed fenced code block (``` or ~~~): markers a researcher quotes in one are text. Inline code
# spans are not masked: one stray backtick would hide the real blocks up to the next one. An
# unclosed fence is not masked either, so kbgen's blocks after it keep being updated.
_CODE_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[`~]*[ \t]*\r?$",
                         re.MULTILINE | re.DOTALL)
# A wikilink's target: up to its alias, heading or end ("[[Apple\\|AAPL]]" in a table cell too).
_LINK_TARGET = re.compile(r"\[\[([^\]|#\\\n]+)(?=\\?\||#|\]\])")


@dataclass(frozen=True)
class Block:
    name: str
    start: int           # begin marker's first character
    end: int             # just past the end marker
    content_start: int
    content_end: int
    content: str


def sha(content) -> str:
    """sha256 of a block's content with line endings normalised (an editor switching to CRLF is no edit)."""
    if isinstance(content, str):
        content = content.replace("\r\n", "\n").encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def parse_blocks(text: str, strict: bool, path: str, warnings: list[str] | None = None):
    """Managed blocks by name (first occurrence) and names of begin markers without an end.

    strict (kbgen's own notes): malformed markers are a bug and refuse the note; otherwise they
    are reported and the affected block is left alone.
    """
    markers = _without_fenced_code(text)  # same offsets as `text`; markers in code are blanked
    blocks, problems = _paired_blocks(text, markers)
    inside = [(b.start, b.end) for b in blocks.values()]

    def outside_blocks(match) -> bool:
        return not any(s <= match.start() < e for s, e in inside)

    unpaired = {m.group(1) for m in _BEGIN.finditer(markers) if m.group(1) not in blocks and outside_blocks(m)}
    problems += [f"block '{name}' has no end marker; left it alone" for name in sorted(unpaired)]
    problems += [f"an end marker for block '{name}' has no begin marker; left it as text"
                 for name in sorted({m.group(1) for m in _END.finditer(markers) if outside_blocks(m)})]
    if strict:
        if problems:
            raise Refused(f"the rendered note is malformed: {problems[0]} (a kbgen bug; please report it)")
        return sorted(blocks.values(), key=lambda b: b.start), unpaired
    warnings.extend(f"{path}: {p}" for p in problems)
    return blocks, unpaired


def _paired_blocks(text: str, markers: str) -> tuple[dict[str, Block], list[str]]:
    blocks: dict[str, Block] = {}
    problems = []
    for match in _BLOCK.finditer(markers):
        name = match.group(1)
        if name in blocks:
            problems.append(f"block '{name}' appears twice; only the first is updated")
            continue
        blocks[name] = Block(name, match.start(), match.end(), match.start(2), match.end(2),
                             text[match.start(2):match.end(2)])
    return blocks, problems


def _without_fenced_code(text: str) -> str:
    """`text` with each closed fenced code block blanked out, keeping every offset."""
    return _CODE_FENCE.sub(lambda match: " " * len(match.group(0)), text)


def rename_links(text: str, names: dict[str, str]) -> str:
    """`text` with each [[link]] whose target's name (folded) is a key of `names` pointing to its value."""
    def rename(match: re.Match) -> str:
        target = match.group(1)
        name = names.get(target.rpartition("/")[2].casefold())
        return match.group(0) if name is None else "[[" + name
    return _LINK_TARGET.sub(rename, text)


@dataclass
class BlockMerge:
    """Merges a rendered note's blocks into a body on disk; `former_names` gives, for renamed
    notes, folded current name -> the names it had before (latest first)."""

    force: bool
    former_names: Callable[[], dict[str, list[str]]]
    warnings: list[str] = field(default_factory=list)

    def merge(self, path: str, note_body: str, body: str, new_blocks: list[Block], old: dict, newline: str):
        """Apply the block rules to `body`; return (body, block hashes, removed names, any conflict)."""
        on_disk, unpaired = parse_blocks(body, strict=False, path=path, warnings=self.warnings)
        conflicts = sum(block.name in unpaired for block in new_blocks)
        hashes = dict(old["blocks"])
        removed = set(old["removed"])
        edits: list[tuple[int, int, str]] = []   # (start, end, replacement) on `body`
        tail: list[str] = []                     # units appended at the end of the body
        anchor: Block | None = None              # last block of the new note present on disk
        previous_end = None                      # end of the previous block in the new note
        for block in new_blocks:
            unit_start = block.start if previous_end is None else previous_end
            previous_end = block.end
            if block.name in unpaired:
                continue
            disk = on_disk.get(block.name)
            if disk is not None:
                anchor = disk
                conflicts += self._update(path, block, disk, hashes, removed, edits, newline) == "conflict"
            elif self._restore(path, block, hashes, removed):
                unit = to_newline(note_body[unit_start:block.end], newline)
                if anchor is None:
                    tail.append(unit.lstrip("\r\n"))
                else:
                    edits.append((anchor.end, anchor.end, unit))
        return apply_edits(body, edits, tail, newline), hashes, sorted(removed), conflicts > 0

    def _update(self, path, block: Block, disk: Block, hashes, removed, edits, newline) -> str:
        removed.discard(block.name)
        new_hash = sha(block.content)
        action = self.take(path, disk, new_hash, hashes.get(block.name))
        if action == "replace":
            edits.append((disk.content_start, disk.content_end, to_newline(block.content, newline)))
            hashes[block.name] = new_hash
        return action

    def _restore(self, path, block: Block, hashes, removed) -> bool:
        """Whether to insert a block the file lacks: not one the researcher removed by hand."""
        if block.name in hashes and not self.force:
            if block.name not in removed:
                self.warnings.append(f"{path}: block '{block.name}' was removed by hand; not adding it "
                                     "back (use --force to restore it)")
                removed.add(block.name)
            return False
        hashes[block.name] = sha(block.content)
        removed.discard(block.name)
        return True

    def take(self, path, disk: Block, new_hash: str, recorded: str | None) -> str:
        """What to do with a block on disk: "same", "replace", or "conflict" (keep the hand edit)."""
        disk_hash = sha(disk.content)
        if disk_hash == new_hash:
            return "same"
        if disk_hash == recorded or (recorded is None and not disk.content.strip()):
            return "replace"  # kbgen's last output, or an empty block a researcher prepared for kbgen
        if recorded is not None and self._with_former_links(disk.content, recorded):
            return "replace"  # kbgen's last output, whose links Obsidian rewrote when a note was renamed
        if self.force:
            self.warnings.append(f"{path}: block '{disk.name}' had hand edits; replaced them (--force)")
            return "replace"
        self.warnings.append(f"{path}: block '{disk.name}' was edited by hand; kept your version "
                             "(use --force to replace it)")
        return "conflict"

    def _with_former_links(self, content: str, recorded: str) -> bool:
        """Whether `content` is what kbgen recorded once links to renamed notes name them as before
        (the latest or the first former name: the names kbgen can have written)."""
        former = self.former_names()
        if not former:
            return False
        return any(sha(rename_links(content, {new: names[pick] for new, names in former.items()})) == recorded
                   for pick in (0, -1))


def apply_edits(body: str, edits: list[tuple[int, int, str]], tail: list[str], newline: str) -> str:
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


def adopt(old: dict | None, journaled: dict, raw: bytes) -> dict | None:
    """The manifest entry for a file an interrupted run may or may not have replaced."""
    if "sha256" in journaled:
        return journaled if sha(raw) == journaled["sha256"] else old
    try:
        on_disk, _ = parse_blocks(raw.decode("utf-8"), strict=False, path="", warnings=[])
    except UnicodeDecodeError:
        return old
    entry = dict(old or {"generated": journaled["generated"], "blocks": {}, "removed": []})
    entry["blocks"] = dict(entry["blocks"])
    for name, digest in journaled["blocks"].items():
        if name in on_disk and sha(on_disk[name].content) == digest:
            entry["blocks"][name] = digest
    entry["generated"] = entry["generated"] or journaled["generated"]
    return entry
