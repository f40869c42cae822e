"""Checks of a published site's HTML, shared by the site tests and the notes tests."""
from __future__ import annotations

import urllib.parse
from html.parser import HTMLParser
from pathlib import Path


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
            # a link to a folder works on a server, but opened from disk it shows a directory listing
            assert target.is_file(), f"{page.relative_to(site)} links to {url}, which is no file"
            if parts.fragment and target.suffix == ".html" and not parts.fragment.startswith("tag:"):
                assert parts.fragment in parse(target).ids, f"{page.relative_to(site)}: no anchor {url}"
            checked += 1
    return checked


def published_project(root: Path, edit_config, sessions: int, first: str):
    """A project from `kbgen init` in `root`, its config text passed through `edit_config`, with
    `sessions` simulated sessions ending DEMO_END, built from `first` and published; returns the config."""
    from click.testing import CliRunner

    from conftest import DEMO_END
    from kbgen.cli import cli
    from kbgen.config import load_config
    from kbgen.jobs.init import init_project
    from kbgen.sources.demo import DEMO_SOURCE, simulate_market
    from kbgen.store import Store

    init_project(root)
    config_path = root / "kbgen.yml"
    config_path.write_text(edit_config(config_path.read_text()))
    config = load_config(config_path)
    with Store(config.store_path) as store:
        store.upsert(simulate_market(config.securities, end=DEMO_END, sessions=sessions), DEMO_SOURCE)
    runner = CliRunner()
    for command in (["build", "--from", first, "--to", str(DEMO_END)], ["publish"]):
        result = runner.invoke(cli, ["--config", str(config_path), *command])
        assert result.exit_code == 0, result.output
    return config
