"""The stock note: its returns and today's context, then its days among the movers, theses, catalysts."""
from __future__ import annotations

from dataclasses import dataclass

from ...analytics.returns import YEAR_SESSIONS
from ...model import WINDOWS
from ..common import HOME, Ref
from ..lines import returns_by_window, window_lengths
from ..registry import PartInput, part
from .home import DatedRef
from .sector_note import PerformanceLine

RECENT_APPEARANCES = 10


@dataclass(frozen=True)
class StockOverview:
    ticker: str
    sector: Ref | None
    groups: tuple[Ref, ...]
    close: float | None
    daily: Ref
    home: Ref
    windows: tuple[str, ...]
    lines: tuple[PerformanceLine, ...]  # the stock and its excess (those with data)
    definitions: str
    among: str | None                  # "winners" or "losers" when it is one of today's movers
    move: float | None                 # today's move (1D)
    facts: tuple[str, ...]             # today's context in words
    from_year_high: float | None       # close vs the highest close of the last year_sessions (0 = at it)
    year_sessions: int


@part("stock_overview", notes={"stock"}, order=10, block="overview")
def stock_overview(inputs: PartInput) -> StockOverview:
    day, ix, ticker = inputs.day, inputs.ix, inputs.subject
    security = inputs.ctx.config.securities[ticker]
    mover = next((m for m in (*day.winners, *day.losers) if m.ticker == ticker), None)
    context = mover or day.stock_context.get(ticker)
    benchmark = inputs.ctx.config.analysis.benchmark
    candidates = ((ticker, "", day.returns.get(ticker)), (benchmark, "Excess vs ", day.excess.get(ticker)))
    return StockOverview(
        ticker=ticker, sector=ix.sector(security.sector),
        groups=tuple(ix.group(g) for g in inputs.ctx.config.groups_of(ticker)), close=day.closes.get(ticker),
        daily=ix.daily(day.date), home=Ref(HOME, HOME), windows=WINDOWS,
        lines=tuple(PerformanceLine(label, prefix, returns_by_window(r)) for label, prefix, r in candidates if r),
        definitions=window_lengths(),
        among=("winners" if mover.move >= 0 else "losers") if mover else None,
        move=context.move if context else None, facts=tuple(context.facts) if context else (),
        from_year_high=context.from_52w_high if context else None, year_sessions=YEAR_SESSIONS,
    )


@dataclass(frozen=True)
class MoverDay:
    daily: Ref
    kind: str                          # "winner" or "loser"
    move: float


@dataclass(frozen=True)
class Holding:
    thesis: Ref
    side: str                          # "long" or "short"
    weight: float


@dataclass(frozen=True)
class StockHistory:
    appearances: tuple[MoverDay, ...]  # the last RECENT_APPEARANCES days among the movers, newest first
    older_appearances: int             # earlier days among the movers not listed
    holdings: tuple[Holding, ...]
    catalysts: tuple[DatedRef, ...]    # catalyst notes naming it or its sector, newest first


def appearances(inputs: PartInput) -> tuple[tuple[MoverDay, ...], int]:
    """The stock's RECENT_APPEARANCES latest days among the movers, newest first, never after the
    note's date, and how many earlier ones there are."""
    day, ticker = inputs.day, inputs.subject
    seen = {(d, kind): move for d, kind, move in inputs.ctx.mover_history.get(ticker, ()) if d <= day.date}
    for kind, movers in (("winner", day.winners), ("loser", day.losers)):
        seen.update({(day.date, kind): m.move for m in movers if m.ticker == ticker})
    newest_first = sorted(seen.items(), key=lambda item: item[0][0], reverse=True)
    recent = newest_first[:RECENT_APPEARANCES]
    return (tuple(MoverDay(inputs.ix.daily(d), kind, move) for (d, kind), move in recent),
            len(newest_first) - len(recent))


def catalysts_of(inputs: PartInput) -> tuple[DatedRef, ...]:
    ticker, date = inputs.subject, inputs.day.date
    sector = inputs.ctx.config.securities[ticker].sector
    found = [c for c in inputs.ctx.catalysts if c.date <= date and (ticker in c.tickers or sector in c.sectors)]
    return tuple(DatedRef(inputs.ix.catalyst(c.name), c.date) for c in sorted(found, key=lambda c: c.date, reverse=True))


@part("stock_history", notes={"stock"}, order=20, block="history")
def stock_history(inputs: PartInput) -> StockHistory:
    holdings = tuple(Holding(inputs.ix.thesis(t.name), leg.side, leg.weight)
                     for t in inputs.ctx.theses for leg in t.legs if leg.ticker == inputs.subject)
    return StockHistory(*appearances(inputs), holdings, catalysts_of(inputs))
