"""Rewrites the Obsidian forms mkdocs-obsidian-bridge gets wrong into reference-style links it
leaves alone (DESIGN.md section 6): case-insensitive names, image widths, note embeds, block
references, headings without alias and relative markdown links. Code is never touched.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from markdown.extensions.toc import slugify_unicode

from ..obsidian.links import WIKILINK, MARKDOWN_LINK, VaultIndex, WikiLink, map_outside_code, relative_target, relative_url

REF_PREFIX = "kbgen-link-"
DEFAULT_SLUGIFY = partial(slugify_unicode, separator="-")  # MkDocs' and the bridge's default
# Obsidian block ids: " ^id" ending a line, or alone on the line after a list or table.
BLOCK_ID = re.compile(r"(?:[ \t]+|^)\^[A-Za-z0-9-]+[ \t]*$", re.MULTILINE)
WIDTH = re.compile(r"^(?P<width>\d+)(?:x(?P<height>\d+))?$")


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
    page = _PageRewrite(page_uri, index, slugify)
    rewritten = map_outside_code(markdown, page.transform)
    if page.references:
        definitions = "\n".join(f"[{REF_PREFIX}{n}]: {url}" for n, url in enumerate(page.references, 1))
        rewritten = f"{rewritten.rstrip()}\n\n{definitions}\n"
    return Rewrite(rewritten, page.unresolved)


@dataclass
class _PageRewrite:
    """One page's rewrite: the reference URLs it adds and the wikilinks that match nothing."""

    page_uri: str
    index: VaultIndex
    slugify: Callable[[str], str]
    references: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def transform(self, text: str) -> str:
        return BLOCK_ID.sub("", MARKDOWN_LINK.sub(self.relative_link, WIKILINK.sub(self.wikilink, text)))

    def reference(self, url: str) -> str:
        self.references.append(url)
        return f"{REF_PREFIX}{len(self.references)}"

    def wikilink(self, match: re.Match) -> str:
        link = WikiLink.parse(match["inner"], embed=bool(match["embed"]))
        target = self.index.resolve(link.target, self.page_uri)
        if target is None:
            if link.target:
                self.unresolved.append(match.group(0))
            return match.group(0)
        is_note = target.endswith(".md")
        width = WIDTH.match(link.label or "") if link.embed and not is_note else None
        if not (width is not None or self._bridge_gets_wrong(link, is_note)):
            return match.group(0)
        fragment = "" if link.is_block_ref or not link.fragment else self.slugify(link.fragment)
        ref = self.reference(relative_url(target, self.page_uri, fragment))
        if width is not None:
            size = f'width="{width["width"]}"' + (f' height="{width["height"]}"' if width["height"] else "")
            return f"![{escape_label(posixpath.basename(link.target))}][{ref}]{{ {size} }}"
        if link.embed and not is_note:
            return f"![{escape_label(link.label or posixpath.basename(link.target))}][{ref}]"
        return f"[{escape_label(link.label or _default_label(link))}][{ref}]"

    def _bridge_gets_wrong(self, link: WikiLink, is_note: bool) -> bool:
        return bool(
            (link.embed and is_note)
            or link.is_block_ref
            or (link.fragment and link.label is None)  # the bridge would show "Note#Heading"
            or self.index.resolve(link.target, self.page_uri, ignore_case=False) is None
        )

    def relative_link(self, match: re.Match) -> str:
        target = relative_target(match["url"], self.page_uri, self.index)
        if target is None:
            return match.group(0)
        return f"{match['bang']}[{match['label']}][{self.reference(target)}]"


def _default_label(link: WikiLink) -> str:
    """What Obsidian shows for a link without alias: the name, then ' > heading' if any."""
    name = posixpath.basename(link.target)
    if link.fragment and not link.is_block_ref:
        return f"{name} > {link.fragment}"
    return name


def escape_label(text: str) -> str:
    return re.sub(r"([\[\]\\`*_])", r"\\\1", text)
