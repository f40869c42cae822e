"""Rows several parts print: a security with its close and returns, a mover with its context."""
from __future__ import annotations

from dataclasses import dataclass

from ..analytics.returns import FIXED_SESSIONS
from ..model import MarketDay, Mover, WindowReturns
from .common import Ref, VaultIndex

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def in_words(n: int) -> str:
    """A small count as the notes spell it: 5 -> "five"."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def sessions_in_words(window: str) -> str:
    """"five sessions" for 1W: the window's length as the notes spell it."""
    n = FIXED_SESSIONS[window]
    return f"{in_words(n)} session{'s' if n != 1 else ''}"


def window_lengths() -> str:
    """"1W = 5 sessions, 1M = 21, 3M = 63, 1Y = 252": the fixed windows' lengths."""
    lengths = [f"{w} = {n}" for w, n in FIXED_SESSIONS.items() if w != "1D"]
    return f"{lengths[0]} sessions, {', '.join(lengths[1:])}"


def returns_by_window(returns: WindowReturns | None) -> dict[str, float | None]:
    """Window -> return (None where there is none): what a table's return cells print."""
    return dict(returns.values) if returns else {}


@dataclass(frozen=True)
class SecurityLine:
    ref: Ref
    close: float | None
    returns: dict[str, float | None]  # window ("1D", "1W", ...) -> return as a fraction


def security_lines(tickers, day: MarketDay, ix: VaultIndex) -> tuple[SecurityLine, ...]:
    return tuple(SecurityLine(ix.ticker(t), day.closes.get(t), returns_by_window(day.returns[t]))
                 for t in tickers if t in day.returns)


@dataclass(frozen=True)
class MoverLine:
    ref: Ref
    move: float                        # the ranked move over the table's window
    facts: tuple[str, ...]             # context in words, e.g. "7th straight decline"
    catalysts: tuple[Ref, ...]         # catalyst notes that match


def mover_lines(movers: tuple[Mover, ...], ix: VaultIndex) -> tuple[MoverLine, ...]:
    return tuple(MoverLine(ix.ticker(m.ticker), m.move, tuple(m.facts), tuple(ix.catalyst(c) for c in m.catalysts))
                 for m in movers)


NOTABLE_ROWS = 8                       # notable stocks shown with their context; the rest are named in a line


@dataclass(frozen=True)
class NamedStock:
    ref: Ref
    fact: str                          # the reason it is notable, compactly: "7 down", "record high"


@dataclass(frozen=True)
class MoreStocks:
    count: int
    kind: str                          # "on streaks" or "at record closes"
    stocks: tuple[NamedStock, ...]


@dataclass(frozen=True)
class NotableLines:
    rows: tuple[MoverLine, ...]        # those on streaks (longest first), then those at record closes
    more: tuple[MoreStocks, ...]       # the notable stocks beyond the rows, by kind; empty when all are shown


def _at_record(m: Mover) -> bool:
    return m.context.record_high or m.context.record_low


def _compact_fact(m: Mover) -> str:
    if _at_record(m):
        return "record high" if m.context.record_high else "record low"
    return f"{abs(m.context.streak)} {'up' if m.context.streak > 0 else 'down'}"


def notable_lines(notable: tuple[Mover, ...], ix: VaultIndex, rows: int = NOTABLE_ROWS) -> NotableLines:
    """Up to `rows` notable stocks with their context, at least half of them from each kind that
    has members (so records are not crowded out by streaks), and every other one named by kind."""
    records = [m for m in notable if _at_record(m)]
    streaks = [m for m in notable if not _at_record(m)]
    records_shown = max(rows - len(streaks), rows // 2)
    streaks_shown = rows - min(records_shown, len(records))
    more = tuple(
        MoreStocks(len(rest), kind, tuple(NamedStock(ix.ticker(m.ticker), _compact_fact(m)) for m in rest))
        for kind, rest in (("on streaks", streaks[streaks_shown:]), ("at record closes", records[records_shown:]))
        if rest
    )
    return NotableLines(mover_lines(tuple(streaks[:streaks_shown] + records[:records_shown]), ix), more)
