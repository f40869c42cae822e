"""Edits of kbgen.yml that leave every byte outside the edit as the researcher wrote it.

A YAML round trip (load, change, dump) re-flows flow mappings and re-indents blocks, so instead the
file is parsed only to find where a mapping or an item sits (PyYAML's node marks give exact
offsets) and the text is spliced there. Each function takes and returns the whole text; the caller
validates the result before writing it.
"""
from __future__ import annotations

import json
import re

import yaml

# A name written without quotes stays one plain scalar in flow and block context.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .&'()/+\-]*")


class EditError(ValueError):
    """The file does not have the shape the edit needs (the caller turns it into a user message)."""


def add_member(text: str, sector: str, ticker: str, name: str) -> str:
    """`ticker: name` as the last member of `sector`, in the style of the members already there."""
    sector_node = _sector_node(text, sector)
    members = _value_of(sector_node, "members")
    if members is None:
        return _add_members_key(text, sector_node, _item(ticker, name, quoted=False))
    if not isinstance(members, yaml.MappingNode):
        raise EditError(f"universe.sectors.{sector}.members is not a mapping")
    quoted = any(value.style == '"' for _, value in members.value)
    item = _item(ticker, name, quoted)
    if not members.value:
        return _splice(text, members.start_mark.index, members.end_mark.index, "{" + item + "}")
    last_value = members.value[-1][1]
    if members.flow_style:
        return _splice(text, last_value.end_mark.index, last_value.end_mark.index, ", " + item)
    indent = " " * members.value[0][0].start_mark.column
    line_end = _line_end(text, last_value.end_mark.index)
    return _splice(text, line_end, line_end, "\n" + indent + item)


def remove_entry(text: str, path: tuple[str, ...], ticker: str) -> str:
    """Remove the key `ticker` from the mapping at `path`, with its separator or its line."""
    mapping = _node_at(text, path)
    keys = [key.value for key, _ in mapping.value]
    position = keys.index(ticker)
    spans = [(key.start_mark.index, value.end_mark.index) for key, value in mapping.value]
    return _remove_item(text, mapping, spans, position, "{}")


def remove_from_list(text: str, path: tuple[str, ...], ticker: str) -> str:
    """Remove the item `ticker` from the sequence at `path`."""
    sequence = _node_at(text, path)
    position = [item.value for item in sequence.value].index(ticker)
    spans = [(item.start_mark.index, item.end_mark.index) for item in sequence.value]
    if not sequence.flow_style:  # a block item starts at its dash
        spans = [(text.rindex("-", 0, start), end) for start, end in spans]
    return _remove_item(text, sequence, spans, position, "[]")


def _remove_item(text: str, node: yaml.Node, spans: list[tuple[int, int]], position: int, empty: str) -> str:
    start, end = spans[position]
    if len(spans) == 1:  # a flow collection keeps its brackets; a block one becomes an empty flow one
        return _splice(text, start, end, "" if node.flow_style else empty)
    if not node.flow_style:
        line_start = text.rindex("\n", 0, start) + 1
        return _splice(text, line_start, _line_end(text, end) + 1, "")
    if position + 1 < len(spans):
        return _splice(text, start, spans[position + 1][0], "")
    return _splice(text, spans[position - 1][1], end, "")


def _add_members_key(text: str, sector_node: yaml.MappingNode, item: str) -> str:
    last_value = sector_node.value[-1][1]
    if sector_node.flow_style:
        return _splice(text, last_value.end_mark.index, last_value.end_mark.index, ", members: {" + item + "}")
    indent = " " * sector_node.value[0][0].start_mark.column
    line_end = _line_end(text, last_value.end_mark.index)
    return _splice(text, line_end, line_end, f"\n{indent}members: {{{item}}}")


def _sector_node(text: str, sector: str) -> yaml.MappingNode:
    node = _node_at(text, ("universe", "sectors", sector))
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise EditError(f"universe.sectors.{sector} is not a mapping with an etf")
    return node


def _node_at(text: str, path: tuple[str, ...]) -> yaml.Node:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    for key in path:
        node = _value_of(node, key) if isinstance(node, yaml.MappingNode) else None
        if node is None:
            raise EditError(f"{'.'.join(path)} is not in the config")
    return node


def _value_of(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((value for k, value in mapping.value if k.value == key), None)


def _item(ticker: str, name: str, quoted: bool) -> str:
    written = json.dumps(name, ensure_ascii=False) if quoted or not _PLAIN.fullmatch(name) else name
    return f"{ticker}: {written}"


def _line_end(text: str, index: int) -> int:
    """The offset of the newline ending the line `index` is on (a trailing comment stays put)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]
