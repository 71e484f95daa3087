"""``parse_time``: put timestamps on a market's session-aware clock, as one Polars expression."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import polars as pl

from vizflow._frames import same_kind
from vizflow.market import OUTSIDE_POLICIES, Market, get_market, require_choice
from vizflow.ops.phase import session_phase
from vizflow.ops.time_kernel import ClockPass
from vizflow.ops.time_of_day import (
    ENCODINGS,
    INVALID_POLICIES,
    NS_PER_S,
    Encoding,
    encoding_of,
    require_new_column,
    time_of_day,
)

if TYPE_CHECKING:
    from collections.abc import Callable

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
    if encoding == "datetime":  # the dtype is known only when collected: aware or naive, as parse_time
        wall = partial(_market_wall_clock, tz=tz if tz is not None else market.tz)
        clock = _clock_pass(market, encoding, None, before=wall)
    else:
        clock = _clock_pass(market, encoding, tz)
    seconds = clock.seconds(raw, null_outside=outside != "clamp")
    seconds = clock.checked(seconds, raw, invalid=invalid, outside=outside, check_dtype=True)
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


def _clock_pass(
    market: Market,
    encoding: Encoding,
    tz: str | None,
    *,
    before: Callable[[pl.Series], pl.Series] | None = None,
) -> ClockPass:
    """Build the compiled clock over ``encoding``.

    Raw HHMMSSmmm integers go to the kernel as they are (it decodes and validates them), the
    other encodings as Int64 nanoseconds since midnight.
    """
    if encoding == "hhmmssmmm":
        return ClockPass(market, encoding, 1_000, _same)
    return ClockPass(
        market, encoding, NS_PER_S, partial(_time_of_day_ns, encoding=encoding, tz=tz, before=before)
    )


def _same(raw: pl.Expr) -> pl.Expr:
    return raw


def _time_of_day_ns(
    raw: pl.Expr, *, encoding: Encoding, tz: str | None, before: Callable[[pl.Series], pl.Series] | None
) -> pl.Expr:
    if before is not None:
        raw = raw.map_batches(before, return_dtype=_WALL, is_elementwise=True)
    return time_of_day(raw, encoding, tz)[0]


def _require_policies(outside: OutsidePolicy, invalid: InvalidPolicy, *, where: str) -> None:
    require_choice("outside", outside, OUTSIDE_POLICIES, where=where)
    require_choice("invalid", invalid, INVALID_POLICIES, where=where)


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
    clock = _clock_pass(market, encoding, tz)
    # One compiled elementwise pass decodes, validates and maps the times (it streams); the
    # "raise" policies add a whole-column step that costs two null counts unless it must raise.
    seconds = clock.seconds(raw, null_outside=outside != "clamp")
    if invalid == "raise" or outside == "raise":
        seconds = clock.checked(seconds, raw, invalid=invalid, outside=outside)
    result = frame.lazy().with_columns(seconds.alias(out))
    if phase is not None:
        # The values parse_time refuses were checked above, so the phase needs no second
        # check ("null" for the rest).
        result = session_phase(result, market, column, out=phase, invalid="null")
    return same_kind(frame, result)
