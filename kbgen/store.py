"""The price store: one SQLite file, one row per (ticker, date).

Writes are upserts inside a single transaction, so an interrupted or failed write leaves the
previous contents intact, and data that is there is never removed by a later fetch or import.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import StoreError, describe_store_error, os_error_hint

PRICE_FIELDS = ("open", "high", "low", "close", "adj_close", "volume")
COLUMNS = ("ticker", "date", *PRICE_FIELDS, "source", "fetched_at")
BUSY_TIMEOUT = 30.0   # seconds a run waits for another run's write to the store to finish

_SCHEMA = """
CREATE TABLE IF NOT EXISTS prices (
    ticker     TEXT NOT NULL,
    date       TEXT NOT NULL,          -- ISO session date, exchange local
    open       REAL,
    high       REAL,
    low        REAL,
    close      REAL NOT NULL,          -- as reported by the source
    adj_close  REAL,                   -- split and dividend adjusted; analytics use it when present
    volume     REAL,
    source     TEXT NOT NULL,          -- yahoo, csv:<file name>, demo
    fetched_at TEXT NOT NULL,          -- UTC time the row was last written
    PRIMARY KEY (ticker, date)
) WITHOUT ROWID;
"""

# A row counts as changed only when a price field differs; rewriting the same numbers is a no-op.
# An empty incoming field for the same close (a close-only CSV of a day Yahoo already gave in full)
# keeps the stored value instead of erasing it; a different close replaces the whole bar.
_SAME_BAR = "excluded.close IS prices.close"
_VALUE = {f: f"CASE WHEN excluded.{f} IS NULL AND {_SAME_BAR} THEN prices.{f} ELSE excluded.{f} END"
          for f in PRICE_FIELDS if f != "close"}
_DIFFERS = " OR ".join(f"prices.{f} IS NOT {_VALUE.get(f, f'excluded.{f}')}" for f in PRICE_FIELDS)


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: "UpsertCounts") -> "UpsertCounts":
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


class Store:
    """An open price store. Use as a context manager, or call close()."""

    def __init__(self, path: Path, backup: bool = False):
        """`backup`: on a clean close, copy the store to `<name>.bak`, the last good store a
        user can go back to if the file is ever damaged."""
        self.path = Path(path)
        self._backup = backup
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._identity = _identity(self.path)
        except sqlite3.Error as exc:
            raise StoreError(describe_store_error(exc, self.path)) from None
        except OSError as exc:
            raise StoreError(f"cannot open the price store {self.path}: {os_error_hint(exc)}; "
                             "check paths.store in kbgen.yml") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if self._backup and exc is None:
                self._copy_to_backup()
        finally:
            self.close()

    def _copy_to_backup(self) -> None:
        # SQLite's online backup gives a consistent copy; written beside it, then renamed into place.
        target = self.path.with_name(self.path.name + ".bak")
        temp = target.with_name(target.name + ".tmp")
        copy = sqlite3.connect(temp)
        try:
            self._db.backup(copy)
        finally:
            copy.close()
        os.replace(temp, target)

    def close(self) -> None:
        self._db.close()

    def upsert(self, rows: pd.DataFrame, source: str) -> UpsertCounts:
        """Insert or update validated rows (columns: ticker, date, and any of PRICE_FIELDS).

        All rows go in one transaction: either every row is written or none is.
        """
        if rows.empty:
            return UpsertCounts()
        frame = rows.reindex(columns=["ticker", "date", *PRICE_FIELDS])
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
        fetched_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = [
            (*row, source, fetched_at)
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        ]
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TEMP TABLE IF NOT EXISTS incoming AS SELECT * FROM prices WHERE 0")
            db.execute("DELETE FROM temp.incoming")
            db.executemany(f"INSERT INTO temp.incoming ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", records)
            new, changed = db.execute(
                f"""SELECT SUM(prices.ticker IS NULL), SUM(prices.ticker IS NOT NULL AND ({_DIFFERS.replace('excluded.', 'incoming.')}))
                    FROM temp.incoming LEFT JOIN prices USING (ticker, date)"""
            ).fetchone()
            db.execute(
                f"""INSERT INTO prices ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM temp.incoming WHERE true
                    ON CONFLICT (ticker, date) DO UPDATE SET
                    {', '.join(f"{c} = {_VALUE.get(c, 'excluded.' + c)}" for c in COLUMNS[2:])}
                    WHERE {_DIFFERS}"""
            )
            db.execute("DELETE FROM temp.incoming")
            self._require_same_file()
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._require_same_file()  # went away between the check and the commit: the rows are not in it
        new, changed = int(new or 0), int(changed or 0)
        return UpsertCounts(inserted=new, updated=changed, unchanged=len(records) - new - changed)

    def _require_same_file(self) -> None:
        """SQLite keeps writing to a store file deleted or replaced under it, so a write would be
        lost while looking successful; refuse instead."""
        try:
            same = _identity(self.path) == self._identity
        except OSError:
            same = False
        if not same:
            raise StoreError(f"the price store {self.path} was deleted or replaced while kbgen was writing to it; "
                             "these rows were not saved: run the command again")

    def closes(self, keys: pd.DataFrame) -> pd.Series:
        """The stored close for each row of `keys` (columns ticker, date as Timestamp), NaN where none."""
        tickers = keys["ticker"].dropna().unique().tolist()
        dates = keys["date"].dropna()
        if not tickers or dates.empty:
            return pd.Series(float("nan"), index=keys.index)
        stored = self.load(tickers, dates.min().date(), dates.max().date(), columns=("ticker", "date", "close"))
        found = keys.merge(stored, on=["ticker", "date"], how="left")["close"]
        return pd.Series(found.to_numpy(), index=keys.index)

    def load(
        self,
        tickers: list[str] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        columns: tuple[str, ...] = COLUMNS,
    ) -> pd.DataFrame:
        """Rows as a long frame (date as Timestamp), sorted by ticker then date; `columns` picks
        the fields (the analytics skip `source` and `fetched_at`, a third of the reading time)."""
        clauses, params = [], []
        if tickers is not None:
            clauses.append(f"ticker IN ({', '.join('?' * len(tickers))})")
            params.extend(tickers)
        if start is not None:
            clauses.append("date >= ?")
            params.append(start.isoformat())
        if end is not None:
            clauses.append("date <= ?")
            params.append(end.isoformat())
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        frame = pd.read_sql_query(
            f"SELECT {', '.join(columns)} FROM prices {where} ORDER BY ticker, date", self._db, params=params
        )
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def last_dates(self) -> dict[str, dt.date]:
        rows = self._db.execute("SELECT ticker, MAX(date) FROM prices GROUP BY ticker").fetchall()
        return {ticker: dt.date.fromisoformat(day) for ticker, day in rows}

    def sources(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT DISTINCT source FROM prices")}

    def coverage(self) -> pd.DataFrame:
        """Per ticker: first and last date, row count, and rows missing each optional field."""
        missing = ", ".join(f"SUM({f} IS NULL) AS missing_{f}" for f in PRICE_FIELDS if f != "close")
        return pd.read_sql_query(
            f"""SELECT ticker, MIN(date) AS first, MAX(date) AS last, COUNT(*) AS rows, {missing},
                       GROUP_CONCAT(DISTINCT source) AS sources
                FROM prices GROUP BY ticker ORDER BY ticker""",
            self._db,
        )

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _identity(path: Path) -> tuple[int, int]:
    """Which file `path` names: (device, inode)."""
    info = os.stat(path)
    return info.st_dev, info.st_ino
