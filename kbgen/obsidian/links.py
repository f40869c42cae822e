"""Obsidian's link model: `[[wikilinks]]` as written, and the vault's files resolving them the
way Obsidian does (by name, ignoring case, shortest path). `kbgen check`, the build and the site
all read links through this module, so they agree on what a link points to.
"""
from __future__ import annotations

import posixpath
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Files Obsidian links to without an extension are notes; these extensions are linked as-is.
ATTACHMENT_EXTENSIONS = frozenset(
    "png jpg jpeg gif bmp svg webp mp3 webm wav m4a ogg 3gp flac mp4 ogv mov mkv pdf".split()
)

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
HTML_CODE = re.compile(r"<(?P<tag>pre|code)\b.*?</(?P=tag)>", re.DOTALL | re.IGNORECASE)


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


def relative_target(url: str, page_uri: str, index: VaultIndex) -> str | None:
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
        if relative_target(match["url"], page_uri, index):
            path = urllib.parse.unquote(urllib.parse.urlsplit(match["url"]).path)
            targets.add(posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), path)))
    return {t for t in targets if t and t.endswith(".md") and t != page_uri}


def leftover_wikilinks(page_html: str) -> list[str]:
    """`[[...]]` text left in rendered HTML outside <pre> and <code>."""
    text = HTML_CODE.sub("", page_html)
    return [m.group(0) for m in re.finditer(r"\[\[[^\]\n]{0,200}\]?\]?", text)]
