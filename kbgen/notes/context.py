"""What note builders need besides the MarketDay: the config, researchers' notes and history."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import Config
from ..model import Catalyst, Thesis, ThesisImpact


@dataclass(frozen=True)
class NoteContext:
    config: Config
    theses: tuple[Thesis, ...]
    catalysts: tuple[Catalyst, ...]
    daily_dates: tuple[dt.date, ...]      # sessions that have (or are getting) a daily note, sorted
    impact_history: dict[str, tuple[tuple[dt.date, ThesisImpact], ...]]  # per thesis, oldest first
    mover_history: dict[str, tuple[tuple[dt.date, str, float], ...]]     # ticker -> (date, "winner"/"loser", move)
    source: str                           # "yahoo", "csv", "demo" ...
    simulated: bool
    version: str
    tickers_with_data: frozenset[str]     # stock notes only for these (and movers)
    # (start, end or None while running) of every rotation episode known as of the build's last
    # session: daily notes in a span are tagged with it, even those written before it was detected
    rotation_spans: tuple[tuple[dt.date, dt.date | None], ...] = ()
    # generated notes the researcher renamed, by kbgen_id ("stock/AAPL") -> their name now
    renamed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chart:
    """A chart file, drawn only when asked: `inputs` fingerprints what it is drawn from, so the
    writer can keep a file drawn from the same inputs without drawing it again."""

    path: str                             # relative to the vault, e.g. "assets/charts/sectors-2026-01-08.svg"
    inputs: str
    draw: Callable[[], bytes] = field(compare=False, repr=False)

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
