"""The ``vf`` namespace on LazyFrame, DataFrame and Expr.

Each method forwards to the function of the same name in one line; the functions are the
implementation and carry the documentation. ``tests/test_namespace.py`` checks that every method's
signature equals its function's minus the frame argument.

The frame methods live once, on the generic base ``_VfNamespace[FrameT]``; the two registered classes
only bind ``FrameT`` to LazyFrame or DataFrame, so each method returns the kind it was called on.

Type checkers do not see ``lf.vf`` (Polars registers namespaces at run time and has no typing hook),
so a checked chain is written with ``pipe``, which passes the frame as the first argument and keeps
the return type exact (a LazyFrame in, a LazyFrame out):

>>> import polars as pl, vizflow as vf
>>> lf = pl.LazyFrame({"symbol": ["a", "a"], "elapsed_seconds": [0.0, 1.0], "mid": [10.0, 11.0]})
>>> typed = lf.pipe(vf.forward_return, [1]).collect()
>>> dynamic = lf.vf.forward_return([1]).collect()
>>> typed.equals(dynamic)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Literal

import polars as pl

from vizflow import data_quality, ops
from vizflow._typing import FrameT
from vizflow.enrich import State, enrich
from vizflow.ops.spread import spread_decomposition

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import timedelta

    from vizflow._typing import InvalidPolicy, OutsidePolicy
    from vizflow.calendar import Calendar
    from vizflow.enrich import TagRule
    from vizflow.market import Market
    from vizflow.ops.binning import BinHow
    from vizflow.ops.time import Encoding
    from vizflow.ops.time_weighted import TimeWeighted

__all__ = ["VfDataFrameNamespace", "VfExprNamespace", "VfLazyFrameNamespace"]


class _VfNamespace(Generic[FrameT]):
    """The frame methods, written once; each returns the kind of frame it was called on."""

    def __init__(self, frame: FrameT) -> None:
        self._frame: FrameT = frame

    def parse_time(
        self,
        market: Market | str,
        column: str = "ticktime",
        *,
        out: str = "elapsed_seconds",
        outside: OutsidePolicy = "clamp",
        invalid: InvalidPolicy = "raise",
        phase: str | None = None,
    ) -> FrameT:
        """See :func:`vizflow.parse_time`."""
        return ops.parse_time(
            self._frame, market, column, out=out, outside=outside, invalid=invalid, phase=phase
        )

    def bin(self, widths: Mapping[str, float], *, how: BinHow = "round", suffix: str = "_bin") -> FrameT:
        """See :func:`vizflow.bin`."""
        return ops.bin(self._frame, widths, how=how, suffix=suffix)

    def enrich(
        self,
        rules: Sequence[TagRule],
        by: str | Sequence[str] = "symbol",
        sort_by: str | Sequence[str] | None = None,
        state_class: type[State] = State,
    ) -> FrameT:
        """See :func:`vizflow.enrich`."""
        return enrich(self._frame, rules, by=by, sort_by=sort_by, state_class=state_class)

    def aggregate(
        self,
        group_by: Sequence[str] | str,
        metrics: Mapping[str, pl.Expr] | Sequence[pl.Expr] | pl.Expr,
    ) -> FrameT:
        """See :func:`vizflow.aggregate`."""
        return ops.aggregate(self._frame, group_by, metrics)

    def forward_return(
        self,
        horizons: Sequence[float | str | timedelta] | float | str | timedelta,
        price_col: str | pl.Expr = "mid",
        time_col: str = "elapsed_seconds",
        symbol_col: str | Sequence[str] = "symbol",
        *,
        reference: pl.DataFrame | pl.LazyFrame | None = None,
        reference_price_col: str | pl.Expr | None = None,
        reference_time_col: str | None = None,
        reference_symbol_col: str | Sequence[str] | None = None,
        current: Literal["own", "reference"] = "own",
        tolerance: float | str | timedelta | None = None,
        log: bool = False,
        prefix: str = "return_",
        date_col: str = "date",
        direction: Literal["backward", "forward", "nearest"] = "backward",
        allow_exact_matches: bool = True,
        names: Sequence[str] | None = None,
        returns_within: Literal["day", "session"] = "day",
        market: Market | str | None = None,
    ) -> FrameT:
        """See :func:`vizflow.forward_return`."""
        return ops.forward_return(
            self._frame, horizons, price_col, time_col, symbol_col,
            reference=reference, reference_price_col=reference_price_col,
            reference_time_col=reference_time_col, reference_symbol_col=reference_symbol_col,
            current=current, tolerance=tolerance, log=log, prefix=prefix, date_col=date_col,
            direction=direction, allow_exact_matches=allow_exact_matches, names=names,
            returns_within=returns_within, market=market,
        )  # fmt: skip

    def forward_window(
        self,
        horizons: Sequence[float | str | timedelta | tuple[float | str | timedelta, float | str | timedelta]]
        | float
        | str
        | timedelta,
        aggs: Mapping[str, pl.Expr | TimeWeighted],
        time_col: str = "elapsed_seconds",
        symbol_col: str | Sequence[str] = "symbol",
        *,
        reference: pl.DataFrame | pl.LazyFrame | None = None,
        reference_time_col: str | None = None,
        reference_symbol_col: str | Sequence[str] | None = None,
        date_col: str = "date",
        prevailing: bool = False,
    ) -> FrameT:
        """See :func:`vizflow.forward_window`."""
        return ops.forward_window(
            self._frame, horizons, aggs, time_col, symbol_col, reference=reference,
            reference_time_col=reference_time_col, reference_symbol_col=reference_symbol_col,
            date_col=date_col, prevailing=prevailing,
        )  # fmt: skip

    def session_phase(
        self,
        market: Market | str,
        column: str = "ticktime",
        *,
        out: str = "phase",
        invalid: InvalidPolicy = "raise",
    ) -> FrameT:
        """See :func:`vizflow.session_phase`."""
        return ops.session_phase(self._frame, market, column, out=out, invalid=invalid)

    def trading_date(
        self,
        market: Market | str,
        column: str = "ticktime",
        *,
        date_col: str | None = "date",
        calendar: Calendar | pl.DataFrame | None = None,
        out: str = "trading_date",
    ) -> FrameT:
        """See :func:`vizflow.trading_date`."""
        return ops.trading_date(self._frame, market, column, date_col=date_col, calendar=calendar, out=out)

    def summarize(
        self,
        by: str | Sequence[str] | None,
        values: str | Sequence[str],
        weight: str | None = None,
        *,
        cluster: str | pl.Expr | Sequence[str | pl.Expr] | None = None,
        date_col: str = "date",
    ) -> FrameT:
        """See :func:`vizflow.summarize`."""
        return ops.summarize(self._frame, by, values, weight, cluster=cluster, date_col=date_col)

    def quantile_bin(
        self,
        column: str,
        q: int,
        by: str | Sequence[str] | None = None,
        *,
        out: str | None = None,
        ties: Literal["share", "order"] = "share",
    ) -> FrameT:
        """See :func:`vizflow.quantile_bin`."""
        return ops.quantile_bin(self._frame, column, q, by, out=out, ties=ties)

    def rank_ic(
        self,
        signal: str,
        returns: str | Sequence[str],
        by: str | Sequence[str] | None = None,
    ) -> FrameT:
        """See :func:`vizflow.rank_ic`."""
        return ops.rank_ic(self._frame, signal, returns, by)

    def spread_decomposition(  # noqa: PLR0917  (the function's positional signature)
        self,
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
        """See :func:`vizflow.spread_decomposition`; the frame is the trades.

        >>> import polars as pl, vizflow as vf
        >>> quotes = pl.DataFrame(
        ...     {"symbol": "A", "elapsed_seconds": [0.0, 10.0, 20.0], "bid": [9.9, 10.0, 10.0],
        ...      "ask": [10.1, 10.2, 10.2], "mid": [10.0, 10.1, 10.1]}
        ... )  # fmt: skip
        >>> trades = pl.DataFrame({"symbol": "A", "elapsed_seconds": [5.0], "price": [10.1], "side": [1]})
        >>> out = trades.vf.spread_decomposition([10], quotes)
        >>> out.select(pl.col("effective_spread", "realized_spread_10", "price_impact_10").round(6)).row(0)
        (0.02, 0.0, 0.02)
        """
        return spread_decomposition(
            self._frame, horizons, quotes, price_col, side_col, mid_col, time_col, symbol_col,
            bid_col=bid_col, ask_col=ask_col, quote_time_col=quote_time_col,
            quote_symbol_col=quote_symbol_col, tolerance=tolerance, date_col=date_col,
            direction=direction, allow_exact_matches=allow_exact_matches,
            returns_within=returns_within, market=market, quoted=quoted,
        )  # fmt: skip

    def quality(
        self,
        quotes: pl.DataFrame | pl.LazyFrame,
        market: Market | str,
        *,
        time_col: str = "ticktime",
        price_col: str = "price",
        size_col: str = "qty",
        bid_col: str = "bid",
        ask_col: str = "ask",
        bid_size_col: str | None = None,
        ask_size_col: str | None = None,
        symbol_col: str = "symbol",
        date_col: str = "date",
        quote_time_col: str | None = None,
        stale_after: float = 30.0,
    ) -> FrameT:
        """See :func:`vizflow.quality`; the frame is the trades.

        >>> import polars as pl, vizflow as vf
        >>> trades = pl.DataFrame(
        ...     {"date": "20240102", "symbol": "A", "ticktime": [93000500, 93000400], "price": [10.05, 0.0],
        ...      "qty": [100, 100]}
        ... )  # fmt: skip
        >>> quotes = pl.DataFrame(
        ...     {"date": "20240102", "symbol": "A", "ticktime": [93000000], "bid": [10.0], "ask": [10.1]}
        ... )
        >>> trades.vf.quality(quotes, vf.CN).select("trades", "bad_prices", "out_of_order").row(0)
        (2, 1, 1)
        """
        return data_quality.quality(
            self._frame, quotes, market, time_col=time_col, price_col=price_col, size_col=size_col,
            bid_col=bid_col, ask_col=ask_col, bid_size_col=bid_size_col, ask_size_col=ask_size_col,
            symbol_col=symbol_col, date_col=date_col, quote_time_col=quote_time_col,
            stale_after=stale_after,
        )  # fmt: skip

    def quality_totals(self, by: str | list[str] | None = "symbol") -> FrameT:
        """See :func:`vizflow.quality_totals`; the frame is a :func:`vizflow.quality` table.

        >>> import polars as pl, vizflow as vf
        >>> table = pl.DataFrame({"date": ["1", "2"], "symbol": "A", "trades": [3, 4], "issues": [1, 0]})
        >>> table.vf.quality_totals(None).row(0)
        (2, 7, 1)
        """
        return data_quality.quality_totals(self._frame, by)

    def worst_dates(self, n: int = 5, date_col: str = "date") -> FrameT:
        """See :func:`vizflow.worst_dates`; the frame is a :func:`vizflow.quality` table.

        >>> import polars as pl, vizflow as vf
        >>> table = pl.DataFrame({"date": ["1", "2"], "symbol": "A", "issues": [1, 4]})
        >>> table.vf.worst_dates(1).rows()
        [('2', 1, 4)]
        """
        return data_quality.worst_dates(self._frame, n, date_col)


@pl.api.register_lazyframe_namespace("vf")
class VfLazyFrameNamespace(_VfNamespace[pl.LazyFrame]):
    """``lf.vf``: vizflow operations on a LazyFrame, each returning a LazyFrame."""


@pl.api.register_dataframe_namespace("vf")
class VfDataFrameNamespace(_VfNamespace[pl.DataFrame]):
    """``df.vf``: vizflow operations on a DataFrame, each returning a DataFrame."""


@pl.api.register_expr_namespace("vf")
class VfExprNamespace:
    """``pl.col(...).vf``: vizflow expressions."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def elapsed(
        self,
        market: Market | str,
        *,
        encoding: Encoding = "hhmmssmmm",
        outside: OutsidePolicy = "clamp",
        invalid: InvalidPolicy = "raise",
        tz: str | None = None,
    ) -> pl.Expr:
        """See :func:`vizflow.elapsed_expr`."""
        return ops.elapsed_expr(
            self._expr, market, encoding=encoding, outside=outside, invalid=invalid, tz=tz
        )
