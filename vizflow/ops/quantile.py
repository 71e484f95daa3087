"""``quantile_bin``: equal-count buckets of a signal within each date and key group."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Literal

import polars as pl

from vizflow._frames import same_kind
from vizflow._keys import as_keys, guard_dates_in_keys
from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT

__all__ = ["quantile_bin"]

_TIES = ("share", "order")  # how equal values are bucketed: they share a bucket, or split by row order


def quantile_bin(
    frame: FrameT,
    column: str,
    q: int,
    by: str | Sequence[str] | None = None,
    *,
    out: str | None = None,
    ties: Literal["share", "order"] = "share",
) -> FrameT:
    """Add the Int64 quantile bucket ``0 .. q-1`` of ``column`` within each ``by`` group.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame; in a per-date pipeline, one date.
    column
        The numeric signal to bucket (e.g. the trade size, for size deciles).
    q
        The number of buckets (``10`` for deciles); an integer ``>= 1``.
    by
        Group column(s) whose rows are ranked separately (e.g. ``["date", "symbol"]``); default
        none: the whole frame is one group. A frame holding several dates must have its date
        column among them.
    out
        Name of the new column; default ``"{column}_bucket"``.
    ties
        ``"share"`` (default): equal values share a bucket (by their mid rank, below), so a common
        value such as a 100-share lot fills one bucket and the buckets' sizes differ.
        ``"order"``: equal-count buckets, ties broken by row order: exactly pandas'
        ``pd.qcut(x.rank(method="first"), q, labels=False)`` per group (a group of one value,
        which pandas refuses, gets bucket 0).

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, rows in their order, with the bucket column added. Null and
        NaN values get a null bucket and are not counted.

    Raises
    ------
    ColumnNotFoundError
        For ``column`` or a ``by`` column not in the frame.
    SchemaError
        For a non-numeric ``column``.
    VizflowError
        For a ``q`` that is not an integer ``>= 1``, an ``out`` column that already exists, or a
        ``ties`` other than ``"share"`` and ``"order"``.
    DataError
        For a frame that spans several dates none of the ``by`` columns separates.

    Notes
    -----
    With ``m`` the number of non-missing values of the group and ``lo``, ``hi`` the first and
    last 1-based positions of a value among them in sorted order (``lo == hi`` without ties),
    the bucket is ``q * (lo + hi - 2) // (2 * m)``: the value's mid rank, as a fraction of the
    group, cut into ``q`` equal parts, in exact integer arithmetic. So buckets hold
    ``m / q`` values each (sizes differ by at most one when there are no ties), equal values share a
    bucket, a larger value never gets a smaller bucket, and a group smaller than ``q`` spreads
    over the range (three values give buckets 0, 3 and 6 of 10). Buckets depend only on the
    group's own rows, so a year of per-date buckets compares dates of any level or spread. One
    window expression per call (an average ``rank`` over ``by``: twice it is ``lo + hi``); the
    check for several dates collects two numbers per date-like column.

    With ``ties="order"``, ``r`` the value's 1-based position among the group's ``m`` values,
    ties in row order (``rank("ordinal")``), the bucket is ``max(0, ((r - 1) * q - 1) // (m - 1))``:
    the number of qcut's edges ``1 + (m - 1) k / q`` (``k = 1 .. q-1``) that ``r`` lies above, in
    exact integers. Buckets then hold ``m / q`` values each, give or take one, ties or not. A
    rank exactly on an edge stays below it, as qcut's right-closed bins say; pandas computes the
    edges in floating point and sometimes puts it above (19 values in 6 buckets: rank 16).

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"day": ["d1"] * 4 + ["d2"] * 2, "qty": [5, 1, 3, 3, 100, 200]})
    >>> vf.quantile_bin(df, "qty", 2, by="day")
    shape: (6, 3)
    ┌─────┬─────┬────────────┐
    │ day ┆ qty ┆ qty_bucket │
    │ --- ┆ --- ┆ ---        │
    │ str ┆ i64 ┆ i64        │
    ╞═════╪═════╪════════════╡
    │ d1  ┆ 5   ┆ 1          │
    │ d1  ┆ 1   ┆ 0          │
    │ d1  ┆ 3   ┆ 0          │
    │ d1  ┆ 3   ┆ 0          │
    │ d2  ┆ 100 ┆ 0          │
    │ d2  ┆ 200 ┆ 1          │
    └─────┴─────┴────────────┘

    The two 3s tie at positions 2 and 3: mid rank 2.5 of 4, in the lower half. With
    ``ties="order"`` the second 3 (position 3) goes to the upper half:

    >>> vf.quantile_bin(df, "qty", 2, by="day", ties="order")["qty_bucket"].to_list()
    [1, 0, 0, 1, 0, 1]
    """
    if isinstance(q, bool) or not isinstance(q, numbers.Integral) or q < 1:
        msg = f"quantile_bin: q={q!r} for column {column!r}; expected an integer >= 1 (10 for deciles)"
        raise VizflowError(msg)
    if ties not in _TIES:
        msg = (
            f"quantile_bin: ties={ties!r} for column {column!r}; expected 'share' (equal values share a "
            "bucket) or 'order' (equal-count buckets, ties broken by row order, as pandas' qcut of ranks)"
        )
        raise VizflowError(msg)
    keys: list[str] = as_keys(by, where="quantile_bin", name="by")
    name = f"{column}_bucket" if out is None else out
    schema = frame.collect_schema()
    require_columns(schema, [column, *keys], where="quantile_bin")
    require_numeric(schema, column, where="quantile_bin")
    if name in schema:
        msg = (
            f"quantile_bin: output column {name!r} already exists; expected a new name: drop it or pass out="
        )
        raise VizflowError(msg)
    frame = guard_dates_in_keys(frame, keys, where="quantile_bin")  # on a LazyFrame: at collect() time
    x = pl.col(column).fill_nan(None) if schema[column].is_float() else pl.col(column)

    def within(e: pl.Expr) -> pl.Expr:
        return e.over(keys) if keys else e

    m = within(x.count()).cast(pl.Int64)
    if ties == "order":
        r = within(x.rank("ordinal")).cast(pl.Int64)
        bucket = pl.when(m > 1).then(pl.max_horizontal(0, ((r - 1) * int(q) - 1) // (m - 1))).otherwise(0)
        bucket = pl.when(r.is_not_null()).then(bucket)
    else:
        # Twice the average rank is lo + hi exactly (half-integers are exact doubles): one sort, not two.
        lo_hi = (2 * within(x.rank("average"))).cast(pl.Int64)
        bucket = (int(q) * (lo_hi - 2)) // (2 * m)
    result = frame.lazy().with_columns(bucket.cast(pl.Int64).alias(name))
    return same_kind(frame, result)
