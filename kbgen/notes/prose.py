"""Sentences made of facts: the words of magnitude and the pieces a written paragraph is built from.

A sentence is a tuple of pieces: plain text, a Ref (a note to link) or a Fact (a computed number
with the way the tables print it). The template renders each Fact with the tables' filters, so the
prose and the tables can never round one number two ways.

Words of magnitude follow fixed thresholds on the size of a 1D move (README, "The day in brief"):
a move that rounds to 0.0% "was flat"; below 0.3% it "edged up / edged down"; below 1% it "rose /
fell"; then, for an index or ETF, below 2% it "climbed / slid" and from 2% it "surged / slumped";
for a stock, below 5% it "climbed / slid", below 10% it "jumped / tumbled" and from 10% it "soared /
plunged".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from .common import Ref

FLAT_BELOW = 0.0005           # rounds to 0.0% at one decimal

# (upper bound of the move's size, word when up, word when down), smallest first
INDEX_WORDS = ((0.003, "edged up", "edged down"), (0.01, "rose", "fell"), (0.02, "climbed", "slid"),
               (float("inf"), "surged", "slumped"))
STOCK_WORDS = ((0.003, "edged up", "edged down"), (0.01, "rose", "fell"), (0.05, "climbed", "slid"),
               (0.10, "jumped", "tumbled"), (float("inf"), "soared", "plunged"))
SCALES = {"index": INDEX_WORDS, "stock": STOCK_WORDS}


@dataclass(frozen=True)
class Fact:
    """One computed number as a sentence prints it.

    style: "pct" signed percent (+1.1%), "size" unsigned percent of a move whose direction the
    verb carries (1.1%), "pts" signed points (+6.2 pts), "count" an integer, "times" a multiple (4.2x).
    """

    name: str                      # what it is, e.g. "SPY 1D return"
    value: float
    style: Literal["pct", "size", "pts", "count", "times"] = "pct"


Piece = Union[str, Ref, Fact]
Sentence = tuple[Piece, ...]


def moved(value: float, scale: str) -> str:
    """The verb for a move of `value` (a fraction) on the index or stock scale."""
    if abs(value) < FLAT_BELOW:
        return "was flat at"
    for bound, up, down in SCALES[scale]:
        if abs(value) < bound:
            return up if value > 0 else down
    raise AssertionError("the last bound is infinite")


def move_phrase(name: str, value: float, scale: str) -> tuple[Piece, ...]:
    """"fell 0.6%" as pieces: the verb carries the sign, the Fact prints the size."""
    if abs(value) < FLAT_BELOW:
        return (f"{moved(value, scale)} ", Fact(name, value, "pct"))
    return (f"{moved(value, scale)} ", Fact(name, abs(value), "size"))


def joined(items: list[tuple[Piece, ...]], conjunction: str = "and") -> tuple[Piece, ...]:
    """Groups of pieces joined as "A, B and C"."""
    out: list[Piece] = []
    for i, item in enumerate(items):
        if i:
            out.append(f" {conjunction} " if i == len(items) - 1 else ", ")
        out.extend(item)
    return tuple(out)
