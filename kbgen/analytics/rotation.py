"""Rotation episodes: spells in which market leadership changed hands.

Legs are the sectors (their ETF) and the config's groups (equal-weight baskets of members; a
group of one ETF is that ETF). A leg's return over a span is the mean of its members' returns
over that span (buy-and-hold, equal weight at the span's start); its excess is that minus the
benchmark's return over the same span.

Detection at session t, with L = rotation_lookback_sessions and R = rotation_recent_sessions:

* prior excess over [t-R-L, t-R] and recent excess over [t-R, t] for every leg with data;
* rho = Spearman rank correlation of the two (pandas ranks, then Pearson on the ranks);
* rho <= RANK_CORRELATION_THRESHOLD (-0.3: with ~20 legs that is a clear reversal of the order,
  not noise around zero) means leadership changed;
* out_of = legs ranked in the top half before, bottom half now, and behind the benchmark now;
  into = bottom half before, top half now, ahead of the benchmark now;
* spread(d) = mean return of `into` legs minus mean return of `out_of` legs from the base
  t-R-L to d; start = its trough over [t-R-L, t]; size = spread(as-of) - spread(start);
  accelerated week = the 5-session span after the start with the largest spread gain;
  end = the first session after the detection at which the spread has given back more than
  half of its peak gain since the start (None while that has not happened).

History is scanned at every session (each detection uses rows up to its own session only, so
adding later rows never changes earlier detections); consecutive detections with overlapping
spans and the same direction of flow are one episode, described by its clearest detection.
"""
from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import Episode, FlowLeg

RANK_CORRELATION_THRESHOLD = -0.3
ACCELERATION_SESSIONS = 5
MIN_LEGS = 4
CURRENT_WITHIN_SESSIONS = 63   # an episode last seen within a quarter is still "the current one"


@dataclass(frozen=True)
class RotationLeg:
    name: str
    kind: str                      # "sector" or "group"
    ticker: str | None             # the ETF for a sector or a one-ETF group
    members: tuple[str, ...]


@dataclass(frozen=True)
class Detection:
    position: int                  # session index of the detection
    base: int                      # first session of the lookback
    start: int                     # trough of the spread
    into: tuple[int, ...]          # leg indices
    out_of: tuple[int, ...]
    rho: float


def build_legs(sectors: dict[str, str], groups: dict[str, list[str]], columns) -> list[RotationLeg]:
    """Sector legs (by ETF) and group legs whose tickers are in the panel."""
    present = set(columns)
    legs = [RotationLeg(name, "sector", etf, (etf,)) for name, etf in sectors.items() if etf in present]
    for name, tickers in groups.items():
        members = tuple(t for t in tickers if t in present)
        if members:
            legs.append(RotationLeg(name, "group", members[0] if len(tickers) == 1 else None, members))
    return legs


class LegPrices:
    """Fast span returns of every leg and of the benchmark, as matrix products over one array."""

    def __init__(self, adj: pd.DataFrame, legs: list[RotationLeg], benchmark: str):
        self.sessions = adj.index
        used = sorted({t for leg in legs for t in leg.members})
        self.values = adj.reindex(columns=used).to_numpy(dtype=float)
        where = {t: i for i, t in enumerate(used)}
        # membership[leg, ticker] = 1 when the ticker is in the leg's equal-weight basket
        self.membership = np.zeros((len(legs), len(used)))
        for row, leg in enumerate(legs):
            self.membership[row, [where[t] for t in leg.members]] = 1.0
        self.benchmark_values = adj[benchmark].to_numpy(dtype=float) if benchmark in adj.columns else None
        self.legs = legs

    def _mean_by_leg(self, relative: np.ndarray) -> np.ndarray:
        """Mean over each leg's members with a value (NaN when none has one)."""
        valid = np.isfinite(relative)
        total = np.where(valid, relative, 0.0) @ self.membership.T
        count = valid.astype(float) @ self.membership.T
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def paths(self, base: int, last: int) -> np.ndarray:
        """(sessions base..last) x legs: each leg's return from `base` to each session."""
        block = self.values[base:last + 1]
        return self._mean_by_leg(block / block[0] - 1)

    def excess(self, base: int, last: int) -> np.ndarray:
        """Each leg's return minus the benchmark's over [base, last]."""
        legs = self._mean_by_leg(self.values[last] / self.values[base] - 1)
        return legs - (self.benchmark_values[last] / self.benchmark_values[base] - 1)


def detect_at(prices: LegPrices, position: int, lookback: int, recent: int) -> Detection | None:
    """A leadership change detected at `position`, using sessions up to it only."""
    pivot, base = position - recent, position - recent - lookback
    if base < 0 or prices.benchmark_values is None or not prices.legs:
        return None
    prior, now = prices.excess(base, pivot), prices.excess(pivot, position)
    usable = np.flatnonzero(np.isfinite(prior) & np.isfinite(now))
    if usable.size < MIN_LEGS:
        return None
    prior_rank = pd.Series(prior[usable]).rank(ascending=False).to_numpy()
    now_rank = pd.Series(now[usable]).rank(ascending=False).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = float(np.corrcoef(prior_rank, now_rank)[0, 1])   # NaN when one side has no spread
    if not rho <= RANK_CORRELATION_THRESHOLD:
        return None
    half = usable.size / 2
    out_of = tuple(int(i) for i, p, n, x in zip(usable, prior_rank, now_rank, now[usable]) if p <= half < n and x < 0)
    into = tuple(int(i) for i, p, n, x in zip(usable, prior_rank, now_rank, now[usable]) if n <= half < p and x > 0)
    if not out_of or not into:
        return None
    spread = _spread(prices, base, position, into, out_of)
    return Detection(position, base, base + int(np.nanargmin(spread)), into, out_of, rho)


def _spread(prices: LegPrices, base: int, last: int, into, out_of) -> np.ndarray:
    paths = prices.paths(base, last)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(paths[:, list(into)], axis=1) - np.nanmean(paths[:, list(out_of)], axis=1)


def scan(prices: LegPrices, lookback: int, recent: int) -> list[Detection]:
    """Detections at every session of the whole panel."""
    found = (detect_at(prices, p, lookback, recent) for p in range(len(prices.sessions)))
    return [d for d in found if d is not None]


def _grouped(detections: list[Detection]) -> list[tuple[Detection, int, int]]:
    """(clearest detection, first and last detection positions) per episode, oldest first.

    A detection continues the previous run when its span [start, position] overlaps the run's
    last detection and the flow has the same direction (it shares an `into` and an `out_of`
    leg); each run is one episode, described by its clearest detection (the most negative rho).
    """
    runs: list[list[Detection]] = []
    for detection in sorted(detections, key=lambda d: d.position):
        if runs and _continues(runs[-1][-1], detection):
            runs[-1].append(detection)
        else:
            runs.append([detection])
    return [(min(run, key=lambda d: (d.rho, -d.position)), run[0].position, run[-1].position) for run in runs]


def _continues(previous: Detection, detection: Detection) -> bool:
    return (
        detection.start <= previous.position
        and bool(set(detection.into) & set(previous.into))
        and bool(set(detection.out_of) & set(previous.out_of))
    )


def describe(prices: LegPrices, detection: Detection, as_of: int, confirmed: int | None = None) -> Episode:
    """The episode of a detection as seen on session `as_of` (no later data).

    The end is looked for only after `confirmed` (the episode's first detection; default: this one).
    """
    spread = _spread(prices, detection.base, as_of, detection.into, detection.out_of)
    start = detection.start - detection.base
    gain = spread - spread[start]
    peak = np.maximum.accumulate(np.where(np.arange(len(gain)) >= start, gain, -np.inf))
    confirmed = detection.position if confirmed is None else confirmed
    after = np.arange(len(gain)) > max(confirmed, detection.start) - detection.base
    faded = np.flatnonzero(after & (gain < 0.5 * peak))
    last = int(faded[0]) if faded.size else len(gain) - 1
    sessions = prices.sessions[detection.base: as_of + 1]
    excess = prices.excess(detection.start, detection.base + last)
    return Episode(
        start=sessions[start].date(),
        end=sessions[last].date() if faded.size else None,
        accelerated_week=_accelerated_week(gain, start, last, sessions),
        out_of=_flow(prices, detection.out_of, excess, worst_first=True),
        into=_flow(prices, detection.into, excess, worst_first=False),
        size=float(gain[last]),
        rank_correlation=detection.rho,
        spread=tuple((d.date(), float(v)) for d, v in zip(sessions, spread)),
    )


def _accelerated_week(gain: np.ndarray, start: int, last: int, sessions) -> tuple[dt.date, dt.date] | None:
    if last - start < ACCELERATION_SESSIONS:
        return None
    ends = np.arange(start + ACCELERATION_SESSIONS, last + 1)
    moves = gain[ends] - gain[ends - ACCELERATION_SESSIONS]
    best = int(ends[np.nanargmax(moves)])
    return sessions[best - ACCELERATION_SESSIONS + 1].date(), sessions[best].date()


def _flow(prices: LegPrices, indices, excess: np.ndarray, worst_first: bool) -> tuple[FlowLeg, ...]:
    legs = [(prices.legs[i], float(excess[i])) for i in indices if np.isfinite(excess[i])]
    legs.sort(key=lambda pair: pair[1], reverse=not worst_first)
    return tuple(FlowLeg(leg.name, leg.kind, leg.ticker, value) for leg, value in legs)


def detect_episodes(
    prices: LegPrices, as_of: int, lookback: int, recent: int, scanned: list[Detection] | None = None
) -> tuple[Episode | None, tuple[Episode, ...]]:
    """(current episode or None, earlier episodes oldest first) as seen on session `as_of`.

    The current episode is the latest one detected within CURRENT_WITHIN_SESSIONS of `as_of`.
    `scanned` (from scan()) saves re-scanning history on every call; only detections up to
    `as_of` are used.
    """
    history = [d for d in (scanned if scanned is not None else scan(prices, lookback, recent)) if d.position <= as_of]
    episodes = _grouped(history)
    current = None
    if episodes and as_of - episodes[-1][2] <= CURRENT_WITHIN_SESSIONS:
        detection, first, _ = episodes.pop()
        current = describe(prices, detection, as_of, first)
    return current, tuple(describe(prices, d, as_of, first) for d, first, _ in episodes)
