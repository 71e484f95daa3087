"""``window_pass_nb`` called directly, on arrays, against a loop over each window's rows.

The public API (``forward_window``) is tested in tests/ops/test_window.py; here every output of
the one pass (bounds, lengths, counts, sums, maxima, minima of float and integer columns, every
horizon at once) meets a reference that filters each window's rows by their times.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.window import (
    HOLDS_INF,
    HOLDS_NAN,
    HOLDS_NULL,
    WANT_COUNT,
    WANT_MAX,
    WANT_MIN,
    WANT_SUM,
    edge_positions_nb,
    window_pass_nb,
)

EVERYTHING = WANT_COUNT | WANT_SUM | WANT_MAX | WANT_MIN
# (start, end, closed_right): (t, t + h], [t + h, t), pairs (t + a, t + b], the empty (t, t]
WINDOWS = [(0.0, 1.0, True), (0.0, 3.0, True), (-2.0, 0.0, False), (-1.5, 2.0, True), (0.5, 4.0, True),
           (-3.0, -1.0, True), (0.0, 0.0, True), (0.0, math.inf, True)]  # fmt: skip


def _inside(s: float, t: float, start: float, end: float, right: bool) -> bool:
    if right:
        return t + start < s <= t + end
    return t + start <= s < t + end


@st.composite
def _groups(draw):
    n_groups = draw(st.integers(1, 3))
    times = st.integers(0, 12).map(lambda v: v / 2)
    q_groups, s_groups = [], []
    for _ in range(n_groups):
        q = sorted(draw(st.lists(times, max_size=8))) + [math.nan] * draw(st.integers(0, 1))
        s = sorted(draw(st.lists(times, max_size=10))) + [math.nan] * draw(st.integers(0, 1))
        q_groups.append(q)
        s_groups.append(s)
    n_src = sum(len(s) for s in s_groups)
    floats = st.sampled_from([1.0, -2.5, 7.0, 0.25, math.nan, math.inf, -math.inf])
    f_values = draw(st.lists(floats, min_size=n_src, max_size=n_src))
    i_values = draw(st.lists(st.integers(-5, 5), min_size=n_src, max_size=n_src))
    f_valid = draw(st.lists(st.booleans(), min_size=n_src, max_size=n_src))
    i_valid = draw(st.lists(st.booleans(), min_size=n_src, max_size=n_src))
    return q_groups, s_groups, f_values, f_valid, i_values, i_valid


def _offsets(groups) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)


def _run(q_groups, s_groups, columns, windows, prevailing, *, holds=HOLDS_NULL | HOLDS_NAN | HOLDS_INF):
    """Run the pass on one float and one integer column wanting everything; return its outputs.

    ``holds``: a flag set for nothing is allowed (it only costs time); one left out promises none.
    """
    f_values, f_valid, i_values, i_valid = columns
    n_q, n_h = sum(len(q) for q in q_groups), len(windows)
    wants = np.array([EVERYTHING | holds], np.int64)
    rows = np.array([[0, 0, 0, 0]], np.int64)
    out = {
        "bounds": np.full((n_h, 2, n_q), -1, np.int64),
        "len": np.full((n_h, n_q), -1, np.int64),
        "f": [np.full((n_h, 1, n_q), -1, np.int64)] + [np.full((n_h, 1, n_q), -99.0) for _ in range(3)],
        "i": [np.full((n_h, 1, n_q), -99, np.int64) for _ in range(4)],
    }
    window_pass_nb(
        _offsets(q_groups), np.array([t for q in q_groups for t in q]), _offsets(s_groups),
        np.array([s for g in s_groups for s in g]), np.array([w[0] for w in windows]),
        np.array([w[1] for w in windows]), np.array([w[2] for w in windows], np.bool_), 1e-15, prevailing,
        np.array([f_values]), np.array([f_valid], np.bool_), wants, rows,
        np.array([i_values], np.int64), np.array([i_valid], np.bool_), wants, rows,
        out["bounds"], out["len"], *out["f"], *out["i"],
    )  # fmt: skip
    return out


def _expect_float(values: list[float]) -> tuple[float, float, float]:
    """Sum, max and min as Polars gives them: IEEE sum, NaN skipped by max / min unless alone."""
    total = math.fsum(v for v in values if math.isfinite(v)) if values else 0.0
    if any(math.isnan(v) for v in values) or (math.inf in values and -math.inf in values):
        total = math.nan
    elif math.inf in values:
        total = math.inf
    elif -math.inf in values:
        total = -math.inf
    numbers = [v for v in values if not math.isnan(v)]
    if not numbers:
        return total, math.nan, math.nan
    return total, max(numbers), min(numbers)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


@given(_groups(), st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=3, unique=True), st.booleans())
def test_every_output_of_every_horizon_equals_a_loop_over_the_window(groups, windows, prevailing):
    q_groups, s_groups, f_values, f_valid, i_values, i_valid = groups
    out = _run(q_groups, s_groups, (f_values, f_valid, i_values, i_valid), windows, prevailing)
    firsts = _offsets(s_groups)
    q_times = [t for q in q_groups for t in q]
    q_group = [g for g, q in enumerate(q_groups) for _ in q]
    s_times = [s for g in s_groups for s in g]
    for h, (start, end, right) in enumerate(windows):
        for i, t in enumerate(q_times):
            lo, hi = out["bounds"][h, :, i]
            assert out["len"][h, i] == hi - lo
            if math.isnan(t):  # the empty window at the end of the group's timed rows (null later)
                continue
            g = q_group[i]
            group = range(firsts[g], firsts[g + 1])
            rows = [
                j for j in group if not math.isnan(s_times[j]) and _inside(s_times[j], t, start, end, right)
            ]
            if prevailing:
                edge = t + start  # the row in force at the window's start: at or before it (closed right)
                before = [j for j in group if s_times[j] <= edge and (right or s_times[j] < edge)]
                if before and (not rows or before[-1] < rows[0]):
                    rows = [before[-1], *rows]
            assert list(range(lo, hi)) == rows, (h, i, t)
            f_in = [f_values[j] for j in rows if f_valid[j]]
            i_in = [i_values[j] for j in rows if i_valid[j]]
            count, total, top, bottom = (out["f"][k][h, 0, i] for k in range(4))
            assert count == len(f_in)
            want_total, want_top, want_bottom = _expect_float(f_in)
            assert _same(total, want_total), (h, i, total, want_total)
            if f_in:
                assert _same(top, want_top), (h, i, top, f_in)
                assert _same(bottom, want_bottom), (h, i, bottom, f_in)
            count, total, top, bottom = (out["i"][k][h, 0, i] for k in range(4))
            assert (count, total) == (len(i_in), sum(i_in))
            if i_in:
                assert (top, bottom) == (max(i_in), min(i_in))


def test_float_sums_keep_their_digits_next_to_a_huge_value():
    """Prefix sums are double-doubles per group: a window after 1e17 keeps 15 digits (1e17 * 2**-106)."""
    times = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([[1e17, 0.1, 0.2, 0.3]])
    sums = np.empty((1, 1, 4))
    offsets = np.array([0, 4], np.int64)
    window_pass_nb(
        offsets, times - 0.5, offsets, times, np.zeros(1), np.array([2.0]), np.ones(1, np.bool_), 0.0, False,
        values, np.ones((1, 4), np.bool_), np.array([WANT_SUM], np.int64), np.zeros((1, 4), np.int64),
        np.empty((0, 4), np.int64), np.empty((0, 4), np.bool_), np.empty(0, np.int64),
        np.empty((0, 4), np.int64), np.empty((0, 0, 0), np.int64), np.empty((0, 0), np.int64),
        np.empty((0, 0, 0), np.int64), sums, np.empty((0, 0, 0)), np.empty((0, 0, 0)),
        np.empty((0, 0, 0), np.int64), np.empty((0, 0, 0), np.int64), np.empty((0, 0, 0), np.int64),
        np.empty((0, 0, 0), np.int64),
    )  # fmt: skip
    assert sums[0, 0].tolist()[1:] == pytest.approx([0.1 + 0.2, 0.2 + 0.3, 0.3], rel=1e-15, abs=0)
    assert sums[0, 0, 0] == 1e17 + 0.1  # (-0.5, 1.5]: 1e17 and 0.1, to the nearest double


@given(
    st.lists(st.integers(0, 12).map(float), max_size=12).map(sorted),
    st.lists(st.integers(0, 12).map(float), max_size=12).map(sorted),
    st.integers(0, 3),
    st.sampled_from([-2.5, -1.0, 0.0, 0.5, 2.0]),
    st.booleans(),
)
def test_edge_positions_count_the_rows_before_each_edge_and_never_move_back(q, s, n_nan, offset, right):
    """Each query's edge position is the number of source rows on its near side (a loop over them)."""
    q_time = np.array([-1.0, *q, *[math.nan] * n_nan])  # one row of another group in front
    s_time = np.array([-5.0, *s, 99.0])  # rows outside [first, last) on both sides
    nq, first, last = len(q) + n_nan, 1, len(s) + 1
    out = np.full(nq, -7, np.int64)
    edge_positions_nb(q_time, 1, nq, s_time, first, last, offset, right, 0.0, np.empty(nq), out)
    expected = [first + sum(1 for v in s if (v <= t + offset if right else v < t + offset)) for t in q] + [
        last
    ] * n_nan
    assert out.tolist() == expected


@given(
    _groups(),
    st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=3, unique=True),
    st.booleans(),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_sums_and_extremes_of_a_float_column_without_null_or_nan_equal_a_loop(
    groups, windows, prevailing, finite, rnd
):
    """A column promised free of nulls and NaN (and of infinities: ``finite``) takes the pass's
    shortcuts: sums without the non-finite counts, extremes from the sparse table."""
    q_groups, s_groups, _, _, i_values, i_valid = groups
    n_src = len(i_values)
    choices = [1.0, -2.5, 7.0, 0.25, 3.0] + ([] if finite else [math.inf, -math.inf])
    f_values = [rnd.choice(choices) for _ in range(n_src)]
    out = _run(
        q_groups,
        s_groups,
        (f_values, [True] * n_src, i_values, i_valid),
        windows,
        prevailing,
        holds=0 if finite else HOLDS_INF,
    )
    q_at = 0
    for q in q_groups:
        for t in q:
            for h in range(len(windows)):
                lo, hi = out["bounds"][h, :, q_at]  # the bounds are checked by the test above
                if math.isnan(t):
                    continue
                window = f_values[lo:hi]
                assert _same(out["f"][1][h, 0, q_at], _expect_float(window)[0])
                if window:
                    assert out["f"][2][h, 0, q_at] == max(window)
                    assert out["f"][3][h, 0, q_at] == min(window)
            q_at += 1
