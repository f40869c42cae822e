"""The share of each sector's members at a 52-week closing high (analytics/year_highs.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kbgen.analytics.registry import registered
from test_analytics_core import analyzer, sessions

N = 260


def market() -> dict[str, pd.Series]:
    """Tech: AAA and BBB rise to a high on the last session, NET falls; Industrials: DEF peaked
    long ago, GAP has under a year of history; Energy: OIL rises."""
    index = sessions(N)
    up, down = np.linspace(100, 150, N), np.linspace(150, 100, N)
    peaked = np.concatenate([np.linspace(100, 200, 100), np.linspace(200, 120, N - 100)])
    closes = {t: pd.Series(up, index=index) for t in ("SPY", "XLK", "XLI", "XLE", "AAA", "BBB", "OIL")}
    closes["NET"] = pd.Series(down, index=index)
    closes["DEF"] = pd.Series(peaked, index=index)
    closes["GAP"] = pd.Series(up[-100:], index=index[-100:])
    return closes


def test_share_of_members_at_a_year_high_per_sector():
    closes = market()
    shares = analyzer(closes).day(closes["SPY"].index[-1].date()).analytics["sector_year_highs"]
    assert shares["Information Technology"] == pytest.approx(2 / 3)
    assert shares["Industrials"] == 0.0          # GAP is left out: no year of history yet
    assert shares["Energy"] == 1.0


def test_no_share_before_a_year_of_history_and_none_looks_ahead():
    closes = market()
    az = analyzer(closes)
    index = closes["SPY"].index
    assert az.day(index[250].date()).analytics["sector_year_highs"]["Energy"] is None
    truncated = analyzer({t: s.iloc[:-5] for t, s in closes.items()})
    assert truncated.day(index[-6].date()).analytics == az.day(index[-6].date()).analytics


def test_the_analytic_is_registered_by_its_module_alone():
    assert "sector_year_highs" in [a.name for a in registered()]
