"""Where the starter project (templates, config, mkdocs.yml, example notes) is found.

An installed wheel carries it inside the package (`kbgen/_starter`); a source checkout or an
editable install uses the repository root, where the same files live.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def starter_path(name: str = "") -> Path:
    """Path of `name` inside the starter project (e.g. "templates", "kbgen.yml", "vault/Theses")."""
    bundled = _PACKAGE_DIR / "_starter"
    root = bundled if bundled.is_dir() else _PACKAGE_DIR.parent
    return root / name if name else root


def builtin_templates() -> Path:
    return starter_path("templates")
