"""A line under the daily sector board: each sector's share of members at a 52-week closing high."""
from __future__ import annotations

from dataclasses import dataclass

from ...analytics.returns import YEAR_SESSIONS
from ..common import Ref
from ..registry import PartInput, part


@dataclass(frozen=True)
class SectorShare:
    sector: Ref
    share: float | None                # None: no member has a year of history


@dataclass(frozen=True)
class SectorYearHighs:
    rows: tuple[SectorShare, ...]      # in the board's order
    year_sessions: int                 # sessions in the 52 weeks (252)


@part("sector_year_highs", notes={"daily"}, order=25, block="sectors")
def sector_year_highs(inputs: PartInput) -> SectorYearHighs | None:
    shares = inputs.day.analytics.get("sector_year_highs", {})
    rows = tuple(SectorShare(inputs.ix.sector(s.sector), shares.get(s.sector)) for s in inputs.day.sectors)
    if all(r.share is None for r in rows):
        return None  # not a year of history yet: nothing to say
    return SectorYearHighs(rows, YEAR_SESSIONS)
