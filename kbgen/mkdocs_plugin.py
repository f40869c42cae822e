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

import datetime as dt
import glob
import html
import json
import logging
import os
import posixpath
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import nh3
import yaml
from feedgen.feed import FeedGenerator
from markdown.extensions.toc import slugify_unicode
from mkdocs.config import base
from mkdocs.config import config_options as co
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Link, Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.plugins.kbgen")

# Files Obsidian links to without an extension are notes; these extensions are linked as-is.
ATTACHMENT_EXTENSIONS = frozenset(
    "png jpg jpeg gif bmp svg webp mp3 webm wav m4a ogg 3gp flac mp4 ogv mov mkv pdf".split()
)
SECTION_ORDER = ("Concepts", "Sectors", "Groups", "Stocks", "Theses", "Catalysts", "Daily")
DAILY_FOLDER = "Daily"
NEWEST_FIRST = (DAILY_FOLDER, "Concepts")  # dated notes: the latest on top
HOME_NOTE = "Home.md"
HOME_TYPE = "home"  # frontmatter `type` of the front page, shown without the navigation sidebar
TAGS_PAGE = "tags.md"
FEED = "feed.xml"
FEED_TYPES = ("daily", "concept")  # frontmatter `type`s of the notes a reader follows day by day
FEED_ENTRIES = 50
STYLESHEET = "assets/kbgen.css"
FILE_WORKER_SHIM = "assets/javascripts/kbgen-file-worker.js"
SEARCH_WORKER = "assets/javascripts/workers/search.*.min.js"
# Wider content and tighter cells: the sector board has 9 columns, returns tables 8; with
# Material's defaults (61rem grid, 1.25em cell padding) their last columns scroll out of view.
CSS = """\
.md-grid { max-width: 80rem; }
.md-typeset table:not([class]) th, .md-typeset table:not([class]) td { padding: .6em .7em; }
.md-typeset table:not([class]) th { min-width: 0; }
"""
REF_PREFIX = "kbgen-link-"
GROUP_ABOVE = 40  # a nav section with more notes than this is split into groups
BACKLINKS_AS_LIST = 25  # more "Linked from" sources than this are shown collapsed
DEFAULT_SLUGIFY = partial(slugify_unicode, separator="-")  # MkDocs' and the bridge's default

WIKILINK = re.compile(r"(?P<embed>!?)\[\[(?P<inner>[^\[\]\n]+?)\]\]")
MARKDOWN_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<label>[^\[\]\n]*)\]\((?P<url>[^()\s<>]+)(?P<title>\s+\"[^\"\n]*\")?\)"
)
# Fenced blocks (``` or ~~~, unclosed ones run to the end) and inline code spans.
CODE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*(?P=fence)[`~]*[ \t]*$|\Z)"
    r"|(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)
HEADING_1 = re.compile(r"^#[ \t]+(?P<text>.+?)[ \t#]*$", re.MULTILINE)
# Obsidian block ids: " ^id" ending a line, or alone on the line after a list or table.
BLOCK_ID = re.compile(r"(?:[ \t]+|^)\^[A-Za-z0-9-]+[ \t]*$", re.MULTILINE)
WIDTH = re.compile(r"^(?P<width>\d+)(?:x(?P<height>\d+))?$")
DATE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HTML_CODE = re.compile(r"<(?P<tag>pre|code)\b.*?</(?P=tag)>", re.DOTALL | re.IGNORECASE)
FRONTMATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.MULTILINE | re.DOTALL)


# --- markdown text outside code ---------------------------------------------------------------

def map_outside_code(markdown: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to every stretch of `markdown` that is not code; code is kept verbatim."""
    pieces, position = [], 0
    for match in CODE.finditer(markdown):
        pieces.append(transform(markdown[position:match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(transform(markdown[position:]))
    return "".join(pieces)


def strip_code(markdown: str) -> str:
    return CODE.sub("", markdown)


# --- wikilinks and resolution -----------------------------------------------------------------

@dataclass(frozen=True)
class WikiLink:
    """One `[[target#fragment|label]]`; `escaped_pipe` when written `\\|` (inside a table)."""

    target: str
    fragment: str = ""
    label: str | None = None
    embed: bool = False
    escaped_pipe: bool = False

    @classmethod
    def parse(cls, inner: str, embed: bool = False) -> WikiLink:
        label, escaped = None, False
        if "|" in inner:
            inner, label = inner.split("|", 1)
            escaped = inner.endswith("\\")
            inner = inner.removesuffix("\\")
        target, _, fragment = inner.partition("#")
        return cls(target.strip(), fragment.strip(), label, embed, escaped)

    @property
    def is_block_ref(self) -> bool:
        return self.fragment.startswith("^")


class VaultIndex:
    """The vault's files by name, resolving link targets the way Obsidian does.

    A target is matched, ignoring case, against file paths that end with it (`Apple` or
    `Stocks/Apple`, `.md` added when it names no attachment); among several matches the one with
    the shortest path relative to the linking note wins, as in Obsidian and the bridge.
    """

    def __init__(self, src_uris: Iterable[str]):
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for uri in src_uris:
            self.by_name[posixpath.basename(uri).lower()].append(uri)
        # a publish resolves tens of thousands of links, mostly the same few names from one folder
        self._resolved: dict[tuple[str, str, bool], str | None] = {}

    def resolve(self, target: str, from_uri: str, ignore_case: bool = True) -> str | None:
        """src_uri of the file `target` links to from the note `from_uri`, or None."""
        key = (target, posixpath.dirname(from_uri) or ".", ignore_case)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(*key)
        return self._resolved[key]

    def _resolve(self, target: str, here: str, ignore_case: bool) -> str | None:
        target = target.replace("\\", "/").strip("/")
        if not target:
            return None
        extension = posixpath.splitext(target)[1].lower().lstrip(".")
        names = [target] if extension in ATTACHMENT_EXTENSIONS | {"md"} else [target + ".md", target]
        for name in names:
            if found := self._best(name, here, ignore_case):
                return found
        return None

    def _best(self, path: str, here: str, ignore_case: bool) -> str | None:
        def matches(uri: str) -> bool:
            if ignore_case:
                return ("/" + uri.lower()).endswith("/" + path.lower())
            return ("/" + uri).endswith("/" + path)

        candidates = [uri for uri in self.by_name.get(posixpath.basename(path).lower(), ()) if matches(uri)]
        if not candidates:
            return None
        return min(candidates, key=lambda uri: (len(posixpath.relpath(uri, here).split("/")), uri))


def relative_url(target_uri: str, from_uri: str, fragment: str = "") -> str:
    """Percent-encoded path from the note `from_uri` to `target_uri`, plus `#fragment`."""
    path = posixpath.relpath(target_uri, posixpath.dirname(from_uri) or ".")
    return urllib.parse.quote(path) + (f"#{fragment}" if fragment else "")


@dataclass
class Rewrite:
    """Result of rewriting one page: the new markdown and the wikilinks that match no note."""

    markdown: str
    unresolved: list[str] = field(default_factory=list)


def rewrite_markdown(
    markdown: str, page_uri: str, index: VaultIndex, slugify: Callable[[str], str] = DEFAULT_SLUGIFY
) -> Rewrite:
    """Rewrite the Obsidian forms the bridge mishandles into reference-style links.

    Links the bridge resolves itself (exact-case names) are left for it; so are links to nothing,
    which are returned in `unresolved` (the bridge and MkDocs also warn about them).
    """
    references: list[str] = []
    unresolved: list[str] = []

    def reference(url: str) -> str:
        references.append(url)
        return f"{REF_PREFIX}{len(references)}"

    def wikilink(match: re.Match) -> str:
        link = WikiLink.parse(match["inner"], embed=bool(match["embed"]))
        target = index.resolve(link.target, page_uri)
        if target is None:
            if link.target:
                unresolved.append(match.group(0))
            return match.group(0)
        is_note = target.endswith(".md")
        width = WIDTH.match(link.label or "") if link.embed and not is_note else None
        needs_us = (
            width is not None
            or (link.embed and is_note)
            or link.is_block_ref
            or (link.fragment and link.label is None)  # the bridge would show "Note#Heading"
            or index.resolve(link.target, page_uri, ignore_case=False) is None
        )
        if not needs_us:
            return match.group(0)
        fragment = "" if link.is_block_ref or not link.fragment else slugify(link.fragment)
        ref = reference(relative_url(target, page_uri, fragment))
        if width is not None:
            size = f'width="{width["width"]}"' + (f' height="{width["height"]}"' if width["height"] else "")
            return f"![{_escape_label(posixpath.basename(link.target))}][{ref}]{{ {size} }}"
        if link.embed and not is_note:
            return f"![{_escape_label(link.label or posixpath.basename(link.target))}][{ref}]"
        return f"[{_escape_label(link.label or _default_label(link))}][{ref}]"

    def relative_link(match: re.Match) -> str:
        target = _relative_target(match["url"], page_uri, index)
        if target is None:
            return match.group(0)
        ref = reference(target)
        return f"{match['bang']}[{match['label']}][{ref}]"

    def transform(text: str) -> str:
        return BLOCK_ID.sub("", MARKDOWN_LINK.sub(relative_link, WIKILINK.sub(wikilink, text)))

    rewritten = map_outside_code(markdown, transform)
    if references:
        definitions = "\n".join(f"[{REF_PREFIX}{n}]: {url}" for n, url in enumerate(references, 1))
        rewritten = f"{rewritten.rstrip()}\n\n{definitions}\n"
    return Rewrite(rewritten, unresolved)


def _default_label(link: WikiLink) -> str:
    """What Obsidian shows for a link without alias: the name, then ' > heading' if any."""
    name = posixpath.basename(link.target)
    if link.fragment and not link.is_block_ref:
        return f"{name} > {link.fragment}"
    return name


def _escape_label(text: str) -> str:
    return re.sub(r"([\[\]\\`*_])", r"\\\1", text)


def _relative_target(url: str, page_uri: str, index: VaultIndex) -> str | None:
    """The url re-pointed at an existing vault file, if `url` is a relative link to one."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    path = urllib.parse.unquote(parts.path)
    if posixpath.splitext(path)[1].lower().lstrip(".") not in ATTACHMENT_EXTENSIONS | {"md"}:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), path))
    if target.startswith("../") or target not in index.by_name.get(posixpath.basename(target).lower(), ()):
        return None
    return url


def outgoing_links(markdown: str, page_uri: str, index: VaultIndex) -> set[str]:
    """src_uris of the notes this note links to (wikilinks, note embeds, relative markdown links)."""
    text = strip_code(markdown)
    targets = {index.resolve(WikiLink.parse(m["inner"]).target, page_uri) for m in WIKILINK.finditer(text)}
    for match in MARKDOWN_LINK.finditer(text):
        if _relative_target(match["url"], page_uri, index):
            path = urllib.parse.unquote(urllib.parse.urlsplit(match["url"]).path)
            targets.add(posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), path)))
    return {t for t in targets if t and t.endswith(".md") and t != page_uri}


def leftover_wikilinks(page_html: str) -> list[str]:
    """`[[...]]` text left in rendered HTML outside <pre> and <code>."""
    text = HTML_CODE.sub("", page_html)
    return [m.group(0) for m in re.finditer(r"\[\[[^\]\n]{0,200}\]?\]?", text)]


# --- notes: titles, navigation, backlinks -----------------------------------------------------

@dataclass(frozen=True)
class Note:
    uri: str
    title: str
    links: frozenset[str]
    date: str = ""  # frontmatter `date` (ISO), orders Concepts newest first
    kind: str = ""  # frontmatter `type` (daily, concept, stock, home...)
    tags: tuple[str, ...] = ()

    @property
    def is_daily(self) -> bool:
        return self.uri.startswith(f"{DAILY_FOLDER}/") and bool(DATE_NAME.match(self.stem))

    @property
    def stem(self) -> str:
        return posixpath.splitext(posixpath.basename(self.uri))[0]

    @property
    def nav_title(self) -> str:
        return self.stem if self.is_daily else self.title


# libyaml's loader where PyYAML was built with it: every note is read on every publish.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_frontmatter(source: str) -> tuple[dict, str]:
    match = FRONTMATTER.match(source)
    if not match:
        return {}, source
    try:
        meta = yaml.load(match["yaml"], Loader=_YAML_LOADER) or {}
    except yaml.YAMLError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), source[match.end():]


def note_title(meta: dict, body: str, stem: str) -> str:
    """Plain-text title: frontmatter `title`, else the first H1, else the file name."""
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        heading = HEADING_1.search(strip_code(body))
        title = heading["text"] if heading else stem
    title = WIKILINK.sub(lambda m: WikiLink.parse(m["inner"]).label or WikiLink.parse(m["inner"]).target, title)
    return " ".join(html.unescape(title).split())


def html_text(text: str) -> str:
    """Plain text made safe for Material's templates, which print titles unescaped."""
    return html.escape(text, quote=False)


def build_nav(notes: Iterable[Note], extra_pages: Iterable[tuple[str, str]] = ()) -> list:
    """An mkdocs `nav` list: Home, the ordered sections (Daily newest first), other folders, root notes.

    Titles are HTML-escaped since Material renders nav titles as HTML.
    """
    notes = sorted(notes, key=lambda n: n.uri)
    tree: dict = {}
    home: list = []
    root_notes: list = []
    for note in notes:
        entry = {html_text(note.nav_title): note.uri}
        folder, _, _ = note.uri.rpartition("/")
        if not folder:
            (home if note.uri == HOME_NOTE else root_notes).append((note, entry))
            continue
        node = tree
        for part in folder.split("/"):
            node = node.setdefault(part, {})
        node.setdefault("", []).append((note, entry))
    ranked = sorted(tree, key=lambda f: (SECTION_ORDER.index(f) if f in SECTION_ORDER else len(SECTION_ORDER), f.lower()))
    nav = [entry for _, entry in home]
    nav += [{html_text(folder): _section_items(tree[folder], newest_first=folder in NEWEST_FIRST)} for folder in ranked]
    nav += [entry for _, entry in sorted(root_notes, key=lambda item: item[0].nav_title.lower())]
    nav += [{html_text(title): uri} for title, uri in extra_pages]
    return nav


def _section_items(node: dict, newest_first: bool) -> list:
    by_date = lambda item: (item[0].date or item[0].stem, item[0].nav_title.lower())  # noqa: E731
    by_title = lambda item: item[0].nav_title.lower()  # noqa: E731
    own = sorted(node.get("", []), key=by_date if newest_first else by_title, reverse=newest_first)
    if len(own) > GROUP_ABOVE:
        own = _grouped(own)
    subsections = [
        {html_text(name): _section_items(child, newest_first)}
        for name, child in sorted(((k, v) for k, v in node.items() if k), key=lambda kv: kv[0].lower())
    ]
    return [entry for _, entry in own] + subsections


def _grouped(items: list) -> list:
    """Long sections split into collapsible groups: daily notes by month ("January 2026"), others
    by first letter.

    Material renders a section's whole item list on each of its pages, so a flat section of N
    notes costs N^2; with groups (and navigation.prune) a page renders only its own group.
    """
    groups: dict[str, list] = {}
    for note, entry in items:
        if note.is_daily:
            key = dt.date.fromisoformat(note.stem[:10]).strftime("%B %Y")  # "January 2026"
        else:
            first = note.nav_title[:1].upper()
            key = first if first.isalpha() else "#"
        groups.setdefault(key, []).append(entry)
    return [(None, {html_text(key): entries}) for key, entries in groups.items()]


def backlinks(notes: Iterable[Note]) -> dict[str, list[Note]]:
    """For each note, the notes linking to it, sorted by title."""
    linked_from: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        for target in note.links:
            linked_from[target].append(note)
    return {uri: sorted(sources, key=lambda n: (n.nav_title.lower(), n.uri)) for uri, sources in linked_from.items()}


def linked_from_html(links: list[tuple[str, str]]) -> str:
    """The "Linked from" section for (title, URL relative to the page) pairs: a list, or past
    BACKLINKS_AS_LIST a collapsed note (Home, sectors and groups are linked from every daily note).

    It is added to the finished page, so it costs no Markdown conversion and stays out of the
    search index: it is navigation, not content.
    """
    anchors = [f'<a href="{html.escape(url)}">{html.escape(title, quote=False)}</a>' for title, url in links]
    heading = ('<h2 id="linked-from">Linked from<a class="headerlink" href="#linked-from" '
               'title="Permanent link">&para;</a></h2>\n')
    if len(anchors) <= BACKLINKS_AS_LIST:
        return heading + "<ul>\n" + "".join(f"<li>{a}</li>\n" for a in anchors) + "</ul>\n"
    return (heading + f'<details class="note">\n<summary>{len(anchors)} notes link here</summary>\n'
            f'<p>{" · ".join(anchors)}</p>\n</details>\n')


# --- researchers' raw HTML ---------------------------------------------------------------------

# What Obsidian's reading view keeps of raw HTML, plus the markup Markdown and Material put in page
# content (admonitions, task lists, permalinks, table alignment). Everything else is dropped:
# <script>, <iframe>, <style>, <object>, event handlers (`onclick`...) and `javascript:` URLs.
SAFE_TAGS = nh3.ALLOWED_TAGS | {"input", "label", "source", "video", "audio", "picture"}
SAFE_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "title", "style", "lang", "dir", "align", "width", "height"},
    "a": {"href", "hreflang", "name"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},
    "img": {"src", "alt", "loading", "srcset"},
    "source": {"src", "srcset", "type", "media"},
    "video": {"src", "controls", "poster"},
    "audio": {"src", "controls"},
}
SANITIZER = nh3.Cleaner(
    tags=SAFE_TAGS,
    clean_content_tags={"script", "style"},
    attributes=SAFE_ATTRIBUTES,
    generic_attribute_prefixes={"data-"},
    link_rel=None,  # links stay as written; kbgen's own links are relative
)


def sanitize_html(page_html: str) -> str:
    return SANITIZER.clean(page_html)


# --- tags -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TagLink:
    """A tag chip as Material's `partials/tags.html` renders it."""

    name: str
    url: str
    hidden: bool = False


def note_tags(meta: dict) -> tuple[str, ...]:
    """Frontmatter `tags` as Obsidian reads them: a list or one string, `#` optional."""
    raw = meta.get("tags") or ()
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else ()
    return tuple(dict.fromkeys(str(v).strip().lstrip("#") for v in values if str(v).strip().lstrip("#")))


def tag_anchor(tag: str) -> str:
    """`sector/energy` -> `tag:sector-energy` (Material's form of a tag's anchor)."""
    return "tag:" + DEFAULT_SLUGIFY(tag.replace("/", " "))


def tag_groups(notes: Iterable[Note]) -> dict[str, dict[str, list[Note]]]:
    """Tags by their first part (`sector/energy` in `sector`); tags with no part shared by another
    tag (`stock`, `daily`) go to "Other". Each tag's notes are sorted by title."""
    by_tag: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        for tag in note.tags:
            by_tag[tag].append(note)
    prefixes = {tag.split("/", 1)[0] for tag in by_tag if "/" in tag}
    groups: dict[str, dict[str, list[Note]]] = defaultdict(dict)
    for tag in sorted(by_tag, key=str.lower):
        prefix = tag.split("/", 1)[0]
        group = prefix if prefix in prefixes else "Other"
        groups[group][tag] = sorted(by_tag[tag], key=lambda n: (n.nav_title.lower(), n.uri))
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "Other", kv[0].lower())))


def tags_markdown(notes: Iterable[Note]) -> str:
    """The tags index: one section per group with each tag's count; a tag opens to its notes."""
    groups = tag_groups(notes)
    lines = ["# Tags", "", "Tags are grouped by their first part; open a tag to list its notes.", ""]
    for group, tags in groups.items():
        count = len({n.uri for members in tags.values() for n in members})
        lines += [f"## {html_text(group)}", "", f"{len(tags)} tag(s) on {count} note(s).", ""]
        for tag, members in tags.items():
            links = "\n".join(
                f"- [{_escape_label(html_text(n.nav_title))}]({relative_url(n.uri, TAGS_PAGE)})" for n in members
            )
            lines += [f'<details id="{html.escape(tag_anchor(tag))}" markdown="1">',
                      f"<summary>{html_text(tag)} ({len(members)})</summary>", "", links, "", "</details>", ""]
    return "\n".join(lines)


# --- the feed ---------------------------------------------------------------------------------

def feed_notes(notes: Iterable[Note]) -> list[Note]:
    """Daily and concept notes, newest first (those without a date last)."""
    chosen = [n for n in notes if n.kind in FEED_TYPES and n.date]
    return sorted(chosen, key=lambda n: (n.date, n.uri), reverse=True)[:FEED_ENTRIES]


def atom_feed(site_name: str, site_url: str, entries: list[tuple[Note, str]]) -> bytes:
    """An Atom feed of (note, page URL relative to the site root). Without a site_url the links stay
    relative to the feed, which readers resolve against the feed's own address."""
    base = site_url or ""
    feed = FeedGenerator()
    feed.id(urllib.parse.urljoin(base, FEED) if base else f"urn:kbgen:{urllib.parse.quote(site_name)}")
    feed.title(site_name)
    feed.generator("kbgen")
    feed.link(href=urllib.parse.urljoin(base, FEED), rel="self")
    feed.link(href=base or "./", rel="alternate")
    for note, url in reversed(entries):  # feedgen puts the entry added last first
        entry = feed.add_entry()
        link = urllib.parse.urljoin(base, url)
        entry.id(link if base else f"urn:kbgen:{urllib.parse.quote(note.uri)}")
        entry.title(note.nav_title if note.nav_title == note.title else f"{note.nav_title}: {note.title}")
        entry.link(href=link)
        entry.updated(_note_time(note))
    # the newest note's date, not the clock: publishing the same vault twice writes the same feed
    feed.updated(_note_time(entries[0][0]) if entries else dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    return feed.atom_str(pretty=True)


def _note_time(note: Note) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(note.date[:10]), dt.time(), dt.timezone.utc)


def feed_link_html(href: str, title: str) -> str:
    return f'<link rel="alternate" type="application/atom+xml" title="{html.escape(title)}" href="{html.escape(href)}">'


# --- search from a site opened from disk ------------------------------------------------------

def file_worker_shim(worker_source: str) -> str:
    """A script for file:// pages: browsers refuse to start a Web Worker from a file, and Material's
    search runs in one. Material's offline plugin points at a shim on a CDN for this; the site must
    not request an outside host, so the worker is started from an in-page copy of its script."""
    return (
        "// kbgen: lets Material's search worker start when the site is opened from disk.\n"
        "(function () {\n"
        '  if (location.protocol !== "file:") return;\n'
        f"  var source = {json.dumps(worker_source)};\n"
        "  var NativeWorker = window.Worker;\n"
        "  window.Worker = function (url, options) {\n"
        '    if (String(url).indexOf("/workers/search.") < 0) return new NativeWorker(url, options);\n'
        '    return new NativeWorker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})), options);\n'
        "  };\n"
        "})();\n"
    )


# --- the plugin -------------------------------------------------------------------------------

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
        self.problems: list[str] = []
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
        meta, body = split_frontmatter(file.content_string)
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
        self.problems.append(message)
        log.warning(message)
