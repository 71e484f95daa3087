"""Cluster-robust standard errors of summarize / combine / finalize.

Checked three ways: against statsmodels' ``OLS`` / ``WLS`` on a constant with
``fit(cov_type="cluster")`` (CR1), against a brute-force per-cluster computation in exact
rational arithmetic (``fractions.Fraction``), and for the merge's algebra itself (partials of whole
clusters combined in any grouping and order give the statistics of all rows).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

VALUES = ["a", "b"]

# Values on a 1/8 grid within +-1000 (exact doubles), with nulls and NaN; weights on a 1/4 grid with zeros.
grid = st.integers(-8000, 8000).map(lambda k: k / 8)
value = st.one_of(grid, grid, grid, grid, st.none(), st.just(math.nan))


@st.composite
def clustered(draw: st.DrawFn, weighted: bool | None = None) -> tuple[pl.DataFrame, list[str], str | None]:
    """Rows with keys (Int, String, Categorical or two columns), a cluster id ``cl`` of random sizes."""
    n = draw(st.integers(0, 60))
    n_clusters = draw(st.integers(1, 8))
    # Skewed sizes: each cluster gets a random share of the rows.
    shares = draw(st.lists(st.integers(1, 10), min_size=n_clusters, max_size=n_clusters))
    cl = draw(
        st.lists(st.sampled_from([i for i, s in enumerate(shares) for _ in range(s)]), min_size=n, max_size=n)
    )
    key_kind = draw(st.sampled_from(["int", "str", "cat", "two", "none"]))
    ids = draw(st.lists(st.one_of(st.integers(0, 2), st.none()), min_size=n, max_size=n))
    cols: dict[str, pl.Series] = {"cl": pl.Series(cl, dtype=pl.Int64)}
    if key_kind == "int":
        cols["k"] = pl.Series(ids, dtype=pl.Int32)
    elif key_kind == "str":
        cols["k"] = pl.Series([None if i is None else f"s{i}" for i in ids], dtype=pl.String)
    elif key_kind == "cat":
        cols["k"] = pl.Series([None if i is None else f"c{i}" for i in ids], dtype=pl.Categorical)
    elif key_kind == "two":
        cols["k"] = pl.Series([None if i is None else i % 2 for i in ids], dtype=pl.Int64)
        cols["side"] = pl.Series(draw(st.lists(st.sampled_from(["b", "s"]), min_size=n, max_size=n)))
    by = {"two": ["k", "side"], "none": []}.get(key_kind, ["k"])
    for v in VALUES:
        cols[v] = pl.Series(draw(st.lists(value, min_size=n, max_size=n)), dtype=pl.Float64)
    use_weight = draw(st.booleans()) if weighted is None else weighted
    if use_weight:
        weights = draw(st.lists(st.integers(0, 8).map(lambda k: k / 4), min_size=n, max_size=n))
        cols["w"] = pl.Series(weights, dtype=pl.Float64)
    return pl.DataFrame(cols), by, "w" if use_weight else None


def entered(rows: list[dict], v: str, weight: str | None) -> list[tuple[Fraction, Fraction, object]]:
    """(x, w, cluster) of the rows whose value enters: non-missing, of positive weight."""
    out = []
    for r in rows:
        x = r[v]
        w = Fraction(r[weight]) if weight else Fraction(1)
        if x is not None and not math.isnan(x) and w > 0:
            out.append((Fraction(x), w, r["cl"]))
    return out


def exact_cells(df: pl.DataFrame, by: list[str], weight: str | None) -> dict[tuple, dict[str, dict]]:
    """Per cell and value: exact mean, G, S_g and W_g per cluster, and the CR1 variance of the mean."""
    cells: dict[tuple, list[dict]] = {}
    for row in df.iter_rows(named=True):
        cells.setdefault(tuple(row[k] for k in by), []).append(row)
    out: dict[tuple, dict[str, dict]] = {}
    for key, rows in cells.items():
        out[key] = {}
        for v in VALUES:
            pairs = entered(rows, v, weight)
            sums: dict[object, list[Fraction]] = {}
            for x, w, g in pairs:
                s = sums.setdefault(g, [Fraction(0), Fraction(0)])
                s[0] += w * x
                s[1] += w
            big_w = sum((s[1] for s in sums.values()), Fraction(0))
            mean = sum((s[0] for s in sums.values()), Fraction(0)) / big_w if big_w else None
            g = len(sums)
            var = None
            if g >= 2 and mean is not None:
                q = sum(((s - w * mean) ** 2 for s, w in sums.values()), Fraction(0))
                var = Fraction(g, g - 1) * q / big_w**2
            scale = max((abs(x) for x, _, _ in pairs), default=Fraction(0))
            out[key][v] = {"mean": mean, "g": g, "var": var, "sums": sums, "scale": scale, "W": big_w}
    return out


def assert_close(got: float | None, exact: Fraction | float | None, floor: float, rel: float) -> None:
    if exact is None or got is None:
        assert got is None, (got, exact)
        assert exact is None, (got, exact)
        return
    assert abs(Fraction(got) - Fraction(exact)) <= rel * abs(Fraction(exact)) + Fraction(floor), (
        got,
        float(exact),
    )


def is_the_empty_whole(row: dict, exact: dict, by: list[str]) -> bool:
    """An empty frame summarized without keys: one row of nothing, no cell in the exact reference."""
    if by or exact:
        return False
    assert row["n"] == 0
    return True


def assert_matches_exact(final: pl.DataFrame, exact: dict, by: list[str]) -> None:
    assert final.height == (len(exact) or (0 if by else 1))
    for row in final.iter_rows(named=True):
        if is_the_empty_whole(row, exact, by):
            assert all(row[f"{v}_clusters"] == 0 and row[f"{v}_mean"] is None for v in VALUES)
            assert all(row[f"{v}_se"] is None for v in VALUES)
            continue
        cell = exact[tuple(row[k] for k in by)]
        for v in VALUES:
            ref = cell[v]
            assert row[f"{v}_clusters"] == ref["g"]
            floor = 1e-14 * float(ref["scale"])
            assert_close(row[f"{v}_mean"], ref["mean"], floor, 1e-13)
            se = None if ref["var"] is None else math.sqrt(ref["var"])
            # se = sqrt(q) / W: q's rounding is relative to the data's spread, so the floor is too.
            assert_close(row[f"{v}_se"], se, 1e-12 * float(ref["scale"]), 1e-10)
            if se:
                assert row[f"{v}_t"] == pytest.approx(row[f"{v}_mean"] / row[f"{v}_se"], rel=1e-15)
            else:
                assert row[f"{v}_t"] is None


def assert_partial_fields_exact(partial: pl.DataFrame, exact: dict, by: list[str]) -> None:
    """q, b, c, g of a partial against their exact values around the partial's own (float) mean."""
    for row in partial.iter_rows(named=True):
        if is_the_empty_whole(row, exact, by):
            assert all(
                row[v]["g"] == 0 and (row[v]["q"], row[v]["b"], row[v]["c"]) == (0, 0, 0) for v in VALUES
            )
            continue
        cell = exact[tuple(row[k] for k in by)]
        for v in VALUES:
            got, ref = row[v], cell[v]
            assert got["g"] == ref["g"]
            sums = list(ref["sums"].values())
            assert Fraction(got["c"]) == sum(
                (w * w for _, w in sums), Fraction(0)
            )  # sums of squares of 1/4-grid weights are exact
            if ref["mean"] is None:
                assert (got["q"], got["b"], got["c"]) == (0.0, 0.0, 0.0)
                continue
            m = Fraction(got["mean"])
            q = sum(((s - w * m) ** 2 for s, w in sums), Fraction(0))
            b = sum((w * (s - w * m) for s, w in sums), Fraction(0))
            tol = float(ref["scale"]) * float(ref["W"])
            assert_close(got["q"], q, 1e-12 * tol**2, 1e-10)
            assert_close(got["b"], b, 1e-12 * tol * float(ref["W"]), 1e-10)


def cluster_parts(df: pl.DataFrame, labels: list[int]) -> list[pl.DataFrame]:
    """Whole clusters dealt to partials by the drawn labels, rows shuffled."""
    part = pl.col("cl").map_elements(lambda c: labels[c % len(labels)], return_dtype=pl.Int64)
    shuffled = df.with_columns(part.alias("part")).sample(fraction=1.0, shuffle=True, seed=len(labels))
    parts = [shuffled.filter(pl.col("part") == p).drop("part") for p in sorted(set(labels))]
    return [p for p in parts if p.height] or [df]


@given(clustered(), st.lists(st.integers(0, 4), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_partials_of_whole_clusters_combine_to_the_exact_clustered_statistics(case, labels, rnd):
    """combine(summaries of partials cut along clusters) == summarize(all) == exact Fractions, in any
    grouping and order of the partials (associative, order-free)."""
    df, by, weight = case
    exact = exact_cells(df, by, weight)
    whole = vf.summarize(df, by, VALUES, weight, cluster="cl")
    assert_partial_fields_exact(whole, exact, by)
    assert_matches_exact(vf.finalize(whole), exact, by)
    parts = [vf.summarize(p, by, VALUES, weight, cluster="cl") for p in cluster_parts(df, labels)]
    shuffled = parts[:]
    rnd.shuffle(shuffled)
    groupings = [parts, shuffled]
    if len(parts) >= 2:
        groupings += [
            [vf.combine(parts[:1]), vf.combine(parts[1:])],
            [vf.combine(shuffled[:-1]), shuffled[-1]],
        ]
    for grouping in groupings:
        merged = vf.combine(grouping)
        assert_partial_fields_exact(merged, exact, by)
        assert_matches_exact(vf.finalize(merged), exact, by)


def statsmodels_se(x: np.ndarray, w: np.ndarray | None, groups: np.ndarray) -> tuple[float, float]:
    """Mean and cluster-robust SE of the mean: OLS (WLS) of x on a constant, cov_type='cluster'."""
    ones = np.ones_like(x)
    model = sm.OLS(x, ones) if w is None else sm.WLS(x, ones, weights=w)
    codes = np.unique(groups, return_inverse=True)[1]
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes})
    return float(fit.params[0]), float(fit.bse[0])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_statsmodels_cluster_robust_se(seed: int, weighted: bool) -> None:
    """Random cluster sizes, weights, nulls and NaN, partials of whole clusters: as statsmodels."""
    rng = np.random.default_rng(seed)
    n_clusters = int(rng.integers(2, 40))
    sizes = rng.geometric(1 / rng.uniform(1, 60), n_clusters)
    cl = np.repeat(np.arange(n_clusters), sizes)
    n = cl.size
    effect = rng.normal(0, rng.uniform(0, 3), n_clusters)[cl]  # correlated within a cluster
    x = 50.0 + effect + rng.normal(0, 1, n)
    x[rng.random(n) < 0.1] = np.nan
    df = (
        pl.DataFrame(
            {
                "side": rng.choice(["b", "s"], n),
                "cl": cl,
                "a": x,
                "b": np.where(rng.random(n) < 0.1, np.nan, rng.standard_t(3, n) + effect),
                "w": np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0, 3, n)),
            },
        )
        .with_columns(pl.col("b").fill_nan(None))
        .sample(fraction=1.0, shuffle=True, seed=seed)
    )
    weight = "w" if weighted else None
    labels = [int(v) for v in rng.integers(0, 4, n_clusters)]
    final = vf.finalize(
        vf.combine([vf.summarize(p, "side", VALUES, weight, cluster="cl") for p in cluster_parts(df, labels)])
    )
    direct = vf.finalize(vf.summarize(df, "side", VALUES, weight, cluster="cl"))
    for row, same in zip(final.iter_rows(named=True), direct.iter_rows(named=True), strict=True):
        cell = df.filter(pl.col("side") == row["side"])
        for v in VALUES:
            keep = cell.filter(
                pl.col(v).is_not_null() & pl.col(v).is_not_nan() & (pl.col("w") > 0 if weighted else True)
            )
            groups = keep["cl"].to_numpy()
            mean, se = statsmodels_se(keep[v].to_numpy(), keep["w"].to_numpy() if weighted else None, groups)
            assert row[f"{v}_clusters"] == same[f"{v}_clusters"] == len(set(groups.tolist()))
            assert row[f"{v}_mean"] == pytest.approx(mean, rel=1e-12)
            if len(set(groups.tolist())) < 2:
                assert row[f"{v}_se"] is None
                continue
            assert row[f"{v}_se"] == pytest.approx(se, rel=1e-9)
            assert same[f"{v}_se"] == pytest.approx(se, rel=1e-9)
            assert row[f"{v}_t"] == pytest.approx(mean / se, rel=1e-9)


def test_regression_se_is_clustered_by_date_not_iid() -> None:
    """Rows sharing a date move together: the default SE is statsmodels' clustered one, several
    times the iid std / sqrt(n) that finalize printed before (now only finalize(se="iid"))."""
    rng = np.random.default_rng(7)
    dates = np.repeat(np.arange(5), 200)
    x = rng.normal(0, 1, 5)[dates] + rng.normal(0, 0.1, dates.size)
    df = pl.DataFrame({"date": dates, "ret": x})
    row = vf.finalize(vf.summarize(df, None, "ret")).row(0, named=True)
    _, se = statsmodels_se(x, None, dates)
    assert row["ret_se"] == pytest.approx(se, rel=1e-10)
    assert row["ret_clusters"] == 5
    iid = vf.finalize(vf.summarize(df, None, "ret"), se="iid").row(0, named=True)
    assert iid["ret_se"] == pytest.approx(np.std(x, ddof=1) / math.sqrt(x.size), rel=1e-10)
    assert row["ret_se"] > 5 * iid["ret_se"]


def test_fewer_than_two_clusters_give_no_se() -> None:
    df = pl.DataFrame(
        {
            "date": [1, 1, 1, 2, 2, 3],
            "k": ["one", "one", "one", "two", "two", "two"],
            "x": [1.0, 2.0, 4.0, 3.0, 5.0, None],  # k=two: date 3 has no value, so one cluster
            "w": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    final = vf.finalize(vf.summarize(df, "k", "x"))
    assert final.select("k", "x_n", "x_clusters", "x_se", "x_t").rows() == [
        ("one", 3, 1, None, None),
        ("two", 2, 1, None, None),
    ]
    assert final["x_std"].to_list()[0] == pytest.approx(math.sqrt(7 / 3))  # std stays
    # A cluster whose only weights are 0 does not count either.
    zero = df.with_columns(pl.when(pl.col("date") == 2).then(0.0).otherwise(pl.col("w")).alias("w"))
    assert vf.finalize(vf.summarize(zero, None, "x", "w"))["x_clusters"].to_list() == [1]
    assert vf.finalize(vf.summarize(zero, None, "x", "w"))["x_se"].to_list() == [None]
    # And an empty frame has none at all.
    empty = vf.finalize(vf.summarize(df.clear(), None, "x"))
    assert empty.select("x_clusters", "x_se").rows() == [(0, None)]


def test_default_clusters_by_the_date_column() -> None:
    rng = np.random.default_rng(3)
    df = pl.DataFrame(
        {"date": rng.integers(0, 6, 300), "side": rng.choice(["b", "s"], 300), "x": rng.normal(size=300)}
    )
    default = vf.finalize(vf.summarize(df, "side", "x"))
    assert_frame_equal(default, vf.finalize(vf.summarize(df, "side", "x", cluster="date")), rel_tol=1e-12)
    renamed = df.rename({"date": "day"})
    assert_frame_equal(
        vf.finalize(vf.summarize(renamed, "side", "x", date_col="day")), default, rel_tol=1e-12
    )
    # Without a date column the whole frame is one cluster: no SE.
    one = vf.finalize(vf.summarize(renamed, "side", "x"))
    assert one["x_clusters"].to_list() == [1, 1]
    assert one["x_se"].to_list() == [None, None]
    assert_frame_equal(one, vf.finalize(vf.summarize(df, "side", "x", cluster=[])), rel_tol=1e-12)


def test_cluster_expressions_equal_computed_columns() -> None:
    rng = np.random.default_rng(4)
    df = pl.DataFrame(
        {"date": rng.integers(0, 3, 400), "secs": rng.integers(0, 14400, 400), "x": rng.normal(size=400)}
    )
    half_hour = pl.col("secs") // 1800
    by_expr = vf.finalize(vf.summarize(df, None, "x", cluster=["date", half_hour]))
    by_cols = vf.finalize(vf.summarize(df.with_columns(hh=half_hour), None, "x", cluster=["date", "hh"]))
    assert_frame_equal(by_expr, by_cols, rel_tol=1e-12)
    codes = df.select(pl.struct("date", half_hour.alias("hh")).rank("dense")).to_series().to_numpy()
    _, se = statsmodels_se(df["x"].to_numpy(), None, codes)
    assert by_expr["x_se"].item() == pytest.approx(se, rel=1e-10)
    assert by_expr["x_clusters"].item() == len(set(codes.tolist()))
    # One expression alone, too; the cluster columns never show in the output.
    alone = vf.summarize(df, None, "x", cluster=pl.col("secs") // 3600)
    assert alone.columns == ["n", "x"]


def test_a_cluster_that_is_also_a_key_gives_one_cluster_per_cell() -> None:
    df = pl.DataFrame({"date": [1, 1, 2, 2], "x": [1.0, 2.0, 3.0, 5.0]})
    final = vf.finalize(vf.summarize(df, "date", "x"))
    assert final.select("date", "x_clusters", "x_se").rows() == [(1, 1, None), (2, 1, None)]
    # ... and combining those cells (different dates, different clusters) clusters by date.
    merged = vf.finalize(vf.combine(vf.summarize(df, "date", "x"), by=[]))
    _, se = statsmodels_se(df["x"].to_numpy(), None, df["date"].to_numpy())
    assert merged["x_se"].item() == pytest.approx(se, rel=1e-12)


@given(st.lists(grid, min_size=2, max_size=40))
def test_one_row_per_cluster_gives_the_iid_se(xs):
    """CR1 with singleton clusters: G/(G-1) sum (x - m)^2 / G^2 is the sample variance over n."""
    df = pl.DataFrame({"x": xs, "cl": range(len(xs))})
    clustered = vf.finalize(vf.summarize(df, None, "x", cluster="cl")).row(0, named=True)
    iid = vf.finalize(vf.summarize(df, None, "x", cluster="cl"), se="iid").row(0, named=True)
    if iid["x_se"] is None or iid["x_se"] == 0:
        assert clustered["x_se"] in (None, 0.0) or clustered["x_se"] < 1e-12 * max(abs(x) for x in xs)
    else:
        assert clustered["x_se"] == pytest.approx(iid["x_se"], rel=1e-9)


def test_lazy_in_lazy_out_and_column_order() -> None:
    df = pl.DataFrame({"date": [1, 1, 2, 3], "k": [1, 2, 1, 1], "x": [1.0, 2.0, 3.0, 4.0], "y": [1, 0, 1, 1]})
    partial = vf.summarize(df.lazy(), "k", ["x", "y"])
    assert isinstance(partial, pl.LazyFrame)
    assert isinstance(vf.combine([partial, partial]), pl.LazyFrame)
    final = vf.finalize(partial)
    assert isinstance(final, pl.LazyFrame)
    stats = ["n", "mean", "std", "se", "clusters", "t"]
    assert final.collect_schema().names() == ["k", "n", "weight", *(f"{v}_{s}" for v in "xy" for s in stats)]
    assert final.collect_schema()["x_clusters"] == pl.Int64
    iid = vf.finalize(partial, se="iid").collect_schema().names()
    assert iid == ["k", "n", "weight", *(f"{v}_{s}" for v in "xy" for s in ["n", "mean", "std", "se", "t"])]
    assert_frame_equal(final.collect(), vf.finalize(vf.summarize(df, "k", ["x", "y"])), rel_tol=1e-12)


def test_bad_cluster_and_se_arguments() -> None:
    df = pl.DataFrame({"date": [1, 2], "x": [1.0, 2.0], "w": [1.0, 1.0]})
    with pytest.raises(VizflowError, match=r"cluster=5; expected a column name, an expression"):
        vf.summarize(df, None, "x", cluster=5)  # type: ignore[arg-type]
    with pytest.raises(ColumnNotFoundError, match="'day' not found"):
        vf.summarize(df, None, "x", cluster="day")
    with pytest.raises(VizflowError, match="'x' is both a cluster and a value"):
        vf.summarize(df, None, "x", cluster="x")
    with pytest.raises(VizflowError, match="'w' is both a cluster and the weight"):
        vf.summarize(df, None, "x", "w", cluster=["date", "w"])
    with pytest.raises(VizflowError, match=r"cluster names \['date'\] more than once"):
        vf.summarize(df, None, "x", cluster=["date", "date"])
    with pytest.raises(VizflowError, match="se='hc1'; expected 'cluster'"):
        vf.finalize(vf.summarize(df, None, "x"), se="hc1")  # type: ignore[arg-type]


def test_a_partial_from_before_cluster_statistics_says_to_summarize_again() -> None:
    old = pl.DataFrame({"k": [1], "n": [2], "x": [{"n": 2, "mean": 1.5, "m2": 0.5}]})
    with pytest.raises(SchemaError, match=r"missing \['g', 'q', 'b', 'c'\].*run vf.summarize again"):
        vf.finalize(old)
    with pytest.raises(SchemaError, match="run vf.summarize again"):
        vf.combine([old, old])


def test_merge_keeps_its_digits_far_from_zero() -> None:
    """Cluster sums around each partial's mean, not raw sums: a mean of 1e6 with unit spread keeps the
    SE to 1e-9 (raw sums of squares would keep 1e-4; the means' own rounding, 1e-10 here, is the limit)."""
    rng = random.Random(5)
    rows = [(d, 1e6 + rng.choice([-1.0, 0.0, 1.0, 2.0]) + d) for d in range(8) for _ in range(50)]
    df = pl.DataFrame(rows, schema={"date": pl.Int64, "x": pl.Float64}, orient="row")
    parts = [vf.summarize(day, None, "x") for day in df.partition_by("date")]
    got = vf.finalize(vf.combine(parts))["x_se"].item()
    _, se = statsmodels_se(df["x"].to_numpy() - 1e6, None, df["date"].to_numpy())  # shifted: exact reference
    assert got == pytest.approx(se, rel=1e-9)


def test_shuffled_rows_give_the_same_statistics() -> None:
    """Shuffled rows give the same statistics up to rounding (sums in another order)."""
    rng = np.random.default_rng(11)
    df = pl.DataFrame(
        {
            "date": rng.integers(0, 9, 500),
            "k": rng.choice(["x", "y", "z"], 500),
            "a": rng.normal(3, 1, 500),
            "b": rng.normal(0, 1e-3, 500),
            "w": rng.uniform(0, 1, 500),
        }
    )
    first = vf.summarize(df, "k", VALUES, "w")
    for seed in range(3):
        shuffled = vf.summarize(df.sample(fraction=1.0, shuffle=True, seed=seed), "k", VALUES, "w")
        assert_frame_equal(vf.finalize(shuffled), vf.finalize(first), rel_tol=1e-12, abs_tol=0.0)


def test_a_null_cluster_value_is_a_cluster_of_its_own() -> None:
    df = pl.DataFrame({"cl": [None, None, 1, 1, 2], "x": [1.0, 2.0, 4.0, 8.0, 3.0]})
    final = vf.finalize(vf.summarize(df, None, "x", cluster="cl")).row(0, named=True)
    _, se = statsmodels_se(df["x"].to_numpy(), None, np.array([0, 0, 1, 1, 2]))
    assert final["x_clusters"] == 3
    assert final["x_se"] == pytest.approx(se, rel=1e-12)


def split_rows(df: pl.DataFrame, labels: list[int]) -> list[pl.DataFrame]:
    """Rows (not whole clusters) dealt to partials by the drawn labels."""
    part = pl.Series("part", [labels[i % len(labels)] for i in range(df.height)])
    shuffled = df.with_columns(part).sample(fraction=1.0, shuffle=True, seed=len(labels))
    parts = [shuffled.filter(pl.col("part") == p).drop("part") for p in sorted(set(labels))]
    return [p for p in parts if p.height] or [df]


@given(clustered(), st.lists(st.integers(0, 4), min_size=1, max_size=8))
def test_combine_by_any_subset_with_the_cluster_among_the_keys(case, labels):
    """Partials keyed by (..., cl), cut anywhere (clusters split across partials too), combined by a
    subset of the keys with cluster="cl": rows of one cluster pool, and the result is exact."""
    df, by, weight = case
    sub = df.with_columns(extra=pl.int_range(pl.len()) % 2)  # splits clusters across rows, then merged
    parts = [
        vf.summarize(p, [*by, "extra", "cl"], VALUES, weight, cluster="cl") for p in split_rows(sub, labels)
    ]
    merged = vf.combine(parts, by=by, cluster="cl")
    exact = exact_cells(df, by, weight)
    assert_partial_fields_exact(merged, exact, by)
    assert_matches_exact(vf.finalize(merged), exact, by)


def test_regression_combine_over_a_key_counted_one_date_once_per_cell() -> None:
    """Partials by (date, decile), merged by nothing: one date counted once per decile (6 clusters
    of 3 dates) unless combine is told the date is the cluster."""
    rng = np.random.default_rng(2)
    df = pl.DataFrame(
        {"date": np.repeat([1, 2, 3], 40), "decile": rng.integers(0, 2, 120), "x": rng.normal(size=120)}
    )
    parts = [vf.summarize(day, ["date", "decile"], "x") for day in df.partition_by("date")]
    right = vf.finalize(vf.combine(parts, by=[], cluster="date")).row(0, named=True)
    _, se = statsmodels_se(df["x"].to_numpy(), None, df["date"].to_numpy())
    assert right["x_clusters"] == 3
    assert right["x_se"] == pytest.approx(se, rel=1e-12)
    assert vf.finalize(vf.combine(parts, by=[]))["x_clusters"].item() == 6  # what combine assumes without it


def test_combine_cluster_must_name_a_row_s_only_cluster() -> None:
    df = pl.DataFrame({"date": [1, 1, 2, 2], "k": [1, 1, 1, 1], "x": [1.0, 2.0, 3.0, 5.0]})
    with pytest.raises(ColumnNotFoundError, match="'date' not found"):
        vf.combine(vf.summarize(df, "k", "x"), cluster="date")  # the date is not a key
    several = vf.summarize(df.with_columns(day=pl.lit(0)), ["k", "day"], "x")  # g = 2 in the row of day 0
    with pytest.raises(DataError, match=r"cluster=\['day'\].*1 row\(s\) of partial column 'x' hold several"):
        vf.combine(several, by="k", cluster="day")
    lazy = vf.combine([vf.summarize(df.lazy(), ["k", "date"], "x")], by="k", cluster="date")
    assert isinstance(lazy, pl.LazyFrame)
    assert vf.finalize(lazy).collect()["x_clusters"].item() == 2


def test_real_sample_60s_markout_row_of_the_docs_matches_statsmodels() -> None:
    """docs/statistics.md, "How sure is this number?": the 60 s row, recomputed with statsmodels."""
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN)
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes(), vf.CN)
    marked = vf.forward_return(
        trades, [60], "price", symbol_col=["date", "symbol"], reference=quotes, reference_price_col="mid"
    )
    signed = marked.filter(pl.col("side") != 0).with_columns(pl.col("return_60") * pl.col("side") * 1e4)
    half_hour = pl.col("elapsed_seconds") // 1800
    by_date = vf.finalize(vf.summarize(signed, None, "return_60")).row(0, named=True)
    by_half_hour = vf.finalize(vf.summarize(signed, None, "return_60", cluster=["date", half_hour])).row(
        0, named=True
    )
    rows = signed.filter(pl.col("return_60").is_not_null()).with_columns(hh=half_hour)
    x = rows["return_60"].to_numpy()
    mean, se_date = statsmodels_se(x, None, rows["date"].to_numpy())
    _, se_half_hour = statsmodels_se(
        x, None, rows.select(pl.struct("date", "hh").rank("dense")).to_series().to_numpy()
    )
    assert by_date["return_60_mean"] == pytest.approx(mean, rel=1e-12)
    assert by_date["return_60_se"] == pytest.approx(se_date, rel=1e-9)
    assert by_half_hour["return_60_se"] == pytest.approx(se_half_hour, rel=1e-9)
    assert (by_date["return_60_clusters"], by_half_hour["return_60_clusters"]) == (3, 24)
    # The numbers the docs print (and the table): +0.125 bp, se 0.128 by date, 0.226 by half hour.
    assert (round(mean, 3), round(se_date, 3), round(se_half_hour, 3)) == (0.125, 0.128, 0.226)


@pytest.mark.parametrize("weight", [None, "w"])
def test_one_cluster_cells_and_merged_cells_have_one_schema(weight: str | None) -> None:
    """summarize skips its merge when each cell is one cluster; combine still takes both kinds."""
    df = pl.DataFrame({"date": [1, 1, 2], "k": [1, 1, 1], "x": [1.0, 2.0, 3.0], "w": [1.0, 2.0, 3.0]})
    single = vf.summarize(df, "k", "x", weight, cluster=[])
    merged = vf.summarize(df, "k", "x", weight)
    assert single.schema == merged.schema
    both = vf.finalize(vf.combine([single, merged])).row(0, named=True)
    assert both["x_clusters"] == 1 + 2
