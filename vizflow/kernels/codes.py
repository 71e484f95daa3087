"""Dense codes of integer values through a lookup table: the compiled half of key coding.

Keys whose physical values fall in a small range (symbol codes such as 600519, Categorical
codes, dates) are coded in two linear passes over a table of that range, instead of a hash or a
sort: one marks the values present, one reads each row's rank back. Two integer key columns
already sorted (a frame and its reference, both in key order) are coded by one merge pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def dense_ints_nb(values: np.ndarray, low: int, span: int, codes_out: np.ndarray) -> int:
    """Write ``1..k`` to ``codes_out``: each value's rank among the distinct values; return ``k``.

    Every value lies in ``low .. low + span - 1``; ranks follow value order.
    """
    rank = np.zeros(span, np.int64)
    for i in range(values.size):
        rank[values[i] - low] = 1
    k = 0
    for j in range(span):
        if rank[j]:
            k += 1
            rank[j] = k
    for i in range(values.size):
        codes_out[i] = rank[values[i] - low]
    return k


@njit(cache=True)
def first_seen_nb(values: np.ndarray, span: int, codes_out: np.ndarray) -> np.ndarray:
    """Code the distinct values ``1..m`` by first appearance; return the row of each first one.

    Values lie in ``0 .. span - 1``; the value ``span - 1`` stands for null and gets code 0.
    """
    seen = np.zeros(span, np.int64)
    first = np.empty(min(values.size, span), np.int64)
    m = 0
    for i in range(values.size):
        v = values[i]
        if v == span - 1:
            codes_out[i] = 0
            continue
        if seen[v] == 0:
            first[m] = i
            m += 1
            seen[v] = m
        codes_out[i] = seen[v]
    return first[:m]


@njit(cache=True, nogil=True)
def merge_codes_nb(a: np.ndarray, b: np.ndarray, codes_a: np.ndarray, codes_b: np.ndarray) -> int:
    """Code two ascending integer arrays together: ``1..k`` in value order; return ``k``, or -1.

    One merge pass over both (no concatenation, no table): equal values get one code, on either
    side. Returns -1 as soon as either array decreases (``codes_*`` then hold nothing useful),
    so unsorted keys fall back to a general coding.

    Examples
    --------
    >>> a, b = np.array([1, 1, 5]), np.array([0, 5, 9])
    >>> codes_a, codes_b = np.empty(3, np.int64), np.empty(3, np.int64)
    >>> merge_codes_nb(a, b, codes_a, codes_b), codes_a.tolist(), codes_b.tolist()
    (4, [2, 2, 3], [1, 3, 4])
    """
    i, j, n, m = 0, 0, a.size, b.size
    k = 0
    while i < n or j < m:
        v = a[i] if i < n and (j >= m or a[i] <= b[j]) else b[j]
        k += 1
        while i < n and a[i] == v:
            codes_a[i] = k
            i += 1
        while j < m and b[j] == v:
            codes_b[j] = k
            j += 1
        if (i < n and a[i] < v) or (j < m and b[j] < v):
            return -1
    return k


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels with the argument types the wrapper uses."""
    dense_ints_nb(np.zeros(1, np.int64), 0, 1, np.empty(1, np.int64))
    merge_codes_nb(np.zeros(1, np.int64), np.zeros(1, np.int64), np.empty(1, np.int64), np.empty(1, np.int64))
    for dtype in (np.uint8, np.uint16, np.uint32):  # Categorical and Enum physical codes
        first_seen_nb(np.zeros(1, dtype), 2, np.empty(1, np.int64))
