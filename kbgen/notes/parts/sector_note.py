"""The sector note: the ETF's performance and rank, its relative rotation, its members."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...analytics.rrg import quadrant
from ...model import WINDOWS
from ..common import HOME, Ref
from ..lines import returns_by_window, window_lengths
from ..registry import PartInput, part

MEMBER_WINDOWS = ("1D", "1W", "1M", "YTD")


@dataclass(frozen=True)
class PerformanceLine:
    label: str                         # printed escaped: a ticker
    prefix: str                        # printed before it as is, e.g. "Excess vs "
    returns: dict[str, float | None]


@dataclass(frozen=True)
class SectorToday:
    rank: int                          # 1 = best 1D excess among the ranked sectors
    sectors_ranked: int
    rank_change_1d: int | None
    rank_change_1w: int | None
    members_equal_weight: float | None  # the members' mean 1D return
    members_up: float | None           # share of members that rose


@dataclass(frozen=True)
class SectorPerformance:
    etf: str
    daily: Ref
    home: Ref
    windows: tuple[str, ...]
    lines: tuple[PerformanceLine, ...]  # the ETF, the benchmark, the excess (those with data)
    definitions: str
    today: SectorToday | None          # None: the sector is not on today's board


def performance_lines(inputs: PartInput, etf: str) -> tuple[PerformanceLine, ...]:
    day, benchmark = inputs.day, inputs.ctx.config.analysis.benchmark
    candidates = ((etf, "", day.returns.get(etf)), (benchmark, "", day.returns.get(benchmark)),
                  (benchmark, "Excess vs ", day.excess.get(etf)))
    return tuple(PerformanceLine(label, prefix, returns_by_window(r)) for label, prefix, r in candidates if r)


@part("sector_performance", notes={"sector"}, order=10, block="overview")
def sector_performance(inputs: PartInput) -> SectorPerformance:
    day, sector = inputs.day, inputs.subject
    etf = inputs.ctx.config.universe.sectors[sector].etf
    row = next((s for s in day.sectors if s.sector == sector), None)
    today = row and SectorToday(row.rank_1d, len(day.sectors), row.rank_change_1d, row.rank_change_1w,
                                row.members_equal_weight_1d, row.members_up_share)
    return SectorPerformance(
        etf=etf, daily=inputs.ix.daily(day.date), home=Ref(HOME, HOME), windows=WINDOWS,
        lines=performance_lines(inputs, etf), today=today,
        definitions=f"{window_lengths()}; MTD and YTD from the last close of the previous month or year",
    )


@dataclass(frozen=True)
class TailPoint:
    date: dt.date                      # the week's last session
    rs_ratio: float
    rs_momentum: float
    quadrant: str


@dataclass(frozen=True)
class SectorRotation:
    etf: str
    benchmark: str
    quadrant: str | None               # None: too little history for a reading
    rs_ratio: float | None
    rs_momentum: float | None
    tail: tuple[TailPoint, ...]        # weekly, oldest first


@part("sector_rotation", notes={"sector"}, order=20, block="rotation")
def sector_rotation(inputs: PartInput) -> SectorRotation:
    sector = inputs.subject
    etf, benchmark = inputs.ctx.config.universe.sectors[sector].etf, inputs.ctx.config.analysis.benchmark
    r = next((r for r in inputs.day.rotation if r.sector == sector), None)
    if r is None:
        return SectorRotation(etf, benchmark, None, None, None, ())
    tail = tuple(TailPoint(p.date, p.rs_ratio, p.rs_momentum, quadrant(p.rs_ratio, p.rs_momentum)) for p in r.tail)
    return SectorRotation(etf, benchmark, r.quadrant, r.rs_ratio, r.rs_momentum, tail)


@dataclass(frozen=True)
class MemberLine:
    stock: Ref
    returns: dict[str, float | None]


@dataclass(frozen=True)
class SectorMembers:
    rows: tuple[MemberLine, ...]       # members with prices, best 1D first
    windows: tuple[str, ...]
    without_data: tuple[Ref, ...]      # members with no prices yet


def member_lines(tickers, inputs: PartInput) -> tuple[MemberLine, ...]:
    """Members with data, best 1D first (leaders on top, laggards at the bottom)."""
    returns = inputs.day.returns
    present = sorted((t for t in tickers if t in returns),
                     key=lambda t: (returns[t].get("1D") is None, -(returns[t].get("1D") or 0.0), t))
    return tuple(MemberLine(inputs.ix.ticker(t), returns_by_window(returns[t])) for t in present)


@part("sector_members", notes={"sector"}, order=30, block="members")
def sector_members(inputs: PartInput) -> SectorMembers:
    members = list(inputs.ctx.config.universe.sectors[inputs.subject].members)
    return SectorMembers(member_lines(members, inputs), MEMBER_WINDOWS,
                         tuple(inputs.ix.ticker(t) for t in members if t not in inputs.day.returns))
