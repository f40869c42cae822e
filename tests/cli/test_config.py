"""Config validation: every fault reported together, each with file, key and line."""
from pathlib import Path

import pytest

from kbgen.config import ConfigError, load_config, parse_config
from kbgen.resources import starter_path

MINIMAL = """\
universe:
  sectors:
    Energy:
      etf: XLE
      members: {XOM: ExxonMobil, CVX: Chevron}
  benchmarks: {SPY: S&P 500 ETF}
  groups:
    Energy majors: [XOM, CVX]
"""


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "kbgen.yml")
    return caught.value.problems


def test_starter_config_is_valid_and_covers_the_reference_note():
    config = load_config(starter_path("kbgen.yml"))
    names = {s.name for s in config.securities.values()}
    for company in ("Apple", "NVIDIA", "Cloudflare", "Oracle", "Northrop Grumman", "Lockheed Martin", "General Dynamics"):
        assert company in names
    assert len(config.universe.sectors) == 11
    assert {"SPY", "RSP", "QQQ", "IWM", "DIA"} <= set(config.universe.benchmarks)
    assert config.sector_of("NOC") == "Industrials"
    assert "Defense primes" in config.groups_of("LMT")


def test_minimal_config_resolves_paths_beside_the_file(tmp_path):
    config = parse_config(MINIMAL, tmp_path / "kbgen.yml")
    assert config.store_path == tmp_path / ".kbgen" / "prices.sqlite"
    assert config.vault_dir == tmp_path / "vault"
    assert config.securities["XLE"].kind == "sector_etf"


def test_unknown_key_names_file_key_and_line(tmp_path):
    text = MINIMAL + "analysis:\n  benchmark: SPY\n  moverz: 5\n"
    [problem] = problems(text, tmp_path)
    assert problem == f"{tmp_path / 'kbgen.yml'}:11: analysis.moverz: unknown key; check its spelling against the commented config `kbgen init` writes"


def test_all_problems_are_reported_together(tmp_path):
    text = MINIMAL + "analysis:\n  movers: many\nnetwork:\n  timeout: -1\n"
    found = problems(text, tmp_path)
    assert len(found) == 2
    assert any(":10: analysis.movers:" in p and "'many'" in p for p in found)
    assert any(":12: network.timeout:" in p for p in found)


def test_schema_and_universe_problems_are_reported_in_one_run(tmp_path):
    text = MINIMAL.replace("  benchmarks:", "    Utilities:\n      etf: XLU\n      members: {XOM: Exxon again}\n  benchmarks:")
    found = problems(text + "analysis:\n  movers: many\n", tmp_path)
    assert any("analysis.movers:" in p for p in found)
    assert any("ticker XOM is listed twice" in p for p in found)


def test_ticker_in_two_sectors_is_an_error(tmp_path):
    text = MINIMAL.replace("  benchmarks:", "    Utilities:\n      etf: XLU\n      members: {XOM: Exxon again}\n  benchmarks:")
    [problem] = problems(text, tmp_path)
    assert ":8: universe.sectors.Utilities.members.XOM: ticker XOM is listed twice" in problem
    assert "universe.sectors.Energy.members.XOM" in problem


def test_unknown_sector_name(tmp_path):
    [problem] = problems(MINIMAL.replace("Energy:\n      etf", "Oil and Gas:\n      etf"), tmp_path)
    assert ":3: universe.sectors.Oil and Gas: unknown sector name 'Oil and Gas'" in problem


def test_group_with_unknown_ticker(tmp_path):
    [problem] = problems(MINIMAL.replace("[XOM, CVX]", "[XOM, BP]"), tmp_path)
    assert ":8: universe.groups.Energy majors.1: group 'Energy majors' names BP" in problem


def test_malformed_yaml_names_the_line(tmp_path):
    [problem] = problems(MINIMAL + "analysis: [unclosed\n", tmp_path)
    assert problem.startswith(f"{tmp_path / 'kbgen.yml'}:") and "malformed YAML" in problem


def test_empty_and_non_mapping_configs(tmp_path):
    assert "must be a mapping" in problems("", tmp_path)[0]
    assert "must be a mapping" in problems("- a\n- b\n", tmp_path)[0]
    assert "universe: required key is missing" in problems("paths: {}\n", tmp_path)[0]


def test_empty_universe(tmp_path):
    found = problems("universe:\n  sectors: {}\n", tmp_path)
    assert any("the universe is empty" in p for p in found)


def test_constituents_csv_joins_sectors(tmp_path):
    (tmp_path / "members.csv").write_text(
        "symbol,name,sector,sub_industry\nSLB,Schlumberger,Energy,Oil services\nXOM,ExxonMobil,Energy,Integrated\n"
    )
    config = parse_config(MINIMAL + "  constituents_csv: members.csv\n", tmp_path / "kbgen.yml")
    assert config.securities["SLB"].sector == "Energy"
    (tmp_path / "bad.csv").write_text("symbol,name,sector\nZZZ,Zed,Space Mining\n")
    [problem] = problems(MINIMAL + "  constituents_csv: bad.csv\n", tmp_path)
    assert problem == f"{tmp_path / 'bad.csv'}:2: ZZZ is in sector 'Space Mining', which the config does not define under universe.sectors"


BAD_TICKERS = ["A|B", "../../etc/passwd", "brk b"]


@pytest.mark.parametrize("ticker", BAD_TICKERS)
def test_a_ticker_outside_the_import_rule_is_an_error_naming_file_and_line(tmp_path, ticker):
    text = MINIMAL.replace("CVX: Chevron", f"{ticker!r}: Odd").replace("[XOM, CVX]", "[XOM]")
    found = problems(text + f"  indices: {{{ticker!r}: Odd}}\n", tmp_path)
    assert found == [
        f"{tmp_path / 'kbgen.yml'}:5: universe.sectors.Energy.members.{ticker}: ticker {ticker!r} may only use "
        "A-Z 0-9 ^ . - = _; write it as the exchange lists it",
        f"{tmp_path / 'kbgen.yml'}:9: universe.indices.{ticker}: ticker {ticker!r} may only use "
        "A-Z 0-9 ^ . - = _; write it as the exchange lists it",
    ]


@pytest.mark.parametrize("ticker", BAD_TICKERS)
def test_a_constituents_symbol_outside_the_import_rule_is_an_error_naming_file_and_line(tmp_path, ticker):
    (tmp_path / "members.csv").write_text(f'symbol,name,sector\nSLB,Schlumberger,Energy\n"{ticker}",Odd,Energy\n')
    [problem] = problems(MINIMAL + "  constituents_csv: members.csv\n", tmp_path)
    assert problem == f"{tmp_path / 'members.csv'}:3: symbol {ticker!r} may only use A-Z 0-9 ^ . - = _; write it as the exchange lists it"


def test_config_and_import_share_one_ticker_rule(tmp_path):
    from kbgen.sources.csvfile import read_prices_csv

    (tmp_path / "p.csv").write_text("date,ticker,close\n2026-01-05,A|B,1\n")
    [(_, reason, _)] = read_prices_csv(tmp_path / "p.csv").rejected
    assert reason == "ticker 'A|B' may only use A-Z 0-9 ^ . - = _"


def test_import_max_close_change_defaults_to_half_and_must_be_positive(tmp_path):
    assert parse_config(MINIMAL, tmp_path / "kbgen.yml").model.import_.max_close_change == 0.5
    assert parse_config(MINIMAL + "import: {max_close_change: 2}\n", tmp_path / "kbgen.yml").model.import_.max_close_change == 2
    [problem] = problems(MINIMAL + "import:\n  max_close_change: 0\n", tmp_path)
    assert problem.startswith(f"{tmp_path / 'kbgen.yml'}:10: import.max_close_change: Input should be greater than 0")
