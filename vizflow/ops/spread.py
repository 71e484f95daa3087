"""``spread_decomposition``: where the cost of a trade goes, effective = realized + impact."""

from __future__ import annotations

import numbers
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

import numpy as np
import polars as pl

from vizflow._grouping import by_group_runs
from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.kernels.spread import spread_measures_nb
from vizflow.ops._horizons import parse_horizons
from vizflow.ops.forward import Finish, forward_levels, horizon_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from vizflow._typing import FrameT
    from vizflow.market import Market

__all__ = ["spread_decomposition"]

_SPREAD = "_vf_spread_quoted"  # the quotes' A - B, read by the lookup
_RUN = 1 << 16  # rows per run of the compiled pass (runs are grouped into threads)
_DIRECTIONS = (-1.0, 0.0, 1.0)


def _as_list(horizons: Sequence[float | str] | float | str) -> list[float | str]:
    if isinstance(horizons, str) or not hasattr(horizons, "__iter__"):  # numpy scalars too
        one: Any = horizons
        return [one]
    return list(cast("Sequence[float | str]", horizons))


def _is_zero(horizon: float | str) -> bool:
    return isinstance(horizon, numbers.Real) and not isinstance(horizon, bool) and horizon == 0


def _bad_side(side: pl.Series, column: str) -> DataError:
    """Return the error for a side value other than -1, 0, 1 or null (naming the first and the count)."""
    values = side.cast(pl.Float64)
    bad = values.is_not_null() & ~values.is_in(_DIRECTIONS)
    first = side.filter(bad)[0]
    msg = (
        f"spread_decomposition: side column {column!r} holds {first!r} ({bad.sum()} rows); "
        "expected +1 (buyer-initiated), -1 (seller-initiated), or 0 / null (no direction: "
        "null spreads)"
    )
    return DataError(msg)


def _read_only(values: NDArray[Any]) -> NDArray[Any]:
    """Return ``values`` read-only (one compiled specialisation, whether or not Polars copied)."""
    values.flags.writeable = False
    return values


def _sides(side: pl.Series) -> NDArray[Any]:
    """Return the sides, null as 0: Int8 as it is (no copy without nulls), others as float64."""
    if side.dtype == pl.Int8:
        return _read_only(side.fill_null(0).to_numpy())
    return _read_only(side.cast(pl.Float64).fill_null(0.0).to_numpy())


class _Layout(NamedTuple):
    """The rows of the output block: the lookup's levels first, where the measures made of them go."""

    names: tuple[str, ...]  # the block's rows in order
    columns: tuple[str, ...]  # the same names in the output's order
    rows: NDArray[np.int64]  # effective, quoted (-1: none), effective_hs (-1: none)
    realized: NDArray[np.int64]  # [plain, _hs] x horizon
    impact: NDArray[np.int64]  # [plain, _hs] x horizon
    at_t: NDArray[np.bool_]  # a horizon of 0: M_{t+h} is M_t


def _layout(values: list[float | str], *, quoted: bool) -> _Layout:
    """Lay out the block: ``M_t`` (effective), ``S_t`` (quoted), later ``M_{t+h}`` (realized), the rest."""
    names: list[str] = []
    at_t = np.array([_is_zero(h) for h in values], dtype=np.bool_)
    realized = np.full((2, len(values)), -1, np.int64)
    impact = np.full((2, len(values)), -1, np.int64)

    def row(name: str) -> int:
        names.append(name)
        return len(names) - 1

    effective, quoted_row = row("effective_spread"), row("quoted_spread") if quoted else -1
    for k in [*np.flatnonzero(~at_t), *np.flatnonzero(at_t)]:  # the later horizons' levels first
        realized[0, k] = row(horizon_name(values[k], "realized_spread_"))
    for k, h in enumerate(values):
        impact[0, k] = row(horizon_name(h, "price_impact_"))
    effective_hs = -1
    if quoted:
        effective_hs = row("effective_spread_hs")
        for k, h in enumerate(values):
            realized[1, k] = row(horizon_name(h, "realized_spread_") + "_hs")
            impact[1, k] = row(horizon_name(h, "price_impact_") + "_hs")
    rows = np.array([effective, quoted_row, effective_hs], dtype=np.int64)
    # The output's order: [quoted], effective, each horizon's realized and impact, then the _hs ones.
    pairs = np.stack([realized, impact], axis=2)  # [plain, _hs] x horizon x (realized, impact)
    order = [effective, *pairs[0].ravel()]
    if quoted:
        order = [quoted_row, *order, effective_hs, *pairs[1].ravel()]
    return _Layout(tuple(names), tuple(names[r] for r in order), rows, realized, impact, at_t)


def _measures(
    df: pl.DataFrame, block: NDArray[np.float64], *, price_col: str, side_col: str, at: _Layout
) -> None:
    """Write the measures over the levels in ``block`` (:func:`spread_measures_nb`), threads over row runs."""
    n = df.height
    side = _sides(df.get_column(side_col))
    price = _read_only(df.get_column(price_col).cast(pl.Float64).to_numpy())
    runs = np.append(np.arange(0, n, _RUN, dtype=np.int64), np.int64(n))

    def run(a: int, b: int) -> int:  # runs a..b-1, in a thread (the kernel releases the GIL)
        return spread_measures_nb(
            side, price, block, at.rows, at.realized, at.impact, at.at_t, int(runs[a]), int(runs[b])
        )

    bad = by_group_runs(runs, run)
    if any(i >= 0 for i in bad):
        raise _bad_side(df.get_column(side_col), side_col)


def spread_decomposition(  # noqa: PLR0917  (the issue's positional signature)
    trades: FrameT,
    horizons: Sequence[float | str] | float | str,
    quotes: pl.DataFrame | pl.LazyFrame,
    price_col: str = "price",
    side_col: str = "side",
    mid_col: str = "mid",
    time_col: str = "elapsed_seconds",
    symbol_col: str | Sequence[str] = "symbol",
    *,
    bid_col: str = "bid",
    ask_col: str = "ask",
    quote_time_col: str | None = None,
    quote_symbol_col: str | Sequence[str] | None = None,
    tolerance: float | None = None,
    date_col: str = "date",
    direction: Literal["backward", "forward", "nearest"] = "backward",
    allow_exact_matches: bool = True,
    returns_within: Literal["day", "session"] = "day",
    market: Market | str | None = None,
    quoted: bool = True,
) -> FrameT:
    """Split each trade's effective spread into the realized spread and the price impact.

    For a trade at price ``P`` in direction ``D`` (+1 a buy, -1 a sell: the aggressor's side, or
    a fill's), with the mid ``M_t`` of the quote in force at the trade and ``M_{t+h}`` the mid
    ``h`` later (both found as :func:`vizflow.forward_return` finds prices):

    - ``effective_spread = 2 D (P - M_t) / M_t``: what the trade paid over the mid, both ways;
    - ``realized_spread_{h} = 2 D (P - M_{t+h}) / M_t``: what the other side kept after ``h``;
    - ``price_impact_{h} = 2 D (M_{t+h} - M_t) / M_t``: how far the mid moved the trade's way;

    so ``effective_spread = realized_spread_{h} + price_impact_{h}`` for every ``h`` (to float
    rounding). ``quoted_spread = (A_t - B_t) / M_t`` is the relative spread in force, and each
    measure ``x`` also comes as ``x_hs = x / quoted_spread``: the half-measure ``D (P - M) / M``
    in units of the quoted half spread ``(A_t - B_t) / (2 M_t)`` (a buy at the ask has
    ``effective_spread_hs = 1``, a trade at the mid 0; null when the book is locked).

    Parameters
    ----------
    trades
        The trades (or fills), DataFrame or LazyFrame, any order.
    horizons
        Horizons in the unit of ``time_col``, as for :func:`vizflow.forward_return` (``"close"``
        too); 0 gives a realized spread equal to the effective one.
    quotes
        The quotes, with a mid, a bid and an ask.
    price_col, side_col
        The trade price and its direction: +1 buy, -1 sell, 0 or null none (null outputs).
    mid_col
        The quotes' mid (e.g. ``vf.book.microprice()`` added as a column, for microprice spreads).
    time_col, symbol_col
        The time and key column(s) of ``trades``, as for :func:`vizflow.forward_return` (with
        several dates, key by ``["date", "symbol"]``).
    bid_col, ask_col
        The quotes' best bid and ask (for ``quoted_spread`` and the ``_hs`` columns).
    quoted
        ``False``: leave out ``quoted_spread`` and the ``_hs`` columns (the spread in force is
        then not read).
    quote_time_col, quote_symbol_col
        The quotes' time and key columns (default: the trades' names).
    tolerance, date_col, direction, allow_exact_matches, returns_within, market
        As for :func:`vizflow.forward_return`; they apply to every lookup, ``M_t`` (horizon 0) as
        well: with the default ``direction="backward"`` it is the last quote at or before the trade
        (``allow_exact_matches=False``: strictly before it).

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``trades``, same rows and order, with Float64 columns
        ``quoted_spread``, ``effective_spread``, ``realized_spread_{h}``, ``price_impact_{h}``
        (named as :func:`vizflow.horizon_name` names ``return_{h}``) and each of them but
        ``quoted_spread`` again with the suffix ``_hs``. A row without a direction, a mid in force
        (a one-sided book, none yet, or, by forward_return's rule, a trade after its key's last
        quote) or a mid at ``t + h`` gets nulls where those are needed.

    Raises
    ------
    ColumnNotFoundError
        For a missing column.
    SchemaError
        For a side column that is not numeric.
    VizflowError
        For an output column that exists; and as :func:`vizflow.forward_return` raises.
    DataError
        When collected, for a side value other than -1, 0, 1 or null (naming it); and as
        :func:`vizflow.forward_return` raises (several dates without a date key, ...).

    Notes
    -----
    One lookup as :func:`vizflow.forward_return` makes it (one key coding, one sort, one pass):
    the quote matched at ``t`` gives the mid and the spread in force, the quote matched at each
    ``t + h`` the mid. In the same plan node, one compiled pass over the rows (threads over row
    runs) checks the side and writes the measures, each as the product of a weight (``2 D / M_t``
    or ``2 D / (A_t - B_t)``) and a difference of levels, the same to the bit as those Polars
    expressions, over the levels where the lookup left them in the block of output columns (the
    levels take no memory of their own; the columns share that block, freed with the last of
    them). Lazy in, lazy out, computed at ``collect()``. The mids and the spread are read as they
    are (levels, not returns). A null or NaN price gives null measures.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> quotes = pl.DataFrame(
    ...     {"symbol": "A", "elapsed_seconds": [0.0, 10.0, 20.0], "bid": [9.9, 10.0, 10.0],
    ...      "ask": [10.1, 10.2, 10.2], "mid": [10.0, 10.1, 10.1]}
    ... )  # fmt: skip
    >>> trades = pl.DataFrame(
    ...     {"symbol": "A", "elapsed_seconds": [5.0, 5.0], "price": [10.1, 9.9], "side": [1, -1]}
    ... )
    >>> out = vf.spread_decomposition(trades, [10], quotes)
    >>> cost = out.select("effective_spread", "realized_spread_10", "price_impact_10")
    >>> cost.with_columns(pl.all().round(6)).rows()  # the buy at the ask, the sell at the bid
    [(0.02, 0.0, 0.02), (0.02, 0.04, -0.02)]
    >>> hs = out.select("quoted_spread", "effective_spread_hs", "realized_spread_10_hs")
    >>> hs.with_columns(pl.all().round(6)).rows()  # in units of the quoted half spread
    [(0.02, 1.0, 0.0), (0.02, 1.0, 2.0)]
    """
    where = "spread_decomposition"
    parse_horizons(horizons, where=where)  # refuses an empty list, a bad or a repeated horizon
    values = _as_list(horizons)
    schema = trades.collect_schema()
    require_columns(schema, [price_col, side_col], where=where)
    side_dtype = schema[side_col]
    if not side_dtype.is_numeric():
        msg = (
            f"{where}: side column {side_col!r} has dtype {side_dtype}; expected numbers +1 (buy), "
            "-1 (sell), 0 (none)"
        )
        raise SchemaError(msg)
    if not isinstance(quoted, bool):
        msg = f"{where}: quoted={quoted!r}; expected True or False"
        raise VizflowError(msg)
    book: list[str] = [bid_col, ask_col] if quoted else []
    require_columns(quotes.collect_schema(), [mid_col, *book], where=f"{where} (quotes)")
    later: list[float | str] = [h for h in values if not _is_zero(h)]
    layout = _layout(values, quoted=quoted)
    clash = [n for n in layout.columns if n in schema]
    if clash:
        msg = f"{where}: output column(s) {clash} already exist in trades; drop or rename them"
        raise VizflowError(msg)

    # One lookup: the mid (and the spread in force) at t, the mid at every later horizon, each
    # left in the row of the output block that a measure made from it takes (M_t: the effective
    # spread's, S_t: the quoted spread's, M_{t+h}: the realized spread's); the lookup's node then
    # writes the measures over them in one pass (kernels/spread.py).
    in_force = quotes.lazy()
    columns: list[str] = [mid_col]
    now: list[str | None] = ["mid_now"]
    if quoted:
        in_force = in_force.with_columns((pl.col(ask_col) - pl.col(bid_col)).alias(_SPREAD))
        columns.append(_SPREAD)
        now.append(_SPREAD)
    # The levels' names: a row per horizon (0, then the later ones), a name or None per column.
    at: list[list[str | None]] = [now, *([f"mid_{h}", *([None] if quoted else [])] for h in later)]
    finish = Finish(
        names=layout.names,
        reads=(price_col, side_col),
        compute=partial(_measures, price_col=price_col, side_col=side_col, at=layout),
    )
    lazy = forward_levels(  # validates the horizons
        trades.lazy(), [0.0, *later], in_force, columns, at, time_col=time_col, symbol_col=symbol_col,
        reference_time_col=quote_time_col, reference_symbol_col=quote_symbol_col, tolerance=tolerance,
        date_col=date_col, direction=direction, allow_exact_matches=allow_exact_matches,
        returns_within=returns_within, market=market, finish=finish,
    ).select(*schema.names(), *layout.columns)  # fmt: skip
    if isinstance(trades, pl.DataFrame):
        return lazy.collect()
    return lazy
