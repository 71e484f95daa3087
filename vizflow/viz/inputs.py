"""Checking a figure's inputs: the frame's columns (then collected) and its integer options."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import polars as pl

from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["eager_frame", "positive_int"]


def eager_frame(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str], where: str) -> pl.DataFrame:
    """Check that ``frame`` has ``columns``, then return it collected.

    Raises
    ------
    ColumnNotFoundError
        For a missing column, naming it and ``where``.

    Examples
    --------
    >>> import polars as pl
    >>> eager_frame(pl.LazyFrame({"a": [1]}), ["a"], "line").shape
    (1, 1)
    """
    require_columns(frame.collect_schema(), columns, where=where)
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def positive_int(value: object, name: str, where: str) -> int:
    """Return ``value`` as an int, or raise when it is not an integer >= 1 (booleans refused).

    Raises
    ------
    VizflowError
        Naming ``where``, ``name`` and the value.

    Examples
    --------
    >>> positive_int(3, "bins", "histogram")
    3
    >>> positive_int(0, "bins", "histogram")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.VizflowError: histogram: bins=0; expected an integer >= 1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        msg = f"{where}: {name}={value!r}; expected an integer >= 1"
        raise VizflowError(msg)
    return int(value)
