"""The daily note's groups board: each configured basket's move and excess, and what its members did."""
from __future__ import annotations

from dataclasses import dataclass

from ..common import Ref
from ..lines import returns_by_window
from ..registry import PartInput, part

GROUP_WINDOWS = ("1D", "1W")


@dataclass(frozen=True)
class MemberMove:
    stock: Ref                         # labelled by ticker
    move: float | None                 # 1D return; None: no price for the session


@dataclass(frozen=True)
class GroupsBoardRow:
    group: Ref
    returns: dict[str, float | None]   # the equal-weight basket's return per window
    excess_1d: float | None            # basket minus benchmark
    excess_1w: float | None
    members: tuple[MemberMove, ...]    # every member, led by the moves in the basket's direction
    fell: int                          # members with a 1D move below zero
    priced: int                        # members with a 1D move


@dataclass(frozen=True)
class GroupsBoard:
    rows: tuple[GroupsBoardRow, ...]   # best 1D excess first
    windows: tuple[str, ...]
    definitions: str


@part("groups_board", notes={"daily"}, order=28, block="groups")
def groups_board(inputs: PartInput) -> GroupsBoard | None:
    groups = inputs.ctx.config.universe.groups
    rows = [group_row(name, tickers, inputs) for name, tickers in groups.items() if name in inputs.day.group_returns]
    if not rows:
        return None  # no configured group has prices
    rows.sort(key=lambda r: (r.excess_1d is None, -(r.excess_1d or 0.0), r.group.label))
    benchmark = inputs.ctx.config.analysis.benchmark
    definitions = (f"Equal-weight baskets of each group's members; excess = basket return minus {benchmark} "
                   "over the same window; members by 1D move, those moving with the basket first")
    return GroupsBoard(tuple(rows), GROUP_WINDOWS, definitions)


def group_row(name: str, tickers: list[str], inputs: PartInput) -> GroupsBoardRow:
    day = inputs.day
    basket = returns_by_window(day.group_returns[name])
    excess = day.group_excess.get(name)
    moves = [MemberMove(inputs.ix.ticker(t, label="ticker"), day.returns[t].get("1D") if t in day.returns else None)
             for t in tickers]
    priced = [m.move for m in moves if m.move is not None]
    return GroupsBoardRow(
        group=inputs.ix.group(name), returns=basket,
        excess_1d=excess.get("1D") if excess else None, excess_1w=excess.get("1W") if excess else None,
        members=tuple(sorted(moves, key=member_order(basket.get("1D")))),
        fell=sum(1 for m in priced if m < 0), priced=len(priced),
    )


def member_order(basket_move: float | None):
    """Sort key: the members that drove the basket lead (worst first on a down day, best first
    otherwise); members without a move come last."""
    direction = -1.0 if basket_move is not None and basket_move < 0 else 1.0
    return lambda m: (m.move is None, -direction * (m.move or 0.0), m.stock.label)
