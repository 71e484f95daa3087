"""Where a print falls in its market's day: its session phase and the trading day it belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from vizflow import calendar as cal_mod
from vizflow._frames import same_kind
from vizflow._validate import require_columns
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.market import DAY_NS, get_market, require_choice
from vizflow.ops.time_of_day import (
    INVALID_POLICIES,
    encoding_of,
    invalid_message,
    raise_if_any,
    require_new_column,
    time_of_day,
    to_unit,
)

if TYPE_CHECKING:
    from vizflow._typing import FrameT, InvalidPolicy
    from vizflow.calendar import Calendar
    from vizflow.market import Market

__all__ = ["session_phase", "trading_date"]


def _position(
    raw: pl.Expr, dtype: pl.DataType, market: Market, *, column: str, where: str
) -> tuple[pl.Expr, pl.Expr | None, int]:
    """Each time's position on the market's day axis (in units per second), validity and the unit."""
    encoding = encoding_of(dtype, column=column, where=where)
    tz = market.tz if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None else None
    tod, valid, unit = time_of_day(raw, encoding, tz)
    anchor, day = to_unit(market.layout.anchor_ns, unit), to_unit(DAY_NS, unit)
    return (tod if anchor == 0 else (tod - anchor) % day), valid, unit


def session_phase(
    frame: FrameT,
    market: Market | str,
    column: str = "ticktime",
    *,
    out: str = "phase",
    invalid: InvalidPolicy = "raise",
) -> FrameT:
    """Add the name of each print's phase of the trading day (``pre_open_auction``, ``continuous``, ...).

    The phases are the market's :attr:`~vizflow.Market.phases` (for :data:`vizflow.CN`:
    ``pre_open_auction`` 09:15-09:30 with the 09:25 match, ``continuous``, ``break``,
    ``closing_auction`` 14:57-15:05 with the 15:00 match, ``after_hours`` 15:05-15:30 for STAR
    Market fixed-price trading), or, for a market that declares none, ``continuous`` inside its
    sessions and ``break`` between them. Each phase is ``[start, end)``; any other time is
    ``closed``.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    market
        A :class:`~vizflow.Market` or a preset name.
    column
        The time column, in any encoding :func:`vizflow.parse_time` reads.
    out
        Name of the new column.
    invalid
        ``"raise"`` (default) or ``"null"`` for values that are not a time of day.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, with ``out`` added as a ``pl.Enum`` of
        :attr:`~vizflow.Market.phase_names` (null for a null time).

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is missing.
    SchemaError
        If ``column`` cannot hold a time of day.
    VizflowError
        For an ``out`` that exists or an unknown ``invalid`` policy.
    DataError
        With ``invalid="raise"``, when collected, naming the first value that is not a time.

    Notes
    -----
    One expression: nothing is collected, a LazyFrame stays lazy. Auction prints matter for
    markouts: on the session clock 09:25 maps to the open (0 s), so a 10 s horizon from the opening
    match reads the price at 09:30:10, 5 min 10 s of wall-clock time later. Filter or flag them.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"ticktime": [92500940, 93000000, 113000000, 145700000, 150001060, 151000000]})
    >>> vf.session_phase(df, vf.CN)
    shape: (6, 2)
    ┌───────────┬──────────────────┐
    │ ticktime  ┆ phase            │
    │ ---       ┆ ---              │
    │ i64       ┆ enum             │
    ╞═══════════╪══════════════════╡
    │ 92500940  ┆ pre_open_auction │
    │ 93000000  ┆ continuous       │
    │ 113000000 ┆ break            │
    │ 145700000 ┆ closing_auction  │
    │ 150001060 ┆ closing_auction  │
    │ 151000000 ┆ after_hours      │
    └───────────┴──────────────────┘
    """
    where = "session_phase"
    require_choice("invalid", invalid, INVALID_POLICIES, where=where)
    market = get_market(market)
    schema = frame.collect_schema()
    require_new_column(schema, column, out, where=where)
    raw = pl.col(column)
    pos, valid, unit = _position(raw, schema[column], market, column=column, where=where)
    enum = pl.Enum(list(market.phase_names))
    phase: pl.Expr = pl.lit("closed")
    for name, lo, hi in reversed(market.phase_layout):
        phase = (
            pl.when((pos >= to_unit(lo, unit)) & (pos < to_unit(hi, unit)))
            .then(pl.lit(name))
            .otherwise(phase)
        )
    phase = pl.when(pos.is_not_null()).then(phase)
    if valid is not None:
        phase = pl.when(valid).then(phase)
    result = frame.lazy().with_columns(phase.cast(enum).alias(out))
    if valid is not None and invalid == "raise":
        bad = raw.is_not_null() & ~valid.fill_null(False)
        encoding = encoding_of(schema[column], column=column)
        message = invalid_message(encoding).replace("parse_time", where, 1)
        checked = pl.when(raise_if_any(bad, raw, message, encoding=encoding) == 0).then(pl.col(out))
        result = result.with_columns(checked.alias(out))
    return same_kind(frame, result)


def _night_boundary(market: Market) -> int:
    """Axis position (ns) splitting a night (before it, the next trading day's) from the day part.

    The night is every session starting before midnight on the market's axis (which starts at the
    first session's open); the boundary is the midpoint of the gap between the night's last close
    and the day's first open (05:45 for CN_FUTURES: 02:30 and 09:00).
    """
    anchor, starts, lengths, split, _ = market.layout
    night = [i for i, start in enumerate(starts) if anchor + start < DAY_NS]
    if not anchor or len(night) == len(starts):
        return split
    last = night[-1]
    return (starts[last] + lengths[last] + starts[last + 1]) // 2


def _as_date(raw: pl.Expr, dtype: pl.DataType, *, column: str) -> pl.Expr:
    if dtype == pl.Date:
        return raw
    if isinstance(dtype, pl.Datetime):
        return raw.dt.date()
    if dtype == pl.String or dtype.is_integer():
        return raw.cast(pl.String).str.strip_chars().str.to_date("%Y%m%d", strict=False)
    msg = f"trading_date: date column {column!r} has dtype {dtype}; expected YYYYMMDD or a Date"
    raise SchemaError(msg)


def trading_date(
    frame: FrameT,
    market: Market | str,
    column: str = "ticktime",
    *,
    date_col: str | None = "date",
    calendar: Calendar | pl.DataFrame | None = None,
    out: str = "trading_date",
) -> FrameT:
    """Add the trading day each print belongs to: a night session's prints belong to the next one.

    For a market whose first session crosses midnight (:data:`vizflow.CN_FUTURES`, 21:00-02:30)
    a print of the night (from the evening's pre-open to the midpoint between the night's close and
    the day's open) belongs to the first session of ``calendar`` after the evening's date: a
    Friday 21:30 print, and its 01:00 Saturday continuation, belong to Monday, or to the first
    session after a holiday. Every other print belongs to its own date, which must be a session.
    With the trading day among the keys, :func:`vizflow.parse_time` counts the night and the day
    as one continuous trading day.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    market
        A :class:`~vizflow.Market` or a preset name.
    column
        The time column (any encoding :func:`vizflow.parse_time` reads).
    date_col
        The calendar date of each print (String or integer ``YYYYMMDD``, or Date). ``None`` when
        ``column`` is a Datetime, whose date (in the market's time zone) is used.
    calendar
        The trading calendar (default: :func:`vizflow.calendar.for_market`).
    out
        Name of the new column.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, with ``out`` of the date column's dtype (``pl.Date`` for a
        Datetime ``column``). A null date or time gives null.

    Raises
    ------
    ColumnNotFoundError
        For a missing column.
    SchemaError
        For a date or time column of an unusable dtype.
    VizflowError
        For an ``out`` that exists.
    DataError
        When collected: for a malformed date, or a day-session print on a date that is not a
        session of ``calendar``.
    CalendarError
        When collected: for a date outside the calendar's span.

    Notes
    -----
    The dates are looked up in the calendar once per distinct date, at ``collect()`` time.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> prints = pl.DataFrame(
    ...     {
    ...         "date": ["20240105", "20240106", "20240108", "20240108"],  # Fri, Sat, Mon, Mon
    ...         "ticktime": [213000000, 10000000, 90000000, 213000000],
    ...     }
    ... )
    >>> vf.trading_date(prints, vf.CN_FUTURES)
    shape: (4, 3)
    ┌──────────┬───────────┬──────────────┐
    │ date     ┆ ticktime  ┆ trading_date │
    │ ---      ┆ ---       ┆ ---          │
    │ str      ┆ i64       ┆ str          │
    ╞══════════╪═══════════╪══════════════╡
    │ 20240105 ┆ 213000000 ┆ 20240108     │
    │ 20240106 ┆ 10000000  ┆ 20240108     │
    │ 20240108 ┆ 90000000  ┆ 20240108     │
    │ 20240108 ┆ 213000000 ┆ 20240109     │
    └──────────┴───────────┴──────────────┘
    """
    where = "trading_date"
    market = get_market(market)
    schema = frame.collect_schema()
    require_new_column(schema, column, out, where=where)
    if date_col is None and not isinstance(schema[column], pl.Datetime):
        msg = f"{where}: date_col=None needs a Datetime time column; {column!r} is {schema[column]}"
        raise VizflowError(msg)
    date_source = column if date_col is None else date_col
    require_columns(schema, [date_source], where=where)
    raw = pl.col(column)
    pos, valid, unit = _position(raw, schema[column], market, column=column, where=where)
    if valid is not None:
        pos = pl.when(valid).then(pos)
    day = _as_date(pl.col(date_source), schema[date_source], column=date_source)
    time_dtype = schema[column]
    aware = isinstance(time_dtype, pl.Datetime) and time_dtype.time_zone is not None
    if date_col is None and aware and market.tz is not None:
        day = raw.dt.convert_time_zone(market.tz).dt.date()
    anchor = market.layout.anchor_ns
    if anchor:
        # Before the anchor (wall clock), the market's day began the evening before; at or past
        # the split, the next one has begun (its pre-open).
        before = pos >= to_unit(DAY_NS - anchor, unit)
        ahead = pos >= to_unit(market.layout.split_ns, unit)
        evening = day - pl.duration(days=pl.when(before & ~ahead).then(1).otherwise(0))
        night = (pos < to_unit(_night_boundary(market), unit)) | ahead
    else:
        evening, night = day, pl.lit(False)
    calendar = cal_mod.for_market(market) if calendar is None else calendar
    dtype: pl.DataType = pl.Date() if date_col is None else schema[date_col]
    lookup = pl.struct(day=day, evening=evening, night=night, raw=pl.col(date_source))
    mapped = lookup.map_batches(
        lambda s: _lookup(s, calendar, dtype, date_source), return_dtype=dtype, is_elementwise=True
    )
    result = frame.lazy().with_columns(pl.when(pos.is_not_null()).then(mapped).alias(out))
    return same_kind(frame, result)


def _lookup(
    batch: pl.Series, calendar: Calendar | pl.DataFrame, dtype: pl.DataType, column: str
) -> pl.Series:
    """Trading day of each (date, evening, night) row, one calendar look-up per distinct value."""
    day, evening, night, raw = (batch.struct.field(f) for f in ("day", "evening", "night", "raw"))
    bad = day.is_null() & raw.is_not_null()
    if bad.any():
        msg = f"trading_date: date column {column!r} holds {raw.filter(bad)[0]!r}, not a date YYYYMMDD"
        raise DataError(msg)
    frame = pl.DataFrame({"day": day, "evening": evening, "night": night})
    found: dict[str, list[object]] = {"day": [], "evening": [], "night": [], "found": []}
    for d, e, is_night in frame.drop_nulls().unique().iter_rows():
        if is_night:
            answer = cal_mod.next_day(calendar, e)
        elif cal_mod.is_session(calendar, d):
            answer = d.strftime("%Y%m%d")
        else:
            msg = (
                f"trading_date: a day-session print on {d:%Y%m%d}, which is not a session of the "
                "calendar; check the date column (or the calendar)"
            )
            raise DataError(msg)
        for key, value in zip(found, (d, e, is_night, answer), strict=True):
            found[key].append(value)
    answers = pl.DataFrame(
        found, schema={"day": pl.Date, "evening": pl.Date, "night": pl.Boolean, "found": pl.String}
    )
    result = frame.join(answers, on=["day", "evening", "night"], how="left", maintain_order="left")
    text = result.get_column("found")
    if dtype == pl.String:
        return text
    return text.str.to_date("%Y%m%d") if dtype == pl.Date else text.cast(dtype)
