"""Putting values computed in sorted order back in input row order."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def scatter_nb(values: np.ndarray, order: np.ndarray, out: np.ndarray) -> None:
    """``out[order[k]] = values[k]`` for every ``k`` (``order`` a permutation of the rows).

    One loop instead of numpy's fancy-index assignment, which is several times slower on a
    random permutation of millions of rows.
    """
    for k in range(order.size):
        out[order[k]] = values[k]


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for the dtypes compiled rules return."""
    order = np.array([1, 0], dtype=np.int64)
    for dtype in (np.bool_, np.int64, np.uint64, np.float64, np.int32, np.float32):
        scatter_nb(np.zeros(2, dtype=dtype), order, np.empty(2, dtype=dtype))
