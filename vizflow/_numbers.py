"""One rule for a usable price or size, shared by the book expressions and the quality counts."""

from __future__ import annotations

import polars as pl

__all__ = ["positive"]


def positive(value: pl.Expr) -> pl.Expr:
    """Test for a finite number > 0: false for NaN, infinities, zero and negatives; null stays null.

    NaN compares greater than every number in Polars, so ``is_finite`` comes first.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"x": [1.0, 0.0, -1.0, float("nan"), float("inf"), None]})
    >>> df.select(positive(pl.col("x")))["x"].to_list()
    [True, False, False, False, False, None]
    """
    value = value.cast(pl.Float64)
    return value.is_finite() & (value > 0)
