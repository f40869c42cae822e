"""The rotation concept note, `Concepts/Sector Rotation <Month YYYY>.md`, shaped like a researcher's."""
from __future__ import annotations

import datetime as dt

from ..model import BaseRate, Catalyst, Episode, MarketDay, Mover, RenderedNote, WindowReturns
from .common import VaultIndex
from .context import NoteContext
from .registry import PartInput, note_blocks
from .names import escape_md

ORDINAL_WEEKS = ("first", "second", "third", "fourth", "fifth")


def part_of_month(date: dt.date) -> str:
    """'early/mid/late December 2025' (days 1-10, 11-20, 21-31)."""
    part = "early" if date.day <= 10 else "mid" if date.day <= 20 else "late"
    return f"{part} {date:%B %Y}"


def week_of_month(date: dt.date) -> str:
    """'the first week of January 2026': the week of the month `date` falls in (days 1-7 = first)."""
    return f"the {ORDINAL_WEEKS[(date.day - 1) // 7]} week of {date:%B %Y}"


def episode_length(episode: Episode, as_of: dt.date) -> int:
    """Sessions from the spread's trough to its end (or to as-of while running), both included."""
    return episode.duration_sessions(as_of, [d for d, _ in episode.spread])


def leg_return(name: str, kind: str, ticker: str | None, day: MarketDay, window: str) -> float | None:
    series: WindowReturns | None = day.group_returns.get(name) if kind == "group" else day.returns.get(ticker or "")
    return series.get(window) if series else None


def comparisons(day: MarketDay, ix: VaultIndex) -> list[str]:
    """Plain-words group comparisons for the day: small vs Nasdaq, equal vs cap weight, into vs out of."""
    lines = []
    for left, right in (("IWM", "QQQ"), ("RSP", "SPY")):
        a, b = day.returns.get(left), day.returns.get(right)
        if a and b and a.get("1D") is not None and b.get("1D") is not None:
            lines.append((ix.ticker(left), a.get("1D"), ix.ticker(right), b.get("1D")))
    episode = day.episode
    if episode and episode.into and episode.out_of:
        into, out = episode.into[0], episode.out_of[0]
        a = leg_return(into.name, into.kind, into.ticker, day, "1D")
        b = leg_return(out.name, out.kind, out.ticker, day, "1D")
        if a is not None and b is not None:
            lines.append((ix.leg(into.name, into.kind), a, ix.leg(out.name, out.kind), b))
    return lines


QUADRANT_READING = {
    "Leading": "ahead of the benchmark, momentum rising",
    "Improving": "behind the benchmark, momentum turning up",
    "Weakening": "ahead of the benchmark, momentum fading",
    "Lagging": "behind the benchmark, momentum falling",
}


def sector_flows(episode: Episode | None) -> dict[str, str]:
    """Sector -> its side in the rotation with its excess, e.g. "into (+3.0%)"."""
    flows = {}
    if episode:
        for side, legs in (("out of", episode.out_of), ("into", episode.into)):
            flows.update({l.name: f"{side} ({l.excess * 100:+.1f}%)" for l in legs if l.kind == "sector"})
    return flows


def base_rate_text(rate: BaseRate, min_cases: int) -> str:
    if rate.cases < min_cases or (rate.rate is None and rate.median is None):
        return f"too few cases (N = {rate.cases}; at least {min_cases} needed)"
    if rate.median is not None:
        span = f", range {rate.low:g}–{rate.high:g}" if rate.low is not None and rate.high is not None else ""
        return f"{rate.hits} of {rate.cases} ({rate.rate * 100:.0f}%); lengths: median {rate.median:g} sessions{span} (N = {rate.cases})"
    return f"{rate.hits} of {rate.cases} ({rate.rate * 100:.0f}%)"


def movers_by_catalyst(day: MarketDay) -> list[tuple[str, list[Mover]]]:
    """Catalyst notes that explain today's movers, by name, with the movers they explain."""
    explained: dict[str, list[Mover]] = {}
    for m in (*day.winners, *day.losers):
        for name in m.catalysts:
            explained.setdefault(name, []).append(m)
    return sorted(explained.items())


CATALYST_LEAD_DAYS = 7  # a catalyst announced in the week before the spread's trough can start a rotation


def episode_catalysts(episode: Episode, ctx: NoteContext, as_of: dt.date) -> list[tuple[Catalyst, list]]:
    """Catalyst notes dated from a week before the episode's start to its end (or `as_of`) that
    name one of its legs: a sector leg by sector or by a ticker of that sector, a group leg by a
    member ticker. Each comes with the (leg, side) pairs it names."""
    first, last = episode.start - dt.timedelta(days=CATALYST_LEAD_DAYS), episode.end or as_of
    legs = [(l, "out of") for l in episode.out_of] + [(l, "into") for l in episode.into]
    groups = ctx.config.universe.groups
    found = []
    for catalyst in sorted(ctx.catalysts, key=lambda c: (c.date, c.name)):
        if not first <= catalyst.date <= last:
            continue
        sectors = set(catalyst.sectors) | {ctx.config.sector_of(t) for t in catalyst.tickers}
        named = [(leg, side) for leg, side in legs
                 if (leg.name in sectors if leg.kind == "sector" else set(groups.get(leg.name, ())) & set(catalyst.tickers))]
        if named:
            found.append((catalyst, named))
    return found


def build_concept(day: MarketDay, ctx: NoteContext, ix: VaultIndex, renderer, chart_files: list[str]) -> RenderedNote:
    """The note of the day's rotation episode; its sections are the parts registered for "concept"."""
    episode = day.episode
    inputs = PartInput(day, ctx, ix, tuple(chart_files))
    body = renderer.render("concept.md.j2", **ix.base_values(), title=ix.concept, as_of=day.date.isoformat(),
                           blocks=note_blocks("concept", inputs))
    legs = [*episode.out_of, *episode.into]
    tickers = sorted({l.ticker for l in legs if l.ticker} | {m.ticker for m in (*day.winners, *day.losers)})
    meta = ix.frontmatter("concept", episode.start.isoformat(), ix.concept, tickers=tickers, date=episode.start,
                          tags=["rotation", f"year/{episode.start.year}"])
    return RenderedNote(path=f"Concepts/{ix.concept}.md", frontmatter=meta, body=body)


def short_summary(episode: Episode) -> str:
    """One escaped line for the daily note and Home: 'out of A and B into C and D (the two largest each); spread +8.4 pts since D'."""
    out_of = " and ".join(escape_md(l.name) for l in episode.out_of[:2])
    into = " and ".join(escape_md(l.name) for l in episode.into[:2])
    since = f"since {episode.start}" if episode.ongoing else f"from {episode.start} to {episode.end}, ended"
    return f"out of {out_of} into {into}; spread {episode.size * 100:+.1f} pts {since}"
