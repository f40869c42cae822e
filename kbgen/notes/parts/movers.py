"""The daily note's movers: the session's winners and losers, other notable stocks, and the week's."""
from __future__ import annotations

from dataclasses import dataclass

from ...analytics.day import NOTABLE_STREAK
from ...model import MarketDay, Mover
from ..lines import MoverLine, NotableLines, mover_lines, notable_lines, sessions_in_words
from ..registry import PartInput, part


@dataclass(frozen=True)
class SessionMovers:
    winners: tuple[MoverLine, ...]     # best 1D return first; only stocks that rose
    losers: tuple[MoverLine, ...]      # worst first; only stocks that fell
    winners_short: str | None          # "Only 2 of the 30 stocks with a 1D return rose." on a thin day
    losers_short: str | None
    notable: NotableLines              # others on a long streak or at a record close
    definitions: str


@dataclass(frozen=True)
class WeeklyMovers:
    winners: tuple[MoverLine, ...]     # best 1W return first
    losers: tuple[MoverLine, ...]
    winners_short: str | None
    losers_short: str | None
    definitions: str


def short_sides(day: MarketDay, window: str, winners: tuple[Mover, ...], losers: tuple[Mover, ...],
                inputs: PartInput) -> tuple[str | None, str | None]:
    """For each side with fewer stocks than the table has room for, how many moved that way out of
    the stocks with a return over `window`; None for a full side or when no stock has a return."""
    securities, room = inputs.ctx.config.securities, inputs.ctx.config.analysis.movers
    moved = sum(1 for t, s in securities.items()
                if s.kind == "stock" and t in day.returns and day.returns[t].get(window) is not None)

    def said(shown: int, verb: str) -> str | None:
        if moved == 0 or shown >= room:
            return None
        return f"{f'Only {shown}' if shown else 'None'} of the {moved} stocks with a {window} return {verb}."
    return said(len(winners), "rose"), said(len(losers), "fell")


@part("movers", notes={"daily"}, order=30, block="movers")
def session_movers(inputs: PartInput) -> SessionMovers:
    day, ix = inputs.day, inputs.ix
    definitions = (f"Winners and losers = up to {inputs.ctx.config.analysis.movers} stocks of the universe that rose "
                   "most / fell most by 1D return")
    if day.notable:
        definitions += (f"; also notable = every other stock on a streak of {NOTABLE_STREAK} sessions or more "
                        "or at a record close")
    return SessionMovers(mover_lines(day.winners, ix), mover_lines(day.losers, ix),
                         *short_sides(day, "1D", day.winners, day.losers, inputs),
                         notable_lines(day.notable, ix), definitions)


@part("weekly_movers", notes={"daily"}, order=35, block="movers")
def weekly_movers(inputs: PartInput) -> WeeklyMovers:
    day, ix = inputs.day, inputs.ix
    return WeeklyMovers(mover_lines(day.weekly_winners, ix), mover_lines(day.weekly_losers, ix),
                        *short_sides(day, "1W", day.weekly_winners, day.weekly_losers, inputs),
                        f"1W = {sessions_in_words('1W')}")
