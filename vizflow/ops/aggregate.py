"""``aggregate``: named metrics per group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from vizflow._typing import FrameT

__all__ = ["aggregate"]


def aggregate(frame: FrameT, group_by: Sequence[str] | str, metrics: Mapping[str, pl.Expr]) -> FrameT:
    """Group by ``group_by`` and compute each named metric; rows come out sorted by the keys.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    group_by
        Key column(s).
    metrics
        Output name to aggregation expression, e.g. ``{"n": pl.len(), "qty": pl.col("qty").sum()}``.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``: one row per key combination (nulls form their own group,
        sorted first), the keys then the metrics in the order given.

    Raises
    ------
    ColumnNotFoundError
        For a key column not in the frame.
    VizflowError
        If ``metrics`` is empty or a metric is not a Polars expression.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"group": ["a", "b", "a"], "qty": [100, 200, 300]})
    >>> vf.aggregate(df, ["group"], {"count": pl.len(), "qty": pl.col("qty").sum()})
    shape: (2, 3)
    ┌───────┬───────┬─────┐
    │ group ┆ count ┆ qty │
    │ ---   ┆ ---   ┆ --- │
    │ str   ┆ u32   ┆ i64 │
    ╞═══════╪═══════╪═════╡
    │ a     ┆ 2     ┆ 400 │
    │ b     ┆ 1     ┆ 200 │
    └───────┴───────┴─────┘
    """
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    require_columns(frame.collect_schema(), keys, where="aggregate")
    if not metrics:
        msg = "aggregate: metrics is empty; expected e.g. {'n': pl.len()}"
        raise VizflowError(msg)
    for name, expr in metrics.items():
        if not isinstance(expr, pl.Expr):
            msg = f"aggregate: metric {name!r} is {type(expr).__name__}; expected a Polars expression"
            raise VizflowError(msg)
    result = (
        frame.lazy()
        .group_by(keys)
        .agg([expr.alias(name) for name, expr in metrics.items()])
        .sort(keys, nulls_last=False)
    )
    return result.collect() if isinstance(frame, pl.DataFrame) else result
