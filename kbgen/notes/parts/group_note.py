"""The group note: the equal-weighted basket, its side in the rotation, its members."""
from __future__ import annotations

from dataclasses import dataclass

from ...model import WINDOWS
from ..common import HOME, Ref
from ..lines import returns_by_window
from ..registry import PartInput, part
from .sector_note import MemberLine, PerformanceLine, member_lines


@dataclass(frozen=True)
class GroupPerformance:
    size: int                          # securities in the basket (with or without prices)
    daily: Ref
    home: Ref
    rotation: Ref | None               # the concept note, when the group is a side of the rotation
    side: str | None                   # "Out of" or "Into"
    windows: tuple[str, ...]
    lines: tuple[PerformanceLine, ...]  # the basket and its excess (those with data)


def rotation_side(inputs: PartInput) -> str | None:
    episode, group = inputs.day.episode, inputs.subject
    if episode is None:
        return None
    for side, legs in (("Out of", episode.out_of), ("Into", episode.into)):
        if any(l.kind == "group" and l.name == group for l in legs):
            return side
    return None


@part("group_performance", notes={"group"}, order=10, block="overview")
def group_performance(inputs: PartInput) -> GroupPerformance:
    day, group = inputs.day, inputs.subject
    benchmark = inputs.ctx.config.analysis.benchmark
    candidates = (("Basket", "", day.group_returns.get(group)), (benchmark, "Excess vs ", day.group_excess.get(group)))
    side = rotation_side(inputs)
    return GroupPerformance(
        size=len(inputs.ctx.config.universe.groups[group]), daily=inputs.ix.daily(day.date), home=Ref(HOME, HOME),
        rotation=inputs.ix.concept_ref() if side else None, side=side, windows=WINDOWS,
        lines=tuple(PerformanceLine(label, prefix, returns_by_window(r)) for label, prefix, r in candidates if r),
    )


@dataclass(frozen=True)
class GroupMembers:
    rows: tuple[MemberLine, ...]       # members with prices, best 1D first
    without_data: tuple[Ref, ...]


@part("group_members", notes={"group"}, order=20, block="overview")
def group_members(inputs: PartInput) -> GroupMembers:
    tickers = list(inputs.ctx.config.universe.groups[inputs.subject])
    return GroupMembers(member_lines(tickers, inputs),
                        tuple(inputs.ix.ticker(t) for t in tickers if t not in inputs.day.returns))
