"""Base rates: how often something followed a condition in the store's own history.

Every rate counts only cases whose outcome was known on the as-of date (the condition day plus
the outcome horizon is on or before it), so a rate never uses later data. Below `min_cases`
cases the rate is None and the notes say "too few cases"; nothing is extrapolated.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import BaseRate, Episode

RSP_BEAT_SPY = 0.01        # "RSP beat SPY by over 1%" on the day
FLIP_WINDOW = "1M"         # sector leadership = best 1M excess among sector ETFs
NEXT_WEEK = 5
DEFAULT_DURATION_SESSIONS = 21


@dataclass(frozen=True)
class EventCounts:
    """Running counts of (cases, hits) indexed by the session on which each outcome became known."""

    question: str
    cases: np.ndarray
    hits: np.ndarray

    @classmethod
    def build(cls, question: str, condition: np.ndarray, outcome: np.ndarray, horizon: int) -> "EventCounts":
        """condition[d] and outcome[d] (NaN = unknown) for a case on day d, known on d + horizon."""
        known = condition & ~np.isnan(outcome)
        hit = known & (np.nan_to_num(outcome) > 0)
        shift = np.zeros(len(condition) + horizon)
        cases, hits = shift.copy(), shift.copy()
        cases[horizon:] = known
        hits[horizon:] = hit
        return cls(question, np.cumsum(cases)[: len(condition)].astype(int), np.cumsum(hits)[: len(condition)].astype(int))

    def at(self, position: int, min_cases: int) -> BaseRate:
        cases, hits = int(self.cases[position]), int(self.hits[position])
        return BaseRate(self.question, cases, hits, hits / cases if cases >= min_cases else None)


def next_session_after_rsp_beats(returns_1d: pd.DataFrame) -> EventCounts | None:
    if not {"RSP", "SPY", "QQQ"} <= set(returns_1d.columns):
        return None
    condition = ((returns_1d["RSP"] - returns_1d["SPY"]) > RSP_BEAT_SPY).to_numpy()
    outcome = returns_1d["QQQ"].shift(-1).to_numpy()
    return EventCounts.build(
        f"QQQ rose the next session after RSP beat SPY by over {RSP_BEAT_SPY:.0%}", condition, outcome, 1
    )


def benchmark_after_leadership_flip(excess_1m: pd.DataFrame, etfs: list[str], benchmark_1w: pd.Series, benchmark: str) -> EventCounts | None:
    present = [t for t in etfs if t in excess_1m.columns]
    if len(present) < 2:
        return None
    board = excess_1m[present]
    complete = board.notna().all(axis=1).to_numpy()
    leader = np.where(complete, np.argmax(board.fillna(-np.inf).to_numpy(), axis=1), -1)
    condition = np.zeros(len(leader), dtype=bool)
    condition[1:] = complete[1:] & complete[:-1] & (leader[1:] != leader[:-1])
    outcome = benchmark_1w.shift(-NEXT_WEEK).to_numpy()
    return EventCounts.build(
        f"{benchmark} rose over the next week (5 sessions) after the sector with the best 1M excess changed",
        condition, outcome, NEXT_WEEK,
    )


MIN_EPISODE_SIZE = 0.03        # a past episode counts when its spread gained at least 3 points
MIN_EPISODE_SESSIONS = 5       # and it lasted at least a week


def countable_episodes(past: tuple[Episode, ...], as_of: dt.date, sessions: list[dt.date]) -> list[Episode]:
    """Ended episodes big and long enough to count, none counting a period twice.

    Episodes are taken largest first; one that overlaps an episode already taken (the same spell
    seen from the other side, or a smaller move inside it) is left out.
    """
    sized = [e for e in past if e.end is not None and e.size >= MIN_EPISODE_SIZE
             and e.duration_sessions(as_of, sessions) >= MIN_EPISODE_SESSIONS]
    kept: list[Episode] = []
    for episode in sorted(sized, key=lambda e: e.size, reverse=True):
        if all(episode.end < other.start or other.end < episode.start for other in kept):
            kept.append(episode)
    return sorted(kept, key=lambda e: e.start)


def episode_durations(
    past: tuple[Episode, ...], current: Episode | None, as_of: dt.date, sessions: list[dt.date], min_cases: int
) -> BaseRate:
    """How long countable past episodes lasted, against the current one's age (or a month without one)."""
    lengths = [e.duration_sessions(as_of, sessions) for e in countable_episodes(past, as_of, sessions)]
    bar = current.duration_sessions(as_of, sessions) if current else DEFAULT_DURATION_SESSIONS
    hits = sum(1 for n in lengths if n > bar)
    enough = len(lengths) >= min_cases
    return BaseRate(
        question=f"Past rotation episodes lasted longer than {bar} sessions",
        cases=len(lengths), hits=hits,
        rate=hits / len(lengths) if enough else None,
        median=float(np.median(lengths)) if enough else None,
        low=float(min(lengths)) if enough else None,
        high=float(max(lengths)) if enough else None,
    )
