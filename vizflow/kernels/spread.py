"""``spread_decomposition``'s measures, written over the levels its lookup found, a row run at a time.

The lookup leaves its levels in rows of the output block (``float64[n_out, n]``, NaN for null)
that measures made from them then take: the mid in force ``M_t`` becomes the effective spread,
the quoted spread ``S_t = A_t - B_t`` the relative quoted spread, the mid ``M_{t+h}`` of each later
horizon that horizon's realized spread. One pass reads them and writes every measure, so the
levels cost no memory of their own.

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
    rows: np.ndarray,
    realized_rows: np.ndarray,
    impact_rows: np.ndarray,
    at_t: np.ndarray,
    start: int,
    stop: int,
) -> int:
    """Write rows ``start..stop-1`` of the measures over their levels; return a bad side's row or -1.

    ``rows = [effective, quoted, effective_hs]`` (``quoted < 0``: no quoted spread and no
    ``_hs`` measures). ``block[effective]`` holds ``M_t`` and becomes ``effective_spread = 2 D /
    M_t * (P - M_t)``. Horizon ``k`` reads ``M_{t+h}`` from ``block[realized_rows[0, k]]``
    (``M_t`` where ``at_t[k]``: a horizon of 0) and writes ``realized = 2 D / M_t * (P -
    M_{t+h})`` there and ``impact = 2 D / M_t * (M_{t+h} - M_t)`` to
    ``block[impact_rows[0, k]]``. With a quoted row, ``block[quoted]`` holds ``S_t`` and becomes
    ``S_t / M_t``, and the measures with the weight ``2 D / S_t`` go to ``effective_hs``,
    ``realized_rows[1, k]`` and ``impact_rows[1, k]``. A side other than -1, 0, 1 (NaN too)
    stops the pass at that row before anything of its tile is written.
    """
    nan = np.nan
    effective, quoted_row, effective_hs = rows[0], rows[1], rows[2]
    quoted = quoted_row >= 0
    for lo in range(start, stop, TILE):
        hi = min(lo + TILE, stop)
        for i in range(lo, hi):
            s = side[i]
            if not (s == 0 or s in (1, -1)):
                return i
        for k in range(at_t.size):  # M_t is overwritten last
            r, c, now = realized_rows[0, k], impact_rows[0, k], at_t[k]
            for i in range(lo, hi):
                d = _direction_nb(side[i])
                m = block[effective, i]
                mid_later = m if now else block[r, i]
                kept = price[i] - mid_later
                moved = mid_later - m
                w = 2.0 * d / m
                block[r, i] = w * kept
                block[c, i] = w * moved
                if quoted:
                    q = block[quoted_row, i]
                    w_hs = 2.0 * d / q if q > 0 else nan
                    block[realized_rows[1, k], i] = w_hs * kept
                    block[impact_rows[1, k], i] = w_hs * moved
        for i in range(lo, hi):
            d = _direction_nb(side[i])
            m = block[effective, i]
            move = price[i] - m
            block[effective, i] = 2.0 * d / m * move
            if quoted:
                q = block[quoted_row, i]
                block[effective_hs, i] = (2.0 * d / q if q > 0 else nan) * move
                block[quoted_row, i] = q / m
    return -1


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for its wrapper's arrays.

    The side and the price come read-only (Int8 sides as they are, others as float64).
    """
    price = np.ones(1)
    price.flags.writeable = False
    rows, at_t = np.array([0, -1, -1], np.int64), np.zeros(1, np.bool_)  # not quoted: no _hs rows
    realized, impact = np.ones((2, 1), np.int64), np.full((2, 1), 2, np.int64)
    for dtype in (np.int8, np.float64):
        side = np.ones(1, dtype)
        side.flags.writeable = False
        spread_measures_nb(side, price, np.ones((3, 1)), rows, realized, impact, at_t, 0, 1)
