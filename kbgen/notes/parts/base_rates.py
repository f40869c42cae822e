"""The concept note's base rates: how long rotations lasted and what followed, from the store."""
from __future__ import annotations

from dataclasses import dataclass

from ..concept import base_rate_text, episode_length
from ..registry import PartInput, part


@dataclass(frozen=True)
class BaseRateLine:
    question: str                      # "QQQ rose the next session after RSP beat SPY by over 1%"
    result: str                        # "7 of 12 (58%)", or why there is no rate


@dataclass(frozen=True)
class BaseRates:
    sessions: int                      # this episode's length so far (or in all)
    ongoing: bool
    rows: tuple[BaseRateLine, ...]


@part("base_rates", notes={"concept"}, order=70, block="base-rates")
def base_rates(inputs: PartInput) -> BaseRates:
    day, min_cases = inputs.day, inputs.ctx.config.analysis.min_cases
    return BaseRates(episode_length(day.episode, day.date), day.episode.ongoing,
                     tuple(BaseRateLine(r.question, base_rate_text(r, min_cases)) for r in day.base_rates))
