"""Registered analytics: run once over the panel by the Analyzer, one row per session to the notes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kbgen.analytics import registry
from test_analytics_core import analyzer, flat_market


def last_close_over_first(panel, config) -> pd.DataFrame:
    """A toy trailing analytic: each ticker's close over its first close (NaN for one ticker)."""
    frame = panel.adj / panel.adj.iloc[0]
    frame["NET"] = np.nan
    return frame


def test_each_session_carries_its_row_of_every_registered_analytic(monkeypatch):
    monkeypatch.setitem(registry._ANALYTICS, "toy", registry.Analytic("toy", last_close_over_first))
    closes = flat_market(30)
    az = analyzer(closes)
    index = closes["AAA"].index
    day = az.day(index[10].date())
    expected = closes["AAA"].iloc[10] / closes["AAA"].iloc[0]
    assert day.analytics["toy"]["AAA"] == pytest.approx(expected)
    assert day.analytics["toy"]["NET"] is None  # NaN never reaches the notes


def test_an_analytic_with_rows_other_than_the_sessions_is_refused(monkeypatch):
    shortened = registry.Analytic("short", lambda panel, config: panel.adj.iloc[:-1])
    monkeypatch.setitem(registry._ANALYTICS, "short", shortened)
    with pytest.raises(ValueError, match="one row per session"):
        analyzer(flat_market(30))


def test_registering_an_analytic_name_twice_is_refused(monkeypatch):
    monkeypatch.setitem(registry._ANALYTICS, "toy", registry.Analytic("toy", last_close_over_first))
    with pytest.raises(ValueError, match="registered twice"):
        registry.analytic("toy")(last_close_over_first)
