"""The calendar shipped with vizflow: Shanghai (and Shenzhen) sessions, ``datasets/data/xshg.csv``."""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from vizflow.calendar.files import load

if TYPE_CHECKING:
    from vizflow.calendar.model import Calendar

__all__ = ["xshg_calendar", "xshg_written_by"]

_FILE = ("datasets", "data", "xshg.csv")


@cache
def xshg_calendar() -> Calendar:
    """Load the Shanghai (and Shenzhen) trading days 1991-01-01 .. 2026-12-31.

    The span is every whole year ``exchange_calendars`` lists holidays for
    (``dev/make_xshg_calendar.py`` regenerates the file). A date beyond it raises
    :class:`~vizflow.CalendarError` in every calendar function, naming the ways to extend it
    (:func:`~vizflow.calendar.for_market` extends it by itself when the installed
    exchange_calendars knows more). The calendar is immutable and loaded once per process.

    Returns
    -------
    Calendar
        Named ``"XSHG"``.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.datasets.xshg_calendar()
    >>> cal
    Calendar('XSHG', 19910101..20261231, 8788 sessions)
    >>> cal.next_session("20190201")  # the 2019 Spring Festival
    '20190211'
    """
    path = resources.files("vizflow").joinpath(*_FILE)
    with resources.as_file(path) as file:
        return dataclasses.replace(load(file), name="XSHG")


@cache
def xshg_written_by() -> str | None:
    """Return the exchange_calendars version that wrote the shipped XSHG file (its header says).

    An installed exchange_calendars of this version knows no more than the file, so
    :func:`~vizflow.calendar.for_market` need not import it (pandas and all) to find out.

    Returns
    -------
    str or None
        The version, e.g. ``"4.13.2"``; None if the header does not say.

    Examples
    --------
    >>> xshg_written_by()
    '4.13.2'
    """
    header = resources.files("vizflow").joinpath(*_FILE).read_text(encoding="utf-8").splitlines()[:5]
    found = re.search(r"exchange_calendars (\S+) ", "\n".join(header))
    return found[1] if found else None
