"""Recognising rows already in (key, time) order, or in time order within each key, in one pass.

Input that arrives sorted by symbol and time (a day's file written per symbol) needs no sort:
one pass over the key and time arrays checks the order and finds where each key's rows start.
Keys arrive as int64 values that order like the grouping's codes (at most two columns, compared
lexicographically); times as int64 or float64, where a NaN sorts last and equals another NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sorted_runs_nb(
    first: np.ndarray, second: np.ndarray, n_keys: int, times: np.ndarray, offsets_out: np.ndarray
) -> int:
    """Return the number of groups if the rows are in (keys, time) order, else -1.

    ``first`` and ``second`` are the key columns (``n_keys`` of them are read: 0, 1 or 2);
    ``offsets_out`` (``int64[n + 1]``, ``n >= 1``) receives the CSR group boundaries in its first
    ``groups + 1`` entries. Rows with equal keys and equal times are in order (a stable sort
    keeps them), as are NaN times after every number.
    """
    n = times.size
    offsets_out[0] = 0
    groups = 0
    for i in range(1, n):
        if n_keys > 0:
            a, b = first[i - 1], first[i]
            if b < a:
                return -1
            new = b > a
            if not new and n_keys > 1:
                c, d = second[i - 1], second[i]
                if d < c:
                    return -1
                new = d > c
            if new:
                groups += 1
                offsets_out[groups] = i
                continue
        t0, t1 = times[i - 1], times[i]
        if t1 < t0 or (np.isnan(t0) and not np.isnan(t1)):  # only a NaN may follow a NaN
            return -1
    offsets_out[groups + 1] = n
    return groups + 1


@njit(cache=True, nogil=True)
def in_order_by_key_nb(codes: np.ndarray, n_keys: int, times: np.ndarray) -> bool:
    """Whether each key's rows (``codes`` in ``0..n_keys-1``) come in time order, keys interleaved.

    Equal times are in order, and so is a NaN after anything; a number after a NaN is not.
    """
    last = np.empty(n_keys, dtype=times.dtype)
    seen = np.zeros(n_keys, dtype=np.bool_)
    for i in range(times.size):
        c = codes[i]
        t = times[i]
        if seen[c]:
            before = last[c]
            if t < before or (np.isnan(before) and not np.isnan(t)):
                return False
        seen[c] = True
        last[c] = t
    return True


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernel for int64 and float64 times, read-only arrays."""
    keys = np.zeros(2, np.int64)
    keys.flags.writeable = False
    for times in (np.arange(2, dtype=np.int64), np.arange(2, dtype=np.float64)):
        times.flags.writeable = False
        sorted_runs_nb(keys, keys, 1, times, np.empty(3, np.int64))
        in_order_by_key_nb(np.zeros(2, np.int64), 1, times)
