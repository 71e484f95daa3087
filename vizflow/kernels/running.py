"""Generic per-row and per-segment passes that call a user's compiled rule.

These take the user's jitted function as an argument, so numba specialises them per function
(first-class function types defeat ``cache=True``, numba #6264). The enrichment engine memoises
the compiled user functions per process, so each rule compiles once.

Each pass writes the position it is about to compute into ``pos_out[0]``, so that when the user's
function raises (``ZeroDivisionError``) the wrapper can name the row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

WRAP = 2.0**62
"""A gap between an integer value and its float64 shadow that only wrapping around explains."""


@njit
def running_nb(
    offsets: np.ndarray,
    records: np.ndarray,
    initial,  # noqa: ANN001
    update,  # noqa: ANN001
    out: np.ndarray,
    pos_out: np.ndarray,
) -> None:
    """``out[i] = update(prev, records[i])`` with ``prev`` reset to ``initial`` at each segment."""
    for g in range(offsets.size - 1):
        prev = initial
        for i in range(offsets[g], offsets[g + 1]):
            pos_out[0] = i
            prev = update(prev, records[i])
            out[i] = prev


@njit
def running_checked_nb(
    offsets: np.ndarray,
    records: np.ndarray,
    initial,  # noqa: ANN001
    update,  # noqa: ANN001
    out: np.ndarray,
    pos_out: np.ndarray,
) -> int:
    """:func:`running_nb` for an integer value, checked for overflow; returns -1 or the row.

    Beside the integer value the pass carries a float64 shadow, ``update`` applied to a float
    state: where the two differ by more than :data:`WRAP`, the integer value has wrapped around
    (a sum past 2**63, a UInt64 below 0); the pass stops and returns that position.
    """
    for g in range(offsets.size - 1):
        prev = initial
        shadow = float(initial)
        for i in range(offsets[g], offsets[g + 1]):
            pos_out[0] = i
            prev = update(prev, records[i])
            shadow = update(shadow, records[i])
            out[i] = prev
            if abs(float(prev) - shadow) > WRAP:
                return i
    return -1


@njit
def condition_nb(records: np.ndarray, condition, out: np.ndarray, pos_out: np.ndarray) -> None:  # noqa: ANN001
    """``out[i] = condition(records[i])`` for every row (no state, so no segments)."""
    for i in range(records.size):
        pos_out[0] = i
        out[i] = condition(records[i])
