"""Time windows within groups: the compiled passes behind ``forward_window``.

A window of a query row at time ``t`` is a range ``[lo, hi)`` of source positions (both sides
sorted by (group, time)) between two edges ``t + start`` and ``t + end``: ``(t + start, t + end]``
(closed on the right: ``h > 0`` is ``(t, t + h]``, a pair ``(a, b)`` is ``(t + a, t + b]``) or
``[t + start, t + end)`` (closed on the left: ``h < 0`` is ``[t + h, t)``).

:func:`window_pass_nb` answers every horizon and every compiled aggregate group by group: it
builds the group's prefix sums and counts once (in scratch the size of one group, so they stay in
cache; float sums as double-doubles), then for each horizon moves the window's two edges once over
the group's rows, reads every window's counts and sums as prefix differences, and keeps maxima and
minima in a two-stack queue (suffix extremes of the older rows, running extremes of the newer
ones), or, for a float column without nulls or NaN in a group of at most :data:`TABLE_ROWS` rows,
in a sparse table built once for every horizon. O(n_query + n_source) per horizon. The pass
releases the GIL (``nogil``): it reads and
writes only its groups' positions, so the caller may run it on disjoint runs of whole groups in
threads. The time-weighted mean has a pass of its own over the windows' bounds.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Bit flags of ``f_wants`` / ``i_wants``: what a column's aggregates need besides its count, and
# what its values hold (the pass keeps the counts that only such values need only for them).
WANT_SUM, WANT_MAX, WANT_MIN, WANT_COUNT = 1, 2, 4, 64
HOLDS_NULL, HOLDS_NAN, HOLDS_INF = 8, 16, 32
_INT_LOW, _INT_HIGH = -(2**63), 2**63 - 1  # the neutral elements of an integer max and min
TABLE_ROWS = 1 << 16  # the largest group whose clean float extremes come from a sparse table


@njit(cache=True, nogil=True)
def window_pass_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    closed_right: np.ndarray,
    slack: float,
    prevailing: bool,
    f_values: np.ndarray,
    f_valid: np.ndarray,
    f_wants: np.ndarray,
    f_rows: np.ndarray,
    i_values: np.ndarray,
    i_valid: np.ndarray,
    i_wants: np.ndarray,
    i_rows: np.ndarray,
    bounds_out: np.ndarray,
    len_out: np.ndarray,
    f_count_out: np.ndarray,
    f_sum_out: np.ndarray,
    f_max_out: np.ndarray,
    f_min_out: np.ndarray,
    i_count_out: np.ndarray,
    i_sum_out: np.ndarray,
    i_max_out: np.ndarray,
    i_min_out: np.ndarray,
) -> None:
    """Every requested aggregate of every query's window, for every horizon, group by group.

    ``q_offsets`` and ``s_offsets`` share group numbering; both sides are sorted by time within
    a group, NaN times last. Horizon ``h``'s window of a query at ``t`` is ``[lo, hi)``: the
    source rows after the near edge ``t + starts[h]`` and up to the far edge ``t + ends[h]``
    (``closed_right[h]`` False: from the near edge to before the far one). An edge at a non-zero
    offset is reached with a tolerance of ``slack * max(|t|, |offset|, |t + offset|)`` (a few
    ulps, so that 0.7 + 0.1 reaches a row at 0.8) on the side that takes such a row in; an edge
    at ``t`` itself is exact. ``prevailing`` widens a window by the row before it (the row in
    force at its start), unless it starts at the group's first row. NaN source times are in no
    window; a NaN query time gets the empty window at the end of its group's timed rows (the
    caller writes null there).

    Columns: ``f_values[k]`` (float64) and ``i_values[k]`` (int64) hold one input column each, in
    source order, with ``*_valid[k]`` False at a null (its value is ignored). ``*_wants[k]`` says
    which outputs column ``k`` needs (:data:`WANT_COUNT`: its count of valid values,
    :data:`WANT_SUM`, :data:`WANT_MAX`, :data:`WANT_MIN`) and what it holds (:data:`HOLDS_NULL`,
    :data:`HOLDS_NAN`, :data:`HOLDS_INF`; a flag left out promises there is none). Outputs,
    ``[horizon, row, query]``, column ``k``'s in row ``*_rows[k, 0]`` (count), ``[k, 1]`` (sum),
    ``[k, 2]`` (max), ``[k, 3]`` (min) of its wanted outputs: ``*_count_out``, ``*_sum_out`` (0
    for an empty window), ``*_max_out``, ``*_min_out`` (meaningless where the count is 0: the
    caller writes null); ``bounds_out`` (``[horizon, 2, query]``: lo, hi) and ``len_out``
    (``[horizon, query]``) when they have rows. Float sums are IEEE on non-finite values (a NaN,
    or both infinities, gives NaN; one infinity gives it); float extremes skip NaN unless the
    window holds nothing else.

    Per group, the pass first builds the group's prefix sums and counts (float sums as
    double-doubles, Knuth's TwoSum: a window's sum is accurate to the group's magnitudes, far
    better than a running add and subtract), in scratch that stays in cache; then for each
    horizon it moves the two edges once over the group's rows, reads each window's totals as
    prefix differences, and keeps its maxima and minima in a two-stack queue (suffix extremes
    of the older rows, running extremes of the newer ones); a float column without nulls or NaN
    in a group of at most :data:`TABLE_ROWS` rows reads them from a sparse table (level ``j``:
    the extremes of ``2**j`` rows), built once for every horizon, two reads a window.
    O(n_query + n_source) per horizon.
    """
    n_h = starts.size
    kf = f_values.shape[0]
    ki = i_values.shape[0]
    want_bounds = bounds_out.shape[0] > 0
    want_len = len_out.shape[0] > 0
    f_ext = np.flatnonzero(f_wants & (WANT_MAX | WANT_MIN))  # the columns with extremes
    i_ext = np.flatnonzero(i_wants & (WANT_MAX | WANT_MIN))
    any_extreme = f_ext.size + i_ext.size > 0
    widest = 0
    most = 0
    for g in range(s_offsets.size - 1):
        widest = max(widest, s_offsets[g + 1] - s_offsets[g])
        most = max(most, q_offsets[g + 1] - q_offsets[g])
    size = widest + 1
    all_lows = np.empty((n_h, most), np.int64)  # a group's windows [lows, highs), in its own positions
    all_highs = np.empty((n_h, most), np.int64)
    # Clean float extremes (no null, no NaN) of groups up to TABLE_ROWS rows come from a sparse
    # table (O(1) a window, built once per group for every horizon); others from the queue.
    tabled = np.zeros(kf, np.bool_)
    if widest <= TABLE_ROWS:
        for e in range(f_ext.size):
            tabled[f_ext[e]] = not f_wants[f_ext[e]] & (HOLDS_NULL | HOLDS_NAN)
    levels = 1
    while (1 << levels) <= widest:
        levels += 1
    tab_size = size if tabled.any() else 0
    t_max = np.empty((levels, tab_size))
    t_min = np.empty((levels, tab_size))
    log2 = np.zeros(tab_size + 1, np.int64)  # log2[n]: the largest power of two <= n
    for n in range(2, tab_size + 1):
        log2[n] = log2[n // 2] + 1
    nears = np.empty(most, np.int64)  # the first source row past each query's near edge
    fars = np.empty(most, np.int64)  # the first source row past each query's far edge
    keys = np.empty(most)  # each query's edge time
    f_phi = np.empty((kf, size))
    f_plo = np.empty((kf, size))
    f_pcount = np.empty((kf, size), np.int64)
    f_pnan = np.empty((kf, size), np.int64)
    f_ppos = np.empty((kf, size), np.int64)
    f_pneg = np.empty((kf, size), np.int64)
    i_psum = np.empty((ki, size), np.int64)
    i_pcount = np.empty((ki, size), np.int64)
    f_sfx = np.empty((2 * kf, size if any_extreme else 0))  # suffix max (2k) and min (2k + 1)
    i_sfx = np.empty((2 * ki, size if any_extreme else 0), np.int64)
    for g in range(q_offsets.size - 1):
        first = s_offsets[g]
        last = s_offsets[g + 1]
        while last > first and math.isnan(s_time[last - 1]):
            last -= 1
        m = last - first
        for k in range(kf):  # the group's prefix sums and counts: entry x covers rows first..first+x-1
            wants = f_wants[k]
            if not wants & (WANT_SUM | HOLDS_NULL | HOLDS_NAN | HOLDS_INF):
                continue
            s_hi = 0.0
            s_lo = 0.0
            count = 0
            nan = 0
            pos = 0
            neg = 0
            f_phi[k, 0] = 0.0
            f_plo[k, 0] = 0.0
            f_pcount[k, 0] = 0
            f_pnan[k, 0] = 0
            f_ppos[k, 0] = 0
            f_pneg[k, 0] = 0
            if not wants & (HOLDS_NULL | HOLDS_NAN | HOLDS_INF):  # finite values only: the sums alone
                for x in range(m):
                    v = f_values[k, first + x]
                    y = s_hi + v
                    bb = y - s_hi
                    s_lo += (s_hi - (y - bb)) + (v - bb)
                    s_hi = y
                    f_phi[k, x + 1] = s_hi
                    f_plo[k, x + 1] = s_lo
                continue
            for x in range(m):
                j = first + x
                if f_valid[k, j]:
                    v = f_values[k, j]
                    count += 1
                    if math.isnan(v):
                        nan += 1
                    elif math.isinf(v):
                        if v > 0:
                            pos += 1
                        else:
                            neg += 1
                    else:
                        y = s_hi + v
                        bb = y - s_hi
                        s_lo += (s_hi - (y - bb)) + (v - bb)
                        s_hi = y
                f_phi[k, x + 1] = s_hi
                f_plo[k, x + 1] = s_lo
                f_pcount[k, x + 1] = count
                f_pnan[k, x + 1] = nan
                f_ppos[k, x + 1] = pos
                f_pneg[k, x + 1] = neg
        for k in range(ki):
            wants = i_wants[k]
            if not wants & (WANT_SUM | HOLDS_NULL):
                continue
            itotal = 0
            count = 0
            i_psum[k, 0] = 0
            i_pcount[k, 0] = 0
            for x in range(m):
                j = first + x
                if i_valid[k, j]:
                    itotal += i_values[k, j]
                    count += 1
                i_psum[k, x + 1] = itotal
                i_pcount[k, x + 1] = count
        q_first = q_offsets[g]
        nq = q_offsets[g + 1] - q_first
        longest = 0  # the longest window of the group, over every horizon
        for h in range(n_h):
            lows = all_lows[h]
            highs = all_highs[h]
            start = starts[h]
            end = ends[h]
            right = closed_right[h]
            if h == 0 or start != starts[h - 1] or right != closed_right[h - 1]:
                # the near edges (horizons sharing one, e.g. every h > 0, find them once)
                edge_positions_nb(q_time, q_first, nq, s_time, first, last, start, right, slack, keys, nears)
            edge_positions_nb(q_time, q_first, nq, s_time, first, last, end, right, slack, keys, fars)
            for r in range(nq):  # the windows, in the group's own positions
                lo = nears[r]
                hi = max(lo, fars[r])
                if prevailing and lo > first:
                    lo -= 1
                lows[r] = lo - first
                highs[r] = hi - first
                longest = max(longest, hi - lo)
            if want_bounds:
                for r in range(nq):
                    bounds_out[h, 0, q_first + r] = lows[r] + first
                    bounds_out[h, 1, q_first + r] = highs[r] + first
            if want_len:
                for r in range(nq):
                    len_out[h, q_first + r] = highs[r] - lows[r]
            for k in range(kf):  # each column's totals: prefix differences
                wants = f_wants[k]
                if wants & WANT_COUNT:
                    for r in range(nq):
                        x = lows[r]
                        y = highs[r]
                        f_count_out[h, f_rows[k, 0], q_first + r] = (
                            f_pcount[k, y] - f_pcount[k, x] if wants & HOLDS_NULL else y - x
                        )
                if wants & WANT_SUM:
                    for r in range(nq):
                        x = lows[r]
                        y = highs[r]
                        f_sum_out[h, f_rows[k, 1], q_first + r] = (f_phi[k, y] - f_phi[k, x]) + (
                            f_plo[k, y] - f_plo[k, x]
                        )
                if wants & WANT_SUM and wants & (HOLDS_NAN | HOLDS_INF):
                    for r in range(nq):
                        x = lows[r]
                        y = highs[r]
                        has_pos = f_ppos[k, y] > f_ppos[k, x]
                        has_neg = f_pneg[k, y] > f_pneg[k, x]
                        if f_pnan[k, y] > f_pnan[k, x] or (has_pos and has_neg):
                            f_sum_out[h, f_rows[k, 1], q_first + r] = math.nan
                        elif has_pos:
                            f_sum_out[h, f_rows[k, 1], q_first + r] = math.inf
                        elif has_neg:
                            f_sum_out[h, f_rows[k, 1], q_first + r] = -math.inf
            for k in range(ki):
                wants = i_wants[k]
                if wants & WANT_COUNT:
                    for r in range(nq):
                        x = lows[r]
                        y = highs[r]
                        i_count_out[h, i_rows[k, 0], q_first + r] = (
                            i_pcount[k, y] - i_pcount[k, x] if wants & HOLDS_NULL else y - x
                        )
                if wants & WANT_SUM:
                    for r in range(nq):
                        i_sum_out[h, i_rows[k, 1], q_first + r] = i_psum[k, highs[r]] - i_psum[k, lows[r]]
            # Maxima and minima, column by column: a two-stack queue over the windows, which only
            # move forward. The queue holds rows [x, held) of the group; [x, split) is the front
            # (suffix extremes in scratch), [split, held) the back (a running extreme).
            for e in range(f_ext.size):
                k = f_ext[e]
                if tabled[k]:
                    continue
                wants = f_wants[k]
                clean = not wants & (HOLDS_NULL | HOLDS_NAN)  # every value takes part
                held = 0
                split = 0
                top = -math.inf
                bottom = math.inf
                for r in range(nq):
                    x = lows[r]
                    y = highs[r]
                    if x >= held:  # no row in common with the last window: an empty queue
                        top = -math.inf
                        bottom = math.inf
                        held = x
                        split = x
                    for z in range(held, y):  # rows entering the back
                        v = f_values[k, first + z]
                        if clean or (f_valid[k, first + z] and not math.isnan(v)):
                            top = max(top, v)
                            bottom = min(bottom, v)
                    held = max(held, y)
                    if x >= split and held > x:  # an empty front: the back turns into it
                        run_top = -math.inf
                        run_bottom = math.inf
                        for z in range(held - 1, x - 1, -1):
                            v = f_values[k, first + z]
                            if clean or (f_valid[k, first + z] and not math.isnan(v)):
                                run_top = max(run_top, v)
                                run_bottom = min(run_bottom, v)
                            f_sfx[2 * k, z] = run_top
                            f_sfx[2 * k + 1, z] = run_bottom
                        top = -math.inf
                        bottom = math.inf
                        split = held
                    best_top = top
                    best_bottom = bottom
                    if x < split:
                        best_top = max(best_top, f_sfx[2 * k, x])
                        best_bottom = min(best_bottom, f_sfx[2 * k + 1, x])
                    if wants & HOLDS_NAN:
                        nan = f_pnan[k, y] - f_pnan[k, x]
                        count = f_pcount[k, y] - f_pcount[k, x] if wants & HOLDS_NULL else y - x
                        if nan > 0 and nan == count:  # NaN alone: the extremes are NaN
                            best_top = math.nan
                            best_bottom = math.nan
                    if wants & WANT_MAX:
                        f_max_out[h, f_rows[k, 2], q_first + r] = best_top
                    if wants & WANT_MIN:
                        f_min_out[h, f_rows[k, 3], q_first + r] = best_bottom
            for e in range(i_ext.size):
                k = i_ext[e]
                wants = i_wants[k]
                clean = not wants & HOLDS_NULL
                held = 0
                split = 0
                itop = _INT_LOW
                ibottom = _INT_HIGH
                for r in range(nq):
                    x = lows[r]
                    y = highs[r]
                    if x >= held:
                        itop = _INT_LOW
                        ibottom = _INT_HIGH
                        held = x
                        split = x
                    for z in range(held, y):
                        if clean or i_valid[k, first + z]:
                            w = i_values[k, first + z]
                            itop = max(itop, w)
                            ibottom = min(ibottom, w)
                    held = max(held, y)
                    if x >= split and held > x:
                        run_itop = _INT_LOW
                        run_ibottom = _INT_HIGH
                        for z in range(held - 1, x - 1, -1):
                            if clean or i_valid[k, first + z]:
                                w = i_values[k, first + z]
                                run_itop = max(run_itop, w)
                                run_ibottom = min(run_ibottom, w)
                            i_sfx[2 * k, z] = run_itop
                            i_sfx[2 * k + 1, z] = run_ibottom
                        itop = _INT_LOW
                        ibottom = _INT_HIGH
                        split = held
                    best_itop = itop
                    best_ibottom = ibottom
                    if x < split:
                        best_itop = max(best_itop, i_sfx[2 * k, x])
                        best_ibottom = min(best_ibottom, i_sfx[2 * k + 1, x])
                    if wants & WANT_MAX:
                        i_max_out[h, i_rows[k, 2], q_first + r] = best_itop
                    if wants & WANT_MIN:
                        i_min_out[h, i_rows[k, 3], q_first + r] = best_ibottom
        for e in range(f_ext.size):  # the sparse tables: level j holds the extremes of 2**j rows
            k = f_ext[e]
            if not tabled[k]:
                continue
            wants = f_wants[k]
            want_max = wants & WANT_MAX
            want_min = wants & WANT_MIN
            for x in range(m):
                t_max[0, x] = f_values[k, first + x]
                t_min[0, x] = f_values[k, first + x]
            depth = 1
            while (1 << depth) <= longest:
                half = 1 << (depth - 1)
                for x in range(m - (1 << depth) + 1):
                    if want_max:
                        t_max[depth, x] = max(t_max[depth - 1, x], t_max[depth - 1, x + half])
                    if want_min:
                        t_min[depth, x] = min(t_min[depth - 1, x], t_min[depth - 1, x + half])
                depth += 1
            for h in range(n_h):
                lows = all_lows[h]
                highs = all_highs[h]
                for r in range(nq):
                    x = lows[r]
                    y = highs[r]
                    j = log2[y - x]
                    z = y - (1 << j)
                    if want_max:
                        f_max_out[h, f_rows[k, 2], q_first + r] = (
                            max(t_max[j, x], t_max[j, z]) if y > x else -math.inf
                        )
                    if want_min:
                        f_min_out[h, f_rows[k, 3], q_first + r] = (
                            min(t_min[j, x], t_min[j, z]) if y > x else math.inf
                        )


@njit(cache=True, nogil=True)
def edge_positions_nb(
    q_time: np.ndarray,
    q_first: int,
    nq: int,
    s_time: np.ndarray,
    first: int,
    last: int,
    offset: float,
    right: bool,
    slack: float,
    keys: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write the first source row past each query's edge at ``t + offset``, for one group.

    Queries ``q_time[q_first : q_first + nq]`` and source rows ``s_time[first:last]`` are sorted
    (NaN query times last; NaN source times already left out of ``[first, last)``). The edge is
    reached with the tolerance of :func:`window_pass_nb` (``slack``; exact at ``offset == 0``);
    ``right`` False takes only the rows before the edge. ``out[r]`` is the position of the first
    source row past query ``r``'s edge (never before the previous query's: the positions only
    move forward), ``last`` for a NaN query time; ``keys`` is scratch of at least ``nq`` floats.

    The edges are computed first, then merged with the source times in one loop whose every step
    moves one of the two cursors: no data-dependent branch (a per-query ``while`` loop
    mispredicts its exit about once a query).

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(3, np.int64)
    >>> q, s = np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0, 3.0, 9.0])
    >>> edge_positions_nb(q, 0, 3, s, 0, 4, 1.0, True, 0.0, np.empty(3), out)
    >>> out.tolist()  # rows <= t + 1: two rows for t = 1, three for t = 2, the end for NaN
    [2, 3, 4]
    """
    timed = nq
    while timed > 0 and math.isnan(q_time[q_first + timed - 1]):
        timed -= 1
    for r in range(timed):
        t = q_time[q_first + r]
        edge = t + offset
        if offset != 0.0:
            tol = slack * max(abs(t), abs(offset), abs(edge))
            edge = edge + tol if right else edge - tol
        if not right:  # a window closed on the left takes rows < edge: <= the float just below it
            edge = np.nextafter(edge, -math.inf)
        keys[r] = edge
    b = first
    r = 0
    if last > first:
        while r < timed:
            out[r] = b
            step = 1 if s_time[b] <= keys[r] else 0
            b += step
            r += 1 - step
            if b == last:
                break
    for x in range(r, nq):
        out[x] = last


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
    """Compile (or load from numba's cache) the kernels with the argument types the wrapper uses."""
    offsets, times = np.array([0, 2], np.int64), np.array([0.0, 1.0])
    f_values, f_valid = np.zeros((1, 2)), np.ones((1, 2), np.bool_)
    i_values, i_valid = np.zeros((1, 2), np.int64), np.ones((1, 2), np.bool_)
    wants = np.array([WANT_SUM | WANT_MAX | WANT_MIN | WANT_COUNT], np.int64)
    f_out, i_out = np.empty((1, 1, 2)), np.empty((1, 1, 2), np.int64)
    rows = np.zeros((1, 4), np.int64)
    window_pass_nb(
        offsets, times, offsets, times, np.zeros(1), np.ones(1), np.ones(1, np.bool_), 1e-15, False,
        f_values, f_valid, wants, rows, i_values, i_valid, wants, rows, np.empty((1, 2, 2), np.int64),
        np.empty((1, 2), np.int64), i_out, f_out, f_out, f_out, i_out, i_out, i_out, i_out,
    )  # fmt: skip
    valid, n = np.ones(2, np.bool_), np.empty(3, np.int64)
    sums_hi, sums_lo = np.empty(3), np.empty(3)
    prefix_sums_nb(times, valid, sums_hi, sums_lo, n, n.copy(), n.copy(), n.copy())
    lo, hi = np.zeros(2, np.int64), np.ones(2, np.int64)
    window_time_weighted_nb(
        offsets, times, offsets, times, lo, hi, 0.0, 1.0, times, valid,
        sums_hi, sums_lo, n, n, n, sums_hi, sums_lo, np.empty(2), valid.copy(),
    )  # fmt: skip
    time_weighted_span_nb(times, 0, 2, 0.0, 1.0)
    edge_positions_nb(times, 0, 2, times, 0, 2, 1.0, True, 0.0, np.empty(2), np.empty(2, np.int64))
