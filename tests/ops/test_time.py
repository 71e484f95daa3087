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
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

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


# --- issue 11: policies, output name, dtypes ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"invalid": "Raise"}, r"invalid='Raise' is not one of \['raise', 'null'\]"),
        ({"outside": "Raise"}, r"outside='Raise' is not one of \['clamp', 'null', 'raise'\]"),
        ({"outside": None}, r"outside=None is not one of"),
    ],
)
def test_regression_unknown_policy_strings_raise_naming_accepted_values(kwargs, match):
    """Findings A.7: invalid="Raise" acted as "null" and outside="Raise" as "clamp"."""
    df = pl.DataFrame({"t": [93000000, 120000000, 996100000]})
    with pytest.raises(VizflowError, match=match):
        vf.parse_time(df, vf.CN, "t", **kwargs)
    with pytest.raises(VizflowError, match=match):
        vf.elapsed_expr("t", vf.CN, **kwargs)
    with pytest.raises(VizflowError, match=match):
        df.lazy().vf.parse_time(vf.CN, "t", **kwargs)


def test_regression_unknown_encoding_raises_naming_accepted_values():
    """Findings C: elapsed_expr(encoding="bogus") raised a bare KeyError."""
    with pytest.raises(
        VizflowError, match=r"encoding='bogus' is not one of \['hhmmssmmm', 'time', 'datetime'"
    ):
        vf.elapsed_expr("t", vf.CN, encoding="bogus")


@pytest.mark.parametrize(
    ("out", "match"),
    [("ticktime", "out='ticktime' is the input column"), ("price", "out='price' already exists")],
)
def test_regression_out_clash_is_refused(out, match):
    """Findings A.7: out= the input column turned the invalid check off; an existing column was replaced."""
    df = pl.DataFrame({"ticktime": [93000000, 996100000], "price": [1.0, 2.0]})
    with pytest.raises(VizflowError, match=match):
        vf.parse_time(df, vf.CN, out=out)
    with pytest.raises(VizflowError, match="'elapsed_seconds' already exists"):
        vf.parse_time(vf.parse_time(df.head(1), vf.CN), vf.CN)  # parsing twice


def test_regression_outside_raise_quotes_the_input_value():
    """Findings A.7: with outside="raise" the message quoted the clamped value (7200.0), not 120000123."""
    df = pl.DataFrame({"t": [93000000, 120000123]})
    with pytest.raises(DataError, match=r"first: 120000123;") as info:
        vf.parse_time(df, vf.CN, "t", outside="raise")
    assert "7200" not in str(info.value)
    with pytest.raises(DataError, match=r"first: 120000123;"):
        df.select(vf.elapsed_expr("t", vf.CN, outside="raise"))


def test_regression_uint64_beyond_int64_is_a_clear_data_error():
    """Findings C: UInt64 times above 2**63 raised Polars' raw strict-cast error."""
    big = 2**63 + 5
    df = pl.DataFrame({"t": pl.Series([93000000, big], dtype=pl.UInt64)})
    with pytest.raises(DataError, match=rf"1 value\(s\) are not times of day, first: {big}"):
        vf.parse_time(df, vf.CN, "t")
    assert vf.parse_time(df, vf.CN, "t", invalid="null")["elapsed_seconds"].to_list() == [0.0, None]
    small = pl.DataFrame({"t": pl.Series([93000000, 130000500], dtype=pl.UInt64)})
    assert vf.parse_time(small, vf.CN, "t")["elapsed_seconds"].to_list() == [0.0, 7200.5]


@pytest.mark.parametrize(
    ("column", "encoding"),
    [
        (pl.Series("t", [dt.datetime(2024, 1, 2, 9, 30)]), "datetime"),
        (pl.Series("t", ["09:30:00"]), "string"),
        (pl.Series("t", [dt.time(9, 30)]), "time"),
    ],
    ids=["Datetime", "String", "Time"],
)
@pytest.mark.parametrize("invalid", ["raise", "null"])
def test_regression_default_encoding_on_another_dtype_names_the_right_encoding(column, encoding, invalid):
    """Findings C: a Datetime column with the default encoding said only "expected HHMMSSmmm"."""
    df = pl.DataFrame(column)
    with pytest.raises(SchemaError, match=rf"pass encoding='{encoding}'"):
        df.select(vf.elapsed_expr("t", vf.CN, invalid=invalid))
    assert df.select(vf.elapsed_expr("t", vf.CN, encoding=encoding))["t"].to_list() == [0.0]


def test_elapsed_expr_refuses_a_float_column():
    with pytest.raises(SchemaError, match="has dtype Float64"):
        pl.DataFrame({"t": [93000000.0]}).select(vf.elapsed_expr("t", vf.CN))


# --- the session phase in the same call (issue 16) ----------------------------------------------


@pytest.mark.parametrize("encoding", ["int", "time", "datetime", "string"])
@pytest.mark.parametrize("market", MARKETS, ids=lambda m: m.name)
@given(times=st.lists(st.one_of(ms_times_of_day, st.none()), min_size=1, max_size=40))
def test_phase_equals_session_phase_in_every_encoding(market, encoding, times):
    """``parse_time(..., phase=)`` is ``session_phase`` after ``parse_time``, nulls and all."""
    filler = dt.time(12, 0)  # encoded, then replaced by a null
    frame = _encode([filler if t is None else t for t in times], encoding).with_columns(
        pl.when(pl.Series([t is not None for t in times], dtype=pl.Boolean)).then(pl.col("t")).alias("t")
    )
    got = vf.parse_time(frame, market, "t", phase="phase")
    expected = vf.session_phase(vf.parse_time(frame, market, "t"), market, "t")
    assert got.equals(expected)
    assert got.columns == ["t", "elapsed_seconds", "phase"]
    scalar = [None if t is None else market.phase_at(t) for t in times]
    assert got.get_column("phase").cast(pl.String).to_list() == scalar
    lazy = vf.parse_time(frame.lazy(), market, "t", phase="phase")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(got)


def test_phase_on_the_real_sample_flags_the_auction_matches():
    trades = vf.datasets.cn_sample_trades()
    got = vf.parse_time(trades, vf.CN, phase="phase")
    assert got.equals(vf.session_phase(vf.parse_time(trades, vf.CN), vf.CN))
    auctions = got.filter(pl.col("phase") != "continuous")
    # The 09:25 matches clamp to the open (0 s), the 15:00 matches to the close (14,400 s).
    assert sorted(auctions.get_column("elapsed_seconds").unique().to_list()) == [0.0, 14400.0]
    assert auctions.get_column("side").unique().to_list() == [0]  # no aggressor in an auction


def test_phase_ignores_outside_and_follows_invalid():
    df = pl.DataFrame({"t": [92500940, 120000000, 996100000, None]})
    out = vf.parse_time(df, vf.CN, "t", outside="null", invalid="null", phase="phase")
    assert out.get_column("elapsed_seconds").to_list() == [None, None, None, None]
    assert out.get_column("phase").cast(pl.String).to_list() == ["pre_open_auction", "break", None, None]
    with pytest.raises(DataError, match=r"parse_time: 1 value\(s\) are not times of day, first: 996100000"):
        vf.parse_time(df, vf.CN, "t", phase="phase")


@pytest.mark.parametrize(
    ("phase", "match"),
    [
        ("t", "phase='t' is the input column"),
        ("price", "phase='price' already exists"),
        ("elapsed_seconds", "phase='elapsed_seconds' is another output of the same call"),
    ],
)
def test_phase_clash_is_refused(phase, match):
    df = pl.DataFrame({"t": [93000000], "price": [1.0]})
    with pytest.raises(VizflowError, match=match):
        vf.parse_time(df, vf.CN, "t", phase=phase)


# --- elapsed_expr reads datetimes as parse_time does (issue 21) ----------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Shanghai", "Asia/Kolkata"])
def test_regression_elapsed_expr_converts_aware_datetimes_as_parse_time(zone):
    local = [dt.datetime(2024, 1, 2, h, m) for h, m in [(9, 30), (10, 30), (11, 29), (13, 1), (14, 59)]]
    stamps = [t.replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(ZoneInfo(zone)) for t in local]
    frame = pl.DataFrame({"t": pl.Series(stamps, dtype=pl.Datetime("us", zone)), "naive": local})
    want = [reference.cn_elapsed_seconds(t.time()) for t in local]  # by hand, on the Shanghai clock
    assert vf.parse_time(frame, vf.CN, "t")["elapsed_seconds"].to_list() == want
    got = frame.select(
        aware=vf.elapsed_expr("t", vf.CN, encoding="datetime"),
        naive=vf.elapsed_expr("naive", vf.CN, encoding="datetime"),  # a naive datetime is market time
        explicit=vf.elapsed_expr("t", vf.CN, encoding="datetime", tz="Asia/Shanghai"),
        method=pl.col("t").vf.elapsed(vf.CN, encoding="datetime"),
    )
    assert got.to_dict(as_series=False) == {"aware": want, "naive": want, "explicit": want, "method": want}
