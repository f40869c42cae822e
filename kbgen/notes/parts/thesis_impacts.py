"""The daily note's thesis impacts: how the session bears on each researcher's thesis."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..registry import PartInput, part


@dataclass(frozen=True)
class ThesisLine:
    thesis: Ref
    label: str                         # "Validating", "Mixed", "Near-term pressure", "Challenged"
    rationale: str                     # one line with the numbers


@dataclass(frozen=True)
class ThesisImpacts:
    rows: tuple[ThesisLine, ...]       # empty: no thesis notes yet


@part("thesis_impacts", notes={"daily"}, order=50, block="theses")
def thesis_impacts(inputs: PartInput) -> ThesisImpacts:
    return ThesisImpacts(tuple(ThesisLine(inputs.ix.thesis(i.thesis), i.label, i.rationale)
                               for i in inputs.day.impacts))


@part("thesis_implications", notes={"concept"}, order=60, block="theses")
def thesis_implications(inputs: PartInput) -> ThesisImpacts:
    return thesis_impacts(inputs)
