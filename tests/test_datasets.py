from __future__ import annotations

import polars as pl

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
