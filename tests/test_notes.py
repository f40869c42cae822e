"""Note builders: golden notes per type, hostile names, tags, links, no look-ahead.

Regenerate the golden files deliberately with `KBGEN_UPDATE_GOLDENS=1 pytest tests/test_notes.py`
and read the diff before keeping it.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from kbgen.model import WindowReturns
from kbgen.notes import build_notes
from kbgen.notes.names import NameBook, safe_name
from kbgen.render import Renderer
from kbgen.resources import starter_path
from notes_fixtures import AS_OF, SESSIONS, make_config, make_context, make_day
from obsidian_properties import declared_types, property_problems

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KBGEN_UPDATE_GOLDENS") == "1"
GOLDEN_NOTES = {
    "daily": "Daily/2026-01-08.md",
    "concept": "Concepts/Sector Rotation December 2025.md",
    "sector": "Sectors/Information Technology.md",
    "group": "Groups/Defense primes.md",
    "stock": "Stocks/Northrop Grumman.md",
    "home": "Home.md",
    "thesis_impact": "Theses/Long NVIDIA.md",
    "catalyst_movers": "Catalysts/Trump defense budget.md",
}
LINK = re.compile(r"(!?)\[\[([^\]|\\]+)(?:\\?\|[^\]]*)?\]\]")
TAG = re.compile(r"^[A-Za-z0-9_/-]+$")
HOSTILE = {"AAPL": "<script>x</script>", "NVDA": "A|B", "ORCL": "]]evil[[", "NET": "../etc",
           "NOC": "AT&T", "LMT": "Berkshire Hathaway (BRK-B)", "GD": "#hash $money$ *x*"}


PROJECT = Path("/kbgen-notes-test")  # nominal: building notes never touches the project folder


def build(names=None, day=None, **ctx_overrides):
    """Notes and charts for the fixture day; the common cases are built once per test session."""
    if day is None and set(ctx_overrides) <= {"simulated"}:
        return _build_cached(tuple(sorted((names or {}).items())), ctx_overrides.get("simulated", False))
    ctx = make_context(make_config(PROJECT, names), **ctx_overrides)
    return build_notes(day or make_day(), ctx, Renderer())


@lru_cache(maxsize=None)
def _build_cached(names: tuple, simulated: bool):
    ctx = make_context(make_config(PROJECT, dict(names)), simulated=simulated)
    return build_notes(make_day(), ctx, Renderer())


def as_text(note) -> str:
    meta = yaml.safe_dump(note.frontmatter, sort_keys=False, allow_unicode=True)
    return f"---\n{meta}---\n{note.body}"


@pytest.mark.parametrize("kind", sorted(GOLDEN_NOTES))
def test_golden_notes(kind):
    notes, _ = build()
    note = next(n for n in notes if n.path == GOLDEN_NOTES[kind])
    golden = GOLDEN_DIR / f"{kind}.md"
    if UPDATE:
        golden.write_text(as_text(note), encoding="utf-8")
    assert as_text(note) == golden.read_text(encoding="utf-8"), f"{kind} differs from {golden}"


def test_build_is_deterministic():
    ctx = make_context(make_config(PROJECT))
    notes_a, charts_a = build_notes(make_day(), ctx, Renderer())
    notes_b, charts_b = build_notes(make_day(), ctx, Renderer())
    assert notes_a == notes_b and charts_a == charts_b


def link_targets(notes):
    return {(bang, target) for n in notes for bang, target in LINK.findall(n.body)}


def existing_names(notes, charts):
    """Notes this build returns, plus the daily notes the context says exist or are being written."""
    names = {Path(n.path).stem for n in notes} | {d.isoformat() for d in SESSIONS[:12]}
    return names, {Path(c.path).name for c in charts}


@pytest.mark.parametrize("names", [None, HOSTILE])
def test_every_link_resolves(names):
    notes, charts = build(names)
    note_names, chart_files = existing_names(notes, charts)
    for bang, target in link_targets(notes):
        assert target in (chart_files if bang else note_names), f"unresolved link [[{target}]]"
    assert chart_files == {t for bang, t in link_targets(notes) if bang}


def test_hostile_names_are_shown_as_text():
    notes, charts = build(HOSTILE)
    names, _ = existing_names(notes, charts)
    paths = [n.path for n in notes]
    for path in paths:
        assert ".." not in path and not any(part.startswith(".") for part in path.split("/"))
        assert not re.search(r'[*"\\<>:|?#^\[\]]', path), path
    assert "Stocks/scriptxscript.md" in paths
    assert "Stocks/AB.md" in paths and "Stocks/evil.md" in paths and "Stocks/etc.md" in paths
    assert "Stocks/Berkshire Hathaway (BRK-B).md" in paths and "Stocks/AT&T.md" in paths
    body = "\n".join(n.body for n in notes)
    assert "<script>" not in body and "]]evil[[" not in body and "$money$" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "AT&T" in body and "AT&amp;T" not in body  # a bare & is readable in Obsidian and harmless in HTML
    # a table row keeps its column count when a name holds a pipe
    daily = next(n for n in notes if n.path.startswith("Daily/"))
    row = next(line for line in daily.body.splitlines() if line.startswith("| [[AB"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 5
    assert "[[AT&T]]" in body  # nothing to escape: the link names the note as written
    assert "scriptxscript" in {n.frontmatter.get("title") for n in notes}


def test_colliding_names_get_the_ticker():
    notes, _ = build({"AAPL": "Apple", "NVDA": "Apple?", "ORCL": "Industrials", "NET": "home"})
    paths = {n.path for n in notes}
    assert {"Stocks/Apple.md", "Stocks/Apple (NVDA).md", "Stocks/Industrials (ORCL).md", "Stocks/home (NET).md"} <= paths
    stems = [Path(p).stem.casefold() for p in paths if not p.startswith(("Theses/", "Catalysts/"))]
    assert len(stems) == len(set(stems))


def test_safe_name_rules():
    assert safe_name("  ..hidden ") == "hidden"
    assert safe_name("a/../b") == "a.b"
    assert safe_name("???") == "Untitled"
    book = NameBook(["Home"])
    assert book.assign("stock", "HOME", "home", "HOME") == "home (HOME)"
    assert book.assign("stock", "HOME", "ignored") == "home (HOME)"


@pytest.mark.parametrize("names", [None, HOSTILE])
def test_tags_and_properties_are_valid(names):
    notes, _ = build(names, simulated=True)
    problems = []
    for note in notes:
        if note.owned_by_researcher:
            assert note.frontmatter == {}
            continue
        meta = note.frontmatter
        assert isinstance(meta["tags"], list) and meta["tags"]
        for tag in meta["tags"]:
            assert TAG.match(tag) and not tag.replace("/", "").isdigit(), tag
        assert meta["title"] and isinstance(meta["date"], str)
        dt.date.fromisoformat(meta["date"])
        assert {k: v for k, v in meta.items() if k.startswith("kbgen")} == {
            "kbgen_id": meta["kbgen_id"], "kbgen_as_of": "2026-01-08", "kbgen_source": "demo",
            "kbgen_version": "0.1.0", "kbgen_simulated": True}
        problems += property_problems(note.path, meta, declared_types())
    assert problems == []
    ids = [n.frontmatter["kbgen_id"] for n in notes if not n.owned_by_researcher]
    assert len(ids) == len(set(ids)) and "stock/NOC" in ids and "sector/Information Technology" in ids


def table_row(body: str, label: str) -> dict[str, str]:
    """The cells of the table row starting with `label`, by the column header above it."""
    lines = body.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"| {label} |"))
    header = next(lines[i] for i in range(at, -1, -1) if lines[i].startswith("| |"))
    cells = lambda line: [c.strip() for c in line.strip("|").split("|")]
    return dict(zip(cells(header)[1:], cells(lines[at])[1:]))


@pytest.mark.parametrize("path, returns_row", [
    ("Stocks/Northrop Grumman.md", "NOC"), ("Sectors/Information Technology.md", "XLK"),
    ("Groups/Defense primes.md", "Basket")])
def test_number_properties_equal_the_figures_the_tables_print(path, returns_row):
    notes, _ = build()
    note = next(n for n in notes if n.path == path)
    for label, row in (("return", returns_row), ("excess", "Excess vs SPY")):
        printed = table_row(note.body, row)
        for window in ("1D", "1W", "1M", "YTD"):
            value = note.frontmatter[f"{label}_{window.lower()}_pct"]
            assert isinstance(value, float) and f"{value:+.1f}%" == printed[window], (label, window)


def test_stock_and_sector_properties_carry_close_streak_and_quadrant():
    notes, _ = build()
    stock = next(n for n in notes if n.path == "Stocks/Northrop Grumman.md")
    assert f"close {stock.frontmatter['close']:.2f} on" in stock.body
    assert stock.frontmatter["streak"] == 3 and "3rd straight gain" in stock.body
    sector = next(n for n in notes if n.path == "Sectors/Information Technology.md")
    assert f"Now **{sector.frontmatter['quadrant']}**" in sector.body


BASE_KEYS = {"filters", "formulas", "properties", "summaries", "views"}
VIEW_KEYS = {"type", "name", "limit", "groupBy", "filters", "order", "sort", "summaries"}
IDENTIFIER = re.compile(r"(?<![\w.\"])([a-z_][a-z0-9_.]*)(?![\w\"(])")


def base_properties(base) -> set[str]:
    """Note properties a .base file names in its filters, order, sort and groupBy."""
    def expressions(filters):
        if isinstance(filters, str):
            return [filters]
        return [e for value in (filters or {}).values() for item in value for e in expressions(item)]
    names = set()
    for view in base["views"]:
        names |= set(view.get("order", ())) | {s["property"] for s in view.get("sort", ())}
        names |= {view["groupBy"]["property"]} if "groupBy" in view else set()
        for expression in expressions(base.get("filters")) + expressions(view.get("filters")):
            names |= set(IDENTIFIER.findall(expression.split("==")[0]))
    names |= set(base.get("properties", {}))
    return {n.removeprefix("note.") for n in names if not n.startswith(("file.", "formula."))}


@pytest.mark.parametrize("base_file", sorted(starter_path("vault/Bases").glob("*.base")))
def test_starter_bases_use_documented_keys_and_properties_the_notes_have(base_file):
    base = yaml.safe_load(base_file.read_text(encoding="utf-8"))
    assert set(base) <= BASE_KEYS and all(set(view) <= VIEW_KEYS and view["type"] == "table" for view in base["views"])
    kind = re.search(r'type == "(\w+)"', base_file.read_text()).group(1)
    notes, _ = build()
    of_kind = [n.frontmatter for n in notes if n.frontmatter.get("type") == kind]
    assert of_kind
    referenced = base_properties(base)
    assert "type" in referenced and len(referenced) > 3
    types = declared_types()
    for meta in of_kind:
        assert referenced <= set(meta) and referenced <= set(types), referenced - set(meta)
    sorted_on = {s["property"] for view in base["views"] for s in view.get("sort", ())}
    assert all(types[p] == "number" for p in sorted_on)


def test_a_daily_note_carries_the_tag_of_an_episode_detected_after_it():
    ctx = dict(rotation_spans=((dt.date(2025, 12, 22), None), (dt.date(2025, 11, 3), dt.date(2025, 12, 30)),
                               (dt.date(2026, 1, 9), None)))
    notes, _ = build(day=replace(make_day(), episode=None), **ctx)
    daily = next(n for n in notes if n.path.startswith("Daily/"))
    assert [t for t in daily.frontmatter["tags"] if t.startswith("rotation/")] == ["rotation/sector-rotation-december-2025"]
    assert "Rotation in progress" not in daily.body  # the body still tells only what was known that day


def test_a_renamed_note_is_linked_and_written_by_its_new_name():
    notes, _ = build(renamed={"stock/NOC": "Northrop", "sector/Industrials": "Industrials sector"})
    paths = {n.path for n in notes}
    assert "Stocks/Northrop.md" in paths and "Sectors/Industrials sector.md" in paths
    assert "Stocks/Northrop Grumman.md" not in paths
    body = "\n".join(n.body for n in notes)
    assert "[[Northrop" in body and "[[Northrop Grumman" not in body and "[[Industrials sector" in body


def test_bodies_have_h1_callout_and_no_accidental_headings():
    notes, _ = build(HOSTILE, simulated=True)
    for note in notes:
        lines = note.body.splitlines()
        if not note.owned_by_researcher:
            assert lines[0].startswith("# "), note.path
        assert "> [!warning] Simulated data" in note.body, note.path
        assert not [line for line in lines if re.match(r"#[^#\s]", line)], note.path
        assert note.body.count("<!-- kbgen:begin ") == note.body.count("<!-- kbgen:end ")


def test_real_data_has_no_simulated_callout():
    notes, _ = build()
    assert not any("Simulated data" in n.body for n in notes)


def test_previous_and_next_come_only_from_daily_dates():
    upto = tuple(d for d in SESSIONS if d <= AS_OF and d != dt.date(2026, 1, 7))
    notes, _ = build(daily_dates=upto)
    daily = next(n for n in notes if n.path == "Daily/2026-01-08.md").body
    assert "[[2026-01-06]] ← previous" in daily and "next session → not yet" in daily
    assert "[[2026-01-07]]" not in daily and "[[2026-01-09]]" not in daily
    notes, _ = build(daily_dates=SESSIONS)
    daily = next(n for n in notes if n.path == "Daily/2026-01-08.md").body
    assert "next session → [[2026-01-09]]" in daily


def test_thesis_history_has_one_row_per_session_and_no_future():
    config = make_config(PROJECT)
    base = make_context(config)
    future = base.impact_history["Long NVIDIA"][0][1]
    history = {"Long NVIDIA": (*base.impact_history["Long NVIDIA"], (dt.date(2026, 1, 9), future))}
    notes, _ = build_notes(make_day(), replace(base, impact_history=history), Renderer())
    thesis = next(n for n in notes if n.path == "Theses/Long NVIDIA.md")
    assert thesis.owned_by_researcher
    dates = re.findall(r"^\| \[\[(\d{4}-\d\d-\d\d)", thesis.body, re.M)
    assert dates == ["2026-01-08", "2026-01-07", "2026-01-06"]


def test_no_episode_no_concept_note():
    notes, charts = build(day=make_day(episode=False))
    assert not any(n.path.startswith("Concepts/") for n in notes)
    assert "Sector Rotation" not in "".join(n.body for n in notes)
    assert {Path(c.path).name for c in charts} == {"sectors-2026-01-08.svg", "rotation-2026-01-08.svg"}


def test_concept_states_timing_and_sample_sizes():
    notes, _ = build()
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    assert "Money is rotating out of [[Magnificent 7]] and [[Information Technology]] into" in concept
    assert "started late December 2025" in concept and "accelerated the first week of January 2026" in concept
    assert "too few cases (N = 3" in concept and "7 of 12 (58%)" in concept
    assert "### Your notes" in concept.split("<!-- kbgen:end drivers -->")[1].split("<!-- kbgen:begin")[0]


def test_legs_that_ran_against_their_side_are_named():
    notes, _ = build()
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    assert "against its side" not in concept  # every leg of the fixture moved its side's way
    day = make_day()
    out_of = (replace(day.episode.out_of[0], excess=0.015), day.episode.out_of[1])
    notes, _ = build(day=replace(day, episode=replace(day.episode, out_of=out_of)))
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    row = next(line for line in concept.splitlines() if line.startswith("| **Out of** | [[Magnificent 7]]"))
    assert row.endswith("| running against its side (+1.5%) |")


def test_ended_episode_says_so():
    day = make_day()
    day = replace(day, episode=replace(day.episode, end=dt.date(2026, 1, 6)))
    notes, _ = build(day=day)
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    assert "Money rotated out of" in concept and "Ended on 2026-01-06" in concept and "after 10 sessions" in concept


def test_stock_notes_only_for_stocks_with_data_or_moving():
    notes, _ = build(tickers_with_data=frozenset({"AAPL", "NOC", "LMT", "GD", "NET", "NVDA", "SPY"}))
    stocks = {n.path for n in notes if n.path.startswith("Stocks/")}
    assert "Stocks/Oracle.md" not in stocks and "Stocks/ExxonMobil.md" not in stocks
    assert "Stocks/Apple.md" in stocks


def test_daily_note_names_universe_tickers_without_prices():
    daily = next(n for n in build()[0] if n.path.startswith("Daily/")).body
    assert "No prices in the store" not in daily
    day = make_day()
    closes = {t: v for t, v in day.closes.items() if t != "NVDA"}
    daily = next(n for n in build(day=replace(day, closes=closes))[0] if n.path.startswith("Daily/")).body
    assert "No prices in the store for 1 universe ticker(s), left out of every table: [[NVIDIA|NVDA]]" in daily


def test_concept_drivers_list_the_episodes_catalysts_that_name_its_legs():
    from kbgen.model import Catalyst
    from notes_fixtures import CATALYSTS

    extra = (Catalyst("Apple supply warning", dt.date(2025, 12, 30), tickers=("AAPL",)),   # in, names Mag 7
             Catalyst("Old news", dt.date(2025, 11, 3), tickers=("AAPL",)),                # before the episode
             Catalyst("Bank rules", dt.date(2026, 1, 5), sectors=("Financials",)))         # names no leg
    notes, _ = build(catalysts=CATALYSTS + extra)
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    drivers = concept.split("## Drivers")[1].split("<!-- kbgen:end drivers -->")[0]
    assert "- [[Apple supply warning]] (2025-12-30): [[Magnificent 7]] (out of)" in drivers
    assert "Old news" not in drivers and "Bank rules" not in drivers


def test_concept_summary_names_the_three_largest_legs_of_a_side_then_counts_the_rest():
    from kbgen.model import FlowLeg

    day = make_day()
    into = tuple(FlowLeg(name, "sector", etf, 0.05 - i / 100) for i, (name, etf) in enumerate(
        (("Industrials", "XLI"), ("Energy", "XLE"), ("Utilities", "XLU"), ("Financials", "XLF"), ("Materials", "XLB"))))
    notes, _ = build(day=replace(day, episode=replace(day.episode, into=into)))
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    assert "into [[Industrials]], [[Energy]], Utilities and 2 more: the spread" in concept  # no Utilities note here


def test_daily_note_names_tickers_whose_returns_leave_out_dividends():
    daily = next(n for n in build(day=replace(make_day(), close_basis=("NVDA",)))[0] if n.path.startswith("Daily/")).body
    assert "No adjusted close in the store for [[NVIDIA|NVDA]]: returns are close to close" in daily


def test_a_stock_note_gives_the_days_context_even_off_the_movers_tables():
    from notes_fixtures import mover

    context = {"ORCL": mover("ORCL", "Oracle", "Information Technology", (), -0.012, -3, ("3rd straight decline",))}
    notes, _ = build(day=replace(make_day(), stock_context=context), tickers_with_data=frozenset({"ORCL", "SPY"}))
    oracle = next(n for n in notes if n.path == "Stocks/Oracle.md").body
    assert "Today: -1.2%; 3rd straight decline." in oracle


def test_a_stock_note_says_how_far_the_close_is_from_its_52_week_high():
    from notes_fixtures import mover

    context = {"ORCL": replace(mover("ORCL", "Oracle", "Information Technology", (), -0.012), from_52w_high=-0.1234)}
    notes, _ = build(day=replace(make_day(), stock_context=context), tickers_with_data=frozenset({"ORCL", "SPY"}))
    oracle = next(n for n in notes if n.path == "Stocks/Oracle.md").body
    assert "12.3% below its 52-week closing high" in oracle


# --- names from data, through a real build and publish ---------------------------------------

LONG_NAME = "Consolidated Very Long Name Holdings Ä " * 8        # 312 characters, 320 bytes in UTF-8
BACKTICK_NAME = "Micro`soft` ``Corp``"
BRACKET_GROUP = "A ]] [[B"


@pytest.fixture(scope="module")
def odd_names_project(tmp_path_factory):
    """A project from `kbgen init` whose config names a stock with 312 characters, one with
    backticks and a group `A ]] [[B`, built for two sessions and published; returns the config."""
    from site_checks import published_project

    def odd_names(text: str) -> str:
        text = text.replace("AAPL: Apple,", f"AAPL: {LONG_NAME!r},", 1).replace("MSFT: Microsoft,", f"MSFT: {BACKTICK_NAME!r},", 1)
        return text.replace("    Magnificent 7:", f"    {BRACKET_GROUP!r}: [AAPL, MSFT]\n    Magnificent 7:", 1)

    return published_project(tmp_path_factory.mktemp("odd-names"), odd_names, sessions=120, first="2026-01-29")


def test_names_from_data_build_and_publish_with_every_link_resolving(odd_names_project):
    from kbgen.obsidian.check import check_links
    from site_checks import check_internal_links

    report = check_links(odd_names_project.vault_dir)
    assert report.links > 500 and report.broken == ()
    assert check_internal_links(odd_names_project.root / "site") > 1000


def test_a_name_too_long_for_a_file_is_shortened_and_kept_in_full_as_title_and_alias(odd_names_project):
    import frontmatter

    full = safe_name(LONG_NAME)
    [path] = [p for p in (odd_names_project.vault_dir / "Stocks").iterdir() if p.name.startswith("Consolidated")]
    assert len(path.name.encode("utf-8")) <= 255
    note = frontmatter.load(path)
    assert note["title"] == full and full in note["aliases"] and "AAPL" in note["aliases"]
    assert note.content.splitlines()[0] == f"# {full}"
    assert "Microsoft" not in {p.stem for p in (odd_names_project.vault_dir / "Stocks").iterdir()}
    assert (odd_names_project.vault_dir / "Stocks" / "Microsoft Corp.md").is_file()
    assert (odd_names_project.vault_dir / "Groups" / "A B.md").is_file()


def test_long_names_are_cut_at_a_character_and_stay_distinct():
    book = NameBook()
    first = book.assign("stock", "A", "Ä" * 300 + " one", "A")
    second = book.assign("stock", "B", "Ä" * 300 + " two", "B")
    assert first != second
    for name in (first, second):
        assert 248 <= len(name.encode("utf-8")) <= 250 and name.startswith("Ä" * 118)  # Ä is 2 bytes; 250 leaves room for .html
    assert book.title(first) == "Ä" * 300 + " one"
    assert book.assign("stock", "C", "Short", "C") == "Short" and book.title("Short") == "Short"


def test_sector_note_tail_uses_the_rotation_graphs_quadrant_rule():
    """A tail point exactly at 100 is not above the benchmark's trend: Lagging, as analytics say."""
    day = make_day()
    it = next(r for r in day.rotation if r.sector == "Information Technology")
    at_par = replace(it, tail=(*it.tail[:-1], replace(it.tail[-1], rs_ratio=100.0, rs_momentum=100.0)))
    day = replace(day, rotation=tuple(at_par if r is it else r for r in day.rotation))
    notes, _ = build(day=day)
    body = next(n.body for n in notes if n.path == "Sectors/Information Technology.md")
    assert f"| {AS_OF.isoformat()} | 100.0 | 100.0 | Lagging |" in body


def test_sector_and_group_notes_print_the_analytics_excess_returns():
    """The notes print the excess the analytics computed, never one of their own."""
    day = make_day()
    marked = WindowReturns({w: 0.123 for w in day.excess["XLK"].values})
    day = replace(day, excess={**day.excess, "XLK": marked}, group_excess={**day.group_excess, "Defense primes": marked})
    notes, _ = build(day=day)
    for path in ("Sectors/Information Technology.md", "Groups/Defense primes.md"):
        note = next(n for n in notes if n.path == path)
        assert "| Excess vs SPY | +12.3% | +12.3% |" in note.body, path
        assert note.frontmatter["excess_1w_pct"] == 12.3
