"""Registered analytics: indicators a note part needs that the Analyzer does not compute itself.

An analytic is a pure function `compute(panel, config) -> DataFrame` registered with
`@analytic(name)`. It returns one row per session of the panel (same index) and one column per
thing it measures (a sector, a ticker...). It must be trailing: a session's row may use only rows
up to that session, so a note for day D is the same whatever came after D. The Analyzer runs every
registered analytic once over the whole panel and hands each session's row to the notes as
`MarketDay.analytics[name]`, a {column: value or None} dict.

Any module of this package may register one; `registered()` imports them all, so adding an
analytic is adding a module: there is no list to edit.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..config import Config
from .panel import PricePanel


@dataclass(frozen=True)
class Analytic:
    name: str
    compute: Callable[[PricePanel, Config], pd.DataFrame]


_ANALYTICS: dict[str, Analytic] = {}


def analytic(name: str):
    """Register the decorated function as the analytic `name`."""
    def register(compute: Callable[[PricePanel, Config], pd.DataFrame]):
        if name in _ANALYTICS:
            raise ValueError(f"analytic {name!r} is registered twice")
        _ANALYTICS[name] = Analytic(name, compute)
        return compute
    return register


def registered() -> list[Analytic]:
    """Every analytic of the package, by name."""
    for module in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    return [_ANALYTICS[name] for name in sorted(_ANALYTICS)]
