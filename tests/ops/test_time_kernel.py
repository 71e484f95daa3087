"""The compiled clock in parse_time / elapsed_expr: batches, chunks, dtypes and the collect-time checks."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.strategies import ms_times_of_day, to_hhmmssmmm
from vizflow.exceptions import DataError

ROWS = 250_000  # more than one batch of the streaming engine
OPEN, LUNCH, NIGHT = 93000000, 120000000, 200000000
BAD = (996100000, 93060000, 250000000)


def _clock_by_hand(v: int) -> float:
    """CN clock of a valid HHMMSSmmm value, clamped (no code under test)."""
    ms = (v // 10_000_000 * 3600 + v // 100_000 % 100 * 60) * 1000 + v % 100_000
    return (min(max(ms - 34_200_000, 0), 7_200_000) + min(max(ms - 46_800_000, 0), 7_200_000)) / 1000


def _frame(bad_at: dict[int, int]) -> pl.DataFrame:
    """ROWS times inside CN's sessions (elapsed ``i * 97`` ms, wrapped), with ``bad_at`` put in."""
    elapsed = [(i * 97) % 14_400_000 for i in range(ROWS)]
    ms = [34_200_000 + e if e <= 7_200_000 else 39_600_000 + e for e in elapsed]
    times = [x // 3_600_000 * 10_000_000 + x // 60_000 % 60 * 100_000 + x % 60_000 for x in ms]
    for row, value in bad_at.items():
        times[row] = value
    return pl.DataFrame({"t": times}, schema={"t": pl.Int64})


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
def test_a_raise_counts_the_bad_values_of_every_batch_and_names_the_first(engine):
    rows = {7: BAD[0], 140_000: BAD[1], ROWS - 3: BAD[2]}
    lazy = vf.parse_time(_frame(rows).lazy(), vf.CN, "t")
    with pytest.raises(DataError, match=rf"3 value\(s\) are not times of day, first: {BAD[0]};"):
        lazy.collect(engine=engine)
    expr = _frame(rows).lazy().select(vf.elapsed_expr("t", vf.CN))
    with pytest.raises(DataError, match=rf"3 value\(s\) are not times of day, first: {BAD[0]};"):
        expr.collect(engine=engine)


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
def test_streaming_equals_in_memory_equals_the_clock_by_hand(engine):
    df = _frame({5: LUNCH, 200_000: NIGHT})
    out = vf.parse_time(df.lazy(), vf.CN, "t", outside="null").collect(engine=engine)
    expected = [None if v in (LUNCH, NIGHT) else _clock_by_hand(v) for v in df["t"].to_list()]
    assert out["elapsed_seconds"].to_list() == expected
    with pytest.raises(DataError, match=rf"2 time\(s\) outside every session of CN .*first: {LUNCH};"):
        vf.parse_time(df.lazy(), vf.CN, "t", outside="raise").collect(engine=engine)


@pytest.mark.parametrize("dtype", [pl.Int32, pl.UInt32, pl.UInt64, pl.Int64])
def test_any_integer_dtype_and_chunked_input_give_the_same_clock(dtype):
    times = [OPEN, 113000000, None, 130000500, LUNCH, 150000000]
    parts = [
        pl.DataFrame({"t": times[:3]}, schema={"t": dtype}),
        pl.DataFrame({"t": times[3:]}, schema={"t": dtype}),
    ]
    chunked = pl.concat(parts, rechunk=False)
    assert chunked["t"].n_chunks() == 2
    out = vf.parse_time(chunked, vf.CN, "t")["elapsed_seconds"].to_list()
    assert out == [0.0, 7200.0, None, 7200.5, 7200.0, 14400.0]


def test_invalid_null_with_outside_raise_counts_only_valid_times_outside():
    # An invalid value nulled by invalid="null" is not a time outside the sessions.
    df = pl.DataFrame({"t": [BAD[0], OPEN, LUNCH, BAD[1], NIGHT, None]})
    with pytest.raises(DataError, match=rf"2 time\(s\) outside every session of CN .*first: {LUNCH};"):
        vf.parse_time(df, vf.CN, "t", invalid="null", outside="raise")
    inside = pl.DataFrame({"t": [BAD[0], OPEN, BAD[1], None]})
    out = vf.parse_time(inside, vf.CN, "t", invalid="null", outside="raise")["elapsed_seconds"]
    assert out.to_list() == [None, 0.0, None, None]


def test_outside_null_with_invalid_raise_passes_when_only_outside_times_are_nulled():
    df = pl.DataFrame({"t": [OPEN, LUNCH, NIGHT, None]})
    out = vf.parse_time(df, vf.CN, "t", outside="null")["elapsed_seconds"].to_list()
    assert out == [0.0, None, None, None]
    with pytest.raises(DataError, match=rf"1 value\(s\) are not times of day, first: {BAD[2]};"):
        vf.parse_time(df.vstack(pl.DataFrame({"t": [BAD[2]]})), vf.CN, "t", outside="null")


def test_an_invalid_value_is_reported_before_a_time_outside_the_sessions():
    df = pl.DataFrame({"t": [LUNCH, BAD[0]]})
    with pytest.raises(DataError, match=rf"1 value\(s\) are not times of day, first: {BAD[0]};"):
        vf.parse_time(df, vf.CN, "t", outside="raise")


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
def test_strings_count_every_bad_value_across_batches(engine):
    text = ["09:30:00.000"] * ROWS
    text[3], text[ROWS - 1] = "9h30", "25:00:00"
    lazy = vf.parse_time(pl.LazyFrame({"t": text}), vf.CN, "t")
    with pytest.raises(DataError, match=r"2 value\(s\) are not times of day, first: '9h30'"):
        lazy.collect(engine=engine)


SPANS = [("09:00", "10:00"), ("10:30", "11:00"), ("13:00", "14:00"), ("14:10", "14:20"), ("15:00", "16:00")]
EDGES = [dt.time.fromisoformat(edge) for span in SPANS for edge in span]


@pytest.mark.parametrize("closed", ["left", "right", "both"])
@pytest.mark.parametrize("n_sessions", [1, 3, 5])  # padded to 2 and 4 sessions; 5 compiled as is
@given(times=st.lists(st.one_of(ms_times_of_day, st.sampled_from(EDGES)), min_size=1, max_size=30))
def test_any_number_of_sessions_and_edges_follow_the_scalar_clock(closed, n_sessions, times):
    spans = [
        ("09:00", "10:00"),
        ("10:30", "11:00"),
        ("13:00", "14:00"),
        ("14:10", "14:20"),
        ("15:00", "16:00"),
    ]
    market = vf.Market("X", tuple(vf.Session(a, b) for a, b in spans[:n_sessions]), closed=closed)
    df = pl.DataFrame({"t": [to_hhmmssmmm(t) for t in times]}, schema={"t": pl.Int64})
    for outside in ("clamp", "null"):
        out = vf.parse_time(df, market, "t", outside=outside)["elapsed_seconds"].to_list()
        assert out == [market.elapsed_seconds(t, outside=outside) for t in times]
