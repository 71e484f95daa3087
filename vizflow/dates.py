"""Trading dates as ``"YYYYMMDD"`` strings: parsing, checking and formatting them.

Every date vizflow takes is a ``"YYYYMMDD"`` string or a :class:`datetime.date` (a
:class:`datetime.datetime` counts as its date), and every date it returns is a string. This module
is the one place that converts between the two; :mod:`vizflow.config`, :mod:`vizflow.market` and
:mod:`vizflow.calendar` all use it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from vizflow._typing import DateLike

__all__ = ["checked_date", "format_date", "iso_date", "parse_date", "shift_date"]


def format_date(date: DateLike) -> str:
    """Return ``date`` as a ``"YYYYMMDD"`` string; accepts that string or a :class:`datetime.date`.

    Parameters
    ----------
    date
        A ``"YYYYMMDD"`` string or a :class:`datetime.date`.

    Returns
    -------
    str
        ``"YYYYMMDD"``.

    Raises
    ------
    VizflowError
        For anything else, naming the value.

    Examples
    --------
    >>> import datetime as dt
    >>> format_date(dt.date(2024, 1, 2)), format_date("20240102")
    ('20240102', '20240102')
    """
    if isinstance(date, dt.date):
        return date.strftime("%Y%m%d")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():  # noqa: PLR2004
        try:
            dt.datetime.strptime(date, "%Y%m%d")
        except ValueError:
            pass
        else:
            return date
    msg = f"malformed date {date!r}; expected a 'YYYYMMDD' string or a datetime.date"
    raise VizflowError(msg)


def checked_date(date: DateLike, *, where: str) -> str:
    """:func:`format_date`, with ``where`` (the operation) at the front of its error.

    Parameters
    ----------
    date
        A ``"YYYYMMDD"`` string or a :class:`datetime.date`.
    where
        The operation, e.g. ``"calendar.is_session"``.

    Returns
    -------
    str
        ``"YYYYMMDD"``.

    Raises
    ------
    VizflowError
        For a malformed date, e.g. ``calendar.is_session: malformed date '2024-01-03'; ...``.

    Examples
    --------
    >>> checked_date("20240102", where="here")
    '20240102'
    >>> checked_date("2024-01-02", where="here")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.VizflowError: here: malformed date '2024-01-02'; expected a 'YYYYMMDD' string ...
    """
    try:
        return format_date(date)
    except VizflowError as exc:
        msg = f"{where}: {exc}"
        raise VizflowError(msg) from None


def parse_date(day: str) -> dt.date:
    """Return the :class:`datetime.date` of a valid ``"YYYYMMDD"`` string (see :func:`format_date`).

    Parameters
    ----------
    day
        ``"YYYYMMDD"``, already checked.

    Returns
    -------
    datetime.date
        The date.

    Examples
    --------
    >>> parse_date("20240229")
    datetime.date(2024, 2, 29)
    """
    return dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))


def shift_date(day: str, days: int) -> str:
    """Return the ``"YYYYMMDD"`` ``days`` calendar days after ``day`` (before it if negative).

    Parameters
    ----------
    day
        ``"YYYYMMDD"``, already checked.
    days
        Calendar days to add.

    Returns
    -------
    str
        ``"YYYYMMDD"``.

    Examples
    --------
    >>> shift_date("20241231", 1), shift_date("20240301", -1)
    ('20250101', '20240229')
    """
    return (parse_date(day) + dt.timedelta(days=days)).strftime("%Y%m%d")


def iso_date(day: str) -> str:
    """Return a valid ``"YYYYMMDD"`` as ``"YYYY-MM-DD"`` (what pandas and exchange_calendars read).

    Parameters
    ----------
    day
        ``"YYYYMMDD"``, already checked.

    Returns
    -------
    str
        ``"YYYY-MM-DD"``.

    Examples
    --------
    >>> iso_date("20240102")
    '2024-01-02'
    """
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"
