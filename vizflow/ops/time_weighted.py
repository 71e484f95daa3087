"""``time_weighted``: the time-weighted mean of a column, as an aggregate of ``forward_window``.

A quote is in force from its time until the next quote of its key; over a window each
reference row's value weighs the time it is in force inside the window. With
``forward_window(..., prevailing=True)`` the quote in force at the window's start covers the
window's first moments, so the mean covers the whole window.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from vizflow.exceptions import VizflowError

__all__ = ["TimeWeighted", "time_weighted"]


@dataclass(frozen=True, eq=False)
class TimeWeighted:
    """The time-weighted mean of ``expr`` (an elementwise expression of the reference's columns)."""

    expr: pl.Expr

    def __repr__(self) -> str:
        return f"time_weighted({self.expr})"


def time_weighted(column: str | pl.Expr) -> TimeWeighted:
    """Aggregate for :func:`vizflow.forward_window`: the time-weighted mean of a column in each window.

    Each reference row's value weighs the time it is in force inside the window ``[start, end]``:
    from its time (or the window's start, whichever is later) until the next reference row of
    its key (or the window's end, whichever is earlier). Rows with a null value weigh nothing
    (the mean is over the time a value was known); a NaN value in force gives NaN; a window in
    which nothing is in force for any time gives null. Pass ``prevailing=True`` to
    ``forward_window`` so that the row in force at the window's start counts from the start.

    Parameters
    ----------
    column
        A column name or an elementwise expression of the reference's numeric columns
        (``pl.col("ask") - pl.col("bid")`` for the time-weighted spread).

    Returns
    -------
    TimeWeighted
        A value for ``forward_window``'s ``aggs``; its output column is Float64.

    Raises
    ------
    VizflowError
        If ``column`` is neither a column name nor a Polars expression.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> quotes = pl.DataFrame(
    ...     {"symbol": ["A"] * 3, "elapsed_seconds": [0.0, 4.0, 6.0], "mid": [10.0, 11.0, 12.0]}
    ... )
    >>> trades = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [2.0]})
    >>> out = vf.forward_window(
    ...     trades, [8], {"twap": vf.time_weighted("mid")}, reference=quotes, prevailing=True
    ... )
    >>> out["twap_8"].to_list()  # 10 for 2 s, 11 for 2 s, 12 for 4 s
    [11.25]
    """
    if isinstance(column, str):
        return TimeWeighted(pl.col(column))
    if isinstance(column, pl.Expr):
        return TimeWeighted(column)
    msg = f"time_weighted: column {column!r} is not a column name or a Polars expression"
    raise VizflowError(msg)
