"""Calendars from the ``exchange_calendars`` package, and the calendar each market uses by default.

The installed exchange_calendars is used whenever it knows more than the file vizflow ships: a
newer release lists next year's XSHG holidays before a new vizflow wheel does. Without it, CN runs
on the shipped file alone (a date past it raises :class:`~vizflow.CalendarError`, naming the ways
to extend it) and HK and US on every weekday (their holidays are not known).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import sys
import warnings
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from vizflow._optional import import_optional
from vizflow.calendar.builders import extend, generate
from vizflow.calendar.files import load
from vizflow.calendar.model import EVERY_DAY, WEEKDAYS, Calendar, from_days
from vizflow.calendar.shipped import xshg_calendar, xshg_written_by
from vizflow.dates import checked_date, iso_date, shift_date
from vizflow.exceptions import CalendarError
from vizflow.market import get_market

if TYPE_CHECKING:
    from os import PathLike
    from types import ModuleType

    from vizflow._typing import DateLike
    from vizflow.market import Market

__all__ = [
    "EARLIEST",
    "MARKET_EXCHANGES",
    "exchange_calendars",
    "exchange_span",
    "installed_version",
    "for_market",
    "from_exchange",
]

MARKET_EXCHANGES = {"CN": "XSHG", "CN_FUTURES": "XSHG", "HK": "XHKG", "US": "XNYS"}
"""The exchange_calendars code whose holidays each preset market follows (China's futures
exchanges close on the same days as its stock exchanges)."""

EARLIEST = "19900101"
"""The earliest date :func:`for_market` asks exchange_calendars about."""


def exchange_calendars() -> ModuleType | None:
    """Return the installed ``exchange_calendars`` module, or None without it.

    Returns
    -------
    module or None
        exchange_calendars.

    Examples
    --------
    >>> exchange_calendars() is None or hasattr(exchange_calendars(), "get_calendar")
    True
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            return importlib.import_module("exchange_calendars")
    except ImportError:
        return None


def _quietly(xcals: ModuleType, exchange: str, **bounds: str) -> object:
    """Call ``xcals.get_calendar``; exchange_calendars' use of deprecated pandas API is not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        return xcals.get_calendar(exchange, **bounds)


def exchange_span(exchange: str) -> tuple[str, str]:
    """Return the dates the installed exchange_calendars lists ``exchange``'s holidays for, whole years.

    From the first 1 January on or after the package's first date (not before :data:`EARLIEST`)
    to its last. An exchange whose holidays are rules without an end (``XNYS``) is taken to the
    end of next year: exchanges announce about that far ahead, and an unannounced closure (a
    day of mourning) cannot be in any package.

    Parameters
    ----------
    exchange
        An exchange_calendars code, e.g. ``"XSHG"``.

    Returns
    -------
    tuple of str
        ``("YYYYMMDD", "YYYYMMDD")``.

    Raises
    ------
    ImportError
        Without exchange_calendars (``pip install 'vizflow[calendars]'``).
    CalendarError
        For an exchange it does not know.

    Examples
    --------
    >>> exchange_span("XSHG")[0]
    '19910101'
    """
    xcals = import_optional("exchange_calendars", extra="calendars")
    try:
        kind = type(_quietly(xcals, exchange))
    except Exception as exc:  # exchange_calendars raises its own error types
        msg = f"calendar.exchange_span: {exchange!r}: {exc}"
        raise CalendarError(msg) from exc
    first, last = kind.bound_min(), kind.bound_max()  # type: ignore[attr-defined]
    lo = EARLIEST
    if first is not None:
        day = first.strftime("%Y%m%d")
        lo = max(lo, day if day.endswith("0101") else f"{int(day[:4]) + 1}0101")
    hi = last.strftime("%Y%m%d") if last is not None else f"{dt.date.today().year + 1}1231"
    return lo, hi


def from_exchange(exchange: str, start: DateLike, end: DateLike) -> Calendar:
    """Build a calendar from the ``exchange_calendars`` package (extra ``vizflow[calendars]``).

    For ``"XSHG"`` the file vizflow ships answers when exchange_calendars is not installed or
    does not cover ``start..end``; the installed package answers whenever it does (the two are
    compared by the tests wherever both cover a year).

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
        Without the extra installed (the message says what to install), unless the shipped XSHG
        file covers the request.
    CalendarError
        If the bounds are outside what the package (and the shipped file) cover for that
        exchange; the message names the ways out.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.calendar.from_exchange("XSHG", "20240205", "20240220")  # Spring Festival
    >>> cal.days
    ('20240205', '20240206', '20240207', '20240208', '20240219', '20240220')
    """
    where = "calendar.from_exchange"
    lo, hi = checked_date(start, where=f"{where} start"), checked_date(end, where=f"{where} end")
    shipped = xshg_calendar() if exchange == "XSHG" else None
    covered = shipped is not None and shipped.covers(lo) and shipped.covers(hi) and lo <= hi
    xcals = exchange_calendars()
    if xcals is None and not covered:
        import_optional("exchange_calendars", extra="calendars")  # raises, saying what to install
    if xcals is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
                cal = xcals.get_calendar(exchange, start=iso_date(lo), end=iso_date(hi))
                days = [d.strftime("%Y%m%d") for d in cal.sessions]
        except Exception as exc:  # exchange_calendars raises its own error types
            if not covered:
                msg = (
                    f"{where}: {exchange!r} for {lo}..{hi}: {exc}. Upgrade exchange_calendars "
                    "(pip install -U exchange_calendars) once it lists those years, or build them "
                    "from the announced closures with vf.calendar.from_holidays and "
                    "vf.calendar.extend (docs/calendar.md)"
                )
                raise CalendarError(msg) from exc
        else:
            return dataclasses.replace(from_days(days, lo, hi, where=where), name=exchange)
    if shipped is None:  # unreachable: without a shipped file, covered is False
        msg = f"{where}: {exchange!r}: no calendar"
        raise CalendarError(msg)
    return dataclasses.replace(generate(shipped.sessions_in_range(lo, hi), start=lo, end=hi), name=exchange)


def for_market(market: str | Market, *, file: str | PathLike[str] | None = None) -> Calendar:
    """Return the calendar a run on ``market`` uses when none is given, extended by ``file``.

    - ``"CN"`` and ``"CN_FUTURES"``: the shipped XSHG calendar (``vf.datasets.xshg_calendar()``;
      China's futures exchanges close on the same days as its stock exchanges), extended with the
      later years the installed ``exchange_calendars`` lists, if it lists more.
    - ``"HK"`` and ``"US"``: with exchange_calendars installed, ``XHKG`` and ``XNYS`` over
      :func:`exchange_span` (from 1990). Without it, every weekday, unbounded: **holidays are
      not known** there, so a holiday counts as a session (``pip install 'vizflow[calendars]'``).
    - ``"CRYPTO"``: every calendar day, unbounded.
    - any other :class:`~vizflow.Market`: every weekday, unbounded (holidays not known); build
      one with :func:`from_exchange`, :func:`~vizflow.calendar.from_holidays` or
      :func:`~vizflow.calendar.load` to skip them.

    Built once per process. ``file`` (``vizflow run --calendar FILE``, ``Config(calendar=...)``)
    adds dates to it: a sessions or holidays file (see :func:`~vizflow.calendar.load`), joined
    with :func:`~vizflow.calendar.extend` (the two must agree where they overlap). A weekday
    rule knows no holidays, so there the file's calendar is used alone.

    Parameters
    ----------
    market
        A :class:`~vizflow.Market` or a preset name; a custom market is matched by its name.
    file
        A calendar file to extend the market's calendar with, e.g. next year's closures.

    Returns
    -------
    Calendar
        The calendar.

    Raises
    ------
    VizflowError
        For an unknown preset name, or a file :func:`~vizflow.calendar.load` refuses.
    CalendarError
        If the file's calendar leaves a gap after the market's, or disagrees with it on a date
        both cover (naming the first).

    Examples
    --------
    >>> import vizflow as vf
    >>> vf.calendar.for_market("CN")
    Calendar('XSHG', 19910101..20261231, 8788 sessions)
    >>> vf.calendar.for_market("US").is_session("20241225")  # with exchange_calendars installed
    False
    >>> vf.calendar.for_market("CRYPTO")
    Calendar('CRYPTO', every day, unbounded)
    """
    name = get_market(market).name
    exchange = MARKET_EXCHANGES.get(name)
    version = installed_version()
    if exchange is None:  # holidays not known
        base = Calendar(weekdays=EVERY_DAY if name == "CRYPTO" else WEEKDAYS, name=name)
    elif exchange == "XSHG" and version in (None, xshg_written_by()):
        base = xshg_calendar()  # the package knows no more than the file: no need to import it
    elif version is None or exchange_calendars() is None:  # not installed, or it fails to import
        base = xshg_calendar() if exchange == "XSHG" else Calendar(weekdays=WEEKDAYS, name=name)
    else:
        base = _exchange_calendar(exchange, package=version)
    if file is None:
        return base
    extra = load(file)
    if not base.bounded:
        return dataclasses.replace(extra, name=base.name)
    try:
        return extend(base, extra)
    except CalendarError as exc:
        msg = f"calendar.for_market: the file {str(file)!r}: {str(exc).removeprefix('calendar.extend: ')}"
        raise CalendarError(msg) from None


def installed_version() -> str | None:
    """Return the installed exchange_calendars' version, without importing it if not imported yet.

    Returns
    -------
    str or None
        The version; None when it is not installed (or its import is blocked).

    Examples
    --------
    >>> installed_version() is None or installed_version()[0].isdigit()
    True
    """
    if "exchange_calendars" in sys.modules:
        module = sys.modules["exchange_calendars"]
        return None if module is None else str(getattr(module, "__version__", "unknown"))
    try:
        return metadata.version("exchange_calendars")
    except metadata.PackageNotFoundError:
        return None


@cache
def _exchange_calendar(exchange: str, *, package: str) -> Calendar:
    """Build ``exchange``'s calendar, given the version of exchange_calendars installed."""
    if exchange != "XSHG":
        return from_exchange(exchange, *exchange_span(exchange))
    shipped = xshg_calendar()
    if shipped.end is None:  # never: the shipped file has a span
        return shipped
    last = exchange_span(exchange)[1]
    if last <= shipped.end:
        return shipped
    return extend(shipped, from_exchange(exchange, shift_date(shipped.end, 1), last))
