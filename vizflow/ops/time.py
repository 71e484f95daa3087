"""``parse_time``: put timestamps on a market's session-aware clock, as one Polars expression."""

from __future__ import annotations

import operator
from functools import partial, reduce
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

import polars as pl

from vizflow._typing import InvalidPolicy
from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.market import DAY_NS, OUTSIDE_POLICIES, Market, get_market, require_choice

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT, OutsidePolicy

__all__ = ["Encoding", "elapsed_expr", "encoding_of", "parse_time"]

Encoding = Literal["hhmmssmmm", "time", "datetime", "string"]
"""How a time column is stored: HHMMSSmmm integers, ``pl.Time``, ``pl.Datetime`` or strings."""

_ENCODINGS: tuple[str, ...] = get_args(Encoding)
_INVALID_POLICIES: tuple[str, ...] = get_args(InvalidPolicy)

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


def _time_of_day(raw: pl.Expr, encoding: Encoding, tz: str | None) -> tuple[pl.Expr, pl.Expr | None, int]:
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
        return raw.cast(pl.Int64), None, _NS_PER_S
    if encoding == "datetime":
        if tz is not None:
            raw = raw.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        return raw.dt.time().cast(pl.Int64), None, _NS_PER_S
    parsed = raw.str.strip_chars().str.to_time("%H:%M:%S%.f", strict=False)
    return parsed.cast(pl.Int64), parsed.is_not_null(), _NS_PER_S


def _to_unit(ns: int | tuple[int, ...], unit: int) -> Any:
    """Nanoseconds (or a tuple of them) in ``unit`` per second, rounded."""
    if isinstance(ns, tuple):
        return tuple(round(x * unit / _NS_PER_S) for x in ns)
    return round(ns * unit / _NS_PER_S)


def _mismatch(dtype: pl.DataType, encoding: Encoding) -> str:
    """``"; the column is <dtype>: pass encoding='...'"`` if ``dtype`` holds another encoding, else ``""``."""
    try:
        fits = encoding_of(dtype, column="")
    except SchemaError:
        return ""
    return "" if fits == encoding else f"; the column is {dtype}: pass encoding={fits!r}"


def _require_encoding(raw: pl.Expr, encoding: Encoding) -> pl.Expr:
    """Return a scalar 0 that raises :class:`SchemaError` at collect time unless ``raw``'s dtype fits."""

    def check(s: pl.Series) -> pl.Series:
        encoding_of(s.dtype, column=s.name, where="elapsed_expr")  # e.g. a Float64 column
        hint = _mismatch(s.dtype, encoding)
        if hint:
            msg = f"elapsed_expr: column {s.name!r} does not hold encoding={encoding!r}{hint}"
            raise SchemaError(msg)
        return pl.Series([0], dtype=pl.Int8)

    return raw.head(0).map_batches(check, return_dtype=pl.Int8, returns_scalar=True)


def _guard(
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
            hint = "" if encoding is None else _mismatch(first.dtype, encoding)
            raise DataError(message.format(value=first[0], count=count, hint=hint))
        return pl.Series([0], dtype=pl.Int8)

    summary = pl.struct(first=raw.filter(bad).first(), count=bad.sum() if count is None else count)
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
        How times are stored; see :data:`Encoding`. For ``"datetime"``, as in :func:`parse_time`,
        timezone-aware values are converted to the market's time zone (``tz`` if given) and naive
        values are read as the market's local time.
    outside
        Policy for times outside every session (see :mod:`vizflow.market`).
    invalid
        ``"raise"`` (default) or ``"null"`` for values that are not times of day, such as the
        HHMMSSmmm ``996100000`` or the string ``"25:00:00"``.
    tz
        The zone timezone-aware datetimes are converted to before taking the time of day
        (default: the market's ``tz``; a market without one reads each value in its own zone).

    Returns
    -------
    pl.Expr
        Float64 elapsed seconds (millisecond and finer precision kept). Null inputs give null.

    Raises
    ------
    VizflowError
        At once, for an unknown ``encoding``, ``outside`` or ``invalid`` string (naming the
        accepted ones).
    SchemaError
        When collected, if the column's dtype does not hold ``encoding`` (a Datetime column with
        the default encoding is told to pass ``encoding="datetime"``).
    DataError
        When collected, with ``invalid="raise"`` / ``outside="raise"``, naming the first value.

    Examples
    --------
    >>> import vizflow as vf
    >>> pl.DataFrame({"t": [93000000, 113000000, 130000000, 150000000]}).select(vf.elapsed_expr("t", vf.CN))
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
    _require_policies(outside, invalid, where="elapsed_expr")
    require_choice("encoding", encoding, _ENCODINGS, where="elapsed_expr")
    raw = pl.col(expr) if isinstance(expr, str) else expr
    market = get_market(market)
    clock_input, clock_tz = raw, tz
    if encoding == "datetime":  # the dtype is known only when collected: aware or naive, as parse_time
        zone = tz if tz is not None else market.tz
        clock_input = raw.map_batches(
            partial(_market_wall_clock, tz=zone), return_dtype=_WALL, is_elementwise=True
        )
        clock_tz = None
    parts = _clock(clock_input, market, encoding, clock_tz)
    seconds = parts.seconds + _require_encoding(raw, encoding)
    if parts.valid is not None:
        if invalid == "null":
            seconds = pl.when(parts.valid).then(seconds)
        else:
            bad = raw.is_not_null() & ~parts.valid.fill_null(False)
            seconds = seconds + _guard(bad, raw, _invalid_message(encoding), encoding=encoding)
    if outside == "null":
        seconds = pl.when(parts.inside).then(seconds)
    elif outside == "raise":
        bad = ~parts.inside & seconds.is_not_null()
        seconds = seconds + _guard(bad, raw, _outside_message(parts.market))
    return seconds.alias(raw.meta.output_name(raise_if_undetermined=False) or "elapsed_seconds")


_WALL = pl.Datetime("ns")


def _market_wall_clock(values: pl.Series, tz: str | None) -> pl.Series:
    """Naive wall-clock datetimes: aware ones converted to ``tz`` (if any), naive ones as stored.

    Anything but a Datetime becomes nulls, left for the encoding check to report.
    """
    if not isinstance(values.dtype, pl.Datetime):
        return pl.Series(values.name, [None] * values.len(), dtype=_WALL)
    if values.dtype.time_zone is not None and tz is not None:
        values = values.dt.convert_time_zone(tz)
    return values.dt.replace_time_zone(None).cast(_WALL)


class _Clock(NamedTuple):
    """The pieces of the clock expression: clamped seconds, validity and the inside mask."""

    market: Market
    seconds: pl.Expr
    valid: pl.Expr | None
    inside: pl.Expr


def _clock(raw: pl.Expr, market: Market, encoding: Encoding, tz: str | None) -> _Clock:
    tod, valid, unit = _time_of_day(raw, encoding, tz)
    anchor, starts, lengths, split, day = (_to_unit(x, unit) for x in (*market.layout[:4], DAY_NS))
    pos = tod if anchor == 0 else (tod - anchor) % day
    if split < day:
        pos = pl.when(pos >= split).then(pos - day).otherwise(pos)
    # Sum of each session's clipped share; `+`, not sum_horizontal, so a null time stays null.
    elapsed = reduce(operator.add, [(pos - s).clip(0, n) for s, n in zip(starts, lengths, strict=True)])
    seconds = elapsed.cast(pl.Float64).map_batches(
        partial(_exact_divide, divisor=float(unit)), return_dtype=pl.Float64, is_elementwise=True
    )
    lo_ok = (lambda s: pos >= s) if market.closed in ("left", "both") else (lambda s: pos > s)
    hi_ok = (lambda e: pos <= e) if market.closed in ("right", "both") else (lambda e: pos < e)
    inside = pl.any_horizontal([lo_ok(s) & hi_ok(s + n) for s, n in zip(starts, lengths, strict=True)])
    return _Clock(market, seconds, valid, inside)


def _exact_divide(s: pl.Series, divisor: float) -> pl.Series:
    """``s / divisor`` correctly rounded and deterministic.

    On large arrays Polars divides by a scalar by multiplying with its reciprocal (up to one ulp
    off, so ``7200.5`` could read ``7200.500000000001``) and on small ones it divides exactly;
    numpy's true division is exact every time. Integer-valued inputs hold no NaN, so NaN here
    can only be a null.
    """
    return pl.Series(s.name, s.to_numpy() / divisor, nan_to_null=True)


def _invalid_message(encoding: Encoding) -> str:
    return (
        "parse_time: {count} value(s) are not times of day, first: {value!r}; "
        f"expected {_EXPECTED[encoding]} (or pass invalid='null'){{hint}}"
    )


def _require_policies(outside: OutsidePolicy, invalid: InvalidPolicy, *, where: str) -> None:
    require_choice("outside", outside, OUTSIDE_POLICIES, where=where)
    require_choice("invalid", invalid, _INVALID_POLICIES, where=where)


def _require_new(
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


def _outside_message(market: Market) -> str:
    return (
        f"parse_time: {{count}} time(s) outside every session of {market.name} "
        f"({market.describe()}), first: {{value!r}}; pass outside='clamp' or 'null' to keep them"
    )


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
    phase: str | None = None,
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
    phase
        Also add a column of this name holding each print's session phase, exactly as
        :func:`vizflow.session_phase` does (``pre_open_auction``, ``continuous``, ...); ``None``
        (default) adds none. ``outside`` does not apply to it: a 09:25 auction print is clamped
        to 0 s on the clock and named ``pre_open_auction`` here, so it can be filtered or flagged.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, with ``out`` added as **Float64 seconds** (milliseconds and
        finer kept as the fraction; the dtype is the same on every date). Null times give null.
        With ``phase``, then the phase column (a ``pl.Enum``; null where ``out`` is null for an
        invalid value).

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is missing (the message lists the columns there are).
    SchemaError
        If ``column`` has a dtype that cannot hold a time (e.g. Float64).
    VizflowError
        For an unknown ``outside`` or ``invalid`` string (policies are case-sensitive), or an
        ``out`` (or ``phase``) that is the input column or already exists, or ``phase == out``.
    DataError
        With ``invalid="raise"`` / ``outside="raise"``, when the frame is collected, naming the
        first offending input value (an integer beyond Int64, e.g. a UInt64 above 2**63, is not a
        time of day).

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

    The session phase in the same call (the 09:25 opening match sits at 0 s with the 09:30 open):

    >>> df = pl.DataFrame({"ticktime": [92500940, 93000000, 145900000, 150001060]})
    >>> vf.parse_time(df, vf.CN, phase="phase")
    shape: (4, 3)
    ┌───────────┬─────────────────┬──────────────────┐
    │ ticktime  ┆ elapsed_seconds ┆ phase            │
    │ ---       ┆ ---             ┆ ---              │
    │ i64       ┆ f64             ┆ enum             │
    ╞═══════════╪═════════════════╪══════════════════╡
    │ 92500940  ┆ 0.0             ┆ pre_open_auction │
    │ 93000000  ┆ 0.0             ┆ continuous       │
    │ 145900000 ┆ 14340.0         ┆ closing_auction  │
    │ 150001060 ┆ 14400.0         ┆ closing_auction  │
    └───────────┴─────────────────┴──────────────────┘
    """
    _require_policies(outside, invalid, where="parse_time")
    market = get_market(market)
    schema = frame.collect_schema()
    _require_new(schema, column, out, where="parse_time")
    if phase is not None:
        _require_new(schema, column, phase, where="parse_time", name="phase", taken=[out])
    dtype = schema[column]
    encoding = encoding_of(dtype, column=column)
    tz = market.tz if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None else None
    raw = pl.col(column)
    parts = _clock(raw, market, encoding, tz)
    # Stage 1 computes the clock in one elementwise pass (invalid values -> null, the inside
    # mask kept aside); stage 2 checks the policies on those cheap columns. This is ~2x faster
    # than guarding inside one expression, where the checks re-decode the times.
    seconds = parts.seconds if parts.valid is None else pl.when(parts.valid).then(parts.seconds)
    stage1 = {out: seconds}
    if outside != "clamp":
        stage1[_INSIDE] = parts.inside
    result = frame.lazy().with_columns(**stage1)
    value = pl.col(out)
    if parts.valid is not None and invalid == "raise":
        bad = value.is_null() & raw.is_not_null()
        value = value + _guard(
            bad, raw, _invalid_message(encoding), count=value.null_count() - raw.null_count()
        )
    if outside == "null":
        value = pl.when(pl.col(_INSIDE)).then(value)
    elif outside == "raise":
        value = value + _guard(~pl.col(_INSIDE) & pl.col(out).is_not_null(), raw, _outside_message(market))
    if outside != "clamp" or (parts.valid is not None and invalid == "raise"):
        result = result.with_columns(value.alias(out)).drop(_INSIDE, strict=False)
    if phase is not None:
        # Imported here: vizflow.ops.phase builds on this module. The values parse_time refuses
        # were checked above, so the phase needs no second check ("null" for the rest).
        from vizflow.ops.phase import session_phase

        result = session_phase(result, market, column, out=phase, invalid="null")
    return result.collect() if isinstance(frame, pl.DataFrame) else result


_INSIDE = "__vizflow_inside"
