"""Trading calendars shipped with vizflow (see ``data/PROVENANCE.md``)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

__all__ = ["xshg_calendar"]


def xshg_calendar() -> pl.DataFrame:
    """Load the Shanghai (and Shenzhen) trading days 2019-01-02 .. 2025-12-31 as a calendar frame.

    Examples
    --------
    >>> import vizflow as vf
    >>> cal = vf.datasets.xshg_calendar()
    >>> cal.height, vf.calendar.next_day(cal, "20190201")  # the 2019 Spring Festival
    (1699, '20190211')
    """
    from vizflow import calendar

    path = resources.files("vizflow.datasets") / "data" / "xshg_2019_2025.csv"
    with resources.as_file(path) as file:
        return calendar.load(file)
