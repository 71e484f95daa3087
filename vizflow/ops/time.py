"""``parse_time``: put timestamps on a market's session-aware clock, as one Polars expression."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError
from vizflow.market import DAY_NS, get_market

if TYPE_CHECKING:
    from vizflow._typing import FrameT, InvalidPolicy, OutsidePolicy
    from vizflow.market import Market

__all__ = ["Encoding", "elapsed_expr", "encoding_of", "parse_time"]

Encoding = Literal["hhmmssmmm", "time", "datetime", "string"]
"""How a time column is stored: HHMMSSmmm integers, ``pl.Time``, ``pl.Datetime`` or strings."""

_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000


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


def _time_of_day_ns(raw: pl.Expr, encoding: Encoding, tz: str | None) -> tuple[pl.Expr, pl.Expr]:
    """Return (nanoseconds since midnight, is-valid mask) for ``raw`` in ``encoding``."""
    if encoding == "hhmmssmmm":
        v = raw.cast(pl.Int64)
        hh = v // 10_000_000
        mm = (v // 100_000) % 100
        ss = (v // 1_000) % 100
        valid = (v >= 0) & (hh < 24) & (mm < 60) & (ss < 60)  # noqa: PLR2004
        tod = ((hh * 3600 + mm * 60 + ss) * 1_000 + v % 1_000) * _NS_PER_MS
        return tod, valid
    if encoding == "time":
        return raw.cast(pl.Int64), pl.lit(True)
    if encoding == "datetime":
        if tz is not None:
            raw = raw.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        return raw.dt.time().cast(pl.Int64), pl.lit(True)
    parsed = raw.str.strip_chars().str.to_time("%H:%M:%S%.f", strict=False)
    return parsed.cast(pl.Int64), parsed.is_not_null()


def _guard(bad: pl.Expr, raw: pl.Expr, message: str) -> pl.Expr:
    """Return a scalar 0 that raises :class:`DataError` at collect time if any row is ``bad``.

    ``message`` gets the first offending value and the count through ``{value}`` and ``{count}``.
    """

    def check(s: pl.Series) -> pl.Series:
        first, count = s.struct.field("first")[0], s.struct.field("count")[0]
        if count:
            raise DataError(message.format(value=first, count=count))
        return pl.Series([0], dtype=pl.Int8)

    summary = pl.struct(first=raw.filter(bad).first(), count=bad.sum())
    return summary.map_batches(check, return_dtype=pl.Int8, returns_scalar=True)


def elapsed_expr(
    expr: pl.Expr | str,
    market: Market | str,
    *,
    encoding: Encoding = "hhmmssmmm",
    outside: OutsidePolicy = "clamp",
    invalid: InvalidPolicy = "raise",
    tz: str | None = None,
) -> pl.Expr:
    """Build the expression that maps times to ``market``'s elapsed seconds (Float64).

    This is the engine of :func:`parse_time` and of ``pl.col(...).vf.elapsed(market)``; it has no
    Python per row and does not collect.

    Parameters
    ----------
    expr
        The time column (an expression or a column name).
    market
        A :class:`~vizflow.Market` or a preset name.
    encoding
        How times are stored; see :data:`Encoding`. For ``"datetime"`` the wall-clock time is used
        as stored unless ``tz`` is given.
    outside
        Policy for times outside every session (see :mod:`vizflow.market`).
    invalid
        ``"raise"`` (default) or ``"null"`` for values that are not times of day, such as the
        HHMMSSmmm ``996100000`` or the string ``"25:00:00"``.
    tz
        Convert timezone-aware datetimes to this zone before taking the time of day.

    Returns
    -------
    pl.Expr
        Float64 elapsed seconds (millisecond and finer precision kept). Null inputs give null.

    Examples
    --------
    >>> import vizflow as vf
    >>> pl.DataFrame({"t": [93000000, 113000000, 130000000, 150000000]}).select(
    ...     vf.elapsed_expr("t", vf.CN)
    ... )
    shape: (4, 1)
    ┌─────────┐
    │ t       │
    │ ---     │
    │ f64     │
    ╞═════════╡
    │ 0.0     │
    │ 7200.0  │
    │ 7200.0  │
    │ 14400.0 │
    └─────────┘
    """
    market = get_market(market)
    raw = pl.col(expr) if isinstance(expr, str) else expr
    tod, valid = _time_of_day_ns(raw, encoding, tz)
    anchor, starts, lengths, split, _total = market.layout

    pos = tod if anchor == 0 else (tod - anchor) % DAY_NS
    if split < DAY_NS:
        pos = pl.when(pos >= split).then(pos - DAY_NS).otherwise(pos)
    elapsed_ns = pl.sum_horizontal(
        [(pos - s).clip(0, length) for s, length in zip(starts, lengths, strict=True)]
    )
    # Integer part exactly, then the fraction: Polars divides by multiplying with the reciprocal.
    seconds = (elapsed_ns // _NS_PER_S).cast(pl.Float64) + (elapsed_ns % _NS_PER_S).cast(
        pl.Float64
    ) / float(_NS_PER_S)

    seconds = pl.when(valid).then(seconds)
    if invalid == "raise":
        seconds = seconds + _guard(
            raw.is_not_null() & ~valid.fill_null(False),
            raw,
            "parse_time: {count} value(s) are not times of day, first: {value!r}; "
            f"expected {_EXPECTED[encoding]} (or pass invalid='null')",
        )
    if outside != "clamp":
        lo_ok = (lambda s: pos >= s) if market.closed in ("left", "both") else (lambda s: pos > s)
        hi_ok = (lambda e: pos <= e) if market.closed in ("right", "both") else (lambda e: pos < e)
        inside = pl.any_horizontal(
            [lo_ok(s) & hi_ok(s + n) for s, n in zip(starts, lengths, strict=True)]
        )
        if outside == "null":
            seconds = pl.when(inside).then(seconds)
        else:
            seconds = seconds + _guard(
                valid.fill_null(False) & ~inside.fill_null(True),
                raw,
                f"parse_time: {{count}} time(s) outside every session of {market.name} "
                f"({market.describe()}), first: {{value!r}}; pass outside='clamp' or 'null' "
                "to keep them",
            )
    return seconds.alias(raw.meta.output_name(raise_if_undetermined=False) or "elapsed_seconds")


_EXPECTED: dict[str, str] = {
    "hhmmssmmm": "HHMMSSmmm integers such as 93000000 (= 09:30:00.000)",
    "string": "strings 'HH:MM:SS' or 'HH:MM:SS.fff'",
    "time": "times",
    "datetime": "datetimes",
}


def parse_time(
    frame: FrameT,
    market: Market | str,
    column: str = "ticktime",
    *,
    out: str = "elapsed_seconds",
    outside: OutsidePolicy = "clamp",
    invalid: InvalidPolicy = "raise",
) -> FrameT:
    """Add the session-aware clock: seconds of trading time since the first session's open.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    market
        A :class:`~vizflow.Market` (``vf.CN``, ``vf.CRYPTO``, ...) or a preset name.
    column
        The time column. Its encoding follows from its dtype: integer HHMMSSmmm
        (``93000000`` = 09:30:00.000), ``pl.Time``, ``pl.Datetime`` (timezone-aware values are
        converted to the market's time zone; naive values are taken as market local time) or a
        string ``"HH:MM:SS[.fff]"``.
    out
        Name of the new column.
    outside
        ``"clamp"`` (default), ``"null"`` or ``"raise"`` for times outside every session; see
        :mod:`vizflow.market`. With ``"clamp"`` a lunch-break time maps to the morning close (7200
        for CN), pre-open to 0 and post-close to the day's total.
    invalid
        ``"raise"`` (default) or ``"null"`` for values that are not a time of day (``996100000``).

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, with ``out`` added as **Float64 seconds** (milliseconds and
        finer kept as the fraction; the dtype is the same on every date). Null times give null.

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is missing (the message lists the columns there are).
    SchemaError
        If ``column`` has a dtype that cannot hold a time (e.g. Float64).
    DataError
        With ``invalid="raise"`` / ``outside="raise"``, when the frame is collected.

    Notes
    -----
    A single expression: nothing is collected, and a LazyFrame stays lazy. The error checks of the
    ``"raise"`` policies run when the plan is collected.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"ticktime": [93000000, 113000000, 120000000, 130000000, 150000000]})
    >>> vf.parse_time(df, vf.CN, "ticktime")
    shape: (5, 2)
    ┌───────────┬─────────────────┐
    │ ticktime  ┆ elapsed_seconds │
    │ ---       ┆ ---             │
    │ i64       ┆ f64             │
    ╞═══════════╪═════════════════╡
    │ 93000000  ┆ 0.0             │
    │ 113000000 ┆ 7200.0          │
    │ 120000000 ┆ 7200.0          │
    │ 130000000 ┆ 7200.0          │
    │ 150000000 ┆ 14400.0         │
    └───────────┴─────────────────┘
    """
    market = get_market(market)
    schema = frame.collect_schema()
    require_columns(schema, [column], where="parse_time")
    dtype = schema[column]
    encoding = encoding_of(dtype, column=column)
    tz = market.tz if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None else None
    expr = elapsed_expr(
        pl.col(column), market, encoding=encoding, outside=outside, invalid=invalid, tz=tz
    ).alias(out)
    result = frame.lazy().with_columns(expr)
    return result.collect() if isinstance(frame, pl.DataFrame) else result
