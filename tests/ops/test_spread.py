"""vf.spread_decomposition against a plain Polars join_asof computation, and the identity."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf

KEYS = ["date", "symbol"]
MEASURES = ["quoted_spread", "effective_spread"]


def reference(trades: pl.DataFrame, quotes: pl.DataFrame, horizons: list[float]) -> pl.DataFrame:
    """Plain Polars: sort both sides by (keys, time), join_asof backward at t and at t + h.

    A lookup past the key's last quote is null (forward_return's rule: no later observation yet).
    """
    q = quotes.select(*KEYS, "t", "mid", "bid", "ask").sort(*KEYS, "t", maintain_order=True)
    last = q.group_by(KEYS).agg(last_t=pl.col("t").max())
    out = trades.with_row_index("row").join(last, on=KEYS, how="left")
    for name, shift in [("now", 0.0), *((f"at_{h}", h) for h in horizons)]:
        probe = (
            out.select("row", *KEYS, (pl.col("t") + shift).alias("t"))
            .filter(pl.col("t").is_not_null())
            .sort(*KEYS, "t", maintain_order=True)
        )
        found = probe.join_asof(q, on="t", by=KEYS, strategy="backward", check_sortedness=False)
        found = found.select("row", pl.col("mid").alias(f"mid_{name}"), *(
            [pl.col("bid").alias("bid_now"), pl.col("ask").alias("ask_now")] if shift == 0 else []
        ))  # fmt: skip
        out = out.join(found, on="row", how="left")
        past = (pl.col("t") + shift) > pl.col("last_t")
        out = out.with_columns(pl.when(~past).then(pl.col(f"mid_{name}")).alias(f"mid_{name}"))
    d = pl.col("side").cast(pl.Float64).replace(0.0, None)
    m, p = pl.col("mid_now"), pl.col("price")
    cols = {
        "quoted_spread": (pl.col("ask_now") - pl.col("bid_now")) / m,
        "effective_spread": 2 * d * (p - m) / m,
    }
    for h in horizons:
        name = vf.ops.forward.horizon_name(h, "")
        cols[f"realized_spread_{name}"] = 2 * d * (p - pl.col(f"mid_at_{h}")) / m
        cols[f"price_impact_{name}"] = 2 * d * (pl.col(f"mid_at_{h}") - m) / m
    out = out.sort("row").select(**cols)
    hs = {
        f"{c}_hs": pl.when(pl.col("quoted_spread") > 0).then(pl.col(c) / pl.col("quoted_spread"))
        for c in cols
    }
    return out.with_columns(**{k: v for k, v in hs.items() if k != "quoted_spread_hs"})


def agree(got: pl.Series, expected: pl.Series) -> bool:
    for a, b in zip(got.to_list(), expected.to_list(), strict=True):
        if a is None or b is None:
            if a is not b:
                return False
        elif not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


symbols = st.sampled_from(["A", "B", "C"])
dates = st.sampled_from(["20240102", "20240103"])
times = st.integers(0, 30).map(float)
mids = st.one_of(st.none(), st.integers(95, 105).map(float))


@st.composite
def markets(draw):
    quotes = draw(st.lists(st.tuples(dates, symbols, times, mids, st.integers(1, 4)), max_size=40))
    trades = draw(
        st.lists(
            st.tuples(
                dates,
                st.one_of(symbols, st.none()),
                times,
                st.integers(90, 110).map(float),
                st.sampled_from([-1, 0, 1, None]),
            ),
            max_size=30,
        )
    )
    # One quote of every key at t = 15 (forward_return refuses a reference sharing no key).
    quotes += [(d, s, 15.0, 100.0, 2) for d in ("20240102", "20240103") for s in "ABC"]
    q = pl.DataFrame(
        quotes,
        schema={"date": pl.String, "symbol": pl.String, "t": pl.Float64, "mid": pl.Float64, "half": pl.Int64},
        orient="row",
    )
    q = q.with_columns(bid=pl.col("mid") - pl.col("half") * 0.5, ask=pl.col("mid") + pl.col("half") * 0.5)
    t = pl.DataFrame(
        trades,
        schema={
            "date": pl.String,
            "symbol": pl.String,
            "t": pl.Float64,
            "price": pl.Float64,
            "side": pl.Int8,
        },
        orient="row",
    )
    return t, q


@given(markets(), st.sampled_from([[1.0], [0.0, 5.0], [2.0, 7.0, 30.0]]), st.booleans())
def test_equals_a_plain_join_asof_computation(market, horizons, lazy):
    trades, quotes = market
    frame = trades.lazy() if lazy else trades
    out = vf.spread_decomposition(frame, horizons, quotes, time_col="t", symbol_col=KEYS)
    if lazy:
        assert isinstance(out, pl.LazyFrame)
        out = out.collect()
    expected = reference(trades, quotes, horizons)
    assert out.select(trades.columns).equals(trades)
    assert out.columns[len(trades.columns) :] == expected.columns
    for column in expected.columns:
        assert agree(out[column], expected[column]), column


@given(markets(), st.sampled_from(["int", "cat", "date"]), st.randoms(use_true_random=False))
def test_integer_and_categorical_keys_and_shuffled_rows_give_the_same_measures(market, kind, rnd):
    """Keys as Int64 codes, Categorical, or a Date date match by value; trades in any order."""
    trades, quotes = market
    base = vf.spread_decomposition(trades, [0.0, 5.0], quotes, time_col="t", symbol_col=KEYS)
    recast = {
        "int": [pl.col("symbol").replace_strict({"A": 7, "B": 3, "C": 11}, return_dtype=pl.Int64)],
        "cat": [pl.col("symbol").cast(pl.Categorical)],
        "date": [pl.col("date").str.to_date("%Y%m%d")],
    }[kind]
    order = list(range(trades.height))
    rnd.shuffle(order)
    t = trades.with_row_index("row").with_columns(recast)[order]
    # Quotes out of order too, but quotes at one time keep theirs (the last of them is in force).
    q = quotes.with_columns(recast).sort("t", descending=True, maintain_order=True)
    got = vf.spread_decomposition(t, [0.0, 5.0], q, time_col="t", symbol_col=KEYS).sort("row")
    measures = base.columns[len(trades.columns) :]
    assert got.select(measures).equals(base.select(measures))


def test_effective_is_realized_plus_impact_on_the_real_sample():
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN)
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes().filter(pl.col("symbol") == "600519.SH"), vf.CN)
    horizons = [1, 5, 30, 60, 300, "close"]
    out = vf.spread_decomposition(trades, horizons, quotes, symbol_col=KEYS)
    done = out.filter(pl.col("side") != 0)
    assert done["effective_spread"].null_count() == 0
    for h in horizons:
        gap = done[f"realized_spread_{h}"] + done[f"price_impact_{h}"] - done["effective_spread"]
        assert gap.drop_nulls().abs().max() < 1e-15
        gap_hs = done[f"realized_spread_{h}_hs"] + done[f"price_impact_{h}_hs"] - done["effective_spread_hs"]
        assert gap_hs.drop_nulls().abs().max() < 1e-9
    # Auction prints carry no direction: null measures.
    auction = out.filter(pl.col("side") == 0)
    assert auction["effective_spread"].null_count() == auction.height > 0


def test_a_buy_at_the_ask_costs_one_half_spread():
    quotes = pl.DataFrame(
        {"symbol": "A", "t": [0.0, 9.0], "bid": [99.0, 99.0], "ask": [101.0, 101.0], "mid": 100.0}
    )
    trades = pl.DataFrame(
        {"symbol": "A", "t": [1.0, 1.0, 1.0], "price": [101.0, 99.0, 100.0], "side": [1, -1, 1]}
    )
    out = vf.spread_decomposition(trades, [5], quotes, time_col="t")
    assert out["effective_spread_hs"].to_list() == [1.0, 1.0, 0.0]
    assert out["effective_spread"].to_list() == [0.02, 0.02, 0.0]
    assert out["price_impact_5"].to_list() == [0.0, 0.0, 0.0]


def test_bad_sides_and_names_raise():
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 9.0], "bid": 99.0, "ask": 101.0, "mid": 100.0})
    trades = pl.DataFrame({"symbol": "A", "t": [1.0, 2.0], "price": 100.0, "side": [1, 2]})
    lazy = vf.spread_decomposition(trades.lazy(), [5], quotes, time_col="t")  # nothing read yet
    with pytest.raises(vf.DataError, match=r"side column 'side' holds 2 \(1 rows\); expected \+1"):
        lazy.collect()
    with pytest.raises(vf.DataError, match="holds nan"):
        vf.spread_decomposition(
            trades.with_columns(side=pl.Series([1.0, math.nan])), [5], quotes, time_col="t"
        )
    with pytest.raises(vf.SchemaError, match="side column 'side' has dtype String"):
        vf.spread_decomposition(trades.with_columns(side=pl.lit("B")), [5], quotes, time_col="t")
    with pytest.raises(vf.ColumnNotFoundError, match="'mid'"):
        vf.spread_decomposition(trades, [5], quotes.drop("mid"), time_col="t")
    with pytest.raises(vf.VizflowError, match="horizons is empty"):
        vf.spread_decomposition(trades, [], quotes, time_col="t")
    with pytest.raises(vf.VizflowError, match="duplicate"):
        vf.spread_decomposition(trades, [0, 0.0], quotes, time_col="t")
    with pytest.raises(vf.VizflowError, match="already exist"):
        vf.spread_decomposition(trades.with_columns(effective_spread=1.0), [5], quotes, time_col="t")
    with pytest.raises(vf.VizflowError, match="not a finite number"):
        vf.spread_decomposition(trades, [math.inf], quotes, time_col="t")


def test_quoted_false_leaves_out_the_spread_lookup_and_nothing_else():
    trades = vf.parse_time(vf.datasets.cn_sample_trades("20230202"), vf.CN)
    quotes = vf.parse_time(
        vf.datasets.cn_sample_quotes("20230202").filter(pl.col("symbol") == "600519.SH"), vf.CN
    )
    full = vf.spread_decomposition(trades, [5, 60], quotes)
    lean = vf.spread_decomposition(trades, [5, 60], quotes.drop("bid", "ask"), quoted=False)
    kept = [
        *trades.columns,
        "effective_spread",
        "realized_spread_5",
        "price_impact_5",
        "realized_spread_60",
        "price_impact_60",
    ]
    assert lean.columns == kept
    assert lean.equals(full.select(kept))
    with pytest.raises(vf.VizflowError, match="quoted="):
        vf.spread_decomposition(trades, [5], quotes, quoted="yes")


def test_regression_one_lookup_reads_the_mids_and_the_spread_in_force(monkeypatch):
    """The mid at t and at every t + h and the spread at t come from one lookup (one plan node)."""
    calls = []
    compute = vf.ops.forward._compute
    monkeypatch.setattr(vf.ops.forward, "_compute", lambda *a: calls.append(1) or compute(*a))
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 9.0], "bid": 99.0, "ask": 101.0, "mid": 100.0})
    trades = pl.DataFrame({"symbol": "A", "t": [1.0, 2.0], "price": 100.5, "side": [1, -1]})
    out = vf.spread_decomposition(trades, [0, 5, 30], quotes, time_col="t")
    assert calls == [1]
    assert out["quoted_spread"].to_list() == [0.02, 0.02]


def test_regression_levels_below_one_are_read_as_they_are():
    """A spread (or a mid) below 1 is not rounded through a return on a unit price, 1 + (x - 1)."""
    quotes = pl.DataFrame(
        {"symbol": "A", "t": [0.0, 9.0], "bid": [10.0, 0.29], "ask": [10.01, 0.31], "mid": [10.005, 0.3]}
    )
    trades = pl.DataFrame({"symbol": "A", "t": [1.0, 9.0], "price": [10.01, 0.31], "side": [1, 1]})
    out = vf.spread_decomposition(trades, [0], quotes, time_col="t")
    q = quotes.select(s=pl.col("ask") - pl.col("bid"), m=pl.col("mid"), p=trades["price"])
    expected = q.select(
        quoted=pl.col("s") / pl.col("m"),
        effective=2.0 / pl.col("m") * (pl.col("p") - pl.col("m")),
        effective_hs=2.0 / pl.col("s") * (pl.col("p") - pl.col("m")),
    )
    assert out["quoted_spread"].to_list() == expected["quoted"].to_list()
    assert out["effective_spread"].to_list() == expected["effective"].to_list()
    assert out["effective_spread_hs"].to_list() == expected["effective_hs"].to_list()


def test_the_compiled_pass_equals_the_expressions_bit_for_bit_across_runs():
    """The compiled weights give the floats the old Polars expressions gave, over many thread runs.

    150,000 trades (more than two runs of the pass), several symbols, shuffled, null and zero
    sides, null prices and mids: every measure equals ``2 D / M_t * (x - y)`` (``2 D / S_t`` for
    ``_hs``, null where ``S_t <= 0``) as Polars computes it from the same looked-up levels.
    """
    rng = np.random.default_rng(7)
    n, symbols = 150_000, np.array(["A", "B", "C"])
    quotes = pl.DataFrame(
        {
            "symbol": np.repeat(symbols, 400),
            "t": np.tile(np.arange(400, dtype=np.float64), 3),
            "mid": rng.integers(95, 105, 1200).astype(np.float64),
            "half": rng.integers(0, 3, 1200) * 0.5,
        }
    ).with_columns(bid=pl.col("mid") - pl.col("half"), ask=pl.col("mid") + pl.col("half"))
    quotes = quotes.with_columns(mid=pl.when(pl.col("t") % 37 != 5).then(pl.col("mid")))
    trades = pl.DataFrame(
        {
            "symbol": rng.choice(symbols, n),
            "t": rng.uniform(0, 420, n),
            "price": rng.uniform(90, 110, n),
            "side": rng.choice(np.array([-1, 0, 1, 1], dtype=np.int8), n),
        }
    ).with_columns(
        price=pl.when(pl.int_range(n) % 101 != 3).then("price"),
        side=pl.when(pl.int_range(n) % 89 != 4).then("side"),
    )
    out = vf.spread_decomposition(trades, [0, 2.5, 30], quotes, time_col="t")
    levels = vf.ops.forward.forward_levels(
        trades, [0.0, 2.5, 30.0], quotes.with_columns(s=pl.col("ask") - pl.col("bid")), ["mid", "s"],
        [["m0", "s0"], ["m1", None], ["m2", None]], time_col="t",
    )  # fmt: skip
    d = pl.col("side").cast(pl.Float64).replace(0.0, None)
    w, w_hs = 2.0 * d / pl.col("m0"), pl.when(pl.col("s0") > 0).then(2.0 * d / pl.col("s0"))
    p = pl.col("price")
    moves = {"effective_spread": p - pl.col("m0")}
    for h, m in [("0", "m0"), ("2.5", "m1"), ("30", "m2")]:
        moves[f"realized_spread_{h}"] = p - pl.col(m)
        moves[f"price_impact_{h}"] = pl.col(m) - pl.col("m0")
    expected = levels.select(
        quoted_spread=pl.col("s0") / pl.col("m0"),
        **{k: w * v for k, v in moves.items()},
        **{f"{k}_hs": w_hs * v for k, v in moves.items()},
    )
    assert out.columns[len(trades.columns) :] == expected.columns
    assert out.select(expected.columns).equals(expected)
    assert out["price_impact_30"].null_count() < n // 2  # not vacuous
    bad = trades.with_columns(
        side=pl.when(pl.int_range(n) >= n - 3).then(pl.lit(3, pl.Int8)).otherwise("side")
    )
    with pytest.raises(vf.DataError, match=r"holds 3 \(3 rows\)"):  # found in the last run
        vf.spread_decomposition(bad, [1], quotes, time_col="t")


@pytest.mark.parametrize("dtype", [pl.Int8, pl.Int16, pl.Int64, pl.UInt8, pl.Float32, pl.Float64])
def test_sides_of_every_numeric_dtype_give_the_same_measures(dtype):
    """Int8 sides are read as they are, others as float64: same measures, nulls and zeros alike."""
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 9.0], "bid": 99.0, "ask": 101.0, "mid": 100.0})
    sides = [1, -1, 0, None, 1] if dtype != pl.UInt8 else [1, 1, 0, None, 1]
    trades = pl.DataFrame({"symbol": "A", "t": [1.0, 2.0, 3.0, 4.0, 5.0], "price": 100.5, "side": sides})
    got = vf.spread_decomposition(
        trades.with_columns(pl.col("side").cast(dtype)), [0, 2], quotes, time_col="t"
    )
    d = [1.0, 1.0 if dtype == pl.UInt8 else -1.0, None, None, 1.0]
    assert got["effective_spread"].to_list() == [None if x is None else x * 2 * 0.5 / 100 for x in d]
    assert got["effective_spread_hs"].to_list() == [None if x is None else x * 2 * 0.5 / 2 for x in d]
    assert got["price_impact_2"].to_list() == [None if x is None else 0.0 for x in d]
    assert got["quoted_spread"].to_list() == [0.02] * 5  # the spread in force needs no direction


def test_regression_a_nan_price_gives_null_measures_not_nan():
    """A NaN price (not a null) gives null measures, as a null one does: never a NaN number."""
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 9.0], "bid": 99.0, "ask": 101.0, "mid": 100.0})
    trades = pl.DataFrame({"symbol": "A", "t": [1.0, 2.0, 3.0], "price": [math.nan, None, 100.5], "side": 1})
    out = vf.spread_decomposition(trades, [5], quotes, time_col="t")
    measures = out.select(pl.exclude(trades.columns, "quoted_spread"))
    assert measures.null_count().row(0) == (2, 2, 0, 2, 2, 0)  # the impact reads no price
    assert not any(measures.select(pl.all().is_nan().any()).row(0))
    assert measures.row(2) == pytest.approx((0.01, 0.01, 0.0, 0.5, 0.5, 0.0))


def test_bad_horizons_are_refused_in_spread_decompositions_name():
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 9.0], "bid": 99.0, "ask": 101.0, "mid": 100.0})
    trades = pl.DataFrame({"symbol": "A", "t": [1.0], "price": 100.5, "side": 1})
    for horizon in (None, "abc", math.nan, True):
        with pytest.raises(
            vf.VizflowError, match=r"^spread_decomposition: horizon .* is not a finite number"
        ):
            vf.spread_decomposition(trades, [5, horizon], quotes, time_col="t")
