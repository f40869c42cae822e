"""Managed blocks inside researchers' own notes: a thesis's impact history, a catalyst's movers."""
from __future__ import annotations

from ..model import Catalyst, MarketDay, RenderedNote, Thesis
from .common import VaultIndex
from .context import NoteContext


def build_thesis_impact(thesis: Thesis, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    """Block "impact": today's label and rationale, then one history row per session up to today."""
    current = next((i for i in day.impacts if i.thesis == thesis.name), None)
    history = {d: impact for d, impact in ctx.impact_history.get(thesis.name, ()) if d <= day.date}
    if current:
        history[day.date] = current
    rows = [{"date": ix.daily(d), "impact": history[d]} for d in sorted(history, reverse=True)]
    body = renderer.render(
        "thesis_impact.md.j2", **ix.base_values(), as_of=day.date.isoformat(), current=current, rows=rows,
        legs=[{"ref": ix.ticker(leg.ticker), "leg": leg} for leg in thesis.legs], thesis_benchmark=thesis.benchmark,
        concept=ix.concept_ref(), rotation_label="Current" if day.episode and day.episode.ongoing else "Latest",
    )
    return RenderedNote(path=f"Theses/{thesis.name}.md", frontmatter={}, body=body, owned_by_researcher=True)


def explained_moves(catalyst: Catalyst, day: MarketDay, ctx: NoteContext, ix: VaultIndex) -> list[dict]:
    """Movers the catalyst explains: today's movers naming it, and earlier mover days of its tickers
    within `analysis.catalyst_window_sessions` daily sessions on or after its date."""
    window = ctx.config.analysis.catalyst_window_sessions
    sessions = sorted(d for d in ix.daily_dates if catalyst.date <= d <= day.date)[: window + 1]
    found = {}
    for ticker in catalyst.tickers:
        for d, kind, move in ctx.mover_history.get(ticker, ()):
            if d in sessions:
                found[(d, ticker)] = (kind, move)
    for kind, movers in (("winner", day.winners), ("loser", day.losers)):
        for m in movers:
            if catalyst.name in m.catalysts:
                found[(day.date, m.ticker)] = (kind, m.move)
    return [{"date": ix.daily(d), "ref": ix.ticker(t), "kind": kind, "move": move}
            for (d, t), (kind, move) in sorted(found.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True)]


def build_catalyst_movers(catalyst: Catalyst, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    body = renderer.render(
        "catalyst_movers.md.j2", **ix.base_values(), as_of=day.date.isoformat(), catalyst=catalyst,
        rows=explained_moves(catalyst, day, ctx, ix), window=ctx.config.analysis.catalyst_window_sessions,
    )
    return RenderedNote(path=f"Catalysts/{catalyst.name}.md", frontmatter={}, body=body, owned_by_researcher=True)
