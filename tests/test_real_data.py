"""The whole chain on real exchange data from ../shared/data (skipped, saying why, without it)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

import vizflow as vf
from tests.reference import fifo_reference, forward_return_reference

L2 = "cn_l2_datayes_600519_000333_202302"


@pytest.fixture(scope="module")
def trades(shared_data) -> pl.DataFrame:
    days = [
        vf.datasets.read_datayes_trades(shared_data / L2 / f"{d}_600519_SH_trade.csv.gz", d)
        for d in vf.datasets.SAMPLE_DATES
    ]
    return pl.concat(days)


@pytest.fixture(scope="module")
def quotes(shared_data) -> pl.DataFrame:
    frames = []
    for d in vf.datasets.SAMPLE_DATES:
        frames.append(
            vf.datasets.read_datayes_sh_snapshots(shared_data / L2 / f"{d}_600519_SH_snapshot.csv.gz", d)
        )
        frames.append(
            vf.datasets.read_datayes_sz_snapshots(shared_data / L2 / f"{d}_000333_SZ_snapshot.csv.gz", d)
        )
    return pl.concat(frames)


def test_shipped_sample_is_the_converted_source(trades, quotes):
    assert vf.datasets.cn_sample_trades().equals(trades)
    assert vf.datasets.cn_sample_quotes().equals(
        quotes.sort("date", "symbol", "ticktime", maintain_order=True)
    )


def test_volumes_reconcile_between_trades_and_snapshots(trades, quotes):
    traded = trades.group_by("date").agg(pl.col("qty").sum()).sort("date")["qty"].to_list()
    final = (
        quotes.filter(pl.col("symbol") == "600519.SH")
        .group_by("date")
        .agg(pl.col("volume").max())
        .sort("date")
    )
    assert traded == final["volume"].to_list() == [3397389, 2975886, 3494490]


# --- parse_time ------------------------------------------------------------------------------------


def test_elapsed_time_non_decreasing_per_symbol_and_day(trades, quotes):
    for frame in (trades, quotes):
        out = vf.parse_time(frame, vf.CN, "ticktime")
        steps = out.select(
            pl.col("elapsed_seconds").diff().over("date", "symbol").fill_null(0).alias("step")
        )["step"]
        assert (steps >= 0).all()


def test_lunch_break_snapshots_map_to_the_morning_close(quotes):
    lunch = quotes.filter(pl.col("ticktime").is_between(113000001, 125959999))
    assert lunch.height > 200  # ~89 a day per symbol: SSE keeps publishing during the break
    assert set(lunch.filter(pl.col("symbol") == "600519.SH")["phase"].unique()) == {"TRADE"}
    assert vf.parse_time(lunch, vf.CN)["elapsed_seconds"].unique().to_list() == [7200.0]
    assert vf.parse_time(lunch, vf.CN, outside="null")["elapsed_seconds"].null_count() == lunch.height


def test_pre_open_and_post_close_follow_the_outside_policy(quotes):
    pre = quotes.filter(pl.col("ticktime") < 93000000)
    post = quotes.filter(pl.col("ticktime") > 150000000)
    assert pre.height > 0
    assert post.height > 0
    assert vf.parse_time(pre, vf.CN)["elapsed_seconds"].unique().to_list() == [0.0]
    assert vf.parse_time(post, vf.CN)["elapsed_seconds"].unique().to_list() == [14400.0]
    with pytest.raises(vf.DataError, match="outside every session of CN"):
        vf.parse_time(pre, vf.CN, outside="raise")


def test_string_integer_and_datetime_encodings_parse(shared_data):
    raw = pl.read_csv(shared_data / L2 / "20230201_600519_SH_trade.csv.gz", infer_schema=False)
    as_string = vf.parse_time(raw, vf.CN, "TradTime")  # "HH:MM:SS.fff"
    trades = vf.datasets.read_datayes_trades(shared_data / L2 / "20230201_600519_SH_trade.csv.gz", "20230201")
    as_int = vf.parse_time(trades, vf.CN, "ticktime")
    assert as_string["elapsed_seconds"].equals(as_int["elapsed_seconds"])
    bars = pl.read_csv(shared_data / "cn_dolphindb_tutorials_samples" / "szse_1min_000001_201801.csv.gz")
    assert bars.schema["time"].is_integer()  # 93100000 = 09:31:00.000
    first = vf.parse_time(bars.head(1), vf.CN, "time")["elapsed_seconds"].item()
    assert first == 60.0
    stamps = bars.with_columns(ts=pl.from_epoch("unixTime", time_unit="ms").dt.replace_time_zone("UTC"))
    from_ts = vf.parse_time(stamps, vf.CN, "ts")["elapsed_seconds"]  # UTC converted to Shanghai
    assert from_ts.equals(vf.parse_time(bars, vf.CN, "time")["elapsed_seconds"], check_names=False)


# --- forward returns -------------------------------------------------------------------------------


def test_forward_return_on_the_snapshot_mid_equals_reference(trades, quotes):
    day = "20230202"
    t = vf.parse_time(trades.filter(pl.col("date") == day), vf.CN)
    q = vf.parse_time(quotes.filter(pl.col("date") == day, pl.col("symbol") == "600519.SH"), vf.CN)
    horizons = [1, 30, 300]
    out = vf.forward_return(t, horizons, "price", reference=q, reference_price_col="mid")
    expected = forward_return_reference(
        list(zip(t["symbol"], t["elapsed_seconds"], t["price"], strict=True)),
        horizons,
        list(zip(q["symbol"], q["elapsed_seconds"], q["mid"], strict=True)),
    )
    for h in horizons:
        got = out[f"return_{h}"].to_list()
        assert all(
            (a is None and b is None)
            or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12))
            for a, b in zip(got, expected[h], strict=True)
        )


def test_horizon_across_lunch_reads_the_afternoon(trades, quotes):
    day = "20230201"
    t = vf.parse_time(trades.filter(pl.col("date") == day, pl.col("ticktime") < 113000000), vf.CN)
    q = vf.parse_time(quotes.filter(pl.col("date") == day, pl.col("symbol") == "600519.SH"), vf.CN)
    last_morning = t.tail(1)
    assert last_morning["ticktime"].item() > 112900000
    out = vf.forward_return(last_morning, [120], "price", reference=q, reference_price_col="mid")
    target = last_morning["elapsed_seconds"].item() + 120
    afternoon = q.filter(pl.col("elapsed_seconds") <= target).tail(1)
    assert afternoon["ticktime"].item() >= 130000000  # the price comes from after the break
    assert out["return_120"].item() == pytest.approx(
        afternoon["mid"].item() / last_morning["price"].item() - 1
    )


# --- calendar --------------------------------------------------------------------------------------


def test_calendar_file_loads_and_matches_exchange_calendars(shared_data):
    cal = vf.calendar.load(shared_data / "calendar" / "xshg_2019_2025.csv")
    assert len(cal.days) == 1699
    assert cal.days == tuple(vf.calendar.range(vf.datasets.xshg_calendar(), "20190101", "20251231"))
    pytest.importorskip("exchange_calendars", reason="the calendars extra is not installed")
    assert vf.calendar.from_exchange("XSHG", "20190101", "20251231").days == cal.days


def test_spring_festival_sessions_are_consecutive_trading_days(shared_data):
    trans = pl.read_csv(shared_data / "cn_tdx_hikyuu_trans_min" / "trans_6symbols_20190201_20190211.csv.gz")
    days = sorted(trans.select(pl.col("datetime").cast(pl.String).str.slice(0, 8)).unique().to_series())
    assert days == ["20190201", "20190211"]
    cal = vf.datasets.xshg_calendar()
    assert vf.calendar.next_day(cal, days[0]) == days[1]
    assert all(vf.calendar.is_trading_day(cal, d) for d in vf.datasets.SAMPLE_DATES)


# --- crypto ----------------------------------------------------------------------------------------


def test_crypto_clock_is_continuous_from_midnight_utc(shared_data):
    folder = shared_data / "crypto_trades_tardis_binance"
    tardis = pl.read_csv(folder / "tardis_binance-futures_BTCUSDT_trades_20200222.csv.gz").with_columns(
        ts=pl.from_epoch("timestamp", time_unit="us").dt.replace_time_zone("UTC")
    )
    out = vf.parse_time(tardis, vf.CRYPTO, "ts")
    seconds = out["elapsed_seconds"].to_numpy()
    expected = (tardis["timestamp"].to_numpy() - 1582329600 * 10**6) / 1e6  # since 2020-02-22 00:00 UTC
    np.testing.assert_allclose(seconds, expected, rtol=0, atol=1e-6)
    assert (np.diff(seconds) >= 0).all()
    binance = pl.read_parquet(folder / "binance_btcusdt_trades_20210108.parquet")
    clock = vf.parse_time(binance, vf.CRYPTO, "timestamp")["elapsed_seconds"]
    assert 0 < clock.min() < clock.max() < 60  # the first minute after midnight UTC


# --- FIFO on fills composed from real prints -------------------------------------------------------


def test_fifo_on_fills_composed_from_real_prints(trades):
    # Real times, prices and sizes of 600519; the sides (aggressor flag) and the owner are
    # composed: no public data holds a real trader's fills.
    fills = (
        vf.parse_time(trades.filter(pl.col("date") == "20230203", pl.col("side") != 0), vf.CN)
        .gather_every(20)
        .with_row_index("row")
    )
    out = vf.enrich(
        fills,
        [vf.FIFOMatch("side", "qty", "elapsed_seconds", "price", 1, -1)],
        by="symbol",
        sort_by="elapsed_seconds",
    )
    rows = list(
        zip(
            fills["symbol"],
            fills["elapsed_seconds"],
            fills["side"],
            fills["qty"].cast(pl.Float64),
            fills["price"],
            strict=True,
        )
    )
    expected = fifo_reference(rows)
    closed_qty = out.filter("is_closed")["matched_qty"].sum()
    open_qty = out.filter(~pl.col("is_closed"))["matched_qty"].sum()
    assert 2 * closed_qty + open_qty == pytest.approx(fills["qty"].sum())  # quantity conserved
    pnl = sum(lot * (rows[c][4] - rows[e][4]) * q for c, e, q, closed, lot in expected if closed)
    assert out["realized_pnl"].sum() == pytest.approx(pnl, rel=1e-9)
    assert out.height == len(expected)
