"""Thesis impact: a thesis's basket of legs against its benchmark, labelled from the numbers.

Each leg's excess over a window is side * (R_leg - R_benchmark), with side +1 for a long leg and
-1 for a short one, so a short leg helps when its stock lags. The basket's excess is the
weighted mean: E = sum(w_i * side_i * (R_i - R_B)) / sum(w_i) over the legs with data, and the
terms of that sum are the legs' contributions (the "drivers").

Labels (thresholds are percent in the config, compared as fractions), checked in this order:
1. Challenged          long excess <= challenged
2. Near-term pressure  short excess <= pressure while long excess > 0 (the trend still holds)
3. Validating          short and long excess both >= validating
4. Mixed               everything else, including a window without data
"""
from __future__ import annotations

import pandas as pd

from ..config import Thresholds
from ..model import ImpactLabel, Thesis, ThesisImpact
from .returns import as_optional


def label(short: float | None, long: float | None, thresholds: Thresholds) -> ImpactLabel:
    if short is None or long is None:
        return "Mixed"
    if long <= thresholds.challenged / 100:
        return "Challenged"
    if short <= thresholds.pressure / 100 and long > 0:
        return "Near-term pressure"
    if short >= thresholds.validating / 100 and long >= thresholds.validating / 100:
        return "Validating"
    return "Mixed"


def leg_excesses(thesis: Thesis, returns: pd.Series, benchmark_return: float | None) -> list[tuple[str, float, float]]:
    """(ticker, weight, side * (R - R_B)) for the legs with data; empty without a benchmark return."""
    if benchmark_return is None:
        return []
    out = []
    for leg in thesis.legs:
        value = as_optional(returns.get(leg.ticker))
        if value is not None:
            side = 1.0 if leg.side == "long" else -1.0
            out.append((leg.ticker, leg.weight, side * (value - benchmark_return)))
    return out


def contributions(legs: list[tuple[str, float, float]]) -> dict[str, float]:
    """Each leg's weighted share of the basket excess: w_i * e_i / sum(w); they add up to E."""
    total = sum(weight for _, weight, _ in legs)
    out: dict[str, float] = {}
    for ticker, weight, excess in legs:
        out[ticker] = out.get(ticker, 0.0) + weight * excess / total
    return out


def impact(thesis: Thesis, window_returns: dict[str, pd.Series], thresholds: Thresholds) -> ThesisImpact:
    """The thesis's label and one-line rationale from the windows' returns on one session.

    `window_returns` maps a window to that session's returns of every ticker.
    """
    parts, excesses, drivers = [], {}, ()
    for window in (thresholds.short_window, thresholds.long_window):
        returns = window_returns[window]
        legs = leg_excesses(thesis, returns, as_optional(returns.get(thesis.benchmark)))
        contribution = contributions(legs)
        excess = sum(contribution.values()) if contribution else None
        excesses[window] = excess
        parts.append(_phrase(window, excess, legs, contribution, thesis.benchmark))
        absent = sorted({leg.ticker for leg in thesis.legs} - set(contribution))
        if absent and excess is not None:
            parts[-1] += f" without {', '.join(absent)} (no {window} data)"
        if window == thresholds.short_window:
            drivers = tuple(sorted(contribution.items(), key=lambda kv: (-abs(kv[1]), kv[0])))
    short, long = excesses[thresholds.short_window], excesses[thresholds.long_window]
    return ThesisImpact(
        thesis=thesis.name, label=label(short, long, thresholds),
        short_window=thresholds.short_window, short_excess=short,
        long_window=thresholds.long_window, long_excess=long,
        rationale="; ".join(parts), drivers=drivers,
    )


def _phrase(window: str, excess: float | None, legs, contribution: dict[str, float], benchmark: str) -> str:
    """E.g. "1W excess -3.2% vs SPY (NVDA -4.1%)": the leg that moved the basket most, with its own excess."""
    if excess is None:
        return f"{window} excess n/a (no data for the window)"
    top = max(contribution, key=lambda t: (abs(contribution[t]), t))
    own = next(value for ticker, _, value in legs if ticker == top)
    return f"{window} excess {excess:+.1%} vs {benchmark} ({top} {own:+.1%})"
