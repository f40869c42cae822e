"""Recompute a sample of the engine's figures with plain pandas and compare, session by session.

    python scripts/qa_real_data.py PRICES_CSV CONFIG [--from 2025-12-01] [--to 2026-01-31]

PRICES_CSV is a long file (date,ticker,open,high,low,close,adj_close,volume). The check works on
each ticker's own rows (no shared calendar, no engine code): 1D / 1W / 1M / 3M / 1Y / MTD / YTD
returns, 1W excess over the benchmark, advancers and decliners, and for every mover the streak,
record high, gap and relative volume. Tickers not quoted on exactly the benchmark's sessions
(spot series, with gaps or extra days) are left out. Exit status 1 on any mismatch.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from kbgen.analytics import Analyzer, PricePanel
from kbgen.config import load_config

TOLERANCE = 1e-9
SESSION_WINDOWS = {"1D": 1, "1W": 5, "1M": 21, "3M": 63, "1Y": 252}
WINDOWS = (*SESSION_WINDOWS, "MTD", "YTD")


def independent(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per ticker, on its own rows: the reference figures."""
    out = {}
    for ticker, rows in frame.groupby("ticker"):
        rows = rows.sort_values("date").set_index("date")
        price = rows["adj_close"] if rows["adj_close"].notna().all() else rows["close"]
        ref = pd.DataFrame(index=rows.index)
        for window, sessions in SESSION_WINDOWS.items():
            ref[window] = price / price.shift(sessions) - 1
        ref["MTD"] = price / _last_close_before(price, price.index.to_period("M")) - 1
        ref["YTD"] = price / _last_close_before(price, price.index.to_period("Y")) - 1
        direction = np.sign(price.diff()).fillna(0).to_numpy()
        streak = np.zeros(len(direction), dtype=int)
        for i in range(1, len(direction)):
            same = direction[i] != 0 and direction[i] == direction[i - 1]
            streak[i] = streak[i - 1] + int(direction[i]) if same else int(direction[i])
        ref["streak"] = streak
        ref["record_high"] = price >= price.cummax().shift(1)
        ratio = price / rows["close"]
        ref["gap"] = rows["open"] * ratio / price.shift(1) - 1
        volume = rows["volume"].where(rows["volume"] > 0)
        ref["relative_volume"] = volume / volume.shift(1).rolling(20).mean()
        out[ticker] = ref
    return out


def _last_close_before(price: pd.Series, periods: pd.PeriodIndex) -> np.ndarray:
    """For each row, the last close of the period (month or year) before its own."""
    last_of = price.groupby(periods).last()
    previous = {period: last_of[last_of.index < period].iloc[-1] if (last_of.index < period).any() else np.nan
                for period in last_of.index}
    return np.array([previous[p] for p in periods])


def close_enough(engine, reference) -> bool:
    if engine is None or (isinstance(engine, float) and np.isnan(engine)):
        return reference is None or pd.isna(reference)
    if reference is None or pd.isna(reference):
        return False
    if isinstance(engine, (bool, np.bool_)):
        return bool(engine) == bool(reference)
    return abs(float(engine) - float(reference)) <= TOLERANCE * max(1.0, abs(float(reference)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prices", type=Path)
    parser.add_argument("config", type=Path)
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, default=dt.date(2025, 12, 1))
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, default=dt.date(2026, 1, 31))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    frame = pd.read_csv(args.prices, parse_dates=["date"])
    benchmark = config.analysis.benchmark
    calendar = pd.DatetimeIndex(sorted(set(frame.loc[frame.ticker == benchmark, "date"])))
    # Tickers quoted on exactly the benchmark's sessions over their own span: a window of N
    # sessions is then N of their own rows back (a series with gaps, like a spot price, is not).
    on_calendar = [t for t, d in frame.groupby("ticker")["date"]
                   if set(d) == set(calendar[(calendar >= d.min()) & (calendar <= d.max())])]
    reference = independent(frame[frame.ticker.isin(on_calendar)])
    analyzer = Analyzer(PricePanel.from_long(frame, benchmark), config)
    days = [d for d in analyzer.sessions if args.start <= d <= args.end]
    checked, mismatches = 0, []

    def check(what: str, engine, expected) -> None:
        nonlocal checked
        checked += 1
        if not close_enough(engine, expected):
            mismatches.append(f"{what}: engine {engine!r} vs pandas {expected!r}")

    for day in days:
        market = analyzer.day(day)
        when = pd.Timestamp(day)
        bench_ref = reference[benchmark].loc[when]
        for ticker, ref in reference.items():
            if when not in ref.index:
                continue
            row = ref.loc[when]
            for window in WINDOWS:
                check(f"{day} {ticker} {window}", market.returns[ticker].get(window), row[window])
        for sector in market.sectors:
            if sector.etf in reference and when in reference[sector.etf].index:
                expected = reference[sector.etf].loc[when, "1W"] - bench_ref["1W"]
                check(f"{day} {sector.etf} 1W excess", sector.excess.get("1W"), expected)
        moves = [reference[t].loc[when, "1D"] for t in analyzer.stocks if t in reference and when in reference[t].index]
        check(f"{day} advancers", market.breadth.advancers, sum(m > 0 for m in moves))
        check(f"{day} decliners", market.breadth.decliners, sum(m < 0 for m in moves))
        for mover in (*market.winners, *market.losers):
            row = reference[mover.ticker].loc[when]
            check(f"{day} {mover.ticker} streak", mover.streak, row["streak"])
            check(f"{day} {mover.ticker} record high", mover.record_high, row["record_high"])
            check(f"{day} {mover.ticker} gap", mover.gap, row["gap"])
            check(f"{day} {mover.ticker} relative volume", mover.relative_volume, row["relative_volume"])
    for line in mismatches[:50]:
        print("MISMATCH", line)
    print(f"{len(days)} sessions {args.start}..{args.end}, {len(reference)} tickers, "
          f"{checked} figures checked, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
