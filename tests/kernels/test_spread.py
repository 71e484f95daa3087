"""spread_weights_nb against a row-by-row Python reference: same floats, same NaNs, only its rows."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.spread import spread_weights_nb

NAN = math.nan
levels = st.one_of(st.just(NAN), st.just(0.0), st.floats(0.01, 200.0))
sides = st.sampled_from([-1.0, 0.0, 1.0])


@given(st.lists(st.tuples(sides, levels, levels), max_size=8), st.booleans(), st.data())
def test_weights_equal_a_row_by_row_reference(rows, quoted, data):
    side, mid, spread = (np.array([row[c] for row in rows], dtype=np.float64) for c in range(3))
    n = side.size
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    out = np.full((3, n), -7.0)  # rows outside start..stop-1 (and unquoted rows 1, 2) stay untouched
    assert spread_weights_nb(side, mid, spread, quoted, start, stop, out) == -1
    for i in range(n):
        d = np.float64(NAN if side[i] == 0 else side[i])
        with np.errstate(all="ignore"):
            expected = [2.0 * d / mid[i], spread[i] / mid[i], 2.0 * d / spread[i] if spread[i] > 0 else NAN]
        if not start <= i < stop:
            expected = [-7.0, -7.0, -7.0]
        elif not quoted:
            expected[1:] = [-7.0, -7.0]
        assert np.array_equal(np.array(expected), out[:, i], equal_nan=True)


@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0, 2.0, -0.5, NAN]), min_size=1, max_size=10))
def test_weights_return_the_first_bad_side(side_values):
    side = np.array(side_values)
    ones = np.ones(side.size)
    got = spread_weights_nb(side, ones, ones, True, 0, side.size, np.empty((3, side.size)))
    bad = [i for i, s in enumerate(side_values) if s not in (-1.0, 0.0, 1.0)]
    assert got == (bad[0] if bad else -1)
