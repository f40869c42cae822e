"""Per sector, the share of its member stocks closing at a 52-week high.

For sector S on session t, over the members m of S with a full year of history (YEAR_SESSIONS
rows up to t):

    at_high(m, t) = 1 if P_m(t) = max(P_m(t - YEAR_SESSIONS + 1 .. t)) else 0
    share(S, t)   = sum of at_high over those members / their number

on adjusted closes; NaN when no member has a year of history. Trailing by construction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import Config
from .movers import from_year_high
from .panel import PricePanel
from .registry import analytic


@analytic("sector_year_highs")
def sector_year_highs(panel: PricePanel, config: Config) -> pd.DataFrame:
    """Session x sector frame of the share of members at a 52-week closing high."""
    distance = from_year_high(panel.adj)           # 0 exactly at the high, NaN without a year
    out = pd.DataFrame(index=panel.sessions)
    for sector in config.universe.sectors:
        members = [t for t, s in config.securities.items()
                   if s.kind == "stock" and s.sector == sector and t in distance.columns]
        counted = distance[members].notna().sum(axis=1)
        at_high = (distance[members] == 0).sum(axis=1)
        out[sector] = (at_high / counted.where(counted > 0)).astype(float) if members else np.nan
    return out
