"""``parse_time``: put timestamps on a market's session-aware clock, as one Polars expression."""

from __future__ import annotations

import operator
from functools import partial, reduce
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from vizflow._frames import same_kind
from vizflow.market import DAY_NS, OUTSIDE_POLICIES, Market, get_market, require_choice
from vizflow.ops.phase import session_phase
from vizflow.ops.time_of_day import (
    ENCODINGS,
    INVALID_POLICIES,
    Encoding,
    encoding_of,
    invalid_message,
    raise_if_any,
    require_encoding,
    require_new_column,
    time_of_day,
    to_unit,
)

if TYPE_CHECKING:
    from vizflow._typing import FrameT, InvalidPolicy, OutsidePolicy

__all__ = ["Encoding", "elapsed_expr", "encoding_of", "parse_time"]


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
    require_choice("encoding", encoding, ENCODINGS, where="elapsed_expr")
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
    seconds = parts.seconds + require_encoding(raw, encoding)
    if parts.valid is not None:
        if invalid == "null":
            seconds = pl.when(parts.valid).then(seconds)
        else:
            bad = raw.is_not_null() & ~parts.valid.fill_null(False)
            seconds = seconds + raise_if_any(bad, raw, invalid_message(encoding), encoding=encoding)
    if outside == "null":
        seconds = pl.when(parts.inside).then(seconds)
    elif outside == "raise":
        bad = ~parts.inside & seconds.is_not_null()
        seconds = seconds + raise_if_any(bad, raw, _outside_message(parts.market))
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
    tod, valid, unit = time_of_day(raw, encoding, tz)
    anchor, starts, lengths, split, day = (to_unit(x, unit) for x in (*market.layout[:4], DAY_NS))
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


def _require_policies(outside: OutsidePolicy, invalid: InvalidPolicy, *, where: str) -> None:
    require_choice("outside", outside, OUTSIDE_POLICIES, where=where)
    require_choice("invalid", invalid, INVALID_POLICIES, where=where)


def _outside_message(market: Market) -> str:
    return (
        f"parse_time: {{count}} time(s) outside every session of {market.name} "
        f"({market.describe()}), first: {{value!r}}; pass outside='clamp' or 'null' to keep them"
    )


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
    require_new_column(schema, column, out, where="parse_time")
    if phase is not None:
        require_new_column(schema, column, phase, where="parse_time", name="phase", taken=[out])
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
        value = value + raise_if_any(
            bad, raw, invalid_message(encoding), count=value.null_count() - raw.null_count()
        )
    if outside == "null":
        value = pl.when(pl.col(_INSIDE)).then(value)
    elif outside == "raise":
        value = value + raise_if_any(
            ~pl.col(_INSIDE) & pl.col(out).is_not_null(), raw, _outside_message(market)
        )
    if outside != "clamp" or (parts.valid is not None and invalid == "raise"):
        result = result.with_columns(value.alias(out)).drop(_INSIDE, strict=False)
    if phase is not None:
        # The values parse_time refuses were checked above, so the phase needs no second
        # check ("null" for the rest).
        result = session_phase(result, market, column, out=phase, invalid="null")
    return same_kind(frame, result)


_INSIDE = "__vizflow_inside"
