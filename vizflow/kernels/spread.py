"""The weights of ``spread_decomposition``'s measures, the side checked, in one pass over the rows.

Per row: the side (-1, 0, 1; 0 for none), the mid ``M_t`` and the quoted spread ``S_t = A_t - B_t``
in force, float64 with NaN for null. The weights are formed exactly as the Polars expressions they
replace (``2 D / M_t``, ``S_t / M_t``, ``2 D / S_t``), so every measure ``w * (x - y)`` Polars then
forms from them is the same to the bit. (A pass writing all 19 measures as well was tried and
measured slower: its fresh numpy output pages cost more than Polars' arithmetic on reused memory.)
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf or NaN, as in Polars
def spread_weights_nb(
    side: np.ndarray,
    mid_now: np.ndarray,
    spread: np.ndarray,
    quoted: bool,
    start: int,
    stop: int,
    weights_out: np.ndarray,
) -> int:
    """Write rows ``start..stop-1`` of the weights; return a bad side's row or -1.

    ``weights_out[0] = 2 D / M_t``; with ``quoted``, ``weights_out[1] = S_t / M_t`` (the quoted
    spread) and ``weights_out[2] = 2 D / S_t`` (NaN where ``S_t <= 0``). A side other than -1, 0,
    1 (NaN too) stops the pass at that row. NaN marks a null.
    """
    nan = np.nan
    for i in range(start, stop):
        s = side[i]
        if s == 0.0:
            d = nan
        elif s in (1.0, -1.0):
            d = s
        else:
            return i
        m = mid_now[i]
        weights_out[0, i] = 2.0 * d / m
        if quoted:
            q = spread[i]
            weights_out[1, i] = q / m
            weights_out[2, i] = 2.0 * d / q if q > 0 else nan
    return -1


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for its wrapper's arrays (inputs read-only)."""
    one = np.ones(1)
    one.flags.writeable = False
    spread_weights_nb(one, one, one, True, 0, 1, np.empty((3, 1)))
