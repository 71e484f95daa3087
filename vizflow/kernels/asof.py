"""As-of lookups within groups: the compiled pass behind ``forward_return``."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Slack of ``t + h`` in units of its magnitude: four float64 epsilons (at least two ulps), enough
# to absorb the rounding of t, h, their sum and the source time, so that decimal ties such as
# 0.7 + 0.1 == 0.8 count as reached although 0.7 + 0.1 < 0.8 in binary.
TIE_SLACK = 4.0 * 2.220446049250313e-16


@njit(cache=True)
def asof_index_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    shift: float,
    beyond_last_is_null: bool,
    tolerance: float,
    idx_out: np.ndarray,
) -> None:
    """For each query row, the last source row of its group with ``time <= q_time + shift``.

    Both sides are sorted by (group, time) and share group numbering (``q_offsets`` and
    ``s_offsets`` have the same length). Writes the source position, or -1 when there is none,
    when the target lies beyond the group's last source time and ``beyond_last_is_null``, or when
    the match is older than ``tolerance`` before the target. Of equal source times the last wins.
    Comparisons with the target allow ``TIE_SLACK * max(|t|, |shift|, |target|)`` (a few ulps)
    so that the binary rounding of ``t + shift`` never decides a decimal tie.
    A NaN query time gives -1; NaN source times (sorted last in a group) never match.
    One forward-moving pointer per group: O(n_query + n_source).
    """
    n_groups = q_offsets.size - 1
    for g in range(n_groups):
        s_lo = s_offsets[g]
        s_hi = s_offsets[g + 1]
        j = s_lo - 1  # last source row with time <= target so far
        last = s_hi - 1  # last source row with a time (NaN times sort last)
        while last >= s_lo and math.isnan(s_time[last]):
            last -= 1
        for i in range(q_offsets[g], q_offsets[g + 1]):
            t = q_time[i]
            if math.isnan(t):  # no time, no match
                idx_out[i] = -1
                continue
            target = t + shift
            slack = TIE_SLACK * max(abs(t), abs(shift), abs(target))
            reach = target + slack
            while j + 1 < s_hi and s_time[j + 1] <= reach:
                j += 1
            no_future = beyond_last_is_null and (last < s_lo or target - slack > s_time[last])
            if j < s_lo or no_future or target - s_time[j] > tolerance + slack:
                idx_out[i] = -1
            else:
                idx_out[i] = j


@njit(cache=True)
def forward_returns_nb(
    q_offsets: np.ndarray,
    q_rows: np.ndarray,
    q_time: np.ndarray,
    now: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    s_price: np.ndarray,
    shifts: np.ndarray,
    tolerance: float,
    log: bool,
    out: np.ndarray,
) -> None:
    """Forward returns at every shift in one pass over each group, written to ``out[k, row]``.

    Both sides are sorted by (group, time) and share group numbering (``q_offsets`` and
    ``s_offsets`` have the same length); ``q_time`` and ``now`` (the current price) are in query
    sort order and ``q_rows`` maps a sorted position to its output row. For each query row and
    shift ``h`` the future price is that of the last source row with ``time <= t + h`` (the last
    of equal times, with :data:`TIE_SLACK`), null beyond the group's last source time or when
    older than ``tolerance``; the return is ``(future - now) / now`` or ``log(future / now)``.
    NaN (null) times, prices, zero current prices and non-finite returns give NaN. One pointer
    per shift moves forward through the group: O(n_query * n_shifts + n_source).
    """
    n_groups = q_offsets.size - 1
    n_shifts = shifts.size
    ptr = np.empty(n_shifts, dtype=np.int64)
    for g in range(n_groups):
        s_lo = s_offsets[g]
        s_hi = s_offsets[g + 1]
        last = s_hi - 1  # last source row with a time (NaN times sort last)
        while last >= s_lo and math.isnan(s_time[last]):
            last -= 1
        last_time = s_time[last] if last >= s_lo else math.nan
        for k in range(n_shifts):
            ptr[k] = s_lo - 1
        for i in range(q_offsets[g], q_offsets[g + 1]):
            row = q_rows[i]
            t = q_time[i]
            p0 = now[i]
            if math.isnan(t) or math.isnan(p0) or p0 == 0.0 or last < s_lo:
                for k in range(n_shifts):
                    out[k, row] = math.nan
                continue
            for k in range(n_shifts):
                shift = shifts[k]
                target = t + shift
                slack = TIE_SLACK * max(abs(t), abs(shift), abs(target))
                reach = target + slack
                j = ptr[k]
                while j + 1 < s_hi and s_time[j + 1] <= reach:
                    j += 1
                ptr[k] = j
                if j < s_lo or target - slack > last_time or target - s_time[j] > tolerance + slack:
                    out[k, row] = math.nan
                    continue
                future = s_price[j]
                if log:
                    ratio = future / p0
                    ret = math.log(ratio) if ratio > 0.0 else math.nan
                else:
                    ret = (future - p0) / p0
                out[k, row] = ret if math.isfinite(ret) else math.nan
