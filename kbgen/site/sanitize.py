"""Researchers' raw HTML, kept the way Obsidian's reading view keeps it."""
from __future__ import annotations

import nh3

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
