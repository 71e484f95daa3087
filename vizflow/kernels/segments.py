"""Grouping rows by an integer code and ordering them by time within each group.

One pass places the rows by code (a stable counting sort) and carries their times along, so that
each group's times can then be checked in order, sequentially. Only a group found out of order
is sorted, by a stable LSD radix sort on its times' order-preserving integer keys (bytes on
which all the group's keys agree are skipped), so time-ordered input (a feed, every symbol
interleaved) costs one counting sort, and shuffled input a few linear passes per group instead
of a comparison sort.

Times arrive as int64: integer times as they are, float64 times as their bit patterns
(``times.view(np.int64)`` with ``is_float=True``). A float's key orders it numerically, with
-0.0 equal to 0.0 and every NaN last; equal keys keep their input order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SIGN = np.int64(-(2**63))  # the sign bit
_LOW63 = np.int64(2**63 - 1)  # every bit but the sign
_INF_BITS = np.int64(0x7FF0000000000000)  # float64 +inf; larger magnitudes are NaN
_SMALL = 32  # groups up to this size are insertion-sorted (a radix pass costs 256 counters)


@njit(cache=True)
def _key_nb(bits: np.int64, is_float: bool) -> np.int64:
    """Order-preserving signed key of a time (int64 value, or float64 bit pattern)."""
    if not is_float:
        return bits
    if bits & _LOW63 > _INF_BITS:  # NaN of either sign: last
        return _LOW63
    if bits < 0:  # negative floats order backwards as integers; -0.0 (key -1) equals 0.0
        key = bits ^ _LOW63
        return np.int64(0) if key == -1 else key
    return bits


@njit(cache=True)
def _bits_nb(key: np.int64, is_float: bool) -> np.int64:
    """Inverse of ``_key_nb``: the time's int64 value or float64 bit pattern (canonical NaN, +0.0)."""
    if is_float and key < 0:
        return key ^ _LOW63
    return key


@njit(cache=True)
def _insertion_sort_nb(keys: np.ndarray, rows: np.ndarray, lo: int, hi: int) -> None:
    """Stable in-place sort of ``keys[lo:hi]`` carrying ``rows``."""
    for i in range(lo + 1, hi):
        k, r = keys[i], rows[i]
        j = i - 1
        while j >= lo and keys[j] > k:
            keys[j + 1] = keys[j]
            rows[j + 1] = rows[j]
            j -= 1
        keys[j + 1] = k
        rows[j + 1] = r


@njit(cache=True)
def _radix_sort_nb(
    keys: np.ndarray,
    rows: np.ndarray,
    lo: int,
    hi: int,
    spare_keys: np.ndarray,
    spare_rows: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Stable LSD radix sort of the int64 ``keys[lo:hi]`` carrying ``rows``, in place.

    ``spare_*`` hold at least ``hi - lo`` items; ``counts`` is ``int64[8, 256]``. One pass counts
    all eight bytes; a byte whose values all fall in one bucket needs no pass.
    """
    m = hi - lo
    counts[:, :] = 0
    for i in range(lo, hi):
        u = keys[i] ^ _SIGN
        for b in range(8):
            counts[b, (u >> (8 * b)) & 255] += 1
    src_k, src_r, src_lo = keys, rows, lo
    dst_k, dst_r, dst_lo = spare_keys, spare_rows, 0
    passes = 0
    for b in range(8):
        if counts[b, ((src_k[src_lo] ^ _SIGN) >> (8 * b)) & 255] == m:
            continue
        total = 0
        for v in range(256):
            c = counts[b, v]
            counts[b, v] = total
            total += c
        for i in range(src_lo, src_lo + m):
            k = src_k[i]
            v = ((k ^ _SIGN) >> (8 * b)) & 255
            p = dst_lo + counts[b, v]
            counts[b, v] += 1
            dst_k[p] = k
            dst_r[p] = src_r[i]
        src_k, src_r, src_lo, dst_k, dst_r, dst_lo = dst_k, dst_r, dst_lo, src_k, src_r, src_lo
        passes += 1
    if passes % 2:  # an odd number of passes left the result in the spare buffers
        keys[lo:hi] = src_k[src_lo : src_lo + m]
        rows[lo:hi] = src_r[src_lo : src_lo + m]


@njit(cache=True, nogil=True)
def group_order_nb(
    codes: np.ndarray,
    n_groups: int,
    times: np.ndarray,
    is_float: bool,
    order_out: np.ndarray,
    offsets_out: np.ndarray,
    keys_out: np.ndarray,
) -> bool:
    """Place rows by code (stable counting sort); return whether no row moved.

    ``codes`` are in ``0..n_groups-1``; ``times`` is int64 (integer times, or float64 bit
    patterns with ``is_float``). ``order_out[k]`` receives the input row at position ``k``,
    ``offsets_out`` (``int64[n_groups + 1]``) the CSR group boundaries and ``keys_out`` the
    times' sort keys in that order, for :func:`sort_groups_nb` to finish.
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
        k = fill[c]
        order_out[k] = i
        keys_out[k] = _key_nb(times[i], is_float)
        if k != i:
            identity = False
        fill[c] = k + 1
    return identity


@njit(cache=True, nogil=True)
def sort_groups_nb(offsets: np.ndarray, is_float: bool, keys: np.ndarray, order: np.ndarray) -> bool:
    """Stably sort each group of ``offsets`` by key, carrying ``order``; return whether all were sorted.

    Works in place on the groups' rows (``offsets[0]:offsets[-1]``, so that disjoint runs of
    groups can be sorted in parallel threads) and turns their keys back into times (int64
    values or float64 bit patterns; NaN canonical, -0.0 as 0.0).
    """
    largest = 0
    for g in range(offsets.size - 1):
        largest = max(largest, offsets[g + 1] - offsets[g])
    spare_keys = np.empty(largest, np.int64)
    spare_rows = np.empty(largest, np.int64)
    counts = np.empty((8, 256), np.int64)
    in_order = True
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        for k in range(lo + 1, hi):
            if keys[k] < keys[k - 1]:
                if hi - lo <= _SMALL:
                    _insertion_sort_nb(keys, order, lo, hi)
                else:
                    _radix_sort_nb(keys, order, lo, hi, spare_keys, spare_rows, counts)
                in_order = False
                break
    if is_float:
        for k in range(offsets[0], offsets[-1]):
            keys[k] = _bits_nb(keys[k], is_float)
    return in_order


@njit(cache=True, nogil=True)
def sorted_offsets_nb(codes: np.ndarray, times: np.ndarray, offsets_out: np.ndarray) -> bool:
    """Tell whether rows are already in (code, time) order; if so write their CSR offsets.

    One pass over ``codes`` (in ``0..offsets_out.size - 2``) and float64 (or int64) ``times``: True when
    the codes never decrease and the times never decrease within a code, with no NaN and no
    -0.0 anywhere (rows :func:`group_order_nb` and :func:`sort_groups_nb` would leave where
    they are, with their times unchanged). ``offsets_out`` is then what
    :func:`group_order_nb` writes; on False it holds nothing useful.
    """
    n = codes.size
    offsets_out[:] = 0
    prev_code = np.int64(0)
    prev_time = -math.inf
    for i in range(n):
        c = codes[i]
        t = times[i]
        if math.isnan(t) or (t == 0.0 and math.copysign(1.0, t) < 0.0):
            return False
        if c != prev_code:
            if c < prev_code:
                return False
            prev_code = c
        elif t < prev_time:
            return False
        prev_time = t
        offsets_out[c + 1] += 1
    for g in range(offsets_out.size - 1):
        offsets_out[g + 1] += offsets_out[g]
    return True


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels for integer and float times."""
    offsets = np.array([0, 2], np.int64)
    for is_float in (False, True):
        keys, order = np.empty(2, np.int64), np.empty(2, np.int64)
        group_order_nb(
            np.zeros(2, np.int64), 1, np.array([1, 0], np.int64), is_float, order, offsets.copy(), keys
        )
        sort_groups_nb(offsets, is_float, keys, order)
    for times in (np.array([0.0, 1.0]), np.array([0, 1], np.int64)):
        sorted_offsets_nb(np.zeros(2, np.int64), times, np.empty(2, np.int64))
