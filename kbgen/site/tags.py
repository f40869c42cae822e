"""The tags index page (tags grouped by their first part) and the tag chips that open it."""
from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..obsidian.links import relative_url
from .markdown import DEFAULT_SLUGIFY, escape_label
from .nav import Note, html_text

TAGS_PAGE = "tags.md"


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
                f"- [{escape_label(html_text(n.nav_title))}]({relative_url(n.uri, TAGS_PAGE)})" for n in members
            )
            lines += [f'<details id="{html.escape(tag_anchor(tag))}" markdown="1">',
                      f"<summary>{html_text(tag)} ({len(members)})</summary>", "", links, "", "</details>", ""]
    return "\n".join(lines)
