"""Relative rotation (RRG-style) of sector ETFs against the benchmark, on weekly data.

Relative strength: RS = 100 * P / B, sampled at the last session of each week. For a date in
the middle of a week the current, partial week counts as of that day, so every session has its
own point and nothing after the date is used.

The original RS-Ratio / RS-Momentum are proprietary; this is the documented approximation:

    RS-Ratio_t    = 100 + (RS_t - mean_N(RS)) / sd_N(RS)
    ROC_t         = RS-Ratio_t / RS-Ratio_{t-1 week} - 1
    RS-Momentum_t = 100 + (ROC_t - mean_N(ROC)) / sd_N(ROC)

mean_N and sd_N (population) run over the N = 10 weekly points ending at t (the last N-1
completed weeks and t itself). Why: a z-score makes 100 the neutral line for every sector
whatever its price level or volatility, so ratio > 100 reads "RS above its own recent trend"
and momentum > 100 "that trend is improving faster than usual", and the four quadrants follow.
The rate of change is taken over exactly one weekly step ending at t. A popular open
implementation computes the momentum from a ratio series shifted by one more period, so its
momentum describes the week before its ratio; here ratio and momentum of a point refer to the
same week. Quadrants: Leading (ratio > 100, momentum > 100), Weakening (>, <=),
Lagging (<=, <=), Improving (<=, >).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NORMALISATION_WEEKS = 10
TAIL_POINTS = 5


def week_labels(sessions: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(sessions.to_period("W"))


def week_end_mask(sessions: pd.DatetimeIndex) -> np.ndarray:
    """True on the last session of each week present in the calendar so far."""
    labels = week_labels(sessions)
    mask = np.ones(len(labels), dtype=bool)
    mask[:-1] = labels[:-1] != labels[1:]
    return mask


def _rolling_z(daily: pd.DataFrame, week_end: np.ndarray, weeks: np.ndarray, n: int) -> pd.DataFrame:
    """z-score of each session's value among the n-1 previous completed weekly values and itself."""
    weekly = daily[week_end]
    weekly.index = weeks[week_end]
    sum_prev = weekly.rolling(n - 1, min_periods=n - 1).sum().shift(1)
    sq_prev = (weekly ** 2).rolling(n - 1, min_periods=n - 1).sum().shift(1)
    # map each session to the sums of the weeks before its own week
    s1 = sum_prev.reindex(weeks).to_numpy()
    s2 = sq_prev.reindex(weeks).to_numpy()
    x = daily.to_numpy()
    mean = (s1 + x) / n
    variance = np.maximum((s2 + x * x) / n - mean * mean, 0.0)
    sd = np.sqrt(variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd > 1e-12 * np.abs(mean), (x - mean) / sd, 0.0)
    z[np.isnan(mean)] = np.nan
    return pd.DataFrame(z, index=daily.index, columns=daily.columns)


def rotation_frames(adj: pd.DataFrame, tickers: list[str], benchmark: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(RS-Ratio, RS-Momentum) for `tickers` at every session (see the module docstring)."""
    sessions = adj.index
    weeks = week_labels(sessions)
    week_end = week_end_mask(sessions)
    rs = 100 * adj[tickers].div(adj[benchmark], axis=0)
    ratio = 100 + _rolling_z(rs, week_end, weeks, NORMALISATION_WEEKS)
    previous_week_ratio = ratio[week_end].copy()
    previous_week_ratio.index = weeks[week_end]
    previous_week_ratio = previous_week_ratio.shift(1).reindex(weeks)
    previous_week_ratio.index = sessions
    roc = ratio / previous_week_ratio - 1
    momentum = 100 + _rolling_z(roc, week_end, weeks, NORMALISATION_WEEKS)
    return ratio, momentum


def quadrant(ratio: float, momentum: float) -> str:
    if ratio > 100:
        return "Leading" if momentum > 100 else "Weakening"
    return "Improving" if momentum > 100 else "Lagging"


def tail_positions(sessions: pd.DatetimeIndex, position: int) -> list[int]:
    """Positions of the last TAIL_POINTS weekly points ending at `position` (oldest first)."""
    weeks = week_labels(sessions[: position + 1])
    earlier_week = np.array([w != weeks[-1] for w in weeks[:-1]], dtype=bool)
    ends = np.flatnonzero(week_end_mask(sessions[: position + 1])[:-1] & earlier_week)
    return [*ends[-(TAIL_POINTS - 1):].tolist(), position]
