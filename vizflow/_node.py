"""A per-key pass as a Polars plan node: run at ``collect()`` over only the columns it reads.

``forward_return`` and ``forward_window`` compute new columns from a few columns of a frame (and
of a reference frame). :func:`plan_node` puts that computation in one ``map_batches`` node over
those columns (the reference's rows concatenated below the frame's, in renamed columns), so the
caller can place the node beside the untouched frame in a horizontal concat: projections of other
columns still reach the scan, and no predicate is pushed below the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from vizflow._keys import date_columns

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["node_columns", "plan_node"]

_SIDE = "__vizflow_side"
_REF = "__vizflow_reference:"


def node_columns(
    schema: pl.Schema, columns: Sequence[str], keys: Sequence[str], time: str, date_col: str
) -> list[str]:
    """List ``columns`` plus the date columns the node's multi-date check reads, once each.

    Examples
    --------
    >>> node_columns(
    ...     pl.Schema({"date": pl.String, "s": pl.Int64, "t": pl.Float64}), ["s", "t"], ["s"], "t", "date"
    ... )
    ['s', 't', 'date']
    """
    return list(dict.fromkeys([*columns, *date_columns(schema, keys, date_col=date_col, time_col=time)]))


def plan_node(
    frame: pl.LazyFrame,
    own: list[str],
    compute: Callable[[pl.DataFrame, pl.DataFrame | None], pl.DataFrame],
    schema: dict[str, pl.DataType],
    *,
    reference: pl.LazyFrame | None = None,
    ref_cols: Sequence[str] = (),
) -> pl.LazyFrame:
    """Return a LazyFrame of ``compute(frame[own], reference[ref_cols])``, run at ``collect()``.

    ``compute`` gets the frame's rows (columns ``own``) and the reference's (columns
    ``ref_cols``, or ``None`` without a reference) and returns one row per frame row with
    ``schema``.

    Examples
    --------
    >>> lf = pl.LazyFrame({"a": [1, 2]})
    >>> node = plan_node(lf, ["a"], lambda df, _: df.select(b=pl.col("a") * 2), {"b": pl.Int64})
    >>> pl.concat([lf, node], how="horizontal").collect()["b"].to_list()
    [2, 4]
    """
    if reference is None:
        return frame.select(own).map_batches(lambda batch: compute(batch, None), schema=schema)
    source = pl.concat(
        [
            frame.select(own).with_columns(pl.lit(0, pl.UInt8).alias(_SIDE)),
            reference.select(pl.col(c).alias(_REF + c) for c in ref_cols).with_columns(
                pl.lit(1, pl.UInt8).alias(_SIDE)
            ),
        ],
        how="diagonal",
    )

    def node(batch: pl.DataFrame) -> pl.DataFrame:
        n = int((batch.get_column(_SIDE) == 0).sum())  # concat keeps the frame's rows first
        ref_rows = batch.slice(n).select(pl.col(_REF + c).alias(c) for c in ref_cols)
        return compute(batch.slice(0, n).select(own), ref_rows)

    return source.map_batches(node, schema=schema)
