"""Key codes and segments: match by value for every key dtype, in value order, across frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vizflow._grouping import key_codes, segments
from vizflow._keys import as_keys, check_dates_in_keys
from vizflow.exceptions import DataError, SchemaError, VizflowError


def _reference_codes(tuples: list[tuple], nulls: str) -> tuple[list[int], int]:
    """Dense rank of tuples by value, nulls first (or all-null-containing tuples -> 0)."""

    def sort_key(t: tuple) -> tuple:
        return tuple((v is not None, v if v is not None else 0) for v in t)

    if nulls == "drop":
        valid = sorted({t for t in tuples if None not in t}, key=sort_key)
        rank = {t: i + 1 for i, t in enumerate(valid)}
        return [rank.get(t, 0) for t in tuples], len(valid) + 1
    distinct = sorted(set(tuples), key=sort_key)
    rank = {t: i for i, t in enumerate(distinct)}
    return [rank[t] for t in tuples], len(distinct)


int_keys = st.one_of(st.none(), st.integers(-3, 12), st.sampled_from([2**40, -(2**40)]))
text_keys = st.one_of(st.none(), st.sampled_from(["9", "10", "a", "B", "600519", "600519.SH"]))


@given(
    rows=st.lists(st.tuples(int_keys, text_keys), max_size=30),
    split=st.integers(0, 30),
    dtype=st.sampled_from([pl.Int64, pl.Int32, pl.UInt64]),
    text=st.sampled_from([pl.String, pl.Categorical]),
    nulls=st.sampled_from(["group", "drop"]),
)
def test_key_codes_equal_a_dense_rank_by_value(rows, split, dtype, text, nulls):
    if dtype == pl.UInt64:
        rows = [(None if a is None else abs(a), b) for a, b in rows]
    elif dtype == pl.Int32:
        rows = [(None if a is None or abs(a) > 2**31 else a, b) for a, b in rows]
    frame = pl.DataFrame(rows, schema={"i": dtype, "s": pl.String}, orient="row").with_columns(
        pl.col("s").cast(text)
    )
    a, b = frame.head(split), frame.tail(frame.height - min(split, frame.height))
    (ca, cb), k = key_codes([a, b], [["i", "s"], ["i", "s"]], nulls=nulls)
    expected, expected_k = _reference_codes(rows, nulls)
    assert [*ca.tolist(), *cb.tolist()] == expected
    if rows:
        assert k == expected_k


def test_regression_integer_keys_order_numerically_not_as_text():
    frame = pl.DataFrame({"s": [10, 9, 100, 9]})
    (codes,), k = key_codes([frame], [["s"]])
    assert codes.tolist() == [1, 0, 2, 0]
    assert k == 3


@pytest.mark.parametrize(
    "values",
    [
        pl.Series([dt.date(2024, 1, 3), dt.date(2024, 1, 2)]),
        pl.Series([dt.timedelta(seconds=3), dt.timedelta(seconds=2)]),
        pl.Series([True, False]),
        pl.Series(["b", "a"], dtype=pl.Enum(["b", "a"])),
        pl.Series([0.5, -1.0]),
        pl.Series([dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 2)]),
    ],
    ids=["date", "duration", "boolean", "enum", "float", "datetime"],
)
def test_key_codes_for_every_groupable_dtype(values):
    frame = pl.DataFrame({"k": values})
    (codes,), _ = key_codes([frame], [["k"]])
    assert codes.tolist() == [1, 0]  # value order: the second value is the smaller one


def test_keys_of_different_kinds_are_refused():
    with pytest.raises(SchemaError, match="different kinds"):
        key_codes([pl.DataFrame({"s": [1]}), pl.DataFrame({"s": ["1"]})], [["s"], ["s"]])


def test_no_keys_is_one_group():
    (codes,), k = key_codes([pl.DataFrame({"x": [1, 2]})], [[]])
    assert codes.tolist() == [0, 0]
    assert k == 1


@given(
    rows=st.lists(st.tuples(int_keys, text_keys, st.one_of(st.none(), st.integers(0, 5))), max_size=30),
    seed=st.integers(0, 1000),
)
def test_segments_order_rows_by_keys_then_time_stably(rows, seed):
    frame = pl.DataFrame(rows, schema={"i": pl.Int64, "s": pl.String, "t": pl.Int64}, orient="row")
    frame = frame.sample(fraction=1.0, shuffle=True, seed=seed) if frame.height else frame
    seg = segments(frame, ["i", "s"], ["t"])
    order = seg.row_index(frame.height).tolist()

    def key(pos: int) -> tuple:
        i, s, t = frame.row(pos)
        return (i is not None, i or 0, s is not None, s or "", t is None, t or 0, pos)

    assert order == sorted(range(frame.height), key=key)
    groups = [tuple(frame.row(order[k])[:2]) for k in range(frame.height)]
    starts = seg.offsets.tolist()
    for g in range(len(starts) - 1):
        members = set(groups[starts[g] : starts[g + 1]])
        assert len(members) == 1  # one key per segment, every key in one segment
    assert len(starts) - 1 == len(set(groups))


def test_as_keys_refuses_bad_names():
    with pytest.raises(VizflowError, match="expected a column name"):
        as_keys(5, where="demo", name="by")  # type: ignore[arg-type]
    with pytest.raises(VizflowError, match="more than once"):
        as_keys(["a", "a"], where="demo", name="by")


def test_regression_multi_date_frame_without_date_key_is_refused():
    frame = pl.DataFrame(
        {"date": ["20230201", "20230202"], "day": [dt.date(2023, 2, 1)] * 2, "symbol": ["A", "A"]}
    )
    with pytest.raises(DataError, match=r"column 'date' holds 2 dates.*key by \['date', 'symbol'\]"):
        check_dates_in_keys(frame, ["symbol"], where="demo")
    check_dates_in_keys(frame, ["date", "symbol"], where="demo")
    stamps = pl.DataFrame({"ts": [dt.datetime(2023, 2, 1, 9), dt.datetime(2023, 2, 2, 9)], "symbol": [1, 1]})
    with pytest.raises(DataError, match=r"'ts' holds 2 dates.*pl.col\('ts'\).dt.date\(\)"):
        check_dates_in_keys(stamps, ["symbol"], where="demo")
    check_dates_in_keys(stamps, ["symbol"], where="demo", time_col="ts")  # an absolute time is fine
    one_day = pl.DataFrame({"date": ["20230201", None], "symbol": ["A", "A"]})
    check_dates_in_keys(one_day, ["symbol"], where="demo")


def test_codes_are_independent_of_input_order():
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"s": rng.integers(0, 50, 1000), "d": rng.integers(0, 3, 1000)})
    shuffled = frame.with_row_index().sample(fraction=1.0, shuffle=True, seed=1)
    (a,), _ = key_codes([frame], [["d", "s"]])
    (b,), _ = key_codes([shuffled], [["d", "s"]])
    assert np.array_equal(a[shuffled["index"].to_numpy()], b)
