"""Generic per-row and per-segment passes that call a user's compiled rule.

These take the user's jitted function as an argument, so numba specialises them per function
(first-class function types defeat ``cache=True``, numba #6264). The enrichment engine memoises
the compiled user functions per process, so each rule compiles once.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit
def running_nb(offsets: np.ndarray, records: np.ndarray, initial, update, out: np.ndarray) -> None:  # noqa: ANN001
    """``out[i] = update(prev, records[i])`` with ``prev`` reset to ``initial`` at each segment."""
    for g in range(offsets.size - 1):
        prev = initial
        for i in range(offsets[g], offsets[g + 1]):
            prev = update(prev, records[i])
            out[i] = prev


@njit
def condition_nb(records: np.ndarray, condition, out: np.ndarray) -> None:  # noqa: ANN001
    """``out[i] = condition(records[i])`` for every row (no state, so no segments)."""
    for i in range(records.size):
        out[i] = condition(records[i])
