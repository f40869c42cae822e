"""What Obsidian's Properties view accepts: flat values of the type the starter vault declares."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

TYPES_FILE = Path(__file__).resolve().parents[1] / "kbgen" / "_starter" / "vault" / ".obsidian" / "types.json"
LISTS = {"multitext", "tags", "aliases"}


def declared_types() -> dict[str, str]:
    return json.loads(TYPES_FILE.read_text(encoding="utf-8"))["types"]


def _is_date(value) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _fits(kind: str, value) -> bool:
    if kind in LISTS:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if value is None:
        return True  # an empty property
    return {
        "text": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "checkbox": lambda v: isinstance(v, bool),
        "date": _is_date,
    }[kind](value)


def property_problems(path: str, meta: dict, types: dict[str, str]) -> list[str]:
    """Keys of `meta` that are undeclared, nested, or of another type than declared."""
    problems = []
    for key, value in meta.items():
        if key not in types:
            problems.append(f"{path}: {key} has no type in types.json")
        elif not _fits(types[key], value):
            problems.append(f"{path}: {key} = {value!r} is not {types[key]}")
    return problems
