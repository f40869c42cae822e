"""Plain data passed between pipeline stages: researchers' inputs and the analytics' findings.

Analytics produce these objects from price frames; note builders turn them into notes. Percentages
are fractions (0.071 means +7.1%) everywhere; formatting happens in the templates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

WINDOWS = ("1D", "1W", "MTD", "1M", "3M", "YTD", "1Y")
Quadrant = Literal["Leading", "Weakening", "Lagging", "Improving"]
ImpactLabel = Literal["Validating", "Mixed", "Near-term pressure", "Challenged"]


# --- researchers' inputs (read from vault notes' frontmatter) ---------------------------------

@dataclass(frozen=True)
class Leg:
    ticker: str
    weight: float = 1.0
    side: Literal["long", "short"] = "long"


@dataclass(frozen=True)
class Thesis:
    name: str  # the note's name, e.g. "Long NVIDIA"
    legs: tuple[Leg, ...]
    benchmark: str = "SPY"


@dataclass(frozen=True)
class Catalyst:
    name: str  # the note's name, e.g. "Trump defense budget"
    date: dt.date
    tickers: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()


# --- analytics findings --------------------------------------------------------------------

@dataclass(frozen=True)
class WindowReturns:
    """Return per window (keys from WINDOWS); None where the window reaches before the data."""

    values: dict[str, float | None]

    def get(self, window: str) -> float | None:
        return self.values.get(window)


@dataclass(frozen=True)
class SectorRow:
    sector: str
    etf: str
    returns: WindowReturns          # of the ETF proxy
    excess: WindowReturns           # ETF return minus benchmark return, same windows
    rank_1d: int                    # 1 = best excess return today
    rank_change_1d: int | None      # positive = moved up vs the previous session
    rank_change_1w: int | None      # vs five sessions earlier
    members_equal_weight_1d: float | None
    members_up_share: float | None  # share of members in the store that rose today
    quadrant: Quadrant | None


@dataclass(frozen=True)
class MoverContext:
    """The per-day numbers of one ticker that the facts are phrased from."""

    move_1d: float | None
    streak: int
    record_high: bool
    record_low: bool
    high_since: dt.date | None
    low_since: dt.date | None
    gap: float | None
    relative_volume: float | None
    history_start: dt.date | None = None   # first stored row: a "record" is only a record since then


@dataclass(frozen=True)
class Mover:
    ticker: str
    name: str
    sector: str | None
    groups: tuple[str, ...]
    move: float                     # the ranked move (1D or 1W)
    context: MoverContext           # the session's numbers the facts are phrased from
    catalysts: tuple[str, ...]      # names of catalyst notes that match
    facts: tuple[str, ...]          # the context in words, e.g. "7th straight decline"
    from_52w_high: float | None = None  # close vs the highest close of the last year's sessions (0 = at it)


@dataclass(frozen=True)
class Breadth:
    spreads: dict[str, WindowReturns]  # "Equal vs cap weight" (RSP-SPY), "Small vs large" (IWM-SPY), "Nasdaq vs S&P" (QQQ-SPY)
    above_50d: float | None            # share of stocks above their 50-session average
    above_200d: float | None
    new_highs: int                     # 52-week closing highs today
    new_lows: int
    advancers: int
    decliners: int


@dataclass(frozen=True)
class RotationPoint:
    date: dt.date
    rs_ratio: float
    rs_momentum: float


@dataclass(frozen=True)
class RotationRow:
    sector: str
    etf: str
    rs_ratio: float
    rs_momentum: float
    quadrant: Quadrant
    tail: tuple[RotationPoint, ...]    # weekly points, oldest first, ending at the as-of date


@dataclass(frozen=True)
class LegJoin:
    """When and why a leg joined an episode after its opening detection."""

    date: dt.date                      # the session of the detection that added it
    recent_sessions: int               # it led (into) or lagged (out of) the benchmark over these
    prior_sessions: int                # after the opposite over these before them


@dataclass(frozen=True)
class FlowLeg:
    """One side of a rotation: a sector or group and its excess return over the episode."""

    name: str
    kind: Literal["sector", "group"]
    ticker: str | None                 # the ETF for a sector, None for a basket
    excess: float                      # since the episode's start, vs the benchmark
    joined: LegJoin | None = None      # None: on its side since the opening detection


@dataclass(frozen=True)
class Episode:
    start: dt.date                     # trough of the into-minus-out-of spread
    end: dt.date | None                # None while running
    accelerated_week: tuple[dt.date, dt.date] | None  # first and last session of the week with the largest spread gain
    out_of: tuple[FlowLeg, ...]        # worst excess first
    into: tuple[FlowLeg, ...]          # best excess first
    size: float                        # the spread at as-of (or end): mean excess of into minus that of out_of, since start
    rank_correlation: float            # Spearman of prior-quarter vs recent sector returns (negative = leadership flipped)
    spread: tuple[tuple[dt.date, float], ...]  # the into-minus-out-of spread measured from the start close, for the chart
    taken_over: bool = False           # ended because a rotation of other legs began, not by fading

    @property
    def ongoing(self) -> bool:
        return self.end is None

    def duration_sessions(self, as_of: dt.date, sessions: list[dt.date]) -> int:
        last = self.end or as_of
        return sum(1 for d in sessions if self.start <= d <= last)


@dataclass(frozen=True)
class ThesisImpact:
    thesis: str
    label: ImpactLabel
    short_window: str
    short_excess: float | None
    long_window: str
    long_excess: float | None
    rationale: str                     # one line with the numbers
    drivers: tuple[tuple[str, float], ...]  # (ticker, contribution) largest by size first


@dataclass(frozen=True)
class BaseRate:
    question: str                      # "QQQ rose the next session after RSP beat SPY by over 1%"
    cases: int                         # N
    hits: int | None
    rate: float | None                 # None when cases < min_cases ("too few cases")
    median: float | None = None        # for durations (sessions)
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class MarketDay:
    """Everything the notes need for one session, computed from data up to that session only."""

    date: dt.date
    previous: dt.date | None
    returns: dict[str, WindowReturns]  # every ticker in the store
    closes: dict[str, float]
    indices: tuple[str, ...]           # headline tickers (benchmarks and indices) in display order
    sectors: tuple[SectorRow, ...]     # sorted by rank_1d
    winners: tuple[Mover, ...]
    losers: tuple[Mover, ...]
    weekly_winners: tuple[Mover, ...]
    weekly_losers: tuple[Mover, ...]
    breadth: Breadth
    rotation: tuple[RotationRow, ...]
    episode: Episode | None            # the current (or most recent within a quarter) rotation episode
    past_episodes: tuple[Episode, ...]
    impacts: tuple[ThesisImpact, ...]
    base_rates: tuple[BaseRate, ...]
    stale: tuple[str, ...] = ()        # universe tickers whose last row is before this date
    close_basis: tuple[str, ...] = ()  # tickers with no adjusted close: their returns use the close
    group_returns: dict[str, WindowReturns] = field(default_factory=dict)  # equal-weight baskets of groups
    # return minus the benchmark's, per window, of every ticker and every group basket; empty
    # without benchmark prices
    excess: dict[str, WindowReturns] = field(default_factory=dict)
    group_excess: dict[str, WindowReturns] = field(default_factory=dict)
    notable: tuple[Mover, ...] = ()    # other stocks on a long streak or at a record close today
    stock_context: dict[str, Mover] = field(default_factory=dict)  # every stock's facts, when asked for
    # each registered analytic's row for the session, by name: {column: value or None} (analytics/registry.py)
    analytics: dict[str, dict[str, float | None]] = field(default_factory=dict)


# --- notes ready for the vault writer ------------------------------------------------------

@dataclass(frozen=True)
class RenderedNote:
    """A note as kbgen wants it. The writer merges it into what is on disk.

    `body` holds managed blocks between `<!-- kbgen:begin NAME -->` and `<!-- kbgen:end NAME -->`;
    text outside them is only the scaffold used when the note is created. For notes researchers own
    (theses, catalysts) `owned_by_researcher` is true: only the blocks are merged in, nothing else.
    """

    path: str                          # POSIX path relative to the vault, e.g. "Daily/2026-01-08.md"
    frontmatter: dict                  # the keys kbgen owns; other keys on disk are kept
    body: str
    owned_by_researcher: bool = False
