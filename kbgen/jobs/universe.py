"""`kbgen add` and `kbgen remove`: change the universe in kbgen.yml, and name the tickers the store
and the universe disagree on (stored but not tracked; tracked but without prices)."""
from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import GICS_SECTORS, TICKER, TICKER_RULE, Config, parse_config
from ..config_edit import EditError, add_member, remove_entry, remove_from_list
from ..errors import UsageError
from ..sources import SourceError
from ..store import Store
from ..vault.state import atomic_write

ProfileLookup = Callable[[Config, list[str]], dict]   # ticker -> sources.profile.Profile


@dataclass(frozen=True)
class Addition:
    ticker: str
    name: str
    sector: str
    origin: str          # where name and sector came from, shown to the user


@dataclass
class AddReport:
    added: list[Addition] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    without_prices: list[str] = field(default_factory=list)


def add_tickers(config: Config, tickers: list[str], sector: str | None = None, name: str | None = None,
                constituents: Path | None = None, lookup: ProfileLookup | None = None) -> AddReport:
    """Add stocks to the universe; name and sector from --sector/--name, a constituents file, or Yahoo."""
    tickers = _checked_tickers(tickers)
    if name and len(tickers) > 1:
        raise UsageError("--name gives one company's name; add one ticker at a time with it")
    if sector is not None:
        _check_sector(config, sector)
    report = AddReport(already=[t for t in tickers if t in config.securities])
    wanted = [t for t in tickers if t not in config.securities]
    report.added = _describe(config, wanted, sector, name, constituents, lookup)
    if not report.added:
        return report
    text = config.path.read_text(encoding="utf-8")
    try:
        for addition in report.added:
            text = add_member(text, addition.sector, addition.ticker, addition.name)
    except EditError as exc:
        raise UsageError(f"cannot edit {config.path}: {exc}; add the tickers by hand") from None
    _replace_config(config, text)
    report.without_prices = tickers_without_prices(config, [a.ticker for a in report.added])
    return report


def remove_tickers(config: Config, tickers: list[str]) -> list[str]:
    """Take tickers out of the universe (and out of any group); their stored prices stay."""
    tickers = _checked_tickers(tickers)
    unknown = [t for t in tickers if t not in config.securities]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} not in the universe of {config.path.name}; "
                         "`kbgen check` lists the tickers it holds")
    text = config.path.read_text(encoding="utf-8")
    try:
        for ticker in tickers:
            text = _remove_one(config, text, ticker)
    except EditError as exc:
        raise UsageError(f"cannot edit {config.path}: {exc}; remove the tickers by hand") from None
    _replace_config(config, text)
    return tickers


def _remove_one(config: Config, text: str, ticker: str) -> str:
    universe = config.universe
    for group, members in universe.groups.items():
        if ticker in members:
            text = remove_from_list(text, ("universe", "groups", group), ticker)
    for sector_name, sector in universe.sectors.items():
        if sector.etf == ticker:
            raise UsageError(f"{ticker} is the ETF of the sector {sector_name}; to drop the sector, "
                             f"delete universe.sectors.{sector_name} from {config.path.name} by hand")
        if ticker in sector.members:
            return remove_entry(text, ("universe", "sectors", sector_name, "members"), ticker)
    for section in ("benchmarks", "indices", "cross_assets"):
        if ticker in getattr(universe, section):
            if ticker == config.analysis.benchmark:
                raise UsageError(f"{ticker} is analysis.benchmark; set another benchmark first")
            return remove_entry(text, ("universe", section), ticker)
    raise UsageError(f"{ticker} comes from the constituents file {universe.constituents_csv}; "
                     "delete its row there")


def _describe(config: Config, tickers: list[str], sector: str | None, name: str | None,
              constituents: Path | None, lookup: ProfileLookup | None) -> list[Addition]:
    listed = read_constituents(constituents) if constituents else {}
    asked = [t for t in tickers if t not in listed and not (sector and name)]
    profiles = _profiles(config, asked, lookup, needed=sector is None)
    additions, unknown = [], []
    for ticker in tickers:
        if ticker in listed:
            listed_name, listed_sector = listed[ticker]
            additions.append(Addition(ticker, name or listed_name, sector or listed_sector, constituents.name))
            continue
        profile = profiles.get(ticker)
        if sector and (name or not profile or not profile.name):
            additions.append(Addition(ticker, name or ticker, sector, "--sector"))
        elif profile and profile.name and (sector or profile.sector):
            additions.append(Addition(ticker, name or profile.name, sector or profile.sector, "Yahoo's profile"))
        elif profile and profile.name:
            raise UsageError(f"Yahoo knows {ticker} ({profile.name}) but gives it no sector "
                             f"({profile.yahoo_sector or 'a fund or an index'}); pass --sector, or list it "
                             f"under universe.benchmarks or indices in {config.path.name}")
        else:
            unknown.append(ticker)
    if unknown:
        raise UsageError(f"{', '.join(unknown)}: no name or sector from any source (not in a constituents file, "
                         "unknown to Yahoo); likely a typo: check the spelling, or pass --sector and --name")
    for addition in additions:
        _check_sector(config, addition.sector)
    return additions


def _profiles(config: Config, tickers: list[str], lookup: ProfileLookup | None, needed: bool) -> dict:
    """Yahoo's profiles; with --sector given they only supply names, so an unreachable Yahoo is not fatal."""
    if not tickers or lookup is None:
        return {}
    try:
        return lookup(config, tickers)
    except SourceError:
        if needed:
            raise
        return {}


def read_constituents(path: Path) -> dict[str, tuple[str, str]]:
    """symbol -> (name, sector) from a constituents CSV (symbol, name, sector or gics_sector)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise UsageError(f"cannot read the constituents file {path}: {exc.strerror}") from None
    if rows and "symbol" not in rows[0]:
        raise UsageError(f"{path} has no `symbol` column; a constituents file has symbol,name,sector")
    return {
        row["symbol"].strip(): ((row.get("name") or "").strip() or row["symbol"].strip(),
                                (row.get("sector") or row.get("gics_sector") or "").strip())
        for row in rows if (row.get("symbol") or "").strip()
    }


def _check_sector(config: Config, sector: str) -> None:
    if sector in config.universe.sectors:
        return
    if sector in GICS_SECTORS:
        raise UsageError(f"the sector {sector!r} is not in {config.path.name}; add it under universe.sectors "
                         "with its ETF first, or pick one of: " + ", ".join(config.universe.sectors))
    raise UsageError(f"unknown sector {sector!r}; use one of the universe's sectors: "
                     + ", ".join(config.universe.sectors))


def _checked_tickers(tickers: list[str]) -> list[str]:
    tickers = list(dict.fromkeys(t.strip().upper() for t in tickers))
    bad = [t for t in tickers if not TICKER.fullmatch(t)]
    if bad:
        raise UsageError(f"{', '.join(bad)}: a ticker {TICKER_RULE}")
    return tickers


def _replace_config(config: Config, text: str) -> None:
    """Validate the edited text as kbgen would load it, then swap the file in one step."""
    parse_config(text, config.path)
    atomic_write(config.path, text.encode("utf-8"))


def tickers_without_prices(config: Config, tickers: list[str]) -> list[str]:
    if not config.store_path.is_file():
        return list(tickers)
    with Store(config.store_path) as store:
        stored = set(store.last_dates())
    return [t for t in tickers if t not in stored]


def outside_universe(config: Config, stored: set[str] | list[str]) -> list[str]:
    """Tickers with prices in the store that the universe does not list (a CSV import brought them)."""
    return sorted(set(stored) - set(config.securities))


def add_hint(tickers: list[str]) -> str:
    return f"kbgen add {' '.join(tickers)}"



def without_prices_warning(config: Config, with_data: frozenset[str], sources: str) -> str | None:
    """The build summary's line on universe tickers with no prices; after a Yahoo fetch, a ticker
    still without any is most likely misspelt."""
    missing = [t for t in config.tickers if t not in with_data]
    if not missing:
        return None
    fetch = f"kbgen fetch {' '.join(missing)}"
    cause = (f"Yahoo gave no prices for them when the store was fetched, so they are likely typos: check their "
             f"spelling in {config.path.name} (or run `{fetch}` if you added them since)"
             if "yahoo" in sources else f"run: {fetch}")
    return f"{len(missing)} universe ticker(s) have no prices in the store: {', '.join(missing)}; {cause}"
