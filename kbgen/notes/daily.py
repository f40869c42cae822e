"""The daily note: one market session, `Daily/YYYY-MM-DD.md`.

Its sections are the note parts registered for "daily" (see `registry` and `parts/`).
"""
from __future__ import annotations

from ..model import MarketDay, RenderedNote
from .common import DAILY_FOLDER, VaultIndex, rotation_tag
from .context import NoteContext
from .registry import PartInput, note_blocks


def rotation_tags(day: MarketDay, ctx: NoteContext) -> list[str]:
    """A tag per rotation episode whose span holds the session: the one the note shows, and those
    detected later whose trough came before it (`ctx.rotation_spans`, known as of the build)."""
    starts = {start for start, end in ctx.rotation_spans if start <= day.date and (end is None or day.date <= end)}
    if day.episode:
        starts.add(day.episode.start)
    return [rotation_tag(start) for start in sorted(starts)]


def build_daily(day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer, chart_files: list[str],
                concept_summary: str | None) -> RenderedNote:
    iso = day.date.isoformat()
    title = f"{iso} {day.date:%A}"
    inputs = PartInput(day, ctx, ix, tuple(chart_files), concept_summary)
    body = renderer.render("daily.md.j2", **ix.base_values(), title=title, as_of=iso,
                           blocks=note_blocks("daily", inputs))
    movers = {m.ticker for m in (*day.winners, *day.losers)}
    meta = ix.frontmatter("daily", iso, title, tickers=sorted(movers), tags=[f"year/{day.date.year}", *rotation_tags(day, ctx)],
                          aliases=[f"{day.date:%B} {day.date.day}, {day.date.year}"])
    return RenderedNote(path=f"{DAILY_FOLDER}/{iso}.md", frontmatter=meta, body=body)
