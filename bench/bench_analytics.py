"""Time the analytics on a synthetic market: 500 stocks in 11 sectors with ETFs and benchmarks,
two years of sessions. Prints Analyzer construction time and day() time for one date and a range.

    python bench/bench_analytics.py [--stocks 500] [--sessions 504]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kbgen.analytics import Analyzer, PricePanel
from kbgen.config import GICS_SECTORS, parse_config

ETFS = ("XLC", "XLY", "XLP", "XLE", "XLF", "XLV", "XLI", "XLB", "XLRE", "XLK", "XLU")


def synthetic(stocks: int, sessions: int, seed: int = 1) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-02", periods=sessions)
    names = [f"S{i:03d}" for i in range(stocks)]
    tickers = [*names, *ETFS, "SPY", "RSP", "QQQ", "IWM"]
    steps = rng.normal(0.0003, 0.015, (sessions, len(tickers)))
    close = 100 * np.cumprod(1 + steps, axis=0)
    opens = close * (1 + rng.normal(0, 0.004, close.shape))
    frame = pd.DataFrame({
        "ticker": np.repeat(tickers, sessions), "date": np.tile(dates, len(tickers)),
        "open": opens.T.ravel(), "high": np.maximum(opens, close).T.ravel(), "low": np.minimum(opens, close).T.ravel(),
        "close": close.T.ravel(), "adj_close": close.T.ravel(), "volume": rng.uniform(1e5, 1e7, close.size),
    })
    lines = ["universe:", "  sectors:"]
    for k, (sector, etf) in enumerate(zip(GICS_SECTORS, ETFS)):
        members = ", ".join(f"{n}: Company {n}" for n in names[k::len(ETFS)])
        lines.append(f"    {sector}: {{etf: {etf}, members: {{{members}}}}}")
    lines += ["  benchmarks: {SPY: S&P 500, RSP: Equal weight, QQQ: Nasdaq, IWM: Russell 2000}",
              "  groups:", f"    Basket A: [{', '.join(names[:7])}]", f"    Basket B: [{', '.join(names[7:20])}]",
              "    Small caps: [IWM]"]
    return frame, "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stocks", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=504)
    args = parser.parse_args()
    frame, config_text = synthetic(args.stocks, args.sessions)
    config = parse_config(config_text, Path("bench/kbgen.yml"))
    started = time.perf_counter()
    panel = PricePanel.from_long(frame)
    built_panel = time.perf_counter()
    analyzer = Analyzer(panel, config)
    built = time.perf_counter()
    analyzer.day(analyzer.sessions[-1])
    one = time.perf_counter()
    for day in analyzer.sessions[-21:]:
        analyzer.day(day)
    month = time.perf_counter()
    print(f"{args.stocks} stocks x {args.sessions} sessions ({len(frame):,} rows)")
    print(f"panel {built_panel - started:.2f}s, Analyzer {built - built_panel:.2f}s, "
          f"first day() {one - built:.3f}s, 21 more days {month - one:.2f}s ({(month - one) / 21:.3f}s each)")
    print(f"one date end to end: {one - started:.2f}s; a month of dates: {month - started:.2f}s")


if __name__ == "__main__":
    main()
