"""First-in-first-out matching of fills into round trips, per symbol, in one compiled pass."""

from __future__ import annotations

import numpy as np
from numba import njit

OK = -1
"""Status of a successful run (otherwise the sorted position of the offending fill)."""


@njit(cache=True)
def fifo_match_nb(
    offsets: np.ndarray,
    direction: np.ndarray,
    qty: np.ndarray,
    strict: bool,
    qty_tol: float,
    carrier_out: np.ndarray,
    entry_out: np.ndarray,
    qty_out: np.ndarray,
    closed_out: np.ndarray,
    lot_dir_out: np.ndarray,
    lot_row: np.ndarray,
    lot_qty: np.ndarray,
) -> tuple[int, int]:
    """Match fills FIFO within each segment; return ``(rows written, status)``.

    ``direction`` is +1 for a fill on the entry side and -1 on the exit side. Position-aware
    (``strict=False``): a fill against the open lots' direction closes them oldest first and any
    excess opens a lot in its own direction (a flip). ``strict=True``: +1 fills only open lots and
    -1 fills only close them; an exit larger than the open position stops with its position as
    the status.

    Each output row ``k`` is a match (``closed_out[k]``: ``carrier_out[k]`` is the closing fill)
    or a lot still open at the segment's end (``carrier_out[k]`` is its opening fill);
    ``entry_out[k]`` is the lot's opening fill, ``qty_out[k]`` the matched or open quantity,
    ``lot_dir_out[k]`` the lot's direction. Remainders of at most ``qty_tol`` count as zero.
    Output capacity must be ``2 * n``; ``lot_row``/``lot_qty`` are scratch of length ``n``
    (a queue of open lots that restarts at each segment).
    """
    k = 0
    for g in range(offsets.size - 1):
        head = 0  # the open lots are lot_row[head:tail], all in direction lots_dir
        tail = 0
        lots_dir = 0
        for i in range(offsets[g], offsets[g + 1]):
            d = direction[i]
            remaining = qty[i]
            if tail > head and d != lots_dir:
                while remaining > qty_tol and head < tail:
                    take = min(remaining, lot_qty[head])
                    carrier_out[k] = i
                    entry_out[k] = lot_row[head]
                    qty_out[k] = take
                    closed_out[k] = True
                    lot_dir_out[k] = lots_dir
                    k += 1
                    remaining -= take
                    lot_qty[head] -= take
                    if lot_qty[head] <= qty_tol:
                        head += 1
            if remaining > qty_tol:
                if strict and d < 0:
                    return k, i
                if head == tail:
                    head = 0
                    tail = 0
                    lots_dir = d
                lot_row[tail] = i
                lot_qty[tail] = remaining
                tail += 1
        for j in range(head, tail):
            carrier_out[k] = lot_row[j]
            entry_out[k] = lot_row[j]
            qty_out[k] = lot_qty[j]
            closed_out[k] = False
            lot_dir_out[k] = lots_dir
            k += 1
    return k, OK
