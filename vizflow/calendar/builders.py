"""Building calendars: from sessions, from an exchange's announced closures, and joining two."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizflow.calendar.days import date_texts
from vizflow.calendar.model import WEEKDAYS, Calendar, as_calendar, from_days
from vizflow.dates import checked_date, shift_date
from vizflow.exceptions import CalendarError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import polars as pl

    from vizflow._typing import DateLike

__all__ = ["extend", "from_holidays", "generate"]


def generate(
    dates: Iterable[DateLike], *, start: DateLike | None = None, end: DateLike | None = None
) -> Calendar:
    """Build a calendar from its trading dates.

    Parameters
    ----------
    dates
        Trading dates, ``"YYYYMMDD"`` or :class:`datetime.date`, in any order (or a polars
        column: String or integer ``YYYYMMDD``, Date). Duplicates are dropped and the dates
        sorted: a calendar is a set of days.
    start, end
        The span the dates are complete for (inclusive); by default the first and the last date.
        Give them when the span begins or ends on a holiday.

    Returns
    -------
    Calendar
        The calendar; :meth:`Calendar.to_frame` gives it as a frame.

    Raises
    ------
    VizflowError
        For a malformed date (named with its position), a date outside ``start..end``, or no dates
        and no span.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.generate(["20240103", "20240102", "20240105", "20240103"])
    >>> cal, cal.days
    (Calendar(20240102..20240105, 3 sessions), ('20240102', '20240103', '20240105'))
    >>> vf.calendar.generate(["20240102"], start="20240101", end="20240131")
    Calendar(20240101..20240131, 1 sessions)
    """
    where = "calendar.generate"
    return from_days(date_texts(dates, where=where), start, end, where=where)


def from_holidays(
    holidays: Iterable[DateLike],
    start: DateLike,
    end: DateLike,
    *,
    weekdays: Iterable[int] = WEEKDAYS,
    name: str = "",
) -> Calendar:
    """Build a calendar from the closures an exchange announces: the span's weekdays minus them.

    Exchanges publish their closures for the coming year each December (the SSE and SZSE after
    the State Council's holiday notice); this turns that list into a calendar the same day, to
    :func:`extend` the shipped one with. A make-up working day on a weekend is not a session in
    China, so the default weekdays, Monday to Friday, fit CN.

    Parameters
    ----------
    holidays
        The closures on trading weekdays, ``"YYYYMMDD"`` or :class:`datetime.date`, in any order
        (or a polars column: String or integer ``YYYYMMDD``, Date); duplicates and weekend
        dates are harmless.
    start, end
        The span the list is complete for, inclusive (usually a whole year).
    weekdays
        The weekday numbers (Monday = 0) that trade unless closed.
    name
        Shown in messages, e.g. ``"XSHG"``.

    Returns
    -------
    Calendar
        The sessions of ``start..end``.

    Raises
    ------
    VizflowError
        For a malformed date (a holiday is named with its position), a holiday outside
        ``start..end`` (a typo in the year, most likely), ``start`` after ``end``, or bad
        ``weekdays``.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.from_holidays(["20270101"], start="20261228", end="20270108", name="XSHG")
    >>> cal
    Calendar('XSHG', 20261228..20270108, 9 sessions)
    >>> cal.sessions_in_range("20261231", "20270105")
    ['20261231', '20270104', '20270105']
    """
    where = "calendar.from_holidays"
    lo, hi = checked_date(start, where=f"{where} start"), checked_date(end, where=f"{where} end")
    closed = set(date_texts(holidays, where=f"{where} holidays"))
    stray = sorted(d for d in closed if not lo <= d <= hi)
    if stray:
        msg = f"{where}: holiday {stray[0]} is outside the span {lo}..{hi}; expected closures inside it"
        raise VizflowError(msg)
    rule = Calendar(weekdays=tuple(weekdays), start=lo, end=hi, name=name)  # checks weekdays, lo <= hi
    days = tuple(d for d in rule.listed(where=where) if d not in closed)
    return Calendar(days=days, start=lo, end=hi, name=name)


def extend(cal: Calendar | pl.DataFrame, other: Calendar | pl.DataFrame) -> Calendar:
    """Join two calendars whose spans touch or overlap, e.g. the shipped XSHG and next year's closures.

    Where the spans overlap the two must agree date by date: a disagreement means one of them is
    wrong, and vizflow never picks one.

    Parameters
    ----------
    cal
        The calendar to extend (its name is kept); a :class:`Calendar` or a frame with a ``date``
        column.
    other
        The calendar that adds dates before or after ``cal``'s span (or both).

    Returns
    -------
    Calendar
        The sessions of both over the union of their spans.

    Raises
    ------
    CalendarError
        If the spans leave a gap between them (naming it), if the two disagree on a date inside
        both spans (naming the first such date), or if either is a weekday rule without both
        ends (it already answers every date on that side).

    Examples
    --------
    >>> import vizflow as vf
    >>> shipped = vf.calendar.generate(["20261230", "20261231"], start="20261228", end="20261231")
    >>> cal = vf.calendar.extend(shipped, vf.calendar.from_holidays(["20270101"], "20270101", "20270108"))
    >>> cal, cal.next_session("20261231")
    (Calendar(20261228..20270108, 7 sessions), '20270104')
    """
    where = "calendar.extend"
    a, b = as_calendar(cal, where=where), as_calendar(other, where=where)
    (a_lo, a_hi), (b_lo, b_hi) = _span(a, where), _span(b, where)
    (_, first_hi, first), (second_lo, _, second) = sorted(
        [(a_lo, a_hi, a), (b_lo, b_hi, b)], key=lambda t: t[:2]
    )
    if shift_date(first_hi, 1) < second_lo:
        msg = (
            f"{where}: {first!r} and {second!r} leave a gap, {shift_date(first_hi, 1)}.."
            f"{shift_date(second_lo, -1)}, that neither knows; their spans must touch or overlap"
        )
        raise CalendarError(msg)
    lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)
    if lo <= hi:  # the overlap
        mine, theirs = a.sessions_in_range(lo, hi), b.sessions_in_range(lo, hi)
        if mine != theirs:
            day = min(set(mine) ^ set(theirs))
            label_a, label_b = _label(a, "the calendar"), _label(b, "the other calendar")
            where_a = "a session" if day in mine else "not a session"
            where_b = "a session" if day in theirs else "not a session"
            msg = (
                f"{where}: the calendars disagree on {day}: {where_a} of {label_a} ({a.span_text}) "
                f"but {where_b} of {label_b} ({b.span_text}); they must agree where their spans "
                f"overlap ({lo}..{hi}); fix the wrong one, or give only the dates after {a_hi}"
            )
            raise CalendarError(msg)
    days = sorted(set(a.listed(where=where)) | set(b.listed(where=where)))
    return Calendar(days=tuple(days), start=min(a_lo, b_lo), end=max(a_hi, b_hi), name=a.name or b.name)


def _span(cal: Calendar, where: str) -> tuple[str, str]:
    if cal.start is None or cal.end is None:
        msg = (
            f"{where}: {cal!r} is a weekday rule without both ends: it already answers every "
            "date on its open side, so there is nothing to join; give it a start and an end"
        )
        raise CalendarError(msg)
    return cal.start, cal.end


def _label(cal: Calendar, default: str) -> str:
    return f"{cal.name!r}" if cal.name else default
