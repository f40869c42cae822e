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
import zlib
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..config import GICS_SECTORS, Security
from ..exchange import sessions_ending

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


@dataclass(frozen=True)
class Rotation:
    """The scripted rotation episode, in sessions counted back from `end`.

    The episode's first session is `start_offset` sessions before the last one and it lasts
    `length` sessions: 40% of `size` (into-minus-out-of excess, in log-return units) accrues
    evenly, 60% in a 5-session burst starting a quarter of the way in. Over the 63 sessions
    before it the future losers lead by `prior_lead`.
    """

    start_offset: int = 30
    length: int = 30
    size: float = 0.15
    prior_lead: float = 0.06

    def __post_init__(self):
        if not BURST_SESSIONS + 1 <= self.length <= self.start_offset:
            raise ValueError(
                f"rotation length {self.length} must be at least {BURST_SESSIONS + 1} sessions and "
                f"end by the last session (start_offset {self.start_offset})"
            )


@dataclass(frozen=True)
class DemoScript:
    """What was scripted into the simulated market, so tests and notes can point at it."""

    into: tuple[str, ...]                # tickers scripted to lead during the episode
    out_of: tuple[str, ...]              # the prior leaders scripted to lag
    defense: tuple[str, ...]
    rotation_start: dt.date | None = None
    acceleration: tuple[dt.date, dt.date] | None = None   # first and last session of the burst
    rotation_end: dt.date | None = None
    catalyst_day: dt.date | None = None  # defense names rise 6-8%
    streak_ticker: str | None = None
    streak: tuple[dt.date, ...] = ()     # sessions of the losing streak, ending on the catalyst day
    split_ticker: str | None = None
    split_date: dt.date | None = None    # first session quoted after the split
    split_ratio: int = SPLIT_RATIO


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
    plan = _Plan.make(securities, days, rotation or None)
    world = _simulate_factors(days, seed)
    returns, gaps = _returns(securities, world, plan, seed)
    prices, split = _prices(tickers, returns, gaps, securities, seed)
    script = plan.script(days, split)
    return DemoMarket(prices=_long_frame(tickers, days, prices), script=script)


# --- the script ---------------------------------------------------------------------------------

def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _student_t(rng: np.random.Generator, size, df: float = 5.0) -> np.ndarray:
    """Student-t draws scaled to unit variance: fat tails without changing the volatility."""
    return rng.standard_t(df, size) * np.sqrt((df - 2) / df)


@dataclass
class _Plan:
    """Who the script moves and when, as session indexes."""

    side: dict[str, int]            # +1 into, -1 out of, 0 neither
    defense: tuple[str, ...]
    drift: np.ndarray               # per-session log drift of the "into" side; the "out" side gets minus it
    start: int | None = None
    burst: tuple[int, int] | None = None
    stop: int | None = None
    catalyst: int | None = None
    streak: tuple[int, ...] = ()
    streak_ticker: str | None = None

    @classmethod
    def make(cls, securities: Mapping[str, Security], days: list[dt.date], rotation: Rotation | None) -> "_Plan":
        side = {t: _rotation_side(s) for t, s in securities.items()}
        defense = tuple(t for t in DEFENSE_TICKERS if t in securities)
        n = len(days)
        drift = np.zeros(n)
        if rotation is None:
            return cls(side, defense, drift)
        if rotation.start_offset > n:
            raise ValueError(
                f"a rotation starting {rotation.start_offset} sessions before the end needs more than "
                f"{n} sessions; simulate more sessions or pass rotation=False"
            )
        start = n - rotation.start_offset
        stop = start + rotation.length - 1
        burst_first = start + rotation.length // 4
        burst_last = burst_first + BURST_SESSIONS - 1
        steady = rotation.length - BURST_SESSIONS
        drift[start:stop + 1] = 0.4 * rotation.size / 2 / steady
        drift[burst_first:burst_last + 1] = 0.6 * rotation.size / 2 / BURST_SESSIONS
        lead_in = min(PRIOR_LEAD_SESSIONS, start)
        if lead_in:
            drift[start - lead_in:start] = -rotation.prior_lead / 2 / lead_in
        plan = cls(side, defense, drift, start, (burst_first, burst_last), stop, catalyst=burst_last)
        if STREAK_TICKER in securities and burst_last >= STREAK_LENGTH:
            plan.streak_ticker = STREAK_TICKER
            plan.streak = tuple(range(burst_last - STREAK_LENGTH + 1, burst_last + 1))
        return plan

    def script(self, days: list[dt.date], split: tuple[str, int] | None) -> DemoScript:
        def on(index):
            return None if index is None else days[index]

        scripted = self.start is not None
        return DemoScript(
            into=tuple(t for t, s in self.side.items() if s > 0 and scripted),
            out_of=tuple(t for t, s in self.side.items() if s < 0 and scripted),
            defense=self.defense if scripted else (),
            rotation_start=on(self.start),
            acceleration=(days[self.burst[0]], days[self.burst[1]]) if self.burst else None,
            rotation_end=on(self.stop),
            catalyst_day=on(self.catalyst),
            streak_ticker=self.streak_ticker,
            streak=tuple(days[i] for i in self.streak),
            split_ticker=split[0] if split else None,
            split_date=days[split[1]] if split else None,
        )


def _rotation_side(security: Security) -> int:
    if security.ticker in ("IWM", "^RUT") or security.ticker in DEFENSE_TICKERS:
        return 1
    if security.kind not in ("stock", "sector_etf"):
        return 0
    if security.sector in OUT_OF_SECTORS or security.ticker in MAGNIFICENT_7:
        return -1
    if security.sector in INTO_SECTORS:
        return 1
    return 0


# --- factors ------------------------------------------------------------------------------------

@dataclass
class _World:
    market: np.ndarray              # market factor log returns
    sectors: dict[str, np.ndarray]  # sector factor log returns
    size: np.ndarray                # small-minus-large factor
    vix: np.ndarray                 # levels
    yield_: np.ndarray              # 10-year yield, percent
    oil: np.ndarray                 # WTI log returns
    gold: np.ndarray                # gold log returns


def _simulate_factors(days: list[dt.date], seed: int) -> _World:
    n = len(days)
    rng = _rng(seed, "market")
    shocks, vix_noise, yield_noise = _student_t(rng, n), rng.standard_normal(n), rng.standard_normal(n)
    market, vix, yields = np.empty(n), np.empty(n), np.empty(n)
    level, rate = START_LEVEL["^VIX"], START_LEVEL["^TNX"]
    # A scalar recursion (VIX sets tomorrow's market volatility): a loop over sessions, not tickers.
    for t in range(n):
        sigma = 0.8 * level / 100 / np.sqrt(TRADING_DAYS)
        market[t] = 0.0004 + sigma * shocks[t]
        log_vix = np.log(level)
        log_vix += VIX_REVERSION * (np.log(VIX_MEAN) - log_vix) - VIX_FALL_SENSITIVITY * market[t] + VIX_NOISE * vix_noise[t]
        level = float(np.exp(log_vix))
        rate += YIELD_REVERSION * (YIELD_MEAN - rate) + YIELD_NOISE * yield_noise[t] + 1.5 * market[t]
        vix[t], yields[t] = level, rate
    oil = _mean_reverting_log_returns(_rng(seed, "oil"), n, START_LEVEL["CL=F"], 75.0, 0.021)
    d_yield = np.diff(yields, prepend=START_LEVEL["^TNX"])
    gold = 0.0003 + 0.009 * _student_t(_rng(seed, "gold"), n) - 0.02 * d_yield
    sectors = {}
    for name in GICS_SECTORS:
        factor = 0.006 * _student_t(_rng(seed, f"sector:{name}"), n) + SECTOR_PROFILE[name][4] * d_yield
        if name == "Energy":
            factor += 0.3 * oil
        sectors[name] = factor
    size = 0.006 * _student_t(_rng(seed, "size"), n)
    return _World(market, sectors, size, vix, yields, oil, gold)


def _mean_reverting_log_returns(rng, n: int, start: float, mean: float, vol: float) -> np.ndarray:
    log_level, out = np.log(start), np.empty(n)
    shocks = _student_t(rng, n)
    for t in range(n):
        step = 0.02 * (np.log(mean) - log_level) + vol * shocks[t]
        out[t], log_level = step, log_level + step
    return out


# --- returns ------------------------------------------------------------------------------------

def _returns(securities: Mapping[str, Security], world: _World, plan: _Plan, seed: int):
    """Daily log total returns and opening gaps (log open over previous close), ticker -> array."""
    n = len(world.market)
    stocks = [s for s in securities.values() if s.kind == "stock"]
    returns: dict[str, np.ndarray] = {}
    if stocks:
        returns.update(_stock_returns(stocks, world, plan, seed))
    sector_total = _sector_returns(securities, returns, world, plan, seed)
    composites = _composite_returns(sector_total, world, plan, seed)
    for ticker, security in securities.items():
        if security.kind == "sector_etf":
            noise = 0.0005 * _rng(seed, ticker).standard_normal(n)
            returns[ticker] = np.log1p(sector_total[security.sector]) + noise
        elif security.kind in ("benchmark", "index"):
            returns[ticker] = _benchmark_returns(ticker, composites, seed)
        elif security.kind == "cross_asset":
            returns[ticker] = _cross_asset_returns(ticker, world, seed)
    gaps = {t: _opening_gaps(t, r, seed) for t, r in returns.items()}
    if plan.catalyst is not None:   # defense gaps up further than it closes: part of the gain fades
        fade = _rng(seed, "catalyst gap")
        for ticker in plan.defense:
            gaps[ticker][plan.catalyst] = returns[ticker][plan.catalyst] + fade.uniform(0.005, 0.02)
    return returns, gaps


def _stock_returns(stocks: list[Security], world: _World, plan: _Plan, seed: int) -> dict[str, np.ndarray]:
    n = len(world.market)
    tickers = [s.ticker for s in stocks]
    beta, gamma, idio = np.empty(len(stocks)), np.empty(len(stocks)), np.empty(len(stocks))
    noise, jumps = np.empty((n, len(stocks))), np.zeros((n, len(stocks)))
    factor = np.column_stack([world.sectors[s.sector] for s in stocks])
    market_vol = 0.8 * VIX_MEAN / 100 / np.sqrt(TRADING_DAYS)
    for j, stock in enumerate(stocks):
        rng = _rng(seed, stock.ticker)
        sector_beta, (low_vol, high_vol), *_ = SECTOR_PROFILE[stock.sector]
        beta[j] = sector_beta * rng.uniform(0.75, 1.25)
        gamma[j] = rng.uniform(0.7, 1.3)
        daily_vol = rng.uniform(low_vol, high_vol) / np.sqrt(TRADING_DAYS)
        systematic = np.hypot(beta[j] * market_vol, gamma[j] * 0.006)
        idio[j] = np.sqrt(max(daily_vol**2 - systematic**2, (0.3 * daily_vol) ** 2))
        noise[:, j] = _student_t(rng, n, df=4.0)
        earnings = np.arange(rng.integers(0, 63), n, 63)
        jumps[earnings, j] = 0.045 * _student_t(rng, len(earnings), df=4.0)
    returns = 0.0001 + world.market[:, None] * beta + factor * gamma + noise * idio + jumps
    side = np.array([plan.side[t] for t in tickers], dtype=float)
    returns += plan.drift[:, None] * side
    by_ticker = {t: returns[:, j].copy() for j, t in enumerate(tickers)}
    _script_streak(plan, by_ticker)
    _script_catalyst_day(plan, by_ticker, seed)
    return by_ticker


def _script_streak(plan: _Plan, returns: dict[str, np.ndarray]) -> None:
    """Exactly STREAK_LENGTH declines in a row: an up session on each side of the streak."""
    if not plan.streak:
        return
    r = returns[plan.streak_ticker]
    days = list(plan.streak)
    r[days] = -np.abs(r[days]) - 0.003
    for edge in (days[0] - 1, days[-1] + 1):
        if 0 <= edge < len(r):
            r[edge] = np.abs(r[edge]) + 0.003


def _script_catalyst_day(plan: _Plan, returns: dict[str, np.ndarray], seed: int) -> None:
    """Defense names close 6-8% higher on the catalyst day (before their sector ETF is built)."""
    if plan.catalyst is None:
        return
    rng = _rng(seed, "catalyst")
    for ticker in plan.defense:
        returns[ticker][plan.catalyst] = np.log1p(rng.uniform(0.06, 0.08))


def _sector_returns(securities, stock_returns, world: _World, plan: _Plan, seed: int) -> dict[str, np.ndarray]:
    """Each GICS sector's cap-weighted daily simple return: its listed members plus the unlisted rest.

    The rest is beta * m + f + drift, weighted 8 / (members + 8), so a sector with few listed
    members still moves like its sector and one with the full index is nearly all members.
    """
    n = len(world.market)
    totals = {}
    for name in GICS_SECTORS:
        members = [t for t, s in securities.items() if s.kind == "stock" and s.sector == name]
        side = 1 if name in INTO_SECTORS else -1 if name in OUT_OF_SECTORS else 0
        rest = SECTOR_PROFILE[name][0] * world.market + world.sectors[name] + side * plan.drift
        rest += 0.002 * _rng(seed, f"rest:{name}").standard_normal(n)
        rest_weight = 8 / (len(members) + 8)
        total = rest_weight * np.expm1(rest)
        if members:
            caps = np.array([_rng(seed, f"cap:{t}").lognormal(0.0, 1.0) for t in members])
            weights = (1 - rest_weight) * caps / caps.sum()
            total += np.column_stack([np.expm1(stock_returns[t]) for t in members]) @ weights
        totals[name] = total
    return totals


def _composite_returns(sector_total, world: _World, plan: _Plan, seed: int) -> dict[str, np.ndarray]:
    """Simple daily returns of the broad benchmarks, built from the sector returns."""
    n = len(world.market)

    def mix(weights: Mapping[str, float]) -> np.ndarray:
        total = sum(weights.values())
        return sum(w / total * sector_total[s] for s, w in weights.items())

    spy = mix({s: p[2] for s, p in SECTOR_PROFILE.items()})
    equal = mix({s: p[3] for s, p in SECTOR_PROFILE.items()}) + 0.3 * world.size
    small = (
        1.1 * world.market + world.size + 0.25 * (world.sectors["Financials"] + world.sectors["Industrials"])
        + 0.004 * _rng(seed, "small caps").standard_normal(n) + plan.drift
    )
    return {
        "SPY": spy, "RSP": equal, "IWM": np.expm1(small),
        **{name: mix(weights) for name, weights in BENCHMARK_SECTOR_MIX.items()},
    }


def _benchmark_returns(ticker: str, composites, seed: int) -> np.ndarray:
    base = composites.get(INDEX_TRACKS.get(ticker, ticker), composites["SPY"])
    tracking = 0.0002 if ticker in composites or ticker in INDEX_TRACKS else 0.002
    return np.log1p(base) + tracking * _rng(seed, ticker).standard_normal(len(base))


def _cross_asset_returns(ticker: str, world: _World, seed: int) -> np.ndarray:
    n = len(world.market)
    rng = _rng(seed, ticker)
    if ticker == "^VIX":
        return np.diff(np.log(world.vix), prepend=np.log(START_LEVEL["^VIX"]))
    if ticker == "^TNX":
        return np.diff(np.log(world.yield_), prepend=np.log(START_LEVEL["^TNX"]))
    if ticker == "CL=F":
        return world.oil
    if ticker == "BZ=F":
        return 0.95 * world.oil + 0.005 * rng.standard_normal(n)
    if ticker == "GC=F":
        return world.gold
    if ticker == "SI=F":
        return 1.4 * world.gold + 0.011 * _student_t(rng, n)
    return 0.015 * _student_t(rng, n)


def _opening_gaps(ticker: str, returns: np.ndarray, seed: int) -> np.ndarray:
    """Log open over the previous close: about half the day's move happens overnight."""
    rng = _rng(seed, f"gap:{ticker}")
    return 0.5 * returns + 0.25 * returns.std() * rng.standard_normal(len(returns))




# --- prices -------------------------------------------------------------------------------------

def _prices(tickers, returns, gaps, securities, seed: int):
    """OHLC, adjusted close and volume matrices (sessions x tickers), and the split (ticker, index)."""
    r = np.column_stack([returns[t] for t in tickers])
    g = np.column_stack([gaps[t] for t in tickers])
    n = r.shape[0]
    start = np.array([_start_level(securities[t], seed) for t in tickers])
    dividend_logs = _dividends(tickers, securities, n, seed)
    close = start * np.exp(np.cumsum(r + dividend_logs, axis=0))
    # Yahoo's adj_close: each earlier close scaled by (1 - dividend yield) of every later ex-date.
    later = dividend_logs.sum(axis=0) - np.cumsum(dividend_logs, axis=0)
    adj_close = close * np.exp(later)
    vol = r.std(axis=0) + 1e-9
    shocks = np.abs(np.stack([_rng(seed, f"range:{t}").standard_normal((2, n)) for t in tickers], axis=-1))
    open_ = close * np.exp(g - r)
    high = np.maximum(open_, close) * np.exp(0.6 * vol * shocks[0])
    low = np.minimum(open_, close) * np.exp(-0.6 * vol * shocks[1])
    volume = _volumes(tickers, r, vol, seed)
    split = _split(tickers, securities, close, dividend_logs)
    if split:
        j, index = tickers.index(split[0]), split[1]
        for matrix in (open_, high, low, close):
            matrix[:index, j] *= SPLIT_RATIO
        volume[:index, j] /= SPLIT_RATIO
    volume = np.round(volume)
    volume[:, [t in UNQUOTED_VOLUME for t in tickers]] = np.nan
    rounded = {name: np.round(m, 4) for name, m in
               (("open", open_), ("high", high), ("low", low), ("close", close), ("adj_close", adj_close))}
    return {**rounded, "volume": volume}, split


def _start_level(security: Security, seed: int) -> float:
    if security.ticker in START_LEVEL:
        return START_LEVEL[security.ticker]
    rng = _rng(seed, f"level:{security.ticker}")
    if security.kind == "stock":
        return float(np.exp(rng.uniform(np.log(15), np.log(600))))
    return float(rng.uniform(40, 200))


def _dividends(tickers, securities, n: int, seed: int) -> np.ndarray:
    """log(1 - yield) on quarterly ex-dates of about a third of the stocks, 0 elsewhere."""
    logs = np.zeros((n, len(tickers)))
    for j, ticker in enumerate(tickers):
        rng = _rng(seed, f"dividend:{ticker}")
        if securities[ticker].kind != "stock" or ticker in SCRIPTED_STOCKS or rng.random() > 0.35:
            continue
        quarterly_yield = rng.uniform(0.01, 0.04) / 4
        logs[np.arange(rng.integers(5, 63), n, 63), j] = np.log1p(-quarterly_yield)
    return logs


def _split(tickers, securities, close: np.ndarray, dividend_logs: np.ndarray) -> tuple[str, int] | None:
    """The highest-priced unscripted non-dividend stock splits 4:1 halfway through the history."""
    index = close.shape[0] // 2
    candidates = [
        j for j, t in enumerate(tickers)
        if securities[t].kind == "stock" and t not in SCRIPTED_STOCKS and not dividend_logs[:, j].any()
    ]
    if not candidates or index == 0:
        return None
    best = max(candidates, key=lambda j: close[index, j])
    return tickers[best], index


def _volumes(tickers, r: np.ndarray, vol: np.ndarray, seed: int) -> np.ndarray:
    """Base volume times lognormal noise, rising with the square of the move in standard deviations."""
    n, k = r.shape
    base, noise = np.empty(k), np.empty((n, k))
    for j, ticker in enumerate(tickers):
        rng = _rng(seed, f"volume:{ticker}")
        base[j], noise[:, j] = rng.lognormal(np.log(5e6), 1.0), rng.standard_normal(n)
    surprise = np.minimum(0.35 * (r / vol) ** 2, 7.0)
    return base * np.exp(0.3 * noise) * (1 + surprise)


def _long_frame(tickers, days, prices) -> pd.DataFrame:
    n, k = len(days), len(tickers)
    frame = pd.DataFrame({
        "ticker": np.repeat(np.array(tickers, dtype=object), n),
        "date": np.tile(pd.to_datetime(days).to_numpy(dtype="datetime64[ns]"), k),
    })
    for name in ("open", "high", "low", "close", "adj_close", "volume"):
        frame[name] = prices[name].T.reshape(-1)
    return frame
