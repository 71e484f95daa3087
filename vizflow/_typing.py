"""Type aliases shared across vizflow (kept in one place, as in polars ``_typing``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, TypeAlias, TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
"""A DataFrame or a LazyFrame; functions return the same kind they were given."""

DateLike: TypeAlias = str | dt.date
"""A trading date: a ``"YYYYMMDD"`` string or a :class:`datetime.date`."""

OutsidePolicy: TypeAlias = Literal["clamp", "null", "raise"]
"""What ``parse_time`` does with a time outside every session."""

InvalidPolicy: TypeAlias = Literal["raise", "null"]
"""What ``parse_time`` does with a value that is not a time of day (e.g. ``996100000``)."""

Closed: TypeAlias = Literal["left", "right", "both"]
"""Which session edges count as inside the session."""
