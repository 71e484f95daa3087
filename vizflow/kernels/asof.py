"""As-of lookups within groups: the compiled passes behind ``forward_return``."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

# Slack of ``t + h`` in units of its magnitude: four float64 epsilons (at least two ulps), enough
# to absorb the rounding of t, h, their sum and the source time, so that decimal ties such as
# 0.7 + 0.1 == 0.8 count as reached although 0.7 + 0.1 < 0.8 in binary.
TIE_SLACK = 4.0 * 2.220446049250313e-16


BACKWARD, FORWARD, NEAREST = 0, 1, 2  # as-of directions, as in pandas ``merge_asof``

# Integer times and shifts up to this magnitude (|t| + |h|) compare exactly as float64 times with
# the slack do (the slack stays below a quarter unit), so a kernel may read them as integers.
EXACT_INT_TIMES = 2**48


def tie_slack(t: float, shift: float, target: float) -> float:
    """Return the slack of ``target = t + shift``: :data:`TIE_SLACK` of the largest magnitude.

    In compiled code, integer times (below :data:`EXACT_INT_TIMES`) get no slack: integers
    compare exactly, and the float slack of such times never reaches half a unit.

    Examples
    --------
    >>> tie_slack(0.7, 0.1, 0.7 + 0.1) > abs(0.8 - (0.7 + 0.1))  # the decimal tie is reached
    True
    """
    return TIE_SLACK * max(abs(t), abs(shift), abs(target))


@overload(tie_slack, inline="always")
def _tie_slack_ol(t, shift, target):  # noqa: ANN001, ANN202  (numba compares the signatures)
    """Choose :func:`tie_slack`'s compiled body by the argument types."""
    if isinstance(t, types.Integer) and isinstance(shift, types.Integer):
        return lambda t, shift, target: 0
    return lambda t, shift, target: TIE_SLACK * max(abs(t), abs(shift), abs(target))


@njit(cache=True)
def _pick_nb(
    s_time: np.ndarray,
    s_lo: int,
    last: int,
    below: int,
    upto: int,
    target: float,
    slack: float,
    direction: int,
    allow_exact: bool,
    tolerance: float,
) -> int:
    """Pick the source position matched at ``target``, or -1.

    ``below`` counts the group's source rows with time < target (beyond the slack), ``upto``
    those with time <= target (within the slack); ``last`` is the last position with a time.
    Backward takes the last of equal times, forward the first, nearest the closer of the two
    (the backward one on a tie, distances within ``slack`` of each other counting as equal, so
    float rounding never decides a tie), all as pandas ``merge_asof``.
    """
    back = s_lo + (upto if allow_exact else below) - 1
    ahead = s_lo + (below if allow_exact else upto)
    has_back = back >= s_lo
    has_ahead = ahead <= last
    if direction == NEAREST and has_back and has_ahead:
        use_ahead = s_time[ahead] - target < target - s_time[back] - slack
    else:
        use_ahead = direction == FORWARD or (direction == NEAREST and not has_back)
    if use_ahead:
        if not has_ahead:
            return -1
        return ahead if s_time[ahead] - target <= tolerance + slack else -1
    if not has_back:
        return -1
    return back if target - s_time[back] <= tolerance + slack else -1


@njit(cache=True, inline="always")
def _write_nan_nb(out: np.ndarray, n_probes: int, k: int, row: int) -> None:
    """Write NaN to probe ``k``'s output (every probe's when ``k < 0``) of output ``row``."""
    if k >= 0:
        out[k, row] = math.nan
    else:
        for kk in range(n_probes):
            out[kk, row] = math.nan


@njit(cache=True, inline="always")
def _value_nb(price: float, p0: float, log: bool, levels: bool) -> float:
    """Return the level ``price``, or its return on ``p0``; NaN where not finite."""
    if levels:
        ret = price
    elif log:
        ratio = price / p0
        ret = math.log(ratio) if ratio > 0.0 else math.nan
    else:
        ret = (price - p0) / p0
    return ret if math.isfinite(ret) else math.nan


@njit(cache=True, nogil=True)
def forward_returns_nb(
    q_offsets: np.ndarray,
    q_rows: np.ndarray,
    q_time: np.ndarray,
    now: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    s_values: np.ndarray,
    columns: np.ndarray,
    shifts: np.ndarray,
    to_close: np.ndarray,
    direction: int,
    allow_exact: bool,
    tolerance: float,
    log: bool,
    levels: bool,
    bounds: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write the returns (or levels) of every probe to ``out[probe, row]``, in one pass over each group.

    Both sides are sorted by (group, time) and share group numbering (``q_offsets`` and
    ``s_offsets`` have the same length); ``q_time`` and ``now`` (the current price) are in query
    sort order and ``q_rows`` maps a sorted position to its output row. A probe ``k`` reads the
    value column ``s_values[columns[k]]`` (in source sort order) at the shift ``shifts[k]``
    (negative: the past; a shift repeats when several columns are read at it). For each query
    row and probe the price is the source row matched at ``t + h`` by :func:`_pick_nb`
    (``direction``, ``allow_exact``, ``tolerance``, comparisons allowing :data:`TIE_SLACK`); a
    backward match is null beyond the group's last source time (no future price yet). Where
    ``to_close[k]``, the price is the group's last one (the close). With ``bounds`` (the
    sessions' edges on the clock, ascending) a window ``[t, t + h]`` that leaves the session
    holding ``t`` is null. The value is the return ``(price - now) / now`` or
    ``log(price / now)``, or with ``levels`` the price itself (``now`` and ``log`` then unread);
    NaN times or prices, zero current prices (returns) and non-finite values give NaN. Rows of
    ``out`` past the probes are not touched. Two pointers per probe move forward through the
    group: O(n_query * n_probes + n_source).
    """
    n_groups = q_offsets.size - 1
    n_shifts = shifts.size
    below = np.empty(n_shifts, dtype=np.int64)
    upto = np.empty(n_shifts, dtype=np.int64)
    n_bounds = bounds.size
    needs_below = direction != BACKWARD or not allow_exact  # a backward exact match reads upto only
    for g in range(n_groups):
        s_lo = s_offsets[g]
        s_hi = s_offsets[g + 1]
        last = s_hi - 1  # last source row with a time (NaN times sort last)
        while last >= s_lo and math.isnan(s_time[last]):
            last -= 1
        last_time = s_time[last] if last >= s_lo else math.nan
        below[:] = 0
        upto[:] = 0
        for i in range(q_offsets[g], q_offsets[g + 1]):
            row = q_rows[i]
            t = q_time[i]
            p0 = 1.0 if levels else now[i]
            if math.isnan(t) or math.isnan(p0) or p0 == 0.0 or last < s_lo:
                _write_nan_nb(out, n_shifts, -1, row)
                continue
            lo_edge, hi_edge = -math.inf, math.inf
            if n_bounds > 1:  # the session holding t: [bounds[b], bounds[b + 1]), the last one closed
                b = np.searchsorted(bounds, t, side="right") - 1
                b = min(max(b, 0), n_bounds - 2)
                lo_edge, hi_edge = bounds[b], bounds[b + 1]
            for k in range(n_shifts):
                shift = shifts[k]
                target = last_time if to_close[k] else t + shift
                slack = TIE_SLACK * max(abs(t), abs(shift), abs(target))
                if target < lo_edge - slack or target > hi_edge + slack:
                    _write_nan_nb(out, n_shifts, k, row)
                    continue
                if to_close[k]:
                    j = last
                else:
                    if needs_below:
                        while s_lo + below[k] <= last and s_time[s_lo + below[k]] < target - slack:
                            below[k] += 1
                        upto[k] = max(upto[k], below[k])
                    while s_lo + upto[k] <= last and s_time[s_lo + upto[k]] <= target + slack:
                        upto[k] += 1
                    j = _pick_nb(
                        s_time,
                        s_lo,
                        last,
                        below[k],
                        upto[k],
                        target,  # pyright: ignore[reportArgumentType]  (numpy's stubs type a scalar read as an array)
                        slack,
                        direction,
                        allow_exact,
                        tolerance,
                    )
                    if j >= 0 and direction == BACKWARD and target - slack > last_time:
                        j = -1  # no future price yet
                if j < 0:
                    _write_nan_nb(out, n_shifts, k, row)
                else:
                    out[k, row] = _value_nb(s_values[columns[k], j], p0, log, levels)


@njit(cache=True, nogil=True)
def backward_returns_nb(
    q_offsets: np.ndarray,
    q_rows: np.ndarray,
    q_time: np.ndarray,
    now: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    s_values: np.ndarray,
    columns: np.ndarray,
    shifts: np.ndarray,
    log: bool,
    levels: bool,
    identity: bool,
    out: np.ndarray,
) -> None:
    """:func:`forward_returns_nb` for the common case, with fewer branches a row.

    The default lookup only: backward, exact matches allowed, no tolerance, no session bounds
    and no ``"close"`` horizon, so each shift needs one pointer (the source rows at or before
    ``t + h``, within :data:`TIE_SLACK`) and no pick. With ``identity`` the query rows are
    already in input order (``q_rows`` is ``arange``): results are written sequentially
    without reading ``q_rows``. Integer times and shifts (int64, ``|t| + |h|`` below
    :data:`EXACT_INT_TIMES`) are compared as integers, without the float slack or a cast of the
    times. Same answers, bit for bit, as :func:`forward_returns_nb` with
    ``direction=BACKWARD, allow_exact=True, tolerance=inf``, no bounds and no close (``s_values``,
    ``columns`` and ``levels`` as there). Both
    release the GIL: runs of whole groups (slices of both offsets) can go to threads.
    """
    n_groups = q_offsets.size - 1
    n_shifts = shifts.size
    upto = np.empty(n_shifts, dtype=np.int64)
    for g in range(n_groups):
        s_lo = s_offsets[g]
        last = s_offsets[g + 1] - 1  # last source row with a time (NaN times sort last)
        while last >= s_lo and math.isnan(s_time[last]):
            last -= 1
        last_time = s_time[last] if last >= s_lo else math.nan
        upto[:] = s_lo
        for i in range(q_offsets[g], q_offsets[g + 1]):
            row = i if identity else q_rows[i]
            t = q_time[i]
            p0 = 1.0 if levels else now[i]
            if math.isnan(t) or math.isnan(p0) or p0 == 0.0 or last < s_lo:
                _write_nan_nb(out, n_shifts, -1, row)
                continue
            for k in range(n_shifts):
                shift = shifts[k]
                target = t + shift
                slack = tie_slack(t, shift, target)
                j = upto[k]
                while j <= last and s_time[j] <= target + slack:
                    j += 1
                upto[k] = j
                if j == s_lo or target - slack > last_time:  # nothing at or before, or no future price yet
                    _write_nan_nb(out, n_shifts, k, row)
                else:
                    price = s_values[columns[k], j - 1]
                    out[k, row] = _value_nb(price, p0, log, levels)  # pyright: ignore[reportArgumentType]  (numpy's stubs type a scalar read as an array)


@njit(cache=True)
def asof_price_nb(
    q_offsets: np.ndarray,
    q_time: np.ndarray,
    s_offsets: np.ndarray,
    s_time: np.ndarray,
    s_price: np.ndarray,
    direction: int,
    allow_exact: bool,
    tolerance: float,
    out: np.ndarray,
) -> None:
    """Write the source price matched at each query's own time (NaN if none) to ``out``.

    Same inputs and matching rule as :func:`forward_returns_nb` at shift 0, without the
    no-future-price rule; ``out`` is in query sort order.
    """
    for g in range(q_offsets.size - 1):
        s_lo = s_offsets[g]
        last = s_offsets[g + 1] - 1
        while last >= s_lo and math.isnan(s_time[last]):
            last -= 1
        below = 0
        upto = 0
        for i in range(q_offsets[g], q_offsets[g + 1]):
            t = q_time[i]
            out[i] = math.nan
            if math.isnan(t) or last < s_lo:
                continue
            slack = TIE_SLACK * abs(t)
            while s_lo + below <= last and s_time[s_lo + below] < t - slack:
                below += 1
            upto = max(upto, below)
            while s_lo + upto <= last and s_time[s_lo + upto] <= t + slack:
                upto += 1
            j = _pick_nb(s_time, s_lo, last, below, upto, t, slack, direction, allow_exact, tolerance)
            if j >= 0:
                out[i] = s_price[j]


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels with the argument types the wrapper uses."""
    offsets, rows = np.array([0, 2], np.int64), np.arange(2, dtype=np.int64)
    times, prices = np.array([0.0, 1.0]), np.ones(2)
    values = prices.reshape(1, 2)
    columns = np.zeros(1, np.int64)  # the value column each probe reads
    forward_returns_nb(
        offsets, rows, times, prices, offsets, times, values, columns, np.ones(1), np.zeros(1, np.bool_),
        BACKWARD, True, math.inf, False, False, np.empty(0), np.empty((1, 2)),
    )  # fmt: skip
    for time, shift in ((times, np.ones(1)), (np.array([0, 1], np.int64), np.ones(1, np.int64))):
        backward_returns_nb(
            offsets, rows, time, prices, offsets, time, values, columns, shift, False, False, True,
            np.empty((1, 2)),
        )  # fmt: skip
    asof_price_nb(offsets, times, offsets, times, prices, BACKWARD, True, math.inf, np.empty(2))
