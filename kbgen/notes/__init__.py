"""Note builders: turn one MarketDay into the vault's notes (RenderedNote) and chart files.

`build_notes` is the entry point. It names every note once (VaultIndex) so each link it writes
resolves to a note it also returns or to a researcher's note that exists.
"""
from __future__ import annotations

from functools import partial

from ..charts import fingerprint, rotation_chart, sector_performance_chart, spread_chart
from ..model import MarketDay, RenderedNote
from .common import CHARTS_DIR, VaultIndex
from .concept import build_concept, short_summary
from .context import Chart, NoteContext
from .daily import build_daily
from .entities import build_group, build_home, build_sector, build_stock
from .names import slug
from .researcher import build_catalyst_movers, build_thesis_impact

__all__ = ["ALL_PARTS", "Chart", "NoteContext", "build_notes"]

# What a session contributes: its daily note, the rotation concept note as of that session, and
# the notes that describe "now" (sectors, groups, stocks, Home, thesis and catalyst blocks).
ALL_PARTS = frozenset({"daily", "concept", "current"})


def daily_charts(day: MarketDay, ctx: NoteContext) -> list[Chart]:
    iso = day.date.isoformat()
    benchmark = ctx.config.analysis.benchmark
    charts = []
    if day.sectors:
        bench = day.returns.get(benchmark)
        args = (day.sectors, day.date, benchmark, bench.get("1D") if bench else None)
        charts.append(Chart(f"{CHARTS_DIR}/sectors-{iso}.svg", fingerprint("sectors", *args),
                            partial(sector_performance_chart, *args)))
    if day.rotation:
        args = (day.rotation, f"Relative rotation vs {benchmark}, weekly, as of {iso}")
        charts.append(Chart(f"{CHARTS_DIR}/rotation-{iso}.svg", fingerprint("rotation", *args),
                            partial(rotation_chart, *args)))
    return charts


def spread_charts(day: MarketDay, name: str) -> list[Chart]:
    if not day.episode.spread:
        return []
    args = (day.episode, f"Into minus out of: cumulative excess spread to {day.date.isoformat()}")
    return [Chart(f"{CHARTS_DIR}/spread-{slug(name)}.svg", fingerprint("spread", *args), partial(spread_chart, *args))]


def build_notes(
    day: MarketDay, ctx: NoteContext, renderer, parts: frozenset[str] = ALL_PARTS
) -> tuple[list[RenderedNote], list[Chart]]:
    """The notes the day touches (limited to `parts`), in a stable order, and the charts they embed.

    A backfill asks older sessions for their daily note only: drawing and rendering the notes
    about "now" for every past session would be thrown away.
    """
    ix = VaultIndex(day, ctx)
    summary = short_summary(day.episode) if day.episode else None
    charts = daily_charts(day, ctx) if parts & {"daily", "concept"} else []
    notes = []
    if "daily" in parts:
        notes.append(build_daily(day, ctx, ix, renderer, [c.file_name for c in charts], summary))
    if day.episode and "concept" in parts:
        # the concept note shows the spread and the day's rotation chart (same data, one file)
        extra = spread_charts(day, ix.concept)
        rotation = [c.file_name for c in charts if c.file_name.startswith("rotation-")]
        notes.append(build_concept(day, ctx, ix, renderer, [c.file_name for c in extra] + rotation))
        charts += extra
    if "current" not in parts:
        return notes, charts
    notes += [build_sector(s, day, ctx, ix, renderer) for s in ctx.config.universe.sectors]
    notes += [build_group(g, day, ctx, ix, renderer) for g in ctx.config.universe.groups]
    notes += [build_stock(t, day, ctx, ix, renderer) for t in ix.stocks]
    notes.append(build_home(day, ctx, ix, renderer, summary))
    notes += [build_thesis_impact(t, day, ctx, ix, renderer) for t in ctx.theses]
    notes += [build_catalyst_movers(c, day, ctx, ix, renderer) for c in ctx.catalysts if c.date <= day.date]
    return notes, charts
