"""Drives the published fixture site in headless Chromium: navigation, search, dark mode, offline."""
from __future__ import annotations

import functools
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kbgen.publish import publish

from test_publish import make_project  # tests/ is on sys.path (pytest rootdir mode)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (apt install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    report = publish(make_project(tmp_path_factory.mktemp("browser")))
    handler = functools.partial(_QuietHandler, directory=str(report.site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def browser_page(site_url):
    """A page that records console errors, failed requests, dialogs, and blocks any non-local request."""
    problems: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
        page = context.new_page()

        def only_local(route):
            if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                problems.append(f"request leaving the machine: {route.request.url}")
                route.abort()

        page.route("**/*", only_local)
        page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
        page.on("dialog", lambda d: problems.append(f"dialog opened (injected script?): {d.message}") or d.dismiss())
        yield page, problems
        context.close()
        browser.close()


def test_reader_journey(browser_page, site_url, tmp_path):
    page, problems = browser_page
    expect = playwright_api.expect

    page.goto(site_url)
    expect(page).to_have_title("Market research home - Market research")
    page.screenshot(path=tmp_path / "1-home.png", full_page=True)

    page.get_by_role("link", name="Latest: 2026-01-08").first.click()
    expect(page).to_have_url(f"{site_url}Daily/2026-01-08/")
    expect(page.locator("article h1")).to_contain_text("Market day 2026-01-08")
    expect(page.locator("article img[src$='energy-1m.svg']")).to_have_attribute("width", "300")
    page.screenshot(path=tmp_path / "2-daily.png", full_page=True)

    page.locator("article table").get_by_role("link", name="AAPL").click()
    expect(page).to_have_url(f"{site_url}Stocks/Apple/")
    expect(page.locator("#linked-from")).to_be_visible()
    page.screenshot(path=tmp_path / "3-stock.png", full_page=True)

    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("Procter")  # Material searches on key events, not on value changes
    expect(page.locator(".md-search-result__item").first).to_contain_text("Procter & Gamble")
    search.fill("")
    search.press_sequentially("Corp")
    expect(page.locator(".md-search-result__item").first).to_contain_text("<script>alert(1)</script> Corp")
    page.screenshot(path=tmp_path / "4-search.png")
    page.keyboard.press("Escape")

    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.screenshot(path=tmp_path / "5-dark.png", full_page=True)

    assert problems == []
