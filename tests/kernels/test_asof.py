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


def _one_lookup(quotes: list[float], t: float, h: float, direction: int) -> float:
    """The price (1 + return on a unit price) found at t + h among quotes priced 10, 20, 30, ..."""
    q_offsets, s_offsets = np.array([0, 1], np.int64), np.array([0, len(quotes)], np.int64)
    prices = 10.0 * np.arange(1, len(quotes) + 1)
    out = np.empty((1, 1))
    forward_returns_nb(
        q_offsets, np.zeros(1, np.int64), np.array([t]), np.ones(1), s_offsets, np.array(quotes), prices,
        np.array([h]), np.zeros(1, np.bool_), direction, True, math.inf, False, np.empty(0), out,
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
    general = np.full((shifts.size, n), 7.0)
    forward_returns_nb(
        q_offsets, q_rows, q_time, now, s_offsets, s_time, s_price, shifts, np.zeros(shifts.size, np.bool_),
        BACKWARD, True, math.inf, log, np.empty(0), general,
    )  # fmt: skip
    fast = np.full((shifts.size, n), 7.0)
    backward_returns_nb(
        q_offsets, q_rows, q_time, now, s_offsets, s_time, s_price, shifts, log, identity, fast
    )
    assert np.array_equal(fast.view(np.int64), general.view(np.int64))
