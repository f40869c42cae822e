"""MkDocs plugin `kbgen`: publishes an Obsidian vault where mkdocs-obsidian-bridge leaves gaps.

The bridge turns ordinary `[[wikilinks]]` into markdown links. Before it runs, this plugin rewrites
what it gets wrong (DESIGN.md section 6) into reference-style links the bridge leaves alone:

- names whose case differs from the file (`[[apple]]` for `Apple.md`; Obsidian ignores case),
- image widths `![[chart.svg|300]]` (and `|300x200`),
- note embeds `![[Other Note]]`, published as a plain link to the note,
- block references `[[Note#^id]]`, published as a link to the note (the `^id` markers are hidden),
- relative markdown links such as `[x](../Stocks/Apple.md)`, which the bridge reports as errors.

It also orders the navigation (Home, latest day, Concepts, Sectors, Groups, Stocks, Theses,
Catalysts, Daily newest first), makes Home the site's front page without a sidebar, adds a tags
index grouped by prefix, an Atom feed of daily and concept notes, appends a "Linked from" section
computed from the vault's link graph, sanitizes researchers' raw HTML the way Obsidian does, lets
search work from a site opened from disk, and logs a warning (fatal under `--strict`) for every
wikilink that matches no note and every `[[` left in a page's HTML. Code blocks and inline code
are never touched.

Everything site-wide (navigation, backlinks, tags, feed) is computed from every note on every
build, so a dirty rebuild of `kbgen serve` that renders only the edited note keeps them whole.
"""
from __future__ import annotations

import glob
import logging
import os
from functools import partial

from markdown.extensions.toc import slugify_unicode
from mkdocs.config import base
from mkdocs.config import config_options as co
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Link, Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from ..obsidian.links import VaultIndex, leftover_wikilinks, outgoing_links
from .backlinks import backlinks, linked_from_html
from .feed import FEED, atom_feed, feed_link_html, feed_notes
from .markdown import rewrite_markdown
from .nav import HOME_NOTE, Note, build_nav, html_text, note_properties, note_title
from .offline import FILE_WORKER_SHIM, SEARCH_WORKER, file_worker_shim
from .sanitize import sanitize_html
from .tags import TAGS_PAGE, TagLink, note_tags, tag_anchor, tags_markdown

log = logging.getLogger("mkdocs.plugins.kbgen")

HOME_TYPE = "home"  # frontmatter `type` of the front page, shown without the navigation sidebar
STYLESHEET = "assets/kbgen.css"
# Wider content and tighter cells: the sector board has 9 columns, returns tables 8; with
# Material's defaults (61rem grid, 1.25em cell padding) their last columns scroll out of view.
CSS = """\
.md-grid { max-width: 80rem; }
.md-typeset table:not([class]) th, .md-typeset table:not([class]) td { padding: .6em .7em; }
.md-typeset table:not([class]) th { min-width: 0; }
"""


class KbgenPluginConfig(base.Config):
    home = co.Type(str, default=HOME_NOTE)
    tags_page = co.Type(bool, default=True)
    backlinks = co.Type(bool, default=True)
    feed = co.Type(bool, default=True)
    # kbgen.yml `site.allow_raw_html`, which kbgen passes as `extra.kbgen.allow_raw_html`, wins.
    allow_raw_html = co.Type(bool, default=False)


class KbgenPlugin(BasePlugin[KbgenPluginConfig]):
    """See the module docstring; state is rebuilt on every build (serve rebuilds included)."""

    @event_priority(-100)  # after Material's offline plugin, whose CDN shim it replaces
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        toc = config.mdx_configs.get("toc", {})
        self.slugify = partial(toc.get("slugify", slugify_unicode), separator=toc.get("separator", "-"))
        self.index = VaultIndex(())
        self.notes: dict[str, Note] = {}
        self.linked_from: dict[str, list[Note]] = {}
        self.pages_rendered = 0
        settings = config.extra.get("kbgen") or {}
        self.allow_raw_html = bool(settings.get("allow_raw_html", self.config.allow_raw_html))
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        self._serve_search_from_disk(config)
        if config.site_url and "navigation.instant" not in config.theme["features"]:
            # Instant loading needs the sitemap, which only a server gives; from disk Material
            # falls back to ordinary page loads.
            config.theme["features"].append("navigation.instant")
        return config

    def _serve_search_from_disk(self, config: MkDocsConfig) -> None:
        """Swap the offline plugin's CDN polyfill for kbgen's local one (see file_worker_shim)."""
        polyfills = [p for p in config.extra.get("polyfills", []) if "iframe-worker" not in p]
        offline = config.plugins.get("material/offline") or config.plugins.get("offline")
        if offline is not None and offline.config.enabled and FILE_WORKER_SHIM not in polyfills:
            polyfills.append(FILE_WORKER_SHIM)
        config.extra["polyfills"] = polyfills

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        pages = [f for f in files.documentation_pages() if f.abs_src_path]
        self.index = VaultIndex(f.src_uri for f in files if f.abs_src_path and not f.inclusion.is_excluded())
        self.notes = {f.src_uri: self._read_note(f) for f in pages if not f.inclusion.is_excluded()}
        self.linked_from = backlinks(self.notes.values()) if self.config.backlinks else {}
        self.files = files
        self._make_home_the_front_page(files, config)
        if STYLESHEET not in files.src_uris:
            files.append(File.generated(config, STYLESHEET, content=CSS))
        extra = []
        if self.config.tags_page and TAGS_PAGE not in files.src_uris:
            files.append(self._tags_page(config))
            extra.append(("Tags", TAGS_PAGE))
        if config.nav is None:
            config.nav = build_nav(self.notes.values(), extra)
        return files

    def _read_note(self, file: File) -> Note:
        meta, body = note_properties(file.content_string)
        title = note_title(meta, body, file.name)
        date = meta.get("date")
        return Note(file.src_uri, title, frozenset(outgoing_links(body, file.src_uri, self.index)),
                    date.isoformat() if hasattr(date, "isoformat") else str(date or ""),
                    str(meta.get("type") or ""), note_tags(meta))

    def _make_home_the_front_page(self, files: Files, config: MkDocsConfig) -> None:
        home = files.get_file_from_path(self.config.home)
        if home is None or files.get_file_from_path("index.md") or files.get_file_from_path("README.md"):
            return
        home.dest_uri = "index.html"
        for cached in ("url", "abs_dest_path"):
            home.__dict__.pop(cached, None)
        # MkDocs knows no homepage unless it is named index.md, so Material's logo would link to
        # ".", a directory listing when the site is opened from disk.
        config.extra.setdefault("homepage", "index.html")

    def _tags_page(self, config: MkDocsConfig) -> File:
        page = File.generated(config, TAGS_PAGE, content=tags_markdown(self.notes.values()))
        # obsidian-bridge needs a path on disk for every page it sees; this one is never read.
        page.abs_src_path = os.path.join(config.docs_dir, TAGS_PAGE)
        return page

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        dailies = sorted((n for n in self.notes.values() if n.is_daily), key=lambda n: n.stem)
        home = files.get_file_from_path(self.config.home)
        if dailies and nav.items and home is not None and nav.items[0] is home.page:
            latest = files.get_file_from_path(dailies[-1].uri)
            nav.items.insert(1, Link(f"Latest: {dailies[-1].stem}", latest.url))
        # The Daily section lists newest first, so Material's footer would call the next day
        # "Previous". Link daily pages to each other chronologically instead, and only to each other.
        pages = [files.get_file_from_path(n.uri).page for n in dailies]
        for older, page, newer in zip([None, *pages[:-1]], pages, [*pages[1:], None]):
            if page is not None:
                page.previous_page, page.next_page = older, newer
        return nav

    @event_priority(50)  # before obsidian-bridge, so it never sees the forms it gets wrong
    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Rewrite the Obsidian forms the bridge gets wrong, reporting links that match nothing."""
        uri = page.file.src_uri
        if isinstance(page.meta.get("title"), str):
            page.meta["title"] = html_text(page.meta["title"])
        if page.meta.get("type") == HOME_TYPE:
            # a site setting, kept out of the note: the front page's tab has no other page to list
            hide = page.meta.get("hide")
            page.meta["hide"] = [*(hide if isinstance(hide, list) else []), "navigation"]
        result = rewrite_markdown(markdown, uri, self.index, self.slugify)
        for link in result.unresolved:
            self._problem(f"{uri}: {link} matches no note or file in the vault; create it or correct the link")
        return result.markdown

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        """Append "Linked from" to the page's article and link the feed from its head."""
        if self.config.feed:
            head = output.find("</head>")
            link = feed_link_html(get_relative_url(FEED, page.url), f"{config.site_name}: daily and concept notes")
            output = output[:head] + link + output[head:] if head >= 0 else output
        sources = self.linked_from.get(page.file.src_uri)
        end = output.find("</article>")
        if not sources or end < 0:
            return output
        links = [(s.nav_title, get_relative_url(self.files.get_file_from_path(s.uri).url, page.url)) for s in sources]
        return output[:end] + linked_from_html(links) + output[end:]

    @event_priority(100)  # before Material's tags plugin, which keeps tags already set
    def on_page_context(self, context, *, page: Page, config: MkDocsConfig, nav: Navigation):
        """Tag chips that open the tag in kbgen's tags index."""
        tags_file = self.files.get_file_from_path(TAGS_PAGE) if self.config.tags_page else None
        note = self.notes.get(page.file.src_uri)
        if tags_file is not None and note is not None and note.tags:
            context["tags"] = [TagLink(tag, f"{tags_file.url}#{tag_anchor(tag)}") for tag in note.tags]
        return context

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.config.feed:
            self._write_feed(config)
        if FILE_WORKER_SHIM in config.extra.get("polyfills", []):
            self._write_file_worker_shim(config)

    def _write_feed(self, config: MkDocsConfig) -> None:
        entries = [(n, self.files.get_file_from_path(n.uri).url) for n in feed_notes(self.notes.values())]
        with open(os.path.join(config.site_dir, FEED), "wb") as handle:
            handle.write(atom_feed(config.site_name, config.site_url or "", entries))

    def _write_file_worker_shim(self, config: MkDocsConfig) -> None:
        workers = glob.glob(os.path.join(config.site_dir, SEARCH_WORKER))
        if not workers:
            return
        with open(workers[0], encoding="utf-8") as handle:
            shim = file_worker_shim(handle.read())
        path = os.path.join(config.site_dir, FILE_WORKER_SHIM)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(shim)

    def on_page_content(self, html_content: str, *, page: Page, **kwargs) -> str:
        """Check for leftover wikilinks and sanitize the note's HTML (not the theme's, which wraps
        it later)."""
        self.pages_rendered += 1
        for leftover in leftover_wikilinks(html_content):
            self._problem(f"{page.file.src_uri}: unconverted wikilink {leftover} in the published page")
        return html_content if self.allow_raw_html else sanitize_html(html_content)

    def _problem(self, message: str) -> None:
        log.warning(message)
