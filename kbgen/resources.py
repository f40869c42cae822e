"""Where the starter project (templates, config, mkdocs.yml, example notes) is found.

An installed wheel carries all of it inside the package (`kbgen/_starter`). A source checkout or an
editable install keeps only the starter vault there and takes the rest (config, mkdocs.yml,
templates) from the repository root.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def starter_path(name: str = "") -> Path:
    """Path of `name` inside the starter project (e.g. "templates", "kbgen.yml", "vault/Theses"):
    the copy inside the package when it has one, else the repository root of a source checkout."""
    bundled = _PACKAGE_DIR / "_starter" / name
    return bundled if bundled.exists() else _PACKAGE_DIR.parent / name


def builtin_templates() -> Path:
    return starter_path("templates")
