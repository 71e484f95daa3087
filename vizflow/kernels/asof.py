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
