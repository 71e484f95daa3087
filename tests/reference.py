"""Slow, obviously correct row-loop references, one per algorithm.

A reference never imports the code it checks (only plain Python, numpy and the standard library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt


def cn_elapsed_seconds(t: dt.time) -> float:
    """CN A-share clock by hand: 09:30-11:30 then 13:00-15:00, clamped outside the sessions."""
    s = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    morning_open, morning_close = 9.5 * 3600, 11.5 * 3600
    afternoon_open, afternoon_close = 13 * 3600, 15 * 3600
    if s <= morning_open:
        return 0.0
    if s <= morning_close:
        return s - morning_open
    if s <= afternoon_open:
        return 7200.0
    if s <= afternoon_close:
        return 7200.0 + s - afternoon_open
    return 14400.0
