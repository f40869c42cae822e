"""Home: the latest session, the rotation, the sector board in brief, theses, catalysts, browsing."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..common import Ref
from ..registry import PartInput, part
from .sector_board import SectorBoardRow, board_rows

RECENT_CATALYSTS = 5


@dataclass(frozen=True)
class HomeOverview:
    latest: Ref                        # the latest daily note
    rotation: Ref | None               # the rotation concept note, if an episode is known
    rotation_label: str                # "Current rotation" or "Latest rotation"
    rotation_summary: str | None


@part("home_overview", notes={"home"}, order=10, block="home")
def home_overview(inputs: PartInput) -> HomeOverview:
    episode = inputs.day.episode
    return HomeOverview(inputs.ix.daily(inputs.day.date), inputs.ix.concept_ref(),
                        "Current rotation" if episode is not None and episode.ongoing else "Latest rotation",
                        inputs.concept_summary)


@dataclass(frozen=True)
class HomeSectors:
    rows: tuple[SectorBoardRow, ...]   # the daily sector board's rows, best 1D excess first
    etfs: tuple[Ref, ...]              # each row's ETF, linking its sector note
    benchmark: str


@part("home_sectors", notes={"home"}, order=20, block="home")
def home_sectors(inputs: PartInput) -> HomeSectors:
    etfs = tuple(inputs.ix.sector_etf(s.sector) for s in inputs.day.sectors)
    return HomeSectors(board_rows(inputs), etfs, inputs.ctx.config.analysis.benchmark)


@dataclass(frozen=True)
class ThesisStatus:
    thesis: Ref
    label: str | None                  # None: no impact computed
    rationale: str | None


@dataclass(frozen=True)
class HomeTheses:
    rows: tuple[ThesisStatus, ...]


@part("home_theses", notes={"home"}, order=30, block="home")
def home_theses(inputs: PartInput) -> HomeTheses:
    impacts = {i.thesis: i for i in inputs.day.impacts}
    return HomeTheses(tuple(
        ThesisStatus(inputs.ix.thesis(t.name), getattr(impacts.get(t.name), "label", None),
                     getattr(impacts.get(t.name), "rationale", None))
        for t in inputs.ctx.theses))


@dataclass(frozen=True)
class DatedRef:
    ref: Ref
    date: dt.date


@dataclass(frozen=True)
class HomeBrowse:
    catalysts: tuple[DatedRef, ...]    # the latest RECENT_CATALYSTS catalyst notes, newest first
    sectors: tuple[Ref, ...]
    groups: tuple[Ref, ...]


@part("home_browse", notes={"home"}, order=40, block="home")
def home_browse(inputs: PartInput) -> HomeBrowse:
    day, ctx, ix = inputs.day, inputs.ctx, inputs.ix
    recent = sorted((c for c in ctx.catalysts if c.date <= day.date), key=lambda c: (c.date, c.name), reverse=True)
    return HomeBrowse(tuple(DatedRef(ix.catalyst(c.name), c.date) for c in recent[:RECENT_CATALYSTS]),
                      tuple(ix.sector(s) for s in ctx.config.universe.sectors),
                      tuple(ix.group(g) for g in ctx.config.universe.groups))
