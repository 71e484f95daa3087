"""``aggregate``: named metrics per group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl

from vizflow._frames import same_kind
from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from vizflow._typing import FrameT

__all__ = ["aggregate"]


def aggregate(
    frame: FrameT,
    group_by: Sequence[str] | str,
    metrics: Mapping[str, pl.Expr] | Sequence[pl.Expr] | pl.Expr,
) -> FrameT:
    """Group by ``group_by`` and compute each named metric; rows come out sorted by the keys.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    group_by
        Key column(s).
    metrics
        Output name to aggregation expression, e.g. ``{"n": pl.len(), "qty": pl.col("qty").sum()}``,
        or a list of expressions named by their output names, as in Polars' ``agg``:
        ``[pl.len().alias("n"), pl.col("qty").sum()]``.

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
        If ``metrics`` is empty, a metric is not a Polars expression, an expression of a list has
        no single output name (e.g. ``pl.all().sum()``: give it one with ``.alias``), or two
        outputs (metrics or keys) share a name.

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

    The same metrics as a list of expressions:

    >>> vf.aggregate(df, "group", [pl.len().alias("count"), pl.col("qty").sum()]).rows()
    [('a', 2, 400), ('b', 1, 200)]
    """
    keys = [group_by] if isinstance(group_by, str) else list(group_by)
    require_columns(frame.collect_schema(), keys, where="aggregate")
    named = _named_metrics(metrics)
    names = [name for name, _ in named]
    clash = sorted({n for n in names if n in keys or names.count(n) > 1})
    if clash:
        msg = f"aggregate: output name(s) {clash} repeat a key or another metric; expected distinct names"
        raise VizflowError(msg)
    result = (
        frame.lazy()
        .group_by(keys)
        .agg([expr.alias(name) for name, expr in named])
        .sort(keys, nulls_last=False)
    )
    return same_kind(frame, result)


def _named_metrics(metrics: Mapping[str, pl.Expr] | Sequence[pl.Expr] | pl.Expr) -> list[tuple[str, pl.Expr]]:
    if isinstance(metrics, pl.Expr):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        pairs = [(repr(name), expr) for name, expr in metrics.items()]
    elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
        pairs = [(f"#{i}", expr) for i, expr in enumerate(metrics)]
    else:
        msg = (
            f"aggregate: metrics is {type(metrics).__name__}; expected a dict of name to expression or a list"
        )
        raise VizflowError(msg)
    if not pairs:
        msg = "aggregate: metrics is empty; expected e.g. {'n': pl.len()} or [pl.len().alias('n')]"
        raise VizflowError(msg)
    for label, expr in pairs:
        if not isinstance(expr, pl.Expr):
            msg = f"aggregate: metric {label} is {type(expr).__name__}; expected a Polars expression"
            raise VizflowError(msg)
    if isinstance(metrics, Mapping):
        return list(metrics.items())
    named = []
    for label, expr in pairs:
        try:
            named.append((expr.meta.output_name(), expr))
        except pl.exceptions.ComputeError:
            msg = (
                f"aggregate: metric {label} ({expr}) has no single output name; "
                "expected one name per metric: add .alias('name') or pass a dict"
            )
            raise VizflowError(msg) from None
    return named
