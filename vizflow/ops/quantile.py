"""``quantile_bin``: equal-count buckets of a signal within each date and key group."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import polars as pl

from vizflow._keys import as_keys, guard_dates_in_keys
from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT

__all__ = ["quantile_bin"]


def quantile_bin(
    frame: FrameT,
    column: str,
    q: int,
    by: str | Sequence[str] | None = None,
    *,
    out: str | None = None,
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
        For a ``q`` that is not an integer ``>= 1``, or an ``out`` column that already exists.
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

    The two 3s tie at positions 2 and 3: mid rank 2.5 of 4, in the lower half.
    """
    if isinstance(q, bool) or not isinstance(q, numbers.Integral) or q < 1:
        msg = f"quantile_bin: q={q!r} for column {column!r}; expected an integer >= 1 (10 for deciles)"
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

    # Twice the average rank is lo + hi exactly (half-integers are exact doubles): one sort, not two.
    lo_hi = (2 * within(x.rank("average"))).cast(pl.Int64)
    m = within(x.count()).cast(pl.Int64)
    result = frame.lazy().with_columns(((int(q) * (lo_hi - 2)) // (2 * m)).alias(name))
    return result.collect() if isinstance(frame, pl.DataFrame) else result
