"""The site's notes as the navigation sees them: title, date, type, tags and links, and the
`nav` built from them (Home, the ordered sections with dated notes newest first, other folders)."""
from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..obsidian.links import WIKILINK, WikiLink, strip_code
from ..vault.frontmatter import FrontmatterError, load_properties, split_frontmatter

SECTION_ORDER = ("Concepts", "Sectors", "Groups", "Stocks", "Theses", "Catalysts", "Daily")
DAILY_FOLDER = "Daily"
NEWEST_FIRST = (DAILY_FOLDER, "Concepts")  # dated notes: the latest on top
HOME_NOTE = "Home.md"
GROUP_ABOVE = 40  # a nav section with more notes than this is split into groups
HEADING_1 = re.compile(r"^#[ \t]+(?P<text>.+?)[ \t#]*$", re.MULTILINE)
DATE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def note_properties(source: str) -> tuple[dict, str]:
    """A page's frontmatter properties and its body. The site shows what it can: frontmatter that
    cannot be read gives no properties (`kbgen check` and the build name the fault)."""
    try:
        doc = split_frontmatter(source)
    except FrontmatterError:
        return {}, source
    if doc is None:
        return {}, source
    try:
        return load_properties(doc[1]), doc[3]
    except FrontmatterError:
        return {}, doc[3]


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
