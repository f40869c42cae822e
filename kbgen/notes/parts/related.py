"""The concept note's related notes: theses, catalysts, the legs and the episode's daily notes."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..common import HOME, Ref
from ..concept import episode_catalysts, movers_by_catalyst
from ..registry import PartInput, part


@dataclass(frozen=True)
class RelatedNotes:
    theses: tuple[Ref, ...]
    catalysts: tuple[Ref, ...]         # of the episode, then of today's movers, each once
    legs: tuple[Ref, ...]              # sectors and groups of the rotation
    episode_days: tuple[Ref, ...]      # daily notes from the start to the end (or the session)
    home: Ref
    start: dt.date


def unique(refs) -> tuple[Ref, ...]:
    return tuple(dict.fromkeys(refs))


@part("related", notes={"concept"}, order=80, block="related")
def related(inputs: PartInput) -> RelatedNotes:
    day, ctx, ix = inputs.day, inputs.ctx, inputs.ix
    episode = day.episode
    last = episode.end or day.date
    catalysts = [ix.catalyst(c.name) for c, _ in episode_catalysts(episode, ctx, day.date)]
    catalysts += [ix.catalyst(name) for name, _ in movers_by_catalyst(day)]
    return RelatedNotes(
        theses=tuple(ix.thesis(t.name) for t in ctx.theses), catalysts=unique(catalysts),
        legs=tuple(ix.leg(l.name, l.kind) for l in (*episode.out_of, *episode.into)),
        episode_days=tuple(ix.daily(d) for d in sorted(ix.daily_dates) if episode.start <= d <= last),
        home=Ref(HOME, HOME), start=episode.start,
    )
