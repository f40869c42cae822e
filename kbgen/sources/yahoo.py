"""Daily prices from Yahoo Finance through yfinance, saved to the store batch by batch.

yfinance logs failures instead of raising them and returns all-NaN columns for a ticker it could
not fetch, so this module reads yfinance's log records to learn each ticker's reason, retries the
tickers Yahoo rate-limited, validates every row, and saves each batch as soon as it arrives so a
later failure never loses earlier work.
"""
from __future__ import annotations

import ast
import datetime as dt
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import yfinance as yf

from kbgen.config import Config
from kbgen.sources.network import check_reachable, network_settings, open_session
from kbgen.store import PRICE_FIELDS, Store, UpsertCounts

SOURCE = "yahoo"
Progress = Callable[[int, int, str], None]
Status = Literal["ok", "failed", "up to date"]

_YF_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close", "Volume": "volume"}
_PRICES = ("open", "high", "low", "close", "adj_close")
RATE_LIMITED = "rate limited by Yahoo (HTTP 429)"


@dataclass
class TickerStatus:
    """What happened to one ticker: `rejected` lists rows dropped by validation, with why."""

    ticker: str
    status: Status
    reason: str | None = None
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[str] = field(default_factory=list)


@dataclass
class FetchReport:
    """Per-ticker outcome of a fetch; `ok` only when no ticker failed."""

    statuses: dict[str, TickerStatus] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, str]:
        return {t: r.reason or "unknown failure" for t, r in self.statuses.items() if r.status == "failed"}

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def counts(self) -> UpsertCounts:
        return sum((r.counts for r in self.statuses.values()), UpsertCounts())

    @property
    def rejected(self) -> dict[str, list[str]]:
        return {t: r.rejected for t, r in self.statuses.items() if r.rejected}


@dataclass(frozen=True)
class Batch:
    start: dt.date
    tickers: tuple[str, ...]


def fetch_prices(
    config: Config,
    store: Store,
    tickers: list[str] | None = None,
    start: dt.date | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchReport:
    """Fetch daily bars for `tickers` (default: the whole universe) from Yahoo into `store`.

    Each ticker starts `fetch.overlap_sessions` business days before its last stored date (to pick
    up Yahoo's revisions), or at `start` / `fetch.start` when the store has none. Raises
    SourceError when Yahoo cannot be reached at all; per-ticker failures are in the report.
    """
    wanted = list(dict.fromkeys(tickers if tickers is not None else config.securities))
    fetch = config.model.fetch
    batches = plan_batches(
        wanted, store.last_dates(), start or fetch.start, fetch.overlap_sessions, config.model.network.batch_size
    )
    report = FetchReport()
    if not batches:
        return report
    settings = network_settings(config)
    _place_yfinance_caches(config)
    session = open_session(settings)
    check_reachable(session, settings)
    for done, batch in enumerate(batches, start=1):
        results = _fetch_batch(batch, store, session, config, sleep)
        report.statuses.update({r.ticker: r for r in results})
        if progress:
            progress(done, len(batches), _describe(batch, results))
    return report


def plan_batches(
    tickers: list[str], last_dates: dict[str, dt.date], first_start: dt.date, overlap: int, batch_size: int
) -> list[Batch]:
    """Group tickers sharing a start date into batches of at most `batch_size`.

    start = last stored date - `overlap` business days (sessions approximated by weekdays; never
    after the last stored date), or `first_start` for a ticker with nothing stored.
    """
    by_start: dict[dt.date, list[str]] = {}
    for ticker in tickers:
        last = last_dates.get(ticker)
        begin = min(last, (pd.Timestamp(last) - pd.offsets.BDay(overlap)).date()) if last else first_start
        by_start.setdefault(begin, []).append(ticker)
    return [
        Batch(begin, tuple(group[i : i + batch_size]))
        for begin, group in sorted(by_start.items())
        for i in range(0, len(group), batch_size)
    ]


def _place_yfinance_caches(config: Config) -> None:
    """Keep yfinance's timezone, cookie and ISIN caches in the project's cache folder.

    yfinance binds its caches on first use, so in one process the first fetch's folder stays.
    """
    folder = config.cache_dir / "yfinance"
    folder.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(folder))


def _fetch_batch(batch: Batch, store: Store, session, config: Config, sleep: Callable[[float], None]) -> list[TickerStatus]:
    """Download a batch, saving what arrived; retry rate-limited tickers with doubling delays."""
    network = config.model.network
    results: list[TickerStatus] = []
    pending = list(batch.tickers)
    for attempt in range(network.retries + 1):
        if attempt:
            sleep(network.backoff * 2 ** (attempt - 1))
        frame, reasons = _download(pending, batch.start, session, network.timeout)
        limited = []
        for ticker in pending:
            rows = _rows_for(frame, ticker)
            reason = reasons.get(ticker.upper())
            if rows.empty and reason == RATE_LIMITED:
                limited.append(ticker)
            elif rows.empty:
                results.append(TickerStatus(ticker, "failed", reason or "Yahoo returned no prices"))
            else:
                results.append(_save(ticker, rows, store))
        pending = limited
        if not pending:
            break
    tries = network.retries + 1
    results += [
        TickerStatus(t, "failed", f"{RATE_LIMITED} on all {tries} tries; wait a while and fetch again") for t in pending
    ]
    return results


def _download(tickers: list[str], start: dt.date, session, timeout: float) -> tuple[pd.DataFrame, dict[str, str]]:
    with _yfinance_errors() as reasons, warnings.catch_warnings():
        # yfinance's own pandas deprecation warnings are not the user's business.
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        frame = yf.download(
            tickers,
            start=start.isoformat(),
            auto_adjust=False,
            actions=False,
            group_by="ticker",
            threads=False,
            progress=False,
            session=session,
            timeout=timeout,
            multi_level_index=True,
        )
    return frame, reasons


def _rows_for(frame: pd.DataFrame | None, ticker: str) -> pd.DataFrame:
    """The ticker's bars as a long frame (ticker, date, PRICE_FIELDS); rows with no value dropped.

    yfinance upper-cases symbols and, for daily bars, indexes them by the exchange-local date.
    """
    symbol = ticker.upper()
    if frame is None or symbol not in frame.columns.get_level_values(0):
        return pd.DataFrame(columns=["ticker", "date", *PRICE_FIELDS])
    part = frame[symbol].rename(columns=_YF_COLUMNS).reindex(columns=list(PRICE_FIELDS))
    part = part.dropna(how="all", subset=list(_PRICES))
    rows = part.reset_index(names="date")
    rows["date"] = pd.to_datetime(rows["date"]).dt.normalize()
    rows.insert(0, "ticker", ticker)
    return rows


def validate_bars(rows: pd.DataFrame, today: dt.date | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Split bars into usable ones and a note per rejected row.

    A row is rejected when its close is missing, any price is zero or negative, high < low,
    volume is negative, or it is dated after `today` (default: today), like a CSV row.
    """
    prices = rows[list(_PRICES)]
    problems = pd.DataFrame(
        {
            "no close price": rows["close"].isna(),
            "dated in the future": pd.to_datetime(rows["date"]).dt.date > (today or dt.date.today()),
            "zero or negative price": (prices <= 0).any(axis=1),
            "high below low": rows["high"] < rows["low"],
            "negative volume": rows["volume"] < 0,
        },
        index=rows.index,
    )
    bad = problems.any(axis=1)
    notes = [
        f"{rows.at[i, 'date']:%Y-%m-%d}: {', '.join(problems.columns[problems.loc[i]])}" for i in rows.index[bad]
    ]
    return rows[~bad], notes


def _save(ticker: str, rows: pd.DataFrame, store: Store) -> TickerStatus:
    good, rejected = validate_bars(rows)
    counts = store.upsert(good, source=SOURCE)
    if good.empty:
        return TickerStatus(ticker, "failed", f"every row Yahoo sent was invalid ({len(rejected)} rows)", counts, rejected)
    status: Status = "ok" if counts.changed else "up to date"
    return TickerStatus(ticker, status, None, counts, rejected)


def _describe(batch: Batch, results: list[TickerStatus]) -> str:
    failed = sum(r.status == "failed" for r in results)
    rows = sum((r.counts for r in results), UpsertCounts())
    return (
        f"{len(batch.tickers)} tickers from {batch.start}: {len(results) - failed} ok, {failed} failed, "
        f"{rows.inserted} rows new, {rows.updated} updated"
    )


# --- reading yfinance's log ------------------------------------------------------------------

_SUMMARY = re.compile(r"^(\[[^\]]*\]): (.+)$", re.S)  # "['AAA', 'BBB']: reason" after a download
_TICKER_ERROR = re.compile(r"^\$(\S+): (.+)$", re.S)  # "$AAA: possibly delisted; ..."
_YAHOO_ERROR = re.compile(r"Got error from yahoo api for ticker (\S+), Error: (\{.*\})", re.S)
_BAD_RESPONSE = re.compile(r"Failed to get ticker '([^']+)' reason: (.+)", re.S)


class _ErrorCollector(logging.Filter):
    """Collects per-symbol failure text from yfinance's records while a download runs.

    It sits on the "yfinance" logger, opened to DEBUG meanwhile because Yahoo's own reason (e.g.
    "No data found, symbol may be delisted") is only logged at DEBUG. kbgen reports failures
    itself, so records are swallowed, except those at or above a level the user set on the
    "yfinance" logger (the way to see yfinance's raw log).
    """

    def __init__(self, passthrough_level: int):
        super().__init__()
        self.passthrough_level = passthrough_level
        self.details: dict[str, list[str]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().strip()
        if match := _YAHOO_ERROR.search(message):
            self._add(match[1], _yahoo_description(match[2]))
        elif match := _BAD_RESPONSE.search(message):
            self._add(match[1], f"unreadable answer from Yahoo ({match[2].strip()})")
        elif record.levelno >= logging.ERROR and (match := _SUMMARY.match(message)):
            for symbol in re.findall(r"'([^']+)'", match[1]):
                self._add(symbol, _plain_reason(match[2]))
        elif record.levelno >= logging.ERROR and (match := _TICKER_ERROR.match(message)):
            self._add(match[1], _plain_reason(match[2]))
        return record.levelno >= self.passthrough_level

    def _add(self, symbol: str, text: str) -> None:
        found = self.details.setdefault(symbol.upper(), [])
        if text not in found:
            found.append(text)

    def reasons(self) -> dict[str, str]:
        """One line per symbol; a rate limit anywhere wins, since it is the one worth retrying."""
        return {
            symbol: RATE_LIMITED if RATE_LIMITED in texts else "; ".join(texts)
            for symbol, texts in self.details.items()
        }


def _yahoo_description(error: str) -> str:
    try:
        return str(ast.literal_eval(error).get("description") or error)
    except (ValueError, SyntaxError, AttributeError):
        return error


_EXCEPTION_REPR = re.compile(r"^\w+\((['\"])(.*)\1\)$", re.S)  # YFException('text') -> text


def _plain_reason(text: str) -> str:
    if "YFRateLimitError" in text or "Too Many Requests" in text:
        return RATE_LIMITED
    text = text.strip()
    match = _EXCEPTION_REPR.match(text)
    return match[2] if match else text


@contextmanager
def _yfinance_errors() -> Iterator[dict[str, str]]:
    """Yield a dict that holds, on exit, the failure reason per upper-cased symbol."""
    logger = logging.getLogger("yfinance")
    previous = logger.level
    collector = _ErrorCollector(previous or logging.CRITICAL + 1)
    reasons: dict[str, str] = {}
    logger.addFilter(collector)
    logger.setLevel(logging.DEBUG)
    try:
        yield reasons
    finally:
        logger.setLevel(previous)
        logger.removeFilter(collector)
        reasons.update(collector.reasons())
