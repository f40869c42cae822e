"""What the demo scripts into the market: the rotation episode, a losing streak, a catalyst day, a split."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ...config import Security
from .profile import (
    BURST_SESSIONS, DEFENSE_TICKERS, INTO_SECTORS, MAGNIFICENT_7, OUT_OF_SECTORS,
    PRIOR_LEAD_SESSIONS, SPLIT_RATIO, STREAK_LENGTH, STREAK_TICKER,
)


@dataclass(frozen=True)
class Rotation:
    """The scripted rotation episode, in sessions counted back from `end`.

    The episode's first session is `start_offset` sessions before the last one and it lasts
    `length` sessions: 40% of `size` (into-minus-out-of excess, in log-return units) accrues
    evenly, 60% in a 5-session burst starting a quarter of the way in. Over the 63 sessions
    before it the future losers lead by `prior_lead`.
    """

    start_offset: int = 30
    length: int = 30
    size: float = 0.15
    prior_lead: float = 0.06

    def __post_init__(self):
        if not BURST_SESSIONS + 1 <= self.length <= self.start_offset:
            raise ValueError(
                f"rotation length {self.length} must be at least {BURST_SESSIONS + 1} sessions and "
                f"end by the last session (start_offset {self.start_offset})"
            )


@dataclass(frozen=True)
class DemoScript:
    """What was scripted into the simulated market, so tests and notes can point at it."""

    into: tuple[str, ...]                # tickers scripted to lead during the episode
    out_of: tuple[str, ...]              # the prior leaders scripted to lag
    defense: tuple[str, ...]
    rotation_start: dt.date | None = None
    acceleration: tuple[dt.date, dt.date] | None = None   # first and last session of the burst
    rotation_end: dt.date | None = None
    catalyst_day: dt.date | None = None  # defense names rise 6-8%
    streak_ticker: str | None = None
    streak: tuple[dt.date, ...] = ()     # sessions of the losing streak, ending on the catalyst day
    split_ticker: str | None = None
    split_date: dt.date | None = None    # first session quoted after the split
    split_ratio: int = SPLIT_RATIO


@dataclass
class Plan:
    """Who the script moves and when, as session indexes."""

    side: dict[str, int]            # +1 into, -1 out of, 0 neither
    defense: tuple[str, ...]
    drift: np.ndarray               # per-session log drift of the "into" side; the "out" side gets minus it
    start: int | None = None
    burst: tuple[int, int] | None = None
    stop: int | None = None
    catalyst: int | None = None
    streak: tuple[int, ...] = ()
    streak_ticker: str | None = None

    @classmethod
    def make(cls, securities: Mapping[str, Security], days: list[dt.date], rotation: Rotation | None) -> "Plan":
        side = {t: _rotation_side(s) for t, s in securities.items()}
        defense = tuple(t for t in DEFENSE_TICKERS if t in securities)
        n = len(days)
        drift = np.zeros(n)
        if rotation is None:
            return cls(side, defense, drift)
        if rotation.start_offset > n:
            raise ValueError(
                f"a rotation starting {rotation.start_offset} sessions before the end needs more than "
                f"{n} sessions; simulate more sessions or pass rotation=False"
            )
        start = n - rotation.start_offset
        stop = start + rotation.length - 1
        burst_first = start + rotation.length // 4
        burst_last = burst_first + BURST_SESSIONS - 1
        steady = rotation.length - BURST_SESSIONS
        drift[start:stop + 1] = 0.4 * rotation.size / 2 / steady
        drift[burst_first:burst_last + 1] = 0.6 * rotation.size / 2 / BURST_SESSIONS
        lead_in = min(PRIOR_LEAD_SESSIONS, start)
        if lead_in:
            drift[start - lead_in:start] = -rotation.prior_lead / 2 / lead_in
        plan = cls(side, defense, drift, start, (burst_first, burst_last), stop, catalyst=burst_last)
        if STREAK_TICKER in securities and burst_last >= STREAK_LENGTH:
            plan.streak_ticker = STREAK_TICKER
            plan.streak = tuple(range(burst_last - STREAK_LENGTH + 1, burst_last + 1))
        return plan

    def script(self, days: list[dt.date], split: tuple[str, int] | None) -> DemoScript:
        def on(index):
            return None if index is None else days[index]

        scripted = self.start is not None
        return DemoScript(
            into=tuple(t for t, s in self.side.items() if s > 0 and scripted),
            out_of=tuple(t for t, s in self.side.items() if s < 0 and scripted),
            defense=self.defense if scripted else (),
            rotation_start=on(self.start),
            acceleration=(days[self.burst[0]], days[self.burst[1]]) if self.burst else None,
            rotation_end=on(self.stop),
            catalyst_day=on(self.catalyst),
            streak_ticker=self.streak_ticker,
            streak=tuple(days[i] for i in self.streak),
            split_ticker=split[0] if split else None,
            split_date=days[split[1]] if split else None,
        )


def _rotation_side(security: Security) -> int:
    if security.ticker in ("IWM", "^RUT") or security.ticker in DEFENSE_TICKERS:
        return 1
    if security.kind not in ("stock", "sector_etf"):
        return 0
    if security.sector in OUT_OF_SECTORS or security.ticker in MAGNIFICENT_7:
        return -1
    if security.sector in INTO_SECTORS:
        return 1
    return 0
