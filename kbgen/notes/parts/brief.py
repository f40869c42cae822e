"""The day in brief: a paragraph a researcher could paste into a morning email.

Written from the session's computed facts, the same ones the note's tables print: the indices, breadth
and leadership, the leading and lagging sectors, the rotation, the biggest movers with their linked
catalysts, and the thesis that moved most. Which sentence is written depends on what happened (a flat
day is not told like a rally; indices that split are told as a split); words of magnitude follow
the thresholds of `kbgen/notes/prose.py`. No advice, no adjective the numbers do not support.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...model import MarketDay, Mover
from ...analytics.movers import RELATIVE_VOLUME_FACT_MIN, ordinal
from ..common import Ref
from ..prose import Fact, Piece, Sentence, joined, move_phrase, moved
from ..registry import PartInput, part

LEADERSHIP_MIN = 0.0025       # a spread within ±0.25 pts is "in line", not a lead
# advancers' share of advancers + decliners -> how the day's breadth is told (first bound reached)
BREADTH_TONES = ((0.65, "Breadth was broad"), (0.55, "Advancers outnumbered decliners"), (0.45, "Breadth was mixed"),
                 (0.35, "Decliners outnumbered advancers"), (0.0, "Breadth was weak"))
NASDAQ = "QQQ"
EQUAL_WEIGHT, SMALL_VS_LARGE = "Equal vs cap weight", "Small vs large"
ROTATION_LEGS_NAMED = 2       # legs per side the brief names; the concept note lists them all


@dataclass(frozen=True)
class DayBrief:
    sentences: tuple[Sentence, ...]
    day: Ref                           # the daily note (Home links to it)


def _indices(day: MarketDay, ix, benchmark: str) -> Sentence | None:
    spy = day.returns.get(benchmark)
    spy_1d = spy.get("1D") if spy else None
    if spy_1d is None:
        return None
    pieces: list[Piece] = ["The ", ix.ticker(benchmark), " ", *move_phrase(f"{benchmark} 1D", spy_1d, "index")]
    nasdaq = day.returns.get(NASDAQ)
    q_1d = nasdaq.get("1D") if nasdaq else None
    if q_1d is not None:
        split = (q_1d > 0) != (spy_1d > 0) and moved(q_1d, "index") != moved(spy_1d, "index")
        pieces += [" while the " if split else " and the ", ix.ticker(NASDAQ), " ",
                   *move_phrase(f"{NASDAQ} 1D", q_1d, "index")]
    week = spy.get("1W")
    if week is not None:
        pieces += ["; ", benchmark, " is ", Fact(f"{benchmark} 1W", week, "pct"), " over the week"]
    return (*pieces, ".")


def _lead(name: str, value: float | None, leader: str, versus: str) -> tuple[Piece, ...] | None:
    if value is None:
        return None
    if abs(value) < LEADERSHIP_MIN:
        verb = "were" if leader.endswith("s") else "was"
        return (f"{leader} {verb} in line with {versus} (", Fact(name, value, "pct"), ")")
    verb = "beat" if value > 0 else "trailed"
    return (f"{leader} {verb} {versus} by ", Fact(name, abs(value), "size"))


def _breadth(day: MarketDay) -> Sentence | None:
    b = day.breadth
    total = b.advancers + b.decliners
    if total == 0:
        return None
    share = b.advancers / total
    tone = next(words for bound, words in BREADTH_TONES if share >= bound)
    pieces: list[Piece] = [f"{tone}: ", Fact("advancers", b.advancers, "count"), " stocks rose and ",
                           Fact("decliners", b.decliners, "count"), " fell"]
    leads = [lead for lead in (
        _lead("RSP - SPY 1D", _spread(day, EQUAL_WEIGHT), "equal weight", "cap weight"),
        _lead("IWM - SPY 1D", _spread(day, SMALL_VS_LARGE), "small caps", "large caps"),
    ) if lead is not None]
    if leads:
        pieces += ["; ", *joined(leads)]
    return (*pieces, ".")


def _spread(day: MarketDay, name: str) -> float | None:
    spread = day.breadth.spreads.get(name)
    return spread.get("1D") if spread else None


def _sectors(day: MarketDay, ix, benchmark: str) -> Sentence | None:
    rows = [s for s in day.sectors if s.excess.get("1D") is not None]
    if len(rows) < 2:
        return None
    best, worst = rows[0], rows[-1]
    beating = sum(1 for s in rows if s.excess.get("1D") > 0)
    best_excess, worst_excess = best.excess.get("1D"), worst.excess.get("1D")
    if best_excess <= 0:
        opening: tuple[Piece, ...] = ("No sector ETF beat ", benchmark, "; the best was ", ix.sector(best.sector))
    elif worst_excess >= 0:
        opening = ("Every sector ETF kept pace with ", benchmark, ", led by ", ix.sector(best.sector))
    else:
        opening = (ix.sector(best.sector), " led the sectors")
    return (*opening, " (", Fact(f"{best.etf} excess 1D", best_excess, "pct"), f" vs {benchmark}) and ",
            ix.sector(worst.sector), " lagged (", Fact(f"{worst.etf} excess 1D", worst_excess, "pct"), "); ",
            Fact("sectors beating the benchmark", beating, "count"), " of ",
            Fact("sectors", len(rows), "count"), f" beat {benchmark}.")


def _rotation(day: MarketDay, ix) -> Sentence | None:
    episode, ref = day.episode, ix.concept_ref()
    if episode is None or ref is None:
        return None
    if not episode.ongoing:
        return ("The last rotation, ", ref, f", ended on {episode.end.isoformat()}.")
    def legs(flow) -> tuple[Piece, ...]:
        return joined([(ix.sector(leg.name) if leg.kind == "sector" else ix.group(leg.name),)
                       for leg in flow[:ROTATION_LEGS_NAMED]])
    return ("The rotation out of ", *legs(episode.out_of), " into ", *legs(episode.into), " (", ref,
            ") has moved its spread ", Fact("rotation spread", episode.size, "pts"),
            f" since {episode.start.isoformat()}, {ordinal(_sessions_since(episode, day))} session on.")


def _sessions_since(episode, day: MarketDay) -> int:
    """Sessions from the episode's start (its trough) to this one, counted on its own spread path."""
    return sum(1 for date, _ in episode.spread if episode.start < date <= day.date)


def _mover(mover: Mover, ix) -> tuple[Piece, ...]:
    pieces: list[Piece] = [ix.ticker(mover.ticker), " ", *move_phrase(f"{mover.ticker} 1D", mover.move, "stock")]
    volume = mover.context.relative_volume
    if volume is not None and volume >= RELATIVE_VOLUME_FACT_MIN:
        pieces += [" on ", Fact(f"{mover.ticker} relative volume", volume, "times"), " its 20-day average volume"]
    if mover.catalysts:
        pieces += [" (see ", *joined([(ix.catalyst(c),) for c in mover.catalysts]), ")"]
    return tuple(pieces)


def _movers(day: MarketDay, ix) -> Sentence | None:
    up = day.winners[0] if day.winners and day.winners[0].move > 0 else None
    down = day.losers[0] if day.losers and day.losers[0].move < 0 else None
    if up and down:
        return ("Among stocks, ", *_mover(up, ix), " and ", *_mover(down, ix), ".")
    if up or down:
        mover = up or down
        return ("The biggest move among stocks: ", *_mover(mover, ix), ".")
    return None


def _thesis(inputs: PartInput, benchmark: str) -> Sentence | None:
    day, ix = inputs.day, inputs.ix
    scored = [i for i in day.impacts if i.short_excess is not None]
    if not scored:
        return None
    top = max(scored, key=lambda i: abs(i.short_excess))
    return ("Of the theses, ", ix.thesis(top.thesis), f" moved most: {top.short_window} excess ",
            Fact(f"{top.thesis} {top.short_window} excess", top.short_excess, "pct"),
            f" vs {benchmark}, ", *_label_run(inputs, top.thesis, top.label), ".")


def _label_run(inputs: PartInput, thesis: str, label: str) -> tuple[Piece, ...]:
    """How long the thesis has carried today's label: "rated Mixed for the 3rd straight session"."""
    labels = [i.label for d, i in inputs.ctx.impact_history.get(thesis, ()) if d < inputs.day.date]
    run = 1
    while run <= len(labels) and labels[-run] == label:
        run += 1
    if run == 1:
        return (f"now rated {label}" + (f" after {labels[-1]}" if labels else ""),)
    if run > len(labels):
        first = next(d for d, _ in inputs.ctx.impact_history[thesis])
        return (f"rated {label} in every session since {first.isoformat()}",)
    return (f"rated {label} for the {ordinal(run)} straight session",)


def day_brief(inputs: PartInput) -> DayBrief:
    day, ix, benchmark = inputs.day, inputs.ix, inputs.ctx.config.analysis.benchmark
    sentences = tuple(s for s in (
        _indices(day, ix, benchmark), _breadth(day), _sectors(day, ix, benchmark), _rotation(day, ix),
        _movers(day, ix), _thesis(inputs, benchmark),
    ) if s is not None)
    return DayBrief(sentences, ix.daily(day.date))


# In the daily note it opens the overview block (which carries the simulated-data warning first).
part("brief", notes={"daily"}, order=5, block="overview")(day_brief)
part("home_brief", notes={"home"}, order=5, block="home")(day_brief)
