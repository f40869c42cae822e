"""Window returns on adjusted closes, for every ticker and every session at once.

For a fixed window of n sessions: R = P_t / P_{t-n} - 1. MTD and YTD are measured from the last
session of the previous month / year: R = P_t / P_anchor - 1. A window whose start lies before
the ticker's first row (or on a hole in its history) gives NaN, never a partial-data number.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import WINDOWS

YEAR_SESSIONS = 252  # sessions in a year: the 1Y window, 52-week highs and lows
FIXED_SESSIONS = {"1D": 1, "1W": 5, "1M": 21, "3M": 63, "1Y": YEAR_SESSIONS}


def window_returns(adj: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{window: frame of returns} with the same shape as `adj`, for every window in WINDOWS."""
    out = {}
    for window in WINDOWS:
        if window in FIXED_SESSIONS:
            out[window] = adj / adj.shift(FIXED_SESSIONS[window]) - 1
        else:
            out[window] = _since_anchor(adj, "M" if window == "MTD" else "Y")
    return out


def _since_anchor(adj: pd.DataFrame, period: str) -> pd.DataFrame:
    """Return since the last session of the previous calendar month ("M") or year ("Y")."""
    labels = adj.index.to_period(period)
    position = np.arange(len(adj.index))
    # first position of each period; the anchor is the session just before it
    first_of_period = pd.Series(position).groupby(np.asarray(labels)).transform("min").to_numpy()
    anchor = first_of_period - 1
    values = adj.to_numpy()
    base = np.full_like(values, np.nan)
    valid = anchor >= 0
    base[valid] = values[anchor[valid]]
    return pd.DataFrame(values / base - 1, index=adj.index, columns=adj.columns)


def as_optional(value) -> float | None:
    """A float, or None for NaN / missing (the model never carries NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value
