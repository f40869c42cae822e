"""The Yahoo source against the real yfinance, talking to a fake Yahoo through the proxy settings."""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from fake_yahoo import DELISTED_REASON, MALFORMED, NOT_FOUND, RATE_LIMITED, YAHOO_HOSTS, Bar, FakeYahoo
from kbgen.config import parse_config
from kbgen.sources import SourceError
from kbgen.sources.network import network_settings
from kbgen.sources.yahoo import fetch_prices, plan_batches, validate_bars
from kbgen.store import Store

START = dt.date(2024, 1, 2)


def sessions(first: dt.date, count: int) -> list[dt.date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def bars(days: list[dt.date], base: float) -> list[Bar]:
    return [
        Bar(day, base + i, base + i + 1.5, base + i - 1.25, base + i + 0.5, base + i + 0.25, 1_000 * (i + 1))
        for i, day in enumerate(days)
    ]


def write_config(folder: Path, tickers: list[str], cache: Path, network: dict) -> object:
    """A config whose universe is `tickers` (the first is the sector ETF and benchmark) with the given network keys."""
    etf, *members = tickers
    lines = [
        "paths:",
        f"  cache: {cache}",
        "universe:",
        "  sectors:",
        "    Energy:",
        f"      etf: {etf}",
        "      members: {" + ", ".join(f"{t}: {t} Inc" for t in members) + "}",
        "analysis: {benchmark: " + etf + "}",
        "network:",
        *(f"  {key}: {value}" for key, value in {"retries": 2, "backoff": 0.5, **network}.items()),
        "fetch: {start: 2024-01-02, overlap_sessions: 2}",
    ]
    path = folder / "kbgen.yml"
    path.write_text("\n".join(lines) + "\n")
    return parse_config(path.read_text(), path)


@pytest.fixture
def make_config(tmp_path, fake_yahoo, yahoo_certificate, yfinance_cache_dir):
    """Build a config pointing at the fake through `network.proxy` and `network.ca_bundle`."""
    cert, _ = yahoo_certificate

    def build(tickers: list[str], **network):
        settings = {"proxy": fake_yahoo.proxy_url, "ca_bundle": str(cert), **network}
        return write_config(tmp_path, tickers, yfinance_cache_dir, {k: v for k, v in settings.items() if v is not None})

    return build


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "prices.sqlite") as opened:
        yield opened


class Sleeps(list):
    """A `sleep` that records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def served(fake: FakeYahoo, ticker: str, base: float, count: int = 8) -> list[Bar]:
    table = bars(sessions(START, count), base)
    fake.serve(ticker, table)
    return table


def stored(store: Store, ticker: str) -> list[tuple]:
    frame = store.load([ticker])
    return [
        (row.date.date(), row.open, row.high, row.low, row.close, row.adj_close, row.volume)
        for row in frame.itertuples()
    ]


def as_rows(table: list[Bar]) -> list[tuple]:
    return [(b.day, b.open, b.high, b.low, b.close, b.adj_close, b.volume) for b in table]


# --- normal and incremental fetches ------------------------------------------------------------

def test_multi_ticker_fetch_stores_exactly_what_yahoo_served(fake_yahoo, make_config, store):
    tables = {t: served(fake_yahoo, t, base) for t, base in [("AAA", 10.0), ("BBB", 50.0), ("CCC", 120.0)]}
    config = make_config(list(tables))
    calls = []

    report = fetch_prices(config, store, progress=lambda *args: calls.append(args))

    assert report.ok and report.failed == {}
    assert {t: r.status for t, r in report.statuses.items()} == {"AAA": "ok", "BBB": "ok", "CCC": "ok"}
    assert report.counts.inserted == 24
    for ticker, table in tables.items():
        assert stored(store, ticker) == as_rows(table)
    assert store.sources() == {"yahoo"}
    assert len(calls) == 1 and calls[0][:2] == (1, 1)
    first_asked = {pd.Timestamp(int(r.query["period1"]), unit="s", tz="America/New_York").date()
                   for t in tables for r in fake_yahoo.chart_requests(t)}
    assert first_asked == {START}


def test_second_fetch_asks_only_from_the_overlap_before_the_last_stored_day(fake_yahoo, make_config, store):
    table = served(fake_yahoo, "INC", 30.0, count=6)
    config = make_config(["INC"])
    fetch_prices(config, store)
    later = bars(sessions(START, 9), 30.0)
    fake_yahoo.serve("INC", later)
    before = len(fake_yahoo.chart_requests("INC"))

    report = fetch_prices(config, store)

    second = fake_yahoo.chart_requests("INC")[before:]
    assert len(second) == 1
    asked_from = pd.Timestamp(int(second[0].query["period1"]), unit="s", tz="America/New_York").date()
    last_stored = table[-1].day
    assert asked_from == (pd.Timestamp(last_stored) - pd.offsets.BDay(2)).date()  # overlap_sessions: 2
    assert report.statuses["INC"].counts.inserted == 3 and report.statuses["INC"].counts.unchanged == 3
    assert stored(store, "INC") == as_rows(later)


def test_refetch_with_nothing_new_is_up_to_date(fake_yahoo, make_config, store):
    served(fake_yahoo, "SAME", 70.0)
    config = make_config(["SAME"])
    fetch_prices(config, store)

    report = fetch_prices(config, store)

    assert report.ok and report.statuses["SAME"].status == "up to date"
    assert report.counts.changed == 0


def test_plan_batches_groups_by_start_and_splits_by_size():
    last = {"A": dt.date(2024, 3, 8), "B": dt.date(2024, 3, 8)}  # a Friday
    batches = plan_batches(["A", "B", "N1", "N2", "N3"], last, dt.date(2024, 1, 2), overlap=5, batch_size=2)

    assert [(b.start, b.tickers) for b in batches] == [
        (dt.date(2024, 1, 2), ("N1", "N2")),
        (dt.date(2024, 1, 2), ("N3",)),
        (dt.date(2024, 3, 1), ("A", "B")),
    ]


# --- failures ------------------------------------------------------------------------------

def test_delisted_ticker_is_named_with_yahoos_reason_and_others_are_saved(fake_yahoo, make_config, store):
    table = served(fake_yahoo, "GOOD", 40.0)
    fake_yahoo.fail("GONE", NOT_FOUND)

    report = fetch_prices(make_config(["GOOD", "GONE"]), store)

    assert not report.ok
    assert list(report.failed) == ["GONE"]
    assert DELISTED_REASON in report.failed["GONE"]
    assert stored(store, "GOOD") == as_rows(table)
    assert store.load(["GONE"]).empty


def test_rate_limit_that_clears_is_retried_after_backoff(fake_yahoo, make_config, store):
    table = served(fake_yahoo, "SLOW", 15.0)
    fake_yahoo.fail("SLOW", RATE_LIMITED, times=4)  # yfinance itself asks twice per attempt
    sleeps = Sleeps()

    report = fetch_prices(make_config(["SLOW"], retries=3, backoff=0.5), store, sleep=sleeps)

    assert report.ok, report.failed
    assert sleeps == [0.5, 1.0]
    assert stored(store, "SLOW") == as_rows(table)


def test_rate_limit_that_never_clears_is_reported(fake_yahoo, make_config, store):
    table = served(fake_yahoo, "OKAY", 25.0)
    served(fake_yahoo, "STUCK", 35.0)
    fake_yahoo.fail("STUCK", RATE_LIMITED)
    sleeps = Sleeps()

    report = fetch_prices(make_config(["OKAY", "STUCK"], retries=2, backoff=0.25), store, sleep=sleeps)

    assert not report.ok
    assert list(report.failed) == ["STUCK"]
    assert "HTTP 429" in report.failed["STUCK"] and "3 tries" in report.failed["STUCK"]
    assert sleeps == [0.25, 0.5]
    assert stored(store, "OKAY") == as_rows(table)


def test_malformed_json_fails_that_ticker_with_the_parse_error(fake_yahoo, make_config, store):
    served(fake_yahoo, "FINE", 60.0)
    fake_yahoo.fail("JUNK", MALFORMED)

    report = fetch_prices(make_config(["FINE", "JUNK"]), store)

    assert list(report.failed) == ["JUNK"]
    assert "unreadable answer from Yahoo" in report.failed["JUNK"]
    assert report.statuses["FINE"].status == "ok"


def test_partial_failure_saves_earlier_batches_and_names_failed_tickers(fake_yahoo, make_config, store):
    good = {t: served(fake_yahoo, t, 10.0 * i) for i, t in enumerate(["P1", "P2", "P3"], start=1)}
    fake_yahoo.fail("P4", NOT_FOUND)
    fake_yahoo.fail("P5", MALFORMED)
    calls = []

    report = fetch_prices(make_config([*good, "P4", "P5"], batch_size=2), store, progress=lambda *a: calls.append(a))

    assert not report.ok
    assert sorted(report.failed) == ["P4", "P5"]
    assert {t for t, r in report.statuses.items() if r.status == "ok"} == set(good)
    for ticker, table in good.items():
        assert stored(store, ticker) == as_rows(table)
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert "1 failed" in calls[1][2]


def test_batches_already_saved_survive_an_interruption(fake_yahoo, make_config, store):
    first = {t: served(fake_yahoo, t, 5.0 * i) for i, t in enumerate(["I1", "I2"], start=1)}
    served(fake_yahoo, "I3", 99.0)

    def interrupt(done, total, message):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_prices(make_config([*first, "I3"], batch_size=2), store, progress=interrupt)

    for ticker, table in first.items():
        assert stored(store, ticker) == as_rows(table)
    assert fake_yahoo.chart_requests("I3") == []


def test_yfinance_log_is_turned_into_the_report_not_printed(fake_yahoo, make_config, store, caplog):
    fake_yahoo.fail("HUSH", NOT_FOUND)
    yf_logger = logging.getLogger("yfinance")
    filters_before = list(yf_logger.filters)

    with caplog.at_level(logging.DEBUG):
        report = fetch_prices(make_config(["HUSH"]), store)
    assert "HUSH" in report.failed
    assert [r for r in caplog.records if r.name.startswith("yfinance")] == []
    assert yf_logger.level == logging.NOTSET and yf_logger.filters == filters_before

    caplog.clear()
    yf_logger.setLevel(logging.ERROR)  # how a user asks to see yfinance's own errors
    try:
        fetch_prices(make_config(["HUSH"]), store)
    finally:
        yf_logger.setLevel(logging.NOTSET)
    shown = [r for r in caplog.records if r.name.startswith("yfinance")]
    assert shown and all(r.levelno >= logging.ERROR for r in shown)


def test_invalid_rows_are_dropped_and_reported(fake_yahoo, make_config, store):
    days = sessions(START, 4)
    fake_yahoo.serve("BADR", [
        Bar(days[0], 10, 11, 9, 10.5, 10.5, 100),
        Bar(days[1], 10, 9, 11, 10.5, 10.5, 100),    # high below low
        Bar(days[2], 10, 11, 9, -1.0, -1.0, 100),    # negative close
        Bar(days[3], 10, 11, 9, 10.5, 10.5, 100),
    ])

    report = fetch_prices(make_config(["BADR"]), store)

    result = report.statuses["BADR"]
    assert result.status == "ok" and result.counts.inserted == 2
    assert result.rejected == [f"{days[1]}: high below low", f"{days[2]}: zero or negative price"]
    assert [row[0] for row in stored(store, "BADR")] == [days[0], days[3]]


def test_validate_bars_rejects_each_kind_of_bad_row():
    rows = pd.DataFrame({
        "ticker": "X", "date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
        "open": [1.0, 1.0, 0.0, 1.0], "high": [2.0, 2.0, 2.0, 2.0], "low": [0.5, 0.5, 0.5, 0.5],
        "close": [1.5, None, 1.5, 1.5], "adj_close": [1.5, 1.5, 1.5, 1.5], "volume": [10, 10, 10, -1],
    })

    kept, notes = validate_bars(rows)

    assert list(kept["date"].dt.day) == [2]
    assert notes == ["2024-01-03: no close price", "2024-01-04: zero or negative price", "2024-01-05: negative volume"]


# --- network settings ----------------------------------------------------------------------

def test_proxy_and_ca_bundle_from_the_environment(fake_yahoo, make_config, store, monkeypatch, yahoo_certificate):
    table = served(fake_yahoo, "ENVP", 90.0)
    monkeypatch.setenv("HTTPS_PROXY", fake_yahoo.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(yahoo_certificate[0]))

    report = fetch_prices(make_config(["ENVP"], proxy=None, ca_bundle=None), store)

    assert report.ok, report.failed
    assert stored(store, "ENVP") == as_rows(table)
    assert fake_yahoo.chart_requests("ENVP")


def test_network_settings_prefer_the_config_then_the_environment_in_order(tmp_path):
    first, second = tmp_path / "first.pem", tmp_path / "second.pem"
    first.write_text("pem"), second.write_text("pem")
    environ = {"https_proxy": "http://env-proxy:3128", "REQUESTS_CA_BUNDLE": str(first), "CURL_CA_BUNDLE": str(second)}

    from_env = network_settings(write_config(tmp_path, ["X"], tmp_path, {}), environ)
    from_config = network_settings(
        write_config(tmp_path, ["X"], tmp_path, {"proxy": "http://cfg:8080", "ca_bundle": str(second)}), environ
    )
    unverified = network_settings(write_config(tmp_path, ["X"], tmp_path, {"verify": "false"}), environ)
    curl_only = network_settings(write_config(tmp_path, ["X"], tmp_path, {}), {"CURL_CA_BUNDLE": str(second)})

    assert (from_env.proxy, from_env.verify) == ("http://env-proxy:3128", str(first))
    assert "https_proxy environment variable" in from_env.proxy_origin
    assert (from_config.proxy, from_config.verify) == ("http://cfg:8080", str(second))
    assert unverified.verify is False
    assert (curl_only.proxy, curl_only.verify) == (None, str(second))


def test_unreachable_proxy_from_the_environment_is_named(fake_yahoo, make_config, store, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")

    with pytest.raises(SourceError, match=r"cannot reach the proxy .*HTTPS_PROXY environment variable"):
        fetch_prices(make_config(["NOPE"], proxy=None), store)


def test_missing_ca_bundle_from_the_environment_is_named(fake_yahoo, make_config, store, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))

    with pytest.raises(SourceError, match=r"gone\.pem .*does not exist.*REQUESTS_CA_BUNDLE"):
        fetch_prices(make_config(["NOPE"], ca_bundle=None), store)


def test_unreachable_proxy_stops_the_fetch_naming_the_setting(fake_yahoo, make_config, store):
    closed_port_proxy = "http://127.0.0.1:9"  # discard port: nothing listens there

    with pytest.raises(SourceError, match=r"cannot reach the proxy http://127\.0\.0\.1:9.*network\.proxy"):
        fetch_prices(make_config(["NOPE"], proxy=closed_port_proxy), store)


def test_missing_ca_bundle_stops_the_fetch_naming_the_setting(fake_yahoo, make_config, store, tmp_path):
    with pytest.raises(SourceError, match=r"does not exist.*network\.ca_bundle"):
        fetch_prices(make_config(["NOPE"], ca_bundle=str(tmp_path / "missing.pem")), store)


def test_untrusted_certificate_stops_the_fetch_with_the_fix(fake_yahoo, make_config, store):
    with pytest.raises(SourceError, match=r"not trusted.*network\.ca_bundle"):
        fetch_prices(make_config(["NOPE"], ca_bundle=None), store)
    assert fake_yahoo.connects  # it did get as far as the proxy


def test_yfinance_caches_live_under_the_cache_dir(fake_yahoo, make_config, store, yfinance_cache_dir):
    served(fake_yahoo, "TZC", 45.0)

    fetch_prices(make_config(["TZC"]), store)

    folder = yfinance_cache_dir / "yfinance"
    with sqlite3.connect(folder / "tkr-tz.db") as db:
        cached = dict(db.execute("SELECT key, value FROM _tz_kv").fetchall())
    assert cached["TZC"] == "America/New_York"
    assert (folder / "cookies.db").is_file()


def test_no_request_leaves_127_0_0_1(fake_yahoo, make_config, store, monkeypatch, yahoo_certificate):
    """Everything goes through the configured proxy: a tripwire proxy in the environment stays idle,
    and the fake saw only tunnels to Yahoo's hosts."""
    tripwire = FakeYahoo(*yahoo_certificate).start()
    try:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, tripwire.proxy_url)
        served(fake_yahoo, "LOCAL", 12.0)
        fake_yahoo.fail("LOST", NOT_FOUND)

        fetch_prices(make_config(["LOCAL", "LOST"]), store)

        assert tripwire.requests == [] and tripwire.connects == []
    finally:
        tripwire.stop()
    assert fake_yahoo.requests
    assert all(r.tunnel == f"{r.host}:443" for r in fake_yahoo.requests)
    assert {target.rsplit(":", 1)[0] for target in fake_yahoo.connects} <= set(YAHOO_HOSTS)
