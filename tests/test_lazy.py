"""A lazy chain stays lazy: forward_return is a plan node that runs at collect() time (issue 13)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import vizflow as vf


def _quotes(n: int = 200, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "symbol": rng.integers(0, 5, n),
            "elapsed_seconds": np.round(rng.uniform(0, 600, n), 1),
            "mid": 10 + rng.standard_normal(n).cumsum() * 0.01,
            "wide": rng.standard_normal(n),
        }
    )


def test_forward_return_on_a_scan_reads_at_collect_time(tmp_path, monkeypatch):
    path = tmp_path / "q.parquet"
    quotes = _quotes(seed=0)
    quotes.write_parquet(path)
    calls = []
    compute = vf.ops.forward._compute
    monkeypatch.setattr(vf.ops.forward, "_compute", lambda *a: calls.append(1) or compute(*a))
    chain = pl.scan_parquet(path).vf.forward_return([5, 60])
    assert chain.collect_schema()["return_60"] == pl.Float64
    assert calls == []  # building the chain and its schema computes nothing
    assert chain.collect().equals(vf.forward_return(quotes, [5, 60]))
    assert len(calls) == 2
    path.unlink()
    with pytest.raises((FileNotFoundError, pl.exceptions.ComputeError)):
        chain.collect()  # the data is read at collect time, not before


def test_forward_return_with_a_lazy_reference_reads_it_at_collect_time(tmp_path):
    path = tmp_path / "ref.parquet"
    quotes = _quotes(seed=2)
    quotes.write_parquet(path)
    trades = _quotes(seed=3).drop("mid").with_columns(price=pl.lit(10.0))
    chain = trades.lazy().vf.forward_return([30], "price", reference=pl.scan_parquet(path))
    assert chain.collect().equals(vf.forward_return(trades, [30], "price", reference=quotes))
    path.unlink()
    with pytest.raises((FileNotFoundError, pl.exceptions.ComputeError)):
        chain.collect()


@pytest.mark.parametrize("current", ["own", "reference"])
def test_streaming_engine_equals_the_default_engine(current):
    quotes = _quotes(seed=5)
    trades = _quotes(seed=6).rename({"mid": "price"})
    chain = trades.lazy().vf.forward_return([1, 10, 100], "price", reference=quotes.lazy(), current=current)
    assert chain.collect(engine="streaming").equals(chain.collect())


def test_projection_reaches_the_scan_and_filters_stay_above_the_node(tmp_path):
    path = tmp_path / "q.parquet"
    quotes = _quotes(seed=7)
    quotes.write_parquet(path)
    chain = pl.scan_parquet(path).vf.forward_return([60])
    plan = chain.select("symbol", "return_60").explain()
    assert "PROJECT 3/4 COLUMNS" in plan  # symbol, elapsed_seconds, mid: not 'wide'
    # A filter after the call keeps the returns computed on all rows.
    filtered = chain.filter(pl.col("wide") > 0).collect()
    expected = vf.forward_return(quotes, [60]).filter(pl.col("wide") > 0)
    assert filtered.equals(expected)


def test_bad_data_raises_at_collect_time_with_its_own_error():
    days = pl.DataFrame(
        {"date": ["20240102", "20240103"], "symbol": ["A", "A"], "t": [0.0, 1.0], "mid": [1.0, 2.0]}
    )
    chain = days.lazy().vf.forward_return([1], "mid", "t")  # nothing runs yet
    with pytest.raises(vf.DataError, match="holds 2 dates"):
        chain.collect()


# --- enrich ---------------------------------------------------------------------------------------


def _fills(n: int = 300, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "symbol": rng.integers(0, 4, n),
            "t": rng.integers(0, 1000, n),
            "side": rng.choice([-1, 1], n),
            "qty": rng.integers(1, 10, n) * 100,
            "price": 10 + rng.standard_normal(n).round(2),
            "wide": rng.standard_normal(n),
        }
    )


RULES = [
    vf.TagRunning("position", lambda p, r: p + r["side"] * r["qty"], 0),
    vf.TagCondition("big", lambda r: r["qty"] >= 500),
    vf.TagCondition("up", pl.col("price") > pl.col("price").shift(1)),
]


def test_enrich_on_a_scan_reads_at_collect_time(tmp_path, monkeypatch):
    path = tmp_path / "fills.parquet"
    fills = _fills()
    fills.write_parquet(path)
    chain = pl.scan_parquet(path).vf.enrich(RULES, by="symbol", sort_by="t")
    assert chain.collect_schema()["position"] == pl.Int64
    assert "PROJECT 5/6 COLUMNS" in chain.select("symbol", "position").explain()  # not 'wide'
    assert chain.collect().equals(vf.enrich(fills, RULES, by="symbol", sort_by="t"))
    path.unlink()
    with pytest.raises((FileNotFoundError, pl.exceptions.ComputeError)):
        chain.collect()


@pytest.mark.parametrize(
    "rules", [RULES, [vf.FIFOMatch("side", "qty", "t", "price", 1, -1)]], ids=["tags", "fifo"]
)
def test_enrich_streaming_engine_equals_the_default_engine(rules):
    chain = _fills(seed=1).lazy().vf.enrich(rules, by="symbol", sort_by="t")
    assert chain.collect(engine="streaming").equals(chain.collect())
    assert chain.collect().equals(vf.enrich(_fills(seed=1), rules, by="symbol", sort_by="t"))


def test_enrich_filter_after_the_call_does_not_change_the_state():
    fills = _fills(seed=2)
    chain = fills.lazy().vf.enrich(RULES, by="symbol", sort_by="t").filter(pl.col("wide") > 0)
    assert chain.collect().equals(
        vf.enrich(fills, RULES, by="symbol", sort_by="t").filter(pl.col("wide") > 0)
    )


def test_python_path_rule_in_a_lazy_chain_is_a_clear_error():
    rule = vf.TagRunning("py", lambda p, r: p + r["qty"], 0, jit=False)
    with pytest.raises(vf.VizflowError, match="known only from the data"):
        _fills().lazy().vf.enrich([rule], by="symbol", sort_by="t")
    assert vf.enrich(_fills(), [rule], by="symbol", sort_by="t")["py"].dtype == pl.Int64


# --- every other op: the streaming engine gives the same rows --------------------------------------


def test_parse_time_bin_and_aggregate_stream_like_the_default_engine():
    trades = vf.datasets.synthetic_trades(n_symbols=3, trades_per_symbol=200, seed=1)
    chain = (
        trades.lazy()
        .vf.parse_time(vf.CN, "ticktime")
        .vf.bin({"elapsed_seconds": 1800}, how="floor")
        .vf.aggregate(["symbol", "elapsed_seconds_bin"], {"n": pl.len(), "qty": pl.col("qty").sum()})
        .sort("symbol", "elapsed_seconds_bin")
    )
    assert chain.collect(engine="streaming").equals(chain.collect())
