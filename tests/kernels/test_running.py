"""The generic running/condition kernels, called directly with jitted functions over records."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vizflow.kernels.running import condition_nb, running_checked_nb, running_nb

add_qty = numba.njit(lambda prev, r: prev + r["qty"])
is_big = numba.njit(lambda r: r["qty"] > 3)
inverse = numba.njit(lambda prev, r: prev + 1 // r["qty"])


def _records(qty: np.ndarray) -> np.ndarray:
    records = np.zeros(qty.size, dtype=[("qty", qty.dtype)])
    records["qty"] = qty
    return records


def _pos() -> np.ndarray:
    return np.full(1, -1, dtype=np.int64)


def _cumsum_per_segment(qty: np.ndarray, offsets: np.ndarray) -> list[int]:
    """Plain Python sums (exact integers), reset at each segment."""
    out: list[int] = []
    for a, b in itertools.pairwise(offsets.tolist()):
        total = 0
        for q in qty[a:b].tolist():
            total += q
            out.append(total)
    return out


@given(
    qty=hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5)),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    checked=st.booleans(),
)
def test_running_kernel_resets_per_segment(qty, cuts, checked):
    n = qty.size
    offsets = np.array(sorted({0, n, *[c for c in cuts if c <= n]}), dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    if checked:
        assert running_checked_nb(offsets, _records(qty), np.int64(0), add_qty, out, _pos()) == -1
    else:
        running_nb(offsets, _records(qty), np.int64(0), add_qty, out, _pos())
    assert out.tolist() == _cumsum_per_segment(qty, offsets)


@given(qty=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-5, 10)))
def test_condition_kernel(qty):
    out = np.empty(qty.size, dtype=np.bool_)
    condition_nb(_records(qty), is_big, out, _pos())
    assert out.tolist() == [q > 3 for q in qty.tolist()]


@given(
    qty=hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(-(2**61), 2**61)),
    cut=st.integers(0, 30),
)
def test_checked_kernel_stops_at_the_first_wrapped_row(qty, cut):
    """Regression (findings A.9): an integer running sum that overflows int64 must be detected."""
    offsets = np.array(sorted({0, min(cut, qty.size), qty.size}), dtype=np.int64)
    out = np.empty(qty.size, dtype=np.int64)
    status = running_checked_nb(offsets, _records(qty), np.int64(0), add_qty, out, _pos())
    exact = _cumsum_per_segment(qty, offsets)
    wrapped = [i for i, v in enumerate(exact) if not -(2**63) <= v < 2**63]
    assert status == (wrapped[0] if wrapped else -1)
    stop = status if status >= 0 else qty.size
    assert out[:stop].tolist() == exact[:stop]


def test_checked_kernel_uint64():
    """Regression (findings A.9): UInt64 values keep their range, and a UInt64 below 0 is caught."""
    qty = np.array([2**62, 2**62 + 1, 2**63], dtype=np.uint64)
    out = np.empty(3, dtype=np.uint64)
    status = running_checked_nb(np.array([0, 3], np.int64), _records(qty), np.uint64(0), add_qty, out, _pos())
    assert status == 2  # 2**64 + 1 does not fit
    assert out[:2].tolist() == [2**62, 2**63 + 1]
    minus = numba.njit(lambda prev, r: prev - r["qty"])
    out = np.empty(1, dtype=np.uint64)
    records = _records(np.array([1], np.uint64))
    assert running_checked_nb(np.array([0, 1], np.int64), records, np.uint64(0), minus, out, _pos()) == 0


def test_a_raising_function_leaves_its_row_in_pos():
    """Regression (findings C, enrich): a compiled ZeroDivisionError must be traceable to its row."""
    qty = np.array([1, 2, 0, 4], np.int64)
    pos = _pos()
    with pytest.raises(ZeroDivisionError):
        running_nb(
            np.array([0, 4], np.int64), _records(qty), np.int64(0), inverse, np.empty(4, np.int64), pos
        )
    assert pos[0] == 2
    pos = _pos()
    with pytest.raises(ZeroDivisionError):
        condition_nb(_records(qty), numba.njit(lambda r: 1 // r["qty"] > 0), np.empty(4, np.bool_), pos)
    assert pos[0] == 2


def test_first_class_jitted_function_over_records_works_inside_a_kernel():
    # The design's feasibility check (no timing assert): a user function compiled separately,
    # passed to a generic kernel, reading named fields of a structured record.
    records = np.zeros(1_000_000, dtype=[("qty", np.float64), ("side", np.int8)])
    records["qty"] = 100.0
    records["side"] = np.where(np.arange(records.size) % 2 == 0, 1, -1)
    position = numba.njit(lambda p, r: p + r["side"] * r["qty"])
    out = np.empty(records.size, dtype=np.float64)
    running_nb(np.array([0, records.size], dtype=np.int64), records, 0.0, position, out, _pos())
    assert out[-2:].tolist() == [100.0, 0.0]
