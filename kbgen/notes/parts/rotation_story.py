"""The concept note's story of the rotation: the one-line summary and what is happening."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...analytics.rotation import ACCELERATION_SESSIONS, side_mean
from ...model import LegJoin
from ..common import Ref
from ..concept import episode_length, leg_return, part_of_month, week_of_month
from ..lines import in_words
from ..registry import PartInput, part


@dataclass(frozen=True)
class RotationSummary:
    ongoing: bool
    out_of: tuple[Ref, ...]            # the sides, largest move first
    into: tuple[Ref, ...]
    size: float                        # the spread: into_mean - out_of_mean, as a fraction
    into_mean: float                   # equal-weight mean excess of the into legs since the start
    out_of_mean: float                 # the same for the out-of legs
    benchmark: str
    start: dt.date                     # the spread's trough
    end: dt.date | None                # None while running


@part("rotation_summary", notes={"concept"}, order=10, block="summary")
def rotation_summary(inputs: PartInput) -> RotationSummary:
    episode, ix = inputs.day.episode, inputs.ix
    return RotationSummary(
        ongoing=episode.ongoing, out_of=tuple(ix.leg(l.name, l.kind) for l in episode.out_of),
        into=tuple(ix.leg(l.name, l.kind) for l in episode.into), size=episode.size,
        into_mean=side_mean(episode.into), out_of_mean=side_mean(episode.out_of),
        benchmark=inputs.ctx.config.analysis.benchmark, start=episode.start, end=episode.end,
    )


@dataclass(frozen=True)
class FlowLine:
    side: str                          # "Out of" or "Into"
    leg: Ref                           # the sector or group
    basket_ticker: str | None          # a group's own ticker, when it has one
    excess: float                      # over the episode, vs the benchmark
    today: float | None                # 1D return
    against: bool                      # its excess since the start has the wrong sign for its side
    joined: str | None                 # when and why it joined after the opening detection


@dataclass(frozen=True)
class RotationFlows:
    flows: tuple[FlowLine, ...]
    any_against: bool                  # some leg runs against its side
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
    benchmark = inputs.ctx.config.analysis.benchmark
    return tuple(
        FlowLine(side, ix.leg(l.name, l.kind), l.ticker if l.kind == "group" else None, l.excess,
                 leg_return(l.name, l.kind, l.ticker, inputs.day, "1D"), against_its_side(side, l.excess),
                 joined_words(side, l.joined, benchmark) if l.joined else None)
        for side, legs in (("Out of", episode.out_of), ("Into", episode.into)) for l in legs
    )


def against_its_side(side: str, excess: float) -> bool:
    """A leg money left that beat the benchmark over the episode, or one it entered that lagged."""
    return excess > 0 if side == "Out of" else excess < 0


def joined_words(side: str, join: LegJoin, benchmark: str) -> str:
    """'joined 2026-01-12: beat SPY over the recent 15 sessions after trailing the sold legs over the prior 63'."""
    if side == "Into":
        why = f"beat {benchmark} over the recent {join.recent_sessions} sessions after trailing the sold legs"
    else:
        why = f"lagged {benchmark} over the recent {join.recent_sessions} sessions after beating it"
    return f"joined {join.date}: {why} over the prior {join.prior_sessions}"


@part("rotation_flows", notes={"concept"}, order=20, block="whats-happening")
def rotation_flows(inputs: PartInput) -> RotationFlows:
    episode = inputs.day.episode
    flows = flow_lines(inputs)
    week = episode.accelerated_week
    return RotationFlows(
        flows=flows, any_against=any(f.against for f in flows),
        benchmark=inputs.ctx.config.analysis.benchmark, start=episode.start, end=episode.end,
        ongoing=episode.ongoing, taken_over=episode.taken_over, rank_correlation=episode.rank_correlation,
        started_words=part_of_month(episode.start), accelerated_words=week_of_month(week[1]) if week else None,
        accelerated=week, acceleration_span=f"{in_words(ACCELERATION_SESSIONS)}-session",
        sessions=episode_length(episode, inputs.day.date), charts=inputs.charts,
    )
