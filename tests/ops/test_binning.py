from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

finite = st.floats(-1e6, 1e6, allow_nan=False)
LONG = 1_000  # Polars multiplies by the reciprocal from a few rows on; every test frame is longer


def _long(values: list) -> list:
    """Repeat ``values`` to at least LONG rows, so the frame is on Polars' long-frame path."""
    return values * (LONG // len(values) + 1) if values else values


def test_bin_exit_criterion_plan():
    out = vf.bin(pl.DataFrame({"alpha": [0.00012, 0.00026, -0.0001]}), {"alpha": 1e-4})
    assert out["alpha_bin"].to_list() == [1, 3, -1]
    assert out.schema["alpha_bin"] == pl.Int64


@pytest.mark.parametrize("rows", [1, 2, 4, 1000])
def test_regression_bin_tie_does_not_depend_on_frame_length(rows):
    """0.35 / 0.1 is 3.4999999999999996 in IEEE: bin 3 on every length (was 4 on 4+ rows)."""
    out = vf.bin(pl.DataFrame({"x": [0.35] * rows}), {"x": 0.1})
    assert out["x_bin"].unique().to_list() == [round(0.35 / 0.1)] == [3]


def test_regression_bin_two_decimal_values_equal_python_division():
    """200k two-decimal prices, width 0.02: every bin equals Python's division (20k differed)."""
    cents = np.random.default_rng(0).integers(-(10**6), 10**6, 200_000)
    values = [int(c) / 100 for c in cents]
    df = pl.DataFrame({"px": values})
    out = vf.bin(df, {"px": 0.02})["px_bin"].to_list()
    floor = vf.bin(df, {"px": 0.02}, how="floor")["px_bin"].to_list()
    assert out == [round(v / 0.02) for v in values]
    assert floor == [math.floor(v / 0.02) for v in values]


@given(values=st.lists(finite, max_size=50), width=st.floats(1e-6, 1e3))
def test_bin_equals_python_round_on_a_long_frame(values, width):
    values = _long(values)
    out = vf.bin(pl.DataFrame({"x": values}, schema={"x": pl.Float64}), {"x": width})
    assert out["x_bin"].to_list() == [round(v / width) for v in values]


@given(values=st.lists(finite, max_size=50), width=st.floats(1e-6, 1e3))
def test_floor_bin_equals_python_floor_on_a_long_frame(values, width):
    values = _long(values)
    out = vf.bin(pl.LazyFrame({"x": values}, schema={"x": pl.Float64}), {"x": width}, how="floor")
    assert out.collect()["x_bin"].to_list() == [math.floor(v / width) for v in values]


@given(
    ms=st.lists(st.integers(0, 14_400_000), min_size=1, max_size=60),
    width=st.sampled_from([1, 5, 60, 300, 1800, 3600, 7]),
)
def test_each_time_lies_in_exactly_one_floor_bin(ms, width):
    """Every elapsed time (ms / 1000) lies in [k*w, (k+1)*w) of its bin k, exactly, and in no other."""
    seconds = _long([m / 1000 for m in ms])
    out = vf.bin(pl.DataFrame({"t": seconds}), {"t": width}, how="floor")
    for v, k in zip(seconds, out["t_bin"].to_list(), strict=True):
        containing = [j for j in (k - 1, k, k + 1) if j * width <= Fraction(v) < (j + 1) * width]
        assert containing == [k]


@given(
    values=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=40),
    width=st.integers(1, 10**12),
)
def test_integer_floor_bins_are_exact(values, width):
    """Integers with an integer width: bin k holds [k*w, (k+1)*w) exactly, beyond 2**53 too."""
    values = _long(values)
    out = vf.bin(pl.DataFrame({"q": values}, schema={"q": pl.Int64}), {"q": width}, how="floor")
    bins = out["q_bin"].to_list()
    assert bins == [v // width for v in values]
    assert all(k * width <= v < (k + 1) * width for v, k in zip(values, bins, strict=True))


@given(values=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=40), width=st.integers(1, 10**6))
def test_integer_round_bins_equal_exact_half_even_rounding(values, width):
    values = _long(values)
    out = vf.bin(pl.DataFrame({"q": values}), {"q": width})
    assert out["q_bin"].to_list() == [round(Fraction(v, width)) for v in values]


@given(values=st.lists(finite, min_size=1, max_size=50), width=st.floats(1e-3, 1e3))
def test_each_value_lies_in_its_round_bin(values, width):
    out = vf.bin(pl.DataFrame({"x": values}), {"x": width})
    for v, k in zip(values, out["x_bin"].to_list(), strict=True):
        assert abs(v / width - k) <= 0.5


def test_round_ties_go_to_even_as_python_round():
    """Documented tie rule: half to even (Python's round), not half away from zero."""
    values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 250, 350]
    df = pl.DataFrame({"x": [float(v) for v in values] * 200})
    assert vf.bin(df, {"x": 1.0})["x_bin"].head(6).to_list() == [0, 2, 2, 0, -2, -2]
    ints = pl.DataFrame({"q": [250, 350, -250, -350] * 300})
    assert vf.bin(ints, {"q": 100})["q_bin"].head(4).to_list() == [2, 4, -2, -4]


def test_regression_floor_half_hours_do_not_straddle_lunch():
    """{"elapsed_seconds": 1800} with floor: bin 3 is 11:00-11:30, bin 4 is 13:00-13:30 (round mixed them)."""
    ticks = [93000000, 95959999, 110000000, 112959999, 130000000, 132959999, 143000000, 145959999]
    clock = vf.parse_time(pl.DataFrame({"ticktime": ticks * 200}), vf.CN)
    bins = vf.bin(clock, {"elapsed_seconds": 1800}, how="floor")["elapsed_seconds_bin"].head(8).to_list()
    assert bins == [0, 0, 3, 3, 4, 4, 7, 7]


def test_non_finite_and_null_give_null_bins():
    df = pl.DataFrame({"x": [1.0, None, math.nan, math.inf, -math.inf] * 300})
    for how in ("round", "floor"):
        assert vf.bin(df, {"x": 1.0}, how=how)["x_bin"].head(5).to_list() == [1, None, None, None, None]
    ints = pl.DataFrame({"q": [5, None, -5]})
    assert vf.bin(ints, {"q": 2}, how="floor")["q_bin"].to_list() == [2, None, -3]


def test_lazy_in_lazy_out_and_integer_columns():
    out = vf.bin(pl.LazyFrame({"qty": [100, 250, 349]}), {"qty": 100})
    assert isinstance(out, pl.LazyFrame)
    assert out.collect()["qty_bin"].to_list() == [1, 2, 3]


def test_regression_bin_accepts_numpy_widths():
    """np.int64(2) and np.float64(0.5) are widths (bin refused them)."""
    df = pl.DataFrame({"q": [3, 4, 5], "x": [0.2, 0.7, 1.2]})
    out = vf.bin(df, {"q": np.int64(2), "x": np.float64(0.5)}, how="floor")
    assert out["q_bin"].to_list() == [1, 2, 2]
    assert out["x_bin"].to_list() == [0, 1, 2]


@pytest.mark.parametrize("width", [0, -1e-4, math.nan, math.inf, "1", None, True, np.float64("nan")])
def test_bad_width_is_rejected(width):
    with pytest.raises(VizflowError, match="width for column 'x'"):
        vf.bin(pl.DataFrame({"x": [1.0]}), {"x": width})


@pytest.mark.parametrize("how", ["Floor", "ceil", None])
def test_regression_unknown_how_is_refused_naming_the_accepted_ones(how):
    with pytest.raises(VizflowError, match=r"how=.*not one of \['round', 'floor'\]"):
        vf.bin(pl.DataFrame({"x": [1.0]}), {"x": 1.0}, how=how)


def test_regression_existing_output_column_is_refused():
    """bin silently replaced an existing a_bin; it now names it."""
    df = pl.DataFrame({"a": [1.0], "a_bin": [7]})
    with pytest.raises(VizflowError, match="output column 'a_bin'.*already exists"):
        vf.bin(df, {"a": 1.0})
    with pytest.raises(VizflowError, match="output column 'a'"):
        vf.bin(df, {"a": 1.0}, suffix="")
    assert vf.bin(df, {"a": 1.0}, suffix="_b")["a_b"].to_list() == [1]


def test_empty_or_non_mapping_widths_are_refused():
    df = pl.DataFrame({"x": [1.0]})
    for widths in ({}, ["x"], 1.0):
        with pytest.raises(VizflowError, match="bin: widths is"):
            vf.bin(df, widths)


def test_bin_number_beyond_int64_is_a_data_error():
    with pytest.raises(DataError, match=r"column 'x' value 1e\+300 / width 1e-10 is beyond the Int64"):
        vf.bin(pl.DataFrame({"x": [1.0, 1e300]}), {"x": 1e-10})


def test_missing_and_non_numeric_columns():
    df = pl.DataFrame({"x": ["a"], "alpha": [1.0]})
    with pytest.raises(ColumnNotFoundError, match="'alpah' not found.*Did you mean 'alpha'"):
        vf.bin(df, {"alpah": 1.0})
    with pytest.raises(SchemaError, match="'x' has dtype String"):
        vf.bin(df, {"x": 1.0})


@given(
    values=st.lists(st.one_of(st.none(), finite), min_size=1, max_size=60),
    qty=st.integers(1, 10**6),
    width=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_bin_is_row_wise_whatever_the_engine_order_or_other_columns(values, qty, width, seed):
    """Lazy (in-memory and streaming) = eager; shuffling rows shuffles the bins; columns do not interact."""
    values = _long(values)
    df = pl.DataFrame(
        {"x": values, "q": [qty + i for i in range(len(values))]}, schema={"x": pl.Float64, "q": pl.Int64}
    )
    widths = {"x": width, "q": 7}
    eager = vf.bin(df, widths, how="floor")
    lazy = vf.bin(df.lazy(), widths, how="floor")
    assert lazy.collect().equals(eager)
    assert lazy.collect(engine="streaming").equals(eager)
    order = np.random.default_rng(seed).permutation(df.height)
    assert vf.bin(df[order], widths, how="floor").equals(eager[order])
    assert eager["x_bin"].to_list() == [None if v is None else math.floor(v / width) for v in values]
    assert eager["q_bin"].to_list() == [q // 7 for q in df["q"]]
