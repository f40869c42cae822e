"""The build: store -> analytics -> notes -> vault, for one session or a range of sessions.

Analytics are computed once for the whole price history and sliced per session. A backfill writes
one daily note per session from data known as of that session; the notes that describe "now"
(Home, sectors, stocks, groups, theses) are written once, from the last session built.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace

import frontmatter

from . import __version__
from .analytics.day import Analyzer
from .analytics.panel import PricePanel
from .config import Config
from .linkcheck import same_name_notes
from .notes import ALL_PARTS, build_notes
from .notes.common import concept_name, rotation_tag
from .notes.context import NoteContext
from .render import Renderer
from .researcher_notes import read_researcher_notes
from .store import PRICE_FIELDS, Store
from .vault_writer import VaultWriter, generated_files, has_legacy_provenance

log = logging.getLogger("kbgen")

DAILY_DIR = "Daily"
PRICE_COLUMNS = ("ticker", "date", *PRICE_FIELDS)
_DAILY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.md$")
DAILY_ONLY = frozenset({"daily"})
CONCEPT_ONLY = frozenset({"concept"})


class BuildError(Exception):
    """The build cannot start (no data, a date outside the data); nothing was written."""


@dataclass
class BuildReport:
    sessions: list[dt.date] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stale: tuple[str, ...] = ()
    changes: list[tuple[str, str]] = field(default_factory=list)   # (created or updated, path): what a dry run would write

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        counts = ", ".join(f"{self.statuses.get(k, 0)} {k}" for k in ("created", "updated", "unchanged", "conflict"))
        span = _span(self.sessions)
        return f"built {len(self.sessions)} session(s){span}: notes {counts}" + (
            f", {len(self.errors)} failed" if self.errors else ""
        )


@dataclass
class Market:
    """Everything loaded once per run: the analyzer over the stored history and researchers' notes."""

    analyzer: Analyzer
    source: str
    simulated: bool
    tickers_with_data: frozenset[str]

    @property
    def sessions(self) -> list[dt.date]:
        return list(self.analyzer.sessions)


def load_market(config: Config) -> Market:
    theses, catalysts = read_researcher_notes(config)
    with Store(config.store_path) as store:
        frame = store.load(tickers=config.tickers, columns=PRICE_COLUMNS)
        sources = store.sources()
    if frame.empty:
        raise BuildError(
            f"the store {config.store_path} has no prices for the universe; "
            "run `kbgen fetch`, `kbgen import FILE.csv` or `kbgen demo` first"
        )
    panel = PricePanel.from_long(frame, benchmark=config.analysis.benchmark)
    analyzer = Analyzer(panel, config, theses, catalysts)
    kinds = sorted({s.split(":", 1)[0] for s in sources})
    return Market(
        analyzer=analyzer,
        source=", ".join(kinds),
        simulated="demo" in kinds,
        tickers_with_data=frozenset(frame["ticker"].unique()),
    )


def resolve_sessions(
    market: Market, date: dt.date | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> list[dt.date]:
    sessions = market.sessions
    first, last = sessions[0], sessions[-1]
    if date is not None:
        start = end = date
    if start is None and end is None:
        return [last]
    start = start or first
    end = end or last
    if end < first:
        raise BuildError(f"the store's data starts on {first}; {end} is before it")
    if start > last:
        raise BuildError(f"the store has data up to {last}; run `kbgen fetch` to get sessions after it")
    if date is not None:
        # A weekend or holiday resolves to the session before it.
        return [max(d for d in sessions if d <= date)]
    return [d for d in sessions if start <= d <= end]


def daily_dates_in_vault(config: Config) -> list[dt.date]:
    folder = config.vault_dir / DAILY_DIR
    if not folder.is_dir():
        return []
    found = (_DAILY_NAME.match(p.name) for p in folder.iterdir())
    return sorted(dt.date.fromisoformat(m.group(1)) for m in found if m)


def build(
    config: Config,
    sessions: list[dt.date],
    market: Market,
    force: bool = False,
    dry_run: bool = False,
    progress=None,
) -> BuildReport:
    """Write the notes for `sessions` (ascending) into the vault."""
    report = BuildReport(sessions=list(sessions))
    existing = daily_dates_in_vault(config)
    # Dates outside the data (e.g. a note left from another store) get no links: they would not resolve.
    known = set(market.sessions)
    daily_dates = tuple(sorted(({d for d in existing if d in known} | set(sessions))))
    refresh = _previous_note_to_relink(existing, sessions, market)
    renderer = Renderer(config.templates_dir)
    history = _History(market.analyzer, daily_dates)
    plan = ([refresh] if refresh else []) + list(sessions)
    spans = _rotation_spans(market, sessions[-1])
    # Each rotation episode's concept note is written as of the last session built that shows it.
    episode_last_session: dict[dt.date, dt.date] = {}
    generated: set[str] = set()
    with VaultWriter(config.vault_dir, force=force, dry_run=dry_run) as writer:
        renamed = writer.renamed_notes

        def write(session: dt.date, parts: frozenset[str], episode_start: dt.date | None = None):
            """Build and write the session's notes at once, so a long backfill that is stopped keeps
            every session it finished. `episode_start` picks the episode a concept note is about
            when it is no longer the session's current one (it ended or was taken over)."""
            day = market.analyzer.day(session, stock_context="current" in parts)
            if episode_start is not None:
                day = _showing_episode(day, episode_start)
            context = _context(config, market, daily_dates, history, session, spans, renamed)
            notes, charts = build_notes(day, context, renderer, parts)
            referenced = "\n".join(note.body for note in notes)
            for chart in charts:
                if chart.file_name in referenced:
                    _record(report, writer.write_file(chart.path, chart.draw, inputs=chart.inputs))
            for note in notes:
                _record(report, writer.write(note))
                if not note.owned_by_researcher:
                    generated.add(note.path)
            return day

        # Home, sectors, stocks and thesis blocks describe "now": never rewind them to an older
        # session when the vault already has a later daily note (e.g. `build --date` of a past day).
        newest = max(daily_dates)
        for index, session in enumerate(plan, start=1):
            is_last = index == len(plan) and session >= newest
            day = write(session, ALL_PARTS if is_last else DAILY_ONLY)
            if day.episode and not is_last:
                episode_last_session[day.episode.start] = session
            if progress:
                progress(index, len(plan), session.isoformat())
        report.stale = day.stale
        current = day.episode.start if day.episode else None
        # An episode that ended within this run gets its concept note as of its end, saying so;
        # one no longer current that has not ended keeps the last session that showed it.
        ended = {e.start: e.end for e in day.past_episodes if e.end is not None and e.end >= plan[0]}
        for start in sorted(set(episode_last_session) | set(ended)):
            if start != current:
                write(ended.get(start) or episode_last_session[start], CONCEPT_ONLY, episode_start=start)
        for session in _daily_notes_to_refresh(config, daily_dates, set(plan), spans):
            write(session, DAILY_ONLY)
        for start, end in spans:
            if end is not None and start != current and start not in episode_last_session and start not in ended \
                    and has_legacy_provenance(config.vault_dir / "Concepts" / f"{concept_name(start)}.md"):
                write(end, CONCEPT_ONLY, episode_start=start)  # an older version's note: give it flat properties
        report.warnings.extend(writer.summary().warnings)
        report.errors.extend(str(error) for error in writer.errors)
    report.warnings.extend(_split_warnings(market, sessions))
    report.warnings.extend(same_name_notes(config.vault_dir, generated | generated_files(config.vault_dir)))
    return report


def _showing_episode(day, start: dt.date):
    """The day with `start`'s episode as the one its concept note describes."""
    if day.episode is not None and day.episode.start == start:
        return day
    return replace(day, episode=next((e for e in day.past_episodes if e.start == start), None))


def _split_warnings(market: Market, sessions: list[dt.date]) -> list[str]:
    """A close-only ticker's split-sized jump on a session being built, read as a split."""
    built = set(sessions)
    return [
        f"{ticker}: the close moved {1 / ratio - 1:+.0%} on {date} and the data has no adjusted close; "
        f"kbgen read it as a {_ratio_text(ratio)} split. If it was a real move, import adj_close for {ticker} "
        "(or fetch it from Yahoo)"
        for ticker, date, ratio in market.analyzer.panel.suspected_splits if date in built
    ]


def _ratio_text(ratio: float) -> str:
    return f"{ratio:g}-for-1" if ratio >= 1 else f"1-for-{1 / ratio:g} reverse"


def _previous_note_to_relink(existing: list[dt.date], sessions: list[dt.date], market: Market) -> dt.date | None:
    """The daily note just before the first new session: rebuilt so its "next day" link appears."""
    earlier = [d for d in existing if d < sessions[0] and d in set(market.sessions)]
    return earlier[-1] if earlier and earlier[-1] not in sessions else None


def _rotation_spans(market: Market, last: dt.date) -> tuple[tuple[dt.date, dt.date | None], ...]:
    """(start, end or None) of the rotation episodes known as of the last session built."""
    day = market.analyzer.day(last)
    return tuple((e.start, e.end) for e in (*day.past_episodes, day.episode) if e is not None)


def _daily_notes_to_refresh(config: Config, daily_dates, built: set[dt.date], spans) -> list[dt.date]:
    """Daily notes not built in this run that lie in a rotation episode's span but lack its tag
    (written before the episode was detected, or before it was extended over them), or that an
    older version wrote with the nested `kbgen:` property."""
    stale = []
    for session in daily_dates:
        if session in built:
            continue
        path = config.vault_dir / DAILY_DIR / f"{session}.md"
        wanted = {rotation_tag(start) for start, end in spans if start <= session and (end is None or session <= end)}
        if (wanted and not wanted <= _tags(path)) or has_legacy_provenance(path):
            stale.append(session)
    return stale


def _tags(path) -> set[str]:
    try:
        tags = frontmatter.load(path).get("tags")
    except (OSError, UnicodeDecodeError, ValueError):
        return set()
    return {str(t) for t in tags} if isinstance(tags, list) else set()


def _record(report: BuildReport, result) -> None:
    report.statuses[result.status] += 1
    if result.status in ("created", "updated"):
        report.changes.append((result.status, result.path))


def _context(config: Config, market: Market, daily_dates, history: "_History", as_of: dt.date,
             spans, renamed: dict[str, str]) -> NoteContext:
    theses = market.analyzer.theses
    return NoteContext(
        config=config,
        theses=tuple(theses),
        catalysts=tuple(market.analyzer.catalysts),
        daily_dates=daily_dates,
        impact_history=history.impacts(as_of),
        mover_history=history.movers(as_of),
        source=market.source,
        simulated=market.simulated,
        version=__version__,
        tickers_with_data=market.tickers_with_data,
        rotation_spans=spans,
        renamed=renamed,
    )


class _History:
    """Thesis impacts and mover appearances on the sessions that have daily notes, up to a date.

    Only the cheap parts of each session are computed (no context facts, no rotation), once per
    session, so a daily run over a vault of years of notes stays fast.
    """

    def __init__(self, analyzer: Analyzer, daily_dates: tuple[dt.date, ...]):
        self._analyzer = analyzer
        self._dates = daily_dates
        self._impacts: dict[dt.date, tuple] = {}
        self._movers: dict[dt.date, tuple] = {}

    def _upto(self, as_of: dt.date) -> list[dt.date]:
        return [d for d in self._dates if d <= as_of]

    def impacts(self, as_of: dt.date) -> dict:
        rows: dict[str, list] = {}
        for date in self._upto(as_of):
            if date not in self._impacts:
                self._impacts[date] = self._analyzer.impacts_on(date)
            for impact in self._impacts[date]:
                rows.setdefault(impact.thesis, []).append((date, impact))
        return {name: tuple(items) for name, items in rows.items()}

    def movers(self, as_of: dt.date) -> dict:
        rows: dict[str, list] = {}
        for date in self._upto(as_of):
            if date not in self._movers:
                self._movers[date] = self._analyzer.top_movers_on(date)
            winners, losers = self._movers[date]
            for side, moves in (("winner", winners), ("loser", losers)):
                for ticker, move in moves:
                    rows.setdefault(ticker, []).append((date, side, move))
        return {ticker: tuple(items) for ticker, items in rows.items()}


def _span(sessions: list[dt.date]) -> str:
    if not sessions:
        return ""
    if len(sessions) == 1:
        return f" ({sessions[0]})"
    return f" ({sessions[0]} .. {sessions[-1]})"
