"""The packed (code, time) order: a counting sort by code, then radix sorts of packed words by time.

Checked against ``np.lexsort`` (stable): ties keep their input order, negative times, spans near
the 64-bit limit, empty and one-row groups, one row, float times in decimal units.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.arrangements import force_threads
from vizflow.enrich import presorted
from vizflow.enrich.presorted import packed_order
from vizflow.kernels.radix import exact_ints_nb, place_by_code_nb, sort_buckets_nb


def _reference(codes: np.ndarray, n_keys: int, times: np.ndarray) -> tuple[list[int], list[int]]:
    """Stable (code, time) order and CSR offsets, by numpy."""
    order = np.lexsort((times, codes))
    offsets = np.zeros(n_keys + 1, dtype=np.int64)
    np.add.at(offsets, codes + 1, 1)
    return order.tolist(), np.cumsum(offsets).tolist()


@st.composite
def keyed_times(draw, times):
    n_keys = draw(st.integers(1, 6))  # some codes may have no row: empty groups
    n = draw(st.integers(1, 80))
    codes = np.array(draw(st.lists(st.integers(0, n_keys - 1), min_size=n, max_size=n)), dtype=np.int64)
    return codes, n_keys, draw(times(n))


def _int_times(n):
    narrow = st.integers(-3, 3)  # many ties
    wide = st.integers(-(2**55), 2**55)  # negative, a span of 57 bits: fits beside 7 row bits
    return st.one_of(narrow, wide).flatmap(
        lambda _: st.lists(st.one_of(narrow, wide), min_size=n, max_size=n)
    )


@given(
    case=keyed_times(lambda n: _int_times(n).map(lambda v: np.array(v, dtype=np.int64))),
    threaded=st.booleans(),
)
def test_integer_times_equal_a_stable_lexsort(case, threaded):
    codes, n_keys, times = case
    with pytest.MonkeyPatch.context() as mp:
        if threaded:  # runs of codes sorted, and parts of rows placed, in three threads
            force_threads(mp)
            mp.setattr(presorted, "_ROWS_PER_PART", 1)
        found = packed_order(codes, n_keys, times)
    assert found is not None
    order, offsets, identity = found
    expected_order, expected_offsets = _reference(codes, n_keys, times)
    assert order.tolist() == expected_order
    assert offsets.tolist() == expected_offsets
    assert identity == (expected_order == list(range(codes.size)))


MILLIS = st.integers(-(10**7), 10**7).map(lambda ms: ms / 1000)


@given(
    case=keyed_times(
        lambda n: st.lists(st.one_of(MILLIS, st.sampled_from([0.0, -0.0, 1.5])), min_size=n, max_size=n)
    )
)
def test_float_times_in_decimal_units_equal_a_stable_lexsort(case):
    codes, n_keys, values = case
    times = np.array(values, dtype=np.float64)
    found = packed_order(codes, n_keys, times)
    assert found is not None
    order, offsets, _ = found
    # -0.0 and 0.0 are one time: lexsort on the values themselves treats them as equal too.
    expected_order, expected_offsets = _reference(codes, n_keys, times)
    assert order.tolist() == expected_order
    assert offsets.tolist() == expected_offsets


@pytest.mark.parametrize(
    ("times", "why"),
    [
        ([0.5, math.nan], "a NaN"),
        ([0.5, math.inf], "an infinity"),
        ([0.1, 1 / 3], "not a multiple of a decimal unit"),
        ([-(2**63), 2**63 - 1], "a span of 64 bits and a row bit"),
    ],
)
def test_times_that_do_not_fit_are_left_to_the_general_sort(times, why):
    values = np.array(times, dtype=np.int64 if isinstance(times[0], int) else np.float64)
    assert packed_order(np.zeros(2, dtype=np.int64), 1, values) is None, why


def test_a_span_of_63_bits_beside_one_row_bit_fits():
    found = packed_order(np.zeros(2, dtype=np.int64), 1, np.array([2**62 - 1, -(2**62)]))
    assert found is not None
    assert found[0].tolist() == [1, 0]


def test_one_row_and_empty_frames():
    order, offsets, identity = packed_order(np.array([2]), 4, np.array([-7], dtype=np.int64))
    assert (order.tolist(), offsets.tolist(), identity) == ([0], [0, 0, 0, 1, 1], True)
    assert packed_order(np.zeros(0, dtype=np.int64), 1, np.zeros(0, dtype=np.int64)) is None


@given(
    values=st.lists(
        st.one_of(MILLIS, st.floats(allow_nan=True, allow_infinity=True)), min_size=1, max_size=40
    )
)
def test_exact_ints_accepts_only_an_order_preserving_map(values):
    times = np.array(values, dtype=np.float64)
    out, bounds = np.empty(times.size, dtype=np.int64), np.empty(2, dtype=np.int64)
    if not exact_ints_nb(times, 1000.0, out, bounds):
        return
    assert bounds.tolist() == [out.min(), out.max()]
    # Accepted: every pair of times compares as their integers do.
    for a in range(times.size):
        for b in range(times.size):
            assert (times[a] < times[b]) == (out[a] < out[b])
            assert (times[a] == times[b]) == (out[a] == out[b])


def test_rows_placed_and_buckets_sorted_in_parts_equal_one_part():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 7, 5000)
    times = rng.integers(0, 1 << 30, 5000)
    offsets = np.zeros(8, np.int64)
    np.cumsum(np.bincount(codes, minlength=7), out=offsets[1:])
    whole = np.empty(5000, np.uint64)
    place_by_code_nb(codes, times, 0, 5000, offsets[:-1].copy(), 0, 13, whole)
    words = np.empty(5000, np.uint64)
    fill = offsets[:-1].copy()
    place_by_code_nb(codes, times, 0, 2000, fill, 0, 13, words)  # the second part follows the first
    place_by_code_nb(codes, times, 2000, 5000, fill, 0, 13, words)
    assert whole.tolist() == words.tolist()
    order, parts = np.empty(5000, np.int64), np.empty(5000, np.int64)
    assert not sort_buckets_nb(whole, offsets, 13, 30, order)
    assert not sort_buckets_nb(words, offsets[:4], 13, 30, parts)
    assert not sort_buckets_nb(words, offsets[3:], 13, 30, parts)
    assert whole.tolist() == words.tolist()
    assert order.tolist() == parts.tolist() == np.lexsort((times, codes)).tolist()
