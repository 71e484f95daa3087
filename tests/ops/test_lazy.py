"""A lazy chain stays lazy: forward_return is a plan node that runs at collect() time (issue 13)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

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


# --- the statistics: nothing is read before collect(), and the multi-date check runs there ---------


def _dated(tmp_path):
    """Two dates of signed returns written as one parquet file (the scan a year pipeline starts from)."""
    rng = np.random.default_rng(7)
    n = 400
    rows = pl.DataFrame(
        {
            "date": np.repeat(["20240102", "20240103"], n // 2),
            "symbol": rng.integers(0, 4, n),
            "qty": rng.integers(1, 50, n),
            "return_5": rng.standard_normal(n) * 1e-4,
        }
    )
    path = tmp_path / "rows.parquet"
    rows.write_parquet(path)
    return rows, path


def _statistics_chains(frame):
    return {
        "quantile_bin": vf.quantile_bin(frame, "qty", 4, by="date"),
        "rank_ic": vf.rank_ic(frame, "qty", "return_5", by="date"),
        "summarize": vf.summarize(
            vf.quantile_bin(frame, "qty", 4, by="date"), ["date", "qty_bucket"], "return_5"
        ),
    }


def test_regression_statistics_on_a_scan_read_nothing_before_collect(tmp_path):
    """quantile_bin and rank_ic collected the date column when called (their multi-date check)."""
    rows, path = _dated(tmp_path)
    reads = []
    scan = pl.scan_parquet(path).map_batches(lambda df: reads.append(df.height) or df, schema=rows.schema)
    chains = _statistics_chains(scan)
    expected = _statistics_chains(rows)
    for name, chain in chains.items():
        assert isinstance(chain, pl.LazyFrame), name
        assert chain.collect_schema() == expected[name].schema, name
    assert reads == []  # building the chains and their schemas read no row
    for name, chain in chains.items():  # summarize's sums may differ in the last bits run to run
        got = chain.collect()
        assert_frame_equal(got, expected[name], check_row_order=False, rel_tol=1e-12, abs_tol=0), name
        streamed = chain.collect(engine="streaming")
        assert_frame_equal(streamed, got, check_row_order=False, rel_tol=1e-12, abs_tol=0), name


@pytest.mark.parametrize("op", ["quantile_bin", "rank_ic"])
@pytest.mark.parametrize("engine", ["auto", "streaming"])
def test_statistics_multi_date_check_raises_at_collect_time(tmp_path, op, engine):
    rows, path = _dated(tmp_path)
    call = {
        "quantile_bin": lambda f: vf.quantile_bin(f, "qty", 4),
        "rank_ic": lambda f: vf.rank_ic(f, "qty", "return_5", by="symbol"),
    }[op]
    with pytest.raises(vf.DataError, match=rf"{op}: column 'date' holds 2 dates \(20240102 .. 20240103\)"):
        call(rows)
    chain = call(pl.scan_parquet(path).select("date", "symbol", "qty", "return_5"))  # no error yet
    with pytest.raises(vf.DataError, match=rf"{op}: column 'date' holds 2 dates"):
        chain.select(pl.exclude("date")).collect(engine=engine)  # the check survives the projection


def test_wall_clock_lookups_are_lazy_and_equal_the_eager_ones(tmp_path):
    stamps = [dt.datetime(2024, 1, 2, 23, 59, 58) + dt.timedelta(milliseconds=250 * i) for i in range(40)]
    frame = pl.DataFrame(
        {
            "symbol": ["a", "b"] * 20,
            "ts": stamps,
            "mid": [float(i % 7 + 1) for i in range(40)],
            "qty": range(40),
        }
    ).sample(fraction=1.0, shuffle=True, seed=3)
    path = tmp_path / "ticks.parquet"
    frame.write_parquet(path)
    for call in (
        lambda f: vf.forward_return(f, ["1s", "-500ms", "close"], "mid", "ts", tolerance="2s"),
        lambda f: vf.forward_window(
            f, ["1s", "-2s", "close"], {"n": pl.len(), "v": pl.col("qty").sum()}, "ts"
        ),
    ):
        chain = call(pl.scan_parquet(path))
        assert isinstance(chain, pl.LazyFrame)
        assert_frame_equal(chain.collect(), call(frame))
        assert_frame_equal(chain.collect(engine="streaming"), call(frame))
