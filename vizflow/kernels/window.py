"""Time windows within groups: the compiled passes behind ``forward_window``.

A window of a query row at time ``t`` and horizon ``h`` is a range ``[lo, hi)`` of source positions
(both sides sorted by (group, time)): ``(t, t + h]`` for ``h > 0`` and ``[t + h, t)`` for ``h < 0``.
Sums and counts then come from prefix sums, and minima and maxima from one monotone deque per
horizon, so every horizon costs O(n_query + n_source). The per-group passes release the GIL
(``nogil``): each reads and writes only its groups' positions, so the caller may run them on
disjoint runs of whole groups in threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def window_bounds_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    horizon: float,
    slack: float,
    lo_out: np.ndarray,
    hi_out: np.ndarray,
) -> None:
    """Source range ``[lo, hi)`` of each query's window, for one non-zero horizon.

    ``q_offsets`` and ``s_offsets`` share group numbering; both sides are sorted by time within
    a group, NaN times last. The far edge ``t + h`` is reached with a tolerance of
    ``slack * max(|t|, |h|, |t + h|)`` (a few ulps, so that 0.7 + 0.1 reaches 0.8); the near
    edge ``t`` is exact (a source row at ``t`` itself is outside). NaN source times are in no
    window; a NaN query time gets an empty window at the end of its group's timed rows. Two
    forward-moving pointers per group: O(n_query + n_source).
    """
    for g in range(q_offsets.size - 1):
        s_lo = s_offsets[g]
        end = s_offsets[g + 1]
        while end > s_lo and math.isnan(s_time[end - 1]):
            end -= 1
        a = s_lo
        b = s_lo
        for i in range(q_offsets[g], q_offsets[g + 1]):
            t = q_time[i]
            if math.isnan(t):
                lo_out[i] = end
                hi_out[i] = end
                continue
            target = t + horizon
            tol = slack * max(abs(t), abs(horizon), abs(target))
            if horizon > 0.0:
                while a < end and s_time[a] <= t:
                    a += 1
                while b < end and s_time[b] <= target + tol:
                    b += 1
            else:
                while a < end and s_time[a] < target - tol:
                    a += 1
                while b < end and s_time[b] < t:
                    b += 1
            lo_out[i] = a
            hi_out[i] = max(a, b)


@njit(cache=True)
def prefix_sums_nb(
    values: np.ndarray,
    valid: np.ndarray,
    sum_hi_out: np.ndarray,
    sum_lo_out: np.ndarray,
    count_out: np.ndarray,
    nan_out: np.ndarray,
    pos_inf_out: np.ndarray,
    neg_inf_out: np.ndarray,
) -> None:
    """Prefix sums (``*_out[i]`` covers ``values[:i]``) of the valid, finite values, and counts.

    The sum is kept as a double-double (``sum_hi + sum_lo``, Knuth's TwoSum), so a window's sum
    ``P[hi] - P[lo]`` is accurate relative to the window, not to the running total. Non-finite
    values are counted apart (NaN, +inf, -inf) so that one of them spoils only the windows that
    hold it. Every output has ``values.size + 1`` entries.
    """
    hi = 0.0
    lo = 0.0
    count = 0
    nan = 0
    pos = 0
    neg = 0
    sum_hi_out[0] = 0.0
    sum_lo_out[0] = 0.0
    count_out[0] = 0
    nan_out[0] = 0
    pos_inf_out[0] = 0
    neg_inf_out[0] = 0
    for i in range(values.size):
        if valid[i]:
            v = values[i]
            count += 1
            if math.isnan(v):
                nan += 1
            elif math.isinf(v):
                if v > 0:
                    pos += 1
                else:
                    neg += 1
            else:
                s = hi + v
                bb = s - hi
                err = (hi - (s - bb)) + (v - bb)
                hi = s
                lo += err
        sum_hi_out[i + 1] = hi
        sum_lo_out[i + 1] = lo
        count_out[i + 1] = count
        nan_out[i + 1] = nan
        pos_inf_out[i + 1] = pos
        neg_inf_out[i + 1] = neg


@njit(cache=True, nogil=True)
def window_extreme_nb(
    q_offsets: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    values: np.ndarray,
    valid: np.ndarray,
    largest: bool,
    out: np.ndarray,
    found_out: np.ndarray,
) -> None:
    """Maximum (``largest``) or minimum of the valid values in each query's window ``[lo, hi)``.

    Within a group the windows move forward (``lo`` and ``hi`` never decrease), so one monotone
    deque of source positions answers every query in O(n_query + n_source). Invalid values (nulls)
    and NaN are skipped, as Polars' ``min``/``max`` do; ``found_out`` is False for a window
    without any value. Should a window ever step back, the deque is rebuilt from its range.
    """
    deque = np.empty(values.size, dtype=np.int64)
    for g in range(q_offsets.size - 1):
        head = 0
        tail = 0
        filled = -1  # source positions < filled have been offered to the deque
        start = -1
        for i in range(q_offsets[g], q_offsets[g + 1]):
            a = lo[i]
            b = hi[i]
            if a < start or b < filled:  # a window stepped back: start over from its range
                head = 0
                tail = 0
                filled = a
            filled = max(filled, a)
            start = a
            while filled < b:
                v = values[filled]
                if valid[filled] and not math.isnan(v):
                    while tail > head and (
                        (largest and values[deque[tail - 1]] <= v)
                        or (not largest and values[deque[tail - 1]] >= v)
                    ):
                        tail -= 1
                    deque[tail] = filled
                    tail += 1
                filled += 1
            while tail > head and deque[head] < a:
                head += 1
            if tail > head:
                out[i] = values[deque[head]]
                found_out[i] = True
            else:
                found_out[i] = False


@njit(cache=True)
def window_diff_nb(lo: np.ndarray, hi: np.ndarray, prefix: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = prefix[hi[i]] - prefix[lo[i]]``: a window's total from prefix sums (int or float)."""
    for i in range(lo.size):
        out[i] = prefix[hi[i]] - prefix[lo[i]]


@njit(cache=True)
def window_float_sums_nb(
    lo: np.ndarray,
    hi: np.ndarray,
    sum_hi: np.ndarray,
    sum_lo: np.ndarray,
    nan: np.ndarray,
    pos_inf: np.ndarray,
    neg_inf: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each window's float sum from the outputs of :func:`prefix_sums_nb`, non-finite values as IEEE.

    A window holding a NaN, or both infinities, sums to NaN; one holding one kind of infinity
    sums to it; otherwise the double-double difference of the prefix sums.
    """
    for i in range(lo.size):
        a = lo[i]
        b = hi[i]
        has_pos = pos_inf[b] > pos_inf[a]
        has_neg = neg_inf[b] > neg_inf[a]
        if nan[b] > nan[a] or (has_pos and has_neg):
            out[i] = math.nan
        elif has_pos:
            out[i] = math.inf
        elif has_neg:
            out[i] = -math.inf
        else:
            out[i] = (sum_hi[b] - sum_hi[a]) + (sum_lo[b] - sum_lo[a])


@njit(cache=True, nogil=True)
def window_pair_bounds_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    start: float,
    end: float,
    slack: float,
    lo_out: np.ndarray,
    hi_out: np.ndarray,
) -> None:
    """Source range ``[lo, hi)`` of each query's window ``(t + start, t + end]``, ``start < end``.

    Either end may be negative, zero or positive. An end at a non-zero offset is reached with the
    slack of :func:`window_bounds_nb` (``slack * max(|t|, |offset|, |t + offset|)``: a row within a
    few ulps of ``t + offset`` counts as at it); an end at offset 0 is ``t`` exactly. NaN source
    times are in no window; a NaN query time gets an empty window at the end of its group's timed
    rows. Two forward-moving pointers per group: O(n_query + n_source).
    """
    for g in range(q_offsets.size - 1):
        s_lo = s_offsets[g]
        last = s_offsets[g + 1]
        while last > s_lo and math.isnan(s_time[last - 1]):
            last -= 1
        a = s_lo
        b = s_lo
        for i in range(q_offsets[g], q_offsets[g + 1]):
            t = q_time[i]
            if math.isnan(t):
                lo_out[i] = last
                hi_out[i] = last
                continue
            near = t + start
            far = t + end
            if start != 0.0:
                near += slack * max(abs(t), abs(start), abs(near))
            if end != 0.0:
                far += slack * max(abs(t), abs(end), abs(far))
            while a < last and s_time[a] <= near:
                a += 1
            while b < last and s_time[b] <= far:
                b += 1
            lo_out[i] = a
            hi_out[i] = max(a, b)


@njit(cache=True, nogil=True)
def window_prevailing_nb(q_offsets: np.ndarray, s_offsets: np.ndarray, lo: np.ndarray) -> None:
    """Widen each window ``[lo, hi)`` to the row before it (the row in force at its start), in place.

    The row before ``lo`` is the last of the group at or before the window's start (of tied rows,
    the last in input order); a window starting before the group's first row has none.
    """
    for g in range(q_offsets.size - 1):
        first = s_offsets[g]
        for i in range(q_offsets[g], q_offsets[g + 1]):
            if lo[i] > first:
                lo[i] -= 1


@njit(cache=True, nogil=True)
def time_weighted_span_nb(s_time: np.ndarray, j: int, last: int, w_start: float, w_end: float) -> float:
    """Return the time source row ``j`` is in force inside ``[w_start, w_end]`` (until the next row)."""
    until = s_time[j + 1] if j + 1 < last else w_end
    return min(until, w_end) - max(s_time[j], w_start)


@njit(cache=True, nogil=True)
def window_time_weighted_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    start: float,
    end: float,
    values: np.ndarray,
    valid: np.ndarray,
    x_hi: np.ndarray,
    x_lo: np.ndarray,
    x_nan: np.ndarray,
    x_pos: np.ndarray,
    x_neg: np.ndarray,
    w_hi: np.ndarray,
    w_lo: np.ndarray,
    out: np.ndarray,
    found_out: np.ndarray,
) -> None:
    """Time-weighted mean of the valid values of each window ``[lo, hi)`` over ``[t + start, t + end]``.

    Source row ``j`` is in force from its time until the next row of its group (the last row:
    until the window's end), clipped to the window's span; its weight is that duration. An
    infinite ``end`` means the group's last timed row (the close). Rows with a null value, and
    rows in force for no time (tied or at the window's end), weigh nothing; a NaN value in force
    makes the mean NaN. ``found_out`` is False where nothing weighs (an empty window, a NaN
    query time): the caller writes null there.

    O(1) per window: the first and last rows of a window are clipped to its span here; the rows
    between them are in force for their whole gap to the next row, whose sums come from prefix
    sums (:func:`prefix_sums_nb`) of ``value * gap`` (``x_*``) and of ``gap`` (``w_*``) over
    the rows whose value is valid and whose gap is positive.
    """
    for g in range(q_offsets.size - 1):
        s_lo = s_offsets[g]
        last = s_offsets[g + 1]
        while last > s_lo and math.isnan(s_time[last - 1]):
            last -= 1
        for i in range(q_offsets[g], q_offsets[g + 1]):
            t = q_time[i]
            found_out[i] = False
            if math.isnan(t):
                continue
            w_start = t + start
            w_end = t + end
            if math.isinf(end):
                w_end = s_time[last - 1] if last > s_lo else w_start
            a = lo[i]
            b = min(hi[i], last)
            if b <= a:
                continue
            total = 0.0
            weight = 0.0
            span = time_weighted_span_nb(s_time, a, last, w_start, w_end)  # pyright: ignore[reportArgumentType]  (numpy stubs: scalar reads)
            if valid[a] and span > 0.0:
                total += values[a] * span
                weight += span
            if b - 1 > a:
                span = time_weighted_span_nb(s_time, b - 1, last, w_start, w_end)  # pyright: ignore[reportArgumentType]  (numpy stubs: scalar reads)
                if valid[b - 1] and span > 0.0:
                    total += values[b - 1] * span
                    weight += span
            c = a + 1
            d = b - 1
            if d > c:  # the rows between: whole gaps, from the prefix sums
                has_pos = x_pos[d] > x_pos[c]
                has_neg = x_neg[d] > x_neg[c]
                if x_nan[d] > x_nan[c] or (has_pos and has_neg):
                    total = math.nan
                elif has_pos:
                    total += math.inf
                elif has_neg:
                    total -= math.inf
                else:
                    total += (x_hi[d] - x_hi[c]) + (x_lo[d] - x_lo[c])
                weight += (w_hi[d] - w_hi[c]) + (w_lo[d] - w_lo[c])
            if weight > 0.0:
                out[i] = total / weight
                found_out[i] = True


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels with the argument types the wrapper uses.

    Values arrive writeable or read-only (a zero-copy ``to_numpy()``): numba compiles each apart.
    """
    offsets, times = np.array([0, 2], np.int64), np.array([0.0, 1.0])
    lo, hi = np.zeros(2, np.int64), np.ones(2, np.int64)
    window_bounds_nb(offsets, times, offsets, times, 1.0, 1e-15, lo, hi)
    valid, n = np.ones(2, np.bool_), np.empty(3, np.int64)
    sums_hi, sums_lo = np.empty(3), np.empty(3)
    window_diff_nb(lo, hi, n, np.empty(2, np.int64))
    for dtype in (np.float64, np.int64):  # float and integer (or temporal) inputs
        for writeable in (True, False):
            values = np.arange(2, dtype=dtype)
            values.setflags(write=writeable)
            if dtype == np.float64:
                prefix_sums_nb(values, valid, sums_hi, sums_lo, n, n.copy(), n.copy(), n.copy())
            for largest in (False, True):
                out, found = np.empty(2, dtype), np.empty(2, np.bool_)
                window_extreme_nb(offsets, lo, hi, values, valid, largest, out, found)
    window_float_sums_nb(lo, hi, sums_hi, sums_lo, n, n, n, np.empty(2))
    window_pair_bounds_nb(offsets, times, offsets, times, -1.0, 1.0, 1e-15, lo, hi)
    window_prevailing_nb(offsets, offsets, lo)
    window_time_weighted_nb(
        offsets, times, offsets, times, lo, hi, 0.0, 1.0, times, valid,
        sums_hi, sums_lo, n, n, n, sums_hi, sums_lo, np.empty(2), valid.copy(),
    )  # fmt: skip
    time_weighted_span_nb(times, 0, 2, 0.0, 1.0)
