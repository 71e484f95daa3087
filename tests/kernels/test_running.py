"""The generic running/condition kernels, called directly with jitted functions over records."""

from __future__ import annotations

import itertools

import numba
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vizflow.kernels.running import condition_nb, running_nb

add_qty = numba.njit(lambda prev, r: prev + r["qty"])
is_big = numba.njit(lambda r: r["qty"] > 3)


@given(
    qty=hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5)),
    cuts=st.lists(st.integers(0, 60), max_size=6),
)
def test_running_kernel_resets_per_segment(qty, cuts):
    n = qty.size
    offsets = np.array(sorted({0, n, *[c for c in cuts if c <= n]}), dtype=np.int64)
    records = np.zeros(n, dtype=[("qty", np.int64)])
    records["qty"] = qty
    out = np.empty(n, dtype=np.int64)
    running_nb(offsets, records, np.int64(0), add_qty, out)
    expected = np.concatenate([np.cumsum(qty[a:b]) for a, b in itertools.pairwise(offsets)] or [[]]).astype(
        np.int64
    )
    assert (out == expected).all()


@given(qty=hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-5, 10)))
def test_condition_kernel(qty):
    records = np.zeros(qty.size, dtype=[("qty", np.int64)])
    records["qty"] = qty
    out = np.empty(qty.size, dtype=np.bool_)
    condition_nb(records, is_big, out)
    assert (out == (qty > 3)).all()


def test_first_class_jitted_function_over_records_works_inside_a_kernel():
    # The design's feasibility check (no timing assert): a user function compiled separately,
    # passed to a generic kernel, reading named fields of a structured record.
    records = np.zeros(1_000_000, dtype=[("qty", np.float64), ("side", np.int8)])
    records["qty"] = 100.0
    records["side"] = np.where(np.arange(records.size) % 2 == 0, 1, -1)
    position = numba.njit(lambda p, r: p + r["side"] * r["qty"])
    out = np.empty(records.size, dtype=np.float64)
    running_nb(np.array([0, records.size], dtype=np.int64), records, 0.0, position, out)
    assert out[-2:].tolist() == [100.0, 0.0]
