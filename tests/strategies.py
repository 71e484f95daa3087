"""Hypothesis strategies shared by the tests: times, tick frames, fills and dates."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

times_of_day = st.times()
"""Any wall-clock time (microsecond resolution)."""

ms_times_of_day = st.integers(0, 86_400_000 - 1).map(
    lambda ms: dt.time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
)
"""Wall-clock times with millisecond resolution (what HHMMSSmmm integers can hold)."""


def to_hhmmssmmm(t: dt.time) -> int:
    """``09:30:00.123`` -> ``93000123``."""
    return t.hour * 10_000_000 + t.minute * 100_000 + t.second * 1000 + t.microsecond // 1000


def fill_streams(max_size: int = 60, symbols: str = "abc"):
    """Lists of fills ``(symbol, time, side, qty, price)``: ties in time, flips, fractional sizes."""
    qty = st.one_of(st.integers(1, 300).map(float), st.sampled_from([0.1, 0.2, 0.3, 0.25, 1.5]))
    fill = st.tuples(
        st.sampled_from(list(symbols)),
        st.integers(0, 12).map(float),
        st.sampled_from([1, -1]),
        qty,
        st.floats(1, 100, allow_nan=False).map(lambda p: round(p, 2)),
    )
    return st.lists(fill, max_size=max_size)
