"""The daily note: one market session, `Daily/YYYY-MM-DD.md`."""
from __future__ import annotations

from ..model import MarketDay, Mover, RenderedNote
from .common import VaultIndex, rotation_tag
from .context import NoteContext


def mover_rows(movers: tuple[Mover, ...], ix: VaultIndex) -> list[dict]:
    return [{"ref": ix.ticker(m.ticker), "move": m.move, "facts": m.facts,
             "catalysts": [ix.catalyst(c) for c in m.catalysts]} for m in movers]


def neighbours(day: MarketDay, ctx: NoteContext, ix: VaultIndex):
    """Previous and next daily notes, only among sessions that have one (never guessed ahead)."""
    earlier = [d for d in ctx.daily_dates if d < day.date]
    later = [d for d in ctx.daily_dates if d > day.date]
    return (ix.daily(earlier[-1]) if earlier else None, ix.daily(later[0]) if later else None)


def security_rows(tickers, day: MarketDay, ix: VaultIndex) -> list[dict]:
    return [{"ref": ix.ticker(t), "close": day.closes.get(t), "returns": day.returns[t]}
            for t in tickers if t in day.returns]


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
    previous, following = neighbours(day, ctx, ix)
    body = renderer.render(
        "daily.md.j2",
        **ix.base_values(),
        title=title,
        as_of=iso,
        prior_year=day.date.year - 1,
        prev=previous,
        next=following,
        concept=ix.concept_ref(),
        concept_summary=concept_summary,
        headline=security_rows(day.indices, day, ix),
        sectors=[{"name": ix.sector(s.sector), "row": s} for s in day.sectors],
        charts=chart_files,
        winners=mover_rows(day.winners, ix),
        losers=mover_rows(day.losers, ix),
        notable=mover_rows(day.notable, ix),
        weekly_winners=mover_rows(day.weekly_winners, ix),
        weekly_losers=mover_rows(day.weekly_losers, ix),
        cross_assets=security_rows(ctx.config.universe.cross_assets, day, ix),
        impacts=[{"ref": ix.thesis(i.thesis), "impact": i} for i in day.impacts],
        stale=[ix.ticker(t, "ticker") for t in day.stale],
        close_basis=[ix.ticker(t, "ticker") for t in day.close_basis],
        # universe tickers with no price up to this session (never fetched, or listed later)
        no_data=[ix.ticker(t, "ticker") for t in ctx.config.securities if t not in day.closes and t not in day.stale],
    )
    movers = {m.ticker for m in (*day.winners, *day.losers)}
    meta = ix.frontmatter("daily", iso, title, tickers=sorted(movers), tags=[f"year/{day.date.year}", *rotation_tags(day, ctx)],
                          aliases=[f"{day.date:%B} {day.date.day}, {day.date.year}"])
    return RenderedNote(path=f"Daily/{iso}.md", frontmatter=meta, body=body)
