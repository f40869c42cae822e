"""CSV import: good rows kept, each bad row rejected with its line and reason, unreadable files refused."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from kbgen.config import Security
from kbgen.sources.csvfile import CsvFormatError, read_prices_csv
from kbgen.sources.demo import simulate_market

HEADER = "date,ticker,open,high,low,close,adj_close,volume"
TODAY = dt.date(2026, 1, 30)


def _write(tmp_path, text: str, name: str = "prices.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_good_file_gives_typed_rows(tmp_path):
    path = _write(tmp_path, "\n".join([
        "ticker,date,close,open,high,low,volume,adj_close",        # column order is free
        "AAPL,2026-01-02,185.5,184,186,183,1000000,184.9",
        "^VIX,2026-01-02,16.2,,,,,",                              # empty cells for missing fields
        "",                                                        # blank lines are skipped
        "BRK-B,2026-01-05, 410.25 ,409,412,408,2000,410.25",
        "",
    ]))
    result = read_prices_csv(path, today=TODAY)
    assert result.total == 3 and result.rejected == []
    rows = result.rows
    assert list(rows.columns) == ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
    assert rows.ticker.tolist() == ["AAPL", "^VIX", "BRK-B"]
    assert rows.date.tolist() == [pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-05")]
    assert rows.close.tolist() == [185.5, 16.2, 410.25]
    assert np.isnan(rows.loc[1, "open"]) and rows.loc[0, "volume"] == 1_000_000


def test_only_date_ticker_and_close_columns_are_required(tmp_path):
    result = read_prices_csv(_write(tmp_path, "Date,Ticker,Close\n2026-01-02,GD,350\n"), today=TODAY)
    assert result.rows.close.tolist() == [350.0] and result.rows.high.isna().all()


BAD_ROWS = [
    ("2026-01-02,AAPL,10,11,9,10.5,10.5,100,7", "has 9 fields, the header has 8"),
    ("2026-01-02,AAPL,10,11,9", "has 5 fields, the header has 8"),
    ("2026-01-02,,10,11,9,10.5,10.5,100", "ticker is empty"),
    ("2026-01-02,aapl,10,11,9,10.5,10.5,100", "ticker 'aapl' may only use A-Z 0-9 ^ . - = _"),
    ("2026-01-02,../X,10,11,9,10.5,10.5,100", "ticker '../X' may only use A-Z 0-9 ^ . - = _"),
    (",AAPL,10,11,9,10.5,10.5,100", "date is empty"),
    ("02/01/2026,AAPL,10,11,9,10.5,10.5,100", "date '02/01/2026' is not an ISO date (YYYY-MM-DD)"),
    ("2026-02-30,AAPL,10,11,9,10.5,10.5,100", "date '2026-02-30' is not an ISO date (YYYY-MM-DD)"),
    ("2026-02-02,AAPL,10,11,9,10.5,10.5,100", "date 2026-02-02 is in the future"),
    ("2026-01-02,AAPL,10,11,9,,10.5,100", "close is missing"),
    ("2026-01-02,AAPL,10,11,9,ten,10.5,100", "close 'ten' is not a number"),
    ("2026-01-02,AAPL,10,11,9,10.5,10.5,lots", "volume 'lots' is not a number"),
    ("2026-01-02,AAPL,10,11,9,nan,10.5,100", "close 'nan' is not a number"),
    ("2026-01-02,AAPL,10,11,9,-10.5,10.5,100", "close -10.5 is not positive"),
    ("2026-01-02,AAPL,0,11,9,10.5,10.5,100", "open 0 is not positive"),
    ("2026-01-02,AAPL,10,11,9,10.5,0,100", "adj_close 0 is not positive"),
    ("2026-01-02,AAPL,10,11,9,10.5,10.5,-100", "volume -100 is negative"),
    ("2026-01-02,AAPL,10,9,11,10,10,100", "high 9 is below low 11"),
    ("2026-01-02,AAPL,11.1,11,9,10,10,100", "open 11.1 is outside the day's range low 9 to high 11"),
    ("2026-01-02,AAPL,10,11,9,8.9,8.9,100", "close 8.9 is outside the day's range low 9 to high 11"),
    ("1900-01-02,AAPL,10,11,9,10.5,10.5,100", "date 1900-01-02 is too far in the past (the earliest is 1970-01-01)"),
    ("2026-01-02,AAPL,,,,1e308,,", "close 1e308 is above 1,000,000,000, not a price"),
    ("2026-01-02,AAPL,10,11,9,10.5,10.5,1e300", "volume 1e300 is above 1,000,000,000,000,000, not a volume"),
]


@pytest.mark.parametrize("line, reason", BAD_ROWS, ids=[reason for _, reason in BAD_ROWS])
def test_each_bad_row_is_rejected_with_its_line_number_and_reason(tmp_path, line, reason):
    good = "2026-01-05,MSFT,400,405,398,401,401,5000"
    path = _write(tmp_path, "\n".join([HEADER, good, "", line, good.replace("01-05", "01-06")]) + "\n")
    result = read_prices_csv(path, today=TODAY)
    assert result.rejected == [(4, reason, line)]
    assert result.total == 3 and len(result.rows) == 2


def test_open_and_close_may_sit_half_a_percent_outside_the_range(tmp_path):
    path = _write(tmp_path, f"{HEADER}\n2026-01-02,AAPL,11.05,11,9,8.96,8.96,100\n")
    assert read_prices_csv(path, today=TODAY).rejected == []


def test_a_repeated_ticker_and_date_keeps_the_first_and_names_its_line(tmp_path):
    path = _write(tmp_path, "\n".join([
        HEADER,
        "2026-01-02,AAPL,10,11,9,10.5,10.5,100",
        "2026-01-02,MSFT,10,11,9,10.5,10.5,100",
        "2026-01-02,AAPL,10,11,9,10.7,10.7,100",
        "2026-01-02,AAPL,10,11,9,10.8,10.8,100",
    ]))
    result = read_prices_csv(path, today=TODAY)
    assert [(line, reason) for line, reason, _ in result.rejected] == [
        (4, "duplicate of line 2 (same ticker and date)"),
        (5, "duplicate of line 2 (same ticker and date)"),
    ]
    assert result.rows.close.tolist() == [10.5, 10.5]


def test_a_utf8_bom_and_windows_line_ends_are_accepted(tmp_path):
    path = _write(tmp_path, f"\ufeff{HEADER}\r\n2026-01-02,AAPL,10,11,9,10.5,10.5,100\r\n2026-01-02,bad,1,1,1,1,1,1\r\n")
    result = read_prices_csv(path, today=TODAY)
    assert result.rows.ticker.tolist() == ["AAPL"]
    assert result.rejected[0][0] == 3 and result.rejected[0][2] == "2026-01-02,bad,1,1,1,1,1,1"


@pytest.mark.parametrize("content, expected", [
    (b"", "the file is empty"),
    (b"  \n\n", "the file is empty"),
    ("Date;Ticker;Close\n2026-01-02;AAPL;10\n".encode(), "found 'Date;Ticker;Close': the file uses ';' as delimiter, re-export it with commas"),
    (b"date\tticker\tclose\n2026-01-02\tAAPL\t10\n", "the file uses tab as delimiter"),
    (b"2026-01-02,AAPL,10,11,9,10.5,10.5,100\n", "expected a header date,ticker,open,high,low,close,adj_close,volume; found '2026-01-02,AAPL"),
    (b"<html><body>Not found</body></html>\n", "add that header as the first line"),
    (b"date,ticker,close,currency\n2026-01-02,AAPL,10,USD\n", "unexpected column(s) 'currency'"),
    (b"date,ticker,open\n2026-01-02,AAPL,10\n", "lacks the required column(s) close"),
    (b"date,ticker,close,close\n2026-01-02,AAPL,10,10\n", "close appear more than once"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary, not CSV text"),
    (HEADER.encode("utf-16"), "UTF-16 encoded"),
    (b"date,ticker,close\n2026-01-02,CAF\xe9,10\n", "broken.csv:2: byte 32 is not UTF-8 text"),
])
def test_unreadable_files_raise_a_message_naming_the_file_and_the_fix(tmp_path, content, expected):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(CsvFormatError) as caught:
        read_prices_csv(path, today=TODAY)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_a_missing_file_raises(tmp_path):
    with pytest.raises(CsvFormatError, match="cannot read the file"):
        read_prices_csv(tmp_path / "absent.csv")


def test_a_header_without_rows_imports_nothing(tmp_path):
    result = read_prices_csv(_write(tmp_path, HEADER + "\n"), today=TODAY)
    assert result.total == 0 and result.rows.empty and result.rejected == []


def test_a_hundred_thousand_rows_parse_and_validate_quickly(tmp_path):
    days = pd.bdate_range("2020-01-01", periods=1000)
    tickers = [f"T{i:03d}" for i in range(100)]
    rng = np.random.default_rng(1)
    close = 50 + rng.random(100_000) * 100
    frame = pd.DataFrame({
        "date": np.tile(days.strftime("%Y-%m-%d"), 100), "ticker": np.repeat(tickers, 1000),
        "open": close.round(2), "high": (close * 1.01).round(2), "low": (close * 0.99).round(2),
        "close": close.round(2), "adj_close": close.round(4), "volume": rng.integers(1, 10**7, 100_000),
    })
    frame.loc[[10, 50_000], "high"] = 1.0           # two bad rows among them
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    started = time.perf_counter()
    result = read_prices_csv(path, today=TODAY)
    elapsed = time.perf_counter() - started
    assert result.total == 100_000 and len(result.rows) == 99_998
    assert [line for line, _, _ in result.rejected] == [12, 50_002]
    assert elapsed < 5.0, f"took {elapsed:.2f}s"


def test_simulated_prices_written_as_csv_pass_every_check(tmp_path):
    universe = {t: Security(t, t, "stock", "Industrials") for t in ("LMT", "CAT", "GE")}
    universe.update({"XLI": Security("XLI", "Industrials ETF", "sector_etf", "Industrials"),
                     "SPY": Security("SPY", "S&P 500", "benchmark"), "^VIX": Security("^VIX", "VIX", "cross_asset")})
    frame = simulate_market(universe, TODAY, sessions=150)
    path = tmp_path / "demo.csv"
    frame.assign(date=frame.date.dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    result = read_prices_csv(path, today=TODAY)
    assert result.rejected == [] and result.total == len(frame)
    pd.testing.assert_frame_equal(result.rows, frame, check_dtype=False, rtol=1e-9)
