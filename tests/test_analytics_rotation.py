"""Rotation episodes, relative rotation, base rates and property checks on constructed data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from kbgen.analytics import Analyzer, PricePanel
from kbgen.analytics import rrg
from kbgen.analytics.baserates import EventCounts
from kbgen.analytics.movers import streaks
from kbgen.analytics.returns import window_returns
from kbgen.analytics.theses import label
from kbgen.config import Thresholds, parse_config

SECTORS = {"Information Technology": "XLK", "Communication Services": "XLC", "Consumer Discretionary": "XLY",
           "Energy": "XLE", "Industrials": "XLI", "Utilities": "XLU"}
OLD_LEADERS, NEW_LEADERS = ("XLK", "XLC", "XLY"), ("XLE", "XLI", "XLU")
CONFIG = "universe:\n  sectors:\n" + "".join(f"    {s}: {{etf: {e}}}\n" for s, e in SECTORS.items()) + """
  benchmarks: {SPY: S&P 500 ETF, RSP: Equal weight, QQQ: Nasdaq}
  groups:
    Equal weight: [RSP]
analysis:
  min_cases: 3
"""


def frame_from(closes: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.concat([
        pd.DataFrame({"ticker": t, "date": index, "open": c, "high": c, "low": c, "close": c, "adj_close": c,
                      "volume": 1e6}) for t, c in closes.items()
    ], ignore_index=True)


def scripted_rotation(n: int, turns: list[int]) -> tuple[dict[str, np.ndarray], pd.DatetimeIndex]:
    """Old leaders gain and new leaders lose until each turn, then the roles swap, with mild noise."""
    regime = np.ones(n)
    for turn in turns:
        regime[turn + 1:] *= -1
    return regime_market(regime, seed=11)


def regime_market(regime: np.ndarray, seed: int) -> tuple[dict[str, np.ndarray], pd.DatetimeIndex]:
    """Old leaders drift with `regime` (+1 leading, -1 lagging, 0 flat), new leaders against it."""
    n = len(regime)
    index = pd.bdate_range("2024-01-02", periods=n)
    rng = np.random.default_rng(seed)
    closes = {}
    for ticker in (*OLD_LEADERS, *NEW_LEADERS):
        direction = regime if ticker in OLD_LEADERS else -regime
        drift = 0.004 * direction + rng.normal(0, 0.001, n)
        drift[0] = 0
        closes[ticker] = 100 * np.cumprod(1 + drift)
    closes["SPY"] = closes["RSP"] = closes["QQQ"] = 100 * np.cumprod(1 + np.r_[0, rng.normal(0, 0.001, n - 1)])
    return closes, index


def make_analyzer(closes, index, config=CONFIG) -> Analyzer:
    return Analyzer(PricePanel.from_long(frame_from(closes, index)), parse_config(config, Path("/tmp/k/kbgen.yml")))


def test_scripted_rotation_is_found_with_its_start_date():
    closes, index = scripted_rotation(200, turns=[150])
    az = make_analyzer(closes, index)
    day = az.day(index[175].date())
    episode = day.episode
    assert episode is not None and episode.ongoing
    assert episode.start == index[150].date()
    assert {leg.ticker for leg in episode.out_of} == set(OLD_LEADERS)
    assert {leg.ticker for leg in episode.into} == set(NEW_LEADERS)
    assert [leg.excess for leg in episode.into] == sorted((leg.excess for leg in episode.into), reverse=True)
    assert [leg.excess for leg in episode.out_of] == sorted(leg.excess for leg in episode.out_of)
    assert episode.rank_correlation <= -0.3
    spread = dict(episode.spread)
    assert episode.size == pytest.approx(spread[index[175].date()] - spread[index[150].date()])
    first, last = episode.accelerated_week
    assert index[150].date() < first < last <= index[175].date()
    assert az.day(index[140].date()).episode is None or az.day(index[140].date()).episode.start < index[100].date()


def test_a_rotation_that_reverses_ends_and_becomes_history():
    closes, index = scripted_rotation(400, turns=[150, 185, 330])
    az = make_analyzer(closes, index)
    day = az.day(index[360].date())
    first = next(e for e in day.past_episodes if e.start == index[150].date())
    # the spread gains ~0.8%/session for 35 sessions, then loses as much: half of it would be gone
    # about 17-18 sessions after the turn at 185, but the reversal is a rotation of its own (the
    # legs swap sides) and ends the first episode when it is detected, before that
    assert first.end is not None and index[186].date() <= first.end <= index[206].date()
    reversal = next(e for e in day.past_episodes if e.start == index[185].date())
    assert {leg.ticker for leg in reversal.into} == set(OLD_LEADERS)
    assert reversal.end is not None and index[330].date() < reversal.end <= index[360].date()
    assert day.episode is not None and day.episode.start == index[330].date()
    assert az.day(index[193].date()).episode.ongoing  # not ended before the reversal is detected


def test_an_episode_taken_over_by_other_legs_ends_there():
    closes, index = scripted_rotation(400, turns=[150, 185, 330])
    az = make_analyzer(closes, index)
    for as_of in (index[195].date(), index[260].date()):
        day = az.day(as_of)
        first = next(e for e in (day.episode, *day.past_episodes) if e and e.start == index[150].date())
        assert not first.ongoing and first.end == index[194].date(), as_of


def test_rotation_quadrants_and_tail_end_at_the_as_of_date():
    n = 198                                               # the last session is a Wednesday
    index = pd.bdate_range("2024-01-01", periods=n)
    # RS flat with a small wiggle, then breaking out up (XLK) or down (XLE) in the as-of (partial) week
    wiggle = 100 + np.sin(np.arange(n) / 3.0)
    breakout = np.r_[np.zeros(n - 3), [0.01, 0.02, 0.03]]
    closes = {"SPY": wiggle}
    for ticker in SECTORS.values():
        closes[ticker] = wiggle * (1 + 0.002 * np.sin(np.arange(n) / 2.0))
    closes["XLK"] = wiggle * (1 + breakout)               # RS turning up sharply: Leading
    closes["XLE"] = wiggle * (1 - breakout)               # RS turning down sharply: Lagging
    for t in ("RSP", "QQQ"):
        closes[t] = closes["SPY"]
    az = make_analyzer(closes, index)
    wednesday = index[-1]
    assert wednesday.weekday() == 2
    day = az.day(wednesday.date())
    rows = {r.etf: r for r in day.rotation}
    assert rows["XLK"].quadrant == "Leading" and rows["XLE"].quadrant == "Lagging"
    tail = rows["XLK"].tail
    assert len(tail) == rrg.TAIL_POINTS and tail[-1].date == wednesday.date()
    assert all(p.date.weekday() == 4 for p in tail[:-1])      # earlier points are Friday closes
    sector_quadrants = {s.etf: s.quadrant for s in day.sectors}
    assert sector_quadrants["XLK"] == "Leading"


def test_rs_ratio_and_momentum_match_the_documented_formula_without_extra_lag():
    n = 160
    index = pd.bdate_range("2024-01-01", periods=n)   # starts on a Monday: whole weeks
    rng = np.random.default_rng(5)
    adj = pd.DataFrame({"SPY": 100 * np.cumprod(1 + rng.normal(0, 0.01, n)),
                        "XLK": 100 * np.cumprod(1 + rng.normal(0.001, 0.012, n))}, index=index)
    ratio, momentum = rrg.rotation_frames(adj, ["XLK"], "SPY")
    weekly = (100 * adj["XLK"] / adj["SPY"]).resample("W-FRI").last()
    n_weeks = rrg.NORMALISATION_WEEKS
    expected_ratio = 100 + (weekly - weekly.rolling(n_weeks).mean()) / weekly.rolling(n_weeks).std(ddof=0)
    roc = expected_ratio / expected_ratio.shift(1) - 1
    expected_momentum = 100 + (roc - roc.rolling(n_weeks).mean()) / roc.rolling(n_weeks).std(ddof=0)
    fridays = [d for d in expected_momentum.dropna().index if d in index]
    assert len(fridays) > 5
    for friday in fridays:
        assert ratio.loc[friday, "XLK"] == pytest.approx(expected_ratio[friday], abs=1e-6)
        assert momentum.loc[friday, "XLK"] == pytest.approx(expected_momentum[friday], abs=1e-6)


def test_quadrant_mapping():
    assert [rrg.quadrant(101, 101), rrg.quadrant(101, 99), rrg.quadrant(99, 99), rrg.quadrant(99, 101)] == [
        "Leading", "Weakening", "Lagging", "Improving"]


def test_rsp_base_rate_counts_only_outcomes_known_by_the_date():
    n = 40
    index = pd.bdate_range("2024-01-02", periods=n)
    spy = np.full(n, 100.0)
    rsp_steps, qqq_steps = np.zeros(n), np.zeros(n)
    for day, qqq_next in ((5, 0.01), (10, -0.01), (15, 0.02), (38, 0.01)):
        rsp_steps[day] = 0.015            # RSP beats SPY by 1.5%
        qqq_steps[day + 1] = qqq_next
    closes = {t: np.full(n, 100.0) for t in SECTORS.values()}
    closes.update(SPY=spy, RSP=100 * np.cumprod(1 + rsp_steps), QQQ=100 * np.cumprod(1 + qqq_steps))
    az = make_analyzer(closes, index)
    rate = next(r for r in az.day(index[30].date()).base_rates if r.question.startswith("QQQ rose"))
    assert (rate.cases, rate.hits, rate.rate) == (3, 2, pytest.approx(2 / 3))
    early = next(r for r in az.day(index[12].date()).base_rates if r.question.startswith("QQQ rose"))
    assert (early.cases, early.hits, early.rate) == (2, 1, None)   # below min_cases: no rate
    at_38 = next(r for r in az.day(index[38].date()).base_rates if r.question.startswith("QQQ rose"))
    assert at_38.cases == 3                                        # day 38's outcome is not known yet


def test_event_counts_by_hand():
    condition = np.array([True, False, True, True, False])
    outcome = np.array([0.1, 0.2, -0.1, np.nan, 0.3])
    counts = EventCounts.build("q", condition, outcome, horizon=1)
    assert list(counts.cases) == [0, 1, 1, 2, 2] and list(counts.hits) == [0, 1, 1, 1, 1]


@pytest.mark.parametrize("short, long, expected", [
    (0.02, 0.03, "Validating"),
    (0.02, -0.06, "Challenged"),
    (-0.03, -0.05, "Challenged"),       # at the threshold counts
    (-0.02, 0.04, "Near-term pressure"),
    (-0.02, -0.01, "Mixed"),            # down in both windows, not yet challenged
    (0.005, 0.03, "Mixed"),
    (None, 0.03, "Mixed"),
])
def test_impact_label_mapping(short, long, expected):
    assert label(short, long, Thresholds()) == expected


prices = st.lists(st.floats(min_value=1, max_value=1000, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(prices)
def test_streak_never_exceeds_history(values):
    frame = pd.DataFrame({"X": values}, index=pd.bdate_range("2024-01-01", periods=len(values)))
    streak = streaks(frame)["X"].to_numpy()
    assert (np.abs(streak) <= np.arange(len(values))).all()
    moves = np.diff(values)
    for i in range(1, len(values)):
        assert np.sign(streak[i]) == np.sign(moves[i - 1])


@settings(max_examples=40, deadline=None)
@given(prices, st.integers(min_value=0, max_value=2**16))
def test_excess_is_return_minus_benchmark_return(values, seed):
    n = len(values)
    index = pd.bdate_range("2024-01-01", periods=n)
    bench = 100 * np.cumprod(1 + np.random.default_rng(seed).normal(0, 0.01, n))
    closes = {t: np.asarray(values) for t in SECTORS.values()}
    closes.update(SPY=bench, RSP=bench, QQQ=bench)
    day = make_analyzer(closes, index).day(index[-1].date())
    for row in day.sectors:
        for window, value in row.excess.values.items():
            ret, base = row.returns.get(window), day.returns["SPY"].get(window)
            assert (value is None) == (ret is None or base is None)
            if value is not None:
                assert value == pytest.approx(ret - base)


def test_window_returns_shape_matches_panel():
    adj = pd.DataFrame({"A": [1.0, 2.0, 3.0]}, index=pd.bdate_range("2024-01-01", periods=3))
    returns = window_returns(adj)
    assert returns["1D"]["A"].tolist()[1:] == [1.0, 0.5] and np.isnan(returns["1D"]["A"].iloc[0])


def test_a_second_flip_after_an_episode_ended_is_a_new_episode():
    # flip at 150, reversal at 185 (the first episode ends ~205), flat 215-259, the same flip again
    # from 260. Within 63 sessions of the first episode's last detection, so a merge rule that
    # lets an ended episode absorb the second flip would report one episode starting at 150.
    regime = np.ones(320)
    regime[151:186], regime[186:215], regime[215:261], regime[261:] = -1, 1, 0.0, -1
    closes, index = regime_market(regime, seed=3)
    az = make_analyzer(closes, index)
    day = az.day(index[275].date())
    first = next(e for e in day.past_episodes if e.start == index[150].date())
    assert first.end is not None and first.end < index[215].date()
    current = day.episode
    assert current is not None and current.ongoing
    assert index[255].date() <= current.start <= index[262].date()
    assert {leg.ticker for leg in current.into} >= {"XLE", "XLI"}
    assert {leg.ticker for leg in current.out_of} >= {"XLK", "XLC"}


def test_a_partial_rotation_is_found_and_a_leader_that_keeps_leading_is_on_neither_side():
    # XLK, XLC, XLY lead for a quarter; from session 150 XLC and XLY are sold, XLE and XLI rise,
    # and XLK keeps leading (like semiconductors in January 2026): the ranks barely reverse
    n = 200
    index = pd.bdate_range("2024-01-02", periods=n)
    rng = np.random.default_rng(7)
    turn = np.arange(n) > 150
    trend = {"XLK": np.where(turn, 0.006, 0.004), "XLC": np.where(turn, -0.004, 0.003), "XLY": np.where(turn, -0.004, 0.003),
             "XLE": np.where(turn, 0.004, -0.002), "XLI": np.where(turn, 0.004, -0.002), "XLU": np.full(n, -0.001)}
    closes = {}
    for ticker, drift in trend.items():
        steps = drift + rng.normal(0, 0.001, n)
        steps[0] = 0
        closes[ticker] = 100 * np.cumprod(1 + steps)
    closes["SPY"] = closes["RSP"] = closes["QQQ"] = 100 * np.cumprod(1 + np.r_[0, rng.normal(0, 0.001, n - 1)])
    episode = make_analyzer(closes, index).day(index[170].date()).episode
    assert episode is not None and episode.ongoing
    assert abs((index.get_loc(pd.Timestamp(episode.start)) - 150)) <= 2
    assert {leg.ticker for leg in episode.out_of} == {"XLC", "XLY"}
    assert {leg.ticker for leg in episode.into} == {"XLE", "XLI"}
    assert episode.size > 0.04
    assert episode.rank_correlation > -0.3        # the whole board did not reverse: no rank gate finds this


def test_the_demo_markets_scripted_rotation_is_found_near_its_scripted_start():
    import datetime as dt

    from kbgen.config import load_config
    from kbgen.resources import starter_path
    from kbgen.sources.demo import simulate

    config = load_config(starter_path("kbgen.yml"))
    market = simulate(config.securities, dt.date(2025, 6, 30))       # the demo's default market
    az = Analyzer(PricePanel.from_long(market.prices), config)
    scripted = az.sessions.index(market.script.rotation_start)
    burst_first, burst_last = market.script.acceleration
    episode = az.day(burst_last + dt.timedelta(days=7)).episode
    assert episode is not None and episode.ongoing
    assert abs(az.sessions.index(episode.start) - scripted) <= 3
    assert episode.accelerated_week == (burst_first, burst_last)
    assert {"Information Technology", "Semiconductors"} & {leg.name for leg in episode.out_of}
    assert {"Energy", "Financials", "Industrials", "Small caps"} & {leg.name for leg in episode.into}


def test_episode_durations_count_only_sizeable_episodes_and_each_period_once():
    from kbgen.analytics.baserates import episode_durations
    from kbgen.model import Episode

    sessions = [d.date() for d in pd.bdate_range("2024-01-01", periods=120)]

    def episode(first: int, last: int, size: float) -> Episode:
        return Episode(sessions[first], sessions[last], None, (), (), size, 0.0, ())

    past = (
        episode(0, 20, 0.08),       # counts: 21 sessions
        episode(10, 30, 0.05),      # overlaps the larger one above (the same spell, other side): left out
        episode(40, 42, 0.06),      # 3 sessions: too short
        episode(50, 70, 0.01),      # 1 point: too small
        episode(80, 89, 0.04),      # counts: 10 sessions
    )
    rate = episode_durations(past, None, sessions[-1], sessions, min_cases=2)
    assert (rate.cases, rate.low, rate.high) == (2, 10.0, 21.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 30), st.integers(31, 59))
def test_an_episode_spread_sliced_at_a_session_equals_one_computed_on_rows_up_to_it(seed, base, last):
    """The cached episode path is computed to the panel's end; its slice must not look ahead."""
    from kbgen.analytics.rotation import LegPrices, RotationLeg

    rng = np.random.default_rng(seed)
    adj = pd.DataFrame(100 * np.cumprod(1 + rng.normal(0, 0.02, (60, 5)), axis=0),
                       columns=["A", "B", "C", "D", "SPY"], index=pd.bdate_range("2025-01-02", periods=60))
    adj.iloc[rng.integers(0, 60, 6), rng.integers(0, 4, 6)] = np.nan  # members missing on some sessions
    legs = [RotationLeg("ab", "group", None, ("A", "B")), RotationLeg("c", "group", "C", ("C",)),
            RotationLeg("d", "group", "D", ("D",))]
    full, cut = LegPrices(adj, legs, "SPY"), LegPrices(adj.iloc[: last + 1], legs, "SPY")
    np.testing.assert_array_equal(full.episode_spread(base, last, (0,), (1, 2)), cut.spread(base, last, (0,), (1, 2)))


def scripted_project(folder):
    """A project in `folder` whose store holds the scripted rotation (turns at sessions 150, 185 and
    330 of 400); returns the config and the sessions."""
    from kbgen.config import load_config
    from kbgen.store import Store

    (folder / "kbgen.yml").write_text(CONFIG)
    config = load_config(folder / "kbgen.yml")
    closes, index = scripted_rotation(400, turns=[150, 185, 330])
    with Store(config.store_path) as store:
        store.upsert(frame_from(closes, index), source="csv:scripted")
    return config, [d.date() for d in index]
