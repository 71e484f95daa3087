"""parse_time / elapsed_expr: the session clock as one Polars expression."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests import reference
from tests.strategies import ms_times_of_day, to_hhmmssmmm
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError

MARKETS = [vf.CN, vf.CN_FUTURES, vf.HK, vf.US, vf.CRYPTO]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=2**-52, abs_tol=0.0)


def _encode(times: list[dt.time], encoding: str) -> pl.DataFrame:
    if encoding == "int":
        return pl.DataFrame({"t": [to_hhmmssmmm(t) for t in times]}, schema={"t": pl.Int64})
    if encoding == "time":
        return pl.DataFrame({"t": times}, schema={"t": pl.Time})
    if encoding == "datetime":
        stamps = [dt.datetime.combine(dt.date(2024, 1, 2), t) for t in times]
        return pl.DataFrame({"t": stamps}, schema={"t": pl.Datetime("ms")})
    text = [t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}" for t in times]
    return pl.DataFrame({"t": text})


# --- exit criteria (plan phase 1-2) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticktime", "expected"),
    [(93000000, 0.0), (113000000, 7200.0), (130000000, 7200.0), (150000000, 14400.0)],
)
def test_parse_time_exit_criteria_plan(ticktime, expected):
    out = vf.parse_time(pl.DataFrame({"ticktime": [ticktime]}), vf.CN, "ticktime")
    assert out["elapsed_seconds"].to_list() == [expected]


def test_lunch_break_maps_to_morning_close():
    out = vf.parse_time(pl.DataFrame({"ticktime": [113000001, 120000000, 125959999]}), vf.CN)
    assert out["elapsed_seconds"].to_list() == [7200.0] * 3


def test_milliseconds_are_kept():
    out = vf.parse_time(pl.DataFrame({"ticktime": [93000001, 130000500]}), vf.CN)
    assert out["elapsed_seconds"].to_list() == [0.001, 7200.5]
    assert out.schema["elapsed_seconds"] == pl.Float64


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["int", "time", "datetime", "string"])
@pytest.mark.parametrize("market", MARKETS, ids=lambda m: m.name)
@given(times=st.lists(ms_times_of_day, min_size=1, max_size=50))
def test_parse_time_equals_scalar_method_in_every_encoding(market, encoding, times):
    out = vf.parse_time(_encode(times, encoding), market, "t")["elapsed_seconds"].to_list()
    expected = [market.elapsed_seconds(t) for t in times]
    assert all(_close(a, b) for a, b in zip(out, expected, strict=True)), (out, expected)


@given(times=st.lists(ms_times_of_day, min_size=1, max_size=50))
def test_cn_matches_hand_written_reference(times):
    out = vf.parse_time(_encode(times, "int"), vf.CN, "t")["elapsed_seconds"].to_list()
    expected = [reference.cn_elapsed_seconds(t) for t in times]
    assert all(_close(a, b) for a, b in zip(out, expected, strict=True))


@pytest.mark.parametrize("market", MARKETS, ids=lambda m: m.name)
@given(times=st.lists(ms_times_of_day, min_size=2, max_size=60))
def test_monotone_and_bounded_within_a_trading_day(market, times):
    # Order the times along the market's trading day (night session first for CN_FUTURES).
    anchor, *_rest, split, _ = market.layout

    def day_position(t: dt.time) -> int:
        ns = (t.hour * 3600 + t.minute * 60 + t.second) * 10**9 + t.microsecond * 1000
        pos = (ns - anchor) % 86_400_000_000_000
        return pos - 86_400_000_000_000 if pos >= split else pos

    ordered = sorted(times, key=day_position)
    out = vf.parse_time(_encode(ordered, "time"), market, "t")["elapsed_seconds"].to_list()
    assert all(b >= a for a, b in itertools.pairwise(out))
    assert all(0.0 <= x <= market.total_seconds for x in out)


@given(times=st.lists(st.one_of(ms_times_of_day, st.none()), max_size=40))
def test_lazy_equals_eager_and_nulls_propagate(times):
    df = pl.DataFrame({"t": [None if t is None else to_hhmmssmmm(t) for t in times]}, schema={"t": pl.Int64})
    eager = vf.parse_time(df, vf.CN, "t")
    lazy = vf.parse_time(df.lazy(), vf.CN, "t")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    assert eager["elapsed_seconds"].is_null().to_list() == [t is None for t in times]


# --- sessions across midnight, time zones -------------------------------------------------------


def test_night_session_counts_continuously_across_midnight():
    df = pl.DataFrame({"t": [210000000, 235959000, 0, 23000000, 90000000, 150000000]})
    out = vf.parse_time(df, vf.CN_FUTURES, "t")["elapsed_seconds"].to_list()
    assert out == [0.0, 10799.0, 10800.0, 19800.0, 19800.0, 19800.0 + 4500 + 3600 + 5400]


def test_timezone_aware_datetimes_are_converted_to_market_time():
    utc = dt.datetime(2024, 1, 2, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Shanghai
    df = pl.DataFrame({"t": [utc]}, schema={"t": pl.Datetime("us", "UTC")})
    assert vf.parse_time(df, vf.CN, "t")["elapsed_seconds"].to_list() == [0.0]
    assert vf.CN.elapsed_seconds(utc) == 0.0


def test_crypto_counts_from_midnight_utc():
    df = pl.DataFrame({"t": [0, 120000000, 235959999]})
    assert vf.parse_time(df, vf.CRYPTO, "t")["elapsed_seconds"].to_list() == [0.0, 43200.0, 86399.999]


# --- outside / invalid policies -----------------------------------------------------------------


def test_outside_policies():
    df = pl.DataFrame({"t": [91500000, 93000000, 120000000, 150000000, 153000000]})
    clamp = vf.parse_time(df, vf.CN, "t")["elapsed_seconds"].to_list()
    assert clamp == [0.0, 0.0, 7200.0, 14400.0, 14400.0]
    null = vf.parse_time(df, vf.CN, "t", outside="null")["elapsed_seconds"].to_list()
    assert null == [None, 0.0, None, 14400.0, None]
    with pytest.raises(DataError, match="outside every session of CN"):
        vf.parse_time(df, vf.CN, "t", outside="raise")
    inside = df.filter(pl.col("t").is_in([93000000, 150000000]))
    assert vf.parse_time(inside, vf.CN, "t", outside="raise").height == 2


def test_closed_left_excludes_session_end():
    market = vf.Market("X", (vf.Session("09:30", "11:30"),), closed="left")
    df = pl.DataFrame({"t": [93000000, 113000000]})
    assert vf.parse_time(df, market, "t", outside="null")["elapsed_seconds"].to_list() == [0.0, None]
    assert market.elapsed_seconds(dt.time(11, 30), outside="null") is None


@pytest.mark.parametrize("bad", [996100000, 93060000, 96000000, 250000000, -1])
def test_invalid_hhmmssmmm_raises_naming_value(bad):
    df = pl.DataFrame({"t": [93000000, bad]})
    with pytest.raises(DataError, match=str(bad)):
        vf.parse_time(df, vf.CN, "t")
    lazy = vf.parse_time(df.lazy(), vf.CN, "t")  # lazy: raises at collect
    with pytest.raises(DataError, match="not times of day"):
        lazy.collect()
    nulled = vf.parse_time(df, vf.CN, "t", invalid="null")["elapsed_seconds"].to_list()
    assert nulled == [0.0, None]


def test_invalid_string_raises():
    df = pl.DataFrame({"t": ["09:30:00", "9h30"]})
    with pytest.raises(DataError, match="9h30"):
        vf.parse_time(df, vf.CN, "t")


def test_missing_column_names_it_and_suggests():
    with pytest.raises(ColumnNotFoundError, match=r"'tick_time' not found.*Did you mean 'ticktime'"):
        vf.parse_time(pl.DataFrame({"ticktime": [1], "price": [1.0]}), vf.CN, "tick_time")


def test_float_time_column_is_rejected_with_dtype():
    with pytest.raises(SchemaError, match=r"'ticktime' has dtype Float64"):
        vf.parse_time(pl.DataFrame({"ticktime": [93000000.0]}), vf.CN, "ticktime")


def test_empty_frame_keeps_schema():
    out = vf.parse_time(pl.DataFrame({"ticktime": []}, schema={"ticktime": pl.Int64}), vf.CN)
    assert out.height == 0
    assert out.schema["elapsed_seconds"] == pl.Float64


def test_preset_by_name_and_custom_output_column():
    out = vf.parse_time(pl.DataFrame({"t": [100000000]}), "HK", "t", out="clock")
    assert out["clock"].to_list() == [1800.0]


def test_seconds_are_exact_and_deterministic_on_large_frames():
    # Polars multiplies by the reciprocal on large arrays; the clock must equal ms / 1000 exactly.
    import numpy as np

    ms = np.arange(0, 7_200_000, 7, dtype=np.int64)
    tod = ms + 34_200_000
    ticktime = tod // 3_600_000 * 10_000_000 + tod // 60_000 % 60 * 100_000 + tod % 60_000
    df = pl.DataFrame({"t": ticktime})
    for _ in range(3):
        out = vf.parse_time(df, vf.CN, "t")["elapsed_seconds"].to_numpy()
        assert (out == ms / 1000).all()
