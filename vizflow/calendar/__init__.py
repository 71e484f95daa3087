"""Trading calendars: which dates are sessions, and stepping between them.

A :class:`Calendar` is a set of sessions **and the span of dates it knows about**. The span is not
its first and last session: the shipped XSHG calendar covers 19910101..20261231, so 1 January (a
holiday) is a known non-session, while 20270104 is unknown. Every question raises
:class:`~vizflow.CalendarError` naming the date, the span and the three ways to extend the
calendar for a date beyond the span: holidays are never guessed, and "cannot know" is never
answered as "not a session".

The questions are methods, as in ``exchange_calendars`` (``cal.is_session(d)``,
``cal.sessions_in_range(a, b)``, ``cal.next_session(d)``, ``cal.previous_session(d)``); the
module functions (:func:`is_session`, :func:`sessions`, :func:`next_day`, :func:`prev_day`, ...)
forward to them and also accept a plain DataFrame with a ``date`` column (String or integer
``YYYYMMDD``, Date or Datetime; any order, duplicates allowed), whose span is its first to its
last session. Dates are ``"YYYYMMDD"`` strings or :class:`datetime.date`; answers are strings.

A calendar is either a list of sessions (:func:`generate`, :func:`from_holidays`, :func:`load`,
:func:`from_exchange`, :func:`extend`, ``vf.datasets.xshg_calendar()``) or a weekday rule
(``Calendar(weekdays=...)``, used by :func:`for_market` for markets whose holidays vizflow does not
know), optionally bounded.

Modules: :mod:`~vizflow.calendar.model` (the Calendar), :mod:`~vizflow.calendar.builders`
(generate, from_holidays, extend), :mod:`~vizflow.calendar.files` (load),
:mod:`~vizflow.calendar.exchange` (exchange_calendars, for_market),
:mod:`~vizflow.calendar.shipped` (the XSHG file), :mod:`~vizflow.calendar.queries` (the
functions).
"""

from __future__ import annotations

from vizflow.calendar.builders import extend, from_holidays, generate
from vizflow.calendar.exchange import for_market, from_exchange
from vizflow.calendar.files import load
from vizflow.calendar.model import EVERY_DAY, WEEKDAYS, Calendar
from vizflow.calendar.queries import is_session, is_trading_day, next_day, prev_day, range, sessions

__all__ = [
    "EVERY_DAY",
    "WEEKDAYS",
    "Calendar",
    "extend",
    "for_market",
    "from_exchange",
    "from_holidays",
    "generate",
    "is_session",
    "is_trading_day",
    "load",
    "next_day",
    "prev_day",
    "range",
    "sessions",
]
