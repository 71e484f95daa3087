"""Every measure of ``spread_decomposition`` in one pass over the trades' rows.

Per row: the trade price ``P``, its side (-1, 0, 1; 0 for none), the mid ``M_t`` and the quoted
spread ``S_t = A_t - B_t`` in force, and the mid ``M_{t+h}`` at each later horizon, all float64
with NaN for null. The measures are formed exactly as the expressions they replace
(``w * (x - y)`` with ``w = 2 D / M_t`` or ``2 D / S_t``), so the answers are the same to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf or NaN, as in Polars
def spread_measures_nb(
    price: np.ndarray,
    side: np.ndarray,
    mid_now: np.ndarray,
    spread: np.ndarray,
    mid_later: np.ndarray,
    later_of: np.ndarray,
    quoted: bool,
    start: int,
    stop: int,
    measures_out: np.ndarray,
) -> int:
    """Write rows ``start..stop-1`` of every measure into ``measures_out``; return a bad side's row or -1.

    ``mid_later[k]`` is the mid at the ``k``-th later horizon; ``later_of[j]`` says which one the
    ``j``-th horizon reads (-1: horizon 0, the mid in force). ``measures_out`` rows: with
    ``quoted``, ``quoted_spread``, then ``effective_spread``, then ``realized_spread`` and
    ``price_impact`` per horizon, then those again in units of the half spread (``_hs``: NaN where
    ``S_t <= 0``); without it, the relative measures only. A side other than -1, 0, 1 (NaN too)
    stops the pass at that row. NaN marks a null.
    """
    n_h = later_of.size
    per = 1 + 2 * n_h  # relative measures
    base = 1 if quoted else 0
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
        p = price[i]
        w = 2.0 * d / m
        w_hs = nan
        if quoted:
            q = spread[i]
            measures_out[0, i] = q / m
            if q > 0:
                w_hs = 2.0 * d / q
        move = p - m
        measures_out[base, i] = w * move
        if quoted:
            measures_out[base + per, i] = w_hs * move
        for j in range(n_h):
            k = later_of[j]
            later = m if k < 0 else mid_later[k, i]
            realized = p - later
            impact = later - m
            measures_out[base + 1 + 2 * j, i] = w * realized
            measures_out[base + 2 + 2 * j, i] = w * impact
            if quoted:
                measures_out[base + per + 1 + 2 * j, i] = w_hs * realized
                measures_out[base + per + 2 + 2 * j, i] = w_hs * impact
    return -1


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for its wrapper's arrays (inputs read-only)."""
    one = np.ones(1)
    one.flags.writeable = False
    later = np.ones((1, 1))
    later.flags.writeable = False
    spread_measures_nb(one, one, one, one, later, np.zeros(1, np.int64), True, 0, 1, np.empty((5, 1)))
