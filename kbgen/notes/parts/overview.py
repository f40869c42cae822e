"""The daily note's opening: neighbours, the rotation in progress and the headline indices."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import HOME, Ref
from ..lines import SecurityLine, security_lines, sessions_in_words
from ..registry import PartInput, part

HEADLINE_WINDOWS = ("1D", "1W", "YTD")


@dataclass(frozen=True)
class SessionOverview:
    previous: Ref | None               # the previous daily note (None: there is none)
    next: Ref | None                   # the next daily note (None: not yet)
    home: Ref
    rotation: Ref | None               # the rotation concept note, if an episode is known
    rotation_label: str                # "Rotation in progress" or "Latest rotation"
    rotation_summary: str | None       # one line: legs, size and length
    headline: tuple[SecurityLine, ...]  # benchmarks and indices
    windows: tuple[str, ...]           # the headline's return columns
    definitions: str                   # what the windows mean


def neighbours(inputs: PartInput) -> tuple[Ref | None, Ref | None]:
    """Previous and next daily notes, only among sessions that have one (never guessed ahead)."""
    date, ix = inputs.day.date, inputs.ix
    earlier = [d for d in inputs.ctx.daily_dates if d < date]
    later = [d for d in inputs.ctx.daily_dates if d > date]
    return (ix.daily(earlier[-1]) if earlier else None, ix.daily(later[0]) if later else None)


@part("overview", notes={"daily"}, order=10, block="overview")
def session_overview(inputs: PartInput) -> SessionOverview:
    day = inputs.day
    previous, following = neighbours(inputs)
    ongoing = day.episode is not None and day.episode.ongoing
    return SessionOverview(
        previous=previous, next=following, home=Ref(HOME, HOME), rotation=inputs.ix.concept_ref(),
        rotation_label="Rotation in progress" if ongoing else "Latest rotation",
        rotation_summary=inputs.concept_summary,
        headline=security_lines(day.indices, day, inputs.ix), windows=HEADLINE_WINDOWS,
        definitions=f"1D = {sessions_in_words('1D')}, 1W = {sessions_in_words('1W')}, "
                    f"YTD = since the last close of {day.date.year - 1}",
    )
