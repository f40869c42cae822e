"""The demo source: a simulated market, so the whole tool runs offline.

Daily log total returns come from a factor model:

    r[i, t] = mu + beta_i * m[t] + gamma_i * f[s(i), t] + sigma_e,i * e[i, t] + jump[i, t] + rot[i, t]

m is the market factor (Student-t shocks scaled by yesterday's VIX, so volatility clusters), f one
factor per GICS sector (Energy loads on oil, rate-sensitive sectors on the 10-year yield), e
idiosyncratic Student-t noise, jump a quarterly earnings move, rot the scripted rotation drift.
Sector ETFs, benchmarks and indices are weighted mixes of those returns, so they move consistently
with the stocks (QQQ tech-heavy, RSP equal-weight, IWM with its own small-cap factor).

Every random stream is seeded from (seed, name), so a ticker's path does not depend on which other
tickers the universe lists, and the same inputs give the same frame byte for byte.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ...config import Security
from ...exchange import sessions_ending
from .market import long_frame, simulate_factors, simulated_prices, simulated_returns
from .profile import DEMO_SOURCE
from .script import DemoScript, Plan, Rotation

__all__ = ["DEMO_SOURCE", "DemoMarket", "DemoScript", "Rotation", "simulate", "simulate_market"]


@dataclass(frozen=True)
class DemoMarket:
    prices: pd.DataFrame
    script: DemoScript


def simulate_market(
    securities: Mapping[str, Security], end: dt.date, sessions: int = 504, seed: int = 7, rotation=None
) -> pd.DataFrame:
    """The long price frame (ticker, date, open, high, low, close, adj_close, volume) of `simulate`."""
    return simulate(securities, end, sessions, seed, rotation).prices


def simulate(
    securities: Mapping[str, Security],
    end: dt.date,
    sessions: int = 504,
    seed: int = 7,
    rotation: Rotation | bool | None = None,
) -> DemoMarket:
    """Simulate `sessions` trading days ending at `end` (or the last session before it).

    `rotation`: None or True for the default `Rotation()`, False for none, or a `Rotation`.
    """
    if sessions < 2:
        raise ValueError(f"sessions must be at least 2, got {sessions}")
    if rotation is None or rotation is True:
        rotation = Rotation()
    days = sessions_ending(end, sessions)
    tickers = list(securities)
    plan = Plan.make(securities, days, rotation or None)
    world = simulate_factors(days, seed)
    returns, gaps = simulated_returns(securities, world, plan, seed)
    prices, split = simulated_prices(tickers, returns, gaps, securities, seed)
    script = plan.script(days, split)
    return DemoMarket(prices=long_frame(tickers, days, prices), script=script)
