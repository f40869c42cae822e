"""Builds the hand-made fixture vault with the project's mkdocs.yml and checks the HTML."""
from __future__ import annotations

import re
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kbgen.config import parse_config
from kbgen.publish import PublishError, publish

REPO = Path(__file__).resolve().parents[1]
FIXTURE_VAULT = Path(__file__).parent / "fixtures" / "site_vault"

KBGEN_YML = """\
paths:
  vault: vault
  mkdocs_config: mkdocs.yml
universe:
  sectors:
    Energy: {etf: XLE, members: {XOM: ExxonMobil}}
  benchmarks: {SPY: S&P 500}
"""


def make_project(root: Path):
    shutil.copytree(FIXTURE_VAULT, root / "vault")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    (root / "kbgen.yml").write_text(KBGEN_YML)
    return parse_config(KBGEN_YML, root / "kbgen.yml")


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.srcs.append(attrs["src"])


def parse(page: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(page.read_text())
    return parser


def article(page: Path) -> str:
    text = page.read_text()
    return text[text.index("<article"):text.index("</article>")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    config = make_project(tmp_path_factory.mktemp("project"))
    report = publish(config)
    return report


def test_report(built):
    assert built.warnings == []
    assert built.pages == 14  # 13 notes + the generated tags index
    assert (built.site_dir / "index.html").is_file()


def test_no_wikilink_survives_outside_code(built):
    for page in built.site_dir.rglob("*.html"):
        text = re.sub(r"<(pre|code)\b.*?</\1>", "", page.read_text(), flags=re.S)
        assert "[[" not in text, page
    daily = article(built.site_dir / "Daily/2026-01-08/index.html")
    assert "<code>[[Not a link]]</code>" in daily and "[[Also not a link]]" in daily


def check_internal_links(site: Path) -> int:
    """Assert every internal href and src of the site resolves, anchors included; return the count."""
    checked = 0
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # served for any missing path, so MkDocs gives it root-absolute links
            continue
        parsed = parse(page)
        for url in parsed.hrefs + parsed.srcs:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("mailto:"):
                continue
            target = (page.parent / urllib.parse.unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(site)} links to missing {url}"
            if parts.fragment and target.suffix == ".html" and not parts.fragment.startswith("tag:"):
                assert parts.fragment in parse(target).ids, f"{page.relative_to(site)}: no anchor {url}"
            checked += 1
    return checked


def test_every_internal_link_and_anchor_resolves(built):
    assert check_internal_links(built.site_dir) > 200


def test_obsidian_forms_render(built):
    daily = article(built.site_dir / "Daily/2026-01-08/index.html")
    assert '<td><a href="../../Stocks/Apple/">AAPL</a></td>' in daily  # [[Apple\|AAPL]] in a table
    assert '<a href="../../Stocks/Apple/">apple</a>' in daily  # case differs from the file
    assert '<a href="../../Stocks/Apple/#moves">Apple &gt; Moves</a>' in daily
    assert 'src="../../assets/charts/energy-1m.svg" width="300"' in daily
    assert '<a href="../../Catalysts/Trump%20defense%20budget/">Trump defense budget</a>' in daily
    assert '<a href="../../Sectors/Energy/">the energy note</a>' in daily
    assert '<div class="admonition note">' in daily
    assert "<p>Seven straight declines.</p>" in article(built.site_dir / "Stocks/Apple/index.html")


def test_hostile_name_is_text(built):
    page = built.site_dir / "Stocks/Script Corp/index.html"
    text = page.read_text()
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Corp" in article(page)
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; Corp - " in text
    for other in built.site_dir.rglob("*.html"):
        assert "<script>alert" not in other.read_text(), other
    assert "AT&amp;T" in (built.site_dir / "Stocks/AT&T/index.html").read_text()


def test_tags_index(built):
    tags = article(built.site_dir / "tags/index.html")
    assert 'id="tag:stock"' in tags and "year/2026" in tags
    assert 'href="../../tags/#tag:stock"' in (built.site_dir / "Stocks/Apple/index.html").read_text()


def test_backlinks(built):
    apple = article(built.site_dir / "Stocks/Apple/index.html")
    linked = apple[apple.index('id="linked-from"'):]
    assert re.findall(r'<a href="([^"]+)">', linked) == [
        "../../Daily/2026-01-07/", "../../Daily/2026-01-08/", "../../Groups/Magnificent%207/", "../../",
    ]
    assert 'id="linked-from"' not in article(built.site_dir / "index.html")  # nothing links to Home


def test_nav_order_and_titles(built):
    home = (built.site_dir / "index.html").read_text()
    tabs = re.findall(r'class="md-tabs__link">\s*([^<]+?)\s*</a>', home)
    assert tabs == [
        "Market research home", "Latest: 2026-01-08", "Concepts", "Sectors", "Groups", "Stocks",
        "Theses", "Catalysts", "Daily", "Tags",
    ]
    daily = (built.site_dir / "Daily/2026-01-08/index.html").read_text()
    dates = re.findall(r'<span class="md-ellipsis">\s*(2026-01-0\d)\s*</span>', daily)
    assert list(dict.fromkeys(dates)) == ["2026-01-08", "2026-01-07"]


def test_a_page_in_a_long_section_renders_only_its_own_group(tmp_path):
    """Navigation grows with the square of the page count unless each page renders one group."""
    config = make_project(tmp_path)
    for index in range(60):
        name = f"{'AB'[index % 2]}co {index:02d}"
        (tmp_path / "vault" / "Stocks" / f"{name}.md").write_text(f"---\ntype: stock\n---\n# {name}\n")
    site = publish(config).site_dir
    nav = (site / "Stocks/Aco 00/index.html").read_text().split('class="md-content"')[0]
    assert 'href="../Aco%2002/"' in nav
    assert nav.count('href="../Bco') == 1  # the collapsed group "B" is one link, not its 30 pages


def test_daily_footer_runs_in_date_order_and_wide_tables_fit(built):
    site = built.site_dir
    page = (site / "Daily/2026-01-08/index.html").read_text()
    assert re.search(r'href="../2026-01-07/" class="md-footer__link md-footer__link--prev"', page)
    assert "md-footer__link--next" not in page  # the latest day has no next one
    older = (site / "Daily/2026-01-07/index.html").read_text()
    assert re.search(r'href="../2026-01-08/" class="md-footer__link md-footer__link--next"', older)
    assert "max-width: 80rem" in (site / "assets/kbgen.css").read_text()
    assert 'href="../../assets/kbgen.css"' in page


def test_home_is_the_front_page(built):
    assert "<title>Market research home - " in (built.site_dir / "index.html").read_text()
    assert not (built.site_dir / "Home").exists()


def test_templates_are_not_published(built):
    assert not (built.site_dir / "templates").exists()


@pytest.mark.parametrize("note, added, expected", [
    ("Apple", "See [[Northrop Grumman]].", "Stocks/Apple.md: [[Northrop Grumman]] matches no note"),
    ("Apple", "Half a link: [[Apple and more.", "Stocks/Apple.md: unconverted wikilink [[Apple"),
    ("NVIDIA", "See [[Apple#No such heading]].", "Stocks/NVIDIA.md"),
], ids=["missing target", "leftover [[", "broken anchor"])
def test_a_broken_link_fails_naming_the_note_and_the_link(tmp_path, note, added, expected):
    config = make_project(tmp_path)
    path = tmp_path / "vault" / "Stocks" / f"{note}.md"
    path.write_text(path.read_text() + f"\n{added}\n")
    with pytest.raises(PublishError) as failure:
        publish(config)
    message = str(failure.value)
    assert expected in message and "strict mode" in message
    if "#" in added:
        assert "no-such-heading" in message


def test_non_strict_build_reports_warnings(tmp_path):
    config = make_project(tmp_path)
    (tmp_path / "vault" / "Home.md").write_text("# Home\n\n[[Gone]]\n")
    report = publish(config, strict=False)
    assert any("Home.md: [[Gone]]" in w for w in report.warnings)


def test_dirty_rebuild_renders_only_changed_notes_and_stays_strict(tmp_path):
    config = make_project(tmp_path)
    publish(config)
    note = tmp_path / "vault" / "Stocks" / "NVIDIA.md"
    note.write_text(note.read_text() + "\nA new line.\n")
    report = publish(config, dirty=True)
    assert report.pages == 2 and report.warnings == []  # the note and the generated tags index
    assert "A new line." in (report.site_dir / "Stocks/NVIDIA/index.html").read_text()
