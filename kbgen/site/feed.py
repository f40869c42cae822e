"""The Atom feed of daily and concept notes, and the link to it in each page's head."""
from __future__ import annotations

import datetime as dt
import html
import urllib.parse
from collections.abc import Iterable

from feedgen.feed import FeedGenerator

from .nav import Note

FEED = "feed.xml"
FEED_TYPES = ("daily", "concept")  # frontmatter `type`s of the notes a reader follows day by day
FEED_ENTRIES = 50


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
