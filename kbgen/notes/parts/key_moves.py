"""The concept note's key moves: the session's movers and plain-words group comparisons."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..concept import comparisons
from ..lines import MoverLine, NotableLines, mover_lines, notable_lines
from ..registry import PartInput, part


@dataclass(frozen=True)
class Comparison:
    left: Ref
    left_move: float                   # 1D return
    right: Ref
    right_move: float


@dataclass(frozen=True)
class KeyMoves:
    losers: tuple[MoverLine, ...]
    winners: tuple[MoverLine, ...]
    notable: NotableLines
    comparisons: tuple[Comparison, ...]  # small vs Nasdaq, equal vs cap weight, into vs out of
    daily: Ref                         # the session's daily note, with the full tables


@part("key_moves", notes={"concept"}, order=30, block="key-moves")
def key_moves(inputs: PartInput) -> KeyMoves:
    day, ix = inputs.day, inputs.ix
    return KeyMoves(
        losers=mover_lines(day.losers, ix), winners=mover_lines(day.winners, ix), notable=notable_lines(day.notable, ix),
        comparisons=tuple(Comparison(*c) for c in comparisons(day, ix)), daily=ix.daily(day.date),
    )
