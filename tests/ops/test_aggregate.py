from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, VizflowError


def test_aggregate_exit_criterion_plan():
    df = pl.DataFrame({"group": ["a", "b", "a"], "x": [1, 2, 3]})
    out = vf.aggregate(df, ["group"], {"count": pl.len()})
    assert out.rows() == [("a", 2), ("b", 1)]


@given(rows=st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3), st.integers(-5, 5)), max_size=40))
def test_aggregate_equals_dict_reference(rows):
    df = pl.DataFrame(rows, schema={"g": pl.String, "h": pl.Int64, "x": pl.Int64}, orient="row")
    out = vf.aggregate(df.lazy(), ["g", "h"], {"n": pl.len(), "s": pl.col("x").sum()}).collect()
    expected: dict[tuple, list[int]] = {}
    for g, h, x in rows:
        expected.setdefault((g, h), []).append(x)
    assert out.rows() == [(g, h, len(xs), sum(xs)) for (g, h), xs in sorted(expected.items())]


def test_every_row_in_exactly_one_group():
    df = vf.datasets.synthetic_trades(n_symbols=5, trades_per_symbol=30)
    out = vf.aggregate(df, "symbol", {"n": pl.len()})
    assert out["n"].sum() == df.height


def test_bad_input():
    df = pl.DataFrame({"g": [1]})
    with pytest.raises(ColumnNotFoundError, match="'grp' not found"):
        vf.aggregate(df, ["grp"], {"n": pl.len()})
    with pytest.raises(VizflowError, match="metrics is empty"):
        vf.aggregate(df, ["g"], {})
    with pytest.raises(VizflowError, match="metric 'n' is str"):
        vf.aggregate(df, ["g"], {"n": "len"})


def test_regression_aggregate_metrics_as_a_list_of_expressions():
    """A list of expressions (as Polars' agg takes) gave AttributeError: 'list' has no 'items'."""
    df = pl.DataFrame({"g": [2, 1, 2], "qty": [10, 20, 30]})
    out = vf.aggregate(df.lazy(), "g", [pl.len().alias("n"), pl.col("qty").sum()]).collect()
    assert out.columns == ["g", "n", "qty"]
    assert out.rows() == [(1, 1, 20), (2, 2, 40)]
    single = vf.aggregate(df, "g", pl.col("qty").max())
    assert single.rows() == [(1, 20), (2, 30)]


def test_aggregate_list_metrics_without_a_single_name_or_with_clashes_are_refused():
    df = pl.DataFrame({"g": [1], "a": [1], "b": [2]})
    with pytest.raises(VizflowError, match=r"metric #0 .* no single output name.*alias"):
        vf.aggregate(df, "g", [pl.col("a", "b").sum()])
    with pytest.raises(VizflowError, match=r"output name\(s\) \['a'\] repeat"):
        vf.aggregate(df, "g", [pl.col("a").sum(), pl.col("a").max()])
    with pytest.raises(VizflowError, match=r"output name\(s\) \['g'\] repeat a key"):
        vf.aggregate(df, "g", {"g": pl.len()})
    with pytest.raises(VizflowError, match="metric #1 is int"):
        vf.aggregate(df, "g", [pl.len(), 3])
    with pytest.raises(VizflowError, match="metrics is empty"):
        vf.aggregate(df, "g", [])
    with pytest.raises(VizflowError, match="metrics is str"):
        vf.aggregate(df, "g", "len")


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]), st.one_of(st.none(), st.integers(-2, 2)), st.integers(-5, 5)
        ),
        max_size=40,
    )
)
def test_list_metrics_equal_dict_metrics(rows):
    """Metamorphic: [expr.alias(name), ...] equals {name: expr, ...} (Categorical keys, nulls)."""
    df = pl.DataFrame(rows, schema={"g": pl.Categorical, "h": pl.Int64, "x": pl.Int64}, orient="row")
    as_dict = vf.aggregate(df, ["g", "h"], {"n": pl.len(), "s": pl.col("x").sum()})
    as_list = vf.aggregate(df, ["g", "h"], [pl.len().alias("n"), pl.col("x").sum().alias("s")])
    assert as_list.equals(as_dict)
    assert as_dict["n"].sum() == len(rows)
