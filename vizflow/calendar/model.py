"""The :class:`Calendar`: a set of sessions and the span of dates it knows about, with its questions."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from vizflow.calendar.days import date_texts, valid_days
from vizflow.dates import checked_date, parse_date, shift_date
from vizflow.exceptions import CalendarError, ColumnNotFoundError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from vizflow._typing import DateLike

__all__ = ["EVERY_DAY", "WEEKDAYS", "Calendar", "as_calendar", "from_days"]

WEEKDAYS = (0, 1, 2, 3, 4)
"""Monday to Friday (``datetime.date.weekday()`` numbers)."""

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
"""Every day of the week."""

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, repr=False)
class Calendar:
    """Trading sessions and the span of dates the calendar knows about.

    Give either ``days`` (the sessions) or ``weekdays`` (a rule: every date on those weekdays is a
    session). Build lists with :func:`~vizflow.calendar.generate`,
    :func:`~vizflow.calendar.from_holidays`, :func:`~vizflow.calendar.load` or
    :func:`~vizflow.calendar.from_exchange` rather than by hand: they validate and sort.

    The questions are methods, named as in ``exchange_calendars``: :meth:`is_session`,
    :meth:`sessions_in_range`, :meth:`next_session`, :meth:`previous_session`. Each raises
    :class:`~vizflow.CalendarError` for a date outside the span (it cannot know; never False).
    Unlike exchange_calendars, a date passed to :meth:`next_session` or :meth:`previous_session`
    need not be a session, and dates are ``"YYYYMMDD"`` strings (or :class:`datetime.date`).

    Parameters
    ----------
    days
        The sessions, ``"YYYYMMDD"``, ascending, without duplicates, inside the span.
    weekdays
        Instead of ``days``: the weekday numbers (Monday = 0) that are sessions. Such a calendar
        knows no holidays.
    start, end
        The span, inclusive; ``None`` leaves that side unbounded (only for a ``weekdays`` rule).
    name
        Shown in messages, e.g. ``"XSHG"``.

    Raises
    ------
    VizflowError
        If both or neither of ``days`` and ``weekdays`` are given, ``days`` is not sorted and
        unique, a session lies outside the span, a list calendar is unbounded, or
        ``start > end``.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.Calendar(days=("20240102", "20240103"), start="20240101", end="20240105")
    >>> cal
    Calendar(20240101..20240105, 2 sessions)
    >>> cal.is_session("20240101"), cal.is_session("20240103"), cal.next_session("20240101")
    (False, True, '20240102')
    >>> vf.calendar.Calendar(weekdays=vf.calendar.WEEKDAYS, name="HK")
    Calendar('HK', Mon-Fri, unbounded)
    """

    days: tuple[str, ...] | None = None
    weekdays: tuple[int, ...] | None = None
    start: str | None = None
    end: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        where = f"Calendar{f'({self.name!r})' if self.name else ''}"
        for side in ("start", "end"):
            value = getattr(self, side)
            if value is not None:  # frozen: normalise through object.__setattr__
                object.__setattr__(self, side, checked_date(value, where=f"{where} {side}"))
        if (self.days is None) == (self.weekdays is None):
            msg = f"{where}: give either days (the sessions) or weekdays (a rule), not both or neither"
            raise VizflowError(msg)
        if self.start is not None and self.end is not None and self.start > self.end:
            msg = f"{where}: start {self.start} is after end {self.end}"
            raise VizflowError(msg)
        if self.days is not None:
            self._check_days(self.days, where)
        elif self.weekdays is not None:  # always: exactly one of the two is given (checked above)
            self._check_weekdays(self.weekdays, where)

    def _check_weekdays(self, weekdays: Iterable[int], where: str) -> None:
        try:
            rule = tuple(sorted(set(weekdays)))
        except TypeError:  # not a collection, or of mixed kinds
            rule = ()
        if not rule or not all(isinstance(d, int) and 0 <= d <= 6 for d in rule):  # noqa: PLR2004
            msg = f"{where}: weekdays={weekdays!r}; expected a non-empty set of 0 (Monday) .. 6"
            raise VizflowError(msg)
        object.__setattr__(self, "weekdays", rule)

    def _check_days(self, given: Iterable[str], where: str) -> None:
        days = tuple(given)
        if self.start is None or self.end is None:
            msg = f"{where}: a list of sessions needs both ends of its span (start and end)"
            raise VizflowError(msg)
        days = tuple(date_texts(days, where=f"{where} days"))
        object.__setattr__(self, "days", days)
        if any(b <= a for a, b in itertools.pairwise(days)):
            msg = f"{where}: days must be ascending without duplicates (vizflow.calendar.generate sorts them)"
            raise VizflowError(msg)
        if days and not (self.start <= days[0] and days[-1] <= self.end):
            msg = f"{where}: sessions {days[0]}..{days[-1]} reach beyond the span {self.span_text}"
            raise VizflowError(msg)

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        span = self.span_text if self.start or self.end else "unbounded"
        if self.days is not None:
            return f"Calendar({label}{span}, {len(self.days)} sessions)"
        return f"Calendar({label}{_describe_weekdays(self._rule)}, {span})"

    @property
    def _rule(self) -> tuple[int, ...]:
        """The weekdays of a rule calendar, one that lists no ``days``."""
        if self.weekdays is None:
            msg = f"{self!r} lists its sessions; it has no weekday rule"
            raise VizflowError(msg)
        return self.weekdays

    @property
    def span_text(self) -> str:
        """The span as ``"START..END"`` (an unbounded side is left empty)."""
        return f"{self.start or ''}..{self.end or ''}"

    @property
    def bounded(self) -> bool:
        """Whether the span has both ends (always, for a calendar that lists its sessions)."""
        return self.start is not None and self.end is not None

    def covers(self, date: DateLike) -> bool:
        """Whether ``date`` is inside the span, i.e. the calendar knows if it is a session.

        Parameters
        ----------
        date
            ``"YYYYMMDD"`` or :class:`datetime.date`.

        Returns
        -------
        bool
            Whether the span holds ``date``.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20240102"], start="20240101", end="20240131")
        >>> cal.covers("20240101"), cal.covers("20240201")
        (True, False)
        """
        return self._inside(checked_date(date, where="Calendar.covers"))

    def _inside(self, day: str) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def _known(self, date: DateLike, *, what: str) -> str:
        """``date`` as ``YYYYMMDD``, or CalendarError if the calendar cannot know about it."""
        day = checked_date(date, where=what)
        if not self._inside(day):
            raise CalendarError(_outside_message(self, day, what))
        return day

    def is_session(self, date: DateLike) -> bool:
        """Whether ``date`` is a trading day: True or False inside the span.

        Parameters
        ----------
        date
            ``"YYYYMMDD"`` or :class:`datetime.date`.

        Returns
        -------
        bool
            Whether ``date`` is a session.

        Raises
        ------
        CalendarError
            If ``date`` is outside the span (the calendar cannot know; never False). The message
            names the three ways to extend the calendar.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20240102", "20240103", "20240105"])
        >>> cal.is_session("20240104"), cal.is_session("20240105")
        (False, True)
        """
        day = self._known(date, what="calendar.is_session")
        if self.days is None:
            return parse_date(day).weekday() in self._rule
        i = bisect.bisect_left(self.days, day)
        return i < len(self.days) and self.days[i] == day

    def sessions_in_range(self, start: DateLike, end: DateLike) -> list[str]:
        """Trading days from ``start`` to ``end``, both inclusive; the bounds need not be sessions.

        Parameters
        ----------
        start, end
            The bounds, inside the span.

        Returns
        -------
        list of str
            ``"YYYYMMDD"``, ascending.

        Raises
        ------
        CalendarError
            If a bound is outside the span.
        VizflowError
            If ``start`` is after ``end``.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20231229", "20240102", "20240103", "20240104"])
        >>> cal.sessions_in_range("20240101", "20240103")
        ['20240102', '20240103']
        """
        where = "calendar.sessions_in_range"
        lo, hi = self._known(start, what=where), self._known(end, what=where)
        if lo > hi:
            msg = f"{where}: start {lo} is after end {hi}"
            raise VizflowError(msg)
        return self._between(lo, hi)

    def _between(self, lo: str, hi: str) -> list[str]:
        """Sessions in ``lo..hi`` (both inside the span)."""
        if self.days is not None:
            return list(self.days[bisect.bisect_left(self.days, lo) : bisect.bisect_right(self.days, hi)])
        first, last = parse_date(lo), parse_date(hi)
        days = (first + i * _ONE_DAY for i in range((last - first).days + 1))
        return [d.strftime("%Y%m%d") for d in days if d.weekday() in self._rule]

    def next_session(self, date: DateLike, n: int = 1) -> str:
        """Return the ``n``-th trading day after ``date`` (which need not be a trading day).

        Parameters
        ----------
        date
            The starting date, inside the span.
        n
            How many trading days to step, at least 1.

        Returns
        -------
        str
            ``"YYYYMMDD"``.

        Raises
        ------
        CalendarError
            If ``date`` or the answer is outside the span.
        VizflowError
            If ``n`` is not a positive integer.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20240205", "20240208", "20240219", "20240220"])
        >>> cal.next_session("20240208"), cal.next_session("20240210", n=2)
        ('20240219', '20240220')
        """
        return self._step(date, n, forward=True, what="calendar.next_session")

    def previous_session(self, date: DateLike, n: int = 1) -> str:
        """Return the ``n``-th trading day before ``date`` (which need not be a trading day).

        Parameters
        ----------
        date
            The starting date, inside the span.
        n
            How many trading days to step, at least 1.

        Returns
        -------
        str
            ``"YYYYMMDD"``.

        Raises
        ------
        CalendarError
            If ``date`` or the answer is outside the span.
        VizflowError
            If ``n`` is not a positive integer.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20240205", "20240208", "20240219", "20240220"])
        >>> cal.previous_session("20240219")
        '20240208'
        """
        return self._step(date, n, forward=False, what="calendar.previous_session")

    def _step(self, date: DateLike, n: int, *, forward: bool, what: str) -> str:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            msg = f"{what}: n={n!r}; expected a positive integer"
            raise VizflowError(msg)
        day = self._known(date, what=what)
        found = self._walk(day, n, forward=forward)
        if found is None:
            direction = "after" if forward else "before"
            msg = (
                f"{what}: the calendar (covering {self.span_text}) has fewer than {n} "
                f"trading day(s) {direction} {day}; {_ways_out(self, day, forward=forward)}"
            )
            raise CalendarError(msg)
        return found

    def _walk(self, day: str, n: int, *, forward: bool) -> str | None:
        """Find the ``n``-th session after (before) ``day`` inside the span, or None."""
        if self.days is not None:
            i = (
                bisect.bisect_right(self.days, day) + n - 1
                if forward
                else bisect.bisect_left(self.days, day) - n
            )
            return self.days[i] if 0 <= i < len(self.days) else None
        step, current, rule = (_ONE_DAY if forward else -_ONE_DAY), parse_date(day), self._rule
        text = day
        while n:
            current += step
            text = current.strftime("%Y%m%d")
            if not self._inside(text):
                return None
            n -= current.weekday() in rule
        return text

    def to_frame(self) -> pl.DataFrame:
        """Return the sessions as a frame: ``date``, ``prev_date``, ``next_date`` (null at the ends).

        Returns
        -------
        polars.DataFrame
            One row per session, ascending.

        Raises
        ------
        CalendarError
            For a weekday rule without both ends (its sessions never end).

        Examples
        --------
        >>> import vizflow as vf
        >>> vf.calendar.generate(["20240103", "20240102", "20240105"]).to_frame()
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
        date = pl.Series("date", self.listed(where="Calendar.to_frame"), dtype=pl.String)
        return pl.DataFrame({"date": date, "prev_date": date.shift(1), "next_date": date.shift(-1)})

    def listed(self, *, where: str = "Calendar.listed") -> tuple[str, ...]:
        """Return every session of the span, ascending (a bounded weekday rule is listed out).

        Parameters
        ----------
        where
            The operation named in the error.

        Returns
        -------
        tuple of str
            ``"YYYYMMDD"``.

        Raises
        ------
        CalendarError
            For a weekday rule without both ends (its sessions never end).

        Examples
        --------
        >>> import vizflow as vf
        >>> vf.calendar.Calendar(weekdays=(0,), start="20240101", end="20240115").listed()
        ('20240101', '20240108', '20240115')
        """
        if self.days is not None:
            return self.days
        if self.start is None or self.end is None:
            msg = f"{where}: {self!r} is unbounded; its sessions cannot be listed"
            raise CalendarError(msg)
        return tuple(self._between(self.start, self.end))


def _describe_weekdays(rule: Sequence[int]) -> str:
    if tuple(rule) == EVERY_DAY:
        return "every day"
    if tuple(rule) == WEEKDAYS:
        return "Mon-Fri"
    return ",".join(_DAY_NAMES[d] for d in rule)


def _ways_out(cal: Calendar, day: str, *, forward: bool) -> str:
    """Name the three ways to extend ``cal`` to ``day`` (after its span if ``forward``), copyable."""
    if forward:
        lo = shift_date(cal.end, 1) if cal.end is not None else day
        hi = f"{max(day, lo)[:4]}1231"
    else:
        hi = shift_date(cal.start, -1) if cal.start is not None else day
        lo = f"{min(day, hi)[:4]}0101"
    file = f"{(cal.name or 'holidays').lower()}_{lo[:4]}.csv"
    closures = f'["{lo}"]' if lo.endswith("0101") else "[]"  # New Year's Day closes every exchange
    return (
        "vizflow never guesses holidays. Extend the calendar in one of three ways: "
        f"(1) upgrade exchange_calendars (pip install -U exchange_calendars) once it lists {lo[:4]}; "
        f"(2) give the announced closures as a file, `vizflow run ... --calendar {file}` or "
        f'`calendar = "{file}"` in the config TOML, where {file} holds a line '
        f"'# span: {lo}..{hi}', a line 'holiday' and then one closure per line; "
        "(3) in Python, with every closure listed: "
        f"cal = vf.calendar.extend(cal, vf.calendar.from_holidays({closures}, "
        f'start="{lo}", end="{hi}")). See docs/calendar.md'
    )


def _outside_message(cal: Calendar, day: str, what: str) -> str:
    label = f"the {cal.name} calendar" if cal.name else "the calendar"
    after = cal.end is not None and day > cal.end
    ways = _ways_out(cal, day, forward=after)
    return f"{what}: {day} is outside {label}, which covers {cal.span_text}; {ways}"


def from_days(days: Sequence[str], start: DateLike | None, end: DateLike | None, *, where: str) -> Calendar:
    """Build the calendar of checked ``days`` (any order) over ``start..end`` (default: first..last).

    Parameters
    ----------
    days
        ``"YYYYMMDD"`` strings, already checked, in any order, duplicates allowed.
    start, end
        The span; ``None`` takes the first (last) day.
    where
        The operation, named in errors.

    Returns
    -------
    Calendar
        The calendar.

    Raises
    ------
    VizflowError
        For no days and no span, or a day outside the span.

    Examples
    --------
    >>> from_days(["20240103", "20240102"], None, "20240105", where="here")
    Calendar(20240102..20240105, 2 sessions)
    """
    unique = sorted(set(days))
    if not unique and (start is None or end is None):
        msg = f"{where}: no dates given, and no span (start and end) to make an empty calendar of"
        raise VizflowError(msg)
    lo = unique[0] if start is None else checked_date(start, where=f"{where} start")
    hi = unique[-1] if end is None else checked_date(end, where=f"{where} end")
    outside = [d for d in (unique[:1] + unique[-1:]) if not lo <= d <= hi]
    if outside:
        msg = f"{where}: date {outside[0]} is outside the given span {lo}..{hi}"
        raise VizflowError(msg)
    return Calendar(days=tuple(unique), start=lo, end=hi)


def as_calendar(cal: Calendar | pl.DataFrame, *, where: str) -> Calendar:
    """``cal`` itself, or the calendar of a frame's ``date`` column (sorted, deduplicated).

    Parameters
    ----------
    cal
        A :class:`Calendar`, or a DataFrame with a ``date`` column (String or integer
        ``YYYYMMDD``, Date or Datetime); its span is its first to its last date.
    where
        The operation, named in errors.

    Returns
    -------
    Calendar
        The calendar.

    Raises
    ------
    VizflowError
        For anything else.
    ColumnNotFoundError
        For a frame without a ``date`` column.
    CalendarError
        For an empty frame.

    Examples
    --------
    >>> import polars as pl
    >>> as_calendar(pl.DataFrame({"date": [20240105, 20240102]}), where="here")
    Calendar(20240102..20240105, 2 sessions)
    """
    if isinstance(cal, Calendar):
        return cal
    if not isinstance(cal, pl.DataFrame):
        msg = (
            f"{where}: expected a vizflow Calendar or a DataFrame with a 'date' column; "
            f"got {type(cal).__name__}"
        )
        raise VizflowError(msg)
    if "date" not in cal.columns:
        raise ColumnNotFoundError.missing(["date"], cal.columns, where=f"{where} (calendar frame)")
    column = cal.get_column("date")
    if column.is_empty():
        msg = f"{where}: the calendar frame is empty, so it covers no dates"
        raise CalendarError(msg)
    return from_days(valid_days(column, where=f"{where} (calendar frame)"), None, None, where=where)
