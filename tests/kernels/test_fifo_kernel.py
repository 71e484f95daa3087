"""The FIFO kernel called directly on arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.reference import fifo_reference
from vizflow.kernels.fifo import OK, fifo_match_nb, first_bad_fill_nb, first_time_back_nb

FIELDS = [
    "carrier",
    "entry",
    "qty",
    "closed",
    "lot",
    "entry_time",
    "held",
    "entry_price",
    "exit_price",
    "pnl",
]


def run(offsets, direction, qty, price=None, *, time=None, strict=False, row_id=None):
    n = qty.size
    price = np.ones(n) if price is None else price
    time = np.arange(n, dtype=np.float64) if time is None else time
    row_id = np.arange(n, dtype=np.int64) if row_id is None else row_id
    outs = [
        np.empty(2 * n, np.int64),
        np.empty(2 * n, np.int64),
        np.empty(2 * n),
        np.empty(2 * n, np.bool_),
        np.empty(2 * n, np.int8),
        np.empty(2 * n, time.dtype),
        np.empty(2 * n, time.dtype),
        np.empty(2 * n),
        np.empty(2 * n),
        np.empty(2 * n),
    ]
    rows, status = fifo_match_nb(
        offsets, direction, qty, price, time, row_id, strict, 1e-9, *outs, np.empty(n, np.int64), np.empty(n)
    )
    return dict(zip(FIELDS, (a[:rows] for a in outs), strict=True)), status


@given(
    direction=hnp.arrays(np.int8, st.integers(0, 80), elements=st.sampled_from([1, -1])),
    data=st.data(),
)
def test_kernel_equals_reference(direction, data):
    n = direction.size
    qty = data.draw(hnp.arrays(np.float64, n, elements=st.integers(1, 9).map(float) | st.just(0.1)))
    price = data.draw(hnp.arrays(np.float64, n, elements=st.integers(1, 50).map(float)))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    offsets = np.array([0, *cuts, n], np.int64)
    symbol = np.searchsorted(offsets, np.arange(n), side="right")  # segment number of each row
    out, status = run(offsets, direction, qty, price)
    assert status == OK
    expected = fifo_reference(
        [(int(symbol[i]), float(i), int(direction[i]), float(qty[i]), float(price[i])) for i in range(n)]
    )
    got = list(zip(*(out[f].tolist() for f in FIELDS[:5]), strict=True))
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a[:2] == b[:2]
        assert a[3:] == b[3:]
        assert math.isclose(a[2], b[2], abs_tol=1e-9)
    closed = out["closed"]
    entry, carrier = out["entry"], out["carrier"]
    assert (out["entry_price"] == price[entry]).all()
    assert (out["entry_time"] == entry).all()  # time = row number here
    assert (out["exit_price"][closed] == price[carrier[closed]]).all()
    assert (out["held"][closed] == (carrier - entry)[closed]).all()
    assert np.allclose(
        out["pnl"], np.where(closed, out["lot"] * (price[carrier] - price[entry]) * out["qty"], 0)
    )


def test_int64_nanosecond_times_stay_exact():
    t0 = 1_700_000_000_000_000_000  # epoch ns: float64 would round to 256 ns
    time = np.array([t0, t0 + 1, t0 + 3], np.int64)
    out, status = run(
        np.array([0, 3], np.int64), np.array([1, 1, -1], np.int8), np.array([1.0, 1.0, 2.0]), time=time
    )
    assert status == OK
    assert out["held"].tolist() == [3, 2]
    assert out["entry_time"].tolist() == [t0, t0 + 1]


def test_row_id_is_reported_as_entry():
    out, _ = run(np.array([0, 2], np.int64), np.array([1, -1], np.int8), np.ones(2), row_id=np.array([7, 3]))
    assert out["entry"].tolist() == [7]
    assert out["carrier"].tolist() == [1]  # sorted position, for the gather


@pytest.mark.slow
def test_one_symbol_with_a_million_alternating_fills():
    n = 1_000_000
    direction = np.where(np.arange(n) % 2 == 0, 1, -1).astype(np.int8)
    qty = np.full(n, 100.0)
    price = 10.0 + (np.arange(n) % 7) * 0.01
    out, status = run(np.array([0, n], np.int64), direction, qty, price)
    assert status == OK
    assert out["carrier"].size == n // 2
    assert out["closed"].all()
    assert (out["entry"] == np.arange(0, n, 2)).all()
    assert (out["carrier"] == np.arange(1, n, 2)).all()
    assert out["qty"].sum() == 100.0 * n / 2
    assert np.isclose(out["pnl"].sum(), 100.0 * (price[1::2] - price[0::2]).sum())


def test_a_million_fractional_fills_leave_no_dust():
    n = 1_000_000  # ten buys of 0.1 then one sell of 1.0, repeated: float sums never exact
    direction = np.where(np.arange(n) % 11 == 10, -1, 1).astype(np.int8)
    qty = np.where(direction == 1, 0.1, 1.0)
    out, status = run(np.array([0, n], np.int64), direction, qty)
    assert status == OK
    open_lots = ~out["closed"]
    assert out["qty"][open_lots].sum() == pytest.approx(0.1 * (n % 11))  # only the tail's buys


def test_strict_mode_reports_the_offending_exit():
    direction = np.array([1, -1, -1], np.int8)
    qty = np.array([5.0, 3.0, 3.0])
    _, status = run(np.array([0, 3], np.int64), direction, qty, strict=True)
    assert status == 2
    _, status = run(np.array([0, 1, 3], np.int64), np.array([-1, 1, -1], np.int8), np.ones(3), strict=True)
    assert status == 0  # a symbol with only an exit


def test_strict_mode_only_exits_long_run():
    n = 100_000
    _, status = run(np.array([0, n], np.int64), np.full(n, -1, np.int8), np.ones(n), strict=True)
    assert status == 0


def test_empty_segments_are_skipped():
    out, status = run(np.array([0, 0, 2, 2], np.int64), np.array([1, -1], np.int8), np.ones(2))
    assert status == OK
    assert out["carrier"].tolist() == [1]


def test_tolerance_is_relative_to_the_quantities():
    """Regression (findings A.9): float rounding on 1e8 shares is far above an absolute 1e-9."""
    qty = np.array([33333333.33, 33333333.33, 33333333.34, 1e8])
    assert qty[3] - qty[0] - qty[1] - qty[2] != 0  # the float dust the policy must absorb
    out, status = run(np.array([0, 4], np.int64), np.array([1, 1, 1, -1], np.int8), qty)
    assert status == OK
    assert out["closed"].all()
    assert out["carrier"].tolist() == [3, 3, 3]
    # below a quantity of 1 the tolerance stays absolute: a 1e-6 lot is not dust
    out, _ = run(np.array([0, 2], np.int64), np.array([1, -1], np.int8), np.array([0.5, 0.5 - 1e-6]))
    assert out["closed"].tolist() == [True, False]
    assert out["qty"][1] == pytest.approx(1e-6)


@given(
    values=st.lists(
        st.tuples(
            st.sampled_from([1, -1, 1, -1, 0, 2]),
            st.sampled_from([1.0, 5.5, 0.0, -1.0, math.nan, math.inf, 1e-12]),
            st.sampled_from([10.0, 10.0, math.nan, -math.inf]),
            st.sampled_from([1.0, 2.0, math.nan, math.inf]),
        ),
        max_size=40,
    ),
    data=st.data(),
)
def test_first_bad_fill_is_the_smallest_row_id_failing_any_check(values, data):
    n = len(values)
    direction = np.array([v[0] for v in values], np.int8)
    qty, price, time = (np.array([v[k] for v in values], np.float64) for k in (1, 2, 3))
    row_id = np.array(data.draw(st.permutations(range(n))), np.int64)
    bad = [
        d not in (1, -1)
        or not (q > 1e-9 and math.isfinite(q))
        or not math.isfinite(p)
        or not math.isfinite(t)
        for d, q, p, t in values
    ]
    expected = min((i for i in range(n) if bad[i]), key=lambda i: row_id[i], default=OK)
    assert first_bad_fill_nb(direction, qty, price, time, row_id, 1e-9) == expected


def test_first_bad_fill_accepts_any_int64_time():
    time = np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])
    ones = np.ones(3)
    assert first_bad_fill_nb(np.ones(3, np.int8), ones, ones, time, np.arange(3), 1e-9) == OK


@given(
    time=hnp.arrays(np.float64, st.integers(0, 30), elements=st.sampled_from([0.0, 1.0, 2.0, 3.0])),
    data=st.data(),
)
def test_first_time_back_is_the_first_decrease_inside_a_segment(time, data):
    n = time.size
    cuts = sorted(data.draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=5))) if n > 1 else []
    offsets = np.array([0, *cuts, n] if n else [0], np.int64)
    starts = set(offsets[:-1].tolist())
    expected = next((i for i in range(1, n) if i not in starts and time[i] < time[i - 1]), OK)
    assert first_time_back_nb(time, offsets) == expected
