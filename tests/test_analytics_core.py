"""Analytics on constructed prices whose answers are known by hand."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbgen.analytics import Analyzer, PricePanel
from kbgen.analytics.movers import ordinal
from kbgen.config import parse_config
from kbgen.model import Catalyst, Leg, Thesis

CONFIG = """
universe:
  sectors:
    Information Technology: {etf: XLK, members: {AAA: Alpha, BBB: Beta, NET: Netco}}
    Industrials: {etf: XLI, members: {DEF: Defco, GAP: Gapco}}
    Energy: {etf: XLE, members: {OIL: Oilco}}
  benchmarks: {SPY: S&P 500 ETF}
  groups:
    Tech pair: [AAA, BBB]
  cross_assets: {WTI-SPOT: WTI spot}
analysis:
  movers: 3
  catalyst_window_sessions: 2
  min_cases: 2
"""


def make_config(text: str = CONFIG):
    return parse_config(text, Path("/tmp/kbgen-test/kbgen.yml"))


def sessions(n: int, start: str = "2025-01-02") -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n)


def long_frame(closes: dict[str, pd.Series], opens: dict[str, pd.Series] | None = None, volume: dict | None = None,
               adj: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """A store-shaped long frame; OHLC = close unless `opens` says otherwise; adj = close by default."""
    parts = []
    for ticker, close in closes.items():
        close = close.dropna()
        frame = pd.DataFrame({"ticker": ticker, "date": close.index, "close": close.to_numpy()})
        frame["open"] = (opens[ticker].reindex(close.index).to_numpy() if opens and ticker in opens else frame["close"])
        frame["high"] = frame[["open", "close"]].max(axis=1)
        frame["low"] = frame[["open", "close"]].min(axis=1)
        frame["adj_close"] = adj[ticker].reindex(close.index).to_numpy() if adj and ticker in adj else frame["close"]
        frame["volume"] = volume[ticker].reindex(close.index).to_numpy() if volume and ticker in volume else 1_000_000.0
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def flat_market(n: int = 30) -> dict[str, pd.Series]:
    """Every universe ticker drifting gently up (alternating steps, so no long streaks)."""
    index = sessions(n)
    wiggle = np.where(np.arange(n) % 2 == 0, 1.002, 0.999).cumprod()
    return {t: pd.Series(100 * wiggle, index=index) for t in ("SPY", "XLK", "XLI", "XLE", "AAA", "BBB", "DEF", "GAP", "OIL", "NET")}


def analyzer(closes, theses=(), catalysts=(), **kwargs) -> Analyzer:
    return Analyzer(PricePanel.from_long(long_frame(closes, **kwargs)), make_config(), theses, catalysts)


def mover(day, ticker):
    return next(m for m in (*day.winners, *day.losers, *day.weekly_winners, *day.weekly_losers) if m.ticker == ticker)


def test_a_streak_of_exactly_seven_declines_is_stated():
    closes = flat_market(30)
    index = closes["AAA"].index
    path = [100.0] * 23 + [99, 98, 97, 96, 95, 94, 88]         # flat then exactly 7 consecutive declines
    closes["AAA"] = pd.Series(path, index=index)
    day = analyzer(closes).day(index[-1].date())
    loser = mover(day, "AAA")
    assert loser.context.streak == -7
    assert "7th straight decline" in loser.facts


def test_record_close_on_the_last_day_and_high_since():
    closes = flat_market(60)
    index = closes["BBB"].index
    values = np.linspace(100, 110, 60)
    values[-1] = 120
    closes["BBB"] = pd.Series(values, index=index)
    # DEF: a high that beats everything since session 10 (more than 20 sessions back)
    def_values = np.full(60, 100.0)
    def_values[10] = 130
    def_values[-1] = 125
    closes["DEF"] = pd.Series(def_values, index=index)
    day = analyzer(closes).day(index[-1].date())
    bbb, deff = mover(day, "BBB"), mover(day, "DEF")
    assert bbb.context.record_high and f"record close in the stored history (from {index[0].date().isoformat()})" in bbb.facts
    assert not deff.context.record_high and deff.context.high_since == index[10].date()
    assert f"highest close since {index[10].date().isoformat()}" in deff.facts


def test_high_since_is_not_reported_when_recent():
    closes = flat_market(60)
    index = closes["DEF"].index
    values = np.full(60, 100.0)
    values[50] = 130   # only 9 sessions back
    values[-1] = 125
    closes["DEF"] = pd.Series(values, index=index)
    assert mover(analyzer(closes).day(index[-1].date()), "DEF").context.high_since is None


def test_a_gap_that_fades():
    closes = flat_market(30)
    index = closes["GAP"].index
    gap_close = closes["GAP"].copy()
    previous = gap_close.iloc[-2]
    gap_close.iloc[-1] = previous * 1.043
    opens = {"GAP": gap_close.copy()}
    opens["GAP"].iloc[-1] = previous * 1.071
    closes["GAP"] = gap_close
    day = analyzer(closes, opens=opens).day(index[-1].date())
    gapper = mover(day, "GAP")
    assert gapper.context.gap == pytest.approx(0.071)
    assert "opened +7.1%, closed +4.3%" in gapper.facts


def test_relative_volume_against_the_previous_twenty_sessions():
    closes = flat_market(30)
    index = closes["OIL"].index
    closes["OIL"] = closes["OIL"].copy()
    closes["OIL"].iloc[-1] *= 1.05
    volume = pd.Series(1000.0, index=index)
    volume.iloc[-1] = 2300.0
    day = analyzer(closes, volume={"OIL": volume}).day(index[-1].date())
    assert mover(day, "OIL").context.relative_volume == pytest.approx(2.3)
    assert "volume 2.3x 20-day average" in mover(day, "OIL").facts


def test_close_only_ticker_gets_no_invented_intraday_numbers():
    closes = flat_market(30)
    closes["NET"] = closes["NET"].copy()
    closes["NET"].iloc[-1] *= 0.9
    frame = long_frame(closes)
    frame.loc[frame.ticker == "NET", ["open", "high", "low", "volume"]] = np.nan
    day = Analyzer(PricePanel.from_long(frame), make_config()).day(closes["NET"].index[-1].date())
    net = mover(day, "NET")
    assert net.context.gap is None and net.context.relative_volume is None
    assert not any("opened" in f or "volume" in f for f in net.facts)


def test_split_sized_jump_in_close_with_smooth_adj_is_not_a_move():
    closes = flat_market(30)
    index = closes["AAA"].index
    adj = closes["AAA"].copy()
    raw = adj.copy()
    raw.iloc[-1] = adj.iloc[-1] / 4          # a 4-for-1 split on the last day
    opens = {"AAA": raw.copy()}
    closes["AAA"] = raw
    day = analyzer(closes, opens=opens, adj={"AAA": adj}).day(index[-1].date())
    assert day.returns["AAA"].get("1D") == pytest.approx(adj.iloc[-1] / adj.iloc[-2] - 1)
    assert all(m.ticker != "AAA" or abs(m.context.gap) < 0.01 for m in (*day.winners, *day.losers))


def test_window_returns_and_excess_by_hand():
    index = sessions(300, "2024-11-01")
    rng = np.random.default_rng(3)
    closes = {t: pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, 300)), index=index) for t in flat_market(1)}
    day = analyzer(closes).day(index[-1].date())
    aaa, spy = closes["AAA"], closes["SPY"]
    assert day.returns["AAA"].get("1W") == pytest.approx(aaa.iloc[-1] / aaa.iloc[-6] - 1)
    assert day.returns["AAA"].get("1Y") == pytest.approx(aaa.iloc[-1] / aaa.iloc[-253] - 1)
    previous_month_end = aaa[aaa.index < index[-1].to_period("M").start_time].iloc[-1]
    assert day.returns["AAA"].get("MTD") == pytest.approx(aaa.iloc[-1] / previous_month_end - 1)
    previous_year_end = aaa[aaa.index.year < index[-1].year].iloc[-1]
    assert day.returns["AAA"].get("YTD") == pytest.approx(aaa.iloc[-1] / previous_year_end - 1)
    xlk = next(s for s in day.sectors if s.etf == "XLK")
    assert xlk.excess.get("1M") == pytest.approx(xlk.returns.get("1M") - day.returns["SPY"].get("1M"))
    assert [s.rank_1d for s in day.sectors] == sorted(s.rank_1d for s in day.sectors)


def test_windows_reaching_before_the_data_are_none():
    closes = flat_market(30)
    day = analyzer(closes).day(closes["SPY"].index[-1].date())
    values = day.returns["AAA"].values
    assert values["1M"] is not None and values["3M"] is None and values["1Y"] is None
    assert values["YTD"] is None  # the data starts in January: no previous year-end


def test_single_row_and_date_before_the_data():
    closes = {t: s.iloc[:1] for t, s in flat_market(5).items()}
    az = analyzer(closes)
    day = az.day(dt.date(2025, 1, 2))
    assert day.previous is None and day.winners == () and day.returns["AAA"].get("1D") is None
    with pytest.raises(ValueError, match="before the first session"):
        az.day(dt.date(2024, 12, 31))


def test_holiday_and_spot_series_follow_the_benchmark_calendar():
    closes = flat_market(10)
    holiday = closes["SPY"].index[4]
    for ticker in closes:
        closes[ticker] = closes[ticker].drop(holiday)
    # a spot series quoted on the holiday and on a Saturday
    spot_index = pd.DatetimeIndex(sorted([*closes["SPY"].index, holiday, pd.Timestamp("2025-01-11")]))
    closes["WTI-SPOT"] = pd.Series(np.arange(len(spot_index), dtype=float) + 70, index=spot_index)
    az = analyzer(closes)
    assert pd.Timestamp(holiday).date() not in az.sessions
    assert az.day(holiday.date()).date == az.sessions[3]       # resolves to the session before
    # the Saturday quote is carried to Monday's session: last value on or before it
    monday = dt.date(2025, 1, 13)
    assert az.day(monday).closes["WTI-SPOT"] == closes["WTI-SPOT"][pd.Timestamp(monday)]


def test_gap_in_a_tickers_history_gives_none_not_a_fake_return():
    closes = flat_market(30)
    closes["OIL"] = closes["OIL"].drop(closes["OIL"].index[-2])
    az = analyzer(closes)
    last = closes["SPY"].index[-1].date()
    assert az.day(last).returns["OIL"].get("1D") is None
    assert az.day(last).returns["OIL"].get("1W") is not None


def test_nan_fields_become_none():
    closes = flat_market(30)
    frame = long_frame(closes)
    frame.loc[frame.ticker == "BBB", "adj_close"] = np.nan   # falls back to close
    frame.loc[frame.ticker == "DEF", "volume"] = np.nan
    panel = PricePanel.from_long(frame)
    assert "BBB" in panel.close_basis
    day = Analyzer(panel, make_config()).day(closes["SPY"].index[-1].date())
    assert day.returns["BBB"].get("1D") is not None
    for value in day.returns["DEF"].values.values():
        assert value is None or not np.isnan(value)


def test_catalysts_link_movers_by_ticker_or_sector_within_the_window():
    closes = flat_market(30)
    index = closes["DEF"].index
    closes["DEF"] = closes["DEF"].copy()
    closes["DEF"].iloc[-1] *= 1.08
    closes["GAP"] = closes["GAP"].copy()
    closes["GAP"].iloc[-1] *= 1.05
    budget = Catalyst("Defense budget", index[-2].date(), tickers=("DEF",))
    policy = Catalyst("Industrial policy", index[-1].date(), sectors=("Industrials",))
    stale = Catalyst("Old news", index[-10].date(), tickers=("DEF",))
    # Names tickers, so it explains those only, not every member of the sector it also lists.
    named = Catalyst("Procurement award", index[-1].date(), tickers=("DEF",), sectors=("Industrials",))
    day = analyzer(closes, catalysts=(budget, policy, stale, named)).day(index[-1].date())
    assert mover(day, "DEF").catalysts == ("Defense budget", "Industrial policy", "Procurement award")
    assert mover(day, "GAP").catalysts == ("Industrial policy",)


def test_thesis_with_a_short_leg():
    closes = flat_market(80)
    index = closes["SPY"].index
    closes["SPY"] = pd.Series(100.0, index=index)
    closes["AAA"] = pd.Series(np.r_[np.full(75, 100.0), [100, 100, 100, 100, 110]], index=index)  # +10% 1W, 3M n/a
    closes["BBB"] = pd.Series(np.r_[np.full(75, 100.0), [100, 100, 100, 100, 95]], index=index)   # -5% 1W
    thesis = Thesis("Pair", (Leg("AAA", 1.0, "long"), Leg("BBB", 1.0, "short")))
    impact = analyzer(closes, theses=(thesis,)).day(index[-1].date()).impacts[0]
    # 1W: (1 * (+10%) + 1 * -(-5%)) / 2 = +7.5%; 3M needs 63 sessions back: 80 rows are enough
    assert impact.short_excess == pytest.approx(0.075)
    assert impact.long_excess == pytest.approx(0.075)
    assert impact.label == "Validating"
    assert impact.drivers[0] == ("AAA", pytest.approx(0.05))
    assert impact.rationale.startswith("1W excess +7.5% vs SPY (AAA +10.0%)")


def test_thesis_with_a_missing_ticker_says_so():
    closes = flat_market(80)
    del closes["OIL"]
    thesis = Thesis("Oil", (Leg("OIL"), Leg("AAA")))
    impact = analyzer(closes, theses=(thesis,)).day(closes["SPY"].index[-1].date()).impacts[0]
    assert "without OIL" in impact.rationale


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (22, "22nd"), (111, "111th"), (101, "101st")])
def test_ordinals(n, text):
    assert ordinal(n) == text


def test_stale_tickers_are_named():
    closes = flat_market(30)
    closes["OIL"] = closes["OIL"].iloc[:-3]
    day = analyzer(closes).day(closes["SPY"].index[-1].date())
    assert day.stale == ("OIL",)


def test_no_look_ahead_day_is_identical_with_or_without_later_rows():
    index = sessions(420, "2024-06-03")
    rng = np.random.default_rng(7)
    closes = {t: pd.Series(100 * np.cumprod(1 + rng.normal(0.0003, 0.012, len(index))), index=index) for t in flat_market(1)}
    opens = {t: s * (1 + rng.normal(0, 0.004, len(index))) for t, s in closes.items()}
    volume = {t: pd.Series(rng.uniform(5e5, 2e6, len(index)), index=index) for t in closes}
    thesis = Thesis("Pair", (Leg("AAA"), Leg("OIL", 0.5, "short")))
    full = analyzer(closes, theses=(thesis,), opens=opens, volume=volume)
    for cut in (250, 333, 401):
        as_of = index[cut].date()
        truncated = analyzer({t: s.iloc[: cut + 1] for t, s in closes.items()}, theses=(thesis,),
                             opens=opens, volume=volume)
        assert full.day(as_of) == truncated.day(as_of), as_of


def test_breadth_counts():
    closes = flat_market(30)
    closes["AAA"] = closes["AAA"].copy()
    closes["AAA"].iloc[-1] *= 1.03
    closes["RSP"] = closes["SPY"] * 1.0
    day = Analyzer(PricePanel.from_long(long_frame(closes)), make_config(CONFIG.replace(
        "benchmarks: {SPY: S&P 500 ETF}", "benchmarks: {SPY: S&P 500 ETF, RSP: Equal weight}")),
    ).day(closes["SPY"].index[-1].date())
    # the last session of flat_market(30) is a down step for every stock but AAA
    assert (day.breadth.advancers, day.breadth.decliners) == (1, 5)
    assert day.breadth.spreads["Equal vs cap weight"].get("1D") == pytest.approx(0.0)
    assert "Small vs large" not in day.breadth.spreads
    assert day.breadth.above_50d is None   # 30 rows: no 50-session average yet


def test_market_day_has_every_field_filled():
    closes = flat_market(30)
    day = analyzer(closes).day(closes["SPY"].index[-1].date())
    assert day.indices == ("SPY",)
    assert {f.name for f in dataclasses.fields(day)} >= {"sectors", "winners", "base_rates", "group_returns"}
    assert day.group_returns["Tech pair"].get("1D") == pytest.approx(
        np.mean([day.returns["AAA"].get("1D"), day.returns["BBB"].get("1D")]))


def test_sector_board_ranks_rank_changes_and_member_breadth():
    closes = flat_market(30)
    index = closes["SPY"].index
    for ticker, moves in {"XLK": (0.02, -0.01), "XLI": (-0.01, 0.03), "XLE": (0.0, 0.01)}.items():
        closes[ticker] = closes[ticker].copy()
        closes[ticker].iloc[-2] *= 1 + moves[0]           # yesterday: XLK best, XLI worst
        closes[ticker].iloc[-1] = closes[ticker].iloc[-2] * (1 + moves[1])   # today: XLI best, XLK worst
    closes["AAA"] = closes["AAA"].copy()
    closes["AAA"].iloc[-1] = closes["AAA"].iloc[-2] * 1.04  # one of three tech members up today,
    closes["NET"] = closes["NET"].copy()
    closes["NET"].iloc[-1] = closes["NET"].iloc[-2]          # one unchanged (not "up"), one down
    day = analyzer(closes).day(index[-1].date())
    board = {s.etf: s for s in day.sectors}
    assert [board[e].rank_1d for e in ("XLI", "XLE", "XLK")] == [1, 2, 3]
    assert (board["XLI"].rank_change_1d, board["XLK"].rank_change_1d) == (2, -2)
    tech = [day.returns[t].get("1D") for t in ("AAA", "BBB", "NET")]
    assert board["XLK"].members_up_share == pytest.approx(1 / 3)
    assert board["XLK"].members_equal_weight_1d == pytest.approx(np.mean(tech))


def test_breadth_shares_new_highs_and_lows_with_a_full_year():
    index = sessions(260)
    up, down = np.linspace(100, 150, 260), np.linspace(150, 100, 260)
    closes = {t: pd.Series(up, index=index) for t in ("SPY", "XLK", "XLI", "XLE", "AAA", "BBB", "DEF", "GAP")}
    closes.update({t: pd.Series(down, index=index) for t in ("OIL", "NET")})
    day = analyzer(closes).day(index[-1].date())
    assert (day.breadth.new_highs, day.breadth.new_lows) == (4, 2)
    assert day.breadth.above_50d == pytest.approx(4 / 6) and day.breadth.above_200d == pytest.approx(4 / 6)
    net = mover(day, "NET")
    assert net.context.record_low and "lowest close in the stored history (from 2025-01-02)" in net.facts


def test_weekly_movers_are_ranked_by_the_weeks_move():
    closes = flat_market(30)
    index = closes["SPY"].index
    closes["BBB"] = closes["BBB"].copy()
    closes["BBB"].iloc[-5:-1] *= 1.10                      # +10% over the week, down a little today
    closes["BBB"].iloc[-1] = closes["BBB"].iloc[-2] * 0.995
    day = analyzer(closes).day(index[-1].date())
    assert day.weekly_winners[0].ticker == "BBB" and day.weekly_winners[0].move == pytest.approx(
        closes["BBB"].iloc[-1] / closes["BBB"].iloc[-6] - 1)
    assert "BBB" not in {m.ticker for m in day.winners}


def test_distance_from_the_52_week_high_needs_a_year_of_history():
    from kbgen.analytics.movers import from_year_high

    index = sessions(300)
    values = np.r_[np.linspace(100, 200, 280), np.full(20, 180.0)]   # peak on session 279, then 10% lower
    adj = pd.DataFrame({"A": values}, index=index)
    distance = from_year_high(adj)["A"]
    assert distance.iloc[:251].isna().all()                 # under 252 sessions: no 52-week high yet
    assert distance.iloc[279] == 0 and distance.iloc[-1] == pytest.approx(-0.1)


def _notable_market(n: int = 30) -> tuple[str, dict[str, pd.Series], dict[str, list[str]]]:
    """Thirty stocks: three +10% winners, three -10% losers, ten on streaks of 5 to 9 sessions below
    their earlier extremes, twelve at record closes after a small move, two doing nothing notable."""
    index = sessions(n)

    def oscillating(length: int) -> list[float]:       # 100/101 ending on 100: no streak, no record
        return [100.0 if (length - 1 - j) % 2 == 0 else 101.0 for j in range(length)]

    def series(prefix: list[float], tail: list[float]) -> pd.Series:
        return pd.Series(prefix + oscillating(n - len(prefix) - len(tail)) + tail, index=index)

    kinds = {"winner": [], "loser": [], "streak": [], "record": [], "quiet": []}
    closes = {}
    for i in range(30):
        ticker = f"S{i:02d}"
        if i < 3:
            kind, close = "winner", series([50.0], [110.0])
        elif i < 6:
            kind, close = "loser", series([150.0], [90.0])
        elif i < 16:
            k, up = 5 + i % 5, i % 2 == 0
            kind, close = "streak", series([150.0, 50.0], [100.0 * (1.005 if up else 0.995) ** s for s in range(1, k + 1)])
        elif i < 28:
            kind, close = "record", series([50.0] if i % 2 else [150.0], [102.0 if i % 2 else 98.0])
        else:
            kind, close = "quiet", series([150.0, 50.0], [])
        kinds[kind].append(ticker)
        closes[ticker] = close
    members = ", ".join(f"{t}: Stock {t}" for t in closes)
    config = f"""
universe:
  sectors:
    Information Technology: {{etf: XLK, members: {{{members}}}}}
  benchmarks: {{SPY: S&P 500 ETF}}
analysis:
  movers: 3
"""
    closes.update({t: series([], []) for t in ("SPY", "XLK")})
    return config, closes, kinds


def test_every_stock_on_a_streak_or_at_a_record_is_notable_streaks_first():
    config, closes, kinds = _notable_market()
    panel = PricePanel.from_long(long_frame(closes))
    day = Analyzer(panel, make_config(config)).day(panel.sessions[-1].date())
    assert [m.ticker for m in day.winners] == kinds["winner"] and [m.ticker for m in day.losers] == kinds["loser"]
    notable = [m.ticker for m in day.notable]
    assert len(notable) == 22
    streak_part, record_part = notable[:10], notable[10:]
    assert set(streak_part) == set(kinds["streak"]) and set(record_part) == set(kinds["record"])
    lengths = [abs(m.context.streak) for m in day.notable[:10]]
    assert lengths == sorted(lengths, reverse=True) and min(lengths) >= 5 and len(set(lengths)) > 1
    assert all(m.context.record_high or m.context.record_low for m in day.notable[10:])
    assert not any(m.context.record_high or m.context.record_low for m in day.notable[:10])
