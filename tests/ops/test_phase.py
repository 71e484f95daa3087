"""Session phases: ``vf.session_phase`` against hand-written exchange rules and ``Market.phase_at``."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.strategies import ms_times_of_day, to_hhmmssmmm
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError


def cn_rule(ticktime: int) -> str:
    """SSE/SZSE phases written out by hand from the exchange rules (HHMMSSmmm integers)."""
    if 91_500_000 <= ticktime < 93_000_000:
        return "pre_open_auction"  # call auction 09:15-09:25, match at 09:25, no matching to 09:30
    if 93_000_000 <= ticktime < 113_000_000 or 130_000_000 <= ticktime < 145_700_000:
        return "continuous"
    if 113_000_000 <= ticktime < 130_000_000:
        return "break"
    if 145_700_000 <= ticktime < 150_500_000:
        return "closing_auction"  # 14:57-15:00 and its match, printed up to ~1 s after 15:00
    if 150_500_000 <= ticktime < 153_000_000:
        return "after_hours"  # STAR Market fixed-price trading
    return "closed"


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    return vf.session_phase(vf.datasets.cn_sample_trades(), vf.CN)


def test_real_sample_auction_prints_are_flagged(trades):
    """The 09:25 match is pre_open_auction, 14:57-15:00 and the 15:00 match closing_auction."""
    first = trades.group_by("date").agg(pl.all().sort_by("ticktime").first())
    assert first.get_column("phase").unique().to_list() == ["pre_open_auction"]
    assert sorted(first.get_column("ticktime").unique().to_list()) == [92_500_000, 92_500_940]
    opening = trades.filter(pl.col("ticktime") < 93_000_000)
    assert opening.get_column("phase").unique().to_list() == ["pre_open_auction"]
    assert opening.height == 260 + 221 + 157  # the three opening matches
    closing = trades.filter(pl.col("ticktime") >= 145_700_000)
    assert closing.get_column("phase").unique().to_list() == ["closing_auction"]
    assert closing.height == 303 + 180 + 219  # the three closing matches, stamped 15:00:00.32-01.06
    rest = trades.filter(pl.col("ticktime").is_between(93_000_000, 145_700_000, closed="left"))
    assert rest.get_column("phase").unique().to_list() == ["continuous"]
    assert trades.height == opening.height + closing.height + rest.height


def test_real_sample_equals_the_hand_written_rule(trades):
    expected = [cn_rule(t) for t in trades.get_column("ticktime").to_list()]
    assert trades.get_column("phase").cast(pl.String).to_list() == expected


def test_real_quotes_agree_with_the_exchange_phase_codes():
    """SZSE snapshot codes: O0 opening call, T0 continuous, B0 break, C0 closing call (and SSE CCALL).

    SSE's TRADE code covers the whole trading day, lunch included, so it is not compared.
    """
    quotes = vf.session_phase(vf.datasets.cn_sample_quotes(), vf.CN, out="vf_phase")
    expected = {
        "O0": (91_500_000, "pre_open_auction"),
        "T0": (93_000_000, "continuous"),
        "B0": (113_000_000, "break"),
        "C0": (145_700_000, "closing_auction"),
        "CCALL": (145_700_000, "closing_auction"),
    }
    for code, (start, phase) in expected.items():
        rows = quotes.filter((pl.col("phase") == code) & (pl.col("ticktime") >= start))
        assert rows.height > 0, code
        assert rows.get_column("vf_phase").unique().to_list() == [phase], code


@given(st.lists(ms_times_of_day, max_size=40))
def test_cn_equals_the_hand_written_rule(times):
    ints = [to_hhmmssmmm(t) for t in times]
    out = vf.session_phase(pl.DataFrame({"ticktime": ints}, schema={"ticktime": pl.Int64}), vf.CN)
    assert out.get_column("phase").cast(pl.String).to_list() == [cn_rule(t) for t in ints]


ENCODINGS = {
    "hhmmssmmm": lambda ts: pl.Series([to_hhmmssmmm(t) for t in ts], dtype=pl.Int64),
    "time": lambda ts: pl.Series(ts, dtype=pl.Time),
    "string": lambda ts: pl.Series([t.isoformat(timespec="milliseconds") for t in ts], dtype=pl.String),
    "datetime": lambda ts: pl.Series(
        [dt.datetime.combine(dt.date(2024, 1, 2), t) for t in ts], dtype=pl.Datetime
    ),
}


@pytest.mark.parametrize("market", list(vf.market.MARKETS.values()), ids=lambda m: m.name)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
@given(times=st.lists(ms_times_of_day, max_size=30))
def test_vectorised_equals_the_scalar_phase_at(market, encoding, times):
    frame = pl.DataFrame({"t": ENCODINGS[encoding](times)})
    got = vf.session_phase(frame, market, "t").get_column("phase").cast(pl.String).to_list()
    assert got == [market.phase_at(t) for t in times]


def test_the_column_is_an_enum_of_the_market_phases_in_order():
    out = vf.session_phase(pl.DataFrame({"ticktime": [93_000_000]}), vf.CN)
    assert out.schema["phase"] == pl.Enum(
        ["pre_open_auction", "continuous", "break", "closing_auction", "after_hours", "closed"]
    )


def test_phases_follow_from_the_sessions_when_none_are_declared():
    market = vf.Market("X", (vf.Session("09:00", "10:00"), vf.Session("11:00", "12:00")))
    out = vf.session_phase(
        pl.DataFrame({"t": ["08:59:59", "09:00:00", "10:00:00", "11:00:00", "12:00:00"]}), market, "t"
    )
    assert out.get_column("phase").cast(pl.String).to_list() == [
        "closed",
        "continuous",
        "break",
        "continuous",
        "closed",
    ]


def test_cn_futures_night_session_crosses_midnight():
    times = ["20:56:00", "21:00:00", "23:59:59", "00:00:00", "02:29:59", "02:30:00", "08:59:00", "10:20:00"]
    got = vf.session_phase(pl.DataFrame({"t": times}), vf.CN_FUTURES, "t").get_column("phase").cast(pl.String)
    expected = [
        "pre_open_auction",
        "continuous",
        "continuous",
        "continuous",
        "continuous",
        "closed",
        "pre_open_auction",
        "break",
    ]
    assert got.to_list() == expected


def test_timezone_aware_datetimes_are_converted_to_market_time():
    utc = pl.Series([dt.datetime(2024, 1, 2, 1, 25, 0, 940000)]).dt.replace_time_zone(
        "UTC"
    )  # 09:25:00.94 Shanghai
    out = vf.session_phase(pl.DataFrame({"ts": utc}), vf.CN, "ts")
    assert out.get_column("phase").cast(pl.String).to_list() == ["pre_open_auction"]


def test_nulls_stay_null_and_lazy_stays_lazy():
    lf = pl.LazyFrame({"ticktime": [None, 93_000_000]}, schema={"ticktime": pl.Int64})
    out = vf.session_phase(lf, "CN")
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().get_column("phase").cast(pl.String).to_list() == [None, "continuous"]


def test_invalid_times_raise_or_become_null():
    df = pl.DataFrame({"ticktime": [93_000_000, 996_100_000]})
    with pytest.raises(
        DataError, match=r"session_phase: 1 value\(s\) are not times of day, first: 996100000"
    ):
        vf.session_phase(df, vf.CN)
    out = vf.session_phase(df, vf.CN, invalid="null")
    assert out.get_column("phase").cast(pl.String).to_list() == ["continuous", None]


def test_bad_arguments_are_refused_naming_them():
    df = pl.DataFrame({"ticktime": [93_000_000], "phase": ["x"]})
    with pytest.raises(ColumnNotFoundError, match="tick_time"):
        vf.session_phase(df, vf.CN, "tick_time")
    with pytest.raises(VizflowError, match="out='phase' already exists"):
        vf.session_phase(df, vf.CN)
    with pytest.raises(SchemaError, match="Float64"):
        vf.session_phase(pl.DataFrame({"t": [1.0]}), vf.CN, "t")
    with pytest.raises(VizflowError, match="invalid='Null'"):
        vf.session_phase(df, vf.CN, out="p", invalid="Null")


@pytest.mark.parametrize(
    ("phases", "match"),
    [
        ((("a", "09:00", "10:00"), ("b", "09:30", "11:00")), "'b' starts before 'a' ends"),
        ((("closed", "09:00", "10:00"),), "other than 'closed'"),
        ((("", "09:00", "10:00"),), "non-empty string"),
        ((("a", "9", "10:00"),), "not a clock time"),
        ((("a", "09:00"),), r"tuple \(name, start, end\)"),
    ],
)
def test_bad_phase_declarations_are_refused(phases, match):
    with pytest.raises(VizflowError, match=match):
        vf.Market("X", (vf.Session("09:30", "11:30"),), phases=phases)


def test_phases_are_data_beside_the_sessions_and_do_not_change_the_clock():
    plain = vf.Market("CN", vf.CN.sessions, tz=vf.CN.tz)
    assert plain.total_seconds == vf.CN.total_seconds
    assert vf.CN.phases[0] == vf.Phase("pre_open_auction", "09:15", "09:30")
    assert vf.CN.phases[0] == ("pre_open_auction", "09:15", "09:30")  # a plain tuple works too
    custom = vf.Market("X", (vf.Session("09:30", "11:30"),), phases=(("auction", "09:00", "09:30"),))
    assert custom.phases == (vf.Phase("auction", "09:00", "09:30"),)
    assert hash(custom) == hash(
        vf.Market("X", (vf.Session("09:30", "11:30"),), phases=(("auction", "09:00", "09:30"),))
    )
