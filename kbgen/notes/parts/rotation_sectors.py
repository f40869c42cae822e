"""The concept note's sectors favored and at risk, read off the relative rotation graph."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..concept import QUADRANT_READING, sector_flows
from ..registry import PartInput, part

FAVOURED = ("Leading", "Improving")


@dataclass(frozen=True)
class SectorReading:
    sector: Ref
    quadrant: str
    reading: str                       # the quadrant in words
    flow: str | None                   # its side in this rotation, e.g. "into (+3.0%)"
    rs_ratio: float
    rs_momentum: float
    on_board: bool                     # it has a row on today's sector board (the next two)
    excess_1w: float | None
    rank: int | None


@dataclass(frozen=True)
class RotationSectors:
    favoured: tuple[SectorReading, ...]  # Leading or Improving, strongest momentum first
    at_risk: tuple[SectorReading, ...]   # Weakening or Lagging, weakest momentum first
    benchmark: str


def readings(inputs: PartInput, favoured: bool) -> tuple[SectorReading, ...]:
    day = inputs.day
    board = {s.sector: s for s in day.sectors}
    flows = sector_flows(day.episode)
    rows = sorted((r for r in day.rotation if (r.quadrant in FAVOURED) == favoured),
                  key=lambda r: r.rs_momentum, reverse=favoured)
    return tuple(SectorReading(
        sector=inputs.ix.sector(r.sector), quadrant=r.quadrant, reading=QUADRANT_READING[r.quadrant],
        flow=flows.get(r.sector), rs_ratio=r.rs_ratio, rs_momentum=r.rs_momentum, on_board=r.sector in board,
        excess_1w=board[r.sector].excess.get("1W") if r.sector in board else None,
        rank=board[r.sector].rank_1d if r.sector in board else None,
    ) for r in rows)


@part("rotation_sectors", notes={"concept"}, order=50, block="sectors")
def rotation_sectors(inputs: PartInput) -> RotationSectors:
    return RotationSectors(readings(inputs, True), readings(inputs, False), inputs.ctx.config.analysis.benchmark)
