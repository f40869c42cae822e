"""Charts for the notes as deterministic SVG (matplotlib, no pyplot state).

Every chart is drawn on an opaque light card so it reads the same on Obsidian's light and dark
themes and on the site in either mode. The same input always gives the same bytes: the SVG hash
salt is fixed, the date metadata is dropped, and fonts and sizes are set here rather than taken
from the user's matplotlibrc.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io

import matplotlib

matplotlib.use("Agg")
from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import __version__  # noqa: E402
from .model import Episode, RotationRow, SectorRow  # noqa: E402

CARD = "#f6f5f1"
INK = "#23262b"
GRID = "#d6d3cc"
UP = "#2f8f5b"
DOWN = "#c2493d"
ACCENT = "#3b6fb6"
QUADRANT_COLOURS = {"Leading": "#dcefe2", "Weakening": "#f6ecd2", "Lagging": "#f5dcd9", "Improving": "#dde6f4"}
SERIES = ("#3b6fb6", "#c2493d", "#2f8f5b", "#8a5cb8", "#d08a24", "#2a9aa6", "#9b6b43", "#c35a8f",
          "#5f7d2a", "#6b6f78", "#1f5d8c")

_RC = {
    "svg.hashsalt": "kbgen",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "axes.titleweight": "bold",
    "path.simplify": False,
}


def fingerprint(kind: str, *inputs) -> str:
    """What a chart is drawn from, as a short digest: the same digest means the same bytes, so a
    file drawn from it need not be drawn again. The kbgen and matplotlib versions are part of it,
    since either can change the drawing."""
    text = repr((kind, inputs, __version__, matplotlib.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, facecolor=CARD, bbox_inches=None)
    return buffer.getvalue()


def _card(width: float, height: float, left: float, bottom: float) -> tuple[Figure, object]:
    """A figure with fixed margins (in inches): tight_layout measured every label and cost half the drawing time."""
    figure = Figure(figsize=(width, height), dpi=100, facecolor=CARD)
    figure.subplots_adjust(left=left / width, right=1 - 0.25 / width, bottom=bottom / height, top=1 - 0.4 / height)
    axes = figure.add_subplot()
    axes.set_facecolor(CARD)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def sector_performance_chart(sectors: tuple[SectorRow, ...], date: dt.date, benchmark: str,
                             benchmark_return: float | None) -> bytes:
    """Horizontal bars of each sector ETF's 1D return (adjusted close to close), best on top."""
    rows = sorted((s for s in sectors if s.returns.get("1D") is not None),
                  key=lambda s: s.returns.get("1D"))
    with rc_context(_RC):
        figure, axes = _card(7.2, 0.32 * max(len(rows), 3) + 1.3, left=2.2, bottom=0.55)
        values = [s.returns.get("1D") * 100 for s in rows]
        labels = [f"{s.sector} ({s.etf})" for s in rows]
        axes.barh(labels, values, color=[UP if v >= 0 else DOWN for v in values], height=0.65)
        axes.axvline(0, color=INK, linewidth=0.8)
        if benchmark_return is not None:
            axes.axvline(benchmark_return * 100, color=ACCENT, linestyle="--", linewidth=1.2,
                         label=f"{benchmark} {benchmark_return * 100:+.2f}%")
            axes.legend(loc="lower right", frameon=False)
        for y, value in enumerate(values):
            axes.annotate(f"{value:+.2f}%", (value, y), xytext=(4 if value >= 0 else -4, 0),
                          textcoords="offset points", va="center", ha="left" if value >= 0 else "right")
        axes.margins(x=0.18)
        axes.grid(axis="x", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_xlabel("1D return, % (adjusted close to close)")
        axes.set_title(f"Sector ETFs on {date.isoformat()}", loc="left", y=1.0)
        return _svg(figure)


def rotation_chart(rows: tuple[RotationRow, ...], title: str) -> bytes:
    """Relative rotation graph: RS-Ratio (x) vs RS-Momentum (y), 100 = in line with the benchmark.

    Quadrants: Leading (both above 100), Weakening (ratio above, momentum below), Lagging (both
    below), Improving (ratio below, momentum above). Each sector has its weekly tail, head marked.
    """
    with rc_context(_RC):
        figure, axes = _card(7.2, 6.2, left=0.7, bottom=0.55)
        points = [(p.rs_ratio, p.rs_momentum) for r in rows for p in (*r.tail, r)]
        span = max([abs(x - 100) for x, _ in points] + [abs(y - 100) for _, y in points] + [1.0]) * 1.15
        low, high = 100 - span, 100 + span
        for name, (x0, y0) in {"Leading": (100, 100), "Weakening": (100, low),
                               "Lagging": (low, low), "Improving": (low, 100)}.items():
            axes.fill_between([x0, x0 + span], y0, y0 + span, color=QUADRANT_COLOURS[name], zorder=0)
            axes.text(x0 + span * (0.97 if x0 == 100 else 0.03), y0 + span * (0.95 if y0 == 100 else 0.05),
                      name, ha="right" if x0 == 100 else "left", va="top" if y0 == 100 else "bottom",
                      fontsize=11, fontweight="bold", color="#55585e")
        axes.axhline(100, color=INK, linewidth=0.7)
        axes.axvline(100, color=INK, linewidth=0.7)
        for index, row in enumerate(rows):
            colour = SERIES[index % len(SERIES)]
            xs = [p.rs_ratio for p in row.tail] or [row.rs_ratio]
            ys = [p.rs_momentum for p in row.tail] or [row.rs_momentum]
            axes.plot(xs, ys, color=colour, linewidth=1.2, marker="o", markersize=2.5, alpha=0.85)
            axes.plot([row.rs_ratio], [row.rs_momentum], marker="o", markersize=6, color=colour)
            axes.annotate(row.etf, (row.rs_ratio, row.rs_momentum), xytext=(5, 4),
                          textcoords="offset points", fontsize=8, fontweight="bold", color=colour)
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
        axes.set_xlabel("RS-Ratio (relative strength trend)")
        axes.set_ylabel("RS-Momentum")
        axes.set_title(title, loc="left", y=1.0)
        return _svg(figure)


def spread_chart(episode: Episode, title: str) -> bytes:
    """The into-minus-out-of spread measured from the start close, with the start, the fastest week and the end."""
    with rc_context(_RC):
        figure, axes = _card(7.2, 3.4, left=0.7, bottom=0.8)
        dates = [d for d, _ in episode.spread]
        values = [v * 100 for _, v in episode.spread]
        if episode.accelerated_week:
            first, last = episode.accelerated_week
            axes.axvspan(first, last, color=QUADRANT_COLOURS["Weakening"], label="fastest week")
        axes.plot(dates, values, color=ACCENT, linewidth=1.8, label="into minus out of")
        axes.axvline(episode.start, color=UP, linestyle="--", linewidth=1, label=f"start {episode.start}")
        if episode.end:
            axes.axvline(episode.end, color=DOWN, linestyle="--", linewidth=1, label=f"end {episode.end}")
        axes.grid(color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_ylabel("spread since the start close, pts")
        axes.legend(loc="upper left", frameon=False, fontsize=8)
        axes.set_title(title, loc="left", y=1.0)
        figure.autofmt_xdate()
        return _svg(figure)
