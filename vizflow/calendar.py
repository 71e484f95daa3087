"""Trading calendars: which dates are sessions, and stepping between them.

A calendar is a DataFrame with one row per trading day and three String columns ``date``,
``prev_date`` and ``next_date`` (``"YYYYMMDD"``; null at the ends). Every function accepts dates as
``"YYYYMMDD"`` strings or :class:`datetime.date` and returns strings.

A calendar covers the dates from its first to its last trading day. Asking about a date outside
that span raises :class:`~vizflow.CalendarError` naming the span: holidays are never guessed (an
exchange calendar ends where its source stopped listing holidays).
"""

from __future__ import annotations

import bisect
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from vizflow._optional import import_optional
from vizflow.config import format_date
from vizflow.exceptions import CalendarError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vizflow._typing import DateLike

__all__ = [
    "from_exchange",
    "generate",
    "is_trading_day",
    "load",
    "next_day",
    "prev_day",
    "range",
]


def generate(dates: Iterable[DateLike]) -> pl.DataFrame:
    """Build a calendar from trading dates, with each day's previous and next trading day.

    Parameters
    ----------
    dates
        Trading dates, ``"YYYYMMDD"`` or :class:`datetime.date`, in any order. Duplicates are
        dropped and the dates sorted: a calendar is a set of days.

    Returns
    -------
    pl.DataFrame
        Columns ``date``, ``prev_date``, ``next_date`` (String), ascending.

    Raises
    ------
    VizflowError
        For a malformed date, naming it; for an empty list.

    Examples
    --------
    >>> import vizflow as vf
    >>> vf.calendar.generate(["20240103", "20240102", "20240105", "20240103"])
    shape: (3, 3)
    ┌──────────┬───────────┬───────────┐
    │ date     ┆ prev_date ┆ next_date │
    │ ---      ┆ ---       ┆ ---       │
    │ str      ┆ str       ┆ str       │
    ╞══════════╪═══════════╪═══════════╡
    │ 20240102 ┆ null      ┆ 20240103  │
    │ 20240103 ┆ 20240102  ┆ 20240105  │
    │ 20240105 ┆ 20240103  ┆ null      │
    └──────────┴───────────┴───────────┘
    """
    days = sorted(set(_format_all(dates, where="calendar.generate")))
    if not days:
        msg = "calendar.generate: no dates given"
        raise VizflowError(msg)
    date = pl.Series("date", days, dtype=pl.String)
    return pl.DataFrame({"date": date, "prev_date": date.shift(1), "next_date": date.shift(-1)})


def load(path: str | Path) -> pl.DataFrame:
    r"""Load a calendar file: CSV or parquet with one trading date per row.

    A CSV may be a bare list of ``YYYYMMDD`` values (no header, as
    ``../shared/data/calendar/xshg_2019_2025.csv``) or have a ``date`` column; a parquet file
    needs a ``date`` column (String ``YYYYMMDD``, integer ``YYYYMMDD`` or Date).

    Returns
    -------
    pl.DataFrame
        The calendar, as :func:`generate` builds it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    VizflowError
        For another extension, a missing ``date`` column or a malformed date (named).

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cal.csv"
    >>> _ = path.write_text("20240102\n20240103\n")
    >>> vf.calendar.load(path)["next_date"].to_list()
    ['20240103', None]
    """
    path = Path(path)
    if not path.is_file():
        msg = f"calendar.load: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        first = path.read_text().split("\n", 1)[0].strip()
        has_header = not first.isdigit()
        frame = pl.read_csv(path, has_header=has_header, infer_schema=False)
        if not has_header:
            frame = frame.rename({frame.columns[0]: "date"})
    elif suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        msg = f"calendar.load: {str(path)!r} is neither .csv nor .parquet"
        raise VizflowError(msg)
    if "date" not in frame.columns:
        msg = f"calendar.load: {str(path)!r} has no 'date' column; columns: {frame.columns}"
        raise VizflowError(msg)
    column = frame.get_column("date")
    if column.dtype != pl.Date:  # blank lines (e.g. at the end of a CSV) are not dates
        column = column.cast(pl.String).str.strip_chars()
        column = column.filter(column.is_not_null() & (column != ""))
    else:
        column = column.drop_nulls()
    return generate(_format_all(column.to_list(), where=f"calendar.load: {str(path)!r}"))


def _format_all(dates: Iterable[DateLike], *, where: str) -> list[str]:
    """``format_date`` over ``dates``; a malformed one is named with its position."""
    out = []
    for i, date in enumerate(dates):
        try:
            out.append(format_date(date))
        except VizflowError as exc:
            msg = f"{where}: date #{i} {exc}"
            raise VizflowError(msg) from None
    return out


def from_exchange(exchange: str, start: DateLike, end: DateLike) -> pl.DataFrame:
    """Build a calendar from the ``exchange_calendars`` package (extra ``vizflow[calendars]``).

    Parameters
    ----------
    exchange
        An exchange_calendars code, e.g. ``"XSHG"`` (Shanghai; Shenzhen trades the same days),
        ``"XHKG"``, ``"XNYS"``.
    start, end
        Inclusive bounds; they need not be trading days.

    Raises
    ------
    ImportError
        Without the extra installed (the message says what to install).
    CalendarError
        If the bounds are outside the package's coverage for that exchange.

    Examples
    --------
    >>> import vizflow as vf
    >>> vf.calendar.from_exchange("XSHG", "20240205", "20240220")["date"].to_list()  # Spring Festival
    ['20240205', '20240206', '20240207', '20240208', '20240219', '20240220']
    """
    xcals = import_optional("exchange_calendars", extra="calendars")
    lo, hi = format_date(start), format_date(end)
    try:
        with warnings.catch_warnings():
            # exchange_calendars' own use of deprecated pandas API is not the caller's concern.
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            cal = xcals.get_calendar(exchange, start=_iso(lo), end=_iso(hi))
            sessions = [d.strftime("%Y%m%d") for d in cal.sessions]
    except Exception as exc:  # exchange_calendars raises its own error types
        msg = f"calendar.from_exchange: {exchange!r} for {lo}..{hi}: {exc}"
        raise CalendarError(msg) from exc
    return generate(sessions)


def _iso(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:]}"


def _dates(cal: pl.DataFrame) -> list[str]:
    if "date" not in cal.columns:
        msg = f"calendar: expected a calendar frame with a 'date' column; columns: {cal.columns}"
        raise VizflowError(msg)
    return cal.get_column("date").to_list()


def _within(days: list[str], date: str, *, what: str) -> None:
    if not days[0] <= date <= days[-1]:
        msg = (
            f"{what}: {date} is outside the calendar, which covers {days[0]}..{days[-1]}; "
            "extend the calendar rather than guess its holidays"
        )
        raise CalendarError(msg)


def is_trading_day(cal: pl.DataFrame, date: DateLike) -> bool:
    """Whether ``date`` is a trading day of ``cal``.

    Raises
    ------
    CalendarError
        If ``date`` is outside the calendar's span.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20240102", "20240103", "20240105"])
    >>> vf.calendar.is_trading_day(cal, "20240104"), vf.calendar.is_trading_day(cal, "20240105")
    (False, True)
    """
    days, day = _dates(cal), format_date(date)
    _within(days, day, what="calendar.is_trading_day")
    i = bisect.bisect_left(days, day)
    return i < len(days) and days[i] == day


def range(cal: pl.DataFrame, start: DateLike, end: DateLike) -> list[str]:
    """Trading days from ``start`` to ``end``, both inclusive; the bounds need not be trading days.

    Raises
    ------
    CalendarError
        If a bound is outside the calendar's span.
    VizflowError
        If ``start`` is after ``end``.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20231229", "20240102", "20240103", "20240104", "20240105"])
    >>> vf.calendar.range(cal, "20240101", "20240105")
    ['20240102', '20240103', '20240104', '20240105']
    """
    days, lo, hi = _dates(cal), format_date(start), format_date(end)
    if lo > hi:
        msg = f"calendar.range: start {lo} is after end {hi}"
        raise VizflowError(msg)
    _within(days, lo, what="calendar.range")
    _within(days, hi, what="calendar.range")
    return days[bisect.bisect_left(days, lo) : bisect.bisect_right(days, hi)]


def next_day(cal: pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day after ``date`` (which need not be a trading day).

    Raises
    ------
    CalendarError
        If ``date`` or the answer is outside the calendar's span.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20240205", "20240208", "20240219", "20240220"])
    >>> vf.calendar.next_day(cal, "20240208"), vf.calendar.next_day(cal, "20240210", n=2)
    ('20240219', '20240220')
    """
    return _step(cal, date, n, forward=True, what="calendar.next_day")


def prev_day(cal: pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day before ``date`` (which need not be a trading day).

    Raises
    ------
    CalendarError
        If ``date`` or the answer is outside the calendar's span.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20240205", "20240208", "20240219", "20240220"])
    >>> vf.calendar.prev_day(cal, "20240219")
    '20240208'
    """
    return _step(cal, date, n, forward=False, what="calendar.prev_day")


def _step(cal: pl.DataFrame, date: DateLike, n: int, *, forward: bool, what: str) -> str:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        msg = f"{what}: n={n!r}; expected a positive integer"
        raise VizflowError(msg)
    days, day = _dates(cal), format_date(date)
    _within(days, day, what=what)
    i = bisect.bisect_right(days, day) + n - 1 if forward else bisect.bisect_left(days, day) - n
    if not 0 <= i < len(days):
        direction = "after" if forward else "before"
        msg = (
            f"{what}: the calendar (covering {days[0]}..{days[-1]}) has fewer than {abs(n)} "
            f"trading day(s) {direction} {day}"
        )
        raise CalendarError(msg)
    return days[i]
