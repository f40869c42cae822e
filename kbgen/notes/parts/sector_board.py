"""The daily note's sector board: each sector ETF's returns, excess, rank and quadrant; then the
session's charts (sector performance, relative rotation)."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..lines import returns_by_window, sessions_in_words
from ..registry import PartInput, part

BOARD_WINDOWS = ("1D", "1W", "YTD")


@dataclass(frozen=True)
class SectorBoardRow:
    sector: Ref
    etf: str
    returns: dict[str, float | None]   # the ETF's return per window
    excess_1d: float | None            # ETF minus benchmark
    excess_1w: float | None
    rank: int                          # 1 = best 1D excess
    rank_change_1d: int | None         # places gained since the previous session
    rank_change_1w: int | None         # places gained over 1W
    members_up: float | None           # share of the sector's stocks that rose
    quadrant: str | None               # relative rotation quadrant


@dataclass(frozen=True)
class SectorBoard:
    rows: tuple[SectorBoardRow, ...]   # best rank first
    windows: tuple[str, ...]           # the return columns
    definitions: str


@part("sector_board", notes={"daily"}, order=20, block="sectors")
def sector_board(inputs: PartInput) -> SectorBoard:
    benchmark = inputs.ctx.config.analysis.benchmark
    definitions = (
        f"Sector ETFs; excess = ETF return minus {benchmark} over the same window; rank 1 = best 1D excess, "
        f"in brackets the places gained since the previous session and since {sessions_in_words('1W')} ago; "
        "quadrant from the relative rotation graph"
    )
    return SectorBoard(board_rows(inputs), BOARD_WINDOWS, definitions)


def board_rows(inputs: PartInput) -> tuple[SectorBoardRow, ...]:
    """The board's rows, best 1D excess first (Home shows them too)."""
    day, ix = inputs.day, inputs.ix
    return tuple(SectorBoardRow(
        sector=ix.sector(s.sector), etf=s.etf, returns=returns_by_window(s.returns),
        excess_1d=s.excess.get("1D"), excess_1w=s.excess.get("1W"), rank=s.rank_1d,
        rank_change_1d=s.rank_change_1d, rank_change_1w=s.rank_change_1w,
        members_up=s.members_up_share, quadrant=s.quadrant,
    ) for s in day.sectors)


@dataclass(frozen=True)
class SessionCharts:
    files: tuple[str, ...]             # chart files (in assets/charts) embedded in the note


@part("session_charts", notes={"daily"}, order=27, block="sectors")
def session_charts(inputs: PartInput) -> SessionCharts | None:
    return SessionCharts(inputs.charts) if inputs.charts else None
