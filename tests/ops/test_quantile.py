"""quantile_bin: against a sort-and-count reference, per date and key group."""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError


def reference(values: list, groups: list, q: int) -> list:
    """Per group: sort the non-missing values; a value's bucket from its first and last sorted position."""
    out = []
    for value, group in zip(values, groups, strict=True):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
            continue
        same = sorted(
            v
            for v, g in zip(values, groups, strict=True)
            if g == group and v is not None and not (isinstance(v, float) and math.isnan(v))
        )
        lo = same.index(value) + 1
        hi = len(same) - same[::-1].index(value)
        out.append(q * (lo + hi - 2) // (2 * len(same)))
    return out


signal = st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6), st.none(), st.just(math.nan))


@st.composite
def frames(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    n = draw(st.integers(0, 60))
    key_kind = draw(st.sampled_from(["none", "int", "str", "cat", "date+symbol"]))
    cols: dict[str, pl.Series] = {
        "x": pl.Series(draw(st.lists(signal, min_size=n, max_size=n)), dtype=pl.Float64)
    }
    ids = draw(st.lists(st.one_of(st.integers(0, 3), st.none()), min_size=n, max_size=n))
    if key_kind == "int":
        cols["g"] = pl.Series(ids, dtype=pl.Int64)
    elif key_kind in ("str", "cat"):
        dtype = pl.String if key_kind == "str" else pl.Categorical
        cols["g"] = pl.Series([None if i is None else f"s{i}" for i in ids], dtype=dtype)
    elif key_kind == "date+symbol":
        cols["date"] = pl.Series(
            draw(st.lists(st.sampled_from(["20240102", "20240103"]), min_size=n, max_size=n))
        )
        cols["g"] = pl.Series(ids, dtype=pl.Int64)
    by = {"none": [], "date+symbol": ["date", "g"]}.get(key_kind, ["g"])
    return pl.DataFrame(cols), by


@given(frames(), st.integers(1, 12))
def test_buckets_match_the_reference(case, q):
    df, by = case
    got = vf.quantile_bin(df, "x", q, by=by or None)
    groups = (
        list(zip(*(df[k].cast(pl.String).to_list() for k in by), strict=True)) if by else [()] * df.height
    )
    assert got["x_bucket"].to_list() == reference(df["x"].to_list(), groups, q)
    assert got.drop("x_bucket").equals(df)


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=80, unique=True), st.integers(1, 12))
def test_without_ties_bucket_sizes_differ_by_at_most_one(values, q):
    buckets = vf.quantile_bin(pl.DataFrame({"x": values}), "x", q)["x_bucket"]
    counts = [int((buckets == k).sum()) for k in range(q)]
    assert sum(counts) == len(values)
    assert max(counts) - min(counts) <= 1
    order = sorted(range(len(values)), key=values.__getitem__)
    assert buckets.gather(order).is_sorted()  # monotone in the value


@given(frames(), st.integers(1, 12), st.randoms(use_true_random=False))
def test_row_order_and_laziness_do_not_matter(case, q, rnd):
    df, by = case
    order = list(range(df.height))
    rnd.shuffle(order)
    eager = vf.quantile_bin(df, "x", q, by=by)
    lazy = vf.quantile_bin(df.lazy(), "x", q, by=by)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    if order:
        assert vf.quantile_bin(df[order], "x", q, by=by).equals(eager[order])


def test_per_date_buckets_equal_one_date_at_a_time():
    """Deciles within each date: a day of tiny sizes and a day of huge ones both span 0..9."""
    days = [
        pl.DataFrame({"date": [d] * 20, "qty": [float(i * scale) for i in range(20)]})
        for d, scale in (("a", 1), ("b", 1000))
    ]
    together = vf.quantile_bin(pl.concat(days), "qty", 10, by="date")
    apart = pl.concat([vf.quantile_bin(day, "qty", 10) for day in days])
    assert together.equals(apart)
    assert together.group_by("date").agg(pl.col("qty_bucket").n_unique()).sort("date")[
        "qty_bucket"
    ].to_list() == [10, 10]


def test_hand_picked_deciles_ties_and_small_groups():
    df = pl.DataFrame({"x": [1, 2, 3], "y": [7, 7, 7]})
    assert vf.quantile_bin(df, "x", 10)["x_bucket"].to_list() == [0, 3, 6]
    assert vf.quantile_bin(df, "y", 10)["y_bucket"].to_list() == [3, 3, 3]  # mid rank 2 of 3
    one = pl.DataFrame({"x": [42.0]})
    assert vf.quantile_bin(one, "x", 10)["x_bucket"].to_list() == [0]
    assert vf.quantile_bin(pl.DataFrame({"x": []}, schema={"x": pl.Float64}), "x", 10).height == 0


def test_integer_column_and_custom_name():
    df = pl.DataFrame({"size": [100, 300, 200, 400]}, schema={"size": pl.UInt32})
    out = vf.quantile_bin(df, "size", 4, out="size_quartile")
    assert out["size_quartile"].to_list() == [0, 2, 1, 3]
    assert out.schema["size_quartile"] == pl.Int64


def test_several_dates_need_the_date_among_the_keys():
    df = pl.DataFrame({"date": ["20240102", "20240103"], "symbol": ["A", "A"], "x": [1.0, 2.0]})
    with pytest.raises(DataError, match="'date' holds 2 dates"):
        vf.quantile_bin(df, "x", 10, by="symbol")
    assert vf.quantile_bin(df, "x", 10, by=["date", "symbol"])["x_bucket"].to_list() == [0, 0]


@pytest.mark.parametrize("q", [0, -3, 2.5, True, "10"])
def test_bad_q_is_refused(q):
    with pytest.raises(VizflowError, match="quantile_bin: q="):
        vf.quantile_bin(pl.DataFrame({"x": [1.0]}), "x", q)


def test_bad_columns_are_named():
    df = pl.DataFrame({"x": [1.0], "s": ["a"], "x_bucket": [0]})
    with pytest.raises(ColumnNotFoundError, match="'xx'"):
        vf.quantile_bin(df, "xx", 10)
    with pytest.raises(ColumnNotFoundError, match="'day'"):
        vf.quantile_bin(df, "x", 10, by="day")
    with pytest.raises(SchemaError, match="'s'"):
        vf.quantile_bin(df, "s", 10)
    with pytest.raises(VizflowError, match="'x_bucket' already exists"):
        vf.quantile_bin(df, "x", 10)


# --- ties="order": pandas' qcut of rank(method="first") per group ---------------------------------


def pandas_order_buckets(df: pl.DataFrame, by: list[str], q: int) -> list:
    """pd.qcut(x.rank(method="first"), q, labels=False) per group, in row order (pandas refuses a
    group of one value, which vizflow puts in bucket 0). A rank exactly on one of qcut's edges
    (``(r - 1) q`` a multiple of ``m - 1``) is marked ``"edge"``: pandas computes the edges in
    floating point and puts such a rank on either side (m = 19, q = 6, rank 16: above; m = 5,
    q = 2, rank 3: below), where vizflow's integers keep it below, as qcut's right-closed bins say."""
    pdf = df.to_pandas()
    x = pdf["x"]

    def cut(values: pd.Series) -> pd.Series:
        ranks = values.rank(method="first")
        m = int(ranks.notna().sum())
        if m <= 1:  # one value: bucket 0; none: all null
            return ranks * 0
        buckets = pd.qcut(ranks, q, labels=False).astype(object)
        on_edge = ranks.notna() & ((ranks - 1) * q % (m - 1) == 0) & (ranks > 1) & (ranks < m)
        return buckets.where(~on_edge, "edge")

    keys = [pdf[k].astype(object).where(pdf[k].notna(), "<null>") for k in by]  # a null key is a group
    buckets = x.groupby(keys, sort=False, dropna=False).transform(cut) if by else cut(x)
    return [b if b == "edge" else None if pd.isna(b) else int(b) for b in buckets]


@given(frames(), st.integers(1, 12), st.randoms(use_true_random=False))
def test_order_ties_are_pandas_qcut_of_first_ranks(case, q, rnd):
    df, by = case
    order = list(range(df.height))
    rnd.shuffle(order)
    shuffled = df[order] if order else df
    got = vf.quantile_bin(shuffled, "x", q, by=by or None, ties="order")
    expected = pandas_order_buckets(shuffled, by, q)
    assert [g if e != "edge" else "edge" for g, e in zip(got["x_bucket"], expected, strict=True)] == expected
    assert got.drop("x_bucket").equals(shuffled)
    lazy = vf.quantile_bin(shuffled.lazy(), "x", q, by=by or None, ties="order")
    assert lazy.collect().equals(got)


@given(st.lists(st.integers(0, 3).map(float), min_size=1, max_size=80), st.integers(1, 12))
def test_order_ties_give_equal_count_buckets_even_with_ties(values, q):
    buckets = vf.quantile_bin(pl.DataFrame({"x": values}), "x", q, ties="order")["x_bucket"]
    counts = [int((buckets == k).sum()) for k in range(q)]
    if len(values) >= q:
        assert max(counts) - min(counts) <= 1
    order = sorted(range(len(values)), key=values.__getitem__)  # stable: ties in row order
    assert buckets.gather(order).is_sorted()


def test_order_ties_split_a_common_lot_size():
    """Ten trades of 100 shares and two larger: 'share' puts the lot in one tercile, 'order' splits it."""
    df = pl.DataFrame({"qty": [100] * 10 + [500, 900]})
    assert vf.quantile_bin(df, "qty", 3)["qty_bucket"].to_list() == [1] * 10 + [2, 2]
    assert vf.quantile_bin(df, "qty", 3, ties="order")["qty_bucket"].to_list() == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.parametrize("ties", ["first", "", None, "average"])
def test_unknown_ties_is_refused(ties):
    with pytest.raises(VizflowError, match=f"ties={ties!r} for column 'x'; expected 'share'"):
        vf.quantile_bin(pl.DataFrame({"x": [1.0]}), "x", 2, ties=ties)


@pytest.mark.parametrize("q", range(1, 13))
def test_order_ties_on_every_group_size_up_to_40(q):
    """Every (m, q) with m up to 40: pandas' buckets off qcut's edges, the exact count of edges
    ``1 + (m - 1) k / q`` below the rank (in Fractions) everywhere."""
    for m in range(2, 41):
        x = pl.DataFrame({"x": [float(v) for v in range(m)]})
        got = vf.quantile_bin(x, "x", q, ties="order")["x_bucket"].to_list()
        exact = [sum(1 for k in range(1, q) if r > 1 + Fraction(m - 1) * k / q) for r in range(1, m + 1)]
        assert got == exact, (m, q)
        expected = pandas_order_buckets(x, [], q)
        assert [g if e != "edge" else "edge" for g, e in zip(got, expected, strict=True)] == expected, (m, q)


def test_order_ties_keep_a_rank_on_an_edge_below_it():
    """m = 19, q = 6: rank 16 lies exactly on the edge 1 + 18 * 5 / 6 = 16; pandas' floating-point
    edge (15.999...) puts it in bucket 5, the right-closed bin (15, 16] is bucket 4."""
    got = vf.quantile_bin(pl.DataFrame({"x": [float(v) for v in range(19)]}), "x", 6, ties="order")
    assert got["x_bucket"][15] == 4
