"""One day's :class:`Market` from the ``exchange_calendars`` schedule (half days, irregular closes)."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING

from vizflow._optional import import_optional
from vizflow.clock.market import Market
from vizflow.clock.sessions import Session
from vizflow.dates import format_date, parse_date
from vizflow.exceptions import CalendarError

if TYPE_CHECKING:
    from vizflow._typing import DateLike

__all__ = ["market_for"]


def market_for(exchange: str, date: DateLike) -> Market:
    """Build one day's :class:`Market` from the ``exchange_calendars`` schedule (extra ``calendars``).

    The day's open, lunch break and close become its sessions, so half days and irregular
    closes give the right clock: on 2026-11-27 (the day after Thanksgiving) XNYS closes at 13:00 New
    York time, and that day's :attr:`~Market.total_seconds` is 12,600, not 23,400. The market has
    no declared phases (:attr:`~Market.phase_layout` derives ``continuous`` and ``break`` from the
    sessions) and is named ``"<exchange> <YYYYMMDD>"``.

    Parameters
    ----------
    exchange
        An exchange_calendars code: ``"XNYS"``, ``"XHKG"``, ``"XSHG"``, ...
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.

    Returns
    -------
    Market
        That day's sessions in the exchange's time zone.

    Raises
    ------
    ImportError
        Without exchange_calendars (``pip install 'vizflow[calendars]'``).
    CalendarError
        For an unknown exchange, a date outside what exchange_calendars covers, or a date that is
        not a session of the exchange.

    Examples
    --------
    >>> day = market_for("XNYS", "20261127")
    >>> day.describe(), day.total_seconds, day.tz
    ('09:30:00-13:00:00', 12600.0, 'America/New_York')
    >>> market_for("XHKG", "20240102").describe()
    '09:30:00-12:00:00, 13:00:00-16:00:00'
    """
    xcals = import_optional("exchange_calendars", extra="calendars")
    where = "market_for"
    day = format_date(date)
    when = parse_date(day)
    try:
        with warnings.catch_warnings():
            # exchange_calendars' own use of deprecated pandas API is not the caller's concern.
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            cal = xcals.get_calendar(exchange, start=str(when - dt.timedelta(days=1)), end=str(when))
            schedule = cal.schedule
    except Exception as exc:  # exchange_calendars raises its own error types
        msg = f"{where}: {exchange!r} on {day}: {exc}"
        raise CalendarError(msg) from exc
    rows = schedule[schedule.index.strftime("%Y%m%d") == day]
    if rows.empty:
        msg = f"{where}: {day} is not a session of {exchange} (a weekend or a holiday)"
        raise CalendarError(msg)
    row = rows.iloc[0]
    tz = str(cal.tz)

    def local(column: str) -> str:
        return row[column].tz_convert(tz).strftime("%H:%M:%S")

    sessions: tuple[Session, ...]
    if row.notna()["break_start"]:
        sessions = (Session(local("open"), local("break_start")), Session(local("break_end"), local("close")))
    else:
        sessions = (Session(local("open"), local("close")),)
    return Market(f"{exchange} {day}", sessions, tz=tz)
