"""Market and Session: every preset against a hand-written answer file in tests/resources/markets/."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import polars as pl
import pytest

import vizflow as vf
from vizflow.exceptions import DataError, VizflowError

RESOURCES = Path(__file__).parent / "resources" / "markets"


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
        out = vf.parse_time(answers, self.market, "time")
        assert out["elapsed_seconds"].to_list() == pytest.approx(answers["elapsed_seconds"].to_list())

    def test_null_policy_matches_inside_column(self, answers):
        out = vf.parse_time(answers, self.market, "time", outside="null")
        assert out["elapsed_seconds"].is_not_null().to_list() == answers["inside"].to_list()

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
