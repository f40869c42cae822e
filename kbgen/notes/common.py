"""Shared by every note builder: who gets which note name, links as data, and frontmatter."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import MarketDay
from .context import NoteContext
from .names import NameBook, is_link_safe, slug

HOME = "Home"
DAILY_FOLDER = "Daily"  # the vault folder of the daily notes
CHARTS_DIR = "assets/charts"


@dataclass(frozen=True)
class Ref:
    """Something a note mentions: a link when `target` names a generated or researcher note, else text."""

    target: str | None
    label: str


def note_id(kind: str, key: str) -> str:
    """A generated note's lasting identity, e.g. "stock/AAPL" or "daily/2026-01-08"."""
    return f"{kind}/{key}"


def concept_name(start: dt.date) -> str:
    return f"Sector Rotation {start:%B %Y}"


def rotation_tag(start: dt.date) -> str:
    """The tag of the daily notes in the span of the episode that started on `start`."""
    return f"rotation/{slug(concept_name(start))}"


class VaultIndex:
    """Names every note of the vault for one build and turns tickers and names into Refs.

    Stocks get a note when they have data (or are today's movers); other securities (benchmarks,
    indices, cross-assets) are shown as text, and a sector ETF links to its sector note.
    """

    def __init__(self, day: MarketDay, ctx: NoteContext):
        self.day = day
        self.ctx = ctx
        self.config = ctx.config
        self.daily_dates = frozenset(ctx.daily_dates) | {day.date}
        self.concept = None
        if day.episode:
            self.concept = self._renamed("concept", day.episode.start.isoformat()) or concept_name(day.episode.start)
        reserved = [HOME, *(t.name for t in ctx.theses), *(c.name for c in ctx.catalysts)]
        reserved += [d.isoformat() for d in self.daily_dates]
        reserved += ctx.renamed.values()  # a note the researcher renamed keeps its name; nothing else takes it
        if self.concept:
            reserved.append(self.concept)
        self._book = book = NameBook(reserved)
        self.sector_names = {s: self._name(book, "sector", s, s) for s in self.config.universe.sectors}
        self.group_names = {g: self._name(book, "group", g, g, "group") for g in self.config.universe.groups}
        movers = {m.ticker for m in (*day.winners, *day.losers, *day.weekly_winners, *day.weekly_losers)}
        self.stocks = tuple(
            t for t, s in self.config.securities.items()
            if s.kind == "stock" and (t in ctx.tickers_with_data or t in movers)
        )
        self.stock_names = {t: self._name(book, "stock", t, self.config.securities[t].name, t) for t in self.stocks}

    def _renamed(self, kind: str, key: str) -> str | None:
        return self.ctx.renamed.get(note_id(kind, key))

    def _name(self, book: NameBook, kind: str, key: str, display_name: str, suffix: str | None = None) -> str:
        """The note's name: the one the researcher renamed it to, else the book's."""
        return self._renamed(kind, key) or book.assign(kind, key, display_name, suffix)

    def title(self, name: str) -> str:
        """A note's title (its H1): the name in full, even when the file name had to be shortened."""
        return self._book.title(name)

    # --- refs --------------------------------------------------------------------------------
    def name_of(self, ticker: str) -> str:
        security = self.config.securities.get(ticker)
        return security.name if security else ticker

    def ticker(self, ticker: str, label: str = "name") -> Ref:
        """A security by ticker; `label` is "name" ("Apple") or "ticker" ("AAPL")."""
        text = ticker if label == "ticker" else self.name_of(ticker)
        if ticker in self.stock_names:
            return Ref(self.stock_names[ticker], text)
        security = self.config.securities.get(ticker)
        if security and security.kind == "sector_etf" and security.sector in self.sector_names:
            return Ref(self.sector_names[security.sector], ticker)
        if label == "name" and security and security.kind != "stock":
            text = f"{security.name} ({ticker})"
        return Ref(None, text)

    def sector(self, sector: str | None, label: str | None = None) -> Ref | None:
        if sector is None:
            return None
        return Ref(self.sector_names.get(sector), label or sector)

    def sector_etf(self, sector: str) -> Ref:
        """A sector shown by its ETF, e.g. [[Energy|XLE]]."""
        return Ref(self.sector_names.get(sector), self.config.universe.sectors[sector].etf)

    def group(self, group: str) -> Ref:
        return Ref(self.group_names.get(group), group)

    def leg(self, name: str, kind: str) -> Ref:
        """A side of a rotation: a sector or a group."""
        return self.sector(name) if kind == "sector" else self.group(name)

    def thesis(self, name: str) -> Ref:
        return Ref(name if is_link_safe(name) else None, name)

    def catalyst(self, name: str) -> Ref:
        known = any(c.name == name for c in self.ctx.catalysts)
        return Ref(name if known and is_link_safe(name) else None, name)

    def daily(self, date: dt.date) -> Ref:
        iso = date.isoformat()
        return Ref(iso if date in self.daily_dates else None, iso)

    def concept_ref(self) -> Ref | None:
        return Ref(self.concept, self.concept) if self.concept else None

    # --- frontmatter -------------------------------------------------------------------------
    def frontmatter(self, kind: str, key: str, title: str, *, tickers=(), sector: str | None = None,
                    tags=(), aliases=(), date: dt.date | None = None, properties: dict | None = None) -> dict:
        """The keys kbgen owns: flat scalars or lists of scalars, as Obsidian's Properties view
        needs, each of one type across the vault (vault/.obsidian/types.json declares it).
        `properties` are the note's own (figures to sort on) and come before kbgen's provenance;
        `kbgen_id` ("stock/AAPL") names the note for good, so kbgen finds it after a rename. A note
        whose file name had to be shortened gets its full name as an alias, so Obsidian finds it."""
        full = self.title(title)
        if full != title:
            aliases = [*aliases, full]
        meta = {
            "type": kind,
            "date": (date or self.day.date).isoformat(),
            "title": full,
            "tickers": list(tickers),
        }
        if sector:
            meta["sector"] = sector
        meta["tags"] = [kind, *tags]
        meta["aliases"] = list(aliases)
        meta.update(properties or {})
        meta.update({
            "kbgen_id": note_id(kind, key),
            "kbgen_as_of": self.day.date.isoformat(),
            "kbgen_source": self.ctx.source,
            "kbgen_version": self.ctx.version,
            "kbgen_simulated": self.ctx.simulated,
        })
        return meta

    def sector_tag(self, sector: str) -> str:
        return f"sector/{slug(sector)}"

    def group_tag(self, group: str) -> str:
        return f"group/{slug(group)}"

    def base_values(self) -> dict:
        """Values every template receives (view models, never the analytics' MarketDay)."""
        return {"simulated": self.ctx.simulated, "source": self.ctx.source,
                "benchmark": self.config.analysis.benchmark, "home": Ref(HOME, HOME)}
