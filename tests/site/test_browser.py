"""Drives the published fixture site in headless Chromium, served and opened from disk:
navigation, search, dark mode, and no request to an outside host."""
from __future__ import annotations

import functools
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kbgen.site.publish import publish

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
def site_dir(tmp_path_factory) -> Path:
    return publish(make_project(tmp_path_factory.mktemp("browser"))).site_dir


@pytest.fixture(scope="module")
def site_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("file", "blob", "data") or parts.hostname == "127.0.0.1"


# Material asks for sitemap.xml on every page (for its version selector and instant loading); a
# page opened from disk may not read another file, so Chromium logs that and Material carries on.
FILE_SITEMAP_NOTICE = ("sitemap.xml' from origin 'null' has been blocked", "Failed to load resource: net::ERR_FAILED")


@pytest.fixture()
def browser_page():
    """A page that records console errors, failed requests, dialogs, and blocks any non-local request."""
    problems: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
        page = context.new_page()

        def only_local(route):
            if is_local(route.request.url):
                route.continue_()
            else:
                problems.append(f"request leaving the machine: {route.request.url}")
                route.abort()

        def console(message):
            from_disk = page.url.startswith("file:") and any(n in message.text for n in FILE_SITEMAP_NOTICE)
            if message.type == "error" and not from_disk:
                problems.append(f"console error: {message.text}")

        def failed(request):
            if not (request.url.startswith("file:") and request.url.endswith("/sitemap.xml")):
                problems.append(f"request failed: {request.url} {request.failure}")

        page.route("**/*", only_local)
        page.on("console", console)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", failed)
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
        page.on("dialog", lambda d: problems.append(f"dialog opened (injected script?): {d.message}") or d.dismiss())
        yield page, problems
        context.close()
        browser.close()


def search(page, text: str):
    box = page.locator("input.md-search__input")
    box.click()
    box.fill("")
    box.press_sequentially(text)  # Material searches on key events, not on value changes
    return page.locator(".md-search-result__item")


def test_reader_journey(browser_page, site_url, tmp_path):
    page, problems = browser_page
    expect = playwright_api.expect

    page.goto(site_url)
    expect(page).to_have_title("Market research home - Market research")
    page.screenshot(path=tmp_path / "1-home.png", full_page=True)

    page.get_by_role("link", name="Latest: 2026-01-08").first.click()
    expect(page).to_have_url(f"{site_url}Daily/2026-01-08.html")
    expect(page.locator("article h1")).to_contain_text("Market day 2026-01-08")
    expect(page.locator("article img[src$='energy-1m.svg']")).to_have_attribute("width", "300")
    page.screenshot(path=tmp_path / "2-daily.png", full_page=True)

    page.locator("article table").get_by_role("link", name="AAPL").click()
    expect(page).to_have_url(f"{site_url}Stocks/Apple.html")
    expect(page.locator("#linked-from")).to_be_visible()
    page.screenshot(path=tmp_path / "3-stock.png", full_page=True)

    expect(search(page, "Procter").first).to_contain_text("Procter & Gamble")
    expect(search(page, "Corp").first).to_contain_text("<script>alert(1)</script> Corp")
    page.screenshot(path=tmp_path / "4-search.png")
    page.keyboard.press("Escape")

    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.screenshot(path=tmp_path / "5-dark.png", full_page=True)

    assert problems == []


@pytest.fixture(scope="module", params=["", "site:\n  url: https://research.example.com/\n"],
                ids=["no site url", "site url (instant loading)"])
def disk_site(request, tmp_path_factory) -> Path:
    return publish(make_project(tmp_path_factory.mktemp("disk"), request.param)).site_dir


def test_the_site_opened_from_disk(browser_page, disk_site, tmp_path):
    """file://.../site/index.html: links land on pages (not folder listings) and search answers,
    also with instant loading on (it falls back to ordinary page loads from disk)."""
    page, problems = browser_page
    site_dir = disk_site
    expect = playwright_api.expect
    home = (site_dir / "index.html").as_uri()

    page.goto(home)
    expect(page).to_have_title("Market research home - Market research")
    page.get_by_role("link", name="Latest: 2026-01-08").first.click()
    expect(page).to_have_url((site_dir / "Daily/2026-01-08.html").as_uri())
    expect(page.locator("article h1")).to_contain_text("Market day 2026-01-08")
    page.locator("article table").get_by_role("link", name="AAPL").click()
    expect(page.locator("article h1")).to_contain_text("Apple")
    page.locator("a.md-logo").first.click()
    expect(page).to_have_url(home)

    results = search(page, "Procter")
    expect(results.first).to_contain_text("Procter & Gamble")
    page.screenshot(path=tmp_path / "search-from-disk.png")
    results.first.locator("a").first.click()
    expect(page.locator("article h1")).to_contain_text("Procter & Gamble")
    assert problems == []
