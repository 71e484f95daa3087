"""The calendar's questions as module functions, each a one-line forwarder to a :class:`Calendar` method.

They take a :class:`Calendar` or a plain DataFrame with a ``date`` column (String or integer
``YYYYMMDD``, Date or Datetime; any order, duplicates allowed), whose span is its first to its
last date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizflow.calendar.model import Calendar, as_calendar

if TYPE_CHECKING:
    import polars as pl

    from vizflow._typing import DateLike

__all__ = ["is_session", "is_trading_day", "next_day", "prev_day", "range", "sessions"]


def is_session(cal: Calendar | pl.DataFrame, date: DateLike) -> bool:
    """Whether ``date`` is a trading day of ``cal`` (:meth:`Calendar.is_session`).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.

    Returns
    -------
    bool
        Whether ``date`` is a session.

    Raises
    ------
    CalendarError
        If ``date`` is outside the calendar's span (the calendar cannot know; never False).

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20240102", "20240103", "20240105"])
    >>> vf.calendar.is_session(cal, "20240104"), vf.calendar.is_session(cal, "20240105")
    (False, True)
    """
    return as_calendar(cal, where="calendar.is_session").is_session(date)


def is_trading_day(cal: Calendar | pl.DataFrame, date: DateLike) -> bool:
    """Whether ``date`` is a trading day of ``cal`` (the former name of :func:`is_session`).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.

    Returns
    -------
    bool
        Whether ``date`` is a session.

    Examples
    --------
    >>> import vizflow as vf
    >>> vf.calendar.is_trading_day(vf.calendar.generate(["20240102"]), "20240102")
    True
    """
    return as_calendar(cal, where="calendar.is_trading_day").is_session(date)


def sessions(cal: Calendar | pl.DataFrame, start: DateLike, end: DateLike) -> list[str]:
    """Trading days from ``start`` to ``end``, both inclusive (:meth:`Calendar.sessions_in_range`).

    The bounds need not be trading days. A CRYPTO calendar (:func:`for_market`) gives every
    calendar day.

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    start, end
        The bounds.

    Returns
    -------
    list of str
        ``"YYYYMMDD"``, ascending.

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
    >>> vf.calendar.sessions(cal, "20240101", "20240105")
    ['20240102', '20240103', '20240104', '20240105']
    >>> vf.calendar.sessions(vf.calendar.for_market("CRYPTO"), "20240229", "20240302")
    ['20240229', '20240301', '20240302']
    """
    return as_calendar(cal, where="calendar.sessions").sessions_in_range(start, end)


def range(cal: Calendar | pl.DataFrame, start: DateLike, end: DateLike) -> list[str]:
    """Trading days from ``start`` to ``end``, both inclusive (the former name of :func:`sessions`).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    start, end
        The bounds; they need not be trading days.

    Returns
    -------
    list of str
        ``"YYYYMMDD"``, ascending.

    Raises
    ------
    CalendarError
        If a bound is outside the calendar's span.
    VizflowError
        If ``start`` is after ``end``.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.from_exchange("XSHG", "20190101", "20190110")
    >>> vf.calendar.range(cal, "20190101", "20190104")  # 20190101 is a holiday inside the span
    ['20190102', '20190103', '20190104']
    """
    return as_calendar(cal, where="calendar.range").sessions_in_range(start, end)


def next_day(cal: Calendar | pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day after ``date`` (:meth:`Calendar.next_session`).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        The starting date; it need not be a trading day.
    n
        How many trading days to step, at least 1.

    Returns
    -------
    str
        ``"YYYYMMDD"``.

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
    return as_calendar(cal, where="calendar.next_day").next_session(date, n)


def prev_day(cal: Calendar | pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day before ``date`` (:meth:`Calendar.previous_session`).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        The starting date; it need not be a trading day.
    n
        How many trading days to step, at least 1.

    Returns
    -------
    str
        ``"YYYYMMDD"``.

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
    return as_calendar(cal, where="calendar.prev_day").previous_session(date, n)
