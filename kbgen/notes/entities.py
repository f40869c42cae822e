"""Notes about the universe: one per sector, group and stock, plus Home."""
from __future__ import annotations

from ..model import WINDOWS, MarketDay, RenderedNote, WindowReturns
from .common import HOME, VaultIndex
from .context import NoteContext

RECENT_APPEARANCES = 10
RECENT_CATALYSTS = 5


def quadrant(rs_ratio: float, rs_momentum: float) -> str:
    """Leading (ratio and momentum at or above 100), Weakening, Lagging, Improving."""
    if rs_ratio >= 100:
        return "Leading" if rs_momentum >= 100 else "Weakening"
    return "Improving" if rs_momentum >= 100 else "Lagging"


def excess_over(returns: WindowReturns | None, benchmark: WindowReturns | None) -> WindowReturns | None:
    if returns is None or benchmark is None:
        return None
    return WindowReturns({w: None if returns.get(w) is None or benchmark.get(w) is None
                          else returns.get(w) - benchmark.get(w) for w in WINDOWS})


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
    body = renderer.render(
        "sector.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), etf=config.etf,
        windows=WINDOWS, etf_returns=day.returns.get(config.etf),
        benchmark_returns=day.returns.get(ctx.config.analysis.benchmark),
        excess=excess_over(day.returns.get(config.etf), day.returns.get(ctx.config.analysis.benchmark)),
        row=row, rotation=rotation, tail=tail, members=member_rows(members, day, ix),
        members_without_data=[ix.ticker(t) for t in members if t not in day.returns],
        daily=ix.daily(day.date),
    )
    meta = ix.frontmatter("sector", name, tickers=[config.etf, *members], sector=sector,
                          tags=[ix.sector_tag(sector)], aliases=[config.etf])
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
    body = renderer.render(
        "group.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), windows=WINDOWS,
        basket=basket, excess=excess_over(basket, day.returns.get(ctx.config.analysis.benchmark)),
        members=member_rows(tickers, day, ix), members_without_data=[ix.ticker(t) for t in tickers if t not in day.returns],
        concept=ix.concept_ref(), side=side, daily=ix.daily(day.date),
    )
    meta = ix.frontmatter("group", name, tickers=tickers, tags=[ix.group_tag(group)])
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
    holdings = [{"ref": ix.thesis(t.name), "leg": leg} for t in ctx.theses for leg in t.legs if leg.ticker == ticker]
    catalysts = [{"ref": ix.catalyst(c.name), "date": c.date} for c in ctx.catalysts
                 if c.date <= day.date and (ticker in c.tickers or security.sector in c.sectors)]
    body = renderer.render(
        "stock.md.j2", **ix.base_values(), title=ix.title(name), as_of=day.date.isoformat(), ticker=ticker,
        sector=ix.sector(security.sector), groups=[ix.group(g) for g in groups], windows=WINDOWS,
        close=day.closes.get(ticker), returns=returns,
        excess=excess_over(returns, day.returns.get(ctx.config.analysis.benchmark)),
        mover=mover, context=day.stock_context.get(ticker),
        appearances=appearances(ticker, day, ctx, ix), holdings=holdings,
        catalysts=sorted(catalysts, key=lambda c: c["date"], reverse=True), daily=ix.daily(day.date),
    )
    meta = ix.frontmatter("stock", name, tickers=[ticker], sector=security.sector,
                          tags=[ix.sector_tag(security.sector)] + [ix.group_tag(g) for g in groups],
                          aliases=[ticker])
    meta["ticker"] = ticker
    return RenderedNote(path=f"Stocks/{name}.md", frontmatter=meta, body=body)


def build_home(day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer, concept_summary: str | None) -> RenderedNote:
    impacts = {i.thesis: i for i in day.impacts}
    recent = sorted((c for c in ctx.catalysts if c.date <= day.date), key=lambda c: (c.date, c.name), reverse=True)
    body = renderer.render(
        "home.md.j2", **ix.base_values(), title=HOME, as_of=day.date.isoformat(), daily=ix.daily(day.date),
        concept=ix.concept_ref(), concept_summary=concept_summary,
        sectors=[{"ref": ix.sector_etf(s.sector), "name": ix.sector(s.sector), "row": s} for s in day.sectors],
        theses=[{"ref": ix.thesis(t.name), "impact": impacts.get(t.name)} for t in ctx.theses],
        catalysts=[{"ref": ix.catalyst(c.name), "date": c.date} for c in recent[:RECENT_CATALYSTS]],
        groups=[ix.group(g) for g in ctx.config.universe.groups],
        all_sectors=[ix.sector(s) for s in ctx.config.universe.sectors],
    )
    meta = ix.frontmatter("home", HOME)
    meta["hide"] = ["navigation"]  # the site's front page: its tab has no other page to list
    return RenderedNote(path=f"{HOME}.md", frontmatter=meta, body=body)
