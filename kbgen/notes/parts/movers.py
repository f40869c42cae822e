"""The daily note's movers: the session's winners and losers, other notable stocks, and the week's."""
from __future__ import annotations

from dataclasses import dataclass

from ...analytics.day import NOTABLE_STREAK
from ..lines import MoverLine, mover_lines, sessions_in_words
from ..registry import PartInput, part


@dataclass(frozen=True)
class SessionMovers:
    winners: tuple[MoverLine, ...]     # best 1D return first
    losers: tuple[MoverLine, ...]      # worst first
    notable: tuple[MoverLine, ...]     # others on a long streak or at a record close
    definitions: str


@dataclass(frozen=True)
class WeeklyMovers:
    winners: tuple[MoverLine, ...]     # best 1W return first
    losers: tuple[MoverLine, ...]
    definitions: str


@part("movers", notes={"daily"}, order=30, block="movers")
def session_movers(inputs: PartInput) -> SessionMovers:
    day, ix = inputs.day, inputs.ix
    definitions = f"Top and bottom {len(day.winners)} stocks of the universe by 1D return"
    if day.notable:
        definitions += (f"; also notable = other stocks on a streak of {NOTABLE_STREAK} sessions or more "
                        "or at a record close")
    return SessionMovers(mover_lines(day.winners, ix), mover_lines(day.losers, ix), mover_lines(day.notable, ix),
                         definitions)


@part("weekly_movers", notes={"daily"}, order=35, block="movers")
def weekly_movers(inputs: PartInput) -> WeeklyMovers:
    day, ix = inputs.day, inputs.ix
    return WeeklyMovers(mover_lines(day.weekly_winners, ix), mover_lines(day.weekly_losers, ix),
                        f"1W = {sessions_in_words('1W')}")
