"""Movers: the day's biggest stock moves, each with its context in numbers and in words.

Per-ticker indicators are computed once for the whole panel (streaks, records, gaps, relative
volume); the "highest close since" look-back is done only for the handful of movers of a day.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..model import Catalyst, MoverContext
from .returns import YEAR_SESSIONS

HIGH_SINCE_MIN_SESSIONS = 20   # "highest close since" is only news when it reaches this far back
VOLUME_SESSIONS = 20
GAP_FACT_MIN = 0.01            # an open at least 1% away from the previous close is called a gap
RELATIVE_VOLUME_FACT_MIN = 1.5


def streaks(adj: pd.DataFrame) -> pd.DataFrame:
    """Signed count of consecutive up (+) or down (-) closes ending at each session.

    An unchanged close or a missing one resets the count to 0.
    """
    sign = np.sign(adj.diff().to_numpy())
    sign = np.nan_to_num(sign, nan=0.0)
    out = np.zeros_like(sign)
    for row in range(1, len(sign)):
        same = (sign[row] == sign[row - 1]) & (sign[row] != 0)
        out[row] = np.where(same, out[row - 1] + sign[row], sign[row])
    return pd.DataFrame(out.astype(int), index=adj.index, columns=adj.columns)


def records(adj: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(record high, record low): the close is at or beyond every earlier stored close.

    A ticker's first row is not a record: there is nothing to beat.
    """
    previous_max = adj.cummax().shift(1)
    previous_min = adj.cummin().shift(1)
    return adj >= previous_max, adj <= previous_min


def from_year_high(adj: pd.DataFrame) -> pd.DataFrame:
    """Close / highest close of the last YEAR_SESSIONS (252) sessions (itself included) - 1; NaN with less history."""
    return adj / adj.rolling(YEAR_SESSIONS, min_periods=YEAR_SESSIONS).max() - 1


def gaps(open_: pd.DataFrame, close: pd.DataFrame, adj: pd.DataFrame) -> pd.DataFrame:
    """gap = open / previous close - 1 on the adjusted basis.

    The open is put on the adjusted basis with the same day's adj/close ratio, so a split between
    two sessions is not reported as a gap. Close-only tickers get NaN: nothing is invented.
    """
    adjusted_open = open_ * (adj / close)
    return adjusted_open / adj.shift(1) - 1


def relative_volume(volume: pd.DataFrame) -> pd.DataFrame:
    """volume_t / mean(volume over the previous 20 sessions); NaN without 20 earlier volumes."""
    usable = volume.where(volume > 0)
    average = usable.rolling(VOLUME_SESSIONS, min_periods=VOLUME_SESSIONS).mean().shift(1)
    return usable / average


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def extreme_since(history: np.ndarray, dates: pd.DatetimeIndex, high: bool) -> dt.date | None:
    """The last earlier date whose close is at or beyond today's (the last value of `history`).

    Returned only when it lies more than HIGH_SINCE_MIN_SESSIONS sessions back; None when today
    is a record (no such date) or the date is recent.
    """
    today, earlier = history[-1], history[:-1]
    if np.isnan(today):
        return None
    beyond = earlier >= today if high else earlier <= today
    hits = np.flatnonzero(beyond)
    if hits.size == 0:
        return None
    back = len(earlier) - hits[-1]
    return dates[hits[-1]].date() if back > HIGH_SINCE_MIN_SESSIONS else None


def matching_catalysts(
    ticker: str, sector: str | None, as_of: dt.date, window_start: dt.date, catalysts: tuple[Catalyst, ...]
) -> tuple[str, ...]:
    """Catalysts dated from `window_start` to `as_of` that explain the ticker's move.

    A catalyst that names tickers is about those tickers only (a defense-budget note naming the
    primes does not explain a farm-equipment maker in the same sector); one that names no tickers
    is about every member of its sectors.
    """
    return tuple(
        c.name for c in catalysts
        if window_start <= c.date <= as_of
        and (ticker in c.tickers if c.tickers else sector is not None and sector in c.sectors)
    )


def facts(context: MoverContext) -> tuple[str, ...]:
    """The context in words, e.g. ("7th straight decline", "opened +7.1%, closed +4.3%")."""
    said = []
    if abs(context.streak) >= 2:
        said.append(f"{ordinal(abs(context.streak))} straight {'gain' if context.streak > 0 else 'decline'}")
    # A record is only a record of the stored history: say where that history starts.
    since = f" in the stored history (from {context.history_start.isoformat()})" if context.history_start else ""
    if context.record_high:
        said.append(f"record close{since}")
    elif context.high_since:
        said.append(f"highest close since {context.high_since.isoformat()}")
    if context.record_low:
        said.append(f"lowest close{since}" if since else "lowest close on record")
    elif context.low_since:
        said.append(f"lowest close since {context.low_since.isoformat()}")
    if context.gap is not None and context.move_1d is not None and abs(context.gap) >= GAP_FACT_MIN:
        said.append(f"opened {context.gap:+.1%}, closed {context.move_1d:+.1%}")
    if context.relative_volume is not None and context.relative_volume >= RELATIVE_VOLUME_FACT_MIN:
        said.append(f"volume {context.relative_volume:.1f}x 20-day average")
    return tuple(said)


def ranked(moves: pd.Series, count: int) -> tuple[list[str], list[str]]:
    """(winners, losers): up to `count` tickers that rose most / fell most, ties by ticker."""
    values = moves.to_numpy(dtype=float)
    tickers = moves.index.to_numpy(dtype=object)
    # NaN compares false both ways, so tickers without a move are on neither side
    up, down = np.flatnonzero(values > 0), np.flatnonzero(values < 0)
    winners = up[np.lexsort((tickers[up], -values[up]))][:count]
    losers = down[np.lexsort((tickers[down], values[down]))][:count]
    return list(tickers[winners]), list(tickers[losers])
