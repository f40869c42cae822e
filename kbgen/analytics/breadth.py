"""Market breadth: leadership spreads and how many stocks take part in a move."""
from __future__ import annotations

import pandas as pd

from .returns import YEAR_SESSIONS

# label -> (ticker, reference): spread = return(ticker) - return(reference) per window
SPREADS = {
    "Equal vs cap weight": ("RSP", "SPY"),
    "Small vs large": ("IWM", "SPY"),
    "Nasdaq vs S&P": ("QQQ", "SPY"),
}
SHORT_AVERAGE, LONG_AVERAGE = 50, 200  # sessions of the moving averages a stock is compared with


def spread_frames(returns: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.Series]]:
    """{label: {window: series}} for the spreads whose two tickers are both in the panel."""
    columns = next(iter(returns.values())).columns
    return {
        label: {w: frame[a] - frame[b] for w, frame in returns.items()}
        for label, (a, b) in SPREADS.items()
        if a in columns and b in columns
    }


def participation(adj: pd.DataFrame, returns_1d: pd.DataFrame) -> pd.DataFrame:
    """Per session: share above 50/200-session averages, 52-week closing highs/lows, advancers/decliners.

    A stock counts in a share only with enough history for the average (50 or 200 rows), and in
    new highs / lows only with a full year (252 sessions) behind it; it counts once in each.
    """
    out = pd.DataFrame(index=adj.index)
    for sessions in (SHORT_AVERAGE, LONG_AVERAGE):
        average = adj.rolling(sessions, min_periods=sessions).mean()
        eligible = average.notna() & adj.notna()
        counted = eligible.sum(axis=1)
        out[f"above_{sessions}d"] = ((adj > average) & eligible).sum(axis=1) / counted.where(counted > 0)
    window = adj.rolling(YEAR_SESSIONS, min_periods=YEAR_SESSIONS)
    out["new_highs"] = (adj >= window.max()).sum(axis=1)
    out["new_lows"] = (adj <= window.min()).sum(axis=1)
    out["advancers"] = (returns_1d > 0).sum(axis=1)
    out["decliners"] = (returns_1d < 0).sum(axis=1)
    return out
