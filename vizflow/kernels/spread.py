"""``spread_decomposition``'s measures, written over the levels its lookup found, a row run at a time.

The lookup leaves its levels in the rows of the output block (``float64[n_out, n]``, NaN for
null) where the measures made from them go: the mid in force ``M_t`` in the effective spread's
row, the quoted spread ``S_t = A_t - B_t`` in the quoted spread's row, the mid ``M_{t+h}`` of each
later horizon in that horizon's realized spread row. One pass then reads them and writes every
measure in their place, so the levels cost no memory of their own.

Each measure is formed as the Polars expression it stands for, a weight times a move: ``2 D /
M_t`` (``2 D / S_t`` for the ``_hs`` ones, NaN where ``S_t <= 0``) times ``P - M_t``, ``P -
M_{t+h}`` or ``M_{t+h} - M_t``, the same to the bit as ``(2 * d / m) * (p - m)`` in Polars.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TILE = 2048  # rows a tile: its inputs stay in cache while every horizon's measures are written


@njit(cache=True, nogil=True, inline="always")
def _direction_nb(s: float) -> float:
    """Return the direction of a checked side: NaN for 0 (none), else the side."""
    return np.nan if s == 0 else float(s)


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf or NaN, as in Polars
def spread_measures_nb(
    side: np.ndarray,
    price: np.ndarray,
    block: np.ndarray,
    effective_row: int,
    quoted_row: int,
    realized_rows: np.ndarray,
    impact_rows: np.ndarray,
    at_t: np.ndarray,
    hs_shift: int,
    start: int,
    stop: int,
) -> int:
    """Write rows ``start..stop-1`` of the measures over their levels; return a bad side's row or -1.

    ``block[effective_row]`` holds ``M_t`` and becomes ``effective_spread = 2 D / M_t * (P -
    M_t)``. Horizon ``k`` reads ``M_{t+h}`` from ``block[realized_rows[k]]`` (``M_t`` where
    ``at_t[k]``: a horizon of 0) and writes ``realized = 2 D / M_t * (P - M_{t+h})`` there and
    ``impact = 2 D / M_t * (M_{t+h} - M_t)`` to ``block[impact_rows[k]]``. With
    ``quoted_row >= 0``, ``block[quoted_row]`` holds ``S_t`` and becomes ``S_t / M_t``, and each
    measure's ``_hs`` twin (weight ``2 D / S_t``) goes ``hs_shift`` rows below it. A side other
    than -1, 0, 1 (NaN too) stops the pass at that row before anything of its tile is written.
    """
    nan = np.nan
    quoted = quoted_row >= 0
    for lo in range(start, stop, TILE):
        hi = min(lo + TILE, stop)
        for i in range(lo, hi):
            s = side[i]
            if not (s == 0 or s in (1, -1)):
                return i
        for k in range(realized_rows.size):  # M_t is overwritten last
            r, c, now = realized_rows[k], impact_rows[k], at_t[k]
            for i in range(lo, hi):
                d = _direction_nb(side[i])
                m = block[effective_row, i]
                mid_later = m if now else block[r, i]
                kept = price[i] - mid_later
                moved = mid_later - m
                w = 2.0 * d / m
                block[r, i] = w * kept
                block[c, i] = w * moved
                if quoted:
                    q = block[quoted_row, i]
                    w_hs = 2.0 * d / q if q > 0 else nan
                    block[r + hs_shift, i] = w_hs * kept
                    block[c + hs_shift, i] = w_hs * moved
        for i in range(lo, hi):
            d = _direction_nb(side[i])
            m = block[effective_row, i]
            move = price[i] - m
            block[effective_row, i] = 2.0 * d / m * move
            if quoted:
                q = block[quoted_row, i]
                block[effective_row + hs_shift, i] = (2.0 * d / q if q > 0 else nan) * move
                block[quoted_row, i] = q / m
    return -1


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for its wrapper's arrays.

    The side and the price come read-only (Int8 sides as they are, others as float64).
    """
    price = np.ones(1)
    price.flags.writeable = False
    rows, at_t = np.zeros(1, np.int64), np.zeros(1, np.bool_)
    for dtype in (np.int8, np.float64):
        side = np.ones(1, dtype)
        side.flags.writeable = False
        spread_measures_nb(side, price, np.ones((3, 1)), 0, -1, rows + 1, rows + 2, at_t, 0, 0, 1)
