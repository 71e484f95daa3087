"""Grouping rows by an integer code and ordering them by time within each group."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def group_order_nb(
    codes: np.ndarray, n_groups: int, time: np.ndarray, order_out: np.ndarray, offsets_out: np.ndarray
) -> bool:
    """Stable order of rows by (code, time); returns whether it is the identity.

    ``codes`` are in ``0..n_groups-1``. A counting sort places rows by code (O(n)); each group is
    then stably sorted by ``time`` (merge sort) unless it already is. NaN times sort last.
    ``offsets_out`` (``int64[n_groups + 1]``) receives the CSR group boundaries.
    """
    n = codes.size
    offsets_out[:] = 0
    for i in range(n):
        offsets_out[codes[i] + 1] += 1
    for g in range(n_groups):
        offsets_out[g + 1] += offsets_out[g]
    fill = offsets_out[:-1].copy()
    identity = True
    for i in range(n):
        c = codes[i]
        order_out[fill[c]] = i
        if fill[c] != i:
            identity = False
        fill[c] += 1
    for g in range(n_groups):
        lo = offsets_out[g]
        hi = offsets_out[g + 1]
        in_order = True
        for k in range(lo + 1, hi):
            a = time[order_out[k - 1]]
            b = time[order_out[k]]
            if b < a or (math.isnan(a) and not math.isnan(b)):  # out of order, or NaN first
                in_order = False
                break
        if not in_order:
            seg = order_out[lo:hi].copy()
            idx = np.argsort(time[seg], kind="mergesort")
            for k in range(hi - lo):
                order_out[lo + k] = seg[idx[k]]
            identity = False
    return identity


@njit(cache=True)
def sort_segments_nb(offsets: np.ndarray, time: np.ndarray, order_out: np.ndarray) -> bool:
    """Stable order by ``time`` within each segment of already-grouped rows; identity or not.

    For rows already grouped (``offsets`` from the runs of a sorted group column): each segment
    is checked in O(length) and merge-sorted only if it is out of order. NaN times sort last.
    """
    identity = True
    for i in range(order_out.size):
        order_out[i] = i
    for g in range(offsets.size - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        for k in range(lo + 1, hi):
            a = time[k - 1]
            b = time[k]
            if b < a or (math.isnan(a) and not math.isnan(b)):
                idx = np.argsort(time[lo:hi], kind="mergesort")
                for j in range(hi - lo):
                    order_out[lo + j] = lo + idx[j]
                identity = False
                break
    return identity
