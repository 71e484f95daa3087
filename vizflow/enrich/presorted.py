"""The segments of a frame already in (by, sort_by) order, found in one pass without a sort."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import polars as pl

from vizflow._grouping import POOL_THREADS, Segments, by_group_runs, group_order, key_codes, segments
from vizflow.kernels.presorted import in_order_by_key_nb, sorted_runs_nb
from vizflow.kernels.radix import bounds_nb, count_codes_nb, exact_ints_nb, place_by_code_nb, sort_buckets_nb

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

__all__ = ["keyed_in_order", "packed_order", "presorted_segments", "row_order"]

T = TypeVar("T", bound=np.generic)

_MAX_KEYS = 2  # key columns the one-pass check compares
_SCALES = (1.0, 1e3, 1e6, 1e9)  # decimal units float times are tried in (seconds to nanoseconds)
_WORD_BITS = 64
_ROWS_PER_PART = 250_000  # below this, a thread costs more than it saves


def presorted_segments(
    frame: pl.DataFrame,
    by: Sequence[str],
    sort_by: Sequence[str],
    *,
    times: NDArray[np.generic] | None = None,
) -> Segments | None:
    """Return the segments of ``frame`` if its rows are already in (by, sort_by) order, else None.

    The same :class:`~vizflow._grouping.Segments` as :func:`vizflow._grouping.segments` gives for
    such a frame (no order, the same offsets), from one compiled pass over the key and time
    arrays instead of key codes and a counting sort. Covered: at most one numeric or temporal
    time column without nulls, and no key, one key column (integer, Boolean, temporal or
    String) or two (integer, Boolean or temporal), without nulls; anything else, and rows out
    of order, give None (the caller sorts). ``times``: the time array already read, if it was.

    Examples
    --------
    >>> df = pl.DataFrame({"s": [1, 1, 2], "t": [0.5, 2.0, 1.0]})
    >>> presorted_segments(df, ["s"], ["t"]).offsets.tolist()
    [0, 2, 3]
    >>> presorted_segments(df, [], ["t"]) is None  # the times go back without a key
    True
    """
    n = frame.height
    if n == 0 or len(sort_by) > 1 or len(by) > _MAX_KEYS:
        return None
    if times is None:
        times = _sort_times(frame, sort_by)
    keys = [_key(frame.get_column(c), alone=len(by) == 1) for c in by]
    if times is None or any(k is None for k in keys):
        return None
    first = keys[0] if keys else times.view(np.int64)
    second = keys[1] if len(keys) > 1 else first
    assert first is not None
    assert second is not None
    # Parts of rows checked in threads, then each seam between two parts (its two rows).
    cuts = [n * p // _parts(n) for p in range(_parts(n) + 1)]
    found: list[NDArray[np.int64] | None] = [None] * (len(cuts) - 1)

    def runs(p: int) -> None:
        lo, hi = cuts[p], cuts[p + 1]
        offsets = np.empty(hi - lo + 1, dtype=np.int64)
        groups = sorted_runs_nb(first[lo:hi], second[lo:hi], len(keys), times[lo:hi], offsets)
        found[p] = None if groups < 0 else offsets[: groups + 1] + lo

    _threads(runs, len(cuts) - 1)
    parts: list[NDArray[np.int64]] = []
    for p, offsets in enumerate(found):
        if offsets is None:
            return None
        if p:
            lo = cuts[p]
            pair = slice(lo - 1, lo + 1)
            seam = sorted_runs_nb(first[pair], second[pair], len(keys), times[pair], np.empty(3, np.int64))
            if seam < 0:
                return None
            parts[-1] = parts[-1][:-1]  # the part's end is the next part's start
            offsets = offsets if seam > 1 else offsets[1:]  # a new key at the seam: a boundary
        parts.append(offsets)
    return Segments(None, np.concatenate(parts))


def row_order(
    frame: pl.DataFrame, by: Sequence[str], sort_by: Sequence[str], *, keyed: bool
) -> tuple[Segments, tuple[NDArray[np.int64], int] | None]:
    """Return how to visit the rows: the (by, sort_by) order, and key codes for a keyed pass.

    In order of cost: rows already in (by, sort_by) order (:func:`presorted_segments`); with
    ``keyed``, rows whose keys interleave but each key's are in time order (the segments are
    then the whole frame in input order and the codes come second, see
    :func:`keyed_in_order`); else the order of :func:`vizflow._grouping.segments`, sorted from
    the key codes and times already read (:func:`packed_order` when the times are integers in a
    span that fits, else :func:`vizflow._grouping.group_order`), or by ``segments`` itself for
    what this module does not cover.

    Examples
    --------
    >>> feed = pl.DataFrame({"s": ["b", "a", "b"], "t": [1, 2, 3]})
    >>> seg, keyed = row_order(feed, ["s"], ["t"], keyed=True)
    >>> seg.order, keyed[0].tolist()
    (None, [1, 0, 1])
    >>> row_order(feed, ["s"], ["t"], keyed=False)[0].order.tolist()
    [1, 0, 2]
    """
    n = frame.height
    times = _sort_times(frame, sort_by)
    if n == 0 or times is None:
        return segments(frame, by, sort_by), None
    found = presorted_segments(frame, by, sort_by, times=times)
    if found is not None:
        return found, None
    (codes,), n_keys = key_codes([frame], [by])
    if keyed and in_order_by_key_nb(codes, n_keys, times):
        return Segments(None, np.array([0, n], dtype=np.int64)), (codes, n_keys)
    packed = packed_order(codes, n_keys, times)
    if packed is None:
        order, offsets, _, identity = group_order(codes, n_keys, times)
    else:
        order, offsets, identity = packed
    return Segments(None if identity else order, offsets), None


def packed_order(
    codes: NDArray[np.int64], n_keys: int, times: NDArray[np.generic]
) -> tuple[NDArray[np.int64], NDArray[np.int64], bool] | None:
    """Order rows by (code, time) stably, one packed word a row; None if the times do not fit.

    The same order and offsets as :func:`vizflow._grouping.group_order` (and whether no row
    moved), from a counting sort by code and a radix sort of each code's rows by time
    (:mod:`vizflow.kernels.radix`), in threads on runs of whole codes. Covered: integer
    times, and float times that are all exact multiples of a second, millisecond, microsecond
    or nanosecond (no NaN), whose span needs at most ``64 - bits(rows)`` bits.

    Examples
    --------
    >>> order, offsets, identity = packed_order(np.array([1, 0, 1]), 2, np.array([5.0, 7.0, 2.0]))
    >>> order.tolist(), offsets.tolist(), identity
    ([1, 2, 0], [0, 1, 3], False)
    >>> packed_order(np.array([0, 0]), 1, np.array([0.1, np.nan])) is None
    True
    """
    n = codes.size
    found = _integer_times(times) if n else None
    if found is None:
        return None
    ints, smallest, largest = found
    row_bits = max(1, (n - 1).bit_length())
    time_bits = (largest - smallest).bit_length()
    if row_bits + time_bits > _WORD_BITS:
        return None
    # A counting sort in parts of rows (in threads): part p's rows of a code follow part p-1's.
    cuts = [n * p // _parts(n) for p in range(_parts(n) + 1)]
    counts = np.empty((len(cuts) - 1, n_keys), dtype=np.int64)
    _threads(lambda p: count_codes_nb(codes, cuts[p], cuts[p + 1], counts[p]), len(cuts) - 1)
    offsets = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=offsets[1:])
    fills = offsets[:-1] + np.cumsum(counts, axis=0) - counts
    words = np.empty(n, dtype=np.uint64)
    _threads(
        lambda p: place_by_code_nb(codes, ints, cuts[p], cuts[p + 1], fills[p], smallest, row_bits, words),
        len(cuts) - 1,
    )
    order = np.empty(n, dtype=np.int64)
    identity = by_group_runs(
        offsets, lambda a, b: sort_buckets_nb(words, offsets[a : b + 1], row_bits, time_bits, order)
    )
    return order, offsets, all(identity)


def _parts(n: int) -> int:
    """How many parts of rows a pass over ``n`` rows runs in: one a thread, not under 250,000 rows."""
    return max(1, min(POOL_THREADS, n // _ROWS_PER_PART))


def _threads(call: Callable[[int], Any], parts: int) -> None:
    """Call ``call(p)`` for ``p`` in ``range(parts)``, in threads when more than one."""
    if parts == 1:
        call(0)
        return
    with ThreadPoolExecutor(parts) as pool:
        list(pool.map(call, range(parts)))


def _integer_times(times: NDArray[np.generic]) -> tuple[NDArray[np.int64], int, int] | None:
    """Integers ordered as ``times`` are, and their bounds, or None if none is found.

    int64 times as they are; float64 times scaled by the first decimal unit they are all exact
    multiples of (:func:`vizflow.kernels.radix.exact_ints_nb`).
    """
    bounds = np.empty(2, dtype=np.int64)
    if times.dtype == np.int64:
        bounds_nb(times, bounds)
        return cast("NDArray[np.int64]", times), int(bounds[0]), int(bounds[1])
    out = np.empty(times.size, dtype=np.int64)
    for scale in _SCALES:
        if exact_ints_nb(times, scale, out, bounds):
            return out, int(bounds[0]), int(bounds[1])
    return None


def _sort_times(frame: pl.DataFrame, sort_by: Sequence[str]) -> NDArray[np.generic] | None:
    """Return the times the order is checked on (zeros without ``sort_by``), or None if not covered."""
    if not sort_by:
        return _readonly(np.zeros(frame.height, dtype=np.int64))
    return _times(frame.get_column(sort_by[0])) if len(sort_by) == 1 else None


def keyed_in_order(
    frame: pl.DataFrame, by: Sequence[str], sort_by: Sequence[str]
) -> tuple[NDArray[np.int64], int] | None:
    """Return each row's key code and the number of keys if every key's rows are in time order.

    Keys may interleave (a feed in time order across symbols): a pass in input order with one
    state per key code then gives the values of the sorted pass, without a sort. Codes are
    :func:`vizflow._grouping.key_codes`' (any key dtype; a null key is a key). None when the
    rows of some key go back in time, or the time column is not covered (several ``sort_by``
    columns, nulls, a non-numeric dtype).

    Examples
    --------
    >>> feed = pl.DataFrame({"s": ["b", "a", "b"], "t": [1, 2, 3]})
    >>> codes, n = keyed_in_order(feed, ["s"], ["t"])
    >>> codes.tolist(), n
    ([1, 0, 1], 2)
    >>> keyed_in_order(feed, [], ["t"])[1], keyed_in_order(feed.reverse(), ["s"], ["t"])
    (1, None)
    """
    times = _sort_times(frame, sort_by)
    if times is None:
        return None
    (codes,), n_keys = key_codes([frame], [by])
    if not in_order_by_key_nb(codes, n_keys, times):
        return None
    return codes, n_keys


def _readonly(values: NDArray[T]) -> NDArray[T]:
    """Return a read-only view: the kernel then sees one array type whether Polars copied or not."""
    view = values.view()
    view.flags.writeable = False
    return view


def _times(column: pl.Series) -> NDArray[np.generic] | None:
    """Return the times as float64 or int64 (ordered as the grouping orders them), or None if not covered."""
    if column.null_count() or not (column.dtype.is_numeric() or column.dtype.is_temporal()):
        return None
    if column.dtype.is_float():
        return _readonly(column.cast(pl.Float64).to_numpy())
    if column.dtype == pl.UInt64 or column.dtype.is_decimal():  # UInt64 past 2**63: the sort decides
        return None
    return _readonly(column.to_physical().cast(pl.Int64).to_numpy())


def _key(column: pl.Series, *, alone: bool) -> NDArray[np.int64] | None:
    """Int64 values ordering the key as the grouping's codes do, or None if not covered.

    A String key (the only key) is checked sorted by Polars and numbered by its runs.
    """
    dtype = column.dtype
    if column.null_count():
        return None
    if dtype == pl.String and alone:
        if not column.is_sorted():
            return None
        return _readonly(column.rle_id().cast(pl.Int64).to_numpy())
    if dtype == pl.UInt64 or not (dtype.is_integer() or dtype.is_temporal() or dtype == pl.Boolean):
        return None
    return _readonly(column.to_physical().cast(pl.Int64).to_numpy())
