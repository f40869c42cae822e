"""Rotation episodes: spells in which market leadership changed hands, often only in part.

Legs are the sectors (their ETF) and the config's groups (equal-weight baskets of members; a
group of one ETF is that ETF). A leg's return over a span is the mean of its members' returns
over that span (buy-and-hold, equal weight at the span's start); its excess is that minus the
benchmark's return over the same span.

Detection at session t, with L = rotation_lookback_sessions and each recent window w in
recent_windows(rotation_recent_sessions) (10, 15 and 21 sessions for the default 15: a flip can
show over two weeks or a month, and one window alone misses it):

* prior excess over [t-w-L, t-w] and recent excess over [t-w, t] for every leg with data;
* out_of = prior leaders now lagging: prior excess > 0 and recent excess < 0;
* into = prior laggards now leading: recent excess > 0 and prior excess below that of every
  out_of leg. A leader that keeps leading (prior > 0, recent > 0, ranked above the legs being
  sold) is on neither side: real rotations are partial, and one strong leg (semiconductors in
  January 2026) must not hide the legs that were sold;
* spread(w) = mean recent excess of into - mean recent excess of out_of;
* detected when both sides have at least MIN_SIDE_LEGS (2) legs and spread(w) >=
  SPREAD_THRESHOLD (4 points over at most a month: twice the typical gap between two sector
  ETFs over that span, so noise alone rarely passes); of the windows that pass, the one with
  the largest spread is kept;
* rho = Spearman rank correlation of prior and recent excess over all legs, reported (negative
  = the order reversed) but not a gate: a partial rotation can keep it positive.

Episode path, for the chosen legs: spread(d) = mean return of into minus mean return of out_of
from the base t-w-L to d; start = its trough over [t-w, t] (the sold legs led over the
prior window, so the turn lies inside the recent one). The episode's spread (headline, table,
chart and end) is measured from the start close instead: mean excess of the into legs minus that
of the out-of legs since the start, equal weight; size = its value at as-of (or the end), which is
the difference of the two sides' means in the concept note's table; accelerated week = the 5-session span after the start with the largest gain;
end = the first session after the detection that set the legs at which the spread has given back
more than half of its peak gain since the start, and at least MIN_GIVEBACK (2 points), so that
noise around a small gain ends nothing (None while that has not happened).

Episodes (scan()): detections in session order; one joins the latest episode when that episode
has not ended by the detection's session and the legs mostly agree with the episode's (the two
share a leg on each side and more legs keep their side than switch); otherwise it opens a new
episode whose start is the spread's trough on or after the previous episode's end, so an ended
episode is never revived. A detection whose trough is its own session (no gain yet) opens
nothing. An episode keeps its start and its sides once opened: a joining detection with a larger
spread than any before (a new high) only adds the legs it has that are on neither side yet
(recorded with that session), never moves a leg; a leg whose excess since the start has the
wrong sign stays on its side and the note flags it as running against it. Every step uses rows up to the detection's own session only, so adding
later rows never changes earlier episodes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ..model import Episode, FlowLeg, LegJoin

SPREAD_THRESHOLD = 0.04
MIN_SIDE_LEGS = 2
MIN_GIVEBACK = 0.02
ACCELERATION_SESSIONS = 5
RECENT_WINDOW_SCALES = (2 / 3, 1.0, 1.4)  # 10, 15 and 21 sessions for the default 15
MIN_RECENT_SESSIONS = 3
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
    strength: float                # spread(w): mean recent excess of into minus that of out_of
    rho: float                     # rank correlation of prior and recent excess, all legs
    recent: int                    # the recent window w that found it (sessions)
    lookback: int                  # the prior window L (sessions)


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
    """Span returns of every leg and of the benchmark over one array of adjusted closes."""

    def __init__(self, adj: pd.DataFrame, legs: list[RotationLeg], benchmark: str):
        self.sessions = adj.index
        self.dates = [d.date() for d in adj.index]
        used = sorted({t for leg in legs for t in leg.members})
        self.values = adj.reindex(columns=used).to_numpy(dtype=float)
        where = {t: i for i, t in enumerate(used)}
        # membership[leg, ticker] = 1 when the ticker is in the leg's equal-weight basket
        self.membership = np.zeros((len(legs), len(used)))
        for row, leg in enumerate(legs):
            self.membership[row, [where[t] for t in leg.members]] = 1.0
        self.member_columns = [np.flatnonzero(row) for row in self.membership]
        self.benchmark_values = adj[benchmark].to_numpy(dtype=float) if benchmark in adj.columns else None
        self.legs = legs
        self._spreads: dict[tuple, np.ndarray] = {}

    def _mean_by_leg(self, relative: np.ndarray) -> np.ndarray:
        """Mean over each leg's members with a value (NaN when none has one)."""
        valid = np.isfinite(relative)
        total = np.where(valid, relative, 0.0) @ self.membership.T
        count = valid.astype(float) @ self.membership.T
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def excess(self, base: int, last: int) -> np.ndarray:
        """Each leg's return minus the benchmark's over [base, last]."""
        legs = self._mean_by_leg(self.values[last] / self.values[base] - 1)
        return legs - (self.benchmark_values[last] / self.benchmark_values[base] - 1)

    def spread(self, base: int, last: int, into: tuple[int, ...], out_of: tuple[int, ...],
               since: int | None = None) -> np.ndarray:
        """For sessions base..last: mean return since `since` (default `base`) of the `into` legs
        minus that of `out_of` (before `since`, the return that leads to its close)."""
        reference = base if since is None else since
        return self._side_path(base, last, into, reference) - self._side_path(base, last, out_of, reference)

    def episode_spread(self, base: int, last: int, into: tuple[int, ...], out_of: tuple[int, ...],
                       since: int | None = None) -> np.ndarray:
        """spread(), computed once to the panel's end and sliced, for paths asked for on every session.

        Each session's value uses only the rows of `since` and of that session, so the slice equals
        spread(base, last, ...) and never looks past `last` (for `since` <= `last`).
        """
        key = (base, into, out_of, since)
        if key not in self._spreads:
            self._spreads[key] = self.spread(base, len(self.dates) - 1, into, out_of, since)
        return self._spreads[key][: last - base + 1]

    def _side_path(self, base: int, last: int, legs: tuple[int, ...], reference: int) -> np.ndarray:
        """Mean over `legs` (those with a value) of each leg's member-mean return from `reference`."""
        block = self.values[base:last + 1]
        anchor = self.values[reference]
        by_leg = [_row_mean_of_finite(block[:, cols] / anchor[cols] - 1)
                  for cols in (self.member_columns[i] for i in legs)]
        return _row_mean_of_finite(np.column_stack(by_leg))


def _row_mean_of_finite(values: np.ndarray) -> np.ndarray:
    """Each row's mean over its finite values, NaN for a row with none (np.nanmean, minus its
    per-call checks and warnings: scan() asks for thousands of these)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=1)
    total = np.where(finite, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def recent_windows(recent: int) -> tuple[int, ...]:
    """The recent-window lengths tried at each session: the configured one and two neighbours."""
    return tuple(sorted({max(MIN_RECENT_SESSIONS, round(recent * scale)) for scale in RECENT_WINDOW_SCALES}))


def descending_ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = largest; tied values share the mean of their ranks (as pandas' default)."""
    _, inverse, counts = np.unique(-values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return ((last - counts + 1 + last) / 2)[inverse]


def rank_correlation(prior_rank: np.ndarray, now_rank: np.ndarray) -> float:
    """Pearson correlation of two rank vectors (= Spearman); NaN when one has no spread."""
    a, b = prior_rank - prior_rank.mean(), now_rank - now_rank.mean()
    scale = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / scale) if scale > 0 else float("nan")


def detect_at(prices: LegPrices, position: int, lookback: int, recent: int) -> Detection | None:
    """A partial leadership change detected at `position` with one recent window (sessions up to it
    only); its `start` is the window's pivot until strongest_at() finds the spread's trough."""
    pivot, base = position - recent, position - recent - lookback
    if base < 0 or prices.benchmark_values is None or not prices.legs:
        return None
    prior, now = prices.excess(base, pivot), prices.excess(pivot, position)
    usable = np.flatnonzero(np.isfinite(prior) & np.isfinite(now))
    out_of = tuple(int(i) for i in usable if prior[i] > 0 > now[i])
    if len(out_of) < MIN_SIDE_LEGS:
        return None
    weakest_seller = prior[list(out_of)].min()
    into = tuple(int(i) for i in usable if now[i] > 0 and prior[i] < weakest_seller)
    if len(into) < MIN_SIDE_LEGS:
        return None
    strength = float(now[list(into)].mean() - now[list(out_of)].mean())
    if strength < SPREAD_THRESHOLD:
        return None
    rho = rank_correlation(descending_ranks(prior[usable]), descending_ranks(now[usable]))
    # start: the pivot for now; strongest_at() sets the spread's trough once a window is chosen
    return Detection(position, base, pivot, into, out_of, strength, rho, recent, lookback)


def strongest_at(prices: LegPrices, position: int, lookback: int, windows: tuple[int, ...]) -> Detection | None:
    """The detection with the largest spread among the recent windows (None when none passes),
    starting at the trough of its spread."""
    found = [d for d in (detect_at(prices, position, lookback, w) for w in windows) if d is not None]
    best = max(found, key=lambda d: d.strength, default=None)
    if best is None:
        return None
    # the sold legs led over the prior window, so the turn lies inside the recent one
    pivot = best.start
    spread = prices.spread(best.base, position, best.into, best.out_of)
    return replace(best, start=pivot + int(np.nanargmin(spread[pivot - best.base:])))


@dataclass(frozen=True)
class Run:
    """The detections of one episode, oldest first; `floor` is the end of the episode before it;
    `superseded` the session at which a rotation of other legs opened while this one still ran."""

    detections: tuple[Detection, ...]
    floor: int | None
    superseded: int | None = None

    @property
    def first(self) -> int:
        return self.detections[0].position

    @property
    def anchor(self) -> Detection:
        """The opening detection with the episode's legs: its own sides plus the legs added later;
        `position` is the last detection that added one."""
        return self._legs[0]

    @property
    def joined(self) -> dict[int, Detection]:
        """Leg index -> the later detection that added it (legs of the opening detection are absent)."""
        return self._legs[1]

    @cached_property
    def _legs(self) -> tuple[Detection, dict[int, Detection]]:
        """Sides are fixed by the opening detection. A joining detection that sets a new high of the
        spread adds the legs it has that are on neither side yet; a leg already on one side is never
        moved, whatever a later detection says about it."""
        opening = best = self.detections[0]
        into, out_of, joined = list(opening.into), list(opening.out_of), {}
        for detection in self.detections[1:]:
            if detection.strength <= best.strength:
                continue
            best = detection
            for side, found in ((into, detection.into), (out_of, detection.out_of)):
                added = [i for i in found if i not in into and i not in out_of]
                side.extend(added)
                joined.update(dict.fromkeys(added, detection))
        confirmed = max((d.position for d in joined.values()), default=opening.position)
        return replace(opening, into=tuple(into), out_of=tuple(out_of), position=confirmed), joined

    def until(self, as_of: int) -> "Run":
        superseded = self.superseded if self.superseded is not None and self.superseded <= as_of else None
        return Run(tuple(d for d in self.detections if d.position <= as_of), self.floor, superseded)

    def end(self, prices: LegPrices, as_of: int) -> int | None:
        """Session at which the episode ended, as seen on `as_of` (None while it runs)."""
        return self.ended(_fade(prices, self.anchor, self.anchor.position, as_of)[1])

    def ended(self, faded: int | None) -> int | None:
        """The earlier of the fade and the session another rotation took over (None: neither yet)."""
        return min((s for s in (faded, self.superseded) if s is not None), default=None)


def _fade(prices: LegPrices, detection: Detection, confirmed: int, as_of: int) -> tuple[np.ndarray, int | None]:
    """(the episode's spread, measured since its start, for sessions base..as_of; session of the end or None).

    The end is the first session after `confirmed` and the start at which the gain is below
    half of its running peak, by at least MIN_GIVEBACK (so noise around a small gain ends nothing).
    """
    gain = prices.episode_spread(detection.base, as_of, detection.into, detection.out_of, since=detection.start)
    start = detection.start - detection.base
    peak = np.maximum.accumulate(np.where(np.arange(len(gain)) >= start, gain, -np.inf))
    after = np.arange(len(gain)) > max(confirmed, detection.start) - detection.base
    faded = np.flatnonzero(after & (gain < 0.5 * peak) & (peak - gain >= MIN_GIVEBACK))
    return gain, detection.base + int(faded[0]) if faded.size else None


def _starting_after(prices: LegPrices, detection: Detection, floor: int | None) -> Detection:
    """The detection with its start moved to the spread's trough on or after `floor`."""
    if floor is None or detection.start >= floor:
        return detection
    spread = prices.spread(floor, detection.position, detection.into, detection.out_of)
    return replace(detection, start=floor + int(np.nanargmin(spread)))


def _legs_agree(episode: Detection, detection: Detection) -> bool:
    """The two share a leg on each side, and more legs keep their side than switch sides."""
    into, out_of = set(detection.into), set(detection.out_of)
    shared_into, shared_out_of = into & set(episode.into), out_of & set(episode.out_of)
    switched = len(into & set(episode.out_of)) + len(out_of & set(episode.into))
    return bool(shared_into) and bool(shared_out_of) and len(shared_into) + len(shared_out_of) > switched


def scan(prices: LegPrices, lookback: int, recent: int) -> tuple[Run, ...]:
    """Every episode of the whole panel, each built only from sessions up to its detections.

    A detection joins the latest episode when its legs agree with the episode's and that episode
    has not ended by the detection's session; otherwise it starts a new episode, whose start is
    looked for on or after the end of the one before (an ended episode is never revived). A new
    episode that opens while the latest still runs ends that one at its own detection session:
    leadership has moved to other legs, even if the old spread has not given back half its gain.
    """
    windows = recent_windows(recent)
    runs: list[Run] = []
    for position in range(len(prices.sessions)):
        detection = strongest_at(prices, position, lookback, windows)
        if detection is None:
            continue
        latest = runs[-1] if runs else None
        ended = latest.end(prices, position) if latest else None
        if latest and ended is None and _legs_agree(latest.anchor, detection):
            runs[-1] = Run((*latest.detections, detection), latest.floor)
            continue
        opening = _starting_after(prices, detection, ended)
        if opening.start < position:       # a spread that has not risen yet is no episode
            if latest and ended is None:   # other legs took over before this one faded
                runs[-1] = replace(latest, superseded=position)
            runs.append(Run((opening,), ended))
    return tuple(runs)


def describe(prices: LegPrices, run: Run, as_of: int) -> Episode:
    """The episode of a run as seen on session `as_of` (no later data), told by its anchor's legs."""
    detection, joined = run.anchor, run.joined
    gain, faded = _fade(prices, detection, detection.position, as_of)
    end = run.ended(faded)
    start = detection.start - detection.base
    last = (as_of if end is None else end) - detection.base
    sessions = prices.dates[detection.base: as_of + 1]
    excess = prices.excess(detection.start, detection.base + last)
    into = _flow(prices, detection.into, excess, joined, worst_first=False)
    out_of = _flow(prices, detection.out_of, excess, joined, worst_first=True)
    return Episode(
        start=sessions[start],
        end=None if end is None else sessions[last],
        accelerated_week=_accelerated_week(gain, start, last, sessions),
        out_of=out_of,
        into=into,
        size=side_mean(into) - side_mean(out_of),
        rank_correlation=detection.rho,
        spread=tuple(zip(sessions, gain.tolist())),
        taken_over=end is not None and end == run.superseded and (faded is None or faded > end),
    )


def _accelerated_week(gain: np.ndarray, start: int, last: int, sessions) -> tuple[dt.date, dt.date] | None:
    if last - start < ACCELERATION_SESSIONS:
        return None
    ends = np.arange(start + ACCELERATION_SESSIONS, last + 1)
    moves = gain[ends] - gain[ends - ACCELERATION_SESSIONS]
    best = int(ends[np.nanargmax(moves)])
    return sessions[best - ACCELERATION_SESSIONS + 1], sessions[best]


def _flow(prices: LegPrices, indices, excess: np.ndarray, joined: dict[int, Detection],
          worst_first: bool) -> tuple[FlowLeg, ...]:
    legs = [(i, float(excess[i])) for i in indices if np.isfinite(excess[i])]
    legs.sort(key=lambda pair: pair[1], reverse=not worst_first)
    return tuple(FlowLeg(prices.legs[i].name, prices.legs[i].kind, prices.legs[i].ticker, value,
                         _joining(prices, joined.get(i))) for i, value in legs)


def _joining(prices: LegPrices, detection: Detection | None) -> LegJoin | None:
    if detection is None:
        return None
    return LegJoin(prices.dates[detection.position], detection.recent, detection.lookback)


def side_mean(legs: tuple[FlowLeg, ...]) -> float:
    """Equal-weight mean excess of one side's legs (NaN for an empty side)."""
    return float(np.mean([leg.excess for leg in legs])) if legs else float("nan")


def detect_episodes(
    prices: LegPrices, as_of: int, lookback: int, recent: int, scanned: tuple[Run, ...] | None = None
) -> tuple[Episode | None, tuple[Episode, ...]]:
    """(current episode or None, earlier episodes oldest first) as seen on session `as_of`.

    The current episode is the latest one, when it is still running or was last detected within
    CURRENT_WITHIN_SESSIONS of `as_of`. `scanned` (from scan()) saves re-scanning history on
    every call; since scan() builds each episode from its own past, cutting its runs at `as_of`
    gives what a scan of the rows up to `as_of` would.
    """
    runs = [run.until(as_of) for run in (scanned if scanned is not None else scan(prices, lookback, recent))
            if run.first <= as_of]
    current = None
    if runs:
        latest = runs[-1]
        if latest.end(prices, as_of) is None or as_of - latest.detections[-1].position <= CURRENT_WITHIN_SESSIONS:
            current = describe(prices, runs.pop(), as_of)
    return current, tuple(describe(prices, run, as_of) for run in runs)
