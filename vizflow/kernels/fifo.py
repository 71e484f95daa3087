"""First-in-first-out matching of fills into round trips, per symbol, in one compiled pass."""

from __future__ import annotations

import numpy as np
from numba import njit

OK = -1
"""Status of a successful run (otherwise the sorted position of the offending fill)."""

ROUNDING = 2.0 * float(np.finfo(np.float64).eps)
"""Bound, relative to a fill's quantity, on the rounding each subtraction adds to its remainder."""


@njit(cache=True)
def fifo_match_nb(
    offsets: np.ndarray,
    direction: np.ndarray,
    qty: np.ndarray,
    price: np.ndarray,
    time: np.ndarray,
    row_id: np.ndarray,
    strict: bool,
    qty_tol: float,
    carrier_out: np.ndarray,
    entry_out: np.ndarray,
    qty_out: np.ndarray,
    closed_out: np.ndarray,
    lot_dir_out: np.ndarray,
    entry_time_out: np.ndarray,
    held_out: np.ndarray,
    entry_price_out: np.ndarray,
    exit_price_out: np.ndarray,
    pnl_out: np.ndarray,
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
    or a lot still open at the segment's end (``carrier_out[k]`` is its opening fill). For both:
    ``entry_out[k]`` is ``row_id`` of the lot's opening fill, ``qty_out[k]`` the matched or open
    quantity, ``lot_dir_out[k]`` the lot's direction, ``entry_time_out``/``entry_price_out`` the
    opening fill's time and price. For matches only (open lots get 0): ``held_out`` (exit time
    minus entry time, in ``time``'s dtype, so int64 nanoseconds stay exact), ``exit_price_out``
    and ``pnl_out = lot_dir * (exit - entry) * qty``.

    Quantity policy, relative to the quantities: a remainder of a fill after closing lots counts
    as zero when it is at most ``qty_tol * max(1, qty)`` of that fill's quantity, and so does the
    remainder of a lot after a close, scaled by the quantity of the fill that opened the lot, plus
    the rounding the closing fill's remainder carries (``ROUNDING`` of its quantity per lot it has
    closed: float rounding is relative to the values subtracted). So 0.1 + 0.2 closed by 0.3
    leaves no dust lot, nor do buys of 33333333.33 + 33333333.33 + 33333333.34 closed by one sell
    of 1e8, nor buys of 1249999992.63 + 5.37 closed by one sell of 1249999998 (the sell has
    5.3699998855 left for the second lot), while a real remainder of a lot stays open.

    Output capacity must be ``2 * n`` (each row either uses up a lot or ends a fill);
    ``lot_row``/``lot_qty`` are scratch of length ``n`` (a queue of open lots, restarted at
    each segment and whenever it empties).
    """
    k = 0
    for g in range(offsets.size - 1):
        head = 0  # the open lots are lot_row[head:tail], all in direction lots_dir
        tail = 0
        lots_dir = 0
        for i in range(offsets[g], offsets[g + 1]):
            d = direction[i]
            remaining = qty[i]
            tol = qty_tol * max(1.0, qty[i])
            rounding = ROUNDING * qty[i]  # carried by ``remaining``, so by what it leaves of a lot
            if tail > head and d != lots_dir:
                while remaining > tol and head < tail:
                    j = lot_row[head]
                    take = min(remaining, lot_qty[head])
                    carrier_out[k] = i
                    entry_out[k] = row_id[j]
                    qty_out[k] = take
                    closed_out[k] = True
                    lot_dir_out[k] = lots_dir
                    entry_time_out[k] = time[j]
                    held_out[k] = time[i] - time[j]
                    entry_price_out[k] = price[j]
                    exit_price_out[k] = price[i]
                    pnl_out[k] = lots_dir * (price[i] - price[j]) * take
                    k += 1
                    remaining -= take
                    lot_qty[head] -= take
                    rounding += ROUNDING * qty[i]
                    if lot_qty[head] <= qty_tol * max(1.0, qty[j]) + rounding:
                        head += 1
            if remaining > tol:
                if strict and d < 0:
                    return k, i
                if head == tail:
                    head = 0
                    tail = 0
                    lots_dir = d
                lot_row[tail] = i
                lot_qty[tail] = remaining
                tail += 1
        for h in range(head, tail):
            j = lot_row[h]
            carrier_out[k] = j
            entry_out[k] = row_id[j]
            qty_out[k] = lot_qty[h]
            closed_out[k] = False
            lot_dir_out[k] = lots_dir
            entry_time_out[k] = time[j]
            held_out[k] = 0
            entry_price_out[k] = price[j]
            exit_price_out[k] = 0.0
            pnl_out[k] = 0.0
            k += 1
    return k, OK


@njit(cache=True)
def first_bad_fill_nb(
    direction: np.ndarray,
    qty: np.ndarray,
    price: np.ndarray,
    time: np.ndarray,
    row_id: np.ndarray,
    qty_tol: float,
) -> int:
    """Position of the fill :func:`fifo_match_nb` must not see with the smallest ``row_id``, or ``OK``.

    A fill is bad when its ``direction`` is not +1 or -1 (a side neither entry nor exit), its
    quantity is not a finite number above ``qty_tol``, or its price or (float) time is not
    finite. One pass over the arrays the kernel reads anyway; the caller says why.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([1, 0, -1], np.int8)
    >>> first_bad_fill_nb(d, np.ones(3), np.ones(3), np.zeros(3), np.arange(3), 1e-9)
    1
    """
    n_bad = 0
    for i in range(qty.size):  # branch-free, so it vectorises: the usual answer is none
        n_bad += not fill_ok_nb(direction[i], qty[i], price[i], time[i], qty_tol)
    if n_bad == 0:
        return OK
    bad = OK
    first = np.iinfo(np.int64).max
    for i in range(qty.size):
        if not fill_ok_nb(direction[i], qty[i], price[i], time[i], qty_tol) and row_id[i] < first:
            first = row_id[i]
            bad = i
    return bad


@njit(inline="always")
def fill_ok_nb(d: int, q: float, p: float, t: float, qty_tol: float) -> bool:
    """Whether one fill is valid: side +/-1, finite quantity above ``qty_tol``, finite price and time.

    Comparisons only (NaN fails every one; abs of any int64 is below inf).
    """
    return (d * d == 1) & (q > qty_tol) & (q < np.inf) & (abs(p) < np.inf) & (abs(t) < np.inf)


@njit(cache=True)
def first_time_back_nb(time: np.ndarray, offsets: np.ndarray) -> int:
    """First position whose time is below the previous fill's of the same segment, or ``OK``.

    Examples
    --------
    >>> import numpy as np
    >>> first_time_back_nb(np.array([3.0, 1.0, 2.0, 1.5]), np.array([0, 1, 4]))
    3
    """
    for g in range(offsets.size - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            if time[i] < time[i - 1]:
                return i
    return OK


def warm_up() -> None:
    """Compile (or load from numba's cache) both specialisations: float64 and int64 times."""
    offsets = np.array([0, 2], np.int64)
    for time in (np.zeros(2), np.zeros(2, np.int64)):
        outs = (
            np.empty(4, np.int64), np.empty(4, np.int64), np.empty(4), np.empty(4, np.bool_),
            np.empty(4, np.int8), np.empty(4, time.dtype), np.empty(4, time.dtype),
            np.empty(4), np.empty(4), np.empty(4),
        )  # fmt: skip
        fifo_match_nb(
            offsets, np.array([1, -1], np.int8), np.ones(2), np.ones(2), time, np.arange(2),
            False, 1e-9, *outs, np.empty(2, np.int64), np.empty(2),
        )  # fmt: skip
        first_bad_fill_nb(np.ones(2, np.int8), np.ones(2), np.ones(2), time, np.arange(2), 1e-9)
        first_time_back_nb(time, offsets)
