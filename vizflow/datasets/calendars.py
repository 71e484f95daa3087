"""Trading calendars shipped with vizflow (see ``data/PROVENANCE.md``)."""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vizflow.calendar import Calendar

__all__ = ["xshg_calendar"]


@cache
def xshg_calendar() -> Calendar:
    """Load the Shanghai (and Shenzhen) trading days 1991-01-01 .. 2026-12-31.

    The span is every whole year ``exchange_calendars`` lists holidays for
    (``dev/make_xshg_calendar.py`` regenerates the file). A date beyond it raises
    :class:`~vizflow.CalendarError` in every calendar function. The calendar is immutable and
    loaded once per process.

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
    >>> vf.calendar.next_day(cal, "20190201")  # the 2019 Spring Festival
    '20190211'
    """
    from vizflow import calendar  # vizflow.calendar imports this package lazily

    path = resources.files("vizflow.datasets") / "data" / "xshg.csv"
    with resources.as_file(path) as file:
        return dataclasses.replace(calendar.load(file), name="XSHG")
