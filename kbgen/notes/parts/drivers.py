"""The concept note's drivers: catalyst notes of the episode and of the session's movers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..common import Ref
from ..concept import episode_catalysts, movers_by_catalyst
from ..registry import PartInput, part


@dataclass(frozen=True)
class LegNamed:
    leg: Ref                           # a sector or group of the episode
    side: str                          # "out of" or "into"


@dataclass(frozen=True)
class EpisodeCatalyst:
    catalyst: Ref
    date: dt.date
    legs: tuple[LegNamed, ...]         # the episode's legs it names


@dataclass(frozen=True)
class MoverMove:
    stock: Ref
    move: float                        # 1D return


@dataclass(frozen=True)
class CatalystMovers:
    catalyst: Ref
    date: dt.date | None
    movers: tuple[MoverMove, ...]      # the session's movers it matches


@dataclass(frozen=True)
class Drivers:
    episode_catalysts: tuple[EpisodeCatalyst, ...]  # dated from a week before the start
    movers_catalysts: tuple[CatalystMovers, ...]


@part("drivers", notes={"concept"}, order=40, block="drivers", after="parts/drivers_your_notes.md.j2")
def drivers(inputs: PartInput) -> Drivers:
    day, ix = inputs.day, inputs.ix
    of_episode = tuple(EpisodeCatalyst(ix.catalyst(c.name), c.date, tuple(LegNamed(ix.leg(l.name, l.kind), side)
                                                                          for l, side in legs))
                       for c, legs in episode_catalysts(day.episode, inputs.ctx, day.date))
    dates = {c.name: c.date for c in inputs.ctx.catalysts}
    of_movers = tuple(CatalystMovers(ix.catalyst(name), dates.get(name),
                                     tuple(MoverMove(ix.ticker(m.ticker), m.move) for m in movers))
                      for name, movers in movers_by_catalyst(day))
    return Drivers(of_episode, of_movers)
