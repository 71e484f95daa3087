"""Reading a time column: its encoding, the time of day it holds, and the checks that run at collect time.

Shared by :mod:`vizflow.ops.time` (the session clock) and :mod:`vizflow.ops.phase` (session
phases and trading dates), which both read raw HHMMSSmmm integers, ``Time``, ``Datetime`` and
string times the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import polars as pl

from vizflow._typing import InvalidPolicy
from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "ENCODINGS",
    "EXPECTED",
    "INVALID_POLICIES",
    "NS_PER_MS",
    "NS_PER_S",
    "Encoding",
    "encoding_hint",
    "encoding_of",
    "invalid_message",
    "raise_if_any",
    "require_new_column",
    "require_series_encoding",
    "time_of_day",
    "to_unit",
]

Encoding = Literal["hhmmssmmm", "time", "datetime", "string"]
"""How a time column is stored: HHMMSSmmm integers, ``pl.Time``, ``pl.Datetime`` or strings."""

ENCODINGS: tuple[str, ...] = get_args(Encoding)
INVALID_POLICIES: tuple[str, ...] = get_args(InvalidPolicy)

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


def encoding_of(dtype: pl.DataType, *, column: str, where: str = "parse_time") -> Encoding:
    """Infer the time encoding of a column from its dtype.

    Raises
    ------
    SchemaError
        For dtypes that cannot hold a time of day (floats, booleans, ...).

    Examples
    --------
    >>> encoding_of(pl.Int64(), column="ticktime")
    'hhmmssmmm'
    """
    if dtype.is_integer():
        return "hhmmssmmm"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Time:
        return "time"
    if dtype == pl.String:
        return "string"
    msg = (
        f"{where}: column {column!r} has dtype {dtype}; expected an integer HHMMSSmmm "
        "(93000000 = 09:30:00.000), Time, Datetime or a String 'HH:MM:SS[.fff]'"
    )
    raise SchemaError(msg)


def time_of_day(raw: pl.Expr, encoding: Encoding, tz: str | None) -> tuple[pl.Expr, pl.Expr | None, int]:
    """Return (time since midnight, is-valid mask or None if always valid, units per second)."""
    if encoding == "hhmmssmmm":
        # Milliseconds in few passes (Polars does not fuse elementwise ops): with
        # v = HH*10^7 + MM*10^5 + SS.mmm*10^3, time of day = v - HH*6_400_000 - MM*40_000.
        # Not strict: a UInt64 beyond Int64 (or any non-integer) becomes null, so it is
        # reported as an invalid value naming it, not as a raw cast error.
        v = raw.cast(pl.Int64, strict=False)
        hh = v // 10_000_000
        hhmm = v // 100_000
        mm = hhmm - hh * 100
        tod = v - hh * 6_400_000 - mm * 40_000
        valid = (v >= 0) & (hh < 24) & (mm < 60) & (v - hhmm * 100_000 < 60_000)  # noqa: PLR2004
        return tod, valid, 1_000
    if encoding == "time":
        return raw.cast(pl.Int64), None, NS_PER_S
    if encoding == "datetime":
        if tz is not None:
            raw = raw.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        return raw.dt.time().cast(pl.Int64), None, NS_PER_S
    parsed = raw.str.strip_chars().str.to_time("%H:%M:%S%.f", strict=False)
    return parsed.cast(pl.Int64), parsed.is_not_null(), NS_PER_S


def to_unit(ns: int | tuple[int, ...], unit: int) -> Any:
    """Nanoseconds (or a tuple of them) in ``unit`` per second, rounded."""
    if isinstance(ns, tuple):
        return tuple(round(x * unit / NS_PER_S) for x in ns)
    return round(ns * unit / NS_PER_S)


def encoding_hint(dtype: pl.DataType, encoding: Encoding) -> str:
    """``"; the column is <dtype>: pass encoding='...'"`` if ``dtype`` holds another encoding, else ``""``."""
    try:
        fits = encoding_of(dtype, column="")
    except SchemaError:
        return ""
    return "" if fits == encoding else f"; the column is {dtype}: pass encoding={fits!r}"


def require_series_encoding(s: pl.Series, encoding: Encoding) -> None:
    """Raise :class:`SchemaError` unless ``s``'s dtype holds ``encoding`` (naming the one it holds).

    Examples
    --------
    >>> require_series_encoding(pl.Series("t", [93000000]), "hhmmssmmm")
    >>> require_series_encoding(pl.Series("t", [1.5]), "hhmmssmmm")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.SchemaError: elapsed_expr: column 't' has dtype Float64; expected an integer ...
    """
    encoding_of(s.dtype, column=s.name, where="elapsed_expr")  # e.g. a Float64 column
    hint = encoding_hint(s.dtype, encoding)
    if hint:
        msg = f"elapsed_expr: column {s.name!r} does not hold encoding={encoding!r}{hint}"
        raise SchemaError(msg)


def raise_if_any(
    bad: pl.Expr,
    raw: pl.Expr,
    message: str,
    *,
    count: pl.Expr | None = None,
    encoding: Encoding | None = None,
) -> pl.Expr:
    """Return a scalar 0 that raises :class:`DataError` at collect time if any row is ``bad``.

    ``message`` gets the first offending value, the count and (given ``encoding``) a hint naming
    the encoding that fits the column's dtype through ``{value}``, ``{count}`` and ``{hint}``;
    ``count`` may give a cheaper expression for the number of bad rows.
    """

    def check(s: pl.Series) -> pl.Series:
        first, count = s.struct.field("first"), s.struct.field("count")[0]
        if count:
            hint = "" if encoding is None else encoding_hint(first.dtype, encoding)
            raise DataError(message.format(value=first[0], count=count, hint=hint))
        return pl.Series([0], dtype=pl.Int8)

    summary = pl.struct(first=raw.filter(bad).first(), count=bad.sum() if count is None else count)
    return summary.map_batches(check, return_dtype=pl.Int8, returns_scalar=True)


EXPECTED: dict[str, str] = {
    "hhmmssmmm": "HHMMSSmmm integers such as 93000000 (= 09:30:00.000)",
    "string": "strings 'HH:MM:SS' or 'HH:MM:SS.fff'",
    "time": "times",
    "datetime": "datetimes",
}


def invalid_message(encoding: Encoding) -> str:
    """Return the message for values that are not times of day (fill ``{count}``, ``{value}``, ``{hint}``)."""
    return (
        "parse_time: {count} value(s) are not times of day, first: {value!r}; "
        f"expected {EXPECTED[encoding]} (or pass invalid='null'){{hint}}"
    )


def require_new_column(
    schema: pl.Schema,
    column: str,
    out: str,
    *,
    where: str,
    name: str = "out",
    taken: Sequence[str] = (),
) -> None:
    """Check that ``column`` exists and that the new column ``out`` (argument ``name``) does not."""
    require_columns(schema, [column], where=where)
    if out == column or out in schema or out in taken:
        what = "is the input column" if out == column else "already exists"
        what = "is another output of the same call" if out in taken else what
        msg = (
            f"{where}: {name}={out!r} {what}; expected a new column name "
            f"(drop it first or pass another {name}=)"
        )
        raise VizflowError(msg)
