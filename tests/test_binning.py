from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, SchemaError, VizflowError

finite = st.floats(-1e6, 1e6, allow_nan=False)


def test_bin_exit_criterion_plan():
    out = vf.bin(pl.DataFrame({"alpha": [0.00012, 0.00026, -0.0001]}), {"alpha": 1e-4})
    assert out["alpha_bin"].to_list() == [1, 3, -1]
    assert out.schema["alpha_bin"] == pl.Int64


@given(values=st.lists(finite, max_size=50), width=st.floats(1e-6, 1e3))
def test_bin_equals_python_round(values, width):
    out = vf.bin(pl.DataFrame({"x": values}, schema={"x": pl.Float64}), {"x": width})
    assert out["x_bin"].to_list() == [round(v / width) for v in values]


@given(values=st.lists(finite, min_size=1, max_size=50), width=st.floats(1e-3, 1e3))
def test_each_value_lies_in_its_bin(values, width):
    out = vf.bin(pl.DataFrame({"x": values}), {"x": width})
    for v, k in zip(values, out["x_bin"].to_list(), strict=True):
        assert abs(v / width - k) <= 0.5


def test_non_finite_and_null_give_null_bins():
    df = pl.DataFrame({"x": [1.0, None, math.nan, math.inf]})
    assert vf.bin(df, {"x": 1.0})["x_bin"].to_list() == [1, None, None, None]


def test_lazy_in_lazy_out_and_integer_columns():
    out = vf.bin(pl.LazyFrame({"qty": [100, 250, 349]}), {"qty": 100})
    assert isinstance(out, pl.LazyFrame)
    assert out.collect()["qty_bin"].to_list() == [1, 2, 3]


@pytest.mark.parametrize("width", [0, -1e-4, math.nan, math.inf, "1"])
def test_bad_width_is_rejected(width):
    with pytest.raises(VizflowError, match="width for column 'x'"):
        vf.bin(pl.DataFrame({"x": [1.0]}), {"x": width})


def test_missing_and_non_numeric_columns():
    df = pl.DataFrame({"x": ["a"], "alpha": [1.0]})
    with pytest.raises(ColumnNotFoundError, match="'alpah' not found.*Did you mean 'alpha'"):
        vf.bin(df, {"alpah": 1.0})
    with pytest.raises(SchemaError, match="'x' has dtype String"):
        vf.bin(df, {"x": 1.0})
