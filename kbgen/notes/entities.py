"""Notes about the universe: one per sector, group and stock, plus Home."""
from __future__ import annotations

from ..analytics.returns import YEAR_SESSIONS
from ..analytics.rrg import quadrant
from ..model import WINDOWS, MarketDay, RenderedNote, WindowReturns
from .common import HOME, VaultIndex
from .context import NoteContext
from .lines import window_lengths
from .registry import PartInput, note_blocks

RECENT_APPEARANCES = 10
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


def member_rows(tickers, day: MarketDay, ix: VaultIndex) -> list[dict]:
    """Members with data, best 1D first (leaders on top, laggards at the bottom)."""
    rows = [{"ref": ix.ticker(t), "ticker": t, "returns": day.returns[t]} for t in tickers if t in day.returns]
    return sorted(rows, key=lambda r: (r["returns"].get("1D") is None, -(r["returns"].get("1D") or 0.0), r["ticker"]))


def build_sector(sector: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    config = ctx.config.universe.sectors[sector]
    name = ix.sector_names[sector]
    row = next((s for s in day.sectors if s.sector == sector), None)
    rotation = next((r for r in day.rotation if r.sector == sector), None)
    tail = [{"point": p, "quadrant": quadrant(p.rs_ratio, p.rs_momentum)} for p in (rotation.tail if rotation else ())]
    members = list(config.members)
    etf_returns = day.returns.get(config.etf)
    excess = day.excess.get(config.etf)
    body = renderer.render(
        "sector.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), etf=config.etf,
        windows=WINDOWS, etf_returns=etf_returns,
        benchmark_returns=day.returns.get(ctx.config.analysis.benchmark), excess=excess,
        row=row, rotation=rotation, tail=tail, members=member_rows(members, day, ix),
        members_without_data=[ix.ticker(t) for t in members if t not in day.returns],
        daily=ix.daily(day.date), window_lengths=window_lengths(), sectors_ranked=len(day.sectors),
    )
    properties = {**return_properties(etf_returns, excess), "quadrant": rotation.quadrant if rotation else None}
    meta = ix.frontmatter("sector", sector, name, tickers=[config.etf, *members], sector=sector,
                          tags=[ix.sector_tag(sector)], aliases=[config.etf], properties=properties)
    return RenderedNote(path=f"Sectors/{name}.md", frontmatter=meta, body=body)


def build_group(group: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    name = ix.group_names[group]
    tickers = list(ctx.config.universe.groups[group])
    episode = day.episode
    side = None
    if episode:
        side = next(("Out of" for l in episode.out_of if l.kind == "group" and l.name == group), None) or \
            next(("Into" for l in episode.into if l.kind == "group" and l.name == group), None)
    basket = day.group_returns.get(group)
    excess = day.group_excess.get(group)
    body = renderer.render(
        "group.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), windows=WINDOWS,
        basket=basket, excess=excess,
        members=member_rows(tickers, day, ix), members_without_data=[ix.ticker(t) for t in tickers if t not in day.returns],
        concept=ix.concept_ref(), side=side, daily=ix.daily(day.date),
    )
    meta = ix.frontmatter("group", group, name, tickers=tickers, tags=[ix.group_tag(group)],
                          properties=return_properties(basket, excess))
    return RenderedNote(path=f"Groups/{name}.md", frontmatter=meta, body=body)


def appearances(ticker: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex) -> list[dict]:
    """The stock's days among the movers, newest first, never after the note's date."""
    seen = {(d, kind): move for d, kind, move in ctx.mover_history.get(ticker, ()) if d <= day.date}
    for kind, movers in (("winner", day.winners), ("loser", day.losers)):
        for m in movers:
            if m.ticker == ticker:
                seen[(day.date, kind)] = m.move
    recent = sorted(seen.items(), key=lambda item: item[0][0], reverse=True)[:RECENT_APPEARANCES]
    return [{"date": ix.daily(d), "kind": kind, "move": move} for (d, kind), move in recent]


def build_stock(ticker: str, day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer) -> RenderedNote:
    security = ctx.config.securities[ticker]
    name = ix.stock_names[ticker]
    groups = ctx.config.groups_of(ticker)
    returns = day.returns.get(ticker)
    mover = next((m for m in (*day.winners, *day.losers) if m.ticker == ticker), None)
    context = day.stock_context.get(ticker)
    excess = day.excess.get(ticker)
    close = day.closes.get(ticker)
    holdings = [{"ref": ix.thesis(t.name), "leg": leg} for t in ctx.theses for leg in t.legs if leg.ticker == ticker]
    catalysts = [{"ref": ix.catalyst(c.name), "date": c.date} for c in ctx.catalysts
                 if c.date <= day.date and (ticker in c.tickers or security.sector in c.sectors)]
    body = renderer.render(
        "stock.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), ticker=ticker,
        sector=ix.sector(security.sector), groups=[ix.group(g) for g in groups], windows=WINDOWS,
        close=close, returns=returns, excess=excess, mover=mover, context=context,
        appearances=appearances(ticker, day, ctx, ix), holdings=holdings,
        catalysts=sorted(catalysts, key=lambda c: c["date"], reverse=True), daily=ix.daily(day.date),
        window_lengths=window_lengths(), year_sessions=YEAR_SESSIONS,
    )
    facts = mover or context  # the same facts the note prints
    properties = {"ticker": ticker, "close": None if close is None else round(close, 2),
                  **return_properties(returns, excess), "streak": facts.context.streak if facts else None}
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
