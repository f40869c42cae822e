"""`kbgen add` / `kbgen remove`, and the tickers the store and the universe disagree on."""
from __future__ import annotations

import difflib

import pytest

from cli_runs import CONFIG, run
from kbgen.config import load_config

# Block style with comments and quoted names: what the edit must leave alone outside its line.
BLOCK_CONFIG = """\
# research universe, hand-kept
paths: {{vault: vault, store: .kbgen/prices.sqlite, cache: {cache}}}

universe:
  sectors:
    Energy:
      etf: XLE   # the SPDR
      members:
        XOM: "Exxon Mobil"   # integrated
        CVX: "Chevron"
    Information Technology:
      etf: XLK
      members:
        NVDA: "NVIDIA"
  benchmarks: {{SPY: S&P 500 ETF}}
  groups:
    oil majors:
      - XOM
      - CVX
network: {{retries: 0, timeout: 10{network}}}
"""

PRICES = """date,ticker,open,high,low,close,adj_close,volume
2026-01-05,XOM,,,,110,,
2026-01-05,CVX,,,,150,,
2026-01-05,NEE,,,,80,,
2026-01-05,XLE,,,,90,,
2026-01-05,XLU,,,,70,,
2026-01-05,SPY,,,,600,,
2026-01-05,PLTR,,,,170,,
2026-01-05,OXY,,,,45,,
"""


class Project:
    def __init__(self, folder, text):
        self.folder = folder
        self.path = folder / "kbgen.yml"
        self.path.write_text(text)

    @property
    def text(self) -> str:
        return self.path.read_text()


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path, CONFIG.format(cache=tmp_path / "cache", network=""))


@pytest.fixture
def block_project(tmp_path):
    return Project(tmp_path, BLOCK_CONFIG.format(cache=tmp_path / "cache", network=""))


@pytest.fixture
def yahoo_project(tmp_path, fake_yahoo, yahoo_certificate, yfinance_cache_dir):
    """A project reaching the fake Yahoo; it shares the session's cache folder, since yfinance
    binds its caches to the first folder a process uses."""
    network = f", proxy: {fake_yahoo.proxy_url}, ca_bundle: {yahoo_certificate[0]}"
    return Project(tmp_path, CONFIG.format(cache=yfinance_cache_dir, network=network))


def refused(project, *args, exit_code=2) -> str:
    """Run kbgen, expect the exit code and an untouched kbgen.yml; the output."""
    before = project.text
    result = run(project, *args)
    assert result.exit_code == exit_code, result.output
    assert project.text == before
    return result.output


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


def test_import_names_tickers_outside_the_universe_with_the_command_that_adds_them(project):
    (project.folder / "prices.csv").write_text(PRICES)
    result = run(project, "import", project.folder / "prices.csv")
    assert result.exit_code == 0, result.output
    assert "2 stored ticker(s) are not in the universe, so no note shows them: OXY, PLTR" in result.output
    assert "to track them run: kbgen add OXY PLTR" in result.output
    check = run(project, "check")
    assert "kbgen add OXY PLTR" in check.output


def test_add_from_a_constituents_file_keeps_every_other_byte(block_project):
    (block_project.folder / "sp500.csv").write_text(
        "symbol,name,gics_sector\nOXY,Occidental Petroleum,Energy\nAMD,Advanced Micro Devices,Information Technology\n")
    before = block_project.text
    result = run(block_project, "add", "OXY", "AMD", "--constituents", block_project.folder / "sp500.csv")
    assert result.exit_code == 0, result.output
    assert "added OXY (Occidental Petroleum) to Energy (from sp500.csv)" in result.output
    assert "no prices in the store yet for OXY, AMD; run: kbgen fetch OXY AMD" in result.output
    assert changed_lines(before, block_project.text) == [
        '+         OXY: "Occidental Petroleum"', '+         AMD: "Advanced Micro Devices"']
    config = load_config(block_project.path)
    assert config.securities["OXY"].sector == "Energy" and config.securities["AMD"].name == "Advanced Micro Devices"


def test_add_with_sector_extends_a_flow_mapping_in_place(project):
    before = project.text
    result = run(project, "add", "OXY", "--sector", "Energy", "--name", "Occidental")
    assert result.exit_code == 0, result.output
    assert changed_lines(before, project.text) == [
        "-     Energy: {etf: XLE, members: {XOM: Exxon Mobil, CVX: Chevron}}",
        "+     Energy: {etf: XLE, members: {XOM: Exxon Mobil, CVX: Chevron, OXY: Occidental}}",
    ]


def test_add_takes_name_and_sector_from_yahoos_profile(yahoo_project, fake_yahoo):
    fake_yahoo.profile("OXY", "Occidental Petroleum Corporation", "Energy")
    fake_yahoo.profile("NRG", "NRG Energy, Inc.", "Utilities")
    result = run(yahoo_project, "add", "OXY", "NRG")
    assert result.exit_code == 0, result.output
    assert "added NRG (NRG Energy, Inc.) to Utilities (from Yahoo's profile)" in result.output
    config = load_config(yahoo_project.path)
    assert config.securities["OXY"].name == "Occidental Petroleum Corporation"
    assert config.securities["NRG"].name == "NRG Energy, Inc." and config.securities["NRG"].sector == "Utilities"


def test_a_ticker_with_no_data_anywhere_is_named_a_likely_typo(yahoo_project, fake_yahoo):
    output = refused(yahoo_project, "add", "OXYY")
    assert "OXYY: no name or sector from any source" in output and "likely a typo" in output


def test_unknown_sector_is_a_usage_error_that_lists_the_sectors(project):
    output = refused(project, "add", "OXY", "--sector", "Oil")
    assert "unknown sector 'Oil'; use one of the universe's sectors: Energy, Utilities" in output
    assert "add it under universe.sectors with its ETF first" in refused(project, "add", "OXY", "--sector", "Materials")


def test_a_ticker_already_in_the_universe_changes_nothing(project):
    output = refused(project, "add", "xom", "--sector", "Energy", exit_code=0)
    assert "XOM: already in the universe; nothing changed" in output


def test_remove_takes_the_ticker_out_of_its_sector_and_groups(block_project):
    before = block_project.text
    result = run(block_project, "remove", "CVX")
    assert result.exit_code == 0, result.output
    assert "removed CVX from the universe; its prices stay in the store" in result.output
    assert changed_lines(before, block_project.text) == ['-         CVX: "Chevron"', "-       - CVX"]
    assert "CVX" not in load_config(block_project.path).securities


def test_remove_from_a_flow_mapping_and_refusals(project):
    assert run(project, "remove", "XOM").exit_code == 0
    assert "Energy: {etf: XLE, members: {CVX: Chevron}}" in project.text
    assert run(project, "remove", "CVX").exit_code == 0
    assert "Energy: {etf: XLE, members: {}}" in project.text
    assert "XLE is the ETF of the sector Energy" in refused(project, "remove", "XLE")
    assert "PLTR not in the universe" in refused(project, "remove", "PLTR")


def test_build_summary_warns_of_universe_tickers_without_prices(project):
    (project.folder / "prices.csv").write_text(PRICES.replace("2026-01-05,NEE,,,,80,,\n", ""))
    run(project, "import", project.folder / "prices.csv")
    result = run(project, "build")
    assert "1 universe ticker(s) have no prices in the store: NEE; run: kbgen fetch NEE" in result.output


def test_after_a_yahoo_fetch_a_ticker_without_prices_is_named_a_likely_typo(project):
    from kbgen.jobs.universe import without_prices_warning

    config = load_config(project.path)
    warning = without_prices_warning(config, frozenset(config.tickers) - {"NEE"}, "yahoo")
    assert warning.startswith("1 universe ticker(s) have no prices in the store: NEE; Yahoo gave no prices")
    assert "likely typos" in warning
    assert without_prices_warning(config, frozenset(config.tickers), "yahoo") is None
