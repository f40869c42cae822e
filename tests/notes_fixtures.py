"""Hand-built MarketDay objects and contexts for the note, render and chart tests.

The story: a rotation out of mega-cap tech into defense and small caps that began on 2025-12-22
and accelerated in the first week of January 2026, seen at the 2026-01-08 close.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import yaml

from kbgen.analytics.rotation import side_mean
from kbgen.config import Config, parse_config
from kbgen.model import (
    BaseRate, Breadth, Catalyst, Episode, FlowLeg, Leg, MarketDay, Mover, MoverContext, RotationPoint, RotationRow,
    SectorRow, Thesis, ThesisImpact, WindowReturns,
)
from kbgen.notes import NoteContext

D = dt.date
AS_OF = D(2026, 1, 8)
SESSIONS = (D(2025, 12, 22), D(2025, 12, 23), D(2025, 12, 24), D(2025, 12, 26), D(2025, 12, 29),
            D(2025, 12, 30), D(2025, 12, 31), D(2026, 1, 2), D(2026, 1, 5), D(2026, 1, 6),
            D(2026, 1, 7), D(2026, 1, 8), D(2026, 1, 9))

NAMES = {"AAPL": "Apple", "NVDA": "NVIDIA", "ORCL": "Oracle", "NET": "Cloudflare", "NOC": "Northrop Grumman",
         "LMT": "Lockheed Martin", "GD": "General Dynamics", "XOM": "ExxonMobil"}


def make_config(root: Path, names: dict[str, str] | None = None, templates: str | None = None) -> Config:
    """The fixture universe; `names` overrides company names (ticker -> name)."""
    name = {**NAMES, **(names or {})}
    data = {
        "universe": {
            "sectors": {
                "Information Technology": {"etf": "XLK", "members": {t: name[t] for t in ("AAPL", "NVDA", "ORCL", "NET")}},
                "Industrials": {"etf": "XLI", "members": {t: name[t] for t in ("NOC", "LMT", "GD")}},
                "Energy": {"etf": "XLE", "members": {"XOM": name["XOM"]}},
            },
            "benchmarks": {"SPY": "S&P 500 ETF", "QQQ": "Nasdaq-100 ETF", "IWM": "Russell 2000 ETF",
                           "RSP": "S&P 500 Equal Weight ETF"},
            "indices": {"^GSPC": "S&P 500"},
            "groups": {"Magnificent 7": ["AAPL", "NVDA"], "Defense primes": ["LMT", "NOC", "GD"], "Small caps": ["IWM"]},
            "cross_assets": {"GC=F": "Gold", "^TNX": "10-year Treasury yield"},
        },
        "analysis": {"movers": 3},           # the hand-built day has three winners and three losers
    }
    if templates:
        data["paths"] = {"templates": templates}
    return parse_config(yaml.safe_dump(data, sort_keys=False), root / "kbgen.yml")


def wr(d1=None, w1=None, mtd=None, m1=None, m3=None, ytd=None, y1=None) -> WindowReturns:
    return WindowReturns({"1D": d1, "1W": w1, "MTD": mtd, "1M": m1, "3M": m3, "YTD": ytd, "1Y": y1})


RETURNS = {
    "SPY": wr(0.002, 0.011, 0.013, 0.018, 0.041, 0.013, 0.162),
    "QQQ": wr(-0.011, -0.006, -0.004, 0.002, 0.035, -0.004, 0.201),
    "IWM": wr(0.027, 0.048, 0.051, 0.063, 0.052, 0.051, 0.118),
    "RSP": wr(0.009, 0.021, 0.024, 0.031, 0.038, 0.024, 0.104),
    "^GSPC": wr(0.0021, 0.0108, 0.0131, 0.0177, 0.0405, 0.0131, 0.1598),
    "XLK": wr(-0.016, -0.021, -0.019, -0.012, 0.031, -0.019, 0.221),
    "XLI": wr(0.024, 0.041, 0.044, 0.052, 0.048, 0.044, 0.153),
    "XLE": wr(0.004, 0.009, 0.012, 0.004, -0.021, 0.012, 0.021),
    "AAPL": wr(-0.012, -0.043, -0.051, -0.062, -0.015, -0.051, 0.081),
    "NVDA": wr(-0.021, -0.034, -0.031, -0.022, 0.064, -0.031, 0.352),
    "ORCL": wr(-0.019, -0.027, -0.022, -0.041, -0.102, -0.022, 0.291),
    "NET": wr(-0.052, -0.061, -0.058, -0.049, 0.012, -0.058, 0.412),
    "NOC": wr(0.083, 0.102, 0.109, 0.121, 0.094, 0.109, 0.187),
    "LMT": wr(0.079, 0.095, 0.101, 0.108, 0.071, 0.101, 0.143),
    "GD": wr(0.061, 0.072, 0.075, 0.081, 0.052, 0.075, 0.121),
    "XOM": wr(0.003, 0.011, 0.014, 0.009, -0.012, 0.014, 0.031),
    "GC=F": wr(0.006, 0.014, 0.019, 0.041, 0.092, 0.019, 0.311),
    "^TNX": wr(-0.004, 0.012, 0.015, 0.021, -0.031, 0.015, -0.051),
}
CLOSES = {t: 100.0 + 7 * i for i, t in enumerate(RETURNS)}


GROUP_RETURNS = {"Magnificent 7": wr(-0.016, -0.038, -0.041, -0.042, 0.024, -0.041, 0.21),
                 "Defense primes": wr(0.074, 0.09, 0.095, 0.103, 0.072, 0.095, 0.15),
                 "Small caps": RETURNS["IWM"]}


def minus_spy(returns: WindowReturns) -> WindowReturns:
    spy = RETURNS["SPY"].values
    return WindowReturns({w: v - spy[w] for w, v in returns.values.items()})


def excess(ticker: str) -> WindowReturns:
    return minus_spy(RETURNS[ticker])


def mover(ticker, name, sector, groups, move, streak=1, facts=(), catalysts=(), **context) -> Mover:
    numbers = dict(move_1d=move, streak=streak, record_high=False, record_low=False, high_since=None, low_since=None,
                   gap=None, relative_volume=None)
    numbers.update(context)
    return Mover(ticker=ticker, name=name, sector=sector, groups=groups, move=move, context=MoverContext(**numbers),
                 catalysts=catalysts, facts=facts)


def tail(*points) -> tuple[RotationPoint, ...]:
    weeks = (D(2025, 12, 12), D(2025, 12, 19), D(2025, 12, 26), D(2026, 1, 2), AS_OF)
    return tuple(RotationPoint(d, x, y) for d, (x, y) in zip(weeks, points))


def make_episode(end: dt.date | None = None) -> Episode:
    out_of = (FlowLeg(name="Magnificent 7", kind="group", ticker=None, excess=-0.052),
              FlowLeg(name="Information Technology", kind="sector", ticker="XLK", excess=-0.031))
    into = (FlowLeg(name="Defense primes", kind="group", ticker=None, excess=0.091), FlowLeg(name="Small caps", kind="group", ticker=None, excess=0.037),
            FlowLeg(name="Industrials", kind="sector", ticker="XLI", excess=0.030))
    size = side_mean(into) - side_mean(out_of)      # +9.4 pts: the spread is the table's difference
    spread = tuple((d, v) for d, v in zip(SESSIONS[:12], (0.0, 0.004, 0.006, 0.011, 0.013, 0.017, 0.021,
                                                         0.042, 0.061, 0.070, 0.081, size)))
    return Episode(
        start=D(2025, 12, 22), end=end, accelerated_week=(D(2025, 12, 31), D(2026, 1, 7)),
        out_of=out_of, into=into, size=size, rank_correlation=-0.62, spread=spread)


def make_day(episode: bool = True) -> MarketDay:
    sectors = (
        SectorRow(sector="Industrials", etf="XLI", returns=RETURNS["XLI"], excess=excess("XLI"),
                  rank_1d=1, rank_change_1d=2, rank_change_1w=3,
                  members_equal_weight_1d=0.074, members_up_share=1.0, quadrant="Leading"),
        SectorRow(sector="Energy", etf="XLE", returns=RETURNS["XLE"], excess=excess("XLE"),
                  rank_1d=2, rank_change_1d=-1, rank_change_1w=0,
                  members_equal_weight_1d=0.003, members_up_share=1.0, quadrant="Improving"),
        SectorRow(sector="Information Technology", etf="XLK", returns=RETURNS["XLK"], excess=excess("XLK"),
                  rank_1d=3, rank_change_1d=-1, rank_change_1w=-3,
                  members_equal_weight_1d=-0.026, members_up_share=0.0, quadrant="Weakening"),
    )
    winners = (
        mover("NOC", "Northrop Grumman", "Industrials", ("Defense primes",), 0.083, 3,
              ("3rd straight gain", "record close", "opened +9.2%, closed +8.3%", "volume 3.1x 20-day average"),
              ("Trump defense budget",), record_high=True, gap=0.092, relative_volume=3.1),
        mover("LMT", "Lockheed Martin", "Industrials", ("Defense primes",), 0.079, 2, ("2nd straight gain",),
              ("Trump defense budget",)),
        mover("GD", "General Dynamics", "Industrials", ("Defense primes",), 0.061, 1, (), ("Trump defense budget",)),
    )
    losers = (
        mover("NET", "Cloudflare", "Information Technology", (), -0.052, -2, ("2nd straight decline",)),
        mover("NVDA", "NVIDIA", "Information Technology", ("Magnificent 7",), -0.021, -4, ("4th straight decline",)),
        mover("AAPL", "Apple", "Information Technology", ("Magnificent 7",), -0.012, -7,
              ("7th straight decline", "lowest close since 2025-09-12"), low_since=D(2025, 9, 12)),
    )
    weekly_winners = tuple(replace(m, move=RETURNS[m.ticker].get("1W")) for m in winners)
    weekly_losers = tuple(sorted((replace(m, move=RETURNS[m.ticker].get("1W")) for m in losers), key=lambda m: m.move))
    rotation = (
        RotationRow(sector="Industrials", etf="XLI", rs_ratio=103.1, rs_momentum=102.4, quadrant="Leading", tail=tail((99.1, 98.7), (99.8, 100.4), (101.0, 101.6), (102.2, 102.3), (103.1, 102.4))),
        RotationRow(sector="Energy", etf="XLE", rs_ratio=98.6, rs_momentum=100.9, quadrant="Improving", tail=tail((97.9, 99.2), (98.0, 99.8), (98.2, 100.3), (98.4, 100.6), (98.6, 100.9))),
        RotationRow(sector="Information Technology", etf="XLK", rs_ratio=101.2, rs_momentum=97.6, quadrant="Weakening", tail=tail((104.0, 101.1), (103.6, 100.2), (102.8, 99.1), (102.0, 98.2), (101.2, 97.6))),
    )
    spreads = {"Equal vs cap weight": excess("RSP"), "Small vs large": excess("IWM"), "Nasdaq vs S&P": excess("QQQ")}
    impacts = (
        ThesisImpact(thesis="Long NVIDIA", label="Near-term pressure", short_window="1W", short_excess=-0.045,
                     long_window="3M", long_excess=0.023, rationale="1W excess -4.5% vs SPY (NVDA -3.4%); 3M excess +2.3%", drivers=(("NVDA", -0.045),)),
        ThesisImpact(thesis="Long defense AI", label="Validating", short_window="1W", short_excess=0.077,
                     long_window="3M", long_excess=0.031, rationale="1W excess +7.7% vs SPY (NOC +10.2%, LMT +9.5%); 3M excess +3.1%",
                     drivers=(("NOC", 0.031), ("LMT", 0.028))),
    )
    base_rates = (
        BaseRate(question="Past rotation episodes lasted (sessions)", cases=3, hits=None, rate=None,
                 median=18.0, low=9.0, high=41.0),
        BaseRate(question="QQQ rose the next session after RSP beat SPY by over 1%", cases=12, hits=7, rate=7 / 12),
        BaseRate(question="SPY rose over the next week after a sector leadership flip", cases=2, hits=None, rate=None),
    )
    return MarketDay(
        date=AS_OF, previous=D(2026, 1, 7), returns=RETURNS, closes=CLOSES, indices=("^GSPC", "SPY", "QQQ", "IWM", "RSP"),
        sectors=sectors, winners=winners, losers=losers, weekly_winners=weekly_winners, weekly_losers=weekly_losers,
        breadth=Breadth(spreads=spreads, above_50d=0.58, above_200d=0.71, new_highs=4, new_lows=1, advancers=7, decliners=5),
        rotation=rotation,
        episode=make_episode() if episode else None, past_episodes=(), impacts=impacts, base_rates=base_rates,
        stale=("XOM",), group_returns=GROUP_RETURNS,
        excess={t: excess(t) for t in RETURNS}, group_excess={g: minus_spy(r) for g, r in GROUP_RETURNS.items()},
        analytics={"sector_year_highs": {"Industrials": 0.5, "Energy": 0.0, "Information Technology": None}},
    )


THESES = (
    Thesis("Long NVIDIA", (Leg("NVDA"),)),
    Thesis("Long defense AI", (Leg("LMT", 0.3), Leg("NOC", 0.3), Leg("GD", 0.2), Leg("QQQ", 0.2, "short"))),
)
CATALYSTS = (Catalyst("Trump defense budget", D(2026, 1, 7), ("LMT", "NOC", "GD"), ("Industrials",)),)


def make_context(config: Config, daily_dates=SESSIONS[:12], simulated: bool = False, **overrides) -> NoteContext:
    earlier = ThesisImpact(thesis="Long NVIDIA", label="Mixed", short_window="1W", short_excess=-0.004, long_window="3M",
                           long_excess=0.041, rationale="1W excess -0.4% vs SPY; 3M excess +4.1%", drivers=())
    values = dict(
        config=config, theses=THESES, catalysts=CATALYSTS, daily_dates=tuple(daily_dates),
        impact_history={"Long NVIDIA": ((D(2026, 1, 6), earlier), (D(2026, 1, 7), earlier))},
        mover_history={"NOC": ((D(2026, 1, 7), "winner", 0.021),), "AAPL": ((D(2026, 1, 5), "loser", -0.018),)},
        source="demo" if simulated else "csv", simulated=simulated, version="0.1.0",
        tickers_with_data=frozenset(RETURNS),
    )
    values.update(overrides)
    return NoteContext(**values)
