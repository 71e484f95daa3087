"""spread_measures_nb against a row-by-row Python reference: same floats, same NaNs, only its rows."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.spread import TILE, spread_measures_nb

NAN = math.nan
levels = st.one_of(st.just(NAN), st.just(0.0), st.floats(0.01, 200.0))
UNTOUCHED = -7.0
ONE_HORIZON = (np.array([1]), np.array([2]), np.array([False]), 3)  # rows 0 M_t, 1 M_{t+h}, 2 impact


def _layout(zero: list[bool], *, quoted: bool):
    """The block's rows: [quoted], effective, (realized, impact) per horizon, then the _hs twins."""
    first = 1 if quoted else 0
    moves = 1 + 2 * len(zero)
    realized = np.arange(first + 1, first + moves, 2, dtype=np.int64)
    return first, moves, realized, realized + 1, np.array(zero, dtype=np.bool_)


def _expected(row, later, zero, *, quoted):
    """One row's measures, as Polars forms them: weight times move, in the block's row order."""
    side, price, now, spread = row
    d = NAN if side == 0 else float(side)
    with np.errstate(all="ignore"):
        w = np.float64(2.0) * d / np.float64(now)
        w_hs = np.float64(2.0) * d / np.float64(spread) if spread > 0 else NAN
        moves = [price - now]
        for mid, at_t in zip(later, zero, strict=True):
            mid_later = now if at_t else mid
            moves += [price - mid_later, mid_later - now]
        got = [w * m for m in moves]
        if quoted:
            got = [np.float64(spread) / np.float64(now), *got, *(w_hs * m for m in moves)]
    return got


@given(
    st.lists(st.tuples(st.sampled_from([-1, 0, 1]), levels, levels, levels), max_size=3 * TILE // 1000 + 6),
    st.lists(st.tuples(st.booleans(), levels), min_size=1, max_size=4),
    st.booleans(),
    st.sampled_from([np.int8, np.float64]),
    st.data(),
)
def test_measures_equal_a_row_by_row_reference(rows, horizons, quoted, side_dtype, data):
    side = np.array([r[0] for r in rows], dtype=side_dtype)
    price, now, spread = (np.array([r[c] for r in rows], dtype=np.float64) for c in (1, 2, 3))
    n = side.size
    zero = [h[0] for h in horizons]
    later = [h[1] for h in horizons]  # one mid a horizon, the same for every row
    first, moves, realized, impact, at_t = _layout(zero, quoted=quoted)
    block = np.full((first + moves * (2 if quoted else 1), n), UNTOUCHED)
    block[first] = now  # the levels where the lookup leaves them
    if quoted:
        block[0] = spread
    for k, mid in enumerate(later):
        if not zero[k]:
            block[realized[k]] = mid
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    before = block.copy()
    got = spread_measures_nb(side, price, block, first, first - 1, realized, impact, at_t, moves, start, stop)
    assert got == -1
    for i in range(n):
        if start <= i < stop:
            expected = _expected((side[i], price[i], now[i], spread[i]), later, zero, quoted=quoted)
        else:
            expected = before[:, i]
        assert np.array_equal(np.array(expected), block[:, i], equal_nan=True), i


def test_the_tiles_cover_a_run_longer_than_one():
    n = 2 * TILE + 3
    side, price = np.ones(n, np.int8), np.full(n, 10.5)
    block = np.full((3, n), 10.0)  # effective row 0: M_t = 10, the mid later 10.0 too
    rows = spread_measures_nb(
        side, price, block, 0, -1, np.array([1]), np.array([2]), np.array([False]), 3, 0, n
    )
    assert rows == -1
    assert np.array_equal(block, np.repeat([[0.1], [0.1], [0.0]], n, axis=1))


@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0, 2.0, -0.5, NAN]), min_size=1, max_size=10))
def test_the_first_bad_side_is_returned(side_values):
    side = np.array(side_values)
    ones = np.ones(side.size)
    block = np.ones((3, side.size))
    got = spread_measures_nb(
        side, ones, block, 0, -1, np.array([1]), np.array([2]), np.array([False]), 3, 0, side.size
    )
    bad = [i for i, s in enumerate(side_values) if s not in (-1.0, 0.0, 1.0)]
    assert got == (bad[0] if bad else -1)


def test_int8_sides_out_of_range_are_bad():
    side = np.array([1, -1, 0, 2, -128], dtype=np.int8)
    ones, block = np.ones(side.size), np.ones((3, side.size))
    assert spread_measures_nb(side, ones, block, 0, -1, *ONE_HORIZON, 0, side.size) == 3
    assert spread_measures_nb(side, ones, block, 0, -1, *ONE_HORIZON, 4, side.size) == 4
