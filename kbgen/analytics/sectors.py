"""The sector board: each sector's ETF against the benchmark, ranked, with its members' breadth."""
from __future__ import annotations

import pandas as pd


def excess_returns(returns: dict[str, pd.DataFrame], benchmark: str) -> dict[str, pd.DataFrame]:
    """Per window: every ticker's return minus the benchmark's return over the same window."""
    if not returns or benchmark not in next(iter(returns.values())).columns:
        return {w: frame * float("nan") for w, frame in returns.items()}
    return {w: frame.sub(frame[benchmark], axis=0) for w, frame in returns.items()}


def sector_ranks(excess_1d: pd.DataFrame, etfs: dict[str, str]) -> pd.DataFrame:
    """Rank of each sector by its ETF's 1D excess (1 = best) at every session; NaN without data."""
    present = {sector: etf for sector, etf in etfs.items() if etf in excess_1d.columns}
    moves = pd.DataFrame({sector: excess_1d[etf] for sector, etf in present.items()}, index=excess_1d.index)
    return moves.reindex(columns=list(etfs)).rank(axis=1, ascending=False, method="min")


def rank_changes(ranks: pd.DataFrame, sessions_back: int) -> pd.DataFrame:
    """Places gained since `sessions_back` sessions earlier (positive = moved up the board)."""
    return ranks.shift(sessions_back) - ranks


def member_breadth(returns_1d: pd.DataFrame, members: dict[str, list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(equal-weight mean 1D of each sector's members, share of them that rose) at every session.

    Only members with a 1D return that day count; NaN when none has one.
    """
    means, shares = {}, {}
    for sector, tickers in members.items():
        present = [t for t in tickers if t in returns_1d.columns]
        moves = returns_1d[present]
        counted = moves.notna().sum(axis=1)
        means[sector] = moves.mean(axis=1)
        shares[sector] = (moves > 0).sum(axis=1).where(counted > 0) / counted.where(counted > 0)
    index = returns_1d.index
    return pd.DataFrame(means, index=index), pd.DataFrame(shares, index=index)
