"""Builds the hand-made fixture vault with the project's mkdocs.yml and checks the HTML."""
from __future__ import annotations

import re
import shutil
import urllib.parse
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TESTS_DIR
from kbgen.config import parse_config
from kbgen.site.publish import PublishError, publish
from site_checks import check_internal_links, parse

REPO = REPO_ROOT
FIXTURE_VAULT = TESTS_DIR / "fixtures" / "site_vault"

KBGEN_YML = """\
paths:
  vault: vault
  mkdocs_config: mkdocs.yml
universe:
  sectors:
    Energy: {etf: XLE, members: {XOM: ExxonMobil}}
  benchmarks: {SPY: S&P 500}
"""


def make_project(root: Path, site: str = ""):
    """The fixture vault with the project's mkdocs.yml; `site` is a kbgen.yml `site:` section."""
    shutil.copytree(FIXTURE_VAULT, root / "vault")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    text = KBGEN_YML + site
    (root / "kbgen.yml").write_text(text)
    return parse_config(text, root / "kbgen.yml")


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
    daily = article(built.site_dir / "Daily/2026-01-08.html")
    assert "<code>[[Not a link]]</code>" in daily and "[[Also not a link]]" in daily


def test_every_internal_link_and_anchor_resolves(built):
    assert check_internal_links(built.site_dir) > 200


def test_obsidian_forms_render(built):
    daily = article(built.site_dir / "Daily/2026-01-08.html")
    assert '<td><a href="../Stocks/Apple.html">AAPL</a></td>' in daily  # [[Apple\|AAPL]] in a table
    assert '<a href="../Stocks/Apple.html">apple</a>' in daily  # case differs from the file
    assert '<a href="../Stocks/Apple.html#moves">Apple &gt; Moves</a>' in daily
    assert 'src="../assets/charts/energy-1m.svg" width="300"' in daily
    assert '<a href="../Catalysts/Trump%20defense%20budget.html">Trump defense budget</a>' in daily
    assert '<a href="../Sectors/Energy.html">the energy note</a>' in daily
    assert '<div class="admonition note">' in daily
    assert "<p>Seven straight declines.</p>" in article(built.site_dir / "Stocks/Apple.html")


def test_hostile_name_is_text(built):
    page = built.site_dir / "Stocks/Script Corp.html"
    text = page.read_text()
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Corp" in article(page)
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; Corp - " in text
    for other in built.site_dir.rglob("*.html"):
        assert "<script>alert" not in other.read_text(), other
    assert "AT&amp;T" in (built.site_dir / "Stocks/AT&T.html").read_text()


def test_tags_index_groups_tags_by_prefix_with_counts(built):
    tags = article(built.site_dir / "tags.html")
    sections = re.findall(r'<h2 id="([^"]+)"', tags)
    assert sections == ["sector", "year", "other"]  # prefixes first, tags with no shared prefix last
    year = tags[tags.index('<h2 id="year"'):tags.index('<h2 id="other"')]
    assert "1 tag(s) on 2 note(s)." in year
    assert '<details id="tag:year-2026">\n<summary>year/2026 (2)</summary>' in year
    assert re.findall(r'<li><a href="([^"]+)"', year) == ["Daily/2026-01-07.html", "Daily/2026-01-08.html"]
    assert 'id="tag:sector-information-technology"' in tags
    assert "<details open" not in tags  # collapsed: the page is one line per tag


def test_tag_chips_open_the_tag_in_the_index(built):
    apple = (built.site_dir / "Stocks/Apple.html").read_text()
    chips = re.findall(r'<a href="([^"]+)" class="md-tag">([^<]+)</a>', apple)
    assert ("../tags.html#tag:stock", "stock") in chips
    anchors = parse(built.site_dir / "tags.html").ids
    assert all(url.split("#")[1] in anchors for url, _ in chips)


def test_backlinks(built):
    apple = article(built.site_dir / "Stocks/Apple.html")
    linked = apple[apple.index('id="linked-from"'):]
    assert re.findall(r'<a href="([^"]+)">', linked) == [
        "../Daily/2026-01-07.html", "../Daily/2026-01-08.html", "../Groups/Magnificent%207.html", "../index.html",
    ]
    assert 'id="linked-from"' not in article(built.site_dir / "index.html")  # nothing links to Home


def test_nav_order_and_titles(built):
    home = (built.site_dir / "index.html").read_text()
    tabs = re.findall(r'class="md-tabs__link">\s*([^<]+?)\s*</a>', home)
    assert tabs == [
        "Market research home", "Latest: 2026-01-08", "Concepts", "Sectors", "Groups", "Stocks",
        "Theses", "Catalysts", "Daily", "Tags",
    ]
    daily = (built.site_dir / "Daily/2026-01-08.html").read_text()
    dates = re.findall(r'<span class="md-ellipsis">\s*(2026-01-0\d)\s*</span>', daily)
    assert list(dict.fromkeys(dates)) == ["2026-01-08", "2026-01-07"]


def test_a_page_in_a_long_section_renders_only_its_own_group(tmp_path):
    """Navigation grows with the square of the page count unless each page renders one group."""
    config = make_project(tmp_path)
    for index in range(60):
        name = f"{'AB'[index % 2]}co {index:02d}"
        (tmp_path / "vault" / "Stocks" / f"{name}.md").write_text(f"---\ntype: stock\n---\n# {name}\n")
    site = publish(config).site_dir
    nav = (site / "Stocks/Aco 00.html").read_text().split('class="md-content"')[0]
    assert 'href="Aco%2002.html"' in nav
    assert nav.count('href="Bco') == 1  # the collapsed group "B" is one link, not its 30 pages


def test_daily_footer_runs_in_date_order_and_wide_tables_fit(built):
    site = built.site_dir
    page = (site / "Daily/2026-01-08.html").read_text()
    assert re.search(r'href="2026-01-07.html" class="md-footer__link md-footer__link--prev"', page)
    assert "md-footer__link--next" not in page  # the latest day has no next one
    older = (site / "Daily/2026-01-07.html").read_text()
    assert re.search(r'href="2026-01-08.html" class="md-footer__link md-footer__link--next"', older)
    assert "max-width: 80rem" in (site / "assets/kbgen.css").read_text()
    assert 'href="../assets/kbgen.css"' in page


def test_home_is_the_front_page(built):
    assert "<title>Market research home - " in (built.site_dir / "index.html").read_text()
    assert not (built.site_dir / "Home.html").exists()


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
    assert "A new line." in (report.site_dir / "Stocks/NVIDIA.html").read_text()


# --- the site from disk and from a server ---------------------------------------------------

class _Requests(HTMLParser):
    """URLs the browser fetches by itself: scripts, stylesheets, icons, fonts, images, frames."""

    FETCHED = {"script": "src", "img": "src", "source": "src", "iframe": "src", "link": "href"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") in ("canonical", "alternate", "prev", "next"):
            return  # navigation links, not requests
        if attrs.get(self.FETCHED.get(tag, "")):
            self.urls.append(attrs[self.FETCHED[tag]])


def outside_hosts(site: Path) -> set[str]:
    found = set()
    for page in site.rglob("*.html"):
        parser = _Requests()
        parser.feed(page.read_text())
        found |= {url for url in parser.urls if urllib.parse.urlsplit(url).netloc}
    for sheet in site.rglob("*.css"):
        found |= set(re.findall(r"(?:url\(|@import\s+)[\"']?((?:https?:)?//[^)\"']+)", sheet.read_text()))
    return found


def test_the_site_requests_no_outside_host(built):
    assert outside_hosts(built.site_dir) == set()
    assert 'src="assets/javascripts/kbgen-file-worker.js"' in (built.site_dir / "index.html").read_text()


def test_search_works_without_a_server(built):
    """Opened from disk the page cannot fetch the index or start a worker from a file: the index is
    inlined as a script and the worker is started from a copy of its source."""
    index = (built.site_dir / "search" / "search_index.js").read_text()
    assert index.startswith("var __index = ") and "Procter" in index
    shim = (built.site_dir / "assets/javascripts/kbgen-file-worker.js").read_text()
    worker, = (built.site_dir / "assets/javascripts/workers").glob("search.*.min.js")
    assert '"file:"' in shim and worker.read_text()[:200].replace('"', '\\"') in shim


def test_site_url_gives_canonical_links_a_sitemap_and_instant_loading(tmp_path):
    config = make_project(tmp_path, "site:\n  url: https://research.example.com/team/\n")
    site = publish(config).site_dir
    apple = (site / "Stocks/Apple.html").read_text()
    assert '<link rel="canonical" href="https://research.example.com/team/Stocks/Apple.html">' in apple
    assert "https://research.example.com/team/Stocks/Apple.html" in (site / "sitemap.xml").read_text()
    assert '"navigation.instant"' in apple
    assert outside_hosts(site) == set()


def test_without_site_url_there_is_no_instant_loading(built):
    apple = (built.site_dir / "Stocks/Apple.html").read_text()
    assert 'rel="canonical"' not in apple and '"navigation.instant"' not in apple


# --- researchers' raw HTML ------------------------------------------------------------------

RAW_HTML = """
<script>alert("script")</script>
<div class="callout" onclick="alert('click')">Clickable box</div>
<a href="javascript:alert('url')">a javascript link</a>
<img src="../assets/charts/energy-1m.svg" alt="chart" onerror="alert('img')">
<iframe src="https://example.com/embed"></iframe>
<details><summary>More</summary>Hidden text</details>
"""
PAYLOADS = ("<script>alert", "onclick=", "javascript:", "onerror=", "<iframe")


def publish_with_raw_html(tmp_path, site: str = ""):
    config = make_project(tmp_path, site)
    note = tmp_path / "vault" / "Stocks" / "NVIDIA.md"
    note.write_text(note.read_text() + RAW_HTML)
    return article(publish(config).site_dir / "Stocks/NVIDIA.html")


def test_raw_html_is_sanitized_like_obsidian(tmp_path):
    page = publish_with_raw_html(tmp_path)
    for payload in PAYLOADS:
        assert payload not in page
    assert '<div class="callout">Clickable box</div>' in page
    assert '<img src="../assets/charts/energy-1m.svg" alt="chart">' in page
    assert "<details><summary>More</summary>Hidden text</details>" in page
    assert '<h1 id="nvidia">NVIDIA<a class="headerlink" href="#nvidia" title="Permanent link">' in page  # heading permalinks stay
    assert '<div class="admonition note">' in article(tmp_path / "site/Daily/2026-01-08.html")


def test_allow_raw_html_keeps_it(tmp_path):
    page = publish_with_raw_html(tmp_path, "site:\n  allow_raw_html: true\n")
    for payload in PAYLOADS:
        assert payload in page


def test_theme_scripts_are_not_sanitized(built):
    page = (built.site_dir / "Stocks/Apple.html").read_text()
    assert '<script id="__config" type="application/json">' in page
    assert re.search(r'<script src="\.\./assets/javascripts/bundle\.[0-9a-f]+\.min\.js"></script>', page)


# --- site-only settings, the feed, failures -------------------------------------------------

def test_home_hides_the_navigation_without_a_hide_key_in_the_note(built):
    assert "hide" not in (FIXTURE_VAULT / "Home.md").read_text()
    sidebar = re.compile(r'<div class="md-sidebar md-sidebar--primary"[^>]*data-md-type="navigation"\s*(hidden)?>')
    assert sidebar.search((built.site_dir / "index.html").read_text())[1] == "hidden"
    assert sidebar.search((built.site_dir / "Stocks/Apple.html").read_text())[1] is None


ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_of_daily_and_concept_notes_newest_first(built):
    feed = ET.parse(built.site_dir / "feed.xml").getroot()
    entries = [(e.findtext(f"{ATOM}title"), e.find(f"{ATOM}link").get("href"), e.findtext(f"{ATOM}updated")[:10])
               for e in feed.findall(f"{ATOM}entry")]
    assert entries == [
        ("2026-01-08: Market day 2026-01-08", "Daily/2026-01-08.html", "2026-01-08"),
        ("Sector Rotation January 2026", "Concepts/Sector%20Rotation%20January%202026.html", "2026-01-08"),
        ("2026-01-07: Market day 2026-01-07", "Daily/2026-01-07.html", "2026-01-07"),
    ]
    assert all((built.site_dir / urllib.parse.unquote(href)).is_file() for _, href, _ in entries)
    assert feed.findtext(f"{ATOM}updated").startswith("2026-01-08")  # the newest note's, not the clock's
    apple = (built.site_dir / "Stocks/Apple.html").read_text()
    assert re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="\.\./feed\.xml">', apple)


def test_feed_links_are_absolute_with_a_site_url(tmp_path):
    site = publish(make_project(tmp_path, "site:\n  url: https://research.example.com/\n")).site_dir
    links = [link.get("href") for link in ET.parse(site / "feed.xml").getroot().iter(f"{ATOM}link")]
    assert "https://research.example.com/Daily/2026-01-08.html" in links
    assert "https://research.example.com/feed.xml" in links


def test_a_failure_outside_the_vault_does_not_blame_the_vault(tmp_path):
    config = make_project(tmp_path)
    (tmp_path / "vault" / "Home.md").write_text("# Home\n\n[[Gone]]\n")  # a warning, not the failure
    (tmp_path / "site").write_text("a file where the site folder goes")
    with pytest.raises(PublishError) as failure:
        publish(config, strict=False)
    message = str(failure.value)
    assert "vault" not in message and "Not a directory" in message
    assert "check that the site folder can be written" in message
