"""Jinja2 rendering of notes: built-in templates, overridable by name from a user folder.

Every template runs in Jinja2's sandbox, so a user template can read the values it is given but
cannot reach Python internals (`__class__`, `__mro__`, `__globals__`). Autoescape is off: it
escapes for HTML, and notes are markdown; the explicit filters below escape for both.

Filters:
  md        display text (escapes markdown, wikilink and HTML syntax)
  link      a Ref as `[[target]]` / `[[target|label]]` (text when it has no target)
  tlink     the same inside a table cell: `[[target\\|label]]`
  links     a list of Refs joined with ", " (`links(true)` in tables, `links(conjunction="and")`)
  pct       signed percent of a fraction: 0.071 -> "+7.1%"
  share     unsigned percent: 0.62 -> "62%"
  pts       signed percentage points of a fraction: 0.084 -> "+8.4 pts"
  signed    signed number: 1.234 -> "+1.23";  num: 1234.5 -> "1,234.50"
  times     multiple: 2.31 -> "2.3x"
Missing numbers (None) print as "n/a".
"""
from __future__ import annotations

import re
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from .notes.common import Ref
from .errors import KbgenError
from .notes.names import escape_md, link_label
from .resources import builtin_templates

MISSING = "n/a"


class RenderError(KbgenError):
    """A template that cannot be rendered; the message names the template and how to fix it."""


def _md(value) -> str:
    return MISSING if value is None else escape_md(value)


def _link(ref: Ref | str | None, table: bool = False) -> str:
    if ref is None:
        return "—"
    if isinstance(ref, str):
        return escape_md(ref)
    if ref.target is None:
        return escape_md(ref.label)
    label = link_label(ref.label)
    if ref.label == ref.target and label == ref.label:
        return f"[[{ref.target}]]"
    pipe = "\\|" if table else "|"
    return f"[[{ref.target}{pipe}{label}]]"


def _tlink(ref) -> str:
    return _link(ref, table=True)


def _links(refs, table: bool = False, empty: str = "—", conjunction: str | None = None) -> str:
    """Refs joined by commas; with a conjunction the last two read "A, B and C"."""
    rendered = [_link(r, table) for r in refs]
    if not rendered:
        return empty
    if conjunction and len(rendered) > 1:
        return f"{', '.join(rendered[:-1])} {conjunction} {rendered[-1]}"
    return ", ".join(rendered)


def _signed_text(value: float, digits: int) -> str:
    """Signed fixed-point text; a value that rounds to zero prints unsigned ("0.0", never "-0.0")."""
    text = f"{value:+,.{digits}f}"
    return text[1:] if float(text.replace(",", "")) == 0 else text


def _pct(value, digits: int = 1) -> str:
    return MISSING if value is None else f"{_signed_text(value * 100, digits)}%"


def _share(value, digits: int = 0) -> str:
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def _pts(value, digits: int = 1) -> str:
    return MISSING if value is None else f"{_signed_text(value * 100, digits)} pts"


def _signed(value, digits: int = 2) -> str:
    return MISSING if value is None else _signed_text(value, digits)


def _num(value, digits: int = 2) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def _times(value, digits: int = 1) -> str:
    return MISSING if value is None else f"{value:.{digits}f}x"


FILTERS = {"md": _md, "link": _link, "tlink": _tlink, "links": _links, "pct": _pct, "share": _share,
           "pts": _pts, "signed": _signed, "num": _num, "times": _times}


_BLANK_RUNS = re.compile(r"\n{3,}")
_AFTER_BEGIN = re.compile(r"(<!-- kbgen:begin [^>]*-->)\n\n+")
_BEFORE_END = re.compile(r"\n\n+(<!-- kbgen:end [^>]*-->)")


def tidy(text: str) -> str:
    """One blank line at most between blocks of text, none just inside a managed block's markers.

    Templates stay readable with generous spacing; the note gets consistent spacing.
    """
    text = _BLANK_RUNS.sub("\n\n", text)
    text = _AFTER_BEGIN.sub(r"\1\n", text)
    return _BEFORE_END.sub(r"\n\1", text).lstrip("\n")


class Renderer:
    """Renders `templates/<name>`; a file of the same name in `user_templates` wins."""

    def __init__(self, user_templates: Path | None = None):
        folders = [builtin_templates()]
        if user_templates is not None:
            if not Path(user_templates).is_dir():
                raise RenderError(
                    f"template folder {user_templates} does not exist; create it or set paths.templates to null"
                )
            folders.insert(0, Path(user_templates))
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(FILTERS)

    def render(self, template_name: str, **values) -> str:
        try:
            template = self.env.get_template(template_name)
            return tidy(template.render(**values))
        except Exception as exc:  # templates are code a user may have written: any failure is theirs to fix
            where = getattr(exc, "filename", None) or template_name
            line = getattr(exc, "lineno", None) or _template_line(exc)
            at = f"{where}:{line}" if line else where
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise RenderError(
                f"template {template_name} failed at {at}: {message}; "
                "fix the template (or delete your copy to use the built-in one)"
            ) from exc


def _template_line(exc: BaseException) -> int | None:
    """The template line a Python error (OverflowError, ZeroDivisionError) came from: Jinja
    rewrites the traceback so template frames carry the template's file and line."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
