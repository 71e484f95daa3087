"""spread_measures_nb against a row-by-row Python reference: same floats, same NaNs, only its rows."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.spread import spread_measures_nb

NAN = math.nan
levels = st.one_of(st.just(NAN), st.just(0.0), st.floats(0.01, 200.0))
sides = st.sampled_from([-1.0, 0.0, 1.0])


def reference_row(p, s, m, q, later, *, quoted):
    """One row's measures in the kernel's output order, from the formulas of the docstring."""
    d = np.float64(NAN if s == 0 else s)
    with np.errstate(all="ignore"):  # a zero mid: inf or NaN, as numpy (and Polars) divide
        w = 2.0 * d / m
        w_hs = 2.0 * d / q if quoted and q > 0 else NAN
        moves = [p - m]
        for x in later:
            moves += [p - x, x - m]
        out = [q / m] if quoted else []
        out += [w * move for move in moves]
        if quoted:
            out += [w_hs * move for move in moves]
    return out


@st.composite
def batches(draw):
    n = draw(st.integers(0, 8))
    n_later = draw(st.integers(0, 3))
    rows = st.tuples(levels, sides, levels, levels, st.lists(levels, min_size=n_later, max_size=n_later))
    data = draw(st.lists(rows, min_size=n, max_size=n))
    later_of = draw(st.lists(st.integers(-1, n_later - 1), min_size=1, max_size=4))
    return data, n_later, later_of


def arrays(data, n_later):
    n = len(data)
    price, side, mid, spread = (np.array([row[c] for row in data], dtype=np.float64) for c in range(4))
    later = np.array([[row[4][k] for row in data] for k in range(n_later)], dtype=np.float64)
    return price, side, mid, spread, later.reshape(n_later, n)


@given(batches(), st.booleans(), st.data())
def test_equals_a_row_by_row_reference(batch, quoted, data):
    rows, n_later, later_of = batch
    price, side, mid, spread, later = arrays(rows, n_later)
    n = price.size
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    n_out = (1 + 2 * len(later_of)) * (2 if quoted else 1) + quoted
    out = np.full((n_out, n), -7.0)  # rows outside start..stop-1 stay untouched
    index = np.array(later_of, dtype=np.int64)
    assert spread_measures_nb(price, side, mid, spread, later, index, quoted, start, stop, out) == -1
    for i in range(n):
        if not start <= i < stop:
            assert (out[:, i] == -7.0).all()
            continue
        wanted = [mid[i] if k < 0 else later[k, i] for k in later_of]
        expected = reference_row(price[i], side[i], mid[i], spread[i], wanted, quoted=quoted)
        assert np.array_equal(np.array(expected), out[:, i], equal_nan=True)


@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0, 2.0, -0.5, NAN]), min_size=1, max_size=10))
def test_returns_the_first_bad_side(side_values):
    side = np.array(side_values)
    ones = np.ones(side.size)
    out = np.empty((3, side.size))
    got = spread_measures_nb(
        ones, side, ones, ones, np.ones((1, side.size)), np.zeros(1, np.int64), False, 0, side.size, out
    )
    bad = [i for i, s in enumerate(side_values) if s not in (-1.0, 0.0, 1.0)]
    assert got == (bad[0] if bad else -1)
