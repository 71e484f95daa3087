"""Return the kind of frame a function was given: the one place that collects a lazy result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import polars as pl

if TYPE_CHECKING:
    from vizflow._typing import FrameT

__all__ = ["same_kind"]


def same_kind(like: FrameT, result: pl.LazyFrame) -> FrameT:
    """Collect ``result`` when ``like`` is a DataFrame, else return it lazy.

    Every vizflow operation builds a lazy plan and hands back the kind of frame it was given:
    a DataFrame in, a DataFrame out; a LazyFrame in, a LazyFrame out.

    Parameters
    ----------
    like
        The frame the caller passed in.
    result
        The lazy plan computed from it.

    Returns
    -------
    DataFrame or LazyFrame
        ``result.collect()`` when ``like`` is a DataFrame, else ``result``.

    Examples
    --------
    >>> import polars as pl
    >>> from vizflow._frames import same_kind
    >>> df = pl.DataFrame({"a": [1, 2]})
    >>> type(same_kind(df, df.lazy().select(pl.col("a") * 2))).__name__
    'DataFrame'
    >>> type(same_kind(df.lazy(), df.lazy())).__name__
    'LazyFrame'
    """
    # Any: mypy checks each constraint of FrameT apart, pyright the union; both accept this.
    return cast("Any", result.collect() if isinstance(like, pl.DataFrame) else result)
