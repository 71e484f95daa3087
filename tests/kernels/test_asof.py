"""The as-of kernels called directly, on arrays (the public API is tested in tests/ops/test_forward.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.asof import (
    BACKWARD,
    FORWARD,
    NEAREST,
    asof_price_nb,
    backward_returns_nb,
    forward_returns_nb,
)

ONE_PROBE = np.zeros(1, np.int64)  # one probe, reading value column 0, written to out[0]


def _one_lookup(quotes: list[float], t: float, h: float, direction: int) -> float:
    """The price (1 + return on a unit price) found at t + h among quotes priced 10, 20, 30, ..."""
    q_offsets, s_offsets = np.array([0, 1], np.int64), np.array([0, len(quotes)], np.int64)
    prices = 10.0 * np.arange(1, len(quotes) + 1)
    out = np.empty((1, 1))
    forward_returns_nb(
        q_offsets, np.zeros(1, np.int64), np.array([t]), np.ones(1), s_offsets, np.array(quotes),
        prices.reshape(1, -1), ONE_PROBE, np.array([h]), np.zeros(1, np.bool_), direction, True, math.inf,
        False, False, np.empty(0), out,
    )  # fmt: skip
    return out[0, 0] + 1


@pytest.mark.parametrize(
    ("quotes", "direction", "want"),
    [
        ([0.2, 0.4], NEAREST, 10.0),  # 0.1 + 0.2 lies as far from 0.2 as from 0.4: the backward one
        ([0.3, 0.3], NEAREST, 20.0),  # equal times at the target: the last, as backward
        ([0.3, 0.3], BACKWARD, 20.0),
        ([0.3, 0.3], FORWARD, 10.0),  # forward takes the first of equal times
        ([0.2, 0.35], NEAREST, 20.0),  # a real difference still decides
    ],
)
def test_regression_ties_within_the_slack_follow_the_documented_rule(quotes, direction, want):
    assert _one_lookup(quotes, 0.1, 0.2, direction) == pytest.approx(want)


def test_asof_price_at_the_row_time_breaks_nearest_ties_backward():
    offsets = np.array([0, 1], np.int64)
    out = np.empty(1)
    asof_price_nb(
        offsets, np.array([0.30000000000000004]), np.array([0, 2], np.int64), np.array([0.2, 0.4]),
        np.array([1.0, 2.0]), NEAREST, True, math.inf, out,
    )  # fmt: skip
    assert out.tolist() == [1.0]


# decimal times whose sums round across each other (0.1 + 0.2 > 0.3, 0.7 + 0.1 < 0.8): ties in the slack
TIMES = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.4, 0.7, 0.8, 1.0, -0.1, math.nan])
PRICES = st.one_of(st.floats(0.5, 20.0), st.sampled_from([0.0, math.nan, -1.0]))


def _groups(data: st.DataObject, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR offsets and times sorted within each group (NaN last), as ``arrange`` hands them over."""
    sizes = [data.draw(st.integers(0, 12)) for _ in range(n_groups)]
    times = [
        sorted(data.draw(st.lists(TIMES, min_size=s, max_size=s)), key=lambda t: (math.isnan(t), t))
        for s in sizes
    ]
    offsets = np.cumsum([0, *sizes]).astype(np.int64)
    return offsets, np.array([t for g in times for t in g], dtype=np.float64)


@given(data=st.data(), n_groups=st.integers(1, 3), log=st.booleans(), identity=st.booleans())
def test_backward_returns_nb_equals_the_general_kernel_bit_for_bit(data, n_groups, log, identity):
    """The default case's kernel against forward_returns_nb (backward, exact, no tolerance/bounds/close)."""
    q_offsets, q_time = _groups(data, n_groups)
    s_offsets, s_time = _groups(data, n_groups)
    n, m = q_time.size, s_time.size
    now = np.array(data.draw(st.lists(PRICES, min_size=n, max_size=n)), dtype=np.float64)
    s_price = np.array(data.draw(st.lists(PRICES, min_size=m, max_size=m)), dtype=np.float64)
    shifts = np.array(
        data.draw(
            st.lists(
                st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, -0.1, 2.5]), min_size=1, max_size=4, unique=True
            )
        )
    )
    q_rows = (
        np.arange(n, dtype=np.int64) if identity else np.array(data.draw(st.permutations(range(n))), np.int64)
    )
    values, columns = s_price.reshape(1, -1), np.zeros(shifts.size, dtype=np.int64)
    general = np.full((shifts.size, n), 7.0)
    forward_returns_nb(
        q_offsets, q_rows, q_time, now, s_offsets, s_time, values, columns, shifts,
        np.zeros(shifts.size, np.bool_), BACKWARD, True, math.inf, log, False, np.empty(0), general,
    )  # fmt: skip
    fast = np.full((shifts.size, n), 7.0)
    backward_returns_nb(
        q_offsets, q_rows, q_time, now, s_offsets, s_time, values, columns, shifts, log, False, identity, fast
    )
    assert np.array_equal(fast.view(np.int64), general.view(np.int64))


def _probes(
    data: st.DataObject, shifts: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probes (shift, column) drawn from the grid, in grid order: their shift index, shift and column."""
    wanted = np.array(
        data.draw(st.lists(st.booleans(), min_size=shifts.size * n_cols, max_size=shifts.size * n_cols))
    ).reshape(shifts.size, n_cols)
    at, columns = np.nonzero(wanted)
    return at, shifts[at], columns.astype(np.int64)


@given(
    data=st.data(),
    n_groups=st.integers(1, 3),
    direction=st.sampled_from([BACKWARD, FORWARD, NEAREST]),
    allow_exact=st.booleans(),
    tolerance=st.sampled_from([math.inf, 0.0, 0.2]),
)
def test_levels_of_several_columns_are_what_each_one_column_return_reads(
    data, n_groups, direction, allow_exact, tolerance
):
    """One pass writing two columns' levels at chosen shifts = one-column returns lookups, bit for bit.

    For every slot (shift k, column c) the level L found gives the one-column return's value
    ``(L - now) / now`` (NaN where that is not finite, or where ``now`` is NaN or 0), so the match
    is the same source row; levels never read ``now``.
    """
    q_offsets, q_time = _groups(data, n_groups)
    s_offsets, s_time = _groups(data, n_groups)
    n, m = q_time.size, s_time.size
    now = np.array(data.draw(st.lists(PRICES, min_size=n, max_size=n)), dtype=np.float64)
    values = np.array(data.draw(st.lists(PRICES, min_size=2 * m, max_size=2 * m)), np.float64).reshape(2, m)
    shifts = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.1, 0.3, -0.1, 2.5]), min_size=1, max_size=3, unique=True))
    )
    at, probe_shifts, columns = _probes(data, shifts, 2)
    rows = np.array(data.draw(st.permutations(range(n))), np.int64)
    close = np.zeros(probe_shifts.size, np.bool_)
    levels = np.full((probe_shifts.size + 1, n), 7.0)  # a row past the probes stays untouched
    forward_returns_nb(
        q_offsets, rows, q_time, np.empty(0), s_offsets, s_time, values, columns, probe_shifts, close,
        direction, allow_exact, tolerance, False, True, np.empty(0), levels,
    )  # fmt: skip
    assert (levels[-1] == 7.0).all()
    for probe, (k, c) in enumerate(zip(at, columns, strict=True)):
        one = np.full((1, n), 7.0)
        forward_returns_nb(
            q_offsets, rows, q_time, now, s_offsets, s_time, values[c : c + 1], np.zeros(1, np.int64),
            shifts[k : k + 1], close[:1], direction, allow_exact, tolerance, False, False, np.empty(0), one,
        )  # fmt: skip
        level = levels[probe]
        sorted_now = np.empty(n)
        sorted_now[rows] = now
        with np.errstate(all="ignore"):
            expected = (level - sorted_now) / sorted_now
        expected[~np.isfinite(expected)] = np.nan
        assert np.array_equal(one[0].view(np.int64), expected.view(np.int64)), (k, c)
        assert not np.isinf(level).any()


@given(data=st.data(), n_groups=st.integers(1, 3), identity=st.booleans())
def test_backward_levels_equal_the_general_kernel_bit_for_bit(data, n_groups, identity):
    """Levels of two columns: the default case's kernel against forward_returns_nb."""
    q_offsets, q_time = _groups(data, n_groups)
    s_offsets, s_time = _groups(data, n_groups)
    n, m = q_time.size, s_time.size
    values = np.array(data.draw(st.lists(PRICES, min_size=2 * m, max_size=2 * m)), np.float64).reshape(2, m)
    shifts = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.1, 0.7, -0.1]), min_size=1, max_size=3, unique=True))
    )
    _, probe_shifts, columns = _probes(data, shifts, 2)
    rows = (
        np.arange(n, dtype=np.int64) if identity else np.array(data.draw(st.permutations(range(n))), np.int64)
    )
    general = np.full((probe_shifts.size, n), 7.0)
    forward_returns_nb(
        q_offsets, rows, q_time, np.empty(0), s_offsets, s_time, values, columns, probe_shifts,
        np.zeros(probe_shifts.size, np.bool_), BACKWARD, True, math.inf, False, True, np.empty(0), general,
    )  # fmt: skip
    fast = np.full_like(general, 7.0)
    backward_returns_nb(
        q_offsets,
        rows,
        q_time,
        np.empty(0),
        s_offsets,
        s_time,
        values,
        columns,
        probe_shifts,
        False,
        True,
        identity,
        fast,
    )
    assert np.array_equal(fast.view(np.int64), general.view(np.int64))
