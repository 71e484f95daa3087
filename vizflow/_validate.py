"""Boundary checks shared by every operation.

Each check takes the frame's schema (one ``collect_schema()`` per call) or an eager frame, and raises an
error that names the operation, the column and what was expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "require_columns",
    "require_dtype",
    "require_no_nulls",
    "require_numeric",
    "require_sorted",
]


def require_columns(schema: pl.Schema, columns: Iterable[str], *, where: str) -> None:
    """Raise :class:`ColumnNotFoundError` unless every name in ``columns`` is in ``schema``.

    Examples
    --------
    >>> require_columns(pl.Schema({"a": pl.Int64}), ["a"], where="demo")
    """
    missing = [c for c in columns if c not in schema]
    if missing:
        raise ColumnNotFoundError.missing(missing, schema.names(), where=where)


def require_dtype(
    schema: pl.Schema,
    column: str,
    accept: Callable[[pl.DataType], bool],
    *,
    expected: str,
    where: str,
) -> None:
    """Raise :class:`SchemaError` unless ``accept(schema[column])`` holds.

    Examples
    --------
    >>> require_dtype(
    ...     pl.Schema({"a": pl.Int64}),
    ...     "a",
    ...     lambda d: d.is_integer(),
    ...     expected="an integer",
    ...     where="demo",
    ... )
    """
    require_columns(schema, [column], where=where)
    dtype = schema[column]
    if not accept(dtype):
        msg = f"{where}: column {column!r} has dtype {dtype}; expected {expected}"
        raise SchemaError(msg)


def require_numeric(schema: pl.Schema, column: str, *, where: str) -> None:
    """Raise :class:`SchemaError` unless ``column`` is an integer or float column.

    Examples
    --------
    >>> require_numeric(pl.Schema({"px": pl.Float64}), "px", where="demo")
    """
    require_dtype(schema, column, lambda d: d.is_numeric(), expected="a numeric dtype", where=where)


def require_no_nulls(df: pl.DataFrame, columns: Iterable[str], *, where: str) -> None:
    """Raise :class:`DataError` naming the first null in any of ``columns`` of an eager frame.

    Examples
    --------
    >>> require_no_nulls(pl.DataFrame({"a": [1, 2]}), ["a"], where="demo")
    """
    for column in columns:
        nulls = df.get_column(column).is_null()
        if nulls.any():
            row = int(nulls.arg_max())  # type: ignore[arg-type]
            msg = (
                f"{where}: column {column!r} has {nulls.sum()} null value(s), first at row {row}; "
                "nulls are not allowed here"
            )
            raise DataError(msg)


def require_sorted(df: pl.DataFrame, by: list[str], *, where: str) -> None:
    """Raise :class:`DataError` unless an eager frame is sorted by the columns ``by`` (ascending).

    Examples
    --------
    >>> require_sorted(pl.DataFrame({"s": ["a", "a", "b"], "t": [2, 3, 1]}), ["s", "t"], where="demo")
    """
    if df.height < 2:  # noqa: PLR2004
        return
    # Row i is out of order when its key tuple is lexicographically below row i-1's.
    below = pl.lit(False)
    for column in reversed(by):
        col, prev = pl.col(column), pl.col(column).shift(1)
        below = (col < prev) | ((col == prev) & below)
    bad = df.select(below.fill_null(False).alias("bad")).get_column("bad")
    if bad.any():
        row = int(bad.arg_max())  # type: ignore[arg-type]
        msg = (
            f"{where}: frame is not sorted by {by}: row {row} comes before row {row - 1}; "
            f"sort it first, e.g. df.sort({by})"
        )
        raise DataError(msg)
