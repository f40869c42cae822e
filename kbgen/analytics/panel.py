"""Wide price frames on one session calendar, built from the store's long frame.

The calendar is the benchmark's own dates (or, without a benchmark, the union of the dates of
exchange-traded tickers: those with an open price), never a weekday grid, so holidays stay out.
Tickers on the calendar keep their holes (NaN: no invented prices). Tickers on another calendar
(spot series quoted on holidays or weekends) take, for each session, their last value on or
before it, and nothing after their own last date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

FIELDS = ("open", "close", "volume")  # what the analytics read; high and low stay in the store
# A close-only ticker whose close jumps by a whole split ratio in one session (within this
# tolerance) is read as a split: earlier closes are divided by the ratio, as adj_close would be.
SPLIT_RATIOS = (2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 25, 30, 40, 50)
REVERSE_SPLIT_RATIOS = tuple(r for r in SPLIT_RATIOS if r >= 3)   # a 1-for-2 is rarer than a +100% day
SPLIT_TOLERANCE = 0.03


@dataclass(frozen=True)
class PricePanel:
    """Wide frames indexed by session date (Timestamp), one column per ticker.

    `adj` is adj_close where present, else close. `close_basis` lists tickers with no adj_close at
    all (returns use their close); tickers missing adj_close on only some rows get it filled in
    from the adjustment ratio adj/close of the nearest row.
    """

    adj: pd.DataFrame
    open: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    first_dates: dict[str, dt.date]
    last_dates: dict[str, dt.date]
    close_basis: tuple[str, ...] = ()
    suspected_splits: tuple[tuple[str, dt.date, float], ...] = ()   # (ticker, first session after, ratio)

    @property
    def sessions(self) -> pd.DatetimeIndex:
        return self.adj.index

    @property
    def tickers(self) -> list[str]:
        return list(self.adj.columns)

    @classmethod
    def from_long(cls, frame: pd.DataFrame, benchmark: str | None = "SPY") -> "PricePanel":
        """Pivot a long frame (ticker, date, open, high, low, close, adj_close, volume)."""
        if frame.empty:
            raise ValueError("no price rows to analyse; fetch or import prices first (kbgen fetch / kbgen import)")
        rows = frame.copy()
        rows["date"] = pd.to_datetime(rows["date"]).dt.normalize()
        rows = rows.dropna(subset=["close"]).drop_duplicates(["ticker", "date"], keep="last")
        fields = [*FIELDS, "adj_close"]
        # one reshape for every field: six pivots would factorize the (date, ticker) pairs six times
        stacked = rows.set_index(["date", "ticker"])[fields].astype(float).unstack("ticker").sort_index()
        wide = {f: stacked[f] for f in fields}
        calendar = _calendar(wide, benchmark)
        off_calendar = [t for t in wide["close"].columns if not wide["close"][t].dropna().index.isin(calendar).all()]
        aligned = {f: _align(w, calendar, off_calendar) for f, w in wide.items()}
        adj, close_basis, splits = _adjusted(aligned["adj_close"], aligned["close"])
        dates = rows.groupby("ticker")["date"]
        return cls(
            adj=adj,
            open=aligned["open"], close=aligned["close"], volume=aligned["volume"],
            first_dates={t: d.date() for t, d in dates.min().items()},
            last_dates={t: d.date() for t, d in dates.max().items()},
            close_basis=close_basis, suspected_splits=splits,
        )


def _calendar(wide: dict[str, pd.DataFrame], benchmark: str | None) -> pd.DatetimeIndex:
    close = wide["close"]
    if benchmark and benchmark in close.columns:
        return close.index[close[benchmark].notna()]
    traded = wide["open"].notna().any()
    columns = close.columns[traded] if traded.any() else close.columns
    return close.index[close[columns].notna().any(axis=1)]


def _align(wide: pd.DataFrame, calendar: pd.DatetimeIndex, off_calendar: list[str]) -> pd.DataFrame:
    out = wide.reindex(calendar)
    for ticker in off_calendar:
        own = wide[ticker].dropna()
        if own.empty:
            continue
        # last observation on or before each session, only within the ticker's own date range
        carried = own.reindex(own.index.union(calendar)).ffill().reindex(calendar)
        out[ticker] = carried.where((calendar >= own.index[0]) & (calendar <= own.index[-1]))
    return out


def _adjusted(adj_close: pd.DataFrame, close: pd.DataFrame):
    """(adjusted closes, close-basis tickers, suspected splits)."""
    has_close = close.notna()
    missing = has_close & adj_close.isna()
    none_adj = tuple(t for t in close.columns if adj_close[t].isna().all() and has_close[t].any())
    partial = tuple(t for t in close.columns if missing[t].any() and t not in none_adj)
    adj = adj_close.copy()
    splits = []
    for ticker in none_adj:
        adj[ticker], found = _undo_splits(close[ticker])
        splits += [(ticker, day, ratio) for day, ratio in found]
    for ticker in partial:
        ratio = (adj_close[ticker] / close[ticker]).ffill().bfill()
        adj[ticker] = adj_close[ticker].fillna(close[ticker] * ratio)
    adj = adj.where(has_close)
    return adj, none_adj, tuple(splits)


def _undo_splits(close: pd.Series) -> tuple[pd.Series, list[tuple[dt.date, float]]]:
    """`close` with split-sized one-session jumps taken out, and the (session, ratio) of each."""
    values = close.dropna()
    jumps = (values.shift(1) / values).iloc[1:]
    factor = np.ones(len(values))
    found = []
    for position, jump in enumerate(jumps.to_numpy(), start=1):
        ratio = _split_ratio(jump)
        if ratio is not None:
            factor[:position] /= ratio
            found.append((values.index[position].date(), ratio))
    if not found:
        return close, []
    return (values * factor).reindex(close.index), found


def _split_ratio(jump: float) -> float | None:
    """The split a close jump (previous close / close) looks like: 4.0 for 4-for-1, 0.2 for 1-for-5."""
    for ratio in SPLIT_RATIOS:
        if abs(jump / ratio - 1) <= SPLIT_TOLERANCE:
            return float(ratio)
    for ratio in REVERSE_SPLIT_RATIOS:
        if abs(jump * ratio - 1) <= SPLIT_TOLERANCE:
            return 1.0 / ratio
    return None
