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
from functools import partial

from .. import __version__
from ..analytics.day import Analyzer
from ..analytics.panel import PricePanel
from ..config import Config
from ..errors import KbgenError
from ..obsidian.check import same_name_notes
from ..model import MarketDay
from ..notes import ALL_PARTS, build_notes
from ..notes.common import concept_name, rotation_tag
from ..notes.context import NoteContext
from ..render import RenderError, Renderer
from ..vault.record import record_build
from ..researcher_notes import read_researcher_notes
from ..store import PRICE_FIELDS, Store
from ..vault.frontmatter import has_legacy_provenance, read_properties
from ..vault.state import generated_files
from ..vault.writer import VaultWriter

log = logging.getLogger("kbgen")

DAILY_DIR = "Daily"
PRICE_COLUMNS = ("ticker", "date", *PRICE_FIELDS)
_DAILY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.md$")
DAILY_ONLY = frozenset({"daily"})
CONCEPT_ONLY = frozenset({"concept"})


class BuildError(KbgenError):
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


@dataclass
class _Session:
    """One session's notes and charts, rendered and not yet written."""

    session: dt.date
    day: MarketDay
    notes: list
    charts: list


def build(
    config: Config,
    sessions: list[dt.date],
    market: Market,
    force: bool = False,
    dry_run: bool = False,
    progress=None,
) -> BuildReport:
    """Write the notes for `sessions` (ascending) into the vault.

    Each session is written once the next one has rendered, so a backfill that is stopped keeps
    the sessions it finished, and a template that fails on a session leaves no note linking to it:
    the session before is written again without its "next day" link. The run record advances only
    when every note was written.
    """
    report = BuildReport(sessions=list(sessions))
    existing = daily_dates_in_vault(config)
    # Dates outside the data (e.g. a note left from another store) get no links: they would not resolve.
    known = set(market.sessions)
    daily_dates = tuple(sorted(({d for d in existing if d in known} | set(sessions))))
    spans = _rotation_spans(market, sessions[-1])
    generated: set[str] = set()
    with VaultWriter(config.vault_dir, force=force, dry_run=dry_run) as writer:
        renderer = _SessionRenderer(config, market, Renderer(config.templates_dir), daily_dates, spans,
                                    writer.renamed_notes)
        write = partial(_write_session, writer, report=report, generated=generated)
        shown = _write_sessions_in_turn(renderer, _render_sessions(renderer, sessions, existing, progress), write)
        for item in _render_notes_left_behind(renderer, shown, spans):
            write(item)
        report.warnings.extend(writer.summary().warnings)
        report.errors.extend(str(error) for error in writer.errors)
    report.stale = shown[-1].day.stale
    report.warnings.extend(_split_warnings(market, sessions))
    report.warnings.extend(same_name_notes(config.vault_dir, generated | generated_files(config.vault_dir)))
    if report.ok and not dry_run and sessions[-1] >= max(daily_dates):
        record_build(config.vault_dir, sessions[-1])
    return report


def _write_sessions_in_turn(renderer: _SessionRenderer, rendered, write) -> list[_Session]:
    """Write each rendered session once the next one has rendered; on a template error, write the
    session before again without its "next day" link and say how far the vault was written."""
    pending, shown = None, []
    try:
        for item in rendered:
            if pending is not None:
                write(pending)
            pending = item
            shown.append(item)
    except RenderError as error:
        if pending is None:
            raise RenderError(f"{error}; nothing was written") from error
        write(renderer.until(pending.session).render(pending.session, DAILY_ONLY))
        raise RenderError(f"{error}; the vault was written up to {pending.session}") from error
    write(pending)
    return shown


class _SessionRenderer:
    """Renders a session's notes against the vault's daily notes (`daily_dates`, for links), the
    rotation episodes' spans (for tags) and the notes researchers renamed in Obsidian."""

    def __init__(self, config: Config, market: Market, renderer: Renderer, daily_dates: tuple[dt.date, ...],
                 spans, renamed):
        self.config, self.market, self.renderer, self.daily_dates = config, market, renderer, daily_dates
        self.spans, self.renamed = spans, renamed
        self.history = _History(market.analyzer, daily_dates)

    def until(self, last: dt.date) -> _SessionRenderer:
        """The same, for a vault whose last daily note is `last`."""
        return _SessionRenderer(self.config, self.market, self.renderer,
                                tuple(d for d in self.daily_dates if d <= last), self.spans, self.renamed)

    def render(self, session: dt.date, parts: frozenset[str], episode_start: dt.date | None = None) -> _Session:
        """The session's notes (limited to `parts`) and their charts. `episode_start` picks the episode
        a concept note is about when it is no longer the session's current one (ended or taken over)."""
        day = self.market.analyzer.day(session, stock_context="current" in parts)
        if episode_start is not None:
            day = _showing_episode(day, episode_start)
        context = _context(self.config, self.market, self.daily_dates, self.history, session, self.spans, self.renamed)
        notes, charts = build_notes(day, context, self.renderer, parts)
        return _Session(session, day, notes, charts)


def _render_sessions(renderer: _SessionRenderer, sessions, existing, progress):
    """Each session's daily note (and the notes about "now" for the latest), after the daily note
    before the first new session, re-rendered so its "next day" link appears."""
    refresh = _previous_note_to_relink(existing, sessions, renderer.market)
    if refresh:
        yield renderer.render(refresh, DAILY_ONLY)
    # Home, sectors, stocks and thesis blocks describe "now": never rewind them to an older
    # session when the vault already has a later daily note (e.g. `build --date` of a past day).
    newest = max([*existing, *sessions])
    for index, session in enumerate(sessions, start=1):
        is_last = index == len(sessions) and session >= newest
        yield renderer.render(session, ALL_PARTS if is_last else DAILY_ONLY)
        if progress:
            progress(index, len(sessions), session.isoformat())


def _render_notes_left_behind(renderer: _SessionRenderer, shown: list[_Session], spans):
    """Notes this run did not render as part of a session but must bring up to date."""
    left = _concepts_left_behind(shown)
    for start, session in left.items():
        yield renderer.render(session, CONCEPT_ONLY, episode_start=start)
    config, built = renderer.config, {item.session for item in shown}
    # Daily notes in an episode's span that lack its tag (the episode was detected after them).
    for session in _daily_notes_to_refresh(config, renderer.daily_dates, built, spans):
        yield renderer.render(session, DAILY_ONLY)
    # Past episodes' concept notes an older version wrote, that this run did not rewrite: give them flat properties.
    current = shown[-1].day.episode.start if shown[-1].day.episode else None
    for start, end in spans:
        if end is not None and start != current and start not in left \
                and has_legacy_provenance(config.vault_dir / "Concepts" / f"{concept_name(start)}.md"):
            yield renderer.render(end, CONCEPT_ONLY, episode_start=start)


def _concepts_left_behind(shown: list[_Session]) -> dict[dt.date, dt.date]:
    """Episodes this run showed that are no longer current, each with the session its concept note
    is written as of: an episode that ended, as of its end (saying so); one taken over, as of the
    last session that showed it."""
    last_day = shown[-1].day
    episodes = {item.day.episode.start: item.session for item in shown if item.day.episode is not None}
    current = last_day.episode.start if last_day.episode else None
    ended = {e.start: e.end for e in last_day.past_episodes if e.end is not None and e.end >= shown[0].session}
    return {start: ended.get(start) or episodes[start] for start in sorted(set(episodes) | set(ended)) if start != current}


def _write_session(writer: VaultWriter, item: _Session, report: BuildReport, generated: set[str]) -> None:
    referenced = "\n".join(note.body for note in item.notes)
    for chart in item.charts:
        if chart.file_name in referenced:
            _record(report, writer.write_file(chart.path, chart.draw, inputs=chart.inputs))
    for note in item.notes:
        _record(report, writer.write(note))
        if not note.owned_by_researcher:
            generated.add(note.path)


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
        tags = read_properties(path).get("tags")
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
