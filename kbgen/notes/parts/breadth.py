"""The daily note's breadth: leadership spreads and how many stocks take part."""
from __future__ import annotations

from dataclasses import dataclass

from ...analytics.breadth import LONG_AVERAGE, SHORT_AVERAGE, SPREADS
from ..lines import returns_by_window
from ..registry import PartInput, part

SPREAD_WINDOWS = ("1D", "1W", "1M", "YTD")


@dataclass(frozen=True)
class SpreadLine:
    label: str                         # e.g. "Equal vs cap weight"
    returns: dict[str, float | None]   # first ETF's return minus the second's, per window


@dataclass(frozen=True)
class BreadthBoard:
    spreads: tuple[SpreadLine, ...]
    windows: tuple[str, ...]
    advancers: int
    decliners: int
    new_highs: int                     # 52-week closing highs
    new_lows: int
    above_short: float | None          # share of stocks above their short moving average
    above_long: float | None
    short_sessions: int                # that average's length in sessions (50)
    long_sessions: int                 # (200)
    definitions: str


def spread_definition() -> str:
    """"RSP, IWM, QQQ minus SPY" when the spreads share a reference, else each pair in turn."""
    references = {ref for _, ref in SPREADS.values()}
    if len(references) == 1:
        return f"{', '.join(t for t, _ in SPREADS.values())} minus {references.pop()}"
    return ", ".join(f"{t} minus {ref}" for t, ref in SPREADS.values())


@part("breadth", notes={"daily"}, order=40, block="breadth")
def breadth_board(inputs: PartInput) -> BreadthBoard:
    b = inputs.day.breadth
    return BreadthBoard(
        spreads=tuple(SpreadLine(label, returns_by_window(r)) for label, r in b.spreads.items()),
        windows=SPREAD_WINDOWS, advancers=b.advancers, decliners=b.decliners,
        new_highs=b.new_highs, new_lows=b.new_lows, above_short=b.above_50d, above_long=b.above_200d,
        short_sessions=SHORT_AVERAGE, long_sessions=LONG_AVERAGE,
        definitions=f"Spreads = first ETF's return minus the second's ({spread_definition()})",
    )
