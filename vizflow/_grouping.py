"""Per-symbol segments: the stable (by, sort_by) order of rows and its CSR offsets.

One place for the sort every per-symbol pass needs (enrichment, FIFO, forward returns). A single
group column (strings or anything castable to one) and a single numeric/temporal time column take
the compiled path: codes from an Enum of the sorted distinct values, then a counting sort and a
per-group merge sort (``vizflow.kernels.segments``), several times faster than sorting the
strings. Other key shapes fall back to Polars' stable multi-column sort.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import polars as pl

from vizflow.kernels.segments import group_order_nb, sort_segments_nb

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Segments", "group_codes", "segments"]

_INT64_MAX = np.iinfo(np.int64).max


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


def group_codes(column: pl.Series, categories: pl.Series | None = None) -> tuple[NDArray[np.int64], int]:
    """Dense codes ``0..k`` in sorted-value order (nulls get 0 and sort first) and ``k + 1``."""
    values = column.cast(pl.String)
    if categories is None:
        categories = values.drop_nulls().unique().sort()
    codes = values.cast(pl.Enum(categories)).to_physical().cast(pl.Int64) + 1
    return codes.fill_null(0).to_numpy(), categories.len() + 1


def _time_key(column: pl.Series) -> NDArray[np.float64] | NDArray[np.int64]:
    """Sort key of a time column: float64 (NaN for null) or int64 (max for null), sorting last."""
    if column.dtype.is_float():
        return column.cast(pl.Float64).fill_null(np.nan).to_numpy()
    if column.dtype.is_integer() or column.dtype.is_temporal():
        return column.to_physical().cast(pl.Int64).fill_null(_INT64_MAX).to_numpy()
    msg = "unsupported"  # pragma: no cover - the caller routes other dtypes to Polars
    raise TypeError(msg)


def segments(frame: pl.DataFrame, by: list[str], sort_by: list[str]) -> Segments:
    """Find the stable (by, sort_by) order of ``frame``'s rows and its group offsets.

    Within a group, rows with equal (or null) times keep their input order; null times sort
    last, null groups first.
    """
    n = frame.height
    if n == 0:
        return Segments(None, np.zeros(1, dtype=np.int64))
    fast = len(by) == 1 and len(sort_by) <= 1
    if fast and sort_by:
        dtype = frame.schema[sort_by[0]]
        fast = dtype.is_numeric() or dtype.is_temporal()
    if fast and not frame.schema[by[0]].is_nested():
        key = frame.get_column(by[0])
        time = _time_key(frame.get_column(sort_by[0])) if sort_by else np.zeros(n, dtype=np.int64)
        time = np.ascontiguousarray(time)
        order = np.empty(n, dtype=np.int64)
        if key.is_sorted(nulls_last=False):  # already grouped: runs give the segments, O(n)
            runs = key.rle().struct.field("len").to_numpy()
            offsets = np.concatenate([[0], np.cumsum(runs)]).astype(np.int64)
            identity = sort_segments_nb(offsets, time, order)
        else:
            codes, n_groups = group_codes(key)
            offsets = np.empty(n_groups + 1, dtype=np.int64)
            identity = group_order_nb(codes, n_groups, time, order, offsets)
        return Segments(None if identity else order, offsets)
    keys = [*by, *sort_by]
    order = (
        frame.select(
            pl.arg_sort_by(keys, maintain_order=True, nulls_last=[False] * len(by) + [True] * len(sort_by))
        )
        .to_series()
        .to_numpy()
        .astype(np.int64)
    )
    ordered = frame.select(by).gather(order)
    first = pl.int_range(pl.len()) == 0
    change = first | pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in by])
    starts = ordered.select(change.arg_true()).to_series().to_numpy()
    offsets = np.append(starts, n).astype(np.int64)
    identity = bool(np.all(order == np.arange(n)))
    return Segments(None if identity else order, offsets)
