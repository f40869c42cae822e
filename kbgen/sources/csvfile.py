"""CSV import: a long price file checked row by row before anything reaches the store.

The file is `date,ticker,open,high,low,close,adj_close,volume` with a header (columns in any
order; only date, ticker and close are required). A file that cannot be read as such raises
`CsvFormatError`; a bad row is rejected with its line number and reason, and the rest is kept.
Checks run on whole columns (tickers and dates on their distinct values only); messages are
written for rejected rows alone, so a 100k-row file takes a fraction of a second.

Given the store, a row that would move a stored close by more than `max_close_change` (a share:
0.5 is 50%) is rejected too: such a jump is far more often a wrong file (cents for dollars, another
ticker's prices) than a real revision, and a rejected row leaves the stored close as it was.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import DEFAULT_MAX_CLOSE_CHANGE, TICKER, TICKER_RULE
from ..errors import KbgenError

if TYPE_CHECKING:
    from ..store import Store

COLUMNS = ("date", "ticker", "open", "high", "low", "close", "adj_close", "volume")
REQUIRED = ("date", "ticker", "close")
PRICES = ("open", "high", "low", "close", "adj_close")
NUMBERS = (*PRICES, "volume")
OUTPUT_COLUMNS = ("ticker", "date", *NUMBERS)
RANGE_TOLERANCE = 0.005              # open/close may sit this far outside [low, high] (sources round)
HEADER_HINT = ",".join(COLUMNS)
PANDAS_EARLIEST = pd.Timestamp.min.ceil("D").date()   # the span of pandas' nanosecond timestamps
PANDAS_LATEST = pd.Timestamp.max.floor("D").date()
EARLIEST_DATE = dt.date(1970, 1, 1)   # older "daily prices" are a typo or a placeholder (1900-01-01)
MAX_PRICE = 1e9                       # above any traded price; 1e308 would overflow every return
MAX_VOLUME = 1e15


class CsvFormatError(KbgenError):
    """The file as a whole cannot be read as a price CSV; the message says why and how to fix it."""


@dataclass(frozen=True)
class CsvImport:
    rows: pd.DataFrame                                   # valid rows: ticker, date (Timestamp), prices, volume
    rejected: list[tuple[int, str, str]] = field(default_factory=list)   # (line number, reason, raw line)
    total: int = 0                                       # data rows in the file (blank lines not counted)


def read_prices_csv(path: Path, today: dt.date | None = None, store: Store | None = None,
                    max_close_change: float = DEFAULT_MAX_CLOSE_CHANGE) -> CsvImport:
    """Parse and validate a long price CSV; rows dated after `today` (default: today) are rejected,
    and, given the `store`, rows that would move a stored close by more than `max_close_change`."""
    path = Path(path)
    lines = _read_lines(path)
    columns = _parse_header(path, lines[0])
    table, fields = _read_table(path, lines, columns)
    values = _convert(table)
    values["stored"] = store.closes(values[["ticker", "date"]]) if store is not None and len(values) else np.nan
    codes, first_line = _problems(table, values, fields, len(columns), today or dt.date.today(), max_close_change)
    bad = np.flatnonzero(codes >= 0)
    extra = {"limit": f"{max_close_change:.0%}"}
    rejected = [
        _rejection(lines, columns, int(table.index[i]) + 2, CHECKS[codes[i]][1],
                   {**extra, "fields": int(fields[i]), "first": int(first_line[i]), "stored": f"{values['stored'].iat[i]:g}"})
        for i in bad
    ]
    rows = values.loc[codes < 0, list(OUTPUT_COLUMNS)].reset_index(drop=True)
    return CsvImport(rows=rows, rejected=rejected, total=len(table))


# --- the file and its header --------------------------------------------------------------------

def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvFormatError(f"{path}: cannot read the file: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFormatError(f"{path}: the file is UTF-16 encoded; save it as CSV UTF-8 (comma delimited)")
    if b"\x00" in data[:65536]:
        raise CsvFormatError(f"{path}: the file is binary, not CSV text; export the prices as a .csv file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFormatError(
            f"{path}:{line}: byte {exc.start} is not UTF-8 text (a Latin-1 or Windows export?); save the file as CSV UTF-8"
        ) from None
    if not text.strip():
        raise CsvFormatError(f"{path}: the file is empty; it needs the header {HEADER_HINT} and one row per ticker and date")
    # The line ends pandas' C parser recognises, so row i stays line i + 2.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _parse_header(path: Path, header: str) -> list[str]:
    """Column names in file order, lower-cased; 'Adj Close' is read as adj_close."""
    found = header if len(header) <= 80 else header[:77] + "..."
    for delimiter, name in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
        if delimiter in header and "," not in header:
            raise CsvFormatError(
                f"{path}:1: expected a header {HEADER_HINT}; found '{found}': the file uses {name} as "
                "delimiter, re-export it with commas"
            )
    names = [cell.strip().strip('"').strip().lower().replace(" ", "_") for cell in header.split(",")]
    if not any(n in COLUMNS for n in names):
        raise CsvFormatError(
            f"{path}:1: expected a header {HEADER_HINT}; found '{found}': add that header as the first line"
        )
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise CsvFormatError(
            f"{path}:1: unexpected column(s) {', '.join(map(repr, unknown))}; the columns are {HEADER_HINT}: "
            "remove or rename the others"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CsvFormatError(f"{path}:1: column(s) {', '.join(repeated)} appear more than once in the header; keep one")
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise CsvFormatError(f"{path}:1: the header lacks the required column(s) {', '.join(missing)}; expected {HEADER_HINT}")
    return names


def _read_table(path: Path, lines: list[str], columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The data lines as a frame (row label i is line i + 2, blank lines dropped) and each row's field count.

    The frame is as wide as the widest line, so a line with extra fields is rejected on its own
    instead of failing the file.
    """
    body = "\n".join(lines[1:])
    if not body.strip():
        return pd.DataFrame(columns=columns), np.zeros(0, dtype=int)
    fields = _commas_per_line(body, len(lines) - 1) + 1
    spare = [f"extra {i}" for i in range(max(0, int(fields.max()) - len(columns)))]
    try:
        table = pd.read_csv(
            io.StringIO(body), header=None, names=columns + spare, engine="c", skip_blank_lines=False,
            keep_default_na=False, na_values=[""],
            dtype={name: object for name in columns + spare if name not in NUMBERS},
        )
    except pd.errors.ParserError:
        table = None
    # A quoted field spanning lines would shift every later row off its line number.
    if table is None or len(table) != body.count("\n") + (not body.endswith("\n")):
        raise _open_quote_error(path, lines)
    fields = fields[: len(table)]
    filled = table.notna().any(axis=1).to_numpy()
    return table[filled], fields[filled]


def _open_quote_error(path: Path, lines: list[str]) -> CsvFormatError:
    where = next((f":{number}" for number, line in enumerate(lines[1:], start=2) if line.count('"') % 2), "")
    return CsvFormatError(
        f"{path}{where}: a quoted field runs past the end of its line; a row must fit on one line: "
        "close the quote or remove the stray '\"'"
    )


def _commas_per_line(body: str, line_count: int) -> np.ndarray:
    codes = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    line_ends = np.flatnonzero(codes == ord("\n"))
    line_of_comma = np.searchsorted(line_ends, np.flatnonzero(codes == ord(",")))
    return np.bincount(line_of_comma, minlength=line_count)


# --- validation ---------------------------------------------------------------------------------

# (name, message) in order of precedence: a row is rejected for the first that applies. Messages are
# formatted with the row's raw cells, `fields`, `width` and `first` (the line a duplicate repeats).
CHECKS = (
    ("fields", "has {fields} fields, the header has {width}"),
    ("no ticker", "ticker is empty"),
    ("bad ticker", "ticker '{ticker}' " + TICKER_RULE),
    ("no date", "date is empty"),
    ("bad date", "date '{date}' is not an ISO date (YYYY-MM-DD)"),
    ("future", "date {date} is in the future"),
    ("too early", "date {date} is too far in the past (the earliest is " + EARLIEST_DATE.isoformat() + ")"),
    ("no close", "close is missing"),
    *((f"nan {n}", f"{n} '{{{n}}}' is not a number") for n in NUMBERS),
    *((f"not positive {n}", f"{n} {{{n}}} is not positive") for n in PRICES),
    *((f"too large {n}", f"{n} {{{n}}} is above {MAX_PRICE:,.0f}, not a price") for n in PRICES),
    ("negative volume", "volume {volume} is negative"),
    ("too large volume", f"volume {{volume}} is above {MAX_VOLUME:,.0f}, not a volume"),
    ("high below low", "high {high} is below low {low}"),
    *((f"{n} outside", f"{n} {{{n}}} is outside the day's range low {{low}} to high {{high}}") for n in ("open", "close")),
    ("close jump", "close {close} is too far from the stored close {stored} (more than import.max_close_change "
                   "{limit} apart); correct the file, or raise that limit in kbgen.yml if the new close is right"),
    ("duplicate", "duplicate of line {first} (same ticker and date)"),
)


def _convert(table: pd.DataFrame) -> pd.DataFrame:
    values = pd.DataFrame(index=table.index)
    values["ticker"] = _map_distinct(table["ticker"], lambda cell: cell.strip())
    values["date"] = _map_distinct(table["date"], _iso_date).astype("datetime64[ns]")
    for name in NUMBERS:
        column = table[name] if name in table else pd.Series(np.nan, index=table.index)
        values[name] = pd.to_numeric(column, errors="coerce").astype(float)
    return values


def _map_distinct(column: pd.Series, convert) -> pd.Series:
    """`convert` applied to each distinct non-empty cell once (a price file repeats few tickers and dates)."""
    codes, distinct = pd.factorize(column)
    converted = np.array([convert(cell) for cell in distinct] + [None], dtype=object)
    return pd.Series(converted[codes], index=column.index)


def _iso_date(cell: str):
    """The cell's date, pinned into the range pandas can hold so that a year like 2999 is rejected
    by the date checks instead of failing the whole file."""
    try:
        day = dt.date.fromisoformat(cell.strip())
    except ValueError:
        return pd.NaT
    return pd.Timestamp(min(max(day, PANDAS_EARLIEST), PANDAS_LATEST))


def _problems(table, values, fields, width: int, today: dt.date, max_close_change: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the index into CHECKS of its first problem (-1 when good) and a duplicate's first line."""
    given = {n: table[n].notna() if n in table else pd.Series(False, index=table.index) for n in NUMBERS}
    ticker, date = values["ticker"], values["date"]
    low_bound, high_bound = values["low"] * (1 - RANGE_TOLERANCE), values["high"] * (1 + RANGE_TOLERANCE)
    masks = {
        "fields": pd.Series(fields != width, index=table.index),
        "no ticker": ticker.isna() | (ticker == ""),
        "bad ticker": ~_map_distinct(table["ticker"], lambda cell: bool(TICKER.fullmatch(cell.strip()))).astype(bool),
        "no date": table["date"].isna(),
        "bad date": date.isna(),
        "future": date > pd.Timestamp(today),
        "too early": date < pd.Timestamp(EARLIEST_DATE),
        "no close": ~given["close"],
        **{f"nan {n}": given[n] & ~np.isfinite(values[n].fillna(np.inf)) for n in NUMBERS},
        **{f"not positive {n}": values[n] <= 0 for n in PRICES},
        **{f"too large {n}": values[n] > MAX_PRICE for n in PRICES},
        "negative volume": values["volume"] < 0,
        "too large volume": values["volume"] > MAX_VOLUME,
        "high below low": values["high"] < values["low"],
        "open outside": (values["open"] < low_bound) | (values["open"] > high_bound),
        "close outside": (values["close"] < low_bound) | (values["close"] > high_bound),
        "close jump": (values["close"] / values["stored"] - 1).abs() > max_close_change,
    }
    codes = np.full(len(table), -1)
    for index, (name, _) in reversed(list(enumerate(CHECKS[:-1]))):
        codes[masks[name].to_numpy(dtype=bool)] = index
    return _mark_duplicates(codes, values, table.index.to_numpy())


def _mark_duplicates(codes: np.ndarray, values: pd.DataFrame, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among otherwise good rows, later ones for a (ticker, date) already seen are duplicates."""
    good = codes < 0
    keys = values.loc[good, ["ticker", "date"]]
    first = keys.groupby(["ticker", "date"], sort=False).cumcount() == 0
    first_label = pd.Series(labels[good], index=keys.index).groupby([keys["ticker"], keys["date"]]).transform("first")
    duplicate = np.zeros(len(codes), dtype=bool)
    duplicate[np.flatnonzero(good)[~first.to_numpy()]] = True
    codes[duplicate] = len(CHECKS) - 1
    first_line = np.zeros(len(codes), dtype=int)
    first_line[np.flatnonzero(good)] = first_label.to_numpy() + 2
    return codes, first_line


def _rejection(lines, columns, line: int, message: str, extra: dict) -> tuple[int, str, str]:
    """(line, reason, raw line); `extra` holds the values a message names besides the row's cells."""
    raw = lines[line - 1]
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(zip(columns, (cell.strip() for cell in raw.split(","))))
    return line, message.format(**cells, **extra, width=len(columns)), raw
