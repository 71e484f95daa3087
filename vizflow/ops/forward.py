"""``forward_return``: the return from each row's price to the price ``h`` seconds later."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from vizflow._grouping import by_group_runs
from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import SchemaError, VizflowError
from vizflow.kernels.asof import (
    BACKWARD,
    EXACT_INT_TIMES,
    FORWARD,
    NEAREST,
    asof_price_nb,
    backward_returns_nb,
    forward_returns_nb,
)
from vizflow.market import get_market, require_choice
from vizflow.ops._horizons import CLOSE, horizon_name, parse_horizons, parse_tolerance
from vizflow.ops._lookup import (
    Lookup,
    arrange,
    lookup_plan,
    lookup_spec,
    read_times,
    require_shared_keys,
    sorted_segments,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import timedelta

    from numpy.typing import NDArray

    from vizflow._typing import FrameT
    from vizflow.market import Market
    from vizflow.ops._horizons import Horizon

__all__ = ["CLOSE", "Finish", "forward_levels", "forward_return", "horizon_name"]

_DIRECTIONS = {"backward": BACKWARD, "forward": FORWARD, "nearest": NEAREST}
_WHERE = "forward_return"


def _names(values: list[Horizon], names: Sequence[str] | None, prefix: str) -> list[str]:
    if names is None:
        return [f"{prefix}{h.text}" for h in values]
    given = [names] if isinstance(names, str) else list(names)
    if len(given) != len(values) or not all(isinstance(n, str) and n for n in given):
        msg = f"forward_return: names={names!r}; expected one non-empty name per horizon ({len(values)})"
        raise VizflowError(msg)
    if len(set(given)) != len(given):
        msg = f"forward_return: names={given} repeats a name"
        raise VizflowError(msg)
    return given


def _session_bounds(
    market: Market | str | None, returns_within: str, *, session_clock: bool
) -> tuple[float, ...]:
    require_choice("returns_within", returns_within, ["day", "session"], where="forward_return")
    if returns_within == "day":
        return ()
    if market is None:
        msg = (
            "forward_return: returns_within='session' needs market= (e.g. vf.CN), whose sessions "
            "bound the window"
        )
        raise VizflowError(msg)
    if not session_clock:
        msg = (
            "forward_return: returns_within='session' reads the session clock: give a numeric "
            "time_col such as elapsed_seconds from vf.parse_time, not a Datetime"
        )
        raise VizflowError(msg)
    lengths = [session.length_seconds for session in get_market(market).sessions]
    return tuple(float(b) for b in np.cumsum([0.0, *lengths]))


_PRICE = "__vizflow_price"  # the column an expression given as a price is evaluated into
_REF_PRICE = "__vizflow_reference_price"


def _with_price(
    frame: pl.LazyFrame, price: str | pl.Expr, temp: str, *, what: str
) -> tuple[pl.LazyFrame, str]:
    """Return ``frame`` and the name of its price column: an expression is evaluated into ``temp``."""
    if isinstance(price, str):
        return frame, price
    where = f"forward_return ({what})"
    if not isinstance(price, pl.Expr):
        msg = f"{where}: price {price!r}; expected a column name or a Polars expression"
        raise VizflowError(msg)
    require_columns(frame.collect_schema(), price.meta.root_names(), where=where)
    try:
        dtype = frame.select(price.alias(temp)).collect_schema()[temp]
    except pl.exceptions.PolarsError as err:
        msg = f"{where}: price expression {price} does not apply to the columns: {err}"
        raise SchemaError(msg) from None
    if price.meta.is_scalar():
        msg = f"{where}: price expression {price} gives one value, not one per row"
        raise VizflowError(msg)
    if not dtype.is_numeric():
        msg = f"{where}: price expression {price} has dtype {dtype}; expected a number"
        raise SchemaError(msg)
    return frame.with_columns(price.alias(temp)), temp


def _check_price(schema: pl.Schema, price: str, *, what: str) -> None:
    where = f"forward_return ({what})"
    require_columns(schema, [price], where=where)
    require_numeric(schema, price, where=where)


def _times(frame: pl.DataFrame, time: str, *, where: str = "forward_return") -> NDArray[np.float64]:
    """Float64 seconds; null, NaN and infinite times become NaN (see :func:`read_times`)."""
    return read_times(frame, time, where=where)


def _segments(
    codes: NDArray[np.int64], n_groups: int, times: NDArray[np.float64], *, where: str = "forward_return"
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows in (key, time) order: the input position of each sorted row, and CSR offsets."""
    order, offsets, _, _ = sorted_segments(codes, n_groups, times, where=where)
    return order, offsets


def forward_return(
    frame: FrameT,
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
    """Add the forward return of each row at one or more horizons (``return_{h}`` columns).

    For a row of symbol ``s`` at time ``t``, the *future price* at horizon ``h`` is the last
    price observed at or before ``t + h`` for ``s`` (an as-of lookup, backward; of several
    observations at the same time the last row wins), and the return is
    ``(future - current) / current`` (``log(future / current)`` with ``log=True``).

    The return is null when ``t + h`` lies beyond the symbol's last observation (no future price
    yet), when the price found is null, when the current price is null or zero, when ``t`` or the
    symbol is null, with ``log=True`` when the price ratio is not positive, and when
    ``tolerance`` is set and the price found is older than ``tolerance`` before ``t + h``.
    With ``time_col="elapsed_seconds"`` (from :func:`vizflow.parse_time`) a horizon crossing
    the lunch break lands in the afternoon: 11:29:30 + 60 s reads 13:00:30.
    ``t + h`` is compared with a slack of a few ulps, so a decimal tie counts as reached even when
    binary rounding puts ``t + h`` just below it (0.7 + 0.1 reads a price at 0.8).

    Parameters
    ----------
    frame
        Rows to measure (e.g. trades), DataFrame or LazyFrame; any row order.
    horizons
        One or more horizons, each given once: a finite number in the unit of ``time_col``
        (seconds for ``elapsed_seconds``; negative: the past, ``0``: the price at ``t`` itself),
        a Polars duration (``"500ms"``, ``"1m"``, ``"1h30m"``) or ``datetime.timedelta`` (seconds
        on a numeric ``time_col``, wall-clock time on a Datetime one), or ``"close"`` (the key's
        last price). Columns are named as given: ``return_60``, ``return_1m``.
    price_col
        The current price (not read with ``current="reference"``): a column of ``frame``, or a
        Polars expression evaluated on ``frame`` (e.g. ``vf.book.microprice()``).
    time_col
        The time column of ``frame`` (and of ``reference`` unless ``reference_time_col``):
        numeric (the session clock, e.g. ``elapsed_seconds``) or a Datetime, Date or Duration
        (the wall clock, with duration horizons; a bare number has no unit there).
    symbol_col
        The key column, or several (``["date", "symbol"]``), as ``join_asof(by=...)``. Keys of
        any dtype Polars groups by (integers, strings, Categorical/Enum, Date, Duration,
        Boolean, floats) match by value; a row with a null key matches nothing; ``[]`` makes
        the whole frame one group.
    reference
        Measure future prices on another frame (e.g. quotes) instead of ``frame`` itself.
    reference_price_col
        The reference's price: a column (default ``"mid"``) or a Polars expression evaluated on
        the reference (``vf.book.microprice()`` reads its bid, ask and sizes).
    reference_time_col, reference_symbol_col
        Its time and key columns (default: the same names as in ``frame``); the reference's key
        columns pair with ``symbol_col`` by position.
    current
        ``"own"`` (default): the current price is ``frame[price_col]``. ``"reference"``: the
        reference price as of ``t`` (e.g. the mid at the trade time; ``tolerance`` applies).
    tolerance
        Maximum staleness of a looked-up price, as a horizon (a number in time units or a
        duration such as ``"2s"``). ``None``: unlimited.
    log
        Log returns instead of simple returns.
    prefix
        Column name prefix; names follow :func:`horizon_name` (``return_60``, ``return_0.5``).
    date_col
        The trading-date column: no key group may hold rows of two dates (key by it).
    direction
        The as-of lookup at ``t + h``, as pandas ``merge_asof``: ``"backward"`` (the last row
        at or before), ``"forward"`` (the first at or after) or ``"nearest"`` (the closer of the
        two, the backward one on a tie).
    allow_exact_matches
        ``False``: a row exactly at ``t + h`` is not matched (strictly before or after).
    names
        Output column names, one per horizon, instead of ``prefix`` + the horizon.
    returns_within
        ``"day"`` (default): a window may run to the key's last observation. ``"session"``: a
        return whose window leaves the session holding ``t`` is null (needs ``market``).
    market
        The market whose sessions bound the windows with ``returns_within="session"``.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, same rows in the same order, with one Float64 column per
        horizon.

    Raises
    ------
    ColumnNotFoundError
        For a missing column (named, with the available ones).
    SchemaError
        For a non-numeric price, a time column that is neither numeric nor temporal, time
        columns of different kinds in ``frame`` and ``reference``; for key columns of different
        kinds (integers vs strings, which never match).
    DataError
        For integer times beyond 2**53 (e.g. epoch nanoseconds), which float64 would merge; for
        a key group holding rows of several dates (``date_col``, a Date column, or a Datetime
        column when there is no ``date_col``), which would chain one day's prints to the next
        (the message shows keys that pass); for a reference that
        shares no key with the frame (``600519`` vs ``600519.SH``), which would give only nulls.
    VizflowError
        For a horizon that is not a finite number, a duration or ``"close"``, a duplicated
        horizon or an empty list, a number horizon on a temporal time column; for a bad
        ``current`` or ``tolerance``; for key lists of different lengths.

    Notes
    -----
    Rows are sorted by (key, time) internally (stably, so equal times keep their order) and
    put back, so the input need not be sorted: a counting sort by key, then a radix sort of only
    the keys whose times are out of order, so input sorted by key or by time (a feed) costs
    linear passes. Null, NaN and infinite times match nothing. The lookup is one compiled pass
    over the sorted arrays for all horizons at once (``vizflow.kernels.asof``).

    On a LazyFrame nothing is read at call time: the returns are a plan node that runs at
    ``collect()`` (any engine), over only the key, time and price columns (and the reference's);
    the node needs all rows of those columns in memory at once, since any row may look up any
    later row of its key. Projections of the other columns still reach the scan; filters
    written after the call are not pushed below it (a filtered-out quote must still be seen).
    On a DataFrame the result is computed at once.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> quotes = pl.DataFrame(
    ...     {
    ...         "symbol": ["A"] * 4,
    ...         "elapsed_seconds": [0.0, 30.0, 60.0, 90.0],
    ...         "mid": [10.0, 10.1, 10.2, 10.0],
    ...     }
    ... )
    >>> vf.forward_return(quotes, [30, 60], "mid", "elapsed_seconds", "symbol")
    shape: (4, 5)
    ┌────────┬─────────────────┬──────┬───────────┬───────────┐
    │ symbol ┆ elapsed_seconds ┆ mid  ┆ return_30 ┆ return_60 │
    │ ---    ┆ ---             ┆ ---  ┆ ---       ┆ ---       │
    │ str    ┆ f64             ┆ f64  ┆ f64       ┆ f64       │
    ╞════════╪═════════════════╪══════╪═══════════╪═══════════╡
    │ A      ┆ 0.0             ┆ 10.0 ┆ 0.01      ┆ 0.02      │
    │ A      ┆ 30.0            ┆ 10.1 ┆ 0.009901  ┆ -0.009901 │
    │ A      ┆ 60.0            ┆ 10.2 ┆ -0.019608 ┆ null      │
    │ A      ┆ 90.0            ┆ 10.0 ┆ null      ┆ null      │
    └────────┴─────────────────┴──────┴───────────┴───────────┘
    """
    values = parse_horizons(horizons, where=_WHERE)
    if current not in ("own", "reference"):
        msg = f"forward_return: current={current!r}; expected 'own' or 'reference'"
        raise VizflowError(msg)
    if current == "reference" and reference is None:
        msg = "forward_return: current='reference' needs a reference frame"
        raise VizflowError(msg)
    tol = _check_options(tolerance, direction, allow_exact_matches)
    lazy, price = frame.lazy(), ""  # with current="reference" the frame's price is not read
    if current == "own":
        lazy, price = _with_price(lazy, price_col, _PRICE, what="frame")
    ref_lazy, ref_price = None, ""
    if reference is not None:
        given = "mid" if reference_price_col is None else reference_price_col
        ref_lazy, ref_price = _with_price(reference.lazy(), given, _REF_PRICE, what="reference")
    lookup = lookup_spec(
        lazy,
        ref_lazy,
        where=_WHERE,
        time_col=time_col,
        symbol_col=symbol_col,
        reference_time_col=reference_time_col,
        reference_symbol_col=reference_symbol_col,
        date_col=date_col,
    )
    if current == "own":
        _check_price(lazy.collect_schema(), price, what="frame")
    if ref_lazy is not None:
        _check_price(ref_lazy.collect_schema(), ref_price, what="reference")
    columns = _names(values, names, prefix)
    clash = [n for n in columns if n in frame.collect_schema()]
    if clash:
        msg = f"forward_return: output column(s) {clash} already exist; drop them or set prefix= or names="
        raise VizflowError(msg)
    spec = _Spec(
        lookup=lookup,
        names=tuple(columns),
        price=price if current == "own" else None,
        values=(ref_price if ref_lazy is not None else price,),
        columns=(0,) * len(values),
        levels=False,
        current=current,
        log=log,
        match=_matching(lookup, values, tol, direction, allow_exact_matches, returns_within, market),
    )
    return _attach(frame, lazy, ref_lazy, spec)


def _check_options(
    tolerance: float | str | timedelta | None, direction: str, allow_exact_matches: object
) -> Horizon | None:
    """Check the matching options given to a lookup; return the tolerance read as a horizon."""
    tol = parse_tolerance(tolerance, where=_WHERE)
    require_choice("direction", direction, list(_DIRECTIONS), where=_WHERE)
    if not isinstance(allow_exact_matches, bool | np.bool_):
        msg = f"forward_return: allow_exact_matches={allow_exact_matches!r}; expected True or False"
        raise VizflowError(msg)
    return tol


def _matching(  # noqa: PLR0917  (forward_return's options, in its order)
    lookup: Lookup,
    values: list[Horizon],
    tol: Horizon | None,
    direction: str,
    allow_exact_matches: bool,
    returns_within: str,
    market: Market | str | None,
) -> _Match:
    """Return the matching rule of a checked lookup, in the time column's unit."""
    bounds = _session_bounds(market, returns_within, session_clock=lookup.ns_per_unit is None)
    return _Match(
        shifts=tuple(0.0 if h.is_close else lookup.resolve(h) for h in values),
        to_close=tuple(h.is_close for h in values),
        tolerance=math.inf if tol is None else lookup.resolve(tol, "tolerance"),
        direction=_DIRECTIONS[direction],
        allow_exact=bool(allow_exact_matches),
        bounds=bounds,
    )


def _attach(frame: FrameT, lazy: pl.LazyFrame, ref_lazy: pl.LazyFrame | None, spec: _Spec) -> FrameT:
    """Place the lookup's plan node beside ``frame``: computed now for a DataFrame, lazily otherwise."""
    finish: Finish | None = spec.finish
    returns = lookup_plan(
        lazy,
        ref_lazy,
        spec.lookup,
        reads=[*([spec.price] if spec.price else []), *(finish.reads if finish else ())],
        ref_reads=list(spec.values),
        compute=lambda df, src: _compute(df, src, spec),
        schema=dict.fromkeys(finish.names if finish else spec.names, pl.Float64()),
    )
    if finish is not None:  # its arrays mark a null with NaN; Polars masks them (threads over columns)
        returns = returns.with_columns(pl.all().fill_nan(None))
    if isinstance(frame, pl.DataFrame):
        return frame.hstack(returns.collect())
    return pl.concat([frame, returns], how="horizontal")


def forward_levels(
    frame: FrameT,
    horizons: Sequence[float | str | timedelta] | float | str | timedelta,
    reference: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str],
    names: Sequence[Sequence[str | None]],
    *,
    time_col: str = "elapsed_seconds",
    symbol_col: str | Sequence[str] = "symbol",
    reference_time_col: str | None = None,
    reference_symbol_col: str | Sequence[str] | None = None,
    tolerance: float | str | timedelta | None = None,
    date_col: str = "date",
    direction: Literal["backward", "forward", "nearest"] = "backward",
    allow_exact_matches: bool = True,
    returns_within: Literal["day", "session"] = "day",
    market: Market | str | None = None,
    finish: Finish | None = None,
) -> FrameT:
    """Add reference values (levels, not returns) found at each horizon, several columns in one lookup.

    The reference row matched at ``t + h`` is the one :func:`forward_return` reads its future
    price from (same keys, directions, tolerance, sessions and nulls); here every column of
    ``columns`` is read from it, with one key coding, one sort and one pass for all of them.
    ``names[k][c]`` names the value of ``columns[c]`` at ``horizons[k]`` (None: not wanted).
    A null, NaN or infinite value, or no match, gives null.

    Parameters
    ----------
    frame, horizons, time_col, symbol_col
        As for :func:`forward_return`.
    reference
        The frame the values are read from (e.g. quotes).
    columns
        Numeric columns of ``reference``.
    names
        One row per horizon, one output name (or None) per column.
    reference_time_col, reference_symbol_col, tolerance, date_col, direction
        As for :func:`forward_return`.
    allow_exact_matches, returns_within, market
        As for :func:`forward_return`.
    finish
        Measures made of the levels in the lookup's own plan node (see :class:`Finish`): the
        columns added are then ``finish.names``, and the levels are never columns.

    Returns
    -------
    DataFrame or LazyFrame
        ``frame`` with one Float64 column per name, in ``names`` order (horizon by horizon), or
        per name of ``finish.names``.

    Raises
    ------
    VizflowError
        For ``names`` not of the horizons' and columns' shape, a repeated or existing name; and
        as :func:`forward_return` raises.

    Examples
    --------
    >>> import polars as pl
    >>> quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 10.0], "bid": [9.0, 9.5], "ask": [11.0, 10.5]})
    >>> trades = pl.DataFrame({"symbol": "A", "t": [5.0]})
    >>> names = [["bid", "ask"], ["bid_5", None]]  # both at t, the bid only at t + 5
    >>> forward_levels(trades, [0, 5], quotes, ["bid", "ask"], names, time_col="t").rows()
    [('A', 5.0, 9.0, 11.0, 9.5)]
    """
    values = parse_horizons(horizons, where=_WHERE)
    tol = _check_options(tolerance, direction, allow_exact_matches)
    lazy, ref_lazy = frame.lazy(), reference.lazy()
    lookup = lookup_spec(
        lazy,
        ref_lazy,
        where=_WHERE,
        time_col=time_col,
        symbol_col=symbol_col,
        reference_time_col=reference_time_col,
        reference_symbol_col=reference_symbol_col,
        date_col=date_col,
    )
    ref_schema = ref_lazy.collect_schema()
    for column in columns:
        _check_price(ref_schema, column, what="reference")
    rows = [list(row) for row in names]
    if len(rows) != len(values) or any(len(row) != len(columns) for row in rows):
        msg = (
            f"forward_return: names={names!r}; expected one row per horizon ({len(values)}) of one "
            f"name or None per column ({len(columns)})"
        )
        raise VizflowError(msg)
    wanted = [n for row in rows for n in row if n is not None]
    if len(set(wanted)) != len(wanted) or not all(isinstance(n, str) and n for n in wanted):
        msg = f"forward_return: names={names!r}; expected distinct non-empty names"
        raise VizflowError(msg)
    schema = frame.collect_schema()
    clash = [n for n in (wanted if finish is None else finish.names) if n in schema]
    if clash:
        msg = f"forward_return: output column(s) {clash} already exist; drop them or rename them"
        raise VizflowError(msg)
    if finish is not None:
        require_columns(schema, finish.reads, where="forward_return (frame)")
        if len(finish.names) < len(wanted):
            msg = (
                f"forward_return: finish.names={finish.names}; expected one at least per level "
                f"({len(wanted)})"
            )
            raise VizflowError(msg)
    # One probe per name: the horizon it is read at (repeated for several columns) and its column.
    probes = [(values[k], c) for k, row in enumerate(rows) for c, n in enumerate(row) if n is not None]
    spec = _Spec(
        lookup=lookup,
        names=tuple(wanted),
        price=None,
        values=tuple(columns),
        columns=tuple(c for _, c in probes),
        levels=True,
        current="own",
        log=False,
        match=_matching(
            lookup, [h for h, _ in probes], tol, direction, allow_exact_matches, returns_within, market
        ),
        finish=finish,
    )
    return _attach(frame, lazy, ref_lazy, spec)


@dataclass(frozen=True)
class Finish:
    """What a levels lookup makes of its levels inside its own plan node (:func:`forward_levels`).

    The node's output is one block, ``float64[len(names), height]`` in row order, NaN for null:
    the lookup writes the level named ``k``-th (in the order of :func:`forward_levels`' names,
    horizon by horizon) to the block's row ``k``; ``compute(frame, block)`` gets the node's rows of the
    frame (the lookup's columns and ``reads``) and overwrites the block in place with the
    columns ``names`` (every row of it: rows no level lands in arrive uninitialised). The
    columns are the block's rows, not copies, so they share one allocation: it is freed with
    the last of them.
    """

    names: tuple[str, ...]
    reads: tuple[str, ...]
    compute: Callable[[pl.DataFrame, NDArray[np.float64]], None]


@dataclass(frozen=True)
class _Spec:
    """A validated call: what the plan node computes at ``collect()`` time."""

    lookup: Lookup
    names: tuple[str, ...]  # one per probe (output row)
    price: str | None  # the frame's current price (None: not read)
    values: tuple[str, ...]  # the source's value columns (the frame's price without a reference)
    columns: tuple[int, ...]  # per probe (output row): the value column it reads, at match.shifts[probe]
    levels: bool  # write the values found, not returns on the current price
    current: str
    log: bool
    match: _Match
    finish: Finish | None = None  # measures made of the levels in the node (forward_levels)


@dataclass(frozen=True)
class _Match:
    """Where a lookup matches: the shifts (in the time column's unit, 0 for the close) and the rule."""

    shifts: tuple[float, ...]
    to_close: tuple[bool, ...]
    tolerance: float
    direction: int
    allow_exact: bool
    bounds: tuple[float, ...]


def _copy_floats(series: pl.Series, out: NDArray[np.float64]) -> None:
    """Write ``series`` as float64 (null as NaN) into ``out``, a chunk at a time (no whole copy between)."""
    position = 0
    for chunk in series.cast(pl.Float64).get_chunks():
        out[position : position + chunk.len()] = chunk.to_numpy()  # no copy for a chunk without nulls
        position += chunk.len()


def _in_sorted_order(series: pl.Series, rows: NDArray[np.int64], *, in_order: bool) -> NDArray[np.float64]:
    """Return a writable float64 copy of ``series`` (null as NaN) in sorted row order."""
    out = np.empty(series.len())
    if in_order:
        _copy_floats(series, out)
    else:
        np.take(series.cast(pl.Float64).to_numpy(), rows, out=out)
    return out


def _sorted_values(
    frame: pl.DataFrame, columns: Sequence[str], rows: NDArray[np.int64], *, in_order: bool
) -> NDArray[np.float64]:
    """Return ``float64[len(columns), height]``: each column (nulls as NaN) in sorted row order."""
    out = np.empty((len(columns), frame.height))
    for c, column in enumerate(columns):
        series = frame.get_column(column)
        if in_order:
            _copy_floats(series, out[c])
        else:
            np.take(series.cast(pl.Float64).to_numpy(), rows, out=out[c])
    return out


def _is_plain_backward(spec: _Spec) -> bool:
    """Tell whether the call is the default lookup that ``backward_returns_nb`` computes.

    Backward, exact matches allowed, no tolerance, no session bounds, no ``"close"`` horizon.
    """
    match = spec.match
    return (
        match.direction == BACKWARD
        and match.allow_exact
        and match.tolerance == math.inf
        and len(match.bounds) <= 1
        and not any(match.to_close)
    )


def _compute(df: pl.DataFrame, src: pl.DataFrame | None, spec: _Spec) -> pl.DataFrame:
    """Compute the return columns of ``df``'s rows, in its row order (at ``collect()`` time).

    The sorted arrays die with :func:`_returns` before the columns are built, so that the
    peak holds the returns array and the columns, not every intermediate as well.
    """
    out = _returns(df, src, spec)
    if spec.finish is not None:
        spec.finish.compute(df, out)  # in place; NaN is masked after the node
        return pl.DataFrame([pl.Series(n, out[k]) for k, n in enumerate(spec.finish.names)], height=df.height)
    columns = [pl.Series(name, out[k], nan_to_null=True) for k, name in enumerate(spec.names)]
    return pl.DataFrame(columns, height=df.height)


def _returns(df: pl.DataFrame, src: pl.DataFrame | None, spec: _Spec) -> NDArray[np.float64]:
    """Return the outputs as ``float64[rows, df.height]`` in ``df``'s row order, NaN for null.

    A row per probe (or the finish's block, whose first rows the probes fill).
    """
    match = spec.match
    integer = (
        _is_plain_backward(spec)
        and spec.current == "own"
        and all(float(h).is_integer() and abs(h) <= EXACT_INT_TIMES // 2 for h in match.shifts)
    )  # the default lookup compares exact integer times as integers
    at = arrange(df, src, spec.lookup, integer=integer)
    if src is not None:
        require_shared_keys(df, src, spec.lookup, at, nothing="every return would be null")
    at = at._replace(codes=[], q_time=at.q_sorted)  # free the key codes and unsorted times now
    # The kernel walks sorted arrays: one gather is cheaper than random reads in the pass.
    s_values = _sorted_values(df if src is None else src, spec.values, at.s_rows, in_order=at.s_in_order)
    q_rows, q_offsets, q_sorted = at.q_rows, at.q_offsets, at.q_sorted
    out = np.empty((len(spec.finish.names if spec.finish else spec.names), df.height))
    out[:, q_rows[q_offsets[0] : q_offsets[1]]] = np.nan  # group 0: a null key matches nothing
    q_offsets, s_offsets = q_offsets[1:], at.s_offsets[1:]
    if spec.levels:
        now = np.empty(0)  # not read
    elif spec.current == "reference":
        now = np.empty(df.height)
        asof_price_nb(
            q_offsets, q_sorted, s_offsets, at.s_sorted, s_values[0], match.direction, match.allow_exact,
            match.tolerance, now,
        )  # fmt: skip
    elif src is None:
        now = s_values[0]
    else:
        assert spec.price is not None  # nulls arrive as NaN
        now = _in_sorted_order(df.get_column(spec.price), q_rows, in_order=at.q_in_order)
    columns = np.array(spec.columns, dtype=np.int64)
    shifts = np.array(match.shifts, dtype=at.q_sorted.dtype)  # int64 shifts with int64 times
    to_close, bounds = np.array(match.to_close, dtype=np.bool_), np.array(match.bounds, np.float64)
    plain = _is_plain_backward(spec)

    def run(a: int, b: int) -> None:  # groups a..b-1, in a thread (the kernels release the GIL)
        qo, so = q_offsets[a : b + 1], s_offsets[a : b + 1]
        if plain:
            backward_returns_nb(
                qo, q_rows, q_sorted, now, so, at.s_sorted, s_values, columns, shifts, spec.log, spec.levels,
                at.q_in_order, out,
            )  # fmt: skip
        else:
            forward_returns_nb(
                qo, q_rows, q_sorted, now, so, at.s_sorted, s_values, columns, shifts, to_close,
                match.direction, match.allow_exact, match.tolerance, spec.log, spec.levels, bounds, out,
            )  # fmt: skip

    by_group_runs(q_offsets, run)
    return out
