"""Trading calendars shipped with vizflow (``data/PROVENANCE.md``); built in :mod:`vizflow.calendar`."""

from __future__ import annotations

from vizflow.calendar.shipped import xshg_calendar

__all__ = ["xshg_calendar"]
