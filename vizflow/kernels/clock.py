"""The session clock in one compiled pass: decode, validate and map times of day to elapsed seconds."""

from __future__ import annotations

import numpy as np
from numba import njit

VALID = 0
"""Status of a time inside a session, or outside one when ``outside`` is not checked."""

INVALID = 1
"""Status of a value that is not a time of day (a negative value, HH >= 24, MM >= 60, SS >= 60)."""

OUTSIDE = 2
"""Status of a valid time outside every session."""

SESSION_WIDTHS = (2, 4)
"""The session counts the kernel is compiled for (callers pad with empty sessions; more compile)."""


@njit(cache=True, nogil=True)
def session_clock_nb(
    values: np.ndarray,
    hhmmssmmm: bool,
    anchor: int,
    starts: tuple[int, ...],
    lengths: tuple[int, ...],
    split: int,
    day: int,
    unit: float,
    lo_closed: bool,
    hi_closed: bool,
    null_outside: bool,
    seconds_out: np.ndarray,
    status_out: np.ndarray,
) -> int:
    """Write each time's elapsed session seconds to ``seconds_out``; return how many are NaN.

    ``values`` are int64 HHMMSSmmm integers (``hhmmssmmm``) or times of day in units of
    ``1 / unit`` seconds since midnight; a negative value is not a time of day (callers pass
    ``-1`` for a null). The day axis (``anchor``, ``starts``, ``lengths``, ``split``, ``day``) is
    :attr:`vizflow.Market.layout` in the same units: the position of a time is its distance from
    ``anchor`` modulo ``day``, one ``day`` earlier from ``split`` on, and its elapsed time is the
    sum of each session's share of ``[start, position]``, clipped to the session. The sessions
    come as tuples, so numba compiles one loop per number of sessions and unrolls it.

    ``seconds_out[i]`` is that sum divided by ``unit`` (an exact division), or NaN for a value
    that is not a time of day, and for a time outside every session if ``null_outside`` (inside
    means ``start <= position <= end``, each edge strict unless ``lo_closed`` / ``hi_closed``).
    ``status_out`` is written only if it has ``values.size`` elements: :data:`VALID`,
    :data:`INVALID` or :data:`OUTSIDE` per value.
    """
    keep_status = status_out.size == values.size
    need_inside = null_outside or keep_status
    n_nan = 0
    for i in range(values.size):
        v = values[i]
        ok = v >= 0
        tod = v
        if ok and hhmmssmmm:
            # v = HH*10^7 + MM*10^5 + SS.mmm*10^3, so the time of day in ms is
            # v - HH*6_400_000 - MM*40_000: two divisions, not six, and unsigned (v >= 0 here),
            # which spares the sign fix-up of a floor division.
            u = np.uint64(v)
            hh = np.int64(u // np.uint64(10_000_000))
            hhmm = np.int64(u // np.uint64(100_000))
            mm = hhmm - hh * 100
            ok = (hh < 24) & (mm < 60) & (v - hhmm * 100_000 < 60_000)  # noqa: PLR2004
            tod = v - hh * 6_400_000 - mm * 40_000
        if not ok:
            seconds_out[i] = np.nan
            n_nan += 1
            if keep_status:
                status_out[i] = INVALID
            continue
        pos = tod if anchor == 0 else (tod - anchor) % day
        if pos >= split:
            pos -= day
        elapsed = 0
        for k in range(len(starts)):
            elapsed += min(max(pos - starts[k], 0), lengths[k])
        if need_inside:
            inside = False
            for k in range(len(starts)):
                start = starts[k]
                end = start + lengths[k]
                if (pos >= start if lo_closed else pos > start) and (pos <= end if hi_closed else pos < end):
                    inside = True
            if keep_status:
                status_out[i] = VALID if inside else OUTSIDE
            if null_outside and not inside:
                seconds_out[i] = np.nan
                n_nan += 1
                continue
        seconds_out[i] = elapsed / unit
    return n_nan


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel as its wrapper calls it.

    Read-only values (the wrapper passes them so) and sessions padded to :data:`SESSION_WIDTHS`.
    """
    values = np.array([93000000, -1], np.int64)
    values.setflags(write=False)
    for width in SESSION_WIDTHS:
        sessions = tuple(range(width))
        out, status = np.empty(2), np.empty(0, np.uint8)
        session_clock_nb(values, True, 0, sessions, sessions, 2, 4, 1000.0, True, True, False, out, status)
