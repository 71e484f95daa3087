"""presorted_segments: input already in (by, sort_by) order gives segments() 's answer without a sort."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.arrangements import force_threads
from vizflow._grouping import segments
from vizflow.enrich import presorted
from vizflow.enrich.presorted import keyed_in_order, presorted_segments, row_order

TIMES = {
    "float": (pl.Float64, st.sampled_from([0.0, -0.0, 1.5, 1.5, 2.0, -3.0, math.nan, math.inf])),
    "int": (pl.Int64, st.integers(-3, 3)),
    "datetime": (pl.Datetime("us"), st.datetimes(dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2, 0, 0, 3))),
}
KEYS = {
    "int64": ([pl.Int64], [st.integers(-2, 2)]),
    "int32": ([pl.Int32], [st.integers(-2, 2)]),
    "string": ([pl.String], [st.sampled_from(["b", "a", "ab", ""])]),
    "bool": ([pl.Boolean], [st.booleans()]),
    "date and int": (
        [pl.Date, pl.Int64],
        [st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 3)), st.integers(0, 2)],
    ),
    "none": ([], []),
}


@st.composite
def frames(draw):
    dtypes, values = KEYS[draw(st.sampled_from(sorted(KEYS)))]
    time_dtype, times = TIMES[draw(st.sampled_from(sorted(TIMES)))]
    n = draw(st.integers(1, 40))
    columns = {f"k{j}": pl.Series(draw(st.lists(v, min_size=n, max_size=n)), dtype=d)
               for j, (d, v) in enumerate(zip(dtypes, values, strict=True))}  # fmt: skip
    columns["t"] = pl.Series(draw(st.lists(times, min_size=n, max_size=n)), dtype=time_dtype)
    return pl.DataFrame(columns), [f"k{j}" for j in range(len(dtypes))]


@given(case=frames(), threaded=st.booleans())
def test_equals_segments_on_sorted_and_unsorted_rows(case, threaded):
    """Threaded: rows checked in up to three parts (each seam a group boundary or not), sorted in parts."""
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
            mp.setattr(presorted, "_ROWS_PER_PART", 1)
        _equals_segments(*case)


def _equals_segments(df, by):
    seg = segments(df, by, ["t"])
    ordered = df if seg.order is None else df[seg.order]
    fast = presorted_segments(ordered, by, ["t"])
    assert fast is not None
    assert fast.order is None
    assert fast.offsets.tolist() == seg.offsets.tolist()
    # On the frame as drawn: found in order exactly when segments() needs no order either.
    found = presorted_segments(df, by, ["t"])
    assert (found is not None) == (seg.order is None)
    if found is not None:
        assert found.offsets.tolist() == seg.offsets.tolist()
    # row_order without a keyed pass: exactly segments() (sorted from the codes and times it read).
    got, keyed = row_order(df, by, ["t"], keyed=False)
    assert keyed is None
    assert (got.order is None) == (seg.order is None)
    assert got.order is None or got.order.tolist() == seg.order.tolist()
    assert got.offsets.tolist() == seg.offsets.tolist()


def test_no_sort_by_is_one_run_per_key():
    df = pl.DataFrame({"s": [1, 1, 4, 4, 4]})
    assert presorted_segments(df, ["s"], []).offsets.tolist() == [0, 2, 5]
    assert presorted_segments(df, [], []).offsets.tolist() == [0, 5]


@pytest.mark.parametrize(
    ("df", "by"),
    [
        (pl.DataFrame({"s": [1, None], "t": [1, 2]}), ["s"]),  # a null key: the sort decides
        (pl.DataFrame({"s": [1, 1], "t": [1, None]}), ["s"]),  # a null time
        (pl.DataFrame({"s": [1, 1], "t": [math.nan, 1.0]}), ["s"]),  # a number after a NaN
        (pl.DataFrame({"s": [2, 1], "t": [1, 2]}), ["s"]),  # keys going down
        (pl.DataFrame({"s": ["a", "a"], "u": [1, 1], "t": [1, 2]}), ["s", "u"]),  # String among two keys
        (pl.DataFrame({"s": pl.Series([1, 1], dtype=pl.UInt64), "t": [1, 2]}), ["s"]),
        (pl.DataFrame({"s": pl.Series(["a", "a"], dtype=pl.Categorical), "t": [1, 2]}), ["s"]),
        (pl.DataFrame({"s": [1.0, 1.0], "t": [1, 2]}), ["s"]),  # a float key
        (pl.DataFrame({"s": [1, 1], "t": ["a", "b"]}), ["s"]),  # a String time
    ],
)
def test_cases_it_leaves_to_the_sort_give_none(df, by):
    assert presorted_segments(df, by, ["t"]) is None


def test_several_chunks_and_empty_frames():
    parts = [pl.DataFrame({"s": [1, 1], "t": [1.0, 2.0]}), pl.DataFrame({"s": [1, 2], "t": [3.0, 0.0]})]
    df = pl.concat(parts, rechunk=False)
    assert df.n_chunks() == 2
    assert presorted_segments(df, ["s"], ["t"]).offsets.tolist() == [0, 3, 4]
    assert presorted_segments(df.clear(), ["s"], ["t"]) is None
    assert np.array_equal(segments(df, ["s"], ["t"]).offsets, [0, 3, 4])


@given(
    keys=st.lists(st.sampled_from(["a", "b", None]), max_size=30),
    times=st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, math.nan]), min_size=30, max_size=30),
)
def test_keyed_in_order_is_each_keys_times_in_order(keys, times):
    df = pl.DataFrame({"s": keys, "t": times[: len(keys)]}, schema={"s": pl.String, "t": pl.Float64})
    found = keyed_in_order(df, ["s"], ["t"])
    per_key: dict = {}
    for k, t in zip(keys, times, strict=False):
        per_key.setdefault(k, []).append(t)

    def in_order(ts):  # NaN last, equal to another NaN
        rank = [(math.isnan(t), 0.0 if math.isnan(t) else t) for t in ts]
        return rank == sorted(rank)

    assert (found is not None) == all(in_order(ts) for ts in per_key.values())
    if found is not None:
        codes, n = found
        assert n == len(per_key)
        first = {}
        assert all(first.setdefault(k, c) == c for k, c in zip(keys, codes.tolist(), strict=True))
        assert len(set(first.values())) == n
