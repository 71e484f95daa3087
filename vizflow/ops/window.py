"""``forward_window``: aggregates over the reference rows in a time window after (or before) each row.

This is kdb+'s window join (``wj``) on vizflow's session clock. Aggregates of the shapes below run
in one compiled pass per horizon over the (key, time)-sorted arrays, which moves each window's two
edges once and updates every such aggregate together (``vizflow.kernels.window.window_pass_nb``):

- ``pl.len()``;
- ``e.sum()``, ``e.count()``, ``e.mean()``, ``e.min()``, ``e.max()`` of an elementwise expression
  ``e`` of the reference's columns (``pl.col("qty")``, ``pl.col("price") * pl.col("qty")``);
- ``+ - * /`` of such aggregates and literals (a VWAP is ``(p * q).sum() / q.sum()``).

Any other aggregate (``median``, ``std``, ``first``, ``quantile``, ...) is evaluated by Polars over
each window's rows, gathered by index: exact, but its memory and time grow with the total number
of rows over all windows.
A horizon may be a pair ``(a, b)``: the window ``(t + a, t + b]``; ``prevailing=True`` widens each
window by the row before it (both in the same pass), and :func:`vizflow.time_weighted` aggregates
run in a pass of their own over the windows' bounds (``window_time_weighted_nb``).
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import polars as pl

from vizflow._grouping import by_group_runs
from vizflow._validate import require_columns
from vizflow.exceptions import SchemaError, VizflowError
from vizflow.kernels.asof import TIE_SLACK
from vizflow.kernels.window import (
    HOLDS_INF,
    HOLDS_NAN,
    HOLDS_NULL,
    WANT_COUNT,
    WANT_MAX,
    WANT_MIN,
    WANT_SUM,
    prefix_sums_nb,
    window_pass_nb,
    window_time_weighted_nb,
)
from vizflow.ops._horizons import HorizonPair, parse_windows
from vizflow.ops._lookup import Arranged, Lookup, arrange, lookup_plan, lookup_spec, require_shared_keys
from vizflow.ops.time_weighted import TimeWeighted

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import timedelta

    from numpy.typing import NDArray

    from vizflow._typing import FrameT

__all__ = ["forward_window"]

_WHERE = "forward_window"
_KINDS = ("sum", "count", "mean", "min", "max")
_OPS: tuple[Callable[[pl.Expr, pl.Expr], pl.Expr], ...] = (
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
)


@dataclass(frozen=True, eq=False)
class _Leaf:
    """One compiled aggregate: ``kind`` of ``inner`` (None for ``len``) over each window."""

    kind: str
    inner: pl.Expr | None
    dtype: pl.DataType


@dataclass(frozen=True, eq=False)
class _Agg:
    """An aggregate as asked (``expr``), and its compiled form if it has one.

    ``outer`` is ``expr`` rewritten over the leaf columns ``__vf_leaf{k}``; ``None`` sends the
    aggregate down the general path (Polars over each window's gathered rows).
    """

    name: str
    expr: pl.Expr
    dtype: pl.DataType
    outer: pl.Expr | None
    leaves: tuple[_Leaf, ...]
    weighted: bool = False  # vf.time_weighted(expr): the kernel of its own


class _Window(NamedTuple):
    """One horizon's window in the time column's unit: ``(t + start, t + end]`` for a pair.

    A single horizon keeps its own edges: ``h > 0`` is ``(t, t + h]`` (start 0, end h), ``h < 0``
    is ``[t + h, t)`` (start h, end 0), the close ``(t, last]`` (start 0, end inf).
    """

    pair: bool
    start: float
    end: float

    @property
    def closed_right(self) -> bool:
        """``(t + start, t + end]``; False for ``[t + h, t)`` (a single ``h < 0``)."""
        return self.pair or self.end > 0


@dataclass(frozen=True, eq=False)
class _Spec:
    lookup: Lookup
    windows: tuple[_Window, ...]
    suffixes: tuple[str, ...]  # each horizon as given: 60, -5, 1m, close, -5_5
    aggs: tuple[_Agg, ...]
    roots: tuple[str, ...]
    prevailing: bool

    @property
    def names(self) -> list[str]:
        return [f"{a.name}_{suffix}" for a in self.aggs for suffix in self.suffixes]


def _check_horizons(horizons: object, lookup: Lookup) -> tuple[tuple[str, ...], tuple[_Window, ...]]:
    values = parse_windows(horizons, where=_WHERE)
    windows = []
    for h in values:
        if isinstance(h, HorizonPair):
            start, end = lookup.resolve(h.start, "window end"), lookup.resolve(h.end, "window end")
            if start >= end:
                msg = (
                    f"{_WHERE}: window ({h.start.text}, {h.end.text}) is empty; expected a pair "
                    "(start, end) with start < end: the window (t + start, t + end]"
                )
                raise VizflowError(msg)
            windows.append(_Window(pair=True, start=start, end=end))
            continue
        value = lookup.resolve(h)
        if value == 0:  # (t, t]: empty, but with prevailing=True the row in force at t
            windows.append(_Window(pair=True, start=0.0, end=0.0))
            continue
        windows.append(_Window(pair=False, start=min(value, 0.0), end=max(value, 0.0)))
    return tuple(h.text for h in values), tuple(windows)


def _dtype(reference: pl.LazyFrame, expr: pl.Expr, what: str) -> pl.DataType:
    try:
        return reference.select(expr.alias("__vf")).collect_schema()["__vf"]
    except pl.exceptions.PolarsError as err:
        msg = f"{_WHERE}: aggregate {what} does not apply to the reference's columns: {err}"
        raise SchemaError(msg) from None


def _leaf(expr: pl.Expr, reference: pl.LazyFrame, what: str) -> _Leaf | None:
    """``expr`` as a compiled aggregate, or None if it is not one of the shapes the kernels know."""
    if expr.meta.eq(pl.len()):
        return _Leaf("len", None, _dtype(reference, expr, what))
    children = expr.meta.pop()
    if len(children) != 1:
        return None
    inner = children[0]
    kind = next((k for k in _KINDS if expr.meta.eq(getattr(inner, k)())), None)
    if kind is None or not inner.meta.is_row_separable() or inner.meta.is_scalar():
        return None
    dtype = _dtype(reference, inner, what)
    numeric = dtype.is_numeric() or dtype == pl.Boolean
    if kind in ("sum", "mean") and not numeric:
        return None
    if kind in ("min", "max") and not (numeric or dtype.is_temporal()):
        return None
    return _Leaf(kind, inner, _dtype(reference, expr, what))


def _compile(expr: pl.Expr, reference: pl.LazyFrame, what: str, leaves: list[_Leaf]) -> pl.Expr | None:
    """``expr`` rewritten over leaf columns (appended to ``leaves``), or None if not compilable."""
    if expr.meta.is_literal():
        return expr
    leaf = _leaf(expr, reference, what)
    if leaf is not None:
        leaves.append(leaf)
        return pl.col(f"__vf_leaf{len(leaves) - 1}").cast(leaf.dtype)
    children = expr.meta.pop()
    if len(children) != 2:  # noqa: PLR2004
        return None
    right, left = children  # meta.pop lists a binary expression's inputs last first
    op = next((op for op in _OPS if expr.meta.eq(op(left, right))), None)
    if op is None:
        return None
    a = _compile(left, reference, what, leaves)
    b = None if a is None else _compile(right, reference, what, leaves)
    return None if a is None or b is None else op(a, b)


def _check_weighted(name: str, given: TimeWeighted, reference: pl.LazyFrame) -> _Agg:
    what = f"{name!r} ({given!r})"
    expr = given.expr.meta.undo_aliases()
    require_columns(
        reference.collect_schema(), expr.meta.root_names(), where=f"{_WHERE} (aggregate {name!r}, reference)"
    )
    dtype = _dtype(reference, expr, what)
    if (
        expr.meta.is_scalar()
        or not expr.meta.is_row_separable()
        or not (dtype.is_numeric() or dtype == pl.Boolean)
    ):
        msg = (
            f"{_WHERE}: aggregate {what} weighs {dtype} values of a non-elementwise expression or a "
            "non-numeric column; expected an elementwise expression of numeric columns such as "
            "vf.time_weighted('mid') or vf.time_weighted(pl.col('ask') - pl.col('bid'))"
        )
        raise SchemaError(msg)
    return _Agg(name, expr, pl.Float64(), None, (), weighted=True)


def _check_aggs(aggs: Mapping[str, pl.Expr | TimeWeighted], reference: pl.LazyFrame) -> tuple[_Agg, ...]:
    if not hasattr(aggs, "items") or not aggs:
        msg = (
            f"{_WHERE}: aggs={aggs!r}; expected a non-empty dict of name -> Polars aggregate, "
            "e.g. {'volume': pl.col('qty').sum(), 'n': pl.len()}"
        )
        raise VizflowError(msg)
    schema = reference.collect_schema()
    out = []
    for name, expr in aggs.items():
        what = f"{name!r} ({expr})" if isinstance(expr, pl.Expr) else repr(name)
        if isinstance(name, str) and isinstance(expr, TimeWeighted):
            out.append(_check_weighted(name, expr, reference))
            continue
        if not isinstance(name, str) or not isinstance(expr, pl.Expr):
            msg = (
                f"{_WHERE}: aggs entry {name!r}: {expr!r}; expected a column name -> a Polars "
                "expression or vf.time_weighted(...)"
            )
            raise VizflowError(msg)
        require_columns(schema, expr.meta.root_names(), where=f"{_WHERE} (aggregate {name!r}, reference)")
        expr = expr.meta.undo_aliases()
        dtype = _dtype(reference, expr, what)
        if not expr.meta.is_scalar():
            msg = (
                f"{_WHERE}: aggregate {what} gives one value per row, not one per window; "
                "end it with an aggregation such as .sum(), .mean(), .max() or use pl.len()"
            )
            raise VizflowError(msg)
        leaves: list[_Leaf] = []
        outer = _compile(expr, reference, what, leaves)
        out.append(_Agg(name, expr, dtype, outer, tuple(leaves) if outer is not None else ()))
    return tuple(out)


def forward_window(
    frame: FrameT,
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
    """Add aggregates of the reference rows in a time window after (or before) each row.

    For a row of key ``s`` at time ``t`` and a horizon ``h > 0`` the window holds the reference
    rows of ``s`` with time in ``(t, t + h]``; for ``h < 0`` those in ``[t + h, t)``. The row's
    own time is outside both (so are rows tied with it), and ``t + h`` is reached with a slack of
    a few ulps (0.7 + 0.1 reaches a row at 0.8), as in :func:`vizflow.forward_return`. Each
    aggregate is exactly what Polars gives for the expression over the window's rows: the sum of
    an empty window is 0 and its count 0, its mean, min and max null, and a ratio of two empty
    sums NaN (0 / 0). A window reaching past the key's last row just holds fewer rows.

    Parameters
    ----------
    frame
        Rows to measure (e.g. trades), DataFrame or LazyFrame; any row order.
    horizons
        One or more horizons, each given once: numbers in the unit of ``time_col`` (``0`` is
        the empty window ``(t, t]``, which ``prevailing=True`` fills with the row in force at
        ``t``: the price ``forward_return`` reads at ``0``),
        Polars durations (``"5s"``, ``"1m"``) or ``datetime.timedelta`` (seconds on a numeric
        ``time_col``, wall-clock time on a Datetime one), or ``"close"`` (the window ``(t, the
        key's last row]``). Columns are named as given: ``volume_60``, ``volume_1m``. An
        element may also be a pair ``(a, b)`` of such horizons (not ``"close"``), ``a < b`` of
        either sign: the window ``(t + a, t + b]``, named ``{name}_{a}_{b}`` (``mid_-5_5``,
        ``volume_1s_5s``). A pair is an element of a list: ``[(-5, 5)]``; a bare tuple
        ``(-5, 5)`` is two horizons, as before.
    aggs
        Output name -> Polars aggregate over the reference's columns, e.g. ``{"n": pl.len(),
        "volume": pl.col("qty").sum(), "vwap": (pl.col("price") * pl.col("qty")).sum() /
        pl.col("qty").sum(), "high": pl.col("price").max()}``. See the module docstring for the
        shapes that run compiled; any other aggregate runs through Polars per window.
        :func:`vizflow.time_weighted` (``{"twap": vf.time_weighted("mid")}``) gives the
        time-weighted mean of a column: each row weighs the time it is in force inside the
        window (until the key's next reference row), Float64.
    time_col
        The time column of ``frame`` (and of ``reference`` unless ``reference_time_col``):
        numeric (the session clock) or a Datetime, Date or Duration (the wall clock).
    symbol_col
        The key column, or several (``["date", "symbol"]``); keys of any dtype match by value and
        a null key matches nothing; ``[]`` makes the whole frame one group.
    reference
        Aggregate the rows of another frame (e.g. trades around each quote) instead of ``frame``.
    reference_time_col, reference_symbol_col
        Its time and key columns (default: the same names as in ``frame``).
    date_col
        The trading-date column: no key group may hold rows of two dates (key by it).
    prevailing
        Also put in each window the reference row in force at its start: the key's last row
        before the window (at or before ``t + a`` for a pair ``(a, b)`` and for ``h > 0``
        (``a = 0``); strictly before ``t + h`` for ``h < 0``, whose window holds ``t + h``). Of
        tied rows, the last in input order. kdb+'s ``wj`` (``wj1`` is the default False),
        DolphinDB's ``pwj``, QuestDB's ``INCLUDE PREVAILING``. A window before the key's first
        row has none.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, same rows in the same order, with one column
        ``{name}_{h}`` per aggregate and horizon (``volume_60``, ``volume_-5``; ``volume_-5_5``
        for a pair), of the dtype Polars gives the aggregate (Float64 for ``time_weighted``).
        A row with a null key or time gets nulls.

    Raises
    ------
    ColumnNotFoundError
        For a missing time, key or aggregated column.
    SchemaError
        For a time column that is neither numeric nor temporal, time columns of different
        kinds, an aggregate that does not apply to the reference's dtypes, or key columns of
        different kinds in ``frame`` and ``reference``.
    DataError
        For a key group holding rows of several dates (``date_col``, a Date column, or a
        Datetime column when there is no ``date_col``), or a ``reference`` sharing no key with
        the frame (``600519`` vs ``600519.SH``: every window would be empty), as
        :func:`forward_return` refuses it.
    VizflowError
        For a non-finite or repeated horizon, a pair that is not two horizons or makes
        an empty window (``start >= end``), a number horizon on a temporal time column,
        an empty ``aggs``, an expression that is not an aggregate (one value per row), or an
        output column that already exists.

    Notes
    -----
    Rows are sorted by (key, time) internally, stably, and put back. Compiled aggregates cost
    O(n_rows + n_reference) per horizon: sums and counts are differences of prefix sums (kept as
    double-doubles, so a window's float sum is accurate relative to the window, and an integer
    sum is exact), minima and maxima come from a monotone deque. On a LazyFrame the aggregates
    are a plan node that runs at ``collect()`` over the key, time and aggregated columns only;
    filters written after the call are not pushed below it.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> trades = pl.DataFrame(
    ...     {
    ...         "symbol": ["A"] * 4,
    ...         "elapsed_seconds": [0.0, 10.0, 20.0, 30.0],
    ...         "price": [10.0, 10.2, 10.1, 10.4],
    ...         "qty": [100, 300, 100, 200],
    ...     }
    ... )
    >>> aggs = {
    ...     "volume": pl.col("qty").sum(),
    ...     "vwap": (pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum(),
    ... }
    >>> vf.forward_window(trades, [20, -10], aggs).select("elapsed_seconds", "^volume_.*$", "vwap_20")
    shape: (4, 4)
    ┌─────────────────┬───────────┬────────────┬─────────┐
    │ elapsed_seconds ┆ volume_20 ┆ volume_-10 ┆ vwap_20 │
    │ ---             ┆ ---       ┆ ---        ┆ ---     │
    │ f64             ┆ i64       ┆ i64        ┆ f64     │
    ╞═════════════════╪═══════════╪════════════╪═════════╡
    │ 0.0             ┆ 400       ┆ 0          ┆ 10.175  │
    │ 10.0            ┆ 300       ┆ 100        ┆ 10.3    │
    │ 20.0            ┆ 200       ┆ 300        ┆ 10.4    │
    │ 30.0            ┆ 0         ┆ 100        ┆ NaN     │
    └─────────────────┴───────────┴────────────┴─────────┘
    """
    parse_windows(horizons, where=_WHERE)  # the horizons' own errors come first
    lookup = lookup_spec(
        frame.lazy(),
        None if reference is None else reference.lazy(),
        where=_WHERE,
        time_col=time_col,
        symbol_col=symbol_col,
        reference_time_col=reference_time_col,
        reference_symbol_col=reference_symbol_col,
        date_col=date_col,
    )
    if not isinstance(prevailing, bool):
        msg = f"{_WHERE}: prevailing={prevailing!r}; expected True or False"
        raise VizflowError(msg)
    suffixes, spans = _check_horizons(horizons, lookup)
    ref_frame = frame if reference is None else reference
    checked = _check_aggs(aggs, ref_frame.lazy())
    roots: dict[str, None] = dict.fromkeys(c for a in checked for c in a.expr.meta.root_names())
    spec = _Spec(
        lookup=lookup,
        windows=spans,
        suffixes=suffixes,
        aggs=checked,
        roots=tuple(roots),
        prevailing=prevailing,
    )
    clash = [n for n in spec.names if n in frame.collect_schema()]
    if clash:
        msg = f"{_WHERE}: output column(s) {clash} already exist; drop them or rename the aggregates"
        raise VizflowError(msg)
    out_schema = {f"{a.name}_{suffix}": a.dtype for a in spec.aggs for suffix in spec.suffixes}
    windows = lookup_plan(
        frame.lazy(),
        None if reference is None else reference.lazy(),
        lookup,
        reads=[] if reference is not None else spec.roots,
        ref_reads=spec.roots,
        compute=lambda df, src: _compute(df, src, spec),
        schema=out_schema,
    )
    if isinstance(frame, pl.DataFrame):
        return frame.hstack(windows.collect())
    return pl.concat([frame, windows], how="horizontal")


def _compute(df: pl.DataFrame, src: pl.DataFrame | None, spec: _Spec) -> pl.DataFrame:
    """Compute the aggregate columns of ``df``'s rows, in its row order (at ``collect()`` time)."""
    at = arrange(df, src, spec.lookup)
    if src is not None:
        require_shared_keys(df, src, spec.lookup, at, nothing="every window would be empty")
    q_rows, q_offsets = at.q_rows, at.q_offsets
    source = df if src is None else src
    # An aggregate may read no column (pl.len()): the frame keeps the source's height all the same.
    sorted_src = source.select(spec.roots) if spec.roots else pl.DataFrame(height=source.height)
    if not at.s_in_order:
        # One chunk first: Polars gathers from a many-chunk frame (e.g. a shuffled sample) ~6x slower.
        sorted_src = sorted_src.rechunk().gather(at.s_rows)
    leaves = _LeafInputs(sorted_src, [leaf for agg in spec.aggs for leaf in agg.leaves])
    want_bounds = any(agg.weighted or agg.outer is None for agg in spec.aggs)
    found = leaves.run(at, spec.windows, prevailing=spec.prevailing, want_bounds=want_bounds)
    columns: list[pl.Series | pl.LazyFrame] = []  # the compiled aggregates' outer expressions run together
    for h, window in enumerate(spec.windows):
        lo, hi = found.bounds[h] if want_bounds else (found.length[:0], found.length[:0])
        memo: dict[str, pl.Series] = {}  # a leaf shared by aggregates (a VWAP's q.sum()) is made once
        for agg in spec.aggs:
            if agg.weighted:
                columns.append(leaves.time_weighted(agg.expr, at, window, lo, hi))
            elif agg.outer is None:
                columns.append(_general(sorted_src, lo, hi, agg))
            elif _bare(agg):  # one leaf as it is (a count, a volume, a high): no Polars query
                leaf = agg.leaves[0]
                columns.append(leaves.series(leaf, found, h, memo).cast(leaf.dtype))
            else:
                inputs = [
                    leaves.series(leaf, found, h, memo).alias(f"__vf_leaf{k}")
                    for k, leaf in enumerate(agg.leaves)
                ]
                columns.append(pl.DataFrame(inputs, height=df.height).lazy().select(agg.outer))
    lazy = [c for c in columns if isinstance(c, pl.LazyFrame)]
    done = iter(pl.collect_all(lazy) if lazy else [])
    series = [c if isinstance(c, pl.Series) else next(done).to_series() for c in columns]
    named = [  # in the loop's order: horizon by horizon, each aggregate
        values.cast(agg.dtype).alias(f"{agg.name}_{suffix}")
        for values, (suffix, agg) in zip(series, itertools.product(spec.suffixes, spec.aggs), strict=True)
    ]
    out = pl.DataFrame(named, height=df.height).select(spec.names)
    if not at.q_in_order:
        inverse = np.empty(df.height, dtype=np.int64)
        inverse[q_rows] = np.arange(df.height)
        out = out.gather(inverse)
    # Rows with a null key (group 0) or a null time match nothing: null in every output.
    void = np.isnan(at.q_time)
    void[q_rows[q_offsets[0] : q_offsets[1]]] = True
    if void.any():
        out = out.with_columns(pl.when(pl.lit(pl.Series(~void))).then(pl.all()))
    return out


def _bare(agg: _Agg) -> bool:
    """Whether a compiled aggregate is one leaf as it is (its outer expression only casts it)."""
    return (
        agg.outer is not None
        and len(agg.leaves) == 1
        and agg.outer.meta.eq(pl.col("__vf_leaf0").cast(agg.leaves[0].dtype))
    )


class _FloatPrefix(NamedTuple):
    """The outputs of :func:`~vizflow.kernels.window.prefix_sums_nb` for a float input."""

    n_valid: NDArray[np.int64]
    sums_hi: NDArray[np.float64]
    sums_lo: NDArray[np.float64]
    nan: NDArray[np.int64]
    pos_inf: NDArray[np.int64]
    neg_inf: NDArray[np.int64]


def _float_prefix(values: NDArray[np.float64], valid: NDArray[np.bool_]) -> _FloatPrefix:
    """Prefix sums (double-double) and counts of the valid float values, non-finite ones apart."""
    n = values.size + 1
    sums_hi, sums_lo = np.empty(n), np.empty(n)
    count, nan, pos, neg = (np.empty(n, dtype=np.int64) for _ in range(4))
    prefix_sums_nb(values, valid, sums_hi, sums_lo, count, nan, pos, neg)
    return _FloatPrefix(count, sums_hi, sums_lo, nan, pos, neg)


class _Found(NamedTuple):
    """The pass's outputs (:func:`~vizflow.kernels.window.window_pass_nb`), in query sort order.

    ``counts``, ``sums``, ``maxima``, ``minima`` hold the float columns' outputs (index 0) and the
    integer columns' (index 1), ``[horizon, column, query]``; ``bounds`` is ``[horizon, 2, query]``
    (lo, hi) and ``length`` ``[horizon, query]``, or empty when not asked for.
    """

    bounds: NDArray[np.int64]
    length: NDArray[np.int64]
    counts: tuple[NDArray[np.int64], NDArray[np.int64]]
    sums: tuple[NDArray[np.float64], NDArray[np.int64]]
    maxima: tuple[NDArray[np.float64], NDArray[np.int64]]
    minima: tuple[NDArray[np.float64], NDArray[np.int64]]


class _Slot(NamedTuple):
    """Where a compiled aggregate's input column sits: float (0) or integer (1) rows, which row."""

    side: int
    row: int
    dtype: pl.DataType


# What each kind of aggregate reads from the pass (means, maxima and minima are null where the count is 0).
_WANTS = {
    "sum": WANT_SUM,
    "mean": WANT_SUM | WANT_COUNT,
    "max": WANT_MAX | WANT_COUNT,
    "min": WANT_MIN | WANT_COUNT,
    "count": WANT_COUNT,
}


def _holds(series: pl.Series, values: NDArray[Any]) -> int:
    """Return the ``HOLDS_*`` flags of an input column: nulls, and (float) NaN or infinite values."""
    flags = HOLDS_NULL if series.null_count() else 0
    if values.dtype == np.float64 and not np.isfinite(values).all():  # one pass when all are finite
        if np.isnan(values).any():
            flags |= HOLDS_NAN
        if np.isinf(values).any():
            flags |= HOLDS_INF
    return flags


class _LeafInputs:
    """The sorted reference's inputs to the compiled aggregates, each column read once per call.

    The distinct inner expressions of the compiled aggregates are evaluated together and laid
    out as rows of one float64 and one int64 matrix (nulls 0, with a validity matrix beside),
    which one pass reads for every horizon.
    """

    def __init__(self, sorted_src: pl.DataFrame, leaves: Sequence[_Leaf]) -> None:
        self._src = sorted_src
        self._values: dict[str, tuple[pl.Series, NDArray[np.bool_]]] = {}
        self._gap_prefixes: dict[str, tuple[_FloatPrefix, _FloatPrefix]] = {}
        inners = {str(leaf.inner): leaf.inner for leaf in leaves if leaf.inner is not None}
        evaluated = sorted_src.select(e.alias(f"__vf{j}") for j, e in enumerate(inners.values()))
        n = sorted_src.height
        physical = [s.to_physical() for s in evaluated.get_columns()]
        self._slots: dict[str, _Slot] = {}
        counts = [0, 0]
        for key, series, column in zip(inners, evaluated.get_columns(), physical, strict=True):
            side = 0 if column.dtype.is_float() else 1
            self._slots[key] = _Slot(side, counts[side], series.dtype)
            counts[side] += 1
        self._wants = (np.zeros(counts[0], np.int64), np.zeros(counts[1], np.int64))
        self._matrix = (np.empty((counts[0], n)), np.empty((counts[1], n), np.int64))
        self._valid = (np.ones((counts[0], n), np.bool_), np.ones((counts[1], n), np.bool_))
        for key, series, column in zip(inners, evaluated.get_columns(), physical, strict=True):
            side, row, _ = self._slots[key]
            values = self._matrix[side][row]
            values[:] = column.cast(pl.Float64 if side == 0 else pl.Int64).fill_null(0).to_numpy()
            if series.null_count():
                self._valid[side][row] = series.is_not_null().to_numpy()
            self._wants[side][row] = _holds(series, values)
        self.wants_len = False  # a column without nulls counts hi - lo: the windows' lengths
        for leaf in leaves:
            if leaf.inner is None:
                self.wants_len = True
                continue
            slot = self._slots[str(leaf.inner)]
            wants = _WANTS[leaf.kind]
            if wants & WANT_COUNT and not self._wants[slot.side][slot.row] & HOLDS_NULL:
                wants &= ~WANT_COUNT
                self.wants_len = True
            self._wants[slot.side][slot.row] |= wants
        # Each column's row in the outputs it wants (count, sum, max, min), so that none is unused.
        self._rows = (np.zeros((counts[0], 4), np.int64), np.zeros((counts[1], 4), np.int64))
        self._n_rows = ([0] * 4, [0] * 4)
        for side in (0, 1):
            for j, flag in enumerate((WANT_COUNT, WANT_SUM, WANT_MAX, WANT_MIN)):
                for k in np.flatnonzero(self._wants[side] & flag):
                    self._rows[side][k, j] = self._n_rows[side][j]
                    self._n_rows[side][j] += 1

    def run(self, at: Arranged, windows: Sequence[_Window], *, prevailing: bool, want_bounds: bool) -> _Found:
        """Run the pass for every horizon, on runs of whole groups in threads (query sort order)."""
        n, n_h = at.q_sorted.size, len(windows)
        void = at.q_offsets[1]  # group 0 (null keys): left out of the pass, zero here (null later)

        def alloc(rows: int, dtype: type) -> NDArray[Any]:
            out: NDArray[Any] = np.empty((n_h, rows, n) if rows else (0, 0, 0), dtype)
            out[:, :, :void] = 0
            return out

        f_rows, i_rows = self._n_rows
        found = _Found(
            bounds=alloc(2 if want_bounds else 0, np.int64),
            length=alloc(1, np.int64)[:, 0, :] if self.wants_len else np.empty((0, 0), np.int64),
            counts=(alloc(f_rows[0], np.int64), alloc(i_rows[0], np.int64)),
            sums=(alloc(f_rows[1], np.float64), alloc(i_rows[1], np.int64)),
            maxima=(alloc(f_rows[2], np.float64), alloc(i_rows[2], np.int64)),
            minima=(alloc(f_rows[3], np.float64), alloc(i_rows[3], np.int64)),
        )
        starts = np.array([w.start for w in windows])
        ends = np.array([w.end for w in windows])
        right = np.array([w.closed_right for w in windows], np.bool_)
        groups, s_groups = at.q_offsets[1:], at.s_offsets[1:]
        by_group_runs(
            groups,
            lambda a, b: window_pass_nb(
                groups[a : b + 1], at.q_sorted, s_groups[a : b + 1], at.s_sorted, starts, ends, right,
                TIE_SLACK, prevailing, self._matrix[0], self._valid[0], self._wants[0], self._rows[0],
                self._matrix[1], self._valid[1], self._wants[1], self._rows[1], found.bounds, found.length,
                found.counts[0], found.sums[0], found.maxima[0], found.minima[0],
                found.counts[1], found.sums[1], found.maxima[1], found.minima[1],
            ),
        )  # fmt: skip
        return found

    def series(self, leaf: _Leaf, found: _Found, h: int, memo: dict[str, pl.Series]) -> pl.Series:
        """Return the leaf over every window of horizon ``h`` (query sort order), once per ``memo``."""
        key = f"{leaf.kind}({leaf.inner})"
        if key not in memo:
            memo[key] = self._series(leaf, found, h)
        return memo[key]

    def _series(self, leaf: _Leaf, found: _Found, h: int) -> pl.Series:
        if leaf.inner is None:  # pl.len()
            return pl.Series(found.length[h])
        side, row, dtype = self._slots[str(leaf.inner)]
        rows = self._rows[side][row]
        if leaf.kind == "sum":
            return pl.Series(found.sums[side][h, rows[1]])
        has_count = self._wants[side][row] & WANT_COUNT
        count = found.counts[side][h, rows[0]] if has_count else found.length[h]
        if leaf.kind == "count":
            return pl.Series(count)
        empty = count == 0
        if leaf.kind == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                result = pl.Series(found.sums[side][h, rows[1]] / np.where(empty, 1, count))
        elif leaf.kind == "max":
            result = pl.Series(found.maxima[side][h, rows[2]])
        else:
            result = pl.Series(found.minima[side][h, rows[3]])
        if empty.any():
            result = result.set(pl.Series(empty), None)
        return result if leaf.kind == "mean" else result.cast(dtype)

    def _column(self, expr: pl.Expr) -> tuple[pl.Series, NDArray[np.bool_]]:
        """Evaluate an expression over the sorted reference: the series and its validity."""
        key = str(expr)
        if key not in self._values:
            series = self._src.select(expr.alias("__vf")).to_series()
            self._values[key] = (series, series.is_not_null().to_numpy())
        return self._values[key]

    def time_weighted(
        self, expr: pl.Expr, at: Arranged, window: _Window, lo: NDArray[np.int64], hi: NDArray[np.int64]
    ) -> pl.Series:
        """Return the time-weighted mean of ``expr`` over every window ``[lo, hi)`` (query sort order)."""
        series, valid = self._column(expr)
        values = np.ascontiguousarray(series.cast(pl.Float64).fill_null(0.0).to_numpy())
        x, w = self._gaps(str(expr), at, values, valid)
        out = np.zeros(lo.size)
        found = np.zeros(lo.size, dtype=np.bool_)
        window_time_weighted_nb(
            at.q_offsets[1:], at.q_sorted, at.s_offsets[1:], at.s_sorted, lo, hi, window.start,
            window.end, values, valid, x.sums_hi, x.sums_lo, x.nan, x.pos_inf, x.neg_inf,
            w.sums_hi, w.sums_lo, out, found,
        )  # fmt: skip
        return pl.Series(out).set(pl.Series(~found), None)

    def _gaps(
        self, key: str, at: Arranged, values: NDArray[np.float64], valid: NDArray[np.bool_]
    ) -> tuple[_FloatPrefix, _FloatPrefix]:
        """Prefix sums of ``value * gap`` and of ``gap`` (a row's time to the next row of its key)."""
        if key not in self._gap_prefixes:
            times = at.s_sorted
            gap = np.zeros(times.size)
            if times.size:
                gap[:-1] = np.diff(times)
                ends = at.s_offsets[1:-1]
                gap[ends[ends > 0] - 1] = 0.0  # a key's last row has no next row
                gap[~np.isfinite(gap)] = 0.0  # next to a null time
            weighs = valid & (gap > 0)
            with np.errstate(invalid="ignore"):
                product = np.where(weighs, values * gap, 0.0)
            self._gap_prefixes[key] = (_float_prefix(product, weighs), _float_prefix(gap, weighs))
        return self._gap_prefixes[key]


def _general(sorted_src: pl.DataFrame, lo: NDArray[np.int64], hi: NDArray[np.int64], agg: _Agg) -> pl.Series:
    """Polars evaluates ``agg.expr`` over each window's gathered rows (query sort order)."""
    lengths = hi - lo
    total = int(lengths.sum())
    query = np.repeat(np.arange(lo.size), lengths)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    rows = sorted_src.gather(starts + np.arange(total)).with_columns(__vf_query=pl.Series(query))
    found = rows.group_by("__vf_query").agg(agg.expr.alias("__vf"))
    if found.schema["__vf"] != agg.dtype:
        got = found.schema["__vf"]
        msg = f"{_WHERE}: aggregate {agg.name!r} ({agg.expr}) gives {got} per window, not one value"
        raise SchemaError(msg)
    empty = sorted_src.head(0).select(agg.expr.alias("__vf")).to_series()
    out = pl.DataFrame({"__vf_query": np.arange(lo.size)}).join(found, on="__vf_query", how="left")
    values = out.sort("__vf_query").get_column("__vf")
    return values.set(pl.Series(lengths == 0), empty[0]) if (lengths == 0).any() else values
