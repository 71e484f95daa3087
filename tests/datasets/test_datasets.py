from __future__ import annotations

import polars as pl
import pytest

import vizflow as vf


def test_synthetic_day_is_deterministic():
    a = vf.datasets.synthetic_day(n_symbols=4, trades_per_symbol=30, seed=3)
    b = vf.datasets.synthetic_day(n_symbols=4, trades_per_symbol=30, seed=3)
    assert a[0].equals(b[0])
    assert a[1].equals(b[1])
    c = vf.datasets.synthetic_day(n_symbols=4, trades_per_symbol=30, seed=4)
    assert not a[1].equals(c[1])


def test_synthetic_trades_look_like_a_cn_day():
    quotes, trades = vf.datasets.synthetic_day(n_symbols=6, trades_per_symbol=200)
    t = trades["ticktime"]
    continuous = t.filter((t != 92500000) & (t != 150000000))
    lunch = (continuous > 113000000) & (continuous < 130000000)
    assert not lunch.any()
    assert continuous.min() >= 93000000
    assert continuous.max() < 150000000
    per_symbol = trades.group_by("symbol").agg(
        open=(pl.col("ticktime") == 92500000).sum(), close=(pl.col("ticktime") == 150000000).sum()
    )
    assert per_symbol["open"].to_list() == [1] * 6
    assert per_symbol["close"].to_list() == [1] * 6
    assert (trades["qty"] % 100 == 0).all()
    assert set(trades["side"].unique().to_list()) == {-1, 1}
    assert trades.equals(trades.sort("symbol", "ticktime", maintain_order=True))
    assert (quotes["ask"] > quotes["bid"]).all()
    # Continuous-session trades print at the prevailing bid (sells) or ask (buys).
    parsed = vf.parse_time(trades, vf.CN).filter(pl.col("ticktime").is_between(93000000, 145959999))
    q = vf.parse_time(quotes, vf.CN).sort("symbol", "elapsed_seconds")
    joined = parsed.sort("symbol", "elapsed_seconds").join_asof(
        q, on="elapsed_seconds", by="symbol", strategy="backward"
    )
    expected = pl.when(pl.col("side") > 0).then(pl.col("ask")).otherwise(pl.col("bid"))
    assert (joined["price"] == joined.select(expected).to_series()).all()


def test_sizes_scale():
    trades = vf.datasets.synthetic_trades(n_symbols=20, trades_per_symbol=500, seed=1)
    assert 20 * 400 < trades.height < 20 * 600


# --- the real sample shipped in the package --------------------------------------------------------


def test_regression_real_sample_trades_are_600519_only():
    """README said the shipped trades cover 600519.SH and 000333.SZ; only 600519 has trades
    (000333.SZ has snapshots only)."""
    trades, quotes = vf.datasets.cn_sample_trades(), vf.datasets.cn_sample_quotes()
    assert trades["symbol"].unique().to_list() == ["600519.SH"]
    assert sorted(quotes["symbol"].unique()) == ["000333.SZ", "600519.SH"]
    dates = list(vf.datasets.SAMPLE_DATES)
    assert sorted(trades["date"].unique()) == sorted(quotes["date"].unique()) == dates


def test_real_sample_rows_and_columns_are_as_documented():
    # Row counts as recorded in the source files' provenance; dtypes as documented in
    # vizflow/datasets/real.py.
    trades, quotes = vf.datasets.cn_sample_trades(), vf.datasets.cn_sample_quotes()
    per_day = trades.group_by("date").len().sort("date")["len"].to_list()
    assert per_day == [27135, 23168, 28101]
    assert quotes.height == 5109 + 5127 + 5074 + 5011 + 5013 + 5010
    assert trades.schema == pl.Schema(
        {"date": pl.String, "symbol": pl.String, "ticktime": pl.Int64, "price": pl.Float64,
         "qty": pl.Int64, "side": pl.Int8, "trade_id": pl.Int64}
    )  # fmt: skip
    assert quotes.schema == pl.Schema(
        {"date": pl.String, "symbol": pl.String, "ticktime": pl.Int64, "bid": pl.Float64,
         "ask": pl.Float64, "mid": pl.Float64, "last": pl.Float64, "volume": pl.Int64,
         "phase": pl.String, "bid_size": pl.Int64, "ask_size": pl.Int64}
    )  # fmt: skip
    # A size is there exactly when its side's price is, and is a positive number of shares.
    assert quotes["bid_size"].is_null().equals(quotes["bid"].is_null())
    assert quotes["ask_size"].is_null().equals(quotes["ask"].is_null())
    assert quotes.select(pl.min_horizontal(pl.col("bid_size", "ask_size").min())).item() > 0
    assert set(trades["side"].unique()) == {-1, 0, 1}
    both = quotes.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
    assert quotes.filter(pl.col("mid").is_not_null()).height == both.height
    assert ((both["bid"] + both["ask"]) / 2 - both["mid"]).abs().max() < 1e-9
    assert quotes.equals(quotes.sort("date", "symbol", "ticktime", maintain_order=True))


def test_real_sample_refuses_a_date_it_does_not_hold():
    with pytest.raises(ValueError, match="20230206"):
        vf.datasets.cn_sample_trades("20230206")


def test_regression_real_sample_raises_a_bare_value_error():
    """A date the sample does not hold raised a bare ValueError (issue 21): now a DataError
    naming the date and the dates it holds."""
    for read in (vf.datasets.cn_sample_trades, vf.datasets.cn_sample_quotes):
        with pytest.raises(
            vf.DataError, match=r"'20230206'.*expected one of \['20230201', '20230202', '20230203'\]"
        ):
            read("20230206")
