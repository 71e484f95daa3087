"""Market and Session: every preset against a hand-written answer file in tests/resources/markets/."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.strategies import ms_times_of_day
from vizflow.exceptions import DataError, VizflowError

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "markets"


class MarketAnswers:
    """Shared checks; each subclass only names its market (answers come from <name>.csv)."""

    market: vf.Market

    @pytest.fixture
    def answers(self) -> pl.DataFrame:
        return pl.read_csv(RESOURCES / f"{self.market.name}.csv", schema_overrides={"time": pl.String})

    def test_scalar_matches_answers(self, answers):
        for row in answers.iter_rows(named=True):
            t = dt.time.fromisoformat(row["time"])
            assert self.market.elapsed_seconds(t) == pytest.approx(row["elapsed_seconds"]), row

    def test_vectorised_matches_answers(self, answers):
        out = vf.parse_time(answers, self.market, "time", out="got")  # the answers hold elapsed_seconds
        assert out["got"].to_list() == pytest.approx(answers["elapsed_seconds"].to_list())

    def test_null_policy_matches_inside_column(self, answers):
        out = vf.parse_time(answers, self.market, "time", out="got", outside="null")
        assert out["got"].is_not_null().to_list() == answers["inside"].to_list()

    def test_total_is_sum_of_sessions(self):
        assert self.market.total_seconds == sum(s.length_seconds for s in self.market.sessions)

    def test_pickles_and_hashes(self):
        assert pickle.loads(pickle.dumps(self.market)) == self.market
        assert hash(self.market) == hash(pickle.loads(pickle.dumps(self.market)))


class TestCN(MarketAnswers):
    market = vf.CN

    def test_exit_criteria_plan(self):
        assert vf.CN.elapsed_seconds(dt.datetime(2024, 1, 1, 9, 30, 0)) == 0
        assert vf.CN.elapsed_seconds(dt.datetime(2024, 1, 1, 13, 0, 0)) == 7200
        assert vf.CN.elapsed_seconds(dt.datetime(2024, 1, 1, 11, 30, 0)) == 7200
        assert vf.CN.elapsed_seconds(dt.datetime(2024, 1, 1, 15, 0, 0)) == 14400


class TestCNFutures(MarketAnswers):
    market = vf.CN_FUTURES


class TestHK(MarketAnswers):
    market = vf.HK


class TestUS(MarketAnswers):
    market = vf.US


class TestCrypto(MarketAnswers):
    market = vf.CRYPTO


def test_custom_market_and_describe():
    m = vf.Market("X", [vf.Session("10:00", "11:00"), vf.Session("14:00", "15:00:30")])
    assert m.total_seconds == 7230.0
    assert m.describe() == "10:00-11:00, 14:00-15:00:30"
    assert m.elapsed_seconds(dt.time(14, 0, 15)) == 3615.0


def test_raise_policy_names_time_and_sessions():
    with pytest.raises(DataError, match=r"12:00:00.000 is outside every session of CN \(09:30-11:30"):
        vf.CN.elapsed_seconds(dt.time(12, 0), outside="raise")


@pytest.mark.parametrize(
    "sessions",
    [
        [],
        [vf.Session("13:00", "15:00"), vf.Session("09:30", "11:30")],
        [vf.Session("09:30", "12:00"), vf.Session("11:00", "15:00")],
    ],
)
def test_bad_session_lists_are_rejected(sessions):
    with pytest.raises(VizflowError, match="Market 'X'"):
        vf.Market("X", sessions)


@pytest.mark.parametrize("text", ["9.30", "25:00", "09:61", "abc", "10:00:60"])
def test_bad_clock_text_is_rejected(text):
    with pytest.raises(VizflowError, match="clock time"):
        vf.Session(text, "15:00")


def test_get_market_lists_presets():
    assert vf.get_market("CN") is vf.CN
    with pytest.raises(VizflowError, match=r"unknown market 'XX'; available: \['CN'"):
        vf.get_market("XX")


# --- issue 11: clear errors at construction ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        (930, 1000, r"930 is not a clock time; expected a string .* \(for HHMM 930 write '09:30'\)"),
        ("09:30", 1500, r"for HHMM 1500 write '15:00'"),
        (93000, "10:00", r"93000 is not a clock time; expected a string 'HH:MM' or 'HH:MM:SS\[.fff\]'$"),
        (dt.time(9, 30), "10:00", r"datetime.time\(9, 30\) is not a clock time"),
    ],
)
def test_regression_session_refuses_non_string_times(start, end, match):
    """Findings C: Session(930, 1000) raised AttributeError; ints are refused, with the string to write."""
    with pytest.raises(VizflowError, match=match):
        vf.Session(start, end)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "../etc/passwd", 8])
def test_regression_market_refuses_unknown_time_zone_at_construction(tz):
    """Findings C: Market(tz="Mars/Olympus") was accepted and failed only when a frame was parsed."""
    with pytest.raises(VizflowError, match=rf"Market 'X': tz={tz!r} is not an IANA time zone"):
        vf.Market("X", (vf.Session("09:30", "10:00"),), tz=tz)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:30", 0.0), ("11:30:00", 7200.0), ("12:00", 7200.0), ("13:00:00.5", 7200.5), ("15:00", 14400.0)],
)
def test_regression_elapsed_seconds_accepts_clock_strings(text, expected):
    """Findings C: CN.elapsed_seconds("09:30") raised AttributeError."""
    assert vf.CN.elapsed_seconds(text) == expected
    assert vf.CN.elapsed_seconds(text) == vf.CN.elapsed_seconds(dt.time.fromisoformat(text))


@pytest.mark.parametrize("bad", ["9.30", "24:00", "25:00", 930, None])
def test_elapsed_seconds_refuses_what_is_not_a_time_of_day(bad):
    with pytest.raises(VizflowError, match=rf"elapsed_seconds: {bad!r} is not a"):
        vf.CN.elapsed_seconds(bad)


def test_regression_elapsed_seconds_refuses_unknown_outside_policy():
    """Findings A.7: an unknown policy string must never act as another policy."""
    with pytest.raises(VizflowError, match=r"outside='Raise' is not one of \['clamp', 'null', 'raise'\]"):
        vf.CN.elapsed_seconds(dt.time(12, 0), outside="Raise")


@given(t=ms_times_of_day, market=st.sampled_from([vf.CN, vf.CN_FUTURES, vf.HK, vf.US, vf.CRYPTO]))
def test_clock_string_equals_time_object(t, market):
    text = t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    assert market.elapsed_seconds(text) == market.elapsed_seconds(t)
