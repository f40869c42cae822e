"""The concept note's story of the rotation: the one-line summary and what is happening."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...analytics.rotation import ACCELERATION_SESSIONS
from ..common import Ref
from ..concept import episode_length, leg_return, part_of_month, week_of_month
from ..lines import in_words
from ..registry import PartInput, part


@dataclass(frozen=True)
class RotationSummary:
    ongoing: bool
    out_of: tuple[Ref, ...]            # the sides, largest move first
    into: tuple[Ref, ...]
    size: float                        # into-minus-out-of spread gain, as a fraction
    start: dt.date                     # the spread's trough
    end: dt.date | None                # None while running


@part("rotation_summary", notes={"concept"}, order=10, block="summary")
def rotation_summary(inputs: PartInput) -> RotationSummary:
    episode, ix = inputs.day.episode, inputs.ix
    return RotationSummary(
        ongoing=episode.ongoing, out_of=tuple(ix.leg(l.name, l.kind) for l in episode.out_of),
        into=tuple(ix.leg(l.name, l.kind) for l in episode.into), size=episode.size,
        start=episode.start, end=episode.end,
    )


@dataclass(frozen=True)
class FlowLine:
    side: str                          # "Out of" or "Into"
    leg: Ref                           # the sector or group
    basket_ticker: str | None          # a group's own ticker, when it has one
    excess: float                      # over the episode, vs the benchmark
    today: float | None                # 1D return


@dataclass(frozen=True)
class RotationFlows:
    flows: tuple[FlowLine, ...]
    against: tuple[FlowLine, ...]      # legs that moved against their side over the episode
    benchmark: str
    start: dt.date
    end: dt.date | None
    ongoing: bool
    taken_over: bool                   # ended because another rotation began
    rank_correlation: float            # prior-quarter vs recent ranks (-1 = fully reversed)
    started_words: str                 # "late December 2025"
    accelerated_words: str | None      # "the first week of January 2026"
    accelerated: tuple[dt.date, dt.date] | None  # first and last session of that span
    acceleration_span: str             # "five-session"
    sessions: int                      # episode length so far (or in all)
    charts: tuple[str, ...]


def flow_lines(inputs: PartInput) -> tuple[FlowLine, ...]:
    episode, ix = inputs.day.episode, inputs.ix
    return tuple(
        FlowLine(side, ix.leg(l.name, l.kind), l.ticker if l.kind == "group" else None, l.excess,
                 leg_return(l.name, l.kind, l.ticker, inputs.day, "1D"))
        for side, legs in (("Out of", episode.out_of), ("Into", episode.into)) for l in legs
    )


def against_its_side(flow: FlowLine) -> bool:
    """A leg money left that beat the benchmark over the episode, or one it entered that lagged."""
    return flow.excess > 0 if flow.side == "Out of" else flow.excess < 0


@part("rotation_flows", notes={"concept"}, order=20, block="whats-happening")
def rotation_flows(inputs: PartInput) -> RotationFlows:
    episode = inputs.day.episode
    flows = flow_lines(inputs)
    week = episode.accelerated_week
    return RotationFlows(
        flows=flows, against=tuple(f for f in flows if against_its_side(f)),
        benchmark=inputs.ctx.config.analysis.benchmark, start=episode.start, end=episode.end,
        ongoing=episode.ongoing, taken_over=episode.taken_over, rank_correlation=episode.rank_correlation,
        started_words=part_of_month(episode.start), accelerated_words=week_of_month(week[1]) if week else None,
        accelerated=week, acceleration_span=f"{in_words(ACCELERATION_SESSIONS)}-session",
        sessions=episode_length(episode, inputs.day.date), charts=inputs.charts,
    )
