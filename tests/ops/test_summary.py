"""summarize / combine / finalize: exact against a Fraction reference, associative, order-free, stable."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

VALUES = ["a", "b"]


def reference(df: pl.DataFrame, by: list[str], weight: str | None) -> dict[tuple, dict[str, object]]:
    """Row-loop statistics per cell in exact rational arithmetic (shares no code with vizflow)."""
    cells: dict[tuple, list[dict]] = {}
    for row in df.iter_rows(named=True):
        cells.setdefault(tuple(row[k] for k in by), []).append(row)
    out = {}
    for key, rows in cells.items():
        stats: dict[str, object] = {"n": len(rows)}
        for v in VALUES:
            pairs = [
                (Fraction(r[v]), Fraction(r[weight]) if weight else Fraction(1))
                for r in rows
                if r[v] is not None and not math.isnan(r[v])
            ]
            pairs = [(x, w) for x, w in pairs if w > 0]
            big_w = sum(w for _, w in pairs)
            big_w2 = sum(w * w for _, w in pairs)
            mean = sum(w * x for x, w in pairs) / big_w if big_w else None
            std = se = None
            if len(pairs) > 1:
                m2 = sum(w * (x - mean) ** 2 for x, w in pairs)
                var = m2 / (big_w - big_w2 / big_w)
                std = math.sqrt(var)
                se = math.sqrt(var * big_w2 / big_w**2)
            scale = max((abs(float(x)) for x, _ in pairs), default=0.0)
            stats[v] = {"n": len(pairs), "mean": mean, "std": std, "se": se, "scale": scale}
        out[key] = stats
    return out


def close(got: float | None, exact: float | Fraction | None, floor: float, rel: float = 1e-12) -> bool:
    if exact is None or got is None:
        return got is None and exact is None
    return abs(Fraction(got) - Fraction(exact)) <= rel * abs(Fraction(exact)) + Fraction(floor)


def assert_matches_reference(final: pl.DataFrame, expected: dict, by: list[str]) -> None:
    assert final.height == len(expected)
    for row in final.iter_rows(named=True):
        cell = expected[tuple(row[k] for k in by)]
        assert row["n"] == cell["n"]
        for v in VALUES:
            ref = cell[v]
            floor = 1e-15 * ref["scale"]  # a few ulps of the data's magnitude (means near zero)
            assert row[f"{v}_n"] == ref["n"], (v, row, ref)
            assert close(row[f"{v}_mean"], ref["mean"], floor), (v, row, ref)
            assert close(row[f"{v}_std"], ref["std"], floor), (v, row, ref)
            assert close(row[f"{v}_se"], ref["se"], floor), (v, row, ref)
            if ref["se"]:
                t = float(ref["mean"]) / ref["se"]
                assert close(row[f"{v}_t"], t, floor / ref["se"], rel=1e-11), (v, row, ref)


# Values on a 1/8 grid within +-1000 (exact doubles, bounded conditioning), with nulls and NaN.
grid = st.integers(-8000, 8000).map(lambda k: k / 8)
value = st.one_of(grid, grid, grid, st.none(), st.just(math.nan))


@st.composite
def frames(draw: st.DrawFn, weighted: bool | None = None) -> tuple[pl.DataFrame, list[str], str | None]:
    n = draw(st.integers(0, 40))
    key_kind = draw(st.sampled_from(["int", "str", "cat", "two"]))
    ids = draw(st.lists(st.one_of(st.integers(0, 3), st.none()), min_size=n, max_size=n))
    cols: dict[str, pl.Series] = {}
    if key_kind == "int":
        cols["k"] = pl.Series(ids, dtype=pl.Int32)
    elif key_kind == "str":
        cols["k"] = pl.Series([None if i is None else f"s{i}" for i in ids], dtype=pl.String)
    elif key_kind == "cat":
        cols["k"] = pl.Series([None if i is None else f"c{i}" for i in ids], dtype=pl.Categorical)
    else:
        cols["k"] = pl.Series([None if i is None else i % 2 for i in ids], dtype=pl.Int64)
        cols["day"] = pl.Series(draw(st.lists(st.sampled_from(["d1", "d2"]), min_size=n, max_size=n)))
    by = ["k", "day"] if key_kind == "two" else ["k"]
    for v in VALUES:
        cols[v] = pl.Series(draw(st.lists(value, min_size=n, max_size=n)), dtype=pl.Float64)
    use_weight = draw(st.booleans()) if weighted is None else weighted
    if use_weight:
        weights = draw(st.lists(st.integers(0, 8).map(lambda k: k / 4), min_size=n, max_size=n))
        cols["w"] = pl.Series(weights, dtype=pl.Float64)
    return pl.DataFrame(cols), by, "w" if use_weight else None


def split(df: pl.DataFrame, parts: list[int]) -> list[pl.DataFrame]:
    """Rows shuffled and dealt to ``len(parts)`` pieces by the drawn labels."""
    labels = pl.Series("part", [parts[i % len(parts)] for i in range(df.height)])
    shuffled = df.with_columns(labels).sample(fraction=1.0, shuffle=True, seed=len(parts))
    return [shuffled.filter(pl.col("part") == p).drop("part") for p in sorted(set(parts))]


@given(frames(), st.lists(st.integers(0, 5), min_size=1, max_size=12))
def test_combine_of_any_split_equals_the_exact_statistics(case, parts):
    """finalize(combine(summarize(piece) ...)) equals exact rational statistics of all rows, to 1e-12."""
    df, by, weight = case
    pieces = [vf.summarize(p, by, VALUES, weight=weight) for p in split(df, parts)]
    final = vf.finalize(vf.combine(pieces), se="iid")  # the reference's se is the iid one
    assert_matches_reference(final, reference(df, by, weight), by)
    whole = vf.finalize(vf.summarize(df, by, VALUES, weight=weight), se="iid")
    assert_matches_reference(whole, reference(df, by, weight), by)


def _close_values(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)
    return x == y


def assert_partials_close(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Same columns, keys and counts; floats (also inside the partial structs) equal to 1e-12."""
    assert left.columns == right.columns
    assert left.height == right.height
    for a, b in zip(left.iter_rows(), right.iter_rows(), strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, dict):
                assert x.keys() == y.keys()
                assert all(_close_values(x[f], y[f]) for f in x), (x, y)
            else:
                assert _close_values(x, y), (x, y)


@given(frames(), st.lists(st.integers(0, 5), min_size=2, max_size=12), st.integers(1, 11))
def test_combine_is_associative(case, parts, cut):
    """combine of combines equals combine of all, with the pieces in any grouping."""
    df, by, weight = case
    pieces = [vf.summarize(p, by, VALUES, weight=weight) for p in split(df, parts)]
    cut = min(cut, len(pieces))
    nested = vf.combine([vf.combine(pieces[:cut]), *([vf.combine(pieces[cut:])] if pieces[cut:] else [])])
    assert_partials_close(nested, vf.combine(pieces))
    assert_partials_close(vf.combine(list(reversed(pieces))), vf.combine(pieces))


@given(frames(), st.randoms(use_true_random=False))
def test_summarize_ignores_row_order(case, rnd):
    df, by, weight = case
    order = list(range(df.height))
    rnd.shuffle(order)
    shuffled = df[order] if order else df
    assert_partials_close(
        vf.summarize(shuffled, by, VALUES, weight=weight), vf.summarize(df, by, VALUES, weight=weight)
    )


@given(frames(weighted=False))
def test_unit_weights_equal_unweighted(case):
    df, by, _ = case
    plain = vf.finalize(vf.summarize(df, by, VALUES))
    weighted = vf.finalize(vf.summarize(df.with_columns(w=pl.lit(1.0)), by, VALUES, weight="w"))
    assert_partials_close(weighted, plain)


def _exact_std(values: np.ndarray, weights: np.ndarray | None) -> float:
    xs = [Fraction(x) for x in values.tolist()]
    ws = [Fraction(w) for w in weights.tolist()] if weights is not None else [Fraction(1)] * len(xs)
    big_w, big_w2 = sum(ws), sum(w * w for w in ws)
    # Exact arithmetic: the textbook sum-of-squares formula has no rounding here.
    m2 = (
        sum(w * x * x for x, w in zip(xs, ws, strict=True))
        - sum(w * x for x, w in zip(xs, ws, strict=True)) ** 2 / big_w
    )
    return math.sqrt(m2 / (big_w - big_w2 / big_w))


STABILITY = [(1e4, 1e-2), (1.0, 1e-6)]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("loc", "scale"), STABILITY, ids=["1e4+-1e-2", "1+-1e-6"])
def test_std_after_merging_1000_partials_is_stable(loc, scale, weighted):
    """Exit criterion: a large mean and a tiny spread keep a 1e-9 relative std through 1,000 merges."""
    rng = np.random.default_rng(14)
    values = loc + rng.normal(0.0, scale, size=(1000, 40))
    weights = rng.integers(1, 9, size=values.shape) / 4 if weighted else None
    days = [
        pl.DataFrame({"x": values[i], **({"w": weights[i]} if weighted else {})}) for i in range(len(values))
    ]
    parts = [vf.summarize(day, None, "x", weight="w" if weighted else None) for day in days]
    got = vf.finalize(vf.combine(parts))["x_std"].item()
    exact = _exact_std(values.ravel(), weights.ravel() if weighted else None)
    assert abs(got - exact) / exact < 1e-9


def test_stability_data_defeats_a_naive_sum_of_squares():
    """The stability data is hard: sum(x**2) - n*mean**2 in floats misses by far more than 1e-9."""
    rng = np.random.default_rng(14)
    values = 1e4 + rng.normal(0.0, 1e-2, size=40_000)
    n = len(values)
    naive = math.sqrt(max(float(np.sum(values**2)) - float(np.sum(values)) ** 2 / n, 0.0) / (n - 1))
    exact = _exact_std(values, None)
    assert abs(naive - exact) / exact > 1e-6


def test_runner_writes_partials_that_combine_into_the_year(tmp_path):
    """A pipeline ending in vf.summarize writes one partial per date; combine(scan(out)) gives the year."""
    days = ["20240102", "20240103", "20240104"]
    frames_by_day = {}
    for i, day in enumerate(days):
        _, trades = vf.datasets.synthetic_day(day, n_symbols=3, seed=i, trades_per_symbol=40)
        frames_by_day[day] = trades
        vf.save(trades, tmp_path / "in" / f"{day}.parquet")
    cfg = vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")

    def pipeline(lf, ctx):
        return vf.summarize(lf, "symbol", ["price", "qty"])

    assert vf.run_local(pipeline, cfg, days, progress=False).ok
    year = vf.finalize(vf.combine(vf.scan(tmp_path / "out" / "*.parquet"))).collect()
    whole = vf.finalize(vf.summarize(pl.concat(list(frames_by_day.values())), "symbol", ["price", "qty"]))
    assert_partials_close(year, whole)


def test_categorical_keys_survive_parquet_and_combine(tmp_path):
    day1 = pl.DataFrame({"k": ["x", "y"], "a": [1.0, 2.0]}, schema_overrides={"k": pl.Categorical})
    day2 = pl.DataFrame({"k": ["y", "z"], "a": [4.0, 8.0]}, schema_overrides={"k": pl.Categorical})
    for name, day in (("1", day1), ("2", day2)):
        vf.save(vf.summarize(day, "k", "a"), tmp_path / f"{name}.parquet")
    year = vf.finalize(vf.combine(vf.scan(tmp_path / "*.parquet"))).collect()
    assert year.select(pl.col("k").cast(pl.String), "a_n", "a_mean").rows() == [
        ("x", 1, 1.0),
        ("y", 2, 3.0),
        ("z", 1, 8.0),
    ]


def test_combine_by_a_subset_merges_over_the_other_keys():
    df = pl.DataFrame({"hh": [0, 0, 1, 1], "dec": [0, 1, 0, 1], "a": [1.0, 3.0, 5.0, 9.0]})
    coarse = vf.finalize(vf.combine(vf.summarize(df, ["hh", "dec"], "a"), by="hh"))
    assert coarse.select("hh", "n", "a_mean").rows() == [(0, 2, 2.0), (1, 2, 7.0)]
    assert vf.combine(vf.summarize(df, ["hh", "dec"], "a"), by=[])["a"].to_list() == [
        # four one-row cells, one cluster each: q = sum (4.5 - a)**2, b = -sum (4.5 - a) = 0, c = 4
        {"n": 4, "mean": 4.5, "m2": 35.0, "g": 4, "q": 35.0, "b": 0.0, "c": 4.0}
    ]


def test_hand_computed_weighted_statistics():
    """Weighted SE uses the effective count (sum w)^2 / sum w^2 (computed by hand)."""
    df = pl.DataFrame({"x": [1.0, 3.0, 100.0], "w": [1.0, 3.0, 0.0]})
    row = vf.finalize(vf.summarize(df, None, "x", weight="w"), se="iid").row(0, named=True)
    # mean 2.5, m2 = 1*1.5^2 + 3*0.5^2 = 3, W = 4, W2 = 10, var = 3 / (4 - 10/4) = 2, n_eff = 1.6
    assert row == {
        "n": 3,
        "weight": 4.0,
        "x_n": 2,
        "x_mean": 2.5,
        "x_std": pytest.approx(math.sqrt(2)),
        "x_se": pytest.approx(math.sqrt(2 / 1.6)),
        "x_t": pytest.approx(2.5 / math.sqrt(2 / 1.6)),
    }


def test_undefined_statistics_are_null():
    df = pl.DataFrame({"k": [1, 2, 2, 3], "x": [5.0, 2.0, 2.0, None], "w": [0.0, 1.0, 1.0, 1.0]})
    plain = vf.finalize(vf.summarize(df, "k", "x"))
    assert plain.select("x_n", "x_mean", "x_std", "x_t").rows() == [
        (1, 5.0, None, None),  # one value: no spread
        (2, 2.0, 0.0, None),  # no spread: t undefined, not infinite
        (0, None, None, None),  # no value
    ]
    weighted = vf.finalize(vf.summarize(df, "k", "x", weight="w"))
    assert weighted.select("x_n", "x_mean").rows()[0] == (0, None)  # zero weight: no value entered


def test_same_kind_in_same_kind_out():
    df = pl.DataFrame({"k": [1, 1], "x": [1.0, 2.0]})
    assert isinstance(vf.summarize(df.lazy(), "k", "x"), pl.LazyFrame)
    assert isinstance(vf.finalize(vf.summarize(df.lazy(), "k", "x")), pl.LazyFrame)
    assert isinstance(vf.combine(vf.summarize(df.lazy(), "k", "x")), pl.LazyFrame)
    assert isinstance(vf.combine([vf.summarize(df, "k", "x")]), pl.DataFrame)
    assert vf.summarize(df.lazy(), "k", "x").collect().equals(vf.summarize(df, "k", "x"))


def test_integer_and_boolean_values_are_summarized_as_floats():
    df = pl.DataFrame({"q": [1, 2, 3], "hit": [True, False, True]})
    row = vf.finalize(vf.summarize(df, None, ["q", "hit"])).row(0, named=True)
    assert (row["q_mean"], row["hit_mean"]) == (2.0, pytest.approx(2 / 3))


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_value_column_is_named():
    with pytest.raises(ColumnNotFoundError, match="'retrun_10'.*Did you mean 'return_10'"):
        vf.summarize(pl.DataFrame({"k": [1], "return_10": [1.0]}), "k", "retrun_10")


def test_non_numeric_value_is_a_schema_error():
    with pytest.raises(SchemaError, match="'s'"):
        vf.summarize(pl.DataFrame({"s": ["x"]}), None, "s")


@pytest.mark.parametrize("bad", [-1.0, None, math.nan, math.inf], ids=["negative", "null", "nan", "inf"])
def test_bad_weights_raise_naming_the_column(bad):
    lf = pl.LazyFrame({"x": [1.0, 2.0], "wt": [1.0, bad]})
    with pytest.raises(DataError, match="weight column 'wt' holds 1 "):
        vf.summarize(lf, None, "x", weight="wt").select("n").collect()


def test_infinite_value_raises_and_nan_is_missing():
    with pytest.raises(DataError, match="value column 'x' holds 1 infinite"):
        vf.summarize(pl.DataFrame({"x": [1.0, -math.inf]}), None, "x")
    row = vf.finalize(vf.summarize(pl.DataFrame({"x": [1.0, math.nan, 3.0]}), None, "x")).row(0, named=True)
    assert (row["n"], row["x_n"], row["x_mean"]) == (3, 2, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "x", "values": "x"}, "both a value and a key"),
        ({"by": None, "values": "x", "weight": "x"}, "both a value and the weight"),
        ({"by": "n", "values": "x"}, "clash with the count columns"),
        ({"by": None, "values": []}, "values is empty"),
    ],
)
def test_ambiguous_columns_are_refused(kwargs, match):
    with pytest.raises(VizflowError, match=match):
        vf.summarize(pl.DataFrame({"x": [1.0], "n": [1]}), **kwargs)


def test_partial_table_missing_its_partial_columns():
    good = vf.summarize(pl.DataFrame({"k": [1], "ret": [1.0]}), "k", "ret")
    broken = good.with_columns(pl.struct(n=pl.col("ret").struct.field("n"), mean=pl.lit(1.0)).alias("ret"))
    with pytest.raises(
        SchemaError, match=r"'ret' has fields \['n', 'mean'\].*missing \['m2', 'g', 'q', 'b', 'c'\]"
    ):
        vf.combine([broken])
    with pytest.raises(SchemaError, match="not a partial table"):
        vf.finalize(good.unnest("ret", separator="_"))
    with pytest.raises(ColumnNotFoundError, match="'n'"):
        vf.finalize(good.drop("n"))
    weighted = vf.summarize(pl.DataFrame({"ret": [1.0], "w": [1.0]}), None, "ret", weight="w")
    with pytest.raises(ColumnNotFoundError, match="'weight' not found"):
        vf.finalize(weighted.drop("weight"))


def test_combine_refuses_mismatched_tables():
    day = pl.DataFrame({"k": [1], "ret": [1.0], "w": [1.0]})
    with pytest.raises(SchemaError, match=r"table 1 differs .*\['k'\]"):
        vf.combine([vf.summarize(day, "k", "ret"), vf.summarize(day.cast({"k": pl.String}), "k", "ret")])
    with pytest.raises(SchemaError, match="differs"):
        vf.combine([vf.summarize(day, "k", "ret"), vf.summarize(day, "k", "ret", weight="w")])
    with pytest.raises(VizflowError, match="mixes DataFrames and LazyFrames"):
        vf.combine([vf.summarize(day, "k", "ret"), vf.summarize(day.lazy(), "k", "ret")])
    with pytest.raises(VizflowError, match="non-empty list"):
        vf.combine([])
    with pytest.raises(ColumnNotFoundError, match="'kk'"):
        vf.combine([vf.summarize(day, "k", "ret")], by="kk")


def test_split_helper_keeps_every_row():
    df = pl.DataFrame({"i": list(range(17))})
    pieces = split(df, [random.Random(0).randint(0, 3) for _ in range(5)])
    assert sorted(pl.concat(pieces)["i"].to_list()) == list(range(17))


@given(frames(), st.lists(st.integers(0, 5), min_size=1, max_size=8))
def test_combine_by_a_subset_equals_summarizing_by_it(case, parts):
    """Coarsening: partials by (k, day) combined by k equal a summary by k alone."""
    df, by, weight = case
    pieces = [vf.summarize(p, by, VALUES, weight=weight) for p in split(df, parts)]
    # The cluster fields differ on purpose: the merged cells count as clusters of their own here,
    # where summarizing by the coarser key makes each piece's cell one cluster.
    assert_partials_close(
        without_clusters(vf.combine(pieces, by=by[:1])),
        without_clusters(vf.summarize(df, by[:1], VALUES, weight=weight)),
    )
    assert_partials_close(
        without_clusters(vf.combine(pieces, by=[])),
        without_clusters(vf.summarize(df, None, VALUES, weight=weight)),
    )


def without_clusters(partial: pl.DataFrame) -> pl.DataFrame:
    """The partial with its structs cut to the iid fields."""
    cut = {}
    for v in VALUES:
        dtype = partial.schema[v]
        assert isinstance(dtype, pl.Struct)
        kept = [pl.col(v).struct.field(f.name) for f in dtype.fields if f.name not in ("g", "q", "b", "c")]
        cut[v] = pl.struct(kept)
    return partial.with_columns(**cut)


@given(frames(weighted=True), st.sampled_from([0.25, 3.0, 1024.0]))
def test_scaling_every_weight_changes_no_statistic(case, factor):
    df, by, _ = case
    base = vf.finalize(vf.summarize(df, by, VALUES, weight="w")).drop("weight")
    scaled = vf.finalize(vf.summarize(df.with_columns(pl.col("w") * factor), by, VALUES, weight="w"))
    assert_partials_close(scaled.drop("weight"), base)


@given(
    st.lists(
        st.tuples(st.sampled_from(["d1", "d2", "d3"]), st.integers(1, 6), value, value),
        min_size=1,
        max_size=50,
    ),
    st.integers(1, 4),
)
def test_per_date_buckets_summarized_then_combined_equal_the_exact_year(rows, q):
    """The runner pattern: each date buckets its own rows (vf.quantile_bin) and ends in vf.summarize;
    combining the dates' partials gives the exact statistics of all rows by bucket."""
    schema = {"day": pl.String, "size": pl.Int64, "a": pl.Float64, "b": pl.Float64}
    df = pl.DataFrame(rows, schema=schema, orient="row")
    days = [vf.quantile_bin(day, "size", q, out="bucket") for day in df.partition_by("day")]
    year = vf.finalize(vf.combine([vf.summarize(day, "bucket", VALUES) for day in days]), se="iid")
    bucketed = pl.concat(days)
    whole = vf.quantile_bin(df, "size", q, by="day", out="bucket")
    assert bucketed.sort("day", maintain_order=True).equals(whole.sort("day", maintain_order=True))
    assert_matches_reference(year, reference(bucketed, ["bucket"], None), ["bucket"])
