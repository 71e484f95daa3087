"""Trading calendars: which dates are sessions, and stepping between them.

A :class:`Calendar` is a set of sessions **and the span of dates it knows about**. The span is not
its first and last session: the shipped XSHG calendar covers 19910101..20261231, so 1 January (a
holiday) is a known non-session, while 20270104 is unknown. Every function here raises
:class:`~vizflow.CalendarError` naming the date and the span for a date beyond the span: holidays
are never guessed, and "cannot know" is never answered as "not a session".

A calendar is either a list of sessions (:func:`generate`, :func:`load`, :func:`from_exchange`,
``vf.datasets.xshg_calendar()``) or a weekday rule (``Calendar(weekdays=...)``, used by
:func:`for_market` for markets whose holidays vizflow does not know), optionally bounded.

Every function also accepts a plain DataFrame with a ``date`` column (String or integer
``YYYYMMDD``, Date or Datetime; any order, duplicates allowed): its span is then its first to its
last session. Dates are ``"YYYYMMDD"`` strings or :class:`datetime.date`; answers are strings.
"""

from __future__ import annotations

import bisect
import builtins  # this module's range() shadows the builtin
import dataclasses
import datetime as dt
import io
import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from vizflow._optional import import_optional
from vizflow.config import format_date
from vizflow.exceptions import CalendarError, ColumnNotFoundError, DataError, SchemaError, VizflowError
from vizflow.market import Market, get_market

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from vizflow._typing import DateLike

__all__ = [
    "EVERY_DAY",
    "WEEKDAYS",
    "Calendar",
    "for_market",
    "from_exchange",
    "generate",
    "is_session",
    "is_trading_day",
    "load",
    "next_day",
    "prev_day",
    "range",
    "sessions",
]

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
    session). Build lists with :func:`generate`, :func:`load` or :func:`from_exchange` rather than
    by hand: they validate and sort.

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
    >>> vf.calendar.is_session(cal, "20240101"), vf.calendar.is_session(cal, "20240103")
    (False, True)
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
                object.__setattr__(self, side, _format(value, where=f"{where} {side}"))
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
        object.__setattr__(self, "days", days)
        if self.start is None or self.end is None:
            msg = f"{where}: a list of sessions needs both ends of its span (start and end)"
            raise VizflowError(msg)
        _valid_days(_strings(days, where=f"{where} days"), where=f"{where} days")
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

    def covers(self, date: DateLike) -> bool:
        """Whether ``date`` is inside the span, i.e. the calendar knows if it is a session.

        Examples
        --------
        >>> import vizflow as vf
        >>> cal = vf.calendar.generate(["20240102"], start="20240101", end="20240131")
        >>> cal.covers("20240101"), cal.covers("20240201")
        (True, False)
        """
        return self._inside(_format(date, where="Calendar.covers"))

    def _inside(self, day: str) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def to_frame(self) -> pl.DataFrame:
        """Return the sessions as a frame: ``date``, ``prev_date``, ``next_date`` (null at the ends).

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
        if self.start is None or self.end is None:
            msg = f"Calendar.to_frame: {self!r} is unbounded; its sessions cannot be listed"
            raise CalendarError(msg)
        date = pl.Series("date", _between(self, self.start, self.end), dtype=pl.String)
        return pl.DataFrame({"date": date, "prev_date": date.shift(1), "next_date": date.shift(-1)})


def _describe_weekdays(rule: Sequence[int]) -> str:
    if tuple(rule) == EVERY_DAY:
        return "every day"
    if tuple(rule) == WEEKDAYS:
        return "Mon-Fri"
    return ",".join(_DAY_NAMES[d] for d in rule)


# --- building calendars --------------------------------------------------------------------------


def generate(
    dates: Iterable[DateLike], *, start: DateLike | None = None, end: DateLike | None = None
) -> Calendar:
    """Build a calendar from its trading dates.

    Parameters
    ----------
    dates
        Trading dates, ``"YYYYMMDD"`` or :class:`datetime.date`, in any order. Duplicates are
        dropped and the dates sorted: a calendar is a set of days.
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
    texts = [d.strftime("%Y%m%d") if isinstance(d, dt.date) else d for d in dates]
    days = _valid_days(_strings(texts, where=where), where=where)
    return _from_days(days, start, end, where=where)


def _from_days(days: list[str], start: DateLike | None, end: DateLike | None, *, where: str) -> Calendar:
    """Build the calendar of ``days`` (validated, any order) over ``start..end`` (default: first..last)."""
    days = sorted(set(days))
    if not days and (start is None or end is None):
        msg = f"{where}: no dates given, and no span (start and end) to make an empty calendar of"
        raise VizflowError(msg)
    lo = days[0] if start is None else _format(start, where=f"{where} start")
    hi = days[-1] if end is None else _format(end, where=f"{where} end")
    outside = [d for d in (days[:1] + days[-1:]) if not lo <= d <= hi]
    if outside:
        msg = f"{where}: date {outside[0]} is outside the given span {lo}..{hi}"
        raise VizflowError(msg)
    return Calendar(days=tuple(days), start=lo, end=hi)


def load(path: str | Path) -> Calendar:
    r"""Load a calendar file: CSV or parquet with one trading date per row.

    A CSV is a bare list of ``YYYYMMDD`` values or has a ``date`` column. Blank lines, CRLF line
    ends and a UTF-8 byte-order mark are ignored, and lines starting with ``#`` are comments; a
    comment ``# span: START..END`` states the dates the file is complete for (the shipped XSHG
    file has one). Without it, and for parquet (a ``date`` column: String or integer
    ``YYYYMMDD``, or Date), the span is the first to the last date.

    Parameters
    ----------
    path
        The ``.csv`` or ``.parquet`` file.

    Returns
    -------
    Calendar
        The calendar, as :func:`generate` builds it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    VizflowError
        For another extension, a file that is not UTF-8, a missing ``date`` column, a malformed
        date (named with its position) or span line, or no dates.
    DataError
        For an empty ``date`` value in a row (e.g. a null in parquet).

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cal.csv"
    >>> _ = path.write_text("# span: 20240101..20240105\n20240102\n20240103\n")
    >>> vf.calendar.load(path)
    Calendar(20240101..20240105, 2 sessions)
    """
    path = Path(path)
    where = f"calendar.load: {str(path)!r}"
    if not path.is_file():
        msg = f"calendar.load: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    suffix = path.suffix.lower()
    span: tuple[str | None, str | None] = (None, None)
    if suffix == ".csv":
        frame, span = _read_csv(path, where=where)
    elif suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        msg = f"calendar.load: {str(path)!r} is neither .csv nor .parquet"
        raise VizflowError(msg)
    if "date" not in frame.columns:
        msg = f"{where} has no 'date' column; columns: {frame.columns}"
        raise VizflowError(msg)
    column = frame.get_column("date")
    return _from_days(_valid_days(column, where=where), *span, where=where)


def _read_csv(path: Path, *, where: str) -> tuple[pl.DataFrame, tuple[str | None, str | None]]:
    """Read the CSV's rows (no comments or blank lines) and its ``# span:`` (or ``(None, None)``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise VizflowError(msg) from None
    lines = [line.strip() for line in text.splitlines()]
    span: tuple[str | None, str | None] = (None, None)
    for line in lines:
        key, _, value = line.lstrip("#").partition(":")
        if line.startswith("#") and key.strip().lower() == "span":
            lo, sep, hi = value.strip().partition("..")
            if not sep:
                msg = f"{where}: span line {line!r}; expected '# span: YYYYMMDD..YYYYMMDD'"
                raise VizflowError(msg)
            span = (_format(lo.strip(), where=f"{where} span"), _format(hi.strip(), where=f"{where} span"))
    rows = [line for line in lines if line and not line.startswith("#")]
    if not rows:
        return pl.DataFrame({"date": []}, schema={"date": pl.String}), span
    has_header = not rows[0].isdigit()
    frame = pl.read_csv(io.StringIO("\n".join(rows)), has_header=has_header, infer_schema=False)
    return (frame if has_header else frame.rename({frame.columns[0]: "date"})), span


def from_exchange(exchange: str, start: DateLike, end: DateLike) -> Calendar:
    """Build a calendar from the ``exchange_calendars`` package (extra ``vizflow[calendars]``).

    Parameters
    ----------
    exchange
        An exchange_calendars code, e.g. ``"XSHG"`` (Shanghai; Shenzhen trades the same days),
        ``"XHKG"``, ``"XNYS"``.
    start, end
        Inclusive bounds; they need not be trading days. They become the calendar's span.

    Returns
    -------
    Calendar
        Named ``exchange``, spanning ``start..end``.

    Raises
    ------
    ImportError
        Without the extra installed (the message says what to install).
    CalendarError
        If the bounds are outside the package's coverage for that exchange.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.from_exchange("XSHG", "20240205", "20240220")  # Spring Festival
    >>> cal.days
    ('20240205', '20240206', '20240207', '20240208', '20240219', '20240220')
    """
    xcals = import_optional("exchange_calendars", extra="calendars")
    where = "calendar.from_exchange"
    lo, hi = _format(start, where=f"{where} start"), _format(end, where=f"{where} end")
    try:
        with warnings.catch_warnings():
            # exchange_calendars' own use of deprecated pandas API is not the caller's concern.
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            cal = xcals.get_calendar(exchange, start=_iso(lo), end=_iso(hi))
            days = [d.strftime("%Y%m%d") for d in cal.sessions]
    except Exception as exc:  # exchange_calendars raises its own error types
        msg = f"{where}: {exchange!r} for {lo}..{hi}: {exc}"
        raise CalendarError(msg) from exc
    return dataclasses.replace(_from_days(days, lo, hi, where=where), name=exchange)


def for_market(market: str | Market) -> Calendar:
    """Return the calendar a run on ``market`` uses when none is given.

    - ``"CN"`` and ``"CN_FUTURES"``: the shipped XSHG calendar (``vf.datasets.xshg_calendar()``;
      China's futures exchanges close on the same days as its stock exchanges).
    - ``"CRYPTO"``: every calendar day, unbounded.
    - any other market (``"HK"``, ``"US"``, a custom :class:`~vizflow.Market`): every weekday,
      unbounded. **Its holidays are not known**, so a holiday counts as a session; build one with
      :func:`from_exchange` (``"XHKG"``, ``"XNYS"``) or :func:`load` to skip them.

    Parameters
    ----------
    market
        A :class:`~vizflow.Market` or a preset name; a custom market is matched by its name.

    Returns
    -------
    Calendar
        The calendar.

    Raises
    ------
    VizflowError
        For an unknown preset name.

    Examples
    --------
    >>> import vizflow as vf
    >>> vf.calendar.for_market("CN")
    Calendar('XSHG', 19910101..20261231, 8788 sessions)
    >>> vf.calendar.for_market("CRYPTO"), vf.calendar.for_market(vf.US)
    (Calendar('CRYPTO', every day, unbounded), Calendar('US', Mon-Fri, unbounded))
    """
    name = get_market(market).name
    if name in ("CN", "CN_FUTURES"):
        from vizflow.datasets import xshg_calendar  # datasets imports this module

        return xshg_calendar()
    return Calendar(weekdays=EVERY_DAY if name == "CRYPTO" else WEEKDAYS, name=name)


# --- frames and dates ----------------------------------------------------------------------------


def _as_calendar(cal: Calendar | pl.DataFrame, *, where: str) -> Calendar:
    """``cal`` itself, or the calendar of a frame's ``date`` column (sorted, deduplicated)."""
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
    return _from_days(_valid_days(column, where=f"{where} (calendar frame)"), None, None, where=where)


def _valid_days(column: pl.Series, *, where: str) -> list[str]:
    """``column`` (String/integer ``YYYYMMDD``, Date or Datetime) as validated ``YYYYMMDD`` strings."""
    if column.null_count():
        msg = (
            f"{where}: the 'date' column has {column.null_count()} null(s), first at row "
            f"{column.is_null().arg_max()}; a calendar lists trading days only"
        )
        raise DataError(msg)
    dtype = column.dtype
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y%m%d").to_list()
    if not (dtype.is_integer() or dtype == pl.String):
        msg = (
            f"{where}: the 'date' column has dtype {dtype}; "
            "expected String or integer YYYYMMDD, Date or Datetime"
        )
        raise SchemaError(msg)
    text = column.cast(pl.String)
    if dtype == pl.String:
        text = text.str.strip_chars()
    ok = text.str.contains(r"^\d{8}$") & text.str.to_date("%Y%m%d", strict=False).is_not_null()
    ok = ok.fill_null(False)
    malformed = (~ok).arg_true()
    if len(malformed):
        i = int(malformed[0])
        _raise_malformed(column[i], i, where)
    return text.to_list()


def _strings(values: Sequence[object], *, where: str) -> pl.Series:
    """``values`` as a String Series; the first that is not a string is named with its position."""
    bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
    if bad is not None:
        _raise_malformed(values[bad], bad, where)
    return pl.Series(values, dtype=pl.String)


def _raise_malformed(value: object, position: int, where: str) -> None:
    try:
        format_date(value)  # type: ignore[arg-type]
    except VizflowError as exc:
        msg = f"{where}: date #{position} {exc}"
        raise VizflowError(msg) from None
    msg = f"{where}: date #{position} malformed date {value!r}"  # e.g. a non-string in a list
    raise VizflowError(msg)


def _format(date: DateLike, *, where: str) -> str:
    try:
        return format_date(date)
    except VizflowError as exc:
        msg = f"{where}: {exc}"
        raise VizflowError(msg) from None


def _iso(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:]}"


def _known(cal: Calendar, date: DateLike, *, what: str) -> str:
    """``date`` as ``YYYYMMDD``, or CalendarError if the calendar cannot know about it."""
    day = _format(date, where=what)
    if not cal._inside(day):
        label = f"the {cal.name} calendar" if cal.name else "the calendar"
        msg = (
            f"{what}: {day} is outside {label}, which covers {cal.span_text}; "
            "extend the calendar rather than guess its holidays"
        )
        raise CalendarError(msg)
    return day


# --- questions -----------------------------------------------------------------------------------


def is_session(cal: Calendar | pl.DataFrame, date: DateLike) -> bool:
    """Whether ``date`` is a trading day of ``cal``: True or False inside its span.

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
    where = "calendar.is_session"
    cal = _as_calendar(cal, where=where)
    day = _known(cal, date, what=where)
    if cal.days is None:
        return _weekday(day) in cal._rule
    i = bisect.bisect_left(cal.days, day)
    return i < len(cal.days) and cal.days[i] == day


is_trading_day = is_session
"""The former name of :func:`is_session`."""


def sessions(cal: Calendar | pl.DataFrame, start: DateLike, end: DateLike) -> list[str]:
    """Trading days from ``start`` to ``end``, both inclusive; the bounds need not be trading days.

    A CRYPTO calendar (:func:`for_market`) gives every calendar day.

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
    return _sessions(cal, start, end, where="calendar.sessions")


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
    return _sessions(cal, start, end, where="calendar.range")


def _sessions(cal: Calendar | pl.DataFrame, start: DateLike, end: DateLike, *, where: str) -> list[str]:
    cal = _as_calendar(cal, where=where)
    lo, hi = _known(cal, start, what=where), _known(cal, end, what=where)
    if lo > hi:
        msg = f"{where}: start {lo} is after end {hi}"
        raise VizflowError(msg)
    return _between(cal, lo, hi)


def _between(cal: Calendar, lo: str, hi: str) -> list[str]:
    """Sessions in ``lo..hi`` (both known to the calendar)."""
    if cal.days is not None:
        return list(cal.days[bisect.bisect_left(cal.days, lo) : bisect.bisect_right(cal.days, hi)])
    first, last = _parse(lo), _parse(hi)
    days = (first + i * _ONE_DAY for i in builtins.range((last - first).days + 1))
    return [d.strftime("%Y%m%d") for d in days if d.weekday() in cal._rule]


def next_day(cal: Calendar | pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day after ``date`` (which need not be a trading day).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        The starting date.
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
    return _step(cal, date, n, forward=True, what="calendar.next_day")


def prev_day(cal: Calendar | pl.DataFrame, date: DateLike, n: int = 1) -> str:
    """Return the ``n``-th trading day before ``date`` (which need not be a trading day).

    Parameters
    ----------
    cal
        A :class:`Calendar` or a frame with a ``date`` column.
    date
        The starting date.
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
    return _step(cal, date, n, forward=False, what="calendar.prev_day")


def _step(cal: Calendar | pl.DataFrame, date: DateLike, n: int, *, forward: bool, what: str) -> str:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        msg = f"{what}: n={n!r}; expected a positive integer"
        raise VizflowError(msg)
    cal = _as_calendar(cal, where=what)
    day = _known(cal, date, what=what)
    found = _walk(cal, day, n, forward=forward)
    if found is None:
        direction = "after" if forward else "before"
        msg = (
            f"{what}: the calendar (covering {cal.span_text}) has fewer than {n} "
            f"trading day(s) {direction} {day}"
        )
        raise CalendarError(msg)
    return found


def _walk(cal: Calendar, day: str, n: int, *, forward: bool) -> str | None:
    """Find the ``n``-th session after (before) ``day`` inside the span, or None."""
    if cal.days is not None:
        i = bisect.bisect_right(cal.days, day) + n - 1 if forward else bisect.bisect_left(cal.days, day) - n
        return cal.days[i] if 0 <= i < len(cal.days) else None
    step, current, rule = (_ONE_DAY if forward else -_ONE_DAY), _parse(day), cal._rule
    while n:
        current += step
        text = current.strftime("%Y%m%d")
        if not cal._inside(text):
            return None
        n -= current.weekday() in rule
    return text


def _parse(day: str) -> dt.date:
    return dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))


def _weekday(day: str) -> int:
    return _parse(day).weekday()
