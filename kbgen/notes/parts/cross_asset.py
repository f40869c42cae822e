"""The daily note's cross-asset table: futures, yields and volatility of the universe."""
from __future__ import annotations

from dataclasses import dataclass

from ..lines import SecurityLine, security_lines
from ..registry import PartInput, part

CROSS_ASSET_WINDOWS = ("1D", "1W", "1M")


@dataclass(frozen=True)
class CrossAssets:
    rows: tuple[SecurityLine, ...]
    windows: tuple[str, ...]


@part("cross_asset", notes={"daily"}, order=45, block="breadth")
def cross_assets(inputs: PartInput) -> CrossAssets | None:
    rows = security_lines(inputs.ctx.config.universe.cross_assets, inputs.day, inputs.ix)
    return CrossAssets(rows, CROSS_ASSET_WINDOWS) if rows else None
