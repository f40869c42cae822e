"""Charts: deterministic SVG bytes, valid XML, the labels a reader needs."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from kbgen.charts import rotation_chart, sector_performance_chart, spread_chart
from notes_fixtures import AS_OF, make_day


def _all_charts(day):
    return [
        sector_performance_chart(day.sectors, AS_OF, "SPY", 0.002),
        rotation_chart(day.rotation, "Relative rotation"),
        spread_chart(day.episode, "Spread"),
    ]


def test_same_input_gives_same_bytes():
    first, second = _all_charts(make_day()), _all_charts(make_day())
    assert first == second


def test_svgs_parse_and_carry_no_date():
    for data in _all_charts(make_day()):
        ET.fromstring(data)
        assert b"<dc:date>" not in data


def test_rotation_chart_labels_quadrants_and_sectors():
    svg = rotation_chart(make_day().rotation, "Relative rotation").decode()
    for label in ("Leading", "Weakening", "Lagging", "Improving", "XLI", "XLE", "XLK", "RS-Ratio"):
        assert label in svg


def test_data_changes_the_chart():
    day = make_day()
    moved = replace(day.sectors[0], returns=replace(day.sectors[0].returns, values={**day.sectors[0].returns.values, "1D": 0.05}))
    assert sector_performance_chart(day.sectors, AS_OF, "SPY", 0.002) != sector_performance_chart((moved, *day.sectors[1:]), AS_OF, "SPY", 0.002)


def test_spread_chart_marks_an_ended_episode():
    day = make_day()
    ended = replace(day.episode, end=AS_OF)
    assert "end 2026-01-08" in spread_chart(ended, "Spread").decode()
    assert "end 2026-01-08" not in spread_chart(day.episode, "Spread").decode()
