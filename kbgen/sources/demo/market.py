"""The factor model, returns and prices of the simulated market (formulas in the package docstring)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ...config import GICS_SECTORS, Security
from .profile import (
    BENCHMARK_SECTOR_MIX, INDEX_TRACKS, INTO_SECTORS, OUT_OF_SECTORS, SCRIPTED_STOCKS,
    SECTOR_PROFILE, SPLIT_RATIO, START_LEVEL, TRADING_DAYS, UNQUOTED_VOLUME,
    VIX_FALL_SENSITIVITY, VIX_MEAN, VIX_NOISE, VIX_REVERSION, YIELD_MEAN, YIELD_NOISE,
    YIELD_REVERSION, stream, student_t,
)
from .script import Plan


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


def simulate_factors(days: list[dt.date], seed: int) -> _World:
    n = len(days)
    rng = stream(seed, "market")
    shocks, vix_noise, yield_noise = student_t(rng, n), rng.standard_normal(n), rng.standard_normal(n)
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
    oil = _mean_reverting_log_returns(stream(seed, "oil"), n, START_LEVEL["CL=F"], 75.0, 0.021)
    d_yield = np.diff(yields, prepend=START_LEVEL["^TNX"])
    gold = 0.0003 + 0.009 * student_t(stream(seed, "gold"), n) - 0.02 * d_yield
    sectors = {}
    for name in GICS_SECTORS:
        factor = 0.006 * student_t(stream(seed, f"sector:{name}"), n) + SECTOR_PROFILE[name][4] * d_yield
        if name == "Energy":
            factor += 0.3 * oil
        sectors[name] = factor
    size = 0.006 * student_t(stream(seed, "size"), n)
    return _World(market, sectors, size, vix, yields, oil, gold)


def _mean_reverting_log_returns(rng, n: int, start: float, mean: float, vol: float) -> np.ndarray:
    log_level, out = np.log(start), np.empty(n)
    shocks = student_t(rng, n)
    for t in range(n):
        step = 0.02 * (np.log(mean) - log_level) + vol * shocks[t]
        out[t], log_level = step, log_level + step
    return out


# --- returns ------------------------------------------------------------------------------------

def simulated_returns(securities: Mapping[str, Security], world: _World, plan: Plan, seed: int):
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
            noise = 0.0005 * stream(seed, ticker).standard_normal(n)
            returns[ticker] = np.log1p(sector_total[security.sector]) + noise
        elif security.kind in ("benchmark", "index"):
            returns[ticker] = _benchmark_returns(ticker, composites, seed)
        elif security.kind == "cross_asset":
            returns[ticker] = _cross_asset_returns(ticker, world, seed)
    gaps = {t: _opening_gaps(t, r, seed) for t, r in returns.items()}
    if plan.catalyst is not None:   # defense gaps up further than it closes: part of the gain fades
        fade = stream(seed, "catalyst gap")
        for ticker in plan.defense:
            gaps[ticker][plan.catalyst] = returns[ticker][plan.catalyst] + fade.uniform(0.005, 0.02)
    return returns, gaps


def _stock_returns(stocks: list[Security], world: _World, plan: Plan, seed: int) -> dict[str, np.ndarray]:
    n = len(world.market)
    tickers = [s.ticker for s in stocks]
    beta, gamma, idio = np.empty(len(stocks)), np.empty(len(stocks)), np.empty(len(stocks))
    noise, jumps = np.empty((n, len(stocks))), np.zeros((n, len(stocks)))
    factor = np.column_stack([world.sectors[s.sector] for s in stocks])
    market_vol = 0.8 * VIX_MEAN / 100 / np.sqrt(TRADING_DAYS)
    for j, stock in enumerate(stocks):
        rng = stream(seed, stock.ticker)
        sector_beta, (low_vol, high_vol), *_ = SECTOR_PROFILE[stock.sector]
        beta[j] = sector_beta * rng.uniform(0.75, 1.25)
        gamma[j] = rng.uniform(0.7, 1.3)
        daily_vol = rng.uniform(low_vol, high_vol) / np.sqrt(TRADING_DAYS)
        systematic = np.hypot(beta[j] * market_vol, gamma[j] * 0.006)
        idio[j] = np.sqrt(max(daily_vol**2 - systematic**2, (0.3 * daily_vol) ** 2))
        noise[:, j] = student_t(rng, n, df=4.0)
        earnings = np.arange(rng.integers(0, 63), n, 63)
        jumps[earnings, j] = 0.045 * student_t(rng, len(earnings), df=4.0)
    returns = 0.0001 + world.market[:, None] * beta + factor * gamma + noise * idio + jumps
    side = np.array([plan.side[t] for t in tickers], dtype=float)
    returns += plan.drift[:, None] * side
    by_ticker = {t: returns[:, j].copy() for j, t in enumerate(tickers)}
    _script_streak(plan, by_ticker)
    _script_catalyst_day(plan, by_ticker, seed)
    return by_ticker


def _script_streak(plan: Plan, returns: dict[str, np.ndarray]) -> None:
    """Exactly STREAK_LENGTH declines in a row: an up session on each side of the streak."""
    if not plan.streak:
        return
    r = returns[plan.streak_ticker]
    days = list(plan.streak)
    r[days] = -np.abs(r[days]) - 0.003
    for edge in (days[0] - 1, days[-1] + 1):
        if 0 <= edge < len(r):
            r[edge] = np.abs(r[edge]) + 0.003


def _script_catalyst_day(plan: Plan, returns: dict[str, np.ndarray], seed: int) -> None:
    """Defense names close 6-8% higher on the catalyst day (before their sector ETF is built)."""
    if plan.catalyst is None:
        return
    rng = stream(seed, "catalyst")
    for ticker in plan.defense:
        returns[ticker][plan.catalyst] = np.log1p(rng.uniform(0.06, 0.08))


def _sector_returns(securities, stock_returns, world: _World, plan: Plan, seed: int) -> dict[str, np.ndarray]:
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
        rest += 0.002 * stream(seed, f"rest:{name}").standard_normal(n)
        rest_weight = 8 / (len(members) + 8)
        total = rest_weight * np.expm1(rest)
        if members:
            caps = np.array([stream(seed, f"cap:{t}").lognormal(0.0, 1.0) for t in members])
            weights = (1 - rest_weight) * caps / caps.sum()
            total += np.column_stack([np.expm1(stock_returns[t]) for t in members]) @ weights
        totals[name] = total
    return totals


def _composite_returns(sector_total, world: _World, plan: Plan, seed: int) -> dict[str, np.ndarray]:
    """Simple daily returns of the broad benchmarks, built from the sector returns."""
    n = len(world.market)

    def mix(weights: Mapping[str, float]) -> np.ndarray:
        total = sum(weights.values())
        return sum(w / total * sector_total[s] for s, w in weights.items())

    spy = mix({s: p[2] for s, p in SECTOR_PROFILE.items()})
    equal = mix({s: p[3] for s, p in SECTOR_PROFILE.items()}) + 0.3 * world.size
    small = (
        1.1 * world.market + world.size + 0.25 * (world.sectors["Financials"] + world.sectors["Industrials"])
        + 0.004 * stream(seed, "small caps").standard_normal(n) + plan.drift
    )
    return {
        "SPY": spy, "RSP": equal, "IWM": np.expm1(small),
        **{name: mix(weights) for name, weights in BENCHMARK_SECTOR_MIX.items()},
    }


def _benchmark_returns(ticker: str, composites, seed: int) -> np.ndarray:
    base = composites.get(INDEX_TRACKS.get(ticker, ticker), composites["SPY"])
    tracking = 0.0002 if ticker in composites or ticker in INDEX_TRACKS else 0.002
    return np.log1p(base) + tracking * stream(seed, ticker).standard_normal(len(base))


def _cross_asset_returns(ticker: str, world: _World, seed: int) -> np.ndarray:
    n = len(world.market)
    rng = stream(seed, ticker)
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
        return 1.4 * world.gold + 0.011 * student_t(rng, n)
    return 0.015 * student_t(rng, n)


def _opening_gaps(ticker: str, returns: np.ndarray, seed: int) -> np.ndarray:
    """Log open over the previous close: about half the day's move happens overnight."""
    rng = stream(seed, f"gap:{ticker}")
    return 0.5 * returns + 0.25 * returns.std() * rng.standard_normal(len(returns))




# --- prices -------------------------------------------------------------------------------------

def simulated_prices(tickers, returns, gaps, securities, seed: int):
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
    shocks = np.abs(np.stack([stream(seed, f"range:{t}").standard_normal((2, n)) for t in tickers], axis=-1))
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
    rng = stream(seed, f"level:{security.ticker}")
    if security.kind == "stock":
        return float(np.exp(rng.uniform(np.log(15), np.log(600))))
    return float(rng.uniform(40, 200))


def _dividends(tickers, securities, n: int, seed: int) -> np.ndarray:
    """log(1 - yield) on quarterly ex-dates of about a third of the stocks, 0 elsewhere."""
    logs = np.zeros((n, len(tickers)))
    for j, ticker in enumerate(tickers):
        rng = stream(seed, f"dividend:{ticker}")
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
        rng = stream(seed, f"volume:{ticker}")
        base[j], noise[:, j] = rng.lognormal(np.log(5e6), 1.0), rng.standard_normal(n)
    surprise = np.minimum(0.35 * (r / vol) ** 2, 7.0)
    return base * np.exp(0.3 * noise) * (1 + surprise)


def long_frame(tickers, days, prices) -> pd.DataFrame:
    n, k = len(days), len(tickers)
    frame = pd.DataFrame({
        "ticker": np.repeat(np.array(tickers, dtype=object), n),
        "date": np.tile(pd.to_datetime(days).to_numpy(dtype="datetime64[ns]"), k),
    })
    for name in ("open", "high", "low", "close", "adj_close", "volume"):
        frame[name] = prices[name].T.reshape(-1)
    return frame
