"""Reads what researchers write by hand: thesis and catalyst notes, defined by their frontmatter.

Thesis notes live in `Theses/`, catalyst notes in `Catalysts/`. Every fault in them is collected
and reported together with the file, so a researcher fixes them in one pass; nothing is written
while any remains.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from .config import Config
from .errors import ProblemsError
from .model import Catalyst, Leg, Thesis
from .vault.frontmatter import FrontmatterError, load_properties, split_frontmatter

THESES_DIR = "Theses"
CATALYSTS_DIR = "Catalysts"
_FIRST_PROPERTY = {"thesis": "legs: [{ticker: NVDA, weight: 1.0, side: long}]", "catalyst": "date: 2026-01-15"}


class ResearcherNoteError(ProblemsError):
    """Researcher notes kbgen cannot use; `problems` holds one line per fault."""

    def __init__(self, problems: list[str]):
        super().__init__("problem(s) in researchers' notes (nothing was written)", problems)


def read_researcher_notes(config: Config) -> tuple[tuple[Thesis, ...], tuple[Catalyst, ...]]:
    problems: list[str] = []
    theses = tuple(_read_all(config, THESES_DIR, "thesis", _thesis, problems))
    catalysts = tuple(_read_all(config, CATALYSTS_DIR, "catalyst", _catalyst, problems))
    if problems:
        raise ResearcherNoteError(problems)
    return theses, catalysts


def _read_all(config: Config, folder: str, kind: str, parse, problems: list[str]):
    directory = config.vault_dir / folder
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.md")):
        try:
            meta = _properties(path, kind)
        except _NoteProblem as exc:
            problems.append(f"{path}: {exc}")
            continue
        if meta.get("type", kind) != kind:
            continue
        before = len(problems)
        item = parse(path, meta, config, problems)
        if len(problems) == before:
            yield item


class _NoteProblem(ValueError):
    """Why a note's frontmatter cannot be read; the message says how to fix it."""


def _properties(path: Path, kind: str) -> dict:
    """The note's frontmatter properties. A byte order mark (some Windows editors write one) is
    skipped; a missing, unclosed or malformed frontmatter is named as such."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _NoteProblem("the file is not UTF-8 text; re-save it as UTF-8") from None
    except OSError as exc:
        raise _NoteProblem(f"cannot read the note: {exc.strerror}") from None
    try:
        doc = split_frontmatter(text)
        if doc is None:
            raise _NoteProblem(f"the note has no frontmatter; a {kind} note starts with its properties between two "
                               f"--- lines, such as `{_FIRST_PROPERTY[kind]}`")
        return load_properties(doc[1])
    except FrontmatterError as exc:
        raise _NoteProblem(str(exc)) from None


def _thesis(path: Path, meta: dict, config: Config, problems: list[str]) -> Thesis | None:
    legs_data = meta.get("legs")
    if not isinstance(legs_data, list) or not legs_data:
        found = "has no `legs:`" if legs_data is None else f"has `legs: {legs_data!r}`"
        problems.append(f"{path}: the thesis {found}; it needs a list of legs like - {{ticker: NVDA, weight: 1.0, side: long}}")
        return None
    legs = []
    for number, leg in enumerate(legs_data, start=1):
        if not isinstance(leg, dict) or "ticker" not in leg:
            problems.append(f"{path}: leg {number} must be a mapping with a ticker, e.g. {{ticker: NVDA, weight: 1.0}}")
            continue
        ticker = str(leg["ticker"]).upper()
        side = str(leg.get("side", "long")).lower()
        weight = leg.get("weight", 1.0)
        if ticker not in config.securities:
            problems.append(f"{path}: leg {number} names {ticker}, which is not in the universe; add it to kbgen.yml or fix the ticker")
        if side not in ("long", "short"):
            problems.append(f"{path}: leg {number} side must be long or short, not {side!r}")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not math.isfinite(weight) or weight <= 0:
            problems.append(f"{path}: leg {number} weight must be a positive finite number, not {weight!r}")
        else:
            legs.append(Leg(ticker=ticker, weight=float(weight), side=side))
    benchmark = str(meta.get("benchmark", config.analysis.benchmark)).upper()
    if benchmark not in config.securities:
        problems.append(f"{path}: benchmark {benchmark} is not in the universe; add it under universe.benchmarks")
    return Thesis(name=path.stem, legs=tuple(legs), benchmark=benchmark)


def _catalyst(path: Path, meta: dict, config: Config, problems: list[str]) -> Catalyst | None:
    date = written = meta.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            date = None
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        found = "has no `date:`" if written is None else f"has `date: {written!r}`, which is not a date"
        problems.append(f"{path}: the catalyst {found}; it needs `date: YYYY-MM-DD`")
        return None
    tickers = tuple(str(t).upper() for t in _as_list(meta.get("tickers")))
    sectors = tuple(str(s) for s in _as_list(meta.get("sectors")))
    for ticker in tickers:
        if ticker not in config.securities:
            problems.append(f"{path}: ticker {ticker} is not in the universe; add it to kbgen.yml or fix the ticker")
    for sector in sectors:
        if sector not in config.universe.sectors:
            problems.append(f"{path}: sector {sector!r} is not one of the configured sectors ({', '.join(config.universe.sectors)})")
    return Catalyst(name=path.stem, date=date, tickers=tickers, sectors=sectors)


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
