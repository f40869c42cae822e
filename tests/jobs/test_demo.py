"""The simulated market: deterministic, complete, consistent, and carrying its scripted story."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from kbgen.config import GICS_SECTORS, Security
from kbgen.exchange import sessions_ending
from kbgen.sources.demo import Rotation, simulate, simulate_market

END = dt.date(2026, 1, 30)
SESSIONS = 300


def _universe() -> dict[str, Security]:
    sectors = {
        "Information Technology": ("XLK", ["AAPL", "MSFT", "NVDA", "AMD", "ORCL"]),
        "Communication Services": ("XLC", ["GOOGL", "META", "NFLX"]),
        "Consumer Discretionary": ("XLY", ["AMZN", "TSLA", "HD"]),
        "Industrials": ("XLI", ["LMT", "NOC", "GD", "RTX", "CAT", "UNP"]),
        "Financials": ("XLF", ["JPM", "BAC", "GS"]),
        "Energy": ("XLE", ["XOM", "CVX"]),
        "Utilities": ("XLU", ["NEE", "DUK", "SO"]),
    }
    universe = {}
    for sector, (etf, members) in sectors.items():
        universe[etf] = Security(etf, f"{sector} ETF", "sector_etf", sector)
        universe.update({t: Security(t, t.title(), "stock", sector) for t in members})
    for ticker, kind in [("SPY", "benchmark"), ("RSP", "benchmark"), ("QQQ", "benchmark"), ("IWM", "benchmark"),
                         ("DIA", "benchmark"), ("^GSPC", "index"), ("^RUT", "index"), ("^VIX", "cross_asset"),
                         ("^TNX", "cross_asset"), ("GC=F", "cross_asset"), ("CL=F", "cross_asset")]:
        universe[ticker] = Security(ticker, ticker, kind)
    return universe


@pytest.fixture(scope="module")
def market():
    return simulate(_universe(), END, sessions=SESSIONS, seed=11)


@pytest.fixture(scope="module")
def wide(market):
    return market.prices.pivot(index="date", columns="ticker", values="adj_close")


def test_same_seed_gives_the_same_bytes_and_another_seed_differs():
    first = simulate_market(_universe(), END, sessions=120, seed=3).to_csv(index=False)
    again = simulate_market(_universe(), END, sessions=120, seed=3).to_csv(index=False)
    other = simulate_market(_universe(), END, sessions=120, seed=4).to_csv(index=False)
    assert first == again
    assert first != other


def test_a_ticker_path_does_not_depend_on_the_rest_of_the_universe():
    full = simulate_market(_universe(), END, sessions=120, seed=3)
    smaller = {t: s for t, s in _universe().items() if t != "HD"}
    part = simulate_market(smaller, END, sessions=120, seed=3)
    pick = lambda frame: frame[frame.ticker == "NEE"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(pick(full), pick(part))


def test_every_security_has_every_session_and_no_market_holiday(market):
    frame = market.prices
    assert list(frame.columns) == ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
    assert set(frame.ticker) == set(_universe())
    days = sorted(frame.date.unique())
    assert len(days) == SESSIONS and frame.groupby("ticker").size().eq(SESSIONS).all()
    assert not frame.duplicated(["ticker", "date"]).any()
    assert days[-1] == pd.Timestamp(END)
    assert all(pd.Timestamp(d).weekday() < 5 for d in days)
    for holiday in ("2025-07-04", "2025-11-27", "2025-12-25", "2026-01-01", "2026-01-19"):
        assert pd.Timestamp(holiday) not in set(days)


def test_the_demo_follows_the_exchange_calendar():
    days = set(sessions_ending(dt.date(2025, 12, 31), 260))
    for holiday in ("2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
                    "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25"):
        assert dt.date.fromisoformat(holiday) not in days
    assert dt.date(2025, 1, 9) not in days   # closed for the national day of mourning for President Carter
    assert sessions_ending(dt.date(2026, 1, 4), 2) == [dt.date(2025, 12, 31), dt.date(2026, 1, 2)]


def test_ohlc_is_consistent_and_positive(market):
    frame = market.prices
    prices = frame[["open", "high", "low", "close", "adj_close"]]
    assert (prices > 0).all().all()
    assert (frame.low <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame.high >= frame[["open", "close"]].max(axis=1)).all()
    quoted = frame[~frame.ticker.isin(["^VIX", "^TNX"])]
    assert quoted.volume.gt(0).all() and frame[frame.ticker == "^VIX"].volume.isna().all()
    gaps = frame.open / frame.groupby("ticker").close.shift() - 1
    assert gaps.abs().median() > 0.001          # opens are not simply yesterday's close


def test_volatility_and_cross_assets_are_plausible(wide):
    returns = np.log(wide).diff().dropna()
    annual = returns.std() * np.sqrt(252)
    stocks = [t for t, s in _universe().items() if s.kind == "stock"]
    assert 0.18 < annual[stocks].median() < 0.45
    assert annual["SPY"] < annual[stocks].median() and annual["XLU"] < annual["XLK"]
    assert returns["SPY"].corr(returns["^GSPC"]) > 0.99 and returns["SPY"].corr(returns["QQQ"]) > 0.8
    assert returns["SPY"].corr(returns["^VIX"]) < -0.2      # fear rises when the market falls
    assert 10 < wide["^VIX"].mean() < 25 and wide["^TNX"].between(2.5, 6).all()


def _spread(wide: pd.DataFrame, script) -> pd.Series:
    """Cumulative log excess of the scripted 'into' stocks over the 'out of' stocks, scripted names aside."""
    stocks = {t for t, s in _universe().items() if s.kind == "stock"} - {"AAPL", "LMT", "NOC", "GD", "RTX"}
    into = [t for t in script.into if t in stocks]
    out = [t for t in script.out_of if t in stocks]
    logs = np.log(wide)
    return logs[into].mean(axis=1) - logs[out].mean(axis=1)


def test_the_rotation_moves_money_by_the_scripted_size_and_nothing_before(market, wide):
    script = market.script
    plain = simulate(_universe(), END, sessions=SESSIONS, seed=11, rotation=False)
    assert plain.script.rotation_start is None and plain.script.into == ()
    plain_wide = plain.prices.pivot(index="date", columns="ticker", values="adj_close")
    scripted_part = _spread(wide, script) - _spread(plain_wide, script)
    scripted_part -= scripted_part.iloc[0]   # adjusted closes are anchored at the end; compare changes
    days = list(wide.index)
    start = days.index(pd.Timestamp(script.rotation_start))
    before, lead_in_start = scripted_part.iloc[start - 1], start - 63
    assert scripted_part.iloc[:lead_in_start].abs().max() < 1e-3
    assert before == pytest.approx(-Rotation().prior_lead, abs=2e-3)             # the losers led first
    assert scripted_part.iloc[-1] - before == pytest.approx(Rotation().size, abs=2e-3)
    first, last = (days.index(pd.Timestamp(d)) for d in script.acceleration)
    assert last - first == 4
    burst = scripted_part.iloc[last] - scripted_part.iloc[first - 1]
    assert burst == pytest.approx(0.6 * Rotation().size, abs=2e-3)              # most of it in 5 sessions
    spread = _spread(wide, script)
    assert spread.iloc[-1] - spread.iloc[start - 1] > 0.5 * Rotation().size   # visible above the noise
    etfs = np.log(wide[["XLI", "XLF", "XLE"]]).mean(axis=1) - np.log(wide[["XLK", "XLC"]]).mean(axis=1)
    assert etfs.iloc[-1] - etfs.iloc[start - 1] > 0.05


def test_rotation_can_be_moved_and_resized():
    custom = Rotation(start_offset=40, length=20, size=0.3, prior_lead=0.0)
    market = simulate(_universe(), END, sessions=150, seed=11, rotation=custom)
    days = sessions_ending(END, 150)
    assert market.script.rotation_start == days[-40] and market.script.rotation_end == days[-21]
    with pytest.raises(ValueError, match="rotation=False"):
        simulate(_universe(), END, sessions=30, rotation=custom)
    with pytest.raises(ValueError, match="length"):
        Rotation(start_offset=10, length=20)


def test_defense_jumps_on_the_catalyst_day_with_a_fading_gap(market, wide):
    day = pd.Timestamp(market.script.catalyst_day)
    assert market.script.defense == ("LMT", "NOC", "GD", "RTX")
    moves = wide.pct_change().loc[day, list(market.script.defense)]
    assert moves.between(0.06, 0.08).all()
    frame = market.prices.set_index(["ticker", "date"])
    previous = wide.index[wide.index.get_loc(day) - 1]
    for ticker in market.script.defense:
        opened = frame.loc[(ticker, day), "open"] / frame.loc[(ticker, previous), "close"] - 1
        assert opened > moves[ticker]


def test_apple_falls_exactly_seven_sessions_in_a_row_up_to_the_catalyst_day(market, wide):
    script = market.script
    assert script.streak_ticker == "AAPL" and len(script.streak) == 7
    assert script.streak[-1] == script.catalyst_day
    change = wide["AAPL"].diff()
    streak = [pd.Timestamp(d) for d in script.streak]
    assert (change.loc[streak] < 0).all()
    assert wide.pct_change().loc[streak[-1], "XLI"] > 0.01       # the defense jump shows in its sector ETF
    position = wide.index.get_loc(streak[0])
    assert change.iloc[position - 1] > 0 and change.iloc[position + 7] > 0


def test_one_stock_splits_four_for_one_in_close_only(market):
    script = market.script
    rows = market.prices[market.prices.ticker == script.split_ticker].set_index("date")
    day = pd.Timestamp(script.split_date)
    position = rows.index.get_loc(day)
    close_ratio = rows.close.iloc[position] / rows.close.iloc[position - 1]
    adjusted_ratio = rows.adj_close.iloc[position] / rows.adj_close.iloc[position - 1]
    assert close_ratio == pytest.approx(0.25, rel=0.2) and 0.85 < adjusted_ratio < 1.15
    assert (rows.close.iloc[:position] / rows.adj_close.iloc[:position]).round(3).eq(4).all()
    other_days = rows.close.pct_change().drop(day).dropna()
    assert other_days.abs().max() < 0.3


def test_some_stocks_have_dividend_adjustments_and_etfs_none(market):
    frame = market.prices
    ratio = (frame.adj_close / frame.close).groupby(frame.ticker)
    payers = [t for t, r in ratio if r.min() < 0.999 and t != market.script.split_ticker]
    assert payers and all(_universe()[t].kind == "stock" for t in payers)
    last = frame.groupby("ticker").tail(1)
    assert (last.adj_close == last.close).all()


def test_five_hundred_stocks_take_a_couple_of_seconds():
    universe = {}
    for i in range(500):
        sector = GICS_SECTORS[i % 11]
        universe[f"S{i:03d}"] = Security(f"S{i:03d}", f"Stock {i}", "stock", sector)
    universe.update({f"E{j}": Security(f"E{j}", s, "sector_etf", s) for j, s in enumerate(GICS_SECTORS)})
    universe["SPY"] = Security("SPY", "S&P 500", "benchmark")
    started = time.perf_counter()
    frame = simulate_market(universe, END, sessions=504)
    elapsed = time.perf_counter() - started
    assert len(frame) == 512 * 504
    assert elapsed < 3.0, f"took {elapsed:.2f}s"
