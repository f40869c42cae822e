"""The Analyzer: every indicator computed once over the whole panel, sliced per session.

All indicators are trailing (rolling windows, cumulative extremes, shifts into the past), so the
values on a session depend only on rows up to it: the MarketDay for D is the same whether or not
later rows exist.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..config import Config
from ..model import (
    WINDOWS, Breadth, Catalyst, MarketDay, Mover, RotationPoint, RotationRow, SectorRow, Thesis, WindowReturns,
)
from . import baserates, breadth, movers, registry, rrg, rotation, sectors, theses
from .panel import PricePanel
from .returns import as_optional, window_returns


NOTABLE_STREAK = 5


class Analyzer:
    def __init__(self, panel: PricePanel, config: Config, theses: tuple[Thesis, ...] = (), catalysts: tuple[Catalyst, ...] = ()):
        self.panel, self.config = panel, config
        self.theses, self.catalysts = tuple(theses), tuple(catalysts)
        analysis = config.analysis
        self.benchmark = analysis.benchmark
        adj = panel.adj
        self._dates = [d.date() for d in panel.sessions]
        self.returns = window_returns(adj)
        self._return_rows = {w: frame.to_numpy() for w, frame in self.returns.items()}
        self.excess = sectors.excess_returns(self.returns, self.benchmark)
        self._excess_rows = {w: frame.to_numpy() for w, frame in self.excess.items()}
        self.has_benchmark = self.benchmark in adj.columns
        self.stocks = [t for t in adj.columns if (s := config.securities.get(t)) is not None and s.kind == "stock"]
        # selected once: a column selection copies the frame, and movers are ranked on every session
        self._stock_moves = {w: self.returns[w][self.stocks] for w in ("1D", "1W")}
        self.etfs = {name: sector.etf for name, sector in config.universe.sectors.items()}
        self._sector_indicators()
        self._stock_indicators()
        self.spreads = breadth.spread_frames(self.returns)
        self.participation = breadth.participation(adj[self.stocks], self.returns["1D"][self.stocks])
        self._rotation_indicators()
        self._base_rate_events()
        self._group_means = self._group_mean_returns()
        self.registered = {a.name: self._run(a) for a in registry.registered()}

    # --- construction ----------------------------------------------------------------------

    def _sector_indicators(self) -> None:
        self.sector_ranks = sectors.sector_ranks(self.excess["1D"], self.etfs)
        self.rank_change_1d = sectors.rank_changes(self.sector_ranks, 1)
        self.rank_change_1w = sectors.rank_changes(self.sector_ranks, 5)
        members = {
            name: [t for t in self.stocks if self.config.securities[t].sector == name] for name in self.etfs
        }
        self.members_mean, self.members_up = sectors.member_breadth(self.returns["1D"], members)

    def _stock_indicators(self) -> None:
        adj = self.panel.adj[self.stocks]
        self.streaks = movers.streaks(adj)
        self.record_high, self.record_low = movers.records(adj)
        self.from_52w_high = movers.from_year_high(adj)
        self.gap = movers.gaps(self.panel.open[self.stocks], self.panel.close[self.stocks], adj)
        self.relative_volume = movers.relative_volume(self.panel.volume[self.stocks])

    def _rotation_indicators(self) -> None:
        adj = self.panel.adj
        etfs = [e for e in self.etfs.values() if e in adj.columns]
        has_benchmark = self.benchmark in adj.columns
        self.rs_ratio, self.rs_momentum = (
            rrg.rotation_frames(adj, etfs, self.benchmark) if has_benchmark and etfs else (None, None)
        )
        legs = rotation.build_legs(self.etfs, self.config.universe.groups, adj.columns)
        self.legs = rotation.LegPrices(adj, legs, self.benchmark)
        analysis = self.config.analysis
        self.lookback, self.recent = analysis.rotation_lookback_sessions, analysis.rotation_recent_sessions
        self.scanned = rotation.scan(self.legs, self.lookback, self.recent)

    def _base_rate_events(self) -> None:
        events = [
            baserates.next_session_after_rsp_beats(self.returns["1D"]),
            baserates.benchmark_after_leadership_flip(
                self.excess[baserates.FLIP_WINDOW], list(self.etfs.values()),
                self.returns["1W"].get(self.benchmark, pd.Series(np.nan, index=self.panel.sessions)), self.benchmark,
            ),
        ]
        self.events = [e for e in events if e is not None]

    def _run(self, analytic: registry.Analytic) -> pd.DataFrame:
        frame = analytic.compute(self.panel, self.config)
        if not frame.index.equals(self.panel.sessions):
            raise ValueError(f"analytic {analytic.name} must return one row per session of the panel")
        return frame

    def _group_mean_returns(self) -> dict[str, dict[str, np.ndarray]]:
        """Per group and window, the mean over members with a value, on every session."""
        out = {}
        for name, members in self.config.universe.groups.items():
            present = [t for t in members if t in self.panel.adj.columns]
            if present:
                out[name] = {w: self.returns[w][present].mean(axis=1).to_numpy() for w in WINDOWS}
        return out

    # --- per day ----------------------------------------------------------------------------

    @property
    def sessions(self) -> list[dt.date]:
        return list(self._dates)

    def position(self, as_of: dt.date) -> int:
        """Index of the last session on or before `as_of`."""
        if not self._dates or as_of < self._dates[0]:
            first = self._dates[0].isoformat() if self._dates else "none"
            raise ValueError(
                f"{as_of.isoformat()} is before the first session in the store ({first}); "
                "pick a later date or fetch older prices"
            )
        return int(np.searchsorted(np.array(self._dates), as_of, side="right")) - 1

    def day(self, as_of: dt.date, stock_context: bool = False) -> MarketDay:
        """The session on or before `as_of`; with `stock_context`, the context facts of every
        stock too (for the stock notes, written once per build)."""
        at = self.position(as_of)
        date = self._dates[at]
        returns = self._all_returns(self._return_rows, at)
        episode, past = rotation.detect_episodes(self.legs, at, self.lookback, self.recent, self.scanned)
        winners, losers = movers.ranked(self._stock_moves["1D"].iloc[at], self.config.analysis.movers)
        weekly_winners, weekly_losers = movers.ranked(self._stock_moves["1W"].iloc[at], self.config.analysis.movers)
        rotation_rows = self._rotation(at)
        date_closes = {t: float(v) for t, v in self.panel.close.iloc[at].items() if not np.isnan(v)}
        return MarketDay(
            date=date,
            previous=self._dates[at - 1] if at > 0 else None,
            returns=returns,
            closes=date_closes,
            indices=self._indices(at),
            sectors=self._sectors(at, {row.sector: row.quadrant for row in rotation_rows}),
            winners=self._movers(winners, "1D", at),
            losers=self._movers(losers, "1D", at),
            weekly_winners=self._movers(weekly_winners, "1W", at),
            weekly_losers=self._movers(weekly_losers, "1W", at),
            breadth=self._breadth(at),
            rotation=rotation_rows,
            episode=episode,
            past_episodes=past,
            impacts=self._impacts(at),
            base_rates=self._base_rates(at, date, episode, past),
            stale=tuple(sorted(t for t, last in self.panel.last_dates.items()
                               if last < date and t in self.config.securities and self.panel.first_dates[t] <= date)),
            group_returns=self._group_returns(at),
            excess=self._all_returns(self._excess_rows, at) if self.has_benchmark else {},
            group_excess=self._group_excess(at) if self.has_benchmark else {},
            close_basis=tuple(t for t in self.panel.close_basis if t in self.config.securities and t in date_closes),
            notable=self._notable(at, {*winners, *losers}),
            stock_context=self._stock_context(at) if stock_context else {},
            analytics=self._registered_at(at),
        )

    def impacts_on(self, as_of: dt.date) -> tuple:
        """The thesis impacts of one session, without the rest of the day (for history tables)."""
        return self._impacts(self.position(as_of))

    def top_movers_on(self, as_of: dt.date) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(ticker, 1D move) of the session's winners and losers, without their context facts."""
        at = self.position(as_of)
        moves = self._stock_moves["1D"].iloc[at]
        winners, losers = movers.ranked(moves, self.config.analysis.movers)
        return [(t, float(moves[t])) for t in winners], [(t, float(moves[t])) for t in losers]

    @staticmethod
    def _window_returns(frames: dict[str, pd.DataFrame], ticker: str, at: int) -> WindowReturns:
        return WindowReturns({w: as_optional(frames[w][ticker].iat[at]) for w in WINDOWS})

    def _indices(self, at: int) -> tuple[str, ...]:
        universe = self.config.universe
        row = self.panel.adj.iloc[at]
        return tuple(t for t in (*universe.benchmarks, *universe.indices) if t in row.index and not np.isnan(row[t]))

    def _sectors(self, at: int, quadrants: dict[str, str]) -> tuple[SectorRow, ...]:
        rows = []
        for name, etf in self.etfs.items():
            rank = as_optional(self.sector_ranks[name].iat[at])
            if etf not in self.panel.adj.columns or rank is None:
                continue
            rows.append(SectorRow(
                sector=name, etf=etf,
                returns=self._window_returns(self.returns, etf, at),
                excess=self._window_returns(self.excess, etf, at),
                rank_1d=int(rank),
                rank_change_1d=_optional_int(self.rank_change_1d[name].iat[at]),
                rank_change_1w=_optional_int(self.rank_change_1w[name].iat[at]),
                members_equal_weight_1d=as_optional(self.members_mean[name].iat[at]),
                members_up_share=as_optional(self.members_up[name].iat[at]),
                quadrant=quadrants.get(name),
            ))
        return tuple(sorted(rows, key=lambda r: (r.rank_1d, r.sector)))

    def _movers(self, tickers: list[str], window: str, at: int) -> tuple[Mover, ...]:
        analysis = self.config.analysis
        window_start = self._dates[max(at - analysis.catalyst_window_sessions, 0)]
        dates = self.panel.sessions[: at + 1]
        out = []
        for ticker in tickers:
            security = self.config.securities[ticker]
            history = self.panel.adj[ticker].to_numpy()[: at + 1]
            context = movers.MoverContext(
                move_1d=as_optional(self.returns["1D"][ticker].iat[at]),
                streak=int(self.streaks[ticker].iat[at]),
                record_high=bool(self.record_high[ticker].iat[at]),
                record_low=bool(self.record_low[ticker].iat[at]),
                high_since=movers.extreme_since(history, dates, high=True),
                low_since=movers.extreme_since(history, dates, high=False),
                gap=as_optional(self.gap[ticker].iat[at]),
                relative_volume=as_optional(self.relative_volume[ticker].iat[at]),
                history_start=self.panel.first_dates.get(ticker),
            )
            out.append(Mover(
                ticker=ticker, name=security.name, sector=security.sector,
                groups=tuple(self.config.groups_of(ticker)),
                move=float(self.returns[window][ticker].iat[at]), context=context,
                catalysts=movers.matching_catalysts(ticker, security.sector, self._dates[at], window_start, self.catalysts),
                facts=movers.facts(context),
                from_52w_high=as_optional(self.from_52w_high[ticker].iat[at]),
            ))
        return tuple(out)

    def _stock_context(self, at: int) -> dict[str, Mover]:
        """Each stock with a move on the session, with its context facts."""
        moving = self._stock_moves["1D"].iloc[at].dropna().index
        return {m.ticker: m for m in self._movers(list(moving), "1D", at)}

    def _notable(self, at: int, shown: set[str]) -> tuple[Mover, ...]:
        """Every stock not among the day's movers that is on a streak of NOTABLE_STREAK sessions or
        more or at a record close (the "7th straight decline" a researcher would mention): those
        on streaks first, then those at record closes, each kind longest streak first."""
        streak = self.streaks[self.stocks].iloc[at]
        record = self.record_high[self.stocks].iloc[at].fillna(False) | self.record_low[self.stocks].iloc[at].fillna(False)
        on_streak = [t for t in self.stocks if t not in shown and not record[t] and abs(streak[t]) >= NOTABLE_STREAK]
        at_record = [t for t in self.stocks if t not in shown and bool(record[t])]
        def longest_first(tickers):
            return sorted(tickers, key=lambda t: (-abs(int(streak[t])), t))
        return self._movers(longest_first(on_streak) + longest_first(at_record), "1D", at)

    def _breadth(self, at: int) -> Breadth:
        row = self.participation.iloc[at]
        return Breadth(
            spreads={label: WindowReturns({w: as_optional(s.iat[at]) for w, s in by_window.items()})
                     for label, by_window in self.spreads.items()},
            above_50d=as_optional(row["above_50d"]),
            above_200d=as_optional(row["above_200d"]),
            new_highs=int(row["new_highs"]), new_lows=int(row["new_lows"]),
            advancers=int(row["advancers"]), decliners=int(row["decliners"]),
        )

    def _rotation(self, at: int) -> tuple[RotationRow, ...]:
        if self.rs_ratio is None:
            return ()
        tail_at = rrg.tail_positions(self.panel.sessions, at)
        rows = []
        for name, etf in self.etfs.items():
            if etf not in self.rs_ratio.columns:
                continue
            ratio, momentum = self.rs_ratio[etf].to_numpy(), self.rs_momentum[etf].to_numpy()
            if np.isnan(ratio[at]) or np.isnan(momentum[at]):
                continue
            tail = tuple(
                RotationPoint(self._dates[p], float(ratio[p]), float(momentum[p]))
                for p in tail_at if not (np.isnan(ratio[p]) or np.isnan(momentum[p]))
            )
            rows.append(RotationRow(name, etf, float(ratio[at]), float(momentum[at]),
                                    rrg.quadrant(ratio[at], momentum[at]), tail))
        return tuple(rows)

    def _impacts(self, at: int) -> tuple:
        thresholds = self.config.analysis.thresholds
        windows = {w: self.returns[w].iloc[at] for w in (thresholds.short_window, thresholds.long_window)}
        return tuple(theses.impact(t, windows, thresholds) for t in self.theses)

    def _base_rates(self, at: int, date: dt.date, episode, past) -> tuple:
        min_cases = self.config.analysis.min_cases
        durations = baserates.episode_durations(past, episode, date, self._dates[: at + 1], min_cases)
        return (durations, *(e.at(at, min_cases) for e in self.events))

    def _registered_at(self, at: int) -> dict[str, dict[str, float | None]]:
        """Each registered analytic's row for the session."""
        return {name: {str(column): as_optional(value) for column, value in frame.iloc[at].items()}
                for name, frame in self.registered.items()}

    def _all_returns(self, frames: dict[str, np.ndarray], at: int) -> dict[str, WindowReturns]:
        """Every ticker's window returns (or excess returns) on the session."""
        rows = {w: values[at] for w, values in frames.items()}
        return {t: WindowReturns({w: as_optional(rows[w][i]) for w in WINDOWS}) for i, t in enumerate(self.panel.tickers)}

    def _group_excess(self, at: int) -> dict[str, WindowReturns]:
        """Each group basket's return minus the benchmark's."""
        bench = {w: self._return_rows[w][at][self.panel.tickers.index(self.benchmark)] for w in WINDOWS}
        return {name: WindowReturns({w: as_optional(means[w][at] - bench[w]) for w in WINDOWS})
                for name, means in self._group_means.items()}

    def _group_returns(self, at: int) -> dict[str, WindowReturns]:
        """Equal-weight mean of the members' window returns (members with a value)."""
        return {name: WindowReturns({w: as_optional(means[w][at]) for w in WINDOWS})
                for name, means in self._group_means.items()}


def _optional_int(value) -> int | None:
    value = as_optional(value)
    return None if value is None else int(value)
