"""The "Linked from" section: for each note, the notes that link to it."""
from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable

from .nav import Note

BACKLINKS_AS_LIST = 25  # more "Linked from" sources than this are shown collapsed


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
