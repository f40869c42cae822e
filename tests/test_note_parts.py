"""The registry of note parts: notes are assembled from the registered parts of their type."""
from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from kbgen.notes import build_notes, registry
from kbgen.notes.common import VaultIndex
from kbgen.render import Renderer
from kbgen.resources import builtin_templates
from notes_fixtures import make_config, make_context, make_day

PROJECT = Path("/kbgen-parts-test")
DAILY_PARTS = ["brief", "overview", "sector_board", "sector_year_highs", "session_charts", "groups_board", "movers", "weekly_movers", "breadth", "cross_asset",
               "thesis_impacts", "data_sources"]

CONCEPT_PARTS = ["rotation_summary", "rotation_flows", "key_moves", "drivers", "rotation_sectors",
                 "thesis_implications", "base_rates", "related"]
HOME_PARTS = ["home_brief", "home_overview", "home_sectors", "home_theses", "home_browse"]
SECTOR_PARTS = ["sector_performance", "sector_rotation", "sector_members"]
GROUP_PARTS = ["group_performance", "group_members"]
STOCK_PARTS = ["stock_overview", "stock_history"]


def daily_body(renderer: Renderer | None = None) -> str:
    notes, _ = build_notes(make_day(), make_context(make_config(PROJECT)), renderer or Renderer())
    return next(n for n in notes if n.path.startswith("Daily/")).body


@pytest.mark.parametrize("note, names", [("daily", DAILY_PARTS), ("concept", CONCEPT_PARTS),
                                         ("home", HOME_PARTS), ("sector", SECTOR_PARTS),
                                         ("group", GROUP_PARTS), ("stock", STOCK_PARTS)])
def test_parts_in_note_order_each_with_its_partial(note, names):
    parts = registry.parts_for(note)
    assert [p.name for p in parts] == names
    for p in parts:
        assert (builtin_templates() / p.template).is_file(), p.template


def test_a_registered_part_shows_in_its_note_without_other_edits(tmp_path, monkeypatch):
    @dataclass(frozen=True)
    class Greeting:
        text: str

    def greet(inputs: registry.PartInput) -> Greeting:
        return Greeting(f"hello {inputs.day.date.isoformat()}")

    monkeypatch.setitem(registry._PARTS, "greeting", registry.Part("greeting", frozenset({"daily"}), 55, "greeting", greet, template="parts/greeting.md.j2"))
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "greeting.md.j2").write_text("## Greeting\n\n{{ view.text }}\n", encoding="utf-8")
    body = daily_body(Renderer(tmp_path))
    block = re.search(r"<!-- kbgen:begin greeting -->\n## Greeting\n\nhello 2026-01-08\n<!-- kbgen:end greeting -->", body)
    assert block, body
    assert body.index("kbgen:end theses") < block.start() < body.index("kbgen:begin data")


def test_a_part_that_returns_none_is_left_out(monkeypatch):
    quiet = registry.Part("cross_asset", frozenset({"daily"}), 45, "breadth", lambda inputs: None,
                           template="parts/cross_asset.md.j2")
    monkeypatch.setitem(registry._PARTS, "cross_asset", quiet)
    body = daily_body()
    assert "## Breadth and leadership" in body and "## Cross-asset" not in body


def test_registering_a_name_twice_is_refused():
    registry.parts_for("daily")
    with pytest.raises(ValueError, match="registered twice"):
        registry.part("movers", notes={"daily"}, order=1, block="movers")(lambda inputs: None)


@pytest.mark.parametrize("template", ["daily.md.j2", "concept.md.j2", "home.md.j2", "sector.md.j2", "group.md.j2",
                                      "stock.md.j2", "thesis_impact.md.j2",
                                      *(f"parts/{p}.md.j2" for p in DAILY_PARTS + CONCEPT_PARTS + HOME_PARTS
                                        + SECTOR_PARTS + GROUP_PARTS + STOCK_PARTS)])
def test_note_templates_read_view_models_only(template):
    """No analytics internals (the MarketDay `day`, its `episode`, a SectorRow's `row`) in the templates."""
    text = (builtin_templates() / template).read_text(encoding="utf-8")
    assert not re.search(r"\bday\.|\bepisode\.|\.row\.", text), template


def test_every_mover_table_comes_from_the_macro():
    """A mover table: a stock, its move and the context the analytics phrased (columns Context or Note)."""
    header = re.compile(r"^\| Stock \| [^|]+ \| (Context|Note)", re.MULTILINE)
    written_out = [p.name for p in builtin_templates().rglob("*.j2")
                   if p.name != "_macros.md.j2" and header.search(p.read_text(encoding="utf-8"))]
    assert written_out == []


def test_sector_board_shows_the_share_of_members_at_a_year_high():
    body = daily_body()
    board = body[body.index("kbgen:begin sectors"):body.index("kbgen:end sectors")]
    assert "Members at a 52-week closing high: [[Industrials]] 50%, [[Energy]] 0%, [[Information Technology]] n/a" in board
    assert board.index("Members at a 52-week") < board.index("![[sectors-")


def test_no_year_high_line_without_a_year_of_history():
    day = make_day()
    day = replace(day, analytics={"sector_year_highs": {s.sector: None for s in day.sectors}})
    notes, _ = build_notes(day, make_context(make_config(PROJECT)), Renderer())
    daily = next(n for n in notes if n.path.startswith("Daily/"))
    assert "52-week closing high:" not in daily.body


def groups_board_of(day) -> str:
    notes, _ = build_notes(day, make_context(make_config(PROJECT)), Renderer())
    body = next(n for n in notes if n.path.startswith("Daily/")).body
    return body[body.index("kbgen:begin groups"):body.index("kbgen:end groups")]


def test_groups_board_shows_each_basket_with_every_member_move():
    board = groups_board_of(make_day())
    rows = [line for line in board.splitlines() if line.startswith("| [[")]
    # best 1D excess first: Defense primes (+7.4% - 0.2%), Small caps, Magnificent 7
    assert [r.split(" |")[0] for r in rows] == ["| [[Defense primes]]", "| [[Small caps]]", "| [[Magnificent 7]]"]
    assert rows[0] == ("| [[Defense primes]] | +7.4% | +9.0% | +7.2% | +7.9% | "
                       "[[Northrop Grumman\\|NOC]] +8.3%, [[Lockheed Martin\\|LMT]] +7.9%, [[General Dynamics\\|GD]] +6.1% | 0 of 3 |")
    # a falling basket lists its worst member first
    assert rows[2].endswith("| -1.8% | -4.9% | [[NVIDIA\\|NVDA]] -2.1%, [[Apple\\|AAPL]] -1.2% | 2 of 2 |")
    assert "basket return minus SPY" in board


def test_groups_board_counts_only_members_with_a_price():
    day = make_day()
    returns = {t: r for t, r in day.returns.items() if t != "GD"}
    board = groups_board_of(replace(day, returns=returns))
    row = next(line for line in board.splitlines() if line.startswith("| [[Defense primes]]"))
    assert row.endswith("| [[Northrop Grumman\\|NOC]] +8.3%, [[Lockheed Martin\\|LMT]] +7.9%, [[General Dynamics\\|GD]] n/a | 0 of 2 |")


def test_no_groups_board_when_no_group_has_prices():
    notes, _ = build_notes(replace(make_day(), group_returns={}, group_excess={}),
                           make_context(make_config(PROJECT)), Renderer())
    daily = next(n for n in notes if n.path.startswith("Daily/"))
    assert "## Groups board" not in daily.body


def view_models(view_type) -> list[type]:
    """The dataclasses a builder's return annotation names (None left out)."""
    options = typing.get_args(view_type) or (view_type,)
    return [t for t in options if dataclasses.is_dataclass(t)]


@pytest.mark.parametrize("note", ["daily", "concept", "home", "sector", "group", "stock"])
def test_every_view_model_is_documented_with_its_fields(note):
    guide = (Path(__file__).parent.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for p in registry.parts_for(note):
        assert f"`{p.name}` ({p.order}, {p.block})" in guide, p.name
        for model in view_models(typing.get_type_hints(p.build)["return"]):
            assert f"**{model.__name__}**" in guide, model.__name__
            for field in dataclasses.fields(model):
                assert f"`{field.name}`" in guide, f"{model.__name__}.{field.name}"


@pytest.mark.parametrize("retyped", ["252", "= 5 sessions", "streak of 5", "RSP, IWM, QQQ", "five-session"])
def test_no_analytics_constant_is_retyped_in_a_template(retyped):
    found = [p.name for p in builtin_templates().rglob("*.j2") if retyped in p.read_text(encoding="utf-8")]
    assert found == []


def test_templates_are_not_handed_the_market_day():
    """Only view models reach a template: a user template reading `day` gets a clear error."""
    ctx = make_context(make_config(PROJECT))
    ix = VaultIndex(make_day(), ctx)
    assert "day" not in ix.base_values()


def _notable_day():
    """The fixture day with 22 other notable stocks: 8 on streaks, 14 at record closes."""
    from notes_fixtures import mover
    streaks = tuple(mover(f"ST{i}", f"Streak {i}", "Industrials", (), 0.004, streak=(-1) ** i * (12 - i))
                    for i in range(8))
    records = tuple(mover(f"RC{i:02d}", f"Record {i}", "Energy", (), 0.01, record_high=i % 2 == 0,
                          record_low=i % 2 == 1) for i in range(14))
    return replace(make_day(), notable=streaks + records)


def test_also_notable_names_every_stock_beyond_its_rows_with_both_kinds_shown():
    notes, _ = build_notes(_notable_day(), make_context(make_config(PROJECT)), Renderer())
    body = next(n for n in notes if n.path.startswith("Daily/")).body
    section = body[body.index("## Also notable"):body.index("## Weekly movers")]
    rows = re.findall(r"^\| (ST\d|RC\d+) ", section, re.MULTILINE)
    assert rows == ["ST0", "ST1", "ST2", "ST3", "RC00", "RC01", "RC02", "RC03"]
    assert "And 4 more on streaks: ST4 (8 up), ST5 (7 down), ST6 (6 up), ST7 (5 down)." in section
    assert ("And 10 more at record closes: RC04 (record high), RC05 (record low), RC06 (record high), "
            "RC07 (record low), RC08 (record high), RC09 (record low), RC10 (record high), "
            "RC11 (record low), RC12 (record high), RC13 (record low).") in section
    concept = next(n for n in notes if n.path.startswith("Concepts/")).body
    assert "And 4 more on streaks:" in concept and "And 10 more at record closes:" in concept


def test_a_short_notable_list_is_shown_whole():
    day = _notable_day()
    notes, _ = build_notes(replace(day, notable=day.notable[6:11]), make_context(make_config(PROJECT)), Renderer())
    body = next(n for n in notes if n.path.startswith("Daily/")).body
    assert len(re.findall(r"^\| (ST\d|RC\d+) ", body, re.MULTILINE)) == 5 and "more on streaks" not in body


def test_a_thin_day_lists_only_the_stocks_that_rose_and_says_how_many():
    day = make_day()
    thin = replace(day, winners=day.winners[:1], weekly_winners=(), weekly_losers=day.weekly_losers[:1])
    config = make_config(PROJECT)
    notes, _ = build_notes(thin, make_context(config), Renderer())
    body = next(n for n in notes if n.path.startswith("Daily/")).body
    winners = body[body.index("## Winners"):body.index("## Losers")]
    stocks = sum(1 for t, s in config.securities.items() if s.kind == "stock" and t in day.returns)
    assert f"Only 1 of the {stocks} stocks with a 1D return rose." in winners and "Lockheed" not in winners
    assert "stocks with a 1D return fell" not in body
    weekly = body[body.index("## Weekly movers"):]
    assert f"None of the {stocks} stocks with a 1W return rose." in weekly
    assert "| Stock |" not in weekly[:weekly.index("### Down most")]
    assert "Winners and losers = up to 3 stocks" in body


def test_the_stock_note_says_how_many_older_days_among_the_movers_are_not_listed():
    history = tuple((d, "winner", 0.01) for d in (*make_context(make_config(PROJECT)).daily_dates[:11],))
    notes, _ = build_notes(make_day(), make_context(make_config(PROJECT), mover_history={"NOC": history}), Renderer())
    body = next(n for n in notes if n.path == "Stocks/Northrop Grumman.md").body
    section = body[body.index("## Days among the movers"):body.index("## Theses")]
    assert len(re.findall(r"^\| \[\[", section, re.MULTILINE)) == 10
    assert "2 earlier days among the movers not listed." in section
