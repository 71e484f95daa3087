"""Ordering rows by (key code, time) with one packed 64-bit word a row: counting sort, then radix.

Each row becomes one unsigned word, ``(time - smallest time) << row_bits | row``, placed in its
key's bucket by a stable counting sort on the code; each bucket is then sorted by the word's
time bits with a stable LSD radix sort (12-bit digits, a digit on which the whole bucket agrees
skipped), in cache, on whole buckets, so runs of buckets can be sorted in threads. The row
number rides in the low bits: moving one word moves the row and its time together, and rows
with equal times keep their input order (both sorts are stable).

Times must be integers here (integer times, or float times that are exact multiples of a
decimal unit, see :func:`exact_ints_nb`) whose span and the row numbers fit in 64 bits
together; otherwise the caller uses the general sort (``vizflow.kernels.segments``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

DIGIT = 12
"""Bits a radix pass sorts on (4,096 counters: a bucket of a few thousand rows stays in cache)."""

_LIMIT = 2.0**62  # integer times must stay well inside int64


@njit(cache=True, nogil=True)
def exact_ints_nb(times: np.ndarray, scale: float, out: np.ndarray, bounds_out: np.ndarray) -> bool:
    """Write ``round(times * scale)`` to ``out``; return whether that maps every time exactly.

    True when each time ``t`` is finite and ``round(t * scale) / scale == t``: the map is then
    strictly increasing on the times present (equal times give equal integers, a larger time
    a larger one; -0.0 and 0.0 both give 0), so ordering the integers orders the times. False
    at the first time that is not such a multiple, a NaN, an infinity or too large. On True,
    ``bounds_out`` (``int64[2]``) holds the smallest and the largest integer (``times`` not empty).
    """
    low, high = np.int64(0), np.int64(0)
    for i in range(times.size):
        t = times[i]
        v = np.round(t * scale)
        if not abs(v) < _LIMIT or v / scale != t:
            return False
        x = np.int64(v)
        out[i] = x
        if i == 0 or x < low:
            low = x
        if i == 0 or x > high:
            high = x
    bounds_out[0] = low
    bounds_out[1] = high
    return True


@njit(cache=True, nogil=True)
def bounds_nb(values: np.ndarray, bounds_out: np.ndarray) -> None:
    """Write the smallest and the largest of ``values`` (int64, not empty) to ``bounds_out``."""
    low, high = values[0], values[0]
    for i in range(1, values.size):
        x = values[i]
        low = min(low, x)
        high = max(high, x)
    bounds_out[0] = low
    bounds_out[1] = high


@njit(cache=True, nogil=True)
def count_codes_nb(codes: np.ndarray, lo: int, hi: int, counts_out: np.ndarray) -> None:
    """Count the codes of rows ``lo:hi`` into ``counts_out`` (``int64[n_keys]``, zeroed here)."""
    counts_out[:] = 0
    for i in range(lo, hi):
        counts_out[codes[i]] += 1


@njit(cache=True, nogil=True)
def place_by_code_nb(
    codes: np.ndarray,
    times: np.ndarray,
    lo: int,
    hi: int,
    fill: np.ndarray,
    smallest: int,
    row_bits: int,
    words_out: np.ndarray,
) -> None:
    """Place rows ``lo:hi`` by code (a stable counting sort), each written as its packed word.

    ``times`` int64, none below ``smallest``; row ``i`` with code ``c`` goes to ``fill[c]``
    (then advanced) as ``(times[i] - smallest) << row_bits | i``. ``fill`` starts at each
    code's first place for these rows: the rows of several parts can be placed in threads.
    """
    shift = np.uint64(row_bits)
    for i in range(lo, hi):
        c = codes[i]
        words_out[fill[c]] = (np.uint64(times[i] - smallest) << shift) | np.uint64(i)
        fill[c] += 1


@njit(cache=True, nogil=True)
def sort_buckets_nb(
    words: np.ndarray, offsets: np.ndarray, row_bits: int, time_bits: int, order_out: np.ndarray
) -> bool:
    """Stably sort each bucket ``words[offsets[g]:offsets[g + 1]]`` by bits ``row_bits..+time_bits``.

    In place; then write each word's row to ``order_out`` at its place and return whether no
    row moved. Touches only the buckets of ``offsets`` (``offsets[0]`` to ``offsets[-1]``), so
    disjoint runs of buckets can be sorted in parallel threads. A bucket already in order is
    left as it is.
    """
    largest = 0
    for g in range(offsets.size - 1):
        largest = max(largest, offsets[g + 1] - offsets[g])
    spare = np.empty(largest, np.uint64)
    size = 1 << DIGIT
    mask = np.uint64(size - 1)
    passes = max(1, (time_bits + DIGIT - 1) // DIGIT)
    counts = np.empty((passes, size), np.int64)
    low = np.uint64(row_bits)
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        m = hi - lo
        in_order = True
        for k in range(lo + 1, hi):
            if (words[k] >> low) < (words[k - 1] >> low):
                in_order = False
                break
        if in_order:
            continue
        counts[:, :] = 0
        for k in range(lo, hi):
            v = words[k] >> low
            for p in range(passes):
                counts[p, (v >> np.uint64(p * DIGIT)) & mask] += 1
        src = words[lo:hi]
        dst = spare[:m]
        moved = 0
        for p in range(passes):
            shift = np.uint64(row_bits + p * DIGIT)
            if counts[p, (src[0] >> shift) & mask] == m:  # every word has this digit
                continue
            total = 0
            for v in range(size):
                c = counts[p, v]
                counts[p, v] = total
                total += c
            for k in range(m):
                x = src[k]
                b = (x >> shift) & mask
                dst[counts[p, b]] = x
                counts[p, b] += 1
            src, dst = dst, src
            moved += 1
        if moved % 2:  # an odd number of passes left the bucket in the spare buffer
            words[lo:hi] = src
    return rows_of_nb(
        words[offsets[0] : offsets[-1]], row_bits, order_out[offsets[0] : offsets[-1]], offsets[0]
    )


@njit(cache=True, nogil=True)
def rows_of_nb(words: np.ndarray, row_bits: int, order_out: np.ndarray, first: int) -> bool:
    """Write the row of each packed word to ``order_out``; return whether word ``k`` is row ``first + k``."""
    mask = (np.uint64(1) << np.uint64(row_bits)) - np.uint64(1)
    identity = True
    for k in range(words.size):
        r = np.int64(words[k] & mask)
        order_out[k] = r
        if r != first + k:
            identity = False
    return identity


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels with the argument types the caller uses."""
    times = np.array([3, 1], np.int64)
    times.flags.writeable = False
    words, offsets, order = np.empty(2, np.uint64), np.array([0, 2], np.int64), np.empty(2, np.int64)
    bounds, counts = np.empty(2, np.int64), np.empty(1, np.int64)
    floats = np.array([0.5, 0.25])
    floats.flags.writeable = False
    exact_ints_nb(floats, 1000.0, np.empty(2, np.int64), bounds)
    bounds_nb(times, bounds)
    bounds_nb(np.array([3, 1], np.int64), bounds)
    count_codes_nb(np.zeros(2, np.int64), 0, 2, counts)
    place_by_code_nb(np.zeros(2, np.int64), times, 0, 2, np.zeros(1, np.int64), 1, 1, words)
    place_by_code_nb(
        np.zeros(2, np.int64), np.array([3, 1], np.int64), 0, 2, np.zeros(1, np.int64), 1, 1, words
    )
    sort_buckets_nb(words, offsets, 1, 2, order)
    rows_of_nb(words, 1, order, 0)
