"""The lookup both ``forward_return`` and ``forward_window`` are: the spec, its checks and its plan.

A lookup reads, for each row of a frame, rows of the same key in a reference frame (the frame
itself by default) at a time relative to the row's own. Both functions take the same keys,
reference, time column and horizons (``vizflow.ops._horizons``) and refuse the same things with
the same words; this module holds what they share:

- :func:`lookup_spec` checks a call (columns, dtypes, key kinds, the time axis) and returns a
  :class:`Lookup`;
- :func:`lookup_plan` places a computation as one plan node beside the untouched frame;
- :func:`arrange` runs at ``collect()``: the multi-date check, shared key codes, the times on
  one axis and the (key, time) order of both sides.

The time column is numeric (seconds for ``elapsed_seconds``, the session clock) or temporal
(Datetime, Date, Duration: wall-clock time, e.g. a crypto market without sessions). Temporal
times are read as integers of the column's unit from the earliest time of both sides, exactly
while the span is below 2**53 units (104 days at nanoseconds, 285 years at microseconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import polars as pl

from vizflow._grouping import group_order, key_codes, key_kind
from vizflow._keys import as_keys, check_dates_in_keys
from vizflow._node import node_columns, plan_node
from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.kernels.asof import EXACT_INT_TIMES
from vizflow.kernels.codes import merge_codes_nb
from vizflow.kernels.segments import sorted_offsets_nb

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

    from vizflow.ops._horizons import Horizon

__all__ = [
    "Arranged",
    "Lookup",
    "arrange",
    "lookup_plan",
    "lookup_spec",
    "read_times",
    "sorted_segments",
    "time_unit",
]

EXACT_INT = 2**53  # float64 holds every integer up to this exactly
_NS_PER = {"ns": 1, "us": 1_000, "ms": 1_000_000}
_UNIT_OF: dict[float, Literal["ns", "us", "ms"]] = {1.0: "ns", 1_000.0: "us", 1_000_000.0: "ms"}


@dataclass(frozen=True)
class Lookup:
    """The checked keys and time columns of a lookup call.

    ``ns_per_unit`` is None for a numeric time column, else the nanoseconds in one unit of the
    temporal one (Datetime and Duration: their time unit; Date: a day).
    """

    where: str
    keys: tuple[str, ...]
    ref_keys: tuple[str, ...]
    time: str
    ref_time: str
    date_col: str
    ns_per_unit: float | None
    has_reference: bool

    def resolve(self, horizon: Horizon, what: str = "horizon") -> float:
        """Return ``horizon`` (or a tolerance) in the unit of the time column (``inf`` for the close)."""
        return horizon.in_unit(self.ns_per_unit, where=self.where, time_col=self.time, what=what)


def time_unit(dtype: pl.DataType) -> float | None:
    """Return the nanoseconds per unit of a temporal time column, None for a numeric one.

    Examples
    --------
    >>> time_unit(pl.Float64), time_unit(pl.Datetime("us", "UTC")), time_unit(pl.Date)
    (None, 1000.0, 86400000000000.0)
    """
    if isinstance(dtype, pl.Datetime | pl.Duration):
        return float(_NS_PER[dtype.time_unit or "us"])
    if dtype == pl.Date:
        return 86_400e9
    return None


def _check_frame(frame: pl.LazyFrame | pl.DataFrame, time: str, keys: list[str], *, where: str) -> pl.Schema:
    schema = frame.collect_schema()
    require_columns(schema, [time, *keys], where=where)
    dtype = schema[time]
    if not (dtype.is_numeric() or isinstance(dtype, pl.Datetime | pl.Duration) or dtype == pl.Date):
        msg = (
            f"{where}: time column {time!r} has dtype {dtype}; expected numeric seconds (e.g. "
            "elapsed_seconds from vf.parse_time) or a Datetime, Date or Duration (wall-clock time)"
        )
        raise SchemaError(msg)
    return schema


def _check_times_agree(
    schema: pl.Schema, time: str, ref_schema: pl.Schema, ref_time: str, where: str
) -> None:
    a, b = schema[time], ref_schema[ref_time]
    kinds = {
        "numeric" if d.is_numeric() else f"{d.base_type()} time zone {getattr(d, 'time_zone', None)}"
        for d in (a, b)
    }
    if len(kinds) > 1:
        msg = (
            f"{where}: time column {time!r} is {a} but the reference's {ref_time!r} is {b}; "
            "give both the same kind of time (both numeric seconds, or both Datetime in one "
            "time zone) so that their times compare"
        )
        raise SchemaError(msg)


def _check_key_kinds(
    schema: pl.Schema, keys: list[str], ref_schema: pl.Schema, ref_keys: list[str], where: str
) -> None:
    """Keys match by value within a kind: refuse pairs that never match (600519 vs "000333")."""
    if len(keys) != len(ref_keys):
        msg = (
            f"{where}: symbol_col {keys} and reference_symbol_col {ref_keys} name different "
            "numbers of key columns; give one reference column per key column"
        )
        raise VizflowError(msg)
    for key, ref_key in zip(keys, ref_keys, strict=True):
        a, b = schema[key], ref_schema[ref_key]
        if key_kind(a) != key_kind(b):
            msg = (
                f"{where}: symbol column {key!r} is {a} but the reference's {ref_key!r} "
                f"is {b}; cast one to the other's kind (e.g. integer codes to zero-padded strings) "
                "so that the same symbol matches"
            )
            raise SchemaError(msg)


def lookup_spec(
    frame: pl.LazyFrame,
    reference: pl.LazyFrame | None,
    *,
    where: str,
    time_col: str,
    symbol_col: str | Sequence[str],
    reference_time_col: str | None,
    reference_symbol_col: str | Sequence[str] | None,
    date_col: str,
) -> Lookup:
    """Check a lookup's frames, keys and time columns (one ``collect_schema()`` each).

    Examples
    --------
    >>> lf = pl.LazyFrame({"symbol": ["A"], "t": [0.0]})
    >>> spec = lookup_spec(
    ...     lf,
    ...     None,
    ...     where="demo",
    ...     time_col="t",
    ...     symbol_col="symbol",
    ...     reference_time_col=None,
    ...     reference_symbol_col=None,
    ...     date_col="date",
    ... )
    >>> spec.keys, spec.ref_time, spec.ns_per_unit
    (('symbol',), 't', None)
    """
    keys = as_keys(symbol_col, where=where, name="symbol_col")
    schema = _check_frame(frame, time_col, keys, where=f"{where} (frame)")
    ref_keys, ref_time, ref_schema = keys, time_col, schema
    if reference is not None:
        if reference_symbol_col is not None:
            ref_keys = as_keys(reference_symbol_col, where=where, name="reference_symbol_col")
        ref_time = reference_time_col or time_col
        ref_schema = _check_frame(reference, ref_time, ref_keys, where=f"{where} (reference)")
        _check_times_agree(schema, time_col, ref_schema, ref_time, where)
    _check_key_kinds(schema, keys, ref_schema, ref_keys, where)
    return Lookup(
        where=where,
        keys=tuple(keys),
        ref_keys=tuple(ref_keys),
        time=time_col,
        ref_time=ref_time,
        date_col=date_col,
        # the finer unit of both sides, so that casting to it loses nothing
        ns_per_unit=min(
            (u for u in (time_unit(schema[time_col]), time_unit(ref_schema[ref_time])) if u is not None),
            default=None,
        ),
        has_reference=reference is not None,
    )


def lookup_plan(
    frame: pl.LazyFrame,
    reference: pl.LazyFrame | None,
    spec: Lookup,
    *,
    reads: Sequence[str],
    ref_reads: Sequence[str],
    compute: Callable[[pl.DataFrame, pl.DataFrame | None], pl.DataFrame],
    schema: dict[str, pl.DataType],
) -> pl.LazyFrame:
    """Build the lookup's output columns as one plan node over the few columns it reads.

    The node reads the keys, the time, ``reads`` and the columns of the multi-date check of the
    frame (and the same of the reference, with ``ref_reads``); it sits in a horizontal concat
    beside the untouched frame (``vizflow._node``), and no predicate is pushed below it (a
    filter must never remove rows whose values others look up).
    """
    own = node_columns(
        frame.collect_schema(), [*spec.keys, spec.time, *reads], spec.keys, spec.time, spec.date_col
    )
    ref_cols: list[str] = []
    if reference is not None:
        ref_cols = node_columns(
            reference.collect_schema(),
            [*spec.ref_keys, spec.ref_time, *ref_reads],
            spec.ref_keys,
            spec.ref_time,
            spec.date_col,
        )
    return plan_node(frame, own, compute, schema, reference=reference, ref_cols=ref_cols)


def read_times(
    frame: pl.DataFrame, time: str, *, where: str = "forward_return", origin: int = 0, integer: bool = False
) -> NDArray[Any]:
    """Float64 times; null, NaN and infinite times become NaN (they match nothing).

    A temporal column is read as integers of its unit counted from ``origin`` (its physical
    value). ``where`` names the operation in errors (``forward_window`` passes its own name).
    ``integer``: integer times without nulls, none beyond ``EXACT_INT_TIMES / 2`` in magnitude,
    come as int64 as they are (no cast); others as float64.

    Examples
    --------
    >>> read_times(pl.DataFrame({"t": [1.5, None, float("inf")]}), "t").tolist()
    [1.5, nan, nan]
    >>> read_times(pl.DataFrame({"t": [3, 1]}), "t", integer=True).dtype
    dtype('int64')
    """
    column = frame.get_column(time)
    temporal = column.dtype.is_temporal()
    values = column.to_physical().cast(pl.Int64) - origin if temporal else column
    largest = 0
    if values.dtype.is_integer() and values.null_count() < values.len():
        largest = max(abs(int(values.min())), abs(int(values.max())))  # type: ignore[arg-type]
        if largest > EXACT_INT:
            if temporal:
                msg = (
                    f"{where}: time column {time!r} ({column.dtype}) spans {largest} units, beyond "
                    "2**53, which float64 cannot hold exactly (nearby times would merge); cast it to "
                    "a coarser unit, e.g. pl.col(...).dt.cast_time_unit('us')"
                )
            else:
                msg = (
                    f"{where}: time column {time!r} holds integers up to {largest}, beyond"
                    " 2**53, which float64 cannot hold exactly (nearby times would merge); "
                    "use seconds from an origin, e.g. elapsed_seconds from vf.parse_time"
                )
            raise DataError(msg)
    if values.dtype.is_integer() and values.null_count() == 0:
        if integer and values.len() and largest <= EXACT_INT_TIMES // 2:
            return np.ascontiguousarray(values.cast(pl.Int64).to_numpy())
        return values.to_numpy().astype(np.float64)  # all finite: one pass, a writable array
    times = values.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return np.where(np.isfinite(times), times, np.nan)


def sorted_segments(
    codes: NDArray[np.int64], n_groups: int, times: NDArray[Any], *, where: str = "forward_return"
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[Any], bool]:
    """Rows in (key, time) order: input positions, CSR offsets, sorted times, and identity or not.

    Rows already in that order (codes and times never decreasing, no NaN or -0.0 time) are found
    by one compiled pass and returned as they are (the times not copied); otherwise a compiled
    counting sort by key, then a radix sort of only the keys whose times are out of order
    (``vizflow.kernels.segments``), replaces a Polars sort; rows with a null key form group 0,
    which the caller leaves out. ``where`` names the operation in errors. Times are float64, or
    int64 (from :func:`read_times` with ``integer``), and come back in their dtype.
    """
    if codes.size != times.size:
        msg = f"{where}: {codes.size} key codes for {times.size} times"
        raise VizflowError(msg)
    times = np.ascontiguousarray(times, np.int64 if times.dtype == np.int64 else np.float64)
    offsets = np.empty(n_groups + 1, dtype=np.int64)
    if sorted_offsets_nb(codes, times, offsets):  # one pass, no sort, no copy of the times
        return np.arange(codes.size, dtype=np.int64), offsets, times, True
    return group_order(codes, n_groups, times)


class Arranged(NamedTuple):
    """Both sides of a lookup in (key, time) order, at ``collect()`` time.

    ``q_*`` are the frame's rows, ``s_*`` the reference's (the same arrays without a
    reference): input position of each sorted row, CSR offsets per key code (group 0 holds the
    rows with a null key), the sorted times, and whether the rows were already in that order.
    The times are float64, or int64 on both sides when ``arrange`` was asked for integers and
    both sides' times are exact integers.
    """

    codes: list[NDArray[np.int64]]
    q_time: NDArray[Any]
    q_rows: NDArray[np.int64]
    q_offsets: NDArray[np.int64]
    q_sorted: NDArray[Any]
    q_in_order: bool
    s_rows: NDArray[np.int64]
    s_offsets: NDArray[np.int64]
    s_sorted: NDArray[Any]
    s_in_order: bool


def _origin(df: pl.DataFrame, src: pl.DataFrame | None, spec: Lookup) -> int:
    """Return the earliest physical time of both sides (0 for numeric times), where temporal times start."""
    if spec.ns_per_unit is None:
        return 0
    firsts: list[Any] = [df.get_column(spec.time).to_physical().min()]
    if src is not None:
        firsts.append(src.get_column(spec.ref_time).to_physical().min())
    found = [int(f) for f in firsts if f is not None]
    return min(found) if found else 0


def _sorted_int_codes(
    df: pl.DataFrame, src: pl.DataFrame, key: str, ref_key: str
) -> tuple[list[NDArray[np.int64]], int] | None:
    """Code one Int64 key of both sides by a merge when both are sorted and null-free, else None.

    The codes are :func:`vizflow._grouping.key_codes`' with ``nulls="drop"`` (``1..k`` in value
    order), without its concatenation of both sides and its two table passes.
    """
    a, b = df.get_column(key), src.get_column(ref_key)
    if a.dtype != pl.Int64 or b.dtype != pl.Int64 or a.null_count() or b.null_count():
        return None
    left, right = a.to_numpy(), b.to_numpy()
    codes = [np.empty(left.size, np.int64), np.empty(right.size, np.int64)]
    k = merge_codes_nb(left, right, codes[0], codes[1])
    return None if k < 0 else (codes, k + 1)


def arrange(df: pl.DataFrame, src: pl.DataFrame | None, spec: Lookup, *, integer: bool = False) -> Arranged:
    """Check dates, code the keys of both sides together and sort both by (key, time).

    ``integer``: read exact integer times as int64 (:func:`read_times`) when both sides have them.
    """
    keys, ref_keys = list(spec.keys), list(spec.ref_keys)
    check_dates_in_keys(df, keys, where=spec.where, date_col=spec.date_col, time_col=spec.time)
    if src is not None:
        ref_where = f"{spec.where} (reference)"
        check_dates_in_keys(src, ref_keys, where=ref_where, date_col=spec.date_col, time_col=spec.ref_time)
    frames, frame_keys = ([df], [keys]) if src is None else ([df, src], [keys, ref_keys])
    merged = None if src is None or len(keys) != 1 else _sorted_int_codes(df, src, keys[0], ref_keys[0])
    codes, n_groups = merged or key_codes(frames, frame_keys, nulls="drop")
    n_groups = max(n_groups, 1)  # group 0 (null keys) exists even when empty
    if src is not None and df.schema[spec.time] != src.schema[spec.ref_time] and spec.ns_per_unit is not None:
        unit = _UNIT_OF[spec.ns_per_unit]  # Datetime or Duration in two units: both in the finer one
        df = df.with_columns(pl.col(spec.time).dt.cast_time_unit(unit))
        src = src.with_columns(pl.col(spec.ref_time).dt.cast_time_unit(unit))
    origin = _origin(df, src, spec)
    q_time = read_times(df, spec.time, where=spec.where, origin=origin, integer=integer)
    if src is None:
        q_rows, q_offsets, q_sorted, q_in_order = sorted_segments(
            codes[0], n_groups, q_time, where=spec.where
        )
        return Arranged(
            codes, q_time, q_rows, q_offsets, q_sorted, q_in_order, q_rows, q_offsets, q_sorted, q_in_order
        )
    s_time = read_times(src, spec.ref_time, where=f"{spec.where} (reference)", origin=origin, integer=integer)
    if q_time.dtype != s_time.dtype:  # one side's times are not exact integers: both as float64
        q_time, s_time = q_time.astype(np.float64), s_time.astype(np.float64)
    q_rows, q_offsets, q_sorted, q_in_order = sorted_segments(codes[0], n_groups, q_time, where=spec.where)
    s_rows, s_offsets, s_sorted, s_in_order = sorted_segments(codes[1], n_groups, s_time, where=spec.where)
    return Arranged(
        codes, q_time, q_rows, q_offsets, q_sorted, q_in_order, s_rows, s_offsets, s_sorted, s_in_order
    )


def require_shared_keys(
    df: pl.DataFrame, src: pl.DataFrame, spec: Lookup, at: Arranged, *, nothing: str
) -> None:
    """Refuse a reference sharing no key with the frame: ``nothing`` says what every row would get.

    Reads the groups' sizes from both sides' offsets per shared key code (group 0: null keys).
    A frame or reference without a non-null key has nothing to match and is not refused.
    """
    mine, theirs = np.diff(at.q_offsets)[1:] > 0, np.diff(at.s_offsets)[1:] > 0
    if mine.any() and theirs.any() and not (mine & theirs).any():
        keys, ref_keys = list(spec.keys), list(spec.ref_keys)
        sample = df.select(keys).drop_nulls().unique(maintain_order=True).head(3).rows()
        ref_sample = src.select(ref_keys).drop_nulls().unique(maintain_order=True).head(3).rows()
        msg = (
            f"{spec.where}: no key of the frame ({keys}, e.g. {sample}) occurs in the reference "
            f"({ref_keys}, e.g. {ref_sample}); {nothing}. Make the keys "
            "agree (e.g. strip or add an exchange suffix) before the call"
        )
        raise DataError(msg)
