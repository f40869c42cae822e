"""The daily note's data section: where the prices come from and which tickers lack them."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..registry import PartInput, part


@dataclass(frozen=True)
class DataSources:
    source: str                        # "yahoo", "csv", "demo" ...
    simulated: bool
    stale: tuple[Ref, ...]             # last price before the session: left out of the moves
    no_data: tuple[Ref, ...]           # no price up to the session (never fetched, or listed later)
    close_basis: tuple[Ref, ...]       # no adjusted close: returns are close to close


@part("data_sources", notes={"daily"}, order=60, block="data")
def data_sources(inputs: PartInput) -> DataSources:
    day, ctx, ix = inputs.day, inputs.ctx, inputs.ix
    return DataSources(
        source=ctx.source, simulated=ctx.simulated,
        stale=tuple(ix.ticker(t, "ticker") for t in day.stale),
        no_data=tuple(ix.ticker(t, "ticker") for t in ctx.config.securities if t not in day.closes and t not in day.stale),
        close_basis=tuple(ix.ticker(t, "ticker") for t in day.close_basis),
    )
