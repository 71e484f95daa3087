"""session_clock_nb on raw arrays: decode, validate and clock every int64, against the scalar clock."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vizflow as vf
from tests.strategies import ms_times_of_day, to_hhmmssmmm
from vizflow.kernels.clock import INVALID, OUTSIDE, VALID, session_clock_nb
from vizflow.ops.time_of_day import to_unit

MARKETS = [vf.CN, vf.CN_FUTURES, vf.HK, vf.US, vf.CRYPTO]
NS_PER_DAY = 86_400 * 10**9

# Valid HHMMSSmmm values, their edges (23:59:59.999, 60 s, 60 min, 24 h) and any int64.
hhmmssmmm_values = st.one_of(
    ms_times_of_day.map(to_hhmmssmmm),
    st.sampled_from([0, 235959999, 60000, 59999, 6000000, 5959999, 240000000, -1, 996100000]),
    st.integers(-(2**63), 2**63 - 1),
)


def _decoded(v: int) -> dt.time | None:
    """HHMMSSmmm by hand: None unless HH < 24, MM < 60 and SS < 60 (and v >= 0)."""
    if v < 0:
        return None
    hh, rest = divmod(v, 10_000_000)
    mm, rest = divmod(rest, 100_000)
    ss, ms = divmod(rest, 1000)
    if hh >= 24 or mm >= 60 or ss >= 60:
        return None
    return dt.time(hh, mm, ss, ms * 1000)


def _run(market: vf.Market, values: np.ndarray, *, hhmmssmmm: bool, null_outside: bool):
    unit = 1000 if hhmmssmmm else 10**9
    anchor, starts, lengths, split, _ = market.layout
    seconds, status = np.empty(values.size), np.empty(values.size, np.uint8)
    n_nan = session_clock_nb(
        values,
        hhmmssmmm,
        to_unit(anchor, unit),
        to_unit(starts, unit),
        to_unit(lengths, unit),
        to_unit(split, unit),
        to_unit(NS_PER_DAY, unit),
        float(unit),
        market.closed in ("left", "both"),
        market.closed in ("right", "both"),
        null_outside,
        seconds,
        status,
    )
    return seconds, status, n_nan


@pytest.mark.parametrize("null_outside", [False, True])
@pytest.mark.parametrize("market", MARKETS, ids=lambda m: m.name)
@given(values=hnp.arrays(np.int64, st.integers(0, 40), elements=hhmmssmmm_values))
def test_kernel_decodes_validates_and_clocks_like_the_scalar_method(market, null_outside, values):
    seconds, status, n_nan = _run(market, values, hhmmssmmm=True, null_outside=null_outside)
    for v, got, code in zip(values.tolist(), seconds.tolist(), status.tolist(), strict=True):
        t = _decoded(v)
        if t is None:
            assert math.isnan(got)
            assert code == INVALID
            continue
        inside = market.elapsed_seconds(t, outside="null") is not None
        assert code == (VALID if inside else OUTSIDE)
        if null_outside and not inside:
            assert math.isnan(got)
        else:
            assert got == market.elapsed_seconds(t), (v, got)
    assert n_nan == int(np.isnan(seconds).sum())


@pytest.mark.parametrize("market", MARKETS, ids=lambda m: m.name)
@given(times=st.lists(ms_times_of_day, max_size=40))
def test_kernel_clocks_nanoseconds_of_the_day_and_refuses_negatives(market, times):
    ns = [((t.hour * 60 + t.minute) * 60 + t.second) * 10**9 + t.microsecond * 1000 for t in times]
    values = np.array([*ns, -1], np.int64)
    seconds, status, n_nan = _run(market, values, hhmmssmmm=False, null_outside=False)
    assert seconds[:-1].tolist() == [market.elapsed_seconds(t) for t in times]
    assert math.isnan(seconds[-1])
    assert status[-1] == INVALID
    assert n_nan == 1


def test_kernel_leaves_status_alone_when_not_asked():
    seconds, status = np.empty(2), np.full(0, 7, np.uint8)
    _, starts, lengths, split, _ = vf.CN.layout
    n_nan = session_clock_nb(
        np.array([93000000, 996100000], np.int64),
        True,
        0,
        to_unit(starts, 1000),
        to_unit(lengths, 1000),
        to_unit(split, 1000),
        86_400_000,
        1000.0,
        True,
        True,
        False,
        seconds,
        status,
    )
    assert n_nan == 1
    assert seconds[0] == 0.0
    assert math.isnan(seconds[1])
