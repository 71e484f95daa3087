"""Per-key segments: dense key codes by value, the stable (keys, time) order and its CSR offsets.

One place for the grouping every per-key pass needs (enrichment, FIFO, forward returns). Keys are
matched by their values, never through their string form:

- integers, booleans and temporal keys (Date, Datetime, Duration, Time) by their physical integers,
  through a lookup table when their range is small, else a sorted search;
- strings through an Enum of their sorted distinct values; Categorical and Enum columns through a
  lookup table over their physical codes, ordered by category text;
- anything else Polars can rank (floats, decimals, binary) by a dense rank.

Several key columns are combined column by column (mixed radix, re-densified after each column),
so a tuple's code orders tuples lexicographically by value and no code can overflow. The rows are
then placed by a compiled counting sort and a per-group merge sort on time
(``vizflow.kernels.segments``).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import polars as pl

from vizflow.exceptions import SchemaError
from vizflow.kernels.codes import dense_ints_nb, first_seen_nb
from vizflow.kernels.segments import group_order_nb, sort_groups_nb

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

__all__ = ["Segments", "by_group_runs", "group_order", "key_codes", "key_kind", "segments"]

_INT64_MAX = np.iinfo(np.int64).max
_TEXT = (pl.String, pl.Categorical, pl.Enum)
_ROWS_PER_THREAD = 250_000  # below this, a thread costs more than it saves
POOL_THREADS = max(1, pl.thread_pool_size())
"""Threads for compiled passes: Polars' pool size, read when vizflow is imported.

Inside a plan's UDF (``map_batches``, where every vizflow node runs) ``pl.thread_pool_size()``
answers 1, so it is read once here, outside any plan (``POLARS_MAX_THREADS`` caps it: the
runner's workers set it before they import vizflow).
"""


class Segments(NamedTuple):
    """Rows in (by, sort_by) order, with their group boundaries.

    ``order[k]`` is the input row at sorted position ``k`` (``None`` when the input is already in
    that order); group ``g`` is sorted positions ``offsets[g]:offsets[g + 1]``.
    """

    order: NDArray[np.int64] | None
    offsets: NDArray[np.int64]

    def row_index(self, n: int) -> NDArray[np.int64]:
        """Input position of each sorted row."""
        return np.arange(n, dtype=np.int64) if self.order is None else self.order


def key_kind(dtype: pl.DataType) -> str:
    """Name the family a key dtype matches within: values compare only within one family.

    Examples
    --------
    >>> key_kind(pl.Int32), key_kind(pl.UInt64), key_kind(pl.Categorical()), key_kind(pl.Date)
    ('integer', 'integer', 'text', 'Date')
    """
    if isinstance(dtype, _TEXT):
        return "text"
    if dtype.is_integer() or dtype == pl.Boolean:
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    return str(dtype.base_type())


def _table_fits(span: int, n: int) -> bool:
    """Tell whether a lookup table of ``span`` entries beats a sort of ``n`` values."""
    return span <= 4 * n + 65536


def _dense(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """Dense ranks ``0..k-1`` of non-negative integers, in value order, and ``k``."""
    if values.size == 0:
        return values, 0
    top = int(values.max())
    if _table_fits(top + 1, values.size):
        codes = np.empty(values.size, dtype=np.int64)
        k = dense_ints_nb(values, 0, top + 1, codes)
        return codes - 1, k
    distinct, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), int(distinct.size)


def _split(codes: NDArray[np.int64], lengths: Sequence[int]) -> list[NDArray[np.int64]]:
    bounds = np.cumsum([0, *lengths])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)]


def _integer_codes(parts: Sequence[pl.Series]) -> tuple[list[NDArray[np.int64]], int]:
    """Codes of integer-like columns by physical value: 0 for null, then 1.. in value order."""
    physical = [p.to_physical() if p.dtype != pl.Boolean else p.cast(pl.Int8) for p in parts]
    if any(p.dtype == pl.UInt64 and _largest(p) > _INT64_MAX for p in physical):
        return _ranked_codes(parts)
    ints = [p.cast(pl.Int64) for p in physical]
    valid = [p for p in ints if p.len() > p.null_count()]
    if not valid:
        return [np.zeros(p.len(), dtype=np.int64) for p in parts], 1
    low = min(_smallest(p) for p in valid)
    top = max(_largest(p) for p in valid)
    # A null takes the smallest value (present anyway) and is set to 0 afterwards.
    arrays = [p.fill_null(low).to_numpy() if p.null_count() else p.to_numpy() for p in ints]
    values = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    n = values.size
    if _table_fits(top - low + 1, n):
        codes = np.empty(n, dtype=np.int64)
        k = dense_ints_nb(values, low, top - low + 1, codes)
    else:
        distinct, inverse = np.unique(values, return_inverse=True)
        codes, k = inverse.astype(np.int64).reshape(-1) + 1, int(distinct.size)
    out = _split(codes, [p.len() for p in parts])
    for p, part in zip(ints, out, strict=True):
        if p.null_count():
            part[p.is_null().to_numpy()] = 0
    return out, k + 1


def _largest(values: pl.Series) -> int:
    """Return the largest value of an integer Series, -1 when it holds none."""
    top = values.max()
    return -1 if top is None else int(top)  # type: ignore[arg-type]  # an integer Series' max is int


def _smallest(values: pl.Series) -> int:
    """Return the smallest value of an integer Series that holds one."""
    return int(values.min())  # type: ignore[arg-type]


def _text_codes(parts: Sequence[pl.Series]) -> tuple[list[NDArray[np.int64]], int]:
    """Codes of String / Categorical / Enum columns by text: 0 for null, then 1.. in text order.

    Each part is numbered locally first (strings by a hash, categories by their physical codes
    through a table); the distinct texts of all parts, sorted, then give the shared codes.
    """
    local = [_local_text_codes(p) for p in parts]
    texts = [t for t, _ in local]
    categories = pl.concat(texts).unique().sort() if texts else pl.Series([], dtype=pl.String)
    enum = pl.Enum(categories)
    out = []
    for seen, codes in local:
        lut = np.zeros(seen.len() + 1, dtype=np.int64)
        lut[1:] = seen.cast(enum).to_physical().cast(pl.Int64).to_numpy() + 1
        out.append(lut[codes])
    return out, categories.len() + 1


def _local_text_codes(part: pl.Series) -> tuple[pl.Series, NDArray[np.int64]]:
    """Return the distinct texts of ``part`` (String) and each row's index into them plus 1 (0: null)."""
    if part.dtype == pl.String:
        seen = part.unique(maintain_order=True).drop_nulls()  # 3x faster than drop_nulls().unique()
        positions = (
            part.to_frame("k")
            .lazy()
            .select((pl.col("k").cast(pl.Enum(seen)).to_physical().cast(pl.Int64) + 1).fill_null(0))
        )
        return seen, positions.collect().to_series().to_numpy()
    physical = part.to_physical()
    span = _largest(physical) + 2  # the last entry stands for null
    if not _table_fits(span, part.len()):
        return _local_text_codes(part.cast(pl.String))
    values = physical.cast(pl.UInt32).fill_null(span - 1) if physical.null_count() else physical
    local = np.empty(part.len(), dtype=np.int64)
    first = first_seen_nb(values.to_numpy(), span, local)
    return part.gather(first).cast(pl.String), local


def _ranked_codes(parts: Sequence[pl.Series]) -> tuple[list[NDArray[np.int64]], int]:
    """Codes by Polars' dense rank of the values (any rankable dtype): 0 for null."""
    try:
        # Series concat is vertical only: DataFrames find the common dtype (Float32 + Float64 -> Float64,
        # Int8 + UInt64 -> Int128), so that equal values on both sides get one rank.
        frames = [p.rename("key").to_frame() for p in parts]
        joined = pl.concat(frames, how="vertical_relaxed").to_series()
        ranks = joined.rank("dense").cast(pl.Int64).fill_null(0).to_numpy()
    except pl.exceptions.PolarsError as err:
        msg = f"key column {parts[0].name!r} of dtype {parts[0].dtype} cannot be used as a key ({err})"
        raise SchemaError(msg) from err
    return _split(ranks, [p.len() for p in parts]), int(ranks.max(initial=0)) + 1


def _column_codes(parts: Sequence[pl.Series]) -> tuple[list[NDArray[np.int64]], int]:
    kinds = {key_kind(p.dtype) for p in parts}
    if len(kinds) > 1:
        names = [f"{p.name!r} ({p.dtype})" for p in parts]
        msg = f"key columns {', '.join(names)} hold values of different kinds that never match"
        raise SchemaError(msg)
    dtype = parts[0].dtype
    if any(p.dtype.is_nested() for p in parts):
        msg = f"key column {parts[0].name!r} of dtype {dtype} cannot be used as a key"
        raise SchemaError(msg)
    if kinds == {"text"}:
        return _text_codes(parts)
    if dtype.is_integer() or dtype == pl.Boolean or dtype.is_temporal():
        if len({p.dtype for p in parts}) > 1 and dtype.is_temporal():
            parts = [p.cast(dtype) for p in parts]  # one unit and time zone for both sides
        return _integer_codes(parts)
    return _ranked_codes(parts)


def key_codes(
    frames: Sequence[pl.DataFrame],
    keys: Sequence[Sequence[str]],
    *,
    nulls: Literal["group", "drop"] = "group",
) -> tuple[list[NDArray[np.int64]], int]:
    """Dense codes of key tuples shared across ``frames``, in value order, and their count.

    ``keys[i]`` names the key columns of ``frames[i]`` (the same number in each, matched by
    position). The same tuple gets the same code in every frame; codes follow the lexicographic
    order of the tuples' values (integers numerically, text lexically, nulls first).

    Parameters
    ----------
    frames
        The frames whose keys are coded together (e.g. trades and their reference quotes).
    keys
        Key column names per frame; empty lists put every row in one group (code 0, or 1 with
        ``nulls="drop"``, where no row has a null key).
    nulls
        ``"group"``: a null is a value like any other (codes ``0..k-1``). ``"drop"``: a tuple with
        any null gets code 0, matching nothing; the others get ``1..k-1``.

    Returns
    -------
    tuple
        One int64 code array per frame, and the number of codes ``k``.

    Examples
    --------
    >>> a = pl.DataFrame({"d": [2, 1, 2], "s": ["x", "y", "x"]})
    >>> b = pl.DataFrame({"d": [1], "s": ["y"]})
    >>> codes, k = key_codes([a, b], [["d", "s"], ["d", "s"]])
    >>> [c.tolist() for c in codes], k
    ([[1, 0, 1], [0]], 2)
    """
    n_keys = {len(k) for k in keys}
    assert len(n_keys) == 1, "every frame names the same number of key columns"
    if not keys[0]:  # no key: every row in one group (code 1 under "drop", where 0 means a null key)
        code = 1 if nulls == "drop" else 0
        return [np.full(f.height, code, dtype=np.int64) for f in frames], code + any(f.height for f in frames)

    if len(frames) == 1 and len(keys[0]) == 1 and _already_grouped(key := frames[0].get_column(keys[0][0])):
        codes = _run_codes(key, nulls)
        return [codes], int(codes.max(initial=-1)) + 1
    if len(keys[0]) == 1:  # one column: its codes already give nulls 0
        parts, k = _column_codes([f.get_column(names[0]) for f, names in zip(frames, keys, strict=True)])
        if nulls == "group" and not any(
            f.get_column(names[0]).null_count() for f, names in zip(frames, keys, strict=True)
        ):
            parts = [p - 1 for p in parts]  # no null group: codes 0..k-2
            k -= 1
        return parts, k
    combined: NDArray[np.int64] | None = None
    null = np.zeros(sum(f.height for f in frames), dtype=bool)
    for j in range(len(keys[0])):
        parts, k = _column_codes([f.get_column(names[j]) for f, names in zip(frames, keys, strict=True)])
        codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        null |= codes == 0
        # Mixed radix, densified after each column: the values stay below n * k <= 2**62.
        combined = codes if combined is None else _dense(combined * k + codes)[0]
    assert combined is not None
    if nulls == "drop":
        combined = np.where(null, -1, combined)
        dense, k = _dense(combined + 1)  # -1 (any null) becomes 0 when present
        if not null.any():
            dense += 1
            k += 1
        return _split(dense, [f.height for f in frames]), k
    dense, k = _dense(combined)
    return _split(dense, [f.height for f in frames]), k


def _run_codes(key: pl.Series, nulls: str) -> NDArray[np.int64]:
    """Codes of a sorted column (nulls first) from its runs: O(n), no hashing."""
    runs = key.rle().struct.field("len").to_numpy()
    codes = np.repeat(np.arange(runs.size, dtype=np.int64), runs)
    if nulls == "drop" and not (key.len() and key[0] is None):
        codes += 1  # keep 0 for nulls
    return codes


def _time_key(column: pl.Series) -> NDArray[np.float64] | NDArray[np.int64]:
    """Sort key of a time column: float64 (NaN for null) or int64 (max for null), sorting last."""
    if column.dtype.is_float():
        return column.cast(pl.Float64).fill_null(np.nan).to_numpy()
    if column.dtype.is_integer() or column.dtype.is_temporal():
        return column.to_physical().cast(pl.Int64).fill_null(_INT64_MAX).to_numpy()
    msg = "unsupported"  # pragma: no cover - the caller routes other dtypes to Polars
    raise TypeError(msg)


def _already_grouped(key: pl.Series) -> bool:
    """Sorted by value in the order the codes use (numbers and plain strings), nulls first."""
    ordered = key.dtype.is_integer() or key.dtype.is_temporal() or key.dtype == pl.String
    return ordered and key.is_sorted(nulls_last=False)


def segments(frame: pl.DataFrame, by: Sequence[str], sort_by: Sequence[str]) -> Segments:
    """Find the stable (by, sort_by) order of ``frame``'s rows and its group offsets.

    Groups come in the order of their key values (see :func:`key_codes`; a null is a value and
    sorts first). Within a group, rows with equal (or null) times keep their input order; null
    times sort last. With ``by`` empty the whole frame is one group.
    """
    n = frame.height
    if n == 0:
        return Segments(None, np.zeros(1, dtype=np.int64))
    fast = len(sort_by) <= 1
    if fast and sort_by:
        dtype = frame.schema[sort_by[0]]
        fast = dtype.is_numeric() or dtype.is_temporal()
    if not fast:
        return _polars_segments(frame, by, sort_by)
    time = _time_key(frame.get_column(sort_by[0])) if sort_by else np.zeros(n, dtype=np.int64)
    if len(by) == 1 and _already_grouped(key := frame.get_column(by[0])):  # runs give the codes, O(n)
        codes = _run_codes(key, "group")
        n_groups = int(codes[-1]) + 1
    else:
        (codes,), n_groups = key_codes([frame], [by])
    order, offsets, _, identity = group_order(codes, n_groups, time)
    return Segments(None if identity else order, offsets)


def group_order(
    codes: NDArray[np.int64], n_groups: int, times: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[Any], bool]:
    """Order rows by (code, time) stably: positions, CSR offsets, sorted times, and identity or not.

    ``times`` is float64 (NaN last) or int64. A compiled counting sort places the rows by code
    and carries their times; only the groups then found out of order are sorted (a radix sort,
    ``vizflow.kernels.segments``), in as many threads as Polars uses, each on whole groups.

    Examples
    --------
    >>> order, offsets, times, identity = group_order(np.array([1, 0, 1]), 2, np.array([5.0, 7.0, 2.0]))
    >>> order.tolist(), offsets.tolist(), times.tolist(), identity
    ([1, 2, 0], [0, 1, 3], [7.0, 2.0, 5.0], False)
    """
    n = codes.size
    is_float = times.dtype == np.float64
    order = np.empty(n, dtype=np.int64)
    offsets = np.empty(n_groups + 1, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    bits = np.ascontiguousarray(times).view(np.int64)
    placed = group_order_nb(codes, n_groups, bits, is_float, order, offsets, keys)
    in_order = by_group_runs(offsets, lambda a, b: sort_groups_nb(offsets[a : b + 1], is_float, keys, order))
    return order, offsets, keys.view(times.dtype), placed and all(in_order)


def by_group_runs(offsets: NDArray[np.int64], call: Callable[[int, int], Any]) -> list[Any]:
    """Call ``call(a, b)`` on runs of whole groups ``a..b-1`` of about equal rows, in threads.

    For compiled passes that release the GIL (``nogil=True``) and touch only their groups'
    rows. As many runs as Polars' thread pool has threads (:data:`POOL_THREADS`; one per
    worker under the runner), fewer for small frames; plain threads, not numba's parallel
    layer, which aborts when two threads enter it at once.

    Examples
    --------
    >>> by_group_runs(np.array([0, 2, 5]), lambda a, b: (a, b))
    [(0, 2)]
    """
    n_groups = offsets.size - 1
    n = int(offsets[-1] - offsets[0])
    parts = max(1, min(POOL_THREADS, n // _ROWS_PER_THREAD, n_groups))
    if parts == 1:
        return [call(0, n_groups)]
    cuts = np.searchsorted(offsets, offsets[0] + n * np.arange(1, parts) / parts).tolist()
    bounds = [0, *sorted(set(cuts) - {0, n_groups}), n_groups]
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        return list(pool.map(call, bounds[:-1], bounds[1:]))


def _polars_segments(frame: pl.DataFrame, by: Sequence[str], sort_by: Sequence[str]) -> Segments:
    """Several or non-numeric time columns: codes for the keys, then Polars' stable sort."""
    (codes,), _ = key_codes([frame], [by])
    ranked = frame.select(sort_by).with_columns(__vf_group=pl.Series(codes))
    order = (
        ranked.select(
            pl.arg_sort_by(
                ["__vf_group", *sort_by], maintain_order=True, nulls_last=[False] + [True] * len(sort_by)
            )
        )
        .to_series()
        .to_numpy()
        .astype(np.int64)
    )
    grouped = codes[order]
    starts = np.flatnonzero(np.diff(grouped, prepend=-1))
    offsets = np.append(starts, frame.height).astype(np.int64)
    identity = bool(np.all(order == np.arange(frame.height)))
    return Segments(None if identity else order, offsets)
