"""Notes about the universe: one per sector, group and stock, plus Home."""
from __future__ import annotations

from ..model import MarketDay, RenderedNote, WindowReturns
from .common import HOME, VaultIndex
from .context import NoteContext
from .registry import PartInput, note_blocks

# Windows whose return and excess a sector, group or stock note also carries as number properties.
PROPERTY_WINDOWS = ("1D", "1W", "1M", "YTD")


def percent(value: float | None) -> float | None:
    """A return in percent, rounded as the note's tables print it (+10.24% -> 10.2; never -0.0)."""
    return None if value is None else round(value * 100, 1) + 0.0


def return_properties(returns: WindowReturns | None, excess: WindowReturns | None) -> dict:
    """`return_1w_pct`, `excess_1w_pct`... for sorting and filtering in Dataview or Bases; the same
    figures as the note's performance table (empty where the table shows none)."""
    props = {}
    for label, series in (("return", returns), ("excess", excess)):
        for window in PROPERTY_WINDOWS:
            props[f"{label}_{window.lower()}_pct"] = percent(series.get(window)) if series else None
    return props


def build_sector(sector: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    """A sector's note: its sections are the parts registered for "sector"."""
    config = ctx.config.universe.sectors[sector]
    name = ix.sector_names[sector]
    inputs = PartInput(day, ctx, ix, subject=sector)
    body = renderer.render("sector.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(),
                           blocks=note_blocks("sector", inputs))
    rotation = next((r for r in day.rotation if r.sector == sector), None)
    properties = {**return_properties(day.returns.get(config.etf), day.excess.get(config.etf)),
                  "quadrant": rotation.quadrant if rotation else None}
    meta = ix.frontmatter("sector", sector, name, tickers=[config.etf, *config.members], sector=sector,
                          tags=[ix.sector_tag(sector)], aliases=[config.etf], properties=properties)
    return RenderedNote(path=f"Sectors/{name}.md", frontmatter=meta, body=body)


def build_group(group: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    """A group's note: its sections are the parts registered for "group"."""
    name = ix.group_names[group]
    inputs = PartInput(day, ctx, ix, subject=group)
    body = renderer.render("group.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(),
                           blocks=note_blocks("group", inputs))
    meta = ix.frontmatter("group", group, name, tickers=list(ctx.config.universe.groups[group]),
                          tags=[ix.group_tag(group)],
                          properties=return_properties(day.group_returns.get(group), day.group_excess.get(group)))
    return RenderedNote(path=f"Groups/{name}.md", frontmatter=meta, body=body)


def build_stock(ticker: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    """A stock's note: its sections are the parts registered for "stock"."""
    security = ctx.config.securities[ticker]
    name = ix.stock_names[ticker]
    groups = ctx.config.groups_of(ticker)
    body = renderer.render("stock.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(),
                           blocks=note_blocks("stock", PartInput(day, ctx, ix, subject=ticker)))
    facts = next((m for m in (*day.winners, *day.losers) if m.ticker == ticker), None) or day.stock_context.get(ticker)
    close = day.closes.get(ticker)
    properties = {"ticker": ticker, "close": None if close is None else round(close, 2),
                  **return_properties(day.returns.get(ticker), day.excess.get(ticker)),
                  "streak": facts.context.streak if facts else None}  # the same facts the note prints
    meta = ix.frontmatter("stock", ticker, name, tickers=[ticker], sector=security.sector,
                          tags=[ix.sector_tag(security.sector)] + [ix.group_tag(g) for g in groups],
                          aliases=[ticker], properties=properties)
    return RenderedNote(path=f"Stocks/{name}.md", frontmatter=meta, body=body)


def build_home(day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer, concept_summary: str | None) -> RenderedNote:
    """Home: its sections are the parts registered for "home"."""
    inputs = PartInput(day, ctx, ix, concept_summary=concept_summary)
    body = renderer.render("home.md.j2", **ix.base_values(), title=HOME, as_of=day.date.isoformat(),
                           blocks=note_blocks("home", inputs))
    meta = ix.frontmatter("home", HOME, HOME)
    return RenderedNote(path=f"{HOME}.md", frontmatter=meta, body=body)
