"""The as-of kernels called directly, on arrays (the public API is tested in tests/test_forward.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vizflow.kernels.asof import BACKWARD, FORWARD, NEAREST, asof_price_nb, forward_returns_nb


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
