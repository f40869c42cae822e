"""The kbgen configuration: one YAML file, validated once into typed objects.

Every problem in the file is collected and reported together, each with the file, the key path
and the line it sits on, so a user fixes them all in one pass.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ProblemsError

CONFIG_NAMES = ("kbgen.yml", "kbgen.yaml")

GICS_SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)

# Tickers become file names and parts of URLs, so nothing else is let through; the one rule for
# kbgen.yml, a constituents file and imported prices.
TICKER = re.compile(r"[A-Z0-9^.\-=_]+")
TICKER_RULE = "may only use A-Z 0-9 ^ . - = _"
DEFAULT_MAX_CLOSE_CHANGE = 0.5


class ConfigError(ProblemsError):
    """A config file that cannot be used; `problems` holds one line per fault."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        super().__init__("problem(s) in the config", problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sector(_Strict):
    etf: str = Field(description="ETF used as the sector's price proxy")
    members: dict[str, str] = Field(default_factory=dict, description="ticker -> company name")


class Universe(_Strict):
    sectors: dict[str, Sector]
    benchmarks: dict[str, str] = Field(default_factory=dict)
    indices: dict[str, str] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    cross_assets: dict[str, str] = Field(default_factory=dict)
    constituents_csv: str | None = None


class Thresholds(_Strict):
    """Thesis impact labels: excess return (percent) of the basket vs its benchmark."""

    short_window: Literal["1D", "1W"] = "1W"
    long_window: Literal["1M", "3M", "YTD", "1Y"] = "3M"
    validating: float = Field(1.0, description="short and long excess both at or above this")
    pressure: float = Field(-1.0, description="short excess at or below this with long excess positive")
    challenged: float = Field(-5.0, description="long excess at or below this")


class Analysis(_Strict):
    benchmark: str = "SPY"
    movers: int = Field(5, ge=1, le=50)
    catalyst_window_sessions: int = Field(3, ge=0, le=30)
    min_cases: int = Field(5, ge=1, description="fewer cases than this is 'too few cases', never a rate")
    rotation_lookback_sessions: int = Field(63, ge=10)
    rotation_recent_sessions: int = Field(15, ge=3)
    thresholds: Thresholds = Thresholds()


class Network(_Strict):
    proxy: str | None = None
    ca_bundle: str | None = None
    verify: bool = True
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(4, ge=0, le=20)
    backoff: float = Field(2.0, ge=0, description="first retry delay in seconds, doubled each time")
    batch_size: int = Field(50, ge=1, le=500)


class Fetch(_Strict):
    start: dt.date = dt.date(2024, 1, 1)
    overlap_sessions: int = Field(5, ge=0, le=60)


class Import(_Strict):
    max_close_change: float = Field(
        DEFAULT_MAX_CLOSE_CHANGE, gt=0,
        description="a re-imported row moving a stored close by more than this share (0.5 = 50%) is rejected",
    )


class Paths(_Strict):
    vault: str = "vault"
    store: str = ".kbgen/prices.sqlite"
    cache: str = ".kbgen/cache"
    templates: str | None = None
    mkdocs_config: str = "mkdocs.yml"


class Site(_Strict):
    """The published site (mkdocs.yml holds the rest)."""

    url: str | None = Field(None, description="where the site is served; gives it a sitemap, canonical links and instant navigation")
    allow_raw_html: bool = Field(False, description="publish researchers' raw HTML as written, scripts included")


class ConfigModel(_Strict):
    paths: Paths = Paths()
    universe: Universe
    analysis: Analysis = Analysis()
    network: Network = Network()
    fetch: Fetch = Fetch()
    import_: Import = Field(Import(), alias="import")
    site: Site = Site()


@dataclass(frozen=True)
class Security:
    ticker: str
    name: str
    kind: Literal["stock", "sector_etf", "benchmark", "index", "cross_asset"]
    sector: str | None = None


@dataclass(frozen=True)
class Config:
    """The validated configuration with paths resolved against the config file's folder."""

    path: Path
    model: ConfigModel
    securities: dict[str, Security]

    @property
    def root(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.root / relative).resolve()

    @property
    def vault_dir(self) -> Path:
        return self.resolve(self.model.paths.vault)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.model.paths.store)

    @property
    def cache_dir(self) -> Path:
        return self.resolve(self.model.paths.cache)

    @property
    def templates_dir(self) -> Path | None:
        t = self.model.paths.templates
        return self.resolve(t) if t else None

    @property
    def mkdocs_config(self) -> Path:
        return self.resolve(self.model.paths.mkdocs_config)

    @property
    def universe(self) -> Universe:
        return self.model.universe

    @property
    def analysis(self) -> Analysis:
        return self.model.analysis

    @property
    def tickers(self) -> list[str]:
        return list(self.securities)

    def sector_of(self, ticker: str) -> str | None:
        security = self.securities.get(ticker)
        return security.sector if security else None

    def groups_of(self, ticker: str) -> list[str]:
        return [name for name, members in self.universe.groups.items() if ticker in members]


def find_config(start: Path) -> Path | None:
    """The config file in `start` or the nearest parent folder that has one."""
    for folder in [start, *start.parents]:
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def load_config(path: Path) -> Config:
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"{path}: cannot read config: {exc.strerror}"]) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"{path}{where}: malformed YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(path, [f"{path}: the config must be a mapping of sections (paths, universe, ...)"])
    lines = _line_index(node)
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(path, err, lines) for err in exc.errors()]
        raise ConfigError(path, problems + _universe_problems(data, path, lines)) from None
    problems: list[str] = []
    securities = _collect_securities(model, path, lines, problems)
    if problems:
        raise ConfigError(path, problems)
    return Config(path=path, model=model, securities=securities)


def _universe_problems(data: dict, path: Path, lines: dict) -> list[str]:
    """Unknown sector names and duplicate tickers, checked even when another key failed schema
    validation, so one run lists every problem. Unknown keys of `universe` are set aside (they are
    reported already); a universe whose shape is still wrong is skipped."""
    raw = data.get("universe")
    if not isinstance(raw, dict):
        return []
    try:
        universe = Universe.model_validate({k: v for k, v in raw.items() if k in Universe.model_fields})
    except ValidationError:
        return []
    analysis = data.get("analysis") if isinstance(data.get("analysis"), dict) else {}
    benchmark = analysis.get("benchmark", Analysis.model_fields["benchmark"].default)
    stand_in = ConfigModel.model_construct(universe=universe, analysis=Analysis.model_construct(benchmark=str(benchmark)))
    problems: list[str] = []
    _collect_securities(stand_in, path, lines, problems)
    return problems


def _collect_securities(model: ConfigModel, path: Path, lines: dict, problems: list[str]) -> dict[str, Security]:
    """Every ticker of the universe once, with what it is; a ticker listed twice is an error."""
    found: dict[str, Security] = {}
    where: dict[str, str] = {}
    for security, key in _listed_securities(model.universe, path, lines, problems):
        ticker = security.ticker
        if not TICKER.fullmatch(ticker):
            problems.append(f"{_locate(path, key, lines)}: ticker {ticker!r} {TICKER_RULE}; write it as the exchange lists it")
        elif ticker in found:
            problems.append(
                f"{_locate(path, key, lines)}: ticker {ticker} is listed twice "
                f"(also at {where[ticker]}); a ticker belongs to one place in the universe"
            )
        else:
            found[ticker] = security
            where[ticker] = ".".join(map(str, key))
    if model.universe.constituents_csv:
        csv_path = (path.parent / model.universe.constituents_csv).resolve()
        for security in _read_constituents(csv_path, model, path, lines, problems):
            found.setdefault(security.ticker, security)
    _check_references(model, found, path, lines, problems)
    return found


def _listed_securities(universe, path: Path, lines: dict, problems: list[str]):
    """(security, its key path in the config) for each ticker written in kbgen.yml; an unknown
    sector name is reported on the way."""
    for sector_name, sector in universe.sectors.items():
        if sector_name not in GICS_SECTORS:
            problems.append(
                f"{_locate(path, ('universe', 'sectors', sector_name), lines)}: unknown sector name {sector_name!r}; "
                f"use a GICS sector: {', '.join(GICS_SECTORS)}"
            )
        yield Security(sector.etf, f"{sector_name} sector ETF", "sector_etf", sector_name), \
            ("universe", "sectors", sector_name, "etf")
        for ticker, name in sector.members.items():
            yield Security(ticker, name, "stock", sector_name), ("universe", "sectors", sector_name, "members", ticker)
    for section, kind in (("benchmarks", "benchmark"), ("indices", "index"), ("cross_assets", "cross_asset")):
        for ticker, name in getattr(universe, section).items():
            yield Security(ticker, name, kind), ("universe", section, ticker)


def _check_references(model: ConfigModel, found: dict[str, Security], path: Path, lines: dict,
                      problems: list[str]) -> None:
    """Groups and the benchmark name tickers of the universe; the universe is not empty."""
    universe = model.universe
    for group, tickers in universe.groups.items():
        for index, ticker in enumerate(tickers):
            if ticker not in found:
                problems.append(
                    f"{_locate(path, ('universe', 'groups', group, index), lines)}: group {group!r} names "
                    f"{ticker}, which is not in the universe; add it to a sector, benchmarks or indices"
                )
    if model.analysis.benchmark not in found:
        problems.append(
            f"{_locate(path, ('analysis', 'benchmark'), lines)}: benchmark {model.analysis.benchmark} "
            "is not in the universe; add it under universe.benchmarks"
        )
    if not any(s.kind == "stock" for s in found.values()) and not universe.sectors:
        problems.append(f"{_locate(path, ('universe',), lines)}: the universe is empty; list at least one sector")


def _read_constituents(csv_path: Path, model: ConfigModel, path: Path, lines: dict, problems: list[str]):
    key = ("universe", "constituents_csv")
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        problems.append(f"{_locate(path, key, lines)}: cannot read constituents file {csv_path}: {exc.strerror}")
        return
    for number, row in enumerate(rows, start=2):
        ticker = (row.get("symbol") or "").strip()
        name = (row.get("name") or "").strip() or ticker
        sector = (row.get("sector") or row.get("gics_sector") or "").strip()
        if not ticker:
            problems.append(f"{csv_path}:{number}: row has no symbol")
            continue
        if not TICKER.fullmatch(ticker):
            problems.append(f"{csv_path}:{number}: symbol {ticker!r} {TICKER_RULE}; write it as the exchange lists it")
            continue
        if sector not in model.universe.sectors:
            problems.append(
                f"{csv_path}:{number}: {ticker} is in sector {sector!r}, which the config does not define under universe.sectors"
            )
            continue
        yield Security(ticker, name, "stock", sector)


def _line_index(node: yaml.Node | None, prefix: tuple = ()) -> dict[tuple, int]:
    """Map each key path of the YAML document to its 1-based line number."""
    index: dict[tuple, int] = {}
    if node is None:
        return index
    index[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = prefix + (key_node.value,)
            index.update(_line_index(value_node, key))
            index[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            index.update(_line_index(item, prefix + (position,)))
    return index


def _locate(path: Path, key: tuple, lines: dict[tuple, int]) -> str:
    probe = tuple(key)
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe)
    dotted = ".".join(map(str, key))
    return f"{path}:{line}: {dotted}" if line else f"{path}: {dotted}"


def _describe(path: Path, error: dict[str, Any], lines: dict[tuple, int]) -> str:
    key = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown key; check its spelling against the commented config `kbgen init` writes"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = error["msg"]
        if "input" in error and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    return f"{_locate(path, key, lines)}: {message}"
