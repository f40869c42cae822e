"""Unit tests of the kbgen mkdocs plugin's transformations, on small markdown strings."""
from __future__ import annotations

import re

import pytest

from kbgen.obsidian.links import VaultIndex, WikiLink, leftover_wikilinks, map_outside_code, outgoing_links
from kbgen.site.backlinks import backlinks, linked_from_html
from kbgen.site.markdown import rewrite_markdown
from kbgen.site.nav import Note, build_nav, note_properties, note_title

VAULT = [
    "Home.md",
    "Stocks/Apple.md",
    "Archive/Stocks/Apple.md",
    "Sectors/Energy.md",
    "Theses/Long NVIDIA.md",
    "Daily/2026-01-08.md",
    "assets/charts/energy-1m.svg",
]


@pytest.fixture()
def index() -> VaultIndex:
    return VaultIndex(VAULT)


def definitions(markdown: str) -> dict[str, str]:
    return dict(re.findall(r"^\[(kbgen-link-\d+)\]: (\S+)$", markdown, re.MULTILINE))


def only_link(markdown: str) -> tuple[str, str]:
    """The rewritten link's text and the url its reference points to."""
    (text, ref), = re.findall(r"(!?\[[^\]]*\])\[(kbgen-link-\d+)\]", markdown)
    return text, definitions(markdown)[ref]


def test_parse_escaped_pipe_heading_and_label():
    link = WikiLink.parse(r"Apple#Moves\|AAPL")
    assert (link.target, link.fragment, link.label, link.escaped_pipe) == ("Apple", "Moves", "AAPL", True)
    assert WikiLink.parse("Apple#^key-fact").is_block_ref


def test_resolve_ignores_case_and_prefers_the_shortest_path(index):
    assert index.resolve("apple", "Daily/2026-01-08.md") == "Stocks/Apple.md"
    assert index.resolve("Apple", "Archive/Note.md") == "Archive/Stocks/Apple.md"
    assert index.resolve("archive/stocks/apple", "Home.md") == "Archive/Stocks/Apple.md"
    assert index.resolve("ENERGY-1M.SVG", "Home.md") == "assets/charts/energy-1m.svg"
    assert index.resolve("apple", "Home.md", ignore_case=False) is None
    assert index.resolve("Nowhere", "Home.md") is None


def test_lowercase_name_links_to_the_note(index):
    result = rewrite_markdown("See [[apple]].", "Daily/2026-01-08.md", index)
    assert only_link(result.markdown) == ("[apple]", "../Stocks/Apple.md")


def test_exact_names_are_left_to_obsidian_bridge(index):
    text = "See [[Apple]] and [[Apple|the company]]."
    assert rewrite_markdown(text, "Daily/2026-01-08.md", index).markdown == text


def test_alias_in_a_table_keeps_the_row_intact(index):
    result = rewrite_markdown(r"| [[apple\|AAPL]] | -3% |", "Daily/2026-01-08.md", index)
    assert result.markdown.startswith("| [AAPL][kbgen-link-1] | -3% |")


def test_image_width_and_height(index):
    result = rewrite_markdown("![[energy-1m.svg|300]]", "Sectors/Energy.md", index)
    assert result.markdown.startswith('![energy-1m.svg][kbgen-link-1]{ width="300" }')
    assert definitions(result.markdown) == {"kbgen-link-1": "../assets/charts/energy-1m.svg"}
    sized = rewrite_markdown("![[energy-1m.svg|300x200]]", "Home.md", index).markdown
    assert '{ width="300" height="200" }' in sized


def test_note_embed_becomes_a_link(index):
    result = rewrite_markdown("![[Long NVIDIA]]", "Home.md", index)
    assert only_link(result.markdown) == ("[Long NVIDIA]", "Theses/Long%20NVIDIA.md")


def test_block_reference_links_to_the_note(index):
    result = rewrite_markdown("[[Apple#^key-fact]]", "Home.md", index)
    assert only_link(result.markdown) == ("[Apple]", "Stocks/Apple.md")


def test_block_id_markers_are_hidden(index):
    text = "Seven declines. ^key-fact\n\n- a\n- b\n\n^list-id\n\nx ^ y and `code ^id`"
    assert rewrite_markdown(text, "Home.md", index).markdown == "Seven declines.\n\n- a\n- b\n\n\n\nx ^ y and `code ^id`"


def test_heading_link_without_alias_reads_like_obsidian(index):
    result = rewrite_markdown("[[Sectors/Energy#Rotation quadrant]]", "Home.md", index)
    assert only_link(result.markdown) == (r"[Energy > Rotation quadrant]", "Sectors/Energy.md#rotation-quadrant")


def test_relative_markdown_link_is_kept_from_the_bridge(index):
    result = rewrite_markdown("[energy](../Sectors/Energy.md#top)", "Daily/2026-01-08.md", index)
    assert only_link(result.markdown) == ("[energy]", "../Sectors/Energy.md#top")
    untouched = "[x](https://example.com/a.md) [y](Missing.md) [z](notes.txt)"
    assert rewrite_markdown(untouched, "Home.md", index).markdown == untouched


def test_unresolved_links_are_reported_and_left(index):
    result = rewrite_markdown("[[Nowhere]] and [[apple]]", "Home.md", index)
    assert result.unresolved == ["[[Nowhere]]"]
    assert "[[Nowhere]]" in result.markdown


@pytest.mark.parametrize(
    "code",
    ["`[[apple]]`", "``[[apple]] ` x``", "```\n[[apple]]\n```", "~~~md\n![[energy-1m.svg|300]]\n~~~", "```\n[[apple]]"],
)
def test_code_is_left_alone(index, code):
    text = f"before\n\n{code}\n\nafter"
    assert rewrite_markdown(text, "Home.md", index).markdown == text


def test_map_outside_code_sees_only_prose():
    seen = []
    map_outside_code("a `b` c\n```\nd\n```\ne", lambda t: seen.append(t) or t)
    assert "".join(seen) == "a  c\n\ne"


def test_outgoing_links_from_wikilinks_embeds_and_relative_links(index):
    text = "[[apple]] ![[Long NVIDIA]] [e](../Sectors/Energy.md) ![[energy-1m.svg]] `[[Home]]` [[Nowhere]]"
    assert outgoing_links(text, "Daily/2026-01-08.md", index) == {
        "Stocks/Apple.md", "Theses/Long NVIDIA.md", "Sectors/Energy.md"
    }


def test_backlinks_sorted_by_title():
    notes = [
        Note("Home.md", "Home", frozenset({"Stocks/Apple.md"})),
        Note("Daily/2026-01-08.md", "Market day", frozenset({"Stocks/Apple.md"})),
        Note("Stocks/Apple.md", "Apple", frozenset()),
    ]
    assert [n.uri for n in backlinks(notes)["Stocks/Apple.md"]] == ["Daily/2026-01-08.md", "Home.md"]
    assert "Home.md" not in backlinks(notes)


def test_linked_from_escapes_hostile_titles():
    section = linked_from_html([("<script>alert(1)</script> [x]", "../Script%20Corp/")])
    assert "<script>" not in section
    assert '<li><a href="../Script%20Corp/">&lt;script&gt;alert(1)&lt;/script&gt; [x]</a></li>' in section


def test_titles_from_frontmatter_then_h1_then_name():
    meta, body = note_properties("---\ntitle: Custom\ntags: [a]\n---\n# Heading\n")
    assert meta["tags"] == ["a"] and note_title(meta, body, "file") == "Custom"
    assert note_title({}, "```\n# not this\n```\n# AT&amp;T [[Apple|x]]\n", "file") == "AT&T x"
    assert note_title({}, "no heading", "file") == "file"


def test_nav_order_and_daily_newest_first():
    notes = [
        Note(uri, uri.rsplit("/", 1)[-1].removesuffix(".md"), frozenset())
        for uri in [
            "Daily/2026-01-07.md", "Daily/2026-01-08.md", "Stocks/Apple.md", "Theses/Long NVIDIA.md",
            "Concepts/Rotation.md", "Home.md", "Catalysts/Budget.md", "Groups/Mag 7.md", "Sectors/Energy.md",
            "Research/Idea.md", "Scratch.md",
        ]
    ]
    nav = build_nav(notes, [("Tags", "tags.md")])
    assert [next(iter(item)) for item in nav] == [
        "Home", "Concepts", "Sectors", "Groups", "Stocks", "Theses", "Catalysts", "Daily", "Research", "Scratch", "Tags"
    ]
    assert nav[7]["Daily"] == [{"2026-01-08": "Daily/2026-01-08.md"}, {"2026-01-07": "Daily/2026-01-07.md"}]


def test_nav_titles_are_escaped_and_daily_notes_read_as_dates():
    notes = [
        Note("Daily/2026-01-08.md", "Market day 2026-01-08", frozenset()),
        Note("Stocks/Script Corp.md", "<script>x</script> Corp", frozenset()),
    ]
    nav = build_nav(notes)
    assert nav[0] == {"Stocks": [{"&lt;script&gt;x&lt;/script&gt; Corp": "Stocks/Script Corp.md"}]}
    assert nav[1] == {"Daily": [{"2026-01-08": "Daily/2026-01-08.md"}]}


def test_leftover_wikilinks_ignore_code():
    page = "<p>ok <code>[[a]]</code></p><pre><code>[[b]]</code></pre><p>bad [[Nowhere]]</p>"
    assert leftover_wikilinks(page) == ["[[Nowhere]]"]


def test_long_sections_are_grouped_by_month_or_letter():
    days = [Note(f"Daily/2025-{m:02d}-{d:02d}.md", "x", frozenset()) for m in (1, 2) for d in range(1, 26)]
    stocks = [Note(f"Stocks/{c}co {i}.md", f"{c}co {i}", frozenset()) for i, c in enumerate("AB" * 21)]
    nav = build_nav(days + stocks)
    assert [next(iter(group)) for group in nav[0]["Stocks"]] == ["A", "B"]
    months = nav[1]["Daily"]
    assert [next(iter(group)) for group in months] == ["February 2025", "January 2025"]
    assert months[0]["February 2025"][0] == {"2025-02-25": "Daily/2025-02-25.md"}


def test_concepts_are_listed_newest_first_by_date():
    concepts = [Note(f"Concepts/Sector Rotation {m}.md", f"Sector Rotation {m}", frozenset(), date)
                for m, date in (("July 2026", "2026-07-01"), ("October 2026", "2026-10-02"), ("September 2026", "2026-09-01"))]
    assert [next(iter(item)) for item in build_nav(concepts)[0]["Concepts"]] == [
        "Sector Rotation October 2026", "Sector Rotation September 2026", "Sector Rotation July 2026"]


def test_a_long_linked_from_list_is_collapsed():
    links = [(f"2026-01-{d:02d}", f"Daily/2026-01-{d:02d}/") for d in range(1, 31)]
    section = linked_from_html(links)
    assert '<details class="note">\n<summary>30 notes link here</summary>' in section
    assert section.count('<a href="Daily/') == 30 and "<li>" not in section
    assert linked_from_html(links[:3]).count("<li>") == 3


def test_tags_are_read_as_obsidian_reads_them():
    from kbgen.site.tags import note_tags

    assert note_tags({"tags": ["stock", "#year/2026", "stock", " "]}) == ("stock", "year/2026")
    assert note_tags({"tags": "daily"}) == ("daily",)
    assert note_tags({"tags": None}) == () and note_tags({}) == ()


def test_tags_group_by_a_shared_prefix_and_the_rest_is_other():
    from kbgen.site.tags import tag_anchor, tag_groups

    notes = [Note("Stocks/Apple.md", "Apple", frozenset(), tags=("stock", "sector/it")),
             Note("Sectors/IT.md", "IT", frozenset(), tags=("sector", "sector/it")),
             Note("Daily/2026-01-08.md", "Day", frozenset(), tags=("daily",))]
    groups = tag_groups(notes)
    assert {group: list(tags) for group, tags in groups.items()} == {"sector": ["sector", "sector/it"], "Other": ["daily", "stock"]}
    assert [n.title for n in groups["sector"]["sector/it"]] == ["Apple", "IT"]
    assert tag_anchor("sector/information-technology") == "tag:sector-information-technology"


def test_sanitizing_keeps_code_that_shows_html_as_text():
    from kbgen.site.sanitize import sanitize_html

    shown = '<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>'
    assert sanitize_html(shown) == shown
    assert sanitize_html('<p onmouseover="x()">Hi<script>x()</script></p>') == "<p>Hi</p>"
    assert sanitize_html('<a href="JaVaScRiPt:x()">link</a>') == "<a>link</a>"
