"""The price store: upserts counted honestly, nothing lost on failure."""
import datetime as dt
import sqlite3

import pandas as pd
import pytest

from kbgen.store import Store


def rows(closes, ticker="AAA", start="2026-01-05"):
    dates = pd.bdate_range(start, periods=len(closes))
    return pd.DataFrame({"ticker": ticker, "date": dates, "close": closes, "adj_close": closes, "volume": 1000.0})


def test_insert_update_unchanged_counts(tmp_path):
    with Store(tmp_path / "p.sqlite") as store:
        first = store.upsert(rows([10.0, 11.0, 12.0]), "csv:a.csv")
        assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
        again = store.upsert(rows([10.0, 11.0, 12.5, 13.0]), "csv:a.csv")
        assert (again.inserted, again.updated, again.unchanged) == (1, 1, 2)
        loaded = store.load(["AAA"])
        assert loaded["close"].tolist() == [10.0, 11.0, 12.5, 13.0]
        assert store.last_dates() == {"AAA": dt.date(2026, 1, 8)}
        assert store.integrity_ok()


def test_a_close_only_row_for_a_stored_bar_keeps_its_other_fields(tmp_path):
    full = rows([10.0, 11.0]).assign(open=9.5, high=10.5, low=9.0)
    with Store(tmp_path / "p.sqlite") as store:
        store.upsert(full, "yahoo")
        close_only = rows([10.0, 11.5])[["ticker", "date", "close"]]
        counts = store.upsert(close_only, "csv:close-only.csv")
        assert (counts.updated, counts.unchanged) == (1, 1)
        loaded = store.load(["AAA"]).set_index("date")
        same, revised = loaded.iloc[0], loaded.iloc[1]
        assert (same["open"], same["adj_close"], same["volume"]) == (9.5, 10.0, 1000.0)  # nothing erased
        assert revised["close"] == 11.5 and pd.isna(revised["open"])  # a new close replaces the whole bar


def test_unchanged_rows_are_not_rewritten(tmp_path):
    with Store(tmp_path / "p.sqlite") as store:
        store.upsert(rows([10.0]), "first")
        store.upsert(rows([10.0]), "second")
        assert store.sources() == {"first"}


def test_failed_write_leaves_previous_contents(tmp_path):
    with Store(tmp_path / "p.sqlite") as store:
        store.upsert(rows([10.0, 11.0]), "csv")
        bad = rows([99.0, 98.0])
        bad.loc[1, "close"] = None  # NOT NULL violation on the second row
        with pytest.raises(sqlite3.IntegrityError):
            store.upsert(bad, "csv")
        assert store.load()["close"].tolist() == [10.0, 11.0]


def test_coverage_counts_missing_fields(tmp_path):
    with Store(tmp_path / "p.sqlite") as store:
        frame = rows([10.0, 11.0])
        frame["open"] = [9.5, None]
        store.upsert(frame, "csv")
        coverage = store.coverage().set_index("ticker")
        assert coverage.loc["AAA", "rows"] == 2
        assert coverage.loc["AAA", "missing_open"] == 1
        assert coverage.loc["AAA", "missing_high"] == 2


def test_unwritable_store_location(tmp_path):
    from kbgen.store import StoreError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the price store"):
        Store(blocker / "p.sqlite")


def test_a_store_file_deleted_while_open_refuses_the_write(tmp_path):
    from kbgen.store import StoreError

    path = tmp_path / "p.sqlite"
    with Store(path) as store:
        store.upsert(rows([10.0]), "csv")
        path.unlink()
        with pytest.raises(StoreError, match="was deleted or replaced while kbgen was writing to it"):
            store.upsert(rows([10.0, 11.0]), "csv")


def test_closes_gives_the_stored_close_per_row_and_nan_where_there_is_none(tmp_path):
    with Store(tmp_path / "p.sqlite") as store:
        store.upsert(rows([10.0, 11.0]), "csv")
        keys = pd.DataFrame({"ticker": ["AAA", "BBB", "AAA"], "date": pd.to_datetime(["2026-01-06", "2026-01-05", "2026-01-05"])},
                            index=[7, 8, 9])
        closes = store.closes(keys)
    assert closes.index.tolist() == [7, 8, 9]
    assert closes[7] == 11.0 and pd.isna(closes[8]) and closes[9] == 10.0
