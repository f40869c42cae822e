"""Publish a vault kbgen generated from simulated prices, with a hostile company name, and check
the HTML a reader gets: links, anchors, tables linking to stocks, names shown as text."""
from __future__ import annotations

import re
import urllib.parse

import pytest
from site_checks import check_internal_links, published_project

HOSTILE = "<script>alert(1)</script> & [[Co]] | Inc"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    published_project(root, lambda text: text.replace("AAPL: Apple,", f"AAPL: {HOSTILE!r},", 1), sessions=300,
                      first="2026-01-26")
    return root / "site"


def pages(site):
    return [p for p in site.rglob("*.html") if p.name != "404.html"]


def test_no_wikilink_survives(site):
    for page in pages(site):
        text = re.sub(r"<(pre|code)\b.*?</\1>", "", page.read_text(), flags=re.S)
        assert "[[" not in text.replace("[[Co]]", ""), page  # the hostile name, shown as text


def test_every_internal_link_and_anchor_resolves(site):
    assert check_internal_links(site) > 5000


def test_the_winners_table_links_to_stock_pages(site):
    daily = (site / "Daily" / "2026-01-30.html").read_text()
    winners = daily[daily.index('id="winners"'):daily.index('id="losers"')]
    stocks = re.findall(r'<td><a href="\.\./Stocks/([^"/]+)\.html">', winners)
    assert len(stocks) == 5
    for name in stocks:
        assert (site / "Stocks" / f"{urllib.parse.unquote(name)}.html").is_file()


def test_a_hostile_company_name_is_shown_as_text(site):
    # its note has a safe file name; links to it show the name as written, escaped
    assert (site / "Stocks" / "scriptalert(1)script & Co Inc.html").is_file()
    sector = (site / "Sectors" / "Information Technology.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ((Co)) | Inc</a>" in sector
    for page in pages(site):
        text = page.read_text()
        assert "<script>alert" not in text, page
