"""The simulated market's parameters and its seeded random streams."""
from __future__ import annotations

import zlib

import numpy as np


DEMO_SOURCE = "demo"

TRADING_DAYS = 252
SPLIT_RATIO = 4
PRIOR_LEAD_SESSIONS = 63   # the quarter before the episode, when the future losers led
BURST_SESSIONS = 5
STREAK_TICKER = "AAPL"
STREAK_LENGTH = 7
DEFENSE_TICKERS = ("LMT", "NOC", "GD", "RTX")
SCRIPTED_STOCKS = (STREAK_TICKER, *DEFENSE_TICKERS)   # no dividends or split, so close tells their story
OUT_OF_SECTORS = ("Information Technology", "Communication Services")
INTO_SECTORS = ("Industrials", "Financials", "Energy")
MAGNIFICENT_7 = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA")   # semiconductors sit in IT

# sector: (beta, stock annual vol range, S&P 500 weight, equal-weight share, sensitivity to yield change)
SECTOR_PROFILE = {
    "Information Technology": (1.20, (0.26, 0.44), 0.310, 0.130, 0.00),
    "Communication Services": (1.05, (0.24, 0.40), 0.090, 0.045, 0.00),
    "Consumer Discretionary": (1.15, (0.26, 0.42), 0.100, 0.100, 0.00),
    "Consumer Staples": (0.60, (0.17, 0.26), 0.055, 0.070, -0.01),
    "Energy": (0.90, (0.24, 0.36), 0.032, 0.045, 0.00),
    "Financials": (1.05, (0.21, 0.34), 0.130, 0.140, 0.05),
    "Health Care": (0.75, (0.20, 0.34), 0.100, 0.120, 0.00),
    "Industrials": (1.00, (0.22, 0.36), 0.085, 0.155, 0.00),
    "Materials": (0.95, (0.22, 0.34), 0.019, 0.050, 0.00),
    "Real Estate": (0.85, (0.20, 0.30), 0.021, 0.060, -0.05),
    "Utilities": (0.55, (0.17, 0.28), 0.024, 0.060, -0.04),
}
# benchmark: sector weights on the cap-weighted sector returns (the rest is the broad market)
BENCHMARK_SECTOR_MIX = {
    "QQQ": {"Information Technology": 0.50, "Communication Services": 0.16, "Consumer Discretionary": 0.19,
            "Consumer Staples": 0.06, "Health Care": 0.05, "Industrials": 0.04},
    "DIA": {"Financials": 0.26, "Information Technology": 0.20, "Industrials": 0.15, "Consumer Discretionary": 0.14,
            "Health Care": 0.12, "Consumer Staples": 0.05, "Energy": 0.03, "Communication Services": 0.03,
            "Materials": 0.02},
}
INDEX_TRACKS = {"^GSPC": "SPY", "^SPX": "SPY", "^IXIC": "QQQ", "^NDX": "QQQ", "^DJI": "DIA", "^RUT": "IWM"}
START_LEVEL = {
    "SPY": 470.0, "RSP": 160.0, "QQQ": 400.0, "IWM": 195.0, "DIA": 375.0,
    "^GSPC": 4700.0, "^SPX": 4700.0, "^IXIC": 14800.0, "^NDX": 16800.0, "^DJI": 37500.0, "^RUT": 2000.0,
    "GC=F": 2050.0, "SI=F": 23.5, "CL=F": 72.0, "BZ=F": 77.0, "^VIX": 14.0, "^TNX": 3.95,
}
VIX_MEAN, VIX_REVERSION, VIX_FALL_SENSITIVITY, VIX_NOISE = 17.5, 0.04, 4.0, 0.05
YIELD_MEAN, YIELD_REVERSION, YIELD_NOISE = 4.1, 0.01, 0.055   # percent; noise 5.5 bp a day
UNQUOTED_VOLUME = ("^VIX", "^TNX")                             # Yahoo reports no volume for these


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of one named thing (a ticker, a factor): the same for the same seed,
    whatever else the universe holds."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def student_t(rng: np.random.Generator, size, df: float = 5.0) -> np.ndarray:
    """Student-t draws scaled to unit variance: fat tails without changing the volatility."""
    return rng.standard_t(df, size) * np.sqrt((df - 2) / df)
