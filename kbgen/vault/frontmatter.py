"""A note's frontmatter: the one splitter of the code base, and the merge of kbgen's own keys.

kbgen sets its keys in place, leaving the researcher's keys, their order and comments alone;
list properties researchers extend (tags, aliases) keep the items they added.
"""
from __future__ import annotations

import re
from pathlib import Path

import frontmatter
import yaml

from ..model import RenderedNote

_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_YAML = frontmatter.YAMLHandler()
# The nested property older versions wrote (as_of, source, version, simulated); now flat `kbgen_*` keys.
LEGACY_PROVENANCE = "kbgen"
# List properties kbgen writes and researchers extend in Obsidian: their items are kept.
SHARED_LISTS = ("tags", "aliases")


class FrontmatterError(ValueError):
    """Frontmatter that cannot be read; the message says what is wrong and how to fix it."""


# --- reading ---------------------------------------------------------------------------------

def split_frontmatter(text: str) -> tuple[str, str, str, str] | None:
    """(opening fence, YAML text, closing fence, body), or None when the note has no frontmatter."""
    opening = _FENCE.match(text)
    if not opening or opening.end() >= len(text):
        return None
    yaml_start = opening.end() + 1
    closing = _FENCE.search(text, yaml_start)
    if not closing:
        raise FrontmatterError("the frontmatter has no closing --- line; add one after the last property")
    body_start = closing.end() + (1 if text[closing.end():closing.end() + 1] == "\n" else 0)
    return text[:yaml_start], text[yaml_start:closing.start()], text[closing.start():body_start], text[body_start:]


def load_properties(yaml_text: str) -> dict:
    """The `key: value` properties of a frontmatter's YAML text."""
    try:
        data = _YAML.load(yaml_text)
    except yaml.YAMLError as exc:
        raise FrontmatterError(f"invalid frontmatter ({first_line(exc)}); fix the YAML between the --- lines") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontmatterError("the frontmatter is not a list of `key: value` properties; "
                               "fix the YAML between the --- lines")
    return data


def read_properties(path: Path) -> dict:
    """The properties of the note at `path` ({} without frontmatter); a byte order mark is skipped."""
    doc = split_frontmatter(path.read_text(encoding="utf-8-sig"))
    return load_properties(doc[1]) if doc else {}


def note_id(note: RenderedNote) -> str | None:
    meta = note.frontmatter
    return meta.get("kbgen_id") if isinstance(meta, dict) and isinstance(meta.get("kbgen_id"), str) else None


def has_provenance(properties: dict) -> bool:
    """kbgen's id property, or the nested `kbgen:` mapping older versions wrote."""
    return isinstance(properties.get("kbgen_id"), str) or isinstance(properties.get(LEGACY_PROVENANCE), dict)


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


# --- writing ---------------------------------------------------------------------------------

def dump_yaml(mapping: dict) -> str:
    return _YAML.export(mapping, sort_keys=False) + "\n" if mapping else ""


def new_note_text(note: RenderedNote) -> str:
    head = f"---\n{dump_yaml(note.frontmatter)}---\n" if note.frontmatter else ""
    body = note.body if note.body.endswith("\n") else note.body + "\n"
    return head + body


def merge_frontmatter(yaml_text: str, current: dict, owned: dict, newline: str) -> tuple[str, bool]:
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
        if isinstance(reparsed, dict) and list(reparsed) == list(merged) and dump_yaml(reparsed) == dump_yaml(merged):
            return spliced, False
    return to_newline(dump_yaml(merged), newline), True


def _same_yaml(old, new) -> bool:
    """Whether two values dump to the same YAML; identical structures do without dumping."""
    return _identical(old, new) or dump_yaml({"k": old}) == dump_yaml({"k": new})


def _identical(a, b) -> bool:
    """Equal with the same types and key order all the way down (True == 1, but not in YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_identical, a, b))
    return a == b


def _splice(yaml_text: str, changed: list, owned: dict, newline: str) -> str | None:
    spans = _top_level_spans(yaml_text)
    if spans is None:
        return None
    out, position = [], 0
    for start, end, k in sorted((*spans[k], k) for k in changed if k in spans):
        out += [yaml_text[position:start], to_newline(dump_yaml({k: owned[k]}), newline)]
        position = end
    out.append(yaml_text[position:])
    text = "".join(out)
    appended = [k for k in changed if k not in spans]
    if appended:
        if text and not text.endswith("\n"):
            text += newline
        text += to_newline(dump_yaml({k: owned[k] for k in appended}), newline)
    return text


def _top_level_spans(yaml_text: str) -> dict[str, tuple[int, int]] | None:
    """Each top-level key's (start, end) in the text, or None when the layout is not plain
    `key: value` lines that can be edited in place."""
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
    return spans


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


def kbgen_lists(properties: dict) -> dict[str, list]:
    """The shared list properties as kbgen writes them, remembered to tell the researcher's items."""
    return {key: list(properties[key]) for key in SHARED_LISTS if isinstance(properties.get(key), list)}


def with_researchers_items(owned: dict, current: dict, last_written: dict | None) -> dict:
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


def migrate_provenance(text: str, note: RenderedNote) -> str:
    """The note with the nested `kbgen:` mapping of older versions replaced by its `kbgen_id`
    line (Obsidian's Properties view cannot show nested values); the merge then sets the other
    flat keys. Only that key's lines change: the researcher's keys keep their text."""
    kbgen_id = note_id(note)
    if not kbgen_id or LEGACY_PROVENANCE in note.frontmatter or LEGACY_PROVENANCE + ":" not in text:
        return text
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    try:
        doc = split_frontmatter(text[len(bom):])
        root = yaml.compose(doc[1], Loader=yaml.SafeLoader) if doc else None
    except (FrontmatterError, yaml.YAMLError):
        return text  # the merge reports what is wrong with it
    if not isinstance(root, yaml.MappingNode):
        return text
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == LEGACY_PROVENANCE and key.start_mark.column == 0 \
                and isinstance(value, yaml.MappingNode):
            opening, yaml_text, closing, body = doc
            line = to_newline(dump_yaml({"kbgen_id": kbgen_id}), first_newline(text))
            yaml_text = yaml_text[:key.start_mark.index] + line + yaml_text[_value_end(yaml_text, value):]
            return bom + opening + yaml_text + closing + body
    return text


# --- text helpers ----------------------------------------------------------------------------

def first_newline(text: str) -> str:
    index = text.find("\n")
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def to_newline(text: str, newline: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", newline) if newline != "\n" else text


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
