"""``spread_decomposition``: where the cost of a trade goes, effective = realized + impact."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl

from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.ops.forward import forward_levels, horizon_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT
    from vizflow.market import Market

__all__ = ["spread_decomposition"]

_SPREAD, _D = "_vf_spread_quoted", "_vf_spread_direction"
_W, _W_HS = "_vf_spread_weight", "_vf_spread_weight_hs"
_DIRECTIONS = (-1.0, 0.0, 1.0)


def _as_list(horizons: Sequence[float | str] | float | str) -> list[float | str]:
    if isinstance(horizons, str) or not hasattr(horizons, "__iter__"):  # numpy scalars too
        one: Any = horizons
        return [one]
    return list(cast("Sequence[float | str]", horizons))


def _is_zero(horizon: float | str) -> bool:
    return isinstance(horizon, numbers.Real) and not isinstance(horizon, bool) and horizon == 0


def _direction(column: str) -> pl.Expr:
    """Read the side as +1.0 / -1.0, null for 0 or null; any other value raises at collect() time."""

    def check(side: pl.Series) -> pl.Series:
        values = side.cast(pl.Float64)
        bad = values.is_not_null() & ~values.is_in(_DIRECTIONS)
        if bad.any():
            first = side.filter(bad)[0]
            msg = (
                f"spread_decomposition: side column {column!r} holds {first!r} ({bad.sum()} rows); "
                "expected +1 (buyer-initiated), -1 (seller-initiated), or 0 / null (no direction: "
                "null spreads)"
            )
            raise DataError(msg)
        return values.replace(0.0, None)

    return pl.col(column).map_batches(check, return_dtype=pl.Float64, is_elementwise=True)


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
    ``t + h`` the mid; then expressions: lazy in, lazy out, computed at ``collect()``. The mids
    and the spread are read as they are (levels, not returns), so the measures are formed from
    ``P``, ``M_t``, ``A_t - B_t`` and ``M_{t+h}`` directly.

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
    if not values:
        msg = f"{where}: horizons is empty; expected e.g. [1, 5, 60]"
        raise VizflowError(msg)
    later: list[float | str] = [h for h in values if not _is_zero(h)]
    names: list[str] = ["_vf_spread_mid_now", *(f"_vf_spread_mid_{k}" for k in range(len(later)))]
    clash = [n for n in (*names, _SPREAD, _D, _W, _W_HS) if n in schema]
    if clash:
        msg = f"{where}: column(s) {clash} are vizflow's temporary names; rename them"
        raise VizflowError(msg)

    # One lookup: the mid (and the spread in force) at t, the mid at every later horizon.
    in_force = quotes.lazy()
    columns: list[str] = [mid_col]
    at: list[list[str | None]] = [[n] for n in names]
    if quoted:
        in_force = in_force.with_columns((pl.col(ask_col) - pl.col(bid_col)).alias(_SPREAD))
        columns.append(_SPREAD)
        at = [[names[0], _SPREAD], *([n, None] for n in names[1:])]
    lazy = forward_levels(  # validates the horizons
        trades.lazy(), [0.0, *later], in_force, columns, at, time_col=time_col, symbol_col=symbol_col,
        reference_time_col=quote_time_col, reference_symbol_col=quote_symbol_col, tolerance=tolerance,
        date_col=date_col, direction=direction, allow_exact_matches=allow_exact_matches,
        returns_within=returns_within, market=market,
    )  # fmt: skip
    out_names: list[str] = ["effective_spread"]
    for h in values:
        out_names += [horizon_name(h, "realized_spread_"), horizon_name(h, "price_impact_")]
    if quoted:
        out_names = ["quoted_spread", *out_names, *(f"{n}_hs" for n in out_names)]
    duplicates = sorted({n for n in out_names if out_names.count(n) > 1})
    if duplicates:
        msg = f"{where}: duplicate horizons {duplicates}; give each horizon once"
        raise VizflowError(msg)
    clash = [n for n in out_names if n in schema]
    if clash:
        msg = f"{where}: output column(s) {clash} already exist in trades; drop or rename them"
        raise VizflowError(msg)
    mid_now, spread = pl.col(names[0]), pl.col(_SPREAD)
    # The direction and weights first, in their own columns, so each is computed once (the side
    # check is a Python UDF, which common-subexpression elimination does not merge); then every
    # measure is one difference of levels times a weight: 2 D / M_t (relative) or 2 D / (A_t - B_t) (_hs).
    lazy = lazy.with_columns(_direction(side_col).alias(_D))
    d = pl.col(_D)
    weights = [(2.0 * d / mid_now).alias(_W)]
    if quoted:
        weights += [
            (spread / mid_now).alias("quoted_spread"),
            pl.when(spread > 0).then(2.0 * d / spread).alias(_W_HS),
        ]
    lazy = lazy.with_columns(weights)
    p = pl.col(price_col).cast(pl.Float64)
    later_mid = iter(names[1:])
    mid_at = {h: mid_now if _is_zero(h) else pl.col(next(later_mid)) for h in values}
    moves = {"effective_spread": p - mid_now}
    for h in values:
        moves[horizon_name(h, "realized_spread_")] = p - mid_at[h]
        moves[horizon_name(h, "price_impact_")] = mid_at[h] - mid_now
    measures = [(pl.col(_W) * move).alias(name) for name, move in moves.items()]
    if quoted:
        measures += [(pl.col(_W_HS) * move).alias(f"{name}_hs") for name, move in moves.items()]
    temporary = [_D, _W, *names, *([_SPREAD, _W_HS] if quoted else [])]
    lazy = lazy.with_columns(measures).drop(temporary).select(*schema.names(), *out_names)
    if isinstance(trades, pl.DataFrame):
        return lazy.collect()
    return lazy
