"""Note names, file names, tags and escaping for untrusted strings (company names, catalysts).

A note's name is its file name without `.md`, and a wikilink names exactly that, so a name must be
safe both as a file name (Obsidian forbids `* " \\ / < > : | ?`) and inside a link (`# ^ [ ] |`
would end or redirect it; `$` would start LaTeX in Obsidian; a backtick pair would make a code span
of the link). A name also fits the 255-byte file-name limit of common file systems with its `.md`
suffix in the vault and its `.html` suffix on the site. Names are made safe once, here; everything displayed is escaped by the template filters, so
no data string can open a link, a tag, a heading, a code span or an HTML element.
"""
from __future__ import annotations

import hashlib
import re

from ..vault.paths import FORBIDDEN_NAME_CHARS

_UNSAFE_IN_NAME = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_NAME_CHARS)) + "/$`") + r"\x00-\x1f]")
NAME_BYTES = 255 - len(".html")  # ext4, APFS, NTFS and most others cap a file name at 255 bytes; the site adds .html
_DIGEST_CHARS = 8
_SPACES = re.compile(r"\s+")

# Escapes for display text: HTML metacharacters become entities, markdown syntax gets a
# backslash. `$` becomes an entity because a backslash before it is shown verbatim by
# Python-Markdown while Obsidian would otherwise start LaTeX at a second `$`. Square brackets are
# entities because an escaped "\[\[" still shows as "[[" in the page, which the site's check takes
# for a link left unconverted; a backtick, because the link finders of the site and `kbgen check`
# read two escaped backticks as a code span and skip the links between them. A bare `&` ("S&P",
# "AT&T") is harmless and stays readable in Obsidian's editor; only one that would start an entity
# ("&lt;", "&#60;") is escaped.
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_DISPLAY_ESCAPES = str.maketrans({
    "<": "&lt;", ">": "&gt;", "$": "&#36;",
    "\\": "\\\\", "|": "\\|", "[": "&#91;", "]": "&#93;", "*": "\\*", "_": "\\_",
    "`": "&#96;", "#": "\\#", "\n": " ", "\r": " ",
})


def safe_name(raw: str) -> str:
    """A file-system and link-safe note name: forbidden characters dropped, no `..`, no leading dot."""
    name = _UNSAFE_IN_NAME.sub("", str(raw))
    name = _SPACES.sub(" ", name).strip()
    while ".." in name:
        name = name.replace("..", ".")
    name = name.lstrip(". ").rstrip(". ")
    return name or "Untitled"


def fit_name(name: str) -> str:
    """`name` if it fits NAME_BYTES in UTF-8; else cut at a character boundary and ended with a
    digest of the whole name, so two long names sharing a beginning still differ."""
    encoded = name.encode("utf-8")
    if len(encoded) <= NAME_BYTES:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:_DIGEST_CHARS]
    head = encoded[: NAME_BYTES - _DIGEST_CHARS - 1].decode("utf-8", errors="ignore")
    return f"{head.rstrip('. ')} {digest}"


def is_link_safe(name: str) -> bool:
    """True when `name` (e.g. a researcher's note file stem) can be linked as written."""
    return safe_name(name) == name


def escape_md(text: object) -> str:
    """Display text safe in prose and in table cells (markdown, wikilinks, HTML)."""
    return _ENTITY_START.sub("&amp;", str(text)).translate(_DISPLAY_ESCAPES)


def link_label(text: object) -> str:
    """Display text for a wikilink's alias: as escape_md, with square brackets shown as
    parentheses, since Obsidian and the site's link converter end a link at the first bracket,
    escaped or not."""
    return escape_md(str(text).replace("[", "(").replace("]", ")"))


def slug(text: str) -> str:
    """Lower-case letters, digits, `-`, `_`, never only digits: a valid Obsidian tag segment and a
    portable attachment file name ("Sector Rotation May 2026" -> "sector-rotation-may-2026")."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", str(text).lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug) or "x"
    return slug if not slug.isdigit() else f"n{slug}"


class NameBook:
    """Assigns every note in the vault a unique name; Obsidian resolves links by name alone.

    Names already taken (researcher notes, concept and daily notes) are reserved first. Obsidian
    treats names case-insensitively on most systems, so uniqueness is checked on the folded name.
    A company whose safe name collides gets its ticker appended: "Alphabet (GOOG)". A name too
    long for a file is shortened (fit_name); `title` gives back the name in full.
    """

    def __init__(self, reserved: list[str] | tuple[str, ...] = ()):
        self._taken: set[str] = set()
        self._by_key: dict[tuple[str, str], str] = {}
        self._titles: dict[str, str] = {}
        for name in reserved:
            self._taken.add(name.casefold())

    def assign(self, kind: str, key: str, display_name: str, suffix: str | None = None) -> str:
        """The unique name for (kind, key); the same call always returns the same name."""
        if (kind, key) in self._by_key:
            return self._by_key[(kind, key)]
        base = safe_name(display_name)
        full = base
        if fit_name(full).casefold() in self._taken:
            full = safe_name(f"{base} ({suffix or kind})")
        counter = 2
        while fit_name(full).casefold() in self._taken:
            full = safe_name(f"{base} ({suffix or kind} {counter})")
            counter += 1
        name = fit_name(full)
        self._taken.add(name.casefold())
        self._by_key[(kind, key)] = name
        self._titles[name] = full
        return name

    def title(self, name: str) -> str:
        """The assigned `name` in full, before it was shortened to fit a file name."""
        return self._titles.get(name, name)
