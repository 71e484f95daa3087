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


def _layout(zero: list[bool], *, quoted: bool):
    """A block laid out as spread_decomposition does: levels (M_t, [S_t], later M_{t+h}), then the rest."""
    names = ["effective", *(["quoted"] if quoted else [])]
    realized, impact = np.full((2, len(zero)), -1, np.int64), np.full((2, len(zero)), -1, np.int64)
    order = [k for k, z in enumerate(zero) if not z] + [k for k, z in enumerate(zero) if z]
    for k in order:
        names.append(f"realized_{k}")
        realized[0, k] = len(names) - 1
    for k in range(len(zero)):
        names.append(f"impact_{k}")
        impact[0, k] = len(names) - 1
    hs = -1
    if quoted:
        names.append("effective_hs")
        hs = len(names) - 1
        for k in range(len(zero)):
            names += [f"realized_{k}_hs", f"impact_{k}_hs"]
            realized[1, k], impact[1, k] = len(names) - 2, len(names) - 1
    rows = np.array([0, 1 if quoted else -1, hs], np.int64)
    return names, rows, realized, impact, np.array(zero, dtype=np.bool_)


def _expected(row, later, zero, *, quoted):
    """One row's measures by name, as Polars forms them: weight times move."""
    side, price, now, spread = row
    d = NAN if side == 0 else float(side)
    got = {}
    with np.errstate(all="ignore"):
        w = np.float64(2.0) * d / np.float64(now)
        w_hs = np.float64(2.0) * d / np.float64(spread) if spread > 0 else NAN
        moves = {"effective": price - now}
        for k, (mid, at_t) in enumerate(zip(later, zero, strict=True)):
            mid_later = now if at_t else mid
            moves[f"realized_{k}"] = price - mid_later
            moves[f"impact_{k}"] = mid_later - now
        for name, move in moves.items():
            got[name] = w * move
            if quoted:
                got[f"{name}_hs"] = w_hs * move
        if quoted:
            got["quoted"] = np.float64(spread) / np.float64(now)
    return got


@given(
    st.lists(st.tuples(st.sampled_from([-1, 0, 1]), levels, levels, levels), max_size=12),
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
    names, at_rows, realized, impact, at_t = _layout(zero, quoted=quoted)
    block = np.full((len(names), n), UNTOUCHED)
    block[0] = now  # the levels where the lookup leaves them
    if quoted:
        block[1] = spread
    for k, mid in enumerate(later):
        if not zero[k]:
            block[realized[0, k]] = mid
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    before = block.copy()
    assert spread_measures_nb(side, price, block, at_rows, realized, impact, at_t, start, stop) == -1
    for i in range(n):
        if start <= i < stop:
            by_name = _expected((side[i], price[i], now[i], spread[i]), later, zero, quoted=quoted)
            expected = np.array([by_name[name] for name in names])
        else:
            expected = before[:, i]
        assert np.array_equal(expected, block[:, i], equal_nan=True), i


ONE_HORIZON = (np.array([0, -1, -1]), np.array([[1], [-1]]), np.array([[2], [-1]]), np.array([False]))


def test_the_tiles_cover_a_run_longer_than_one():
    n = 2 * TILE + 3
    side, price = np.ones(n, np.int8), np.full(n, 10.5)
    block = np.full((3, n), 10.0)  # effective row 0: M_t = 10, the mid later 10.0 too
    assert spread_measures_nb(side, price, block, *ONE_HORIZON, 0, n) == -1
    assert np.array_equal(block, np.repeat([[0.1], [0.1], [0.0]], n, axis=1))


@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0, 2.0, -0.5, NAN]), min_size=1, max_size=10))
def test_the_first_bad_side_is_returned(side_values):
    side = np.array(side_values)
    ones = np.ones(side.size)
    got = spread_measures_nb(side, ones, np.ones((3, side.size)), *ONE_HORIZON, 0, side.size)
    bad = [i for i, s in enumerate(side_values) if s not in (-1.0, 0.0, 1.0)]
    assert got == (bad[0] if bad else -1)


def test_int8_sides_out_of_range_are_bad():
    side = np.array([1, -1, 0, 2, -128], dtype=np.int8)
    ones, block = np.ones(side.size), np.ones((3, side.size))
    assert spread_measures_nb(side, ones, block, *ONE_HORIZON, 0, side.size) == 3
    assert spread_measures_nb(side, ones, block, *ONE_HORIZON, 4, side.size) == 4
