"""The FIFO kernel called directly on arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.reference import fifo_reference
from vizflow.kernels.fifo import OK, fifo_match_nb


def run(offsets, direction, qty, strict=False):
    n = qty.size
    outs = [
        np.empty(2 * n, np.int64),
        np.empty(2 * n, np.int64),
        np.empty(2 * n),
        np.empty(2 * n, np.bool_),
        np.empty(2 * n, np.int8),
    ]
    rows, status = fifo_match_nb(
        offsets, direction, qty, strict, 1e-9, *outs, np.empty(n, np.int64), np.empty(n)
    )
    return [a[:rows] for a in outs], status


@given(
    direction=hnp.arrays(np.int8, st.integers(0, 80), elements=st.sampled_from([1, -1])),
    data=st.data(),
)
def test_kernel_equals_reference_on_one_segment(direction, data):
    n = direction.size
    qty = data.draw(hnp.arrays(np.float64, n, elements=st.integers(1, 9).map(float)))
    (carrier, entry, matched, closed, lots), status = run(np.array([0, n], np.int64), direction, qty)
    assert status == OK
    expected = fifo_reference([("s", float(i), int(direction[i]), float(qty[i]), 1.0) for i in range(n)])
    assert (
        list(
            zip(
                carrier.tolist(),
                entry.tolist(),
                matched.tolist(),
                closed.tolist(),
                lots.tolist(),
                strict=True,
            )
        )
        == expected
    )


def test_one_symbol_with_a_million_alternating_fills():
    n = 1_000_000
    direction = np.where(np.arange(n) % 2 == 0, 1, -1).astype(np.int8)
    qty = np.full(n, 100.0)
    (carrier, entry, matched, closed, _), status = run(np.array([0, n], np.int64), direction, qty)
    assert status == OK
    assert carrier.size == n // 2
    assert closed.all()
    assert (entry == np.arange(0, n, 2)).all()
    assert (carrier == np.arange(1, n, 2)).all()
    assert matched.sum() == 100.0 * n / 2


def test_strict_mode_reports_the_offending_exit():
    direction = np.array([1, -1, -1], np.int8)
    qty = np.array([5.0, 3.0, 3.0])
    _, status = run(np.array([0, 3], np.int64), direction, qty, strict=True)
    assert status == 2
    _, status = run(np.array([0, 1, 3], np.int64), np.array([-1, 1, -1], np.int8), np.ones(3), strict=True)
    assert status == 0  # a symbol with only an exit


def test_empty_segments_are_skipped():
    (carrier, *_), status = run(np.array([0, 0, 2, 2], np.int64), np.array([1, -1], np.int8), np.ones(2))
    assert status == OK
    assert carrier.tolist() == [1]
