"""Shared pytest fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest

from fake_yahoo import FakeYahoo, make_certificate

TESTS_DIR = Path(__file__).resolve().parent   # test files import these, wherever their folder
REPO_ROOT = TESTS_DIR.parent

# Network variables of the machine running the tests; cleared so only what a test sets counts.
NETWORK_ENV = (
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
)


# --- the fake Yahoo server (tests/fake_yahoo.py) ---------------------------------------------

@pytest.fixture(scope="session")
def yahoo_certificate(tmp_path_factory):
    """(cert, key) of a throwaway certificate for Yahoo's hosts, made with openssl."""
    return make_certificate(tmp_path_factory.mktemp("fake-yahoo-tls"))


@pytest.fixture(scope="session")
def _fake_yahoo_server(yahoo_certificate):
    server = FakeYahoo(*yahoo_certificate).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def yfinance_cache_dir(tmp_path_factory):
    """One folder for kbgen's cache per test session: yfinance binds its caches on first use."""
    return tmp_path_factory.mktemp("kbgen-cache")


@pytest.fixture
def fake_yahoo(_fake_yahoo_server, monkeypatch):
    """The fake Yahoo with an empty script and request log, and no proxy or CA variables set."""
    for name in NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)
    _fake_yahoo_server.reset()
    return _fake_yahoo_server


# --- a kbgen project filled with simulated prices -------------------------------------------

DEMO_END = __import__("datetime").date(2026, 1, 30)


class MarketClock:
    """The time kbgen reads when it compares the store with the exchange calendar."""

    def __init__(self):
        self.set_evening_of(DEMO_END)

    def set_evening_of(self, day) -> None:
        """23:00 UTC of `day`: after the New York close, so `day`'s session has closed."""
        import datetime as dt

        self.now = dt.datetime.combine(day, dt.time(23, 0), tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def market_clock(monkeypatch):
    """Tests run on the evening of DEMO_END (the simulated store's last session) unless they set
    the clock themselves: otherwise the store would look months old next to today's calendar."""
    clock = MarketClock()
    monkeypatch.setattr("kbgen.exchange.now", lambda: clock.now)
    return clock


@pytest.fixture
def demo_project(tmp_path):
    """A project made by `kbgen init` whose store holds 300 simulated sessions ending DEMO_END."""
    from kbgen.config import load_config
    from kbgen.jobs.init import init_project
    from kbgen.sources.demo import DEMO_SOURCE, simulate_market
    from kbgen.store import Store

    init_project(tmp_path)
    config = load_config(tmp_path / "kbgen.yml")
    with Store(config.store_path) as store:
        store.upsert(simulate_market(config.securities, end=DEMO_END, sessions=300), DEMO_SOURCE)
    return config
