"""Faults a user can cause, through the CLI: each gets its exit code and a message, never a traceback,
and nothing that was there is lost or written by mistake."""
from __future__ import annotations

import datetime as dt
import re
import socket
from pathlib import Path

import pytest

from cli_runs import CONFIG, kbgen
from conftest import NETWORK_ENV
from fake_yahoo import NOT_FOUND, Bar
from kbgen.store import Store

HEADER = "date,ticker,open,high,low,close,adj_close,volume"
GOOD = f"{HEADER}\n2026-01-05,XOM,100,102,99,101,101,1000\n2026-01-05,NEE,70,71,69,70.5,70.5,500\n"
RESEARCHER_NOTE = "# Energy transition\n\nMy own words.\n"


@pytest.fixture(autouse=True)
def _no_network_env(monkeypatch):
    for name in NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)


def make_project(folder: Path, network: str = "", cache: str = ".kbgen/cache") -> Path:
    """A small project: config, a vault holding one researcher note, and a price CSV; returns the config."""
    config = folder / "kbgen.yml"
    config.write_text(CONFIG.format(network=network, cache=cache))
    (folder / "vault" / "Theses").mkdir(parents=True)
    (folder / "vault" / "Theses" / "Energy transition.md").write_text(RESEARCHER_NOTE)
    (folder / "prices.csv").write_text(GOOD)
    return config


def tree(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder under `folder`, with its bytes (None for a folder) and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def stored_rows(config: Path) -> list[tuple]:
    with Store(config.parent / ".kbgen" / "prices.sqlite") as store:
        return list(store.load().itertuples(index=False, name=None))


# --- config -----------------------------------------------------------------------------------

BAD_CONFIGS = {
    "malformed YAML": ("universe:\n  sectors: {Energy: {etf: XLE\n", "kbgen.yml:3: malformed YAML"),
    "unknown key": (CONFIG.format(network="", cache="c") + "colour: blue\n", "kbgen.yml:9: colour: unknown key"),
    "ticker in two sectors": (
        CONFIG.format(network="", cache="c").replace("NEE: NextEra Energy", "XOM: Exxon again"),
        "kbgen.yml:5: universe.sectors.Utilities.members.XOM: ticker XOM is listed twice",
    ),
    "empty universe": ("universe:\n  sectors: {}\n", "kbgen.yml:1: universe: the universe is empty"),
    "path as a ticker": (
        CONFIG.format(network="", cache="c").replace("NEE: NextEra Energy", "../../etc/passwd: Odd"),
        "kbgen.yml:5: universe.sectors.Utilities.members.../../etc/passwd: ticker '../../etc/passwd' may only use",
    ),
}
COMMANDS = {"import": ["import", "prices.csv"], "fetch": ["fetch"], "update": ["update", "--no-fetch", "--no-publish"]}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", BAD_CONFIGS)
def test_a_bad_config_stops_every_command_before_anything_is_written(tmp_path, monkeypatch, fault, command):
    config = make_project(tmp_path)
    text, message = BAD_CONFIGS[fault]
    config.write_text(text)
    before = tree(tmp_path)
    monkeypatch.chdir(tmp_path)

    result = kbgen("--config", config, *COMMANDS[command])

    assert result.exit_code == 2, result.output
    assert result.output.startswith("kbgen: ") and str(config) in result.output
    assert message in result.output
    assert tree(tmp_path) == before  # no store created, vault untouched


# --- data -------------------------------------------------------------------------------------

FUTURE = (dt.date.today() + dt.timedelta(days=1)).isoformat()
REFUSED_FILES = {
    "wrong delimiter": (GOOD.replace(",", ";"), "bad.csv:1: expected a header", "uses ';' as delimiter"),
    "wrong header": ("Date,Symbol,Price\n2026-01-06,XOM,1\n", "bad.csv:1: unexpected column(s) 'symbol', 'price'",
                     "remove or rename"),
    "empty file": ("", "bad.csv: the file is empty", "it needs the header"),
    "only blank lines": ("\n\n \n", "bad.csv: the file is empty", "it needs the header"),
    "unclosed quote": (f'{HEADER}\n2026-01-06,XOM,1,1,1,1,1,1\n2026-01-07,"XOM,1,1,1,1,1,1\n2026-01-08,XOM,1,1,1,1,1,1\n',
                       "bad.csv:3: a quoted field runs past the end of its line", "close the quote"),
    "line break inside quotes": (f'{HEADER}\n2026-01-06,"X\nOM",1,1,1,1,1,1\n2026-01-07,XOM,1,1,1,1,1,1\n',
                                 "bad.csv:2: a quoted field runs past the end of its line", "close the quote"),
}


@pytest.fixture
def imported(tmp_path, monkeypatch):
    """A project whose store already holds GOOD; returns (config, the stored rows)."""
    config = make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert kbgen("import", "prices.csv").exit_code == 0
    return config, stored_rows(config)


@pytest.mark.parametrize("fault", REFUSED_FILES)
def test_an_unreadable_file_is_refused_and_the_store_is_unchanged(imported, fault):
    config, before = imported
    text, where, fix = REFUSED_FILES[fault]
    (config.parent / "bad.csv").write_text(text)

    result = kbgen("import", "bad.csv")

    assert result.exit_code == 1, result.output
    assert f"kbgen: {where}" in result.output and fix in result.output
    assert "nothing was imported from them" in result.output
    assert stored_rows(config) == before


REJECTED_ROWS = {
    "nan close": ("2026-01-06,XOM,100,102,99,nan,101,1000", "close 'nan' is not a number"),
    "NaN volume": ("2026-01-06,XOM,100,102,99,101,101,NaN", "volume 'NaN' is not a number"),
    "infinite open": ("2026-01-06,XOM,inf,102,99,101,101,1000", "open 'inf' is not a number"),
    "duplicate row": ("2026-01-07,CVX,150,152,149,151,151,900", "duplicate of line 2 (same ticker and date)"),
    "tomorrow": (f"{FUTURE},XOM,100,102,99,101,101,1000", f"date {FUTURE} is in the future"),
    "year 2999": ("2999-01-05,XOM,100,102,99,101,101,1000", "date 2999-01-05 is in the future"),
    "year 1": ("0001-01-05,XOM,100,102,99,101,101,1000", "date 0001-01-05 is too far in the past"),
    "year 1900": ("1900-01-05,XOM,100,102,99,101,101,1000",
                  "date 1900-01-05 is too far in the past (the earliest is 1970-01-01)"),
    "close 1e308": ("2026-01-06,XOM,100,1e308,99,1e308,101,1000", "high 1e308 is above 1,000,000,000, not a price"),
    "infinite close": ("2026-01-06,XOM,100,102,99,inf,101,1000", "close 'inf' is not a number"),
    "volume 1e308": ("2026-01-06,XOM,100,102,99,101,101,1e308", "volume 1e308 is above 1,000,000,000,000,000"),
    "negative close": ("2026-01-06,XOM,100,102,99,-101,101,1000", "close -101 is not positive"),
    "negative volume": ("2026-01-06,XOM,100,102,99,101,101,-5", "volume -5 is negative"),
    "path in ticker": ("2026-01-06,../../etc,100,102,99,101,101,1000", "ticker '../../etc' may only use A-Z 0-9"),
    "slash in ticker": ("2026-01-06,A/B,100,102,99,101,101,1000", "ticker 'A/B' may only use A-Z 0-9"),
}


@pytest.mark.parametrize("fault", REJECTED_ROWS)
def test_a_bad_row_is_rejected_with_its_line_and_the_good_rows_are_kept(imported, fault):
    """Line 2 is a good row; the bad one is line 3 and must not reach the store."""
    config, before = imported
    bad, reason = REJECTED_ROWS[fault]
    good = "2026-01-07,CVX,150,152,149,151,151,900"
    (config.parent / "mixed.csv").write_text(f"{HEADER}\n{good}\n{bad}\n")

    result = kbgen("import", "mixed.csv")

    assert result.exit_code == 3, result.output
    assert "mixed.csv: 2 rows: 1 inserted, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert f"  line 3: {reason}" in result.output
    after = stored_rows(config)
    assert [row[:8] for row in after if row not in before] == [
        ("CVX", dt.datetime(2026, 1, 7), 150.0, 152.0, 149.0, 151.0, 151.0, 900.0)
    ]
    assert set(before) <= set(after)


def test_a_file_with_a_byte_order_mark_is_read_like_any_other(imported):
    config, before = imported
    (config.parent / "excel.csv").write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n2026-01-07,CVX,150,152,149,151,151,900\r\n".encode())

    result = kbgen("import", "excel.csv")

    assert result.exit_code == 0, result.output
    assert "excel.csv: 1 rows: 1 inserted" in result.output
    assert len(stored_rows(config)) == len(before) + 1


def test_a_re_import_moving_a_stored_close_too_far_is_rejected_and_the_close_kept(imported):
    config, before = imported
    (config.parent / "cents.csv").write_text(f"{HEADER}\n2026-01-05,XOM,10000,10200,9900,10100,10100,1000\n"
                                             "2026-01-05,NEE,70,71,69,71,71,500\n")

    result = kbgen("import", "cents.csv")

    assert result.exit_code == 3, result.output
    assert "cents.csv: 2 rows: 0 inserted, 1 updated, 0 unchanged, 1 rejected" in result.output
    assert ("  line 2: close 10100 is too far from the stored close 101 (more than import.max_close_change 50% "
            "apart); correct the file, or raise that limit in kbgen.yml if the new close is right") in result.output
    closes = {row[0]: row[5] for row in stored_rows(config)}
    assert closes == {"XOM": 101.0, "NEE": 71.0}


def test_a_larger_max_close_change_lets_a_true_jump_through(imported):
    config, _ = imported
    config.write_text(config.read_text() + "import: {max_close_change: 200}\n")
    (config.parent / "cents.csv").write_text(f"{HEADER}\n2026-01-05,XOM,10000,10200,9900,10100,10100,1000\n")

    result = kbgen("import", "cents.csv")

    assert result.exit_code == 0, result.output
    assert {row[0]: row[5] for row in stored_rows(config)}["XOM"] == 10100.0


@pytest.mark.parametrize("fate", ["deleted", "replaced"])
def test_a_store_deleted_or_replaced_during_an_import_is_an_error_not_a_success(imported, monkeypatch, fate):
    import kbgen.sources.csvfile as csvfile

    config, _ = imported
    store = config.parent / ".kbgen" / "prices.sqlite"
    read = csvfile.read_prices_csv

    def read_then_lose_the_store(*args, **kwargs):
        parsed = read(*args, **kwargs)
        if fate == "deleted":
            store.unlink()
        else:
            other = store.with_name("other.sqlite")
            Store(other).close()
            other.replace(store)
        return parsed

    monkeypatch.setattr(csvfile, "read_prices_csv", read_then_lose_the_store)
    (config.parent / "more.csv").write_text(f"{HEADER}\n2026-01-06,XOM,100,102,99,101,101,1000\n")

    result = kbgen("import", "more.csv")

    assert result.exit_code == 1, result.output
    assert f"kbgen: the price store {store} was deleted or replaced while kbgen was writing to it" in result.output
    assert "inserted" not in result.output


def test_a_store_deleted_during_a_fetch_is_an_error_not_a_success(imported, monkeypatch):
    import pandas as pd

    import kbgen.sources.yahoo as yahoo

    config, _ = imported

    def fetch_after_the_store_is_deleted(config, store, **options):
        store.path.unlink()
        store.upsert(pd.DataFrame({"ticker": ["XOM"], "date": [dt.date(2026, 1, 6)], "close": [101.0]}), "yahoo")

    monkeypatch.setattr(yahoo, "fetch_prices", fetch_after_the_store_is_deleted)

    result = kbgen("fetch")

    assert result.exit_code == 1, result.output
    assert "was deleted or replaced while kbgen was writing to it" in result.output


# --- researcher notes -------------------------------------------------------------------------

THESIS = "---\ntype: thesis\nlegs:\n  - {ticker: XOM, weight: 1.0}\n---\n# Energy transition\n"
BAD_NOTES = {
    "unclosed frontmatter": ("Theses", THESIS.replace("---\n# Energy", "# Energy"),
                             "the frontmatter has no closing --- line; add one after the last property"),
    "no frontmatter": ("Theses", RESEARCHER_NOTE, "the note has no frontmatter; a thesis note starts with its properties between two --- lines"),
    "frontmatter a list": ("Theses", "---\n- XOM\n---\n", "the frontmatter is not a list of `key: value` properties"),
    "legs not a list": ("Theses", "---\nlegs: XOM\n---\n", "the thesis has `legs: 'XOM'`; it needs a list of legs"),
    "nan weight": ("Theses", THESIS.replace("1.0", ".nan"), "leg 1 weight must be a positive finite number, not nan"),
    "infinite weight": ("Theses", THESIS.replace("1.0", ".inf"), "leg 1 weight must be a positive finite number, not inf"),
    "catalyst unclosed": ("Catalysts", "---\ndate: 2026-01-05\n# OPEC\n",
                          "the frontmatter has no closing --- line"),
    "catalyst bad date": ("Catalysts", "---\ndate: soon\n---\n",
                          "the catalyst has `date: 'soon'`, which is not a date; it needs `date: YYYY-MM-DD`"),
}


@pytest.mark.parametrize("fault", BAD_NOTES)
def test_a_faulty_researcher_note_is_named_with_what_is_wrong(tmp_path, monkeypatch, fault):
    config = make_project(tmp_path)
    folder, text, message = BAD_NOTES[fault]
    note = tmp_path / "vault" / folder / "Energy transition.md"
    note.parent.mkdir(exist_ok=True)
    note.write_text(text)
    monkeypatch.chdir(tmp_path)

    result = kbgen("check")

    assert result.exit_code == 2, result.output
    assert f"{note}: {message}" in result.output


@pytest.mark.parametrize("folder, text", [("Theses", THESIS), ("Catalysts", "---\ndate: 2026-01-05\ntickers: [XOM]\n---\n")],
                         ids=["thesis", "catalyst"])
def test_a_researcher_note_with_a_byte_order_mark_is_read_like_any_other(tmp_path, folder, text):
    from kbgen.config import load_config
    from kbgen.researcher_notes import read_researcher_notes

    config = make_project(tmp_path)
    (tmp_path / "vault" / "Theses" / "Energy transition.md").write_text(THESIS)
    note = tmp_path / "vault" / folder / "Windows editor.md"
    note.parent.mkdir(exist_ok=True)
    note.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())

    theses, catalysts = read_researcher_notes(load_config(config))

    assert "Windows editor" in {item.name for item in (*theses, *catalysts)}


def test_a_build_keeps_quoted_markers_as_text_and_names_a_note_with_a_stray_end_marker(demo_project):
    config = demo_project
    args = ("--config", config.path, "build", "--date", "2026-01-30")
    assert kbgen(*args).exit_code == 0
    note = config.vault_dir / "Daily" / "2026-01-30.md"
    quoted = "```\n<!-- kbgen:begin movers -->\nmy example\n<!-- kbgen:end movers -->\n```\n"
    stray = "Pasted: <!-- kbgen:end breadth -->\n"  # breadth is a block of the note too
    mine = note.read_text() + "\n" + quoted + stray
    note.write_text(mine)

    result = kbgen(*args)

    assert result.exit_code == 0, result.output
    assert ("warning: Daily/2026-01-30.md: an end marker for block 'breadth' has no begin marker; left it as text"
            in result.output)
    assert "edited by hand" not in result.output and "appears twice" not in result.output
    assert note.read_text() == mine


# --- fetch ------------------------------------------------------------------------------------

def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_network_down_exits_1_naming_the_proxy_setting_and_keeps_the_store(tmp_path, monkeypatch):
    config = make_project(tmp_path, network=f", proxy: 'http://127.0.0.1:{closed_port()}'")
    monkeypatch.chdir(tmp_path)
    assert kbgen("import", "prices.csv").exit_code == 0
    before, store_bytes = stored_rows(config), (tmp_path / ".kbgen" / "prices.sqlite").read_bytes()

    result = kbgen("fetch")

    assert result.exit_code == 1, result.output
    assert "kbgen: cannot reach the proxy http://127.0.0.1:" in result.output
    assert "(from network.proxy)" in result.output and "Fix network.proxy" in result.output
    assert stored_rows(config) == before
    assert (tmp_path / ".kbgen" / "prices.sqlite").read_bytes() == store_bytes


def test_fetching_a_ticker_outside_the_universe_exits_2_before_touching_anything(tmp_path, monkeypatch):
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)

    result = kbgen("fetch", "XOM", "ZZZZ")

    assert result.exit_code == 2, result.output
    assert "kbgen: ZZZZ not in the universe; add them to kbgen.yml first" in result.output
    assert tree(tmp_path) == before


# --- secrets ----------------------------------------------------------------------------------

SECRET = "s3cret"


@pytest.mark.parametrize("origin", ["config", "config without scheme", "environment"])
def test_proxy_password_never_appears_when_the_proxy_is_unreachable(tmp_path, monkeypatch, origin):
    proxy = f"user:{SECRET}@127.0.0.1:{closed_port()}"
    if origin != "config without scheme":
        proxy = f"http://{proxy}"
    if origin.startswith("config"):
        make_project(tmp_path, network=f", proxy: '{proxy}'")
    else:
        make_project(tmp_path)
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "logs" / "kbgen.log"

    result = kbgen("-v", "--log-file", log, "fetch")

    assert result.exit_code == 1, result.output
    assert re.search(r"cannot reach the proxy (http://)?user:\*\*\*@127\.0\.0\.1:\d+ ", result.output)  # still named
    assert SECRET not in result.output and SECRET not in log.read_text()


def test_proxy_password_never_appears_when_tickers_fail(tmp_path, monkeypatch, fake_yahoo, yahoo_certificate,
                                                        yfinance_cache_dir):
    """Through a working proxy (the fake) with a ticker Yahoo does not know: exit 3, no password."""
    cert, _ = yahoo_certificate
    proxy = fake_yahoo.proxy_url.replace("http://", f"http://user:{SECRET}@")
    make_project(tmp_path, network=f", proxy: '{proxy}', ca_bundle: '{cert}'", cache=str(yfinance_cache_dir))
    day = dt.date(2026, 1, 5)
    for ticker in ("XLE", "XOM", "XLU", "NEE", "SPY"):
        fake_yahoo.serve(ticker, [Bar(day, 10, 11, 9, 10.5, 10.5, 100)])
    fake_yahoo.fail("CVX", NOT_FOUND)
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "kbgen.log"

    result = kbgen("-vv", "--log-file", log, "fetch")

    assert result.exit_code == 3, result.output
    assert "fetched 6 tickers: 5 rows inserted" in result.output and "  CVX: " in result.output
    assert fake_yahoo.connects  # the fetch really went through the proxy
    assert SECRET not in result.output and SECRET not in log.read_text()
