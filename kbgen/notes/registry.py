"""The registry of note parts: each section of a note is one part, registered where it is defined.

A part is a builder `build(PartInput) -> view model | None` registered with `@part(name, notes=...,
order=..., block=...)`. A note builder asks `note_blocks(note_type, inputs)` for its sections: the
parts registered for that note type, in order, grouped into the managed blocks they render in.
Each part renders with its own template partial, `templates/parts/<name>.md.j2`, which reads
only `view` (the view model). A part that returns None is left out of the note.

Parts live in `kbgen/notes/parts/`; that package imports every module in it, so adding a part is
adding a module there: there is no list to edit.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import MarketDay
from .common import VaultIndex
from .context import NoteContext


@dataclass(frozen=True)
class PartInput:
    """What a part builder may read: the session, the build's context, the note names, and what
    the note builder hands every part of the note (its charts, the rotation summary)."""

    day: MarketDay
    ctx: NoteContext
    ix: VaultIndex
    charts: tuple[str, ...] = ()
    concept_summary: str | None = None
    subject: str | None = None          # what the note is about: the sector of a sector note


@dataclass(frozen=True)
class Part:
    name: str
    notes: frozenset[str]               # note types it appears in, e.g. {"daily"}
    order: int                          # position in the note: lower comes first
    block: str                          # the managed block it renders in
    build: Callable[[PartInput], Any]
    after: str | None = None            # a partial rendered after the block, outside its markers:
                                        # the scaffold of a section the researcher writes
    template: str = ""                  # its partial, "parts/<name>.md.j2"


@dataclass(frozen=True)
class RenderedPart:
    """A part as a note template sees it: the partial to include and its view model."""

    template: str
    view: Any


@dataclass(frozen=True)
class Block:
    name: str
    parts: tuple[RenderedPart, ...]
    after: str | None = None


_PARTS: dict[str, Part] = {}


def part(name: str, *, notes: set[str] | frozenset[str], order: int, block: str, after: str | None = None):
    """Register the decorated builder as the part `name`."""
    def register(build: Callable[[PartInput], Any]):
        if name in _PARTS:
            raise ValueError(f"note part {name!r} is registered twice")
        _PARTS[name] = Part(name, frozenset(notes), order, block, build, after, f"parts/{name}.md.j2")
        return build
    return register


def parts_for(note_type: str) -> list[Part]:
    """The parts of a note type, in note order."""
    importlib.import_module(f"{__package__}.parts")  # registers every part module
    return sorted((p for p in _PARTS.values() if note_type in p.notes), key=lambda p: (p.order, p.name))


def note_blocks(note_type: str, inputs: PartInput) -> list[Block]:
    """The note's managed blocks in order, each with the view models of its parts (those with
    something to show)."""
    blocks: list[Block] = []
    for p in parts_for(note_type):
        view = p.build(inputs)
        if view is None:
            continue
        rendered = RenderedPart(p.template, view)
        if blocks and blocks[-1].name == p.block:
            last = blocks[-1]
            blocks[-1] = Block(p.block, (*last.parts, rendered), last.after or p.after)
        else:
            blocks.append(Block(p.block, (rendered,), p.after))
    return blocks
