"""Key codes and segments: match by value for every key dtype, in value order, across frames."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.arrangements import force_threads
from vizflow._grouping import POOL_THREADS, by_group_runs, group_order, key_codes, segments
from vizflow._keys import as_keys, check_dates_in_keys, guard_dates_in_keys
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.ops import _lookup as lookup_module
from vizflow.ops._lookup import sorted_segments


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


# --- the compiled sort: counting sort by code, radix sort of out-of-order groups ---------------

FLOAT_TIMES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -5e-324]),
    st.integers(-3, 3).map(float),  # ties
    st.floats(allow_nan=True, allow_infinity=True),
)
INT_TIMES = st.one_of(st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1))


def _arrange(rows: list[tuple], arrangement: str, permutation: list[int]) -> list[tuple]:
    """Rows sorted by (code, time), in time order with codes interleaved, or permuted."""
    if arrangement == "sorted":
        return sorted(rows, key=lambda r: (r[0], _time_order(r[1])))
    if arrangement == "by time":
        return sorted(rows, key=lambda r: _time_order(r[1]))
    return [rows[i] for i in permutation]


def _time_order(t: float) -> tuple:
    return (True, 0.0) if math.isnan(t) else (False, t)


@given(
    data=st.data(),
    n_groups=st.integers(1, 4),
    integer=st.booleans(),
    arrangement=st.sampled_from(["sorted", "by time", "shuffled"]),
    threaded=st.booleans(),
)
def test_group_order_equals_a_stable_sort_by_code_then_time(data, n_groups, integer, arrangement, threaded):
    """Groups long enough for the radix sort (> 32 rows), NaN last, -0.0 equal to 0.0, ties stable."""
    times = INT_TIMES if integer else FLOAT_TIMES
    rows = data.draw(st.lists(st.tuples(st.integers(0, n_groups - 1), times), max_size=200))
    rows = _arrange(rows, arrangement, data.draw(st.permutations(range(len(rows)))))
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    values = np.array([t for _, t in rows], dtype=np.int64 if integer else np.float64)
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        order, offsets, sorted_times, identity = group_order(codes, n_groups, values)
    expected = sorted(range(len(rows)), key=lambda i: (rows[i][0], _time_order(float(rows[i][1])), i))
    assert order.tolist() == expected
    assert identity == (expected == list(range(len(rows))))
    assert np.array_equal(sorted_times, values[expected], equal_nan=True)
    assert offsets.tolist() == np.searchsorted(codes[expected], np.arange(n_groups + 1)).tolist()


KEY_DTYPES = {
    "Int64": (pl.Int64, [600519, 9, 10, -(2**40), None]),
    "UInt32": (pl.UInt32, [7, 0, 2**32 - 1, None]),
    "String": (pl.String, ["9", "10", "a", "600519.SH", None]),
    "Categorical": (pl.Categorical(), ["9", "10", "a", "600519.SH", None]),
    "Enum": (pl.Enum(["z", "b", "a"]), ["b", "a", "z", None]),
}


@pytest.mark.parametrize("kind", list(KEY_DTYPES))
@given(
    data=st.data(),
    two_keys=st.booleans(),
    arrangement=st.sampled_from(["sorted", "by time", "shuffled"]),
    threaded=st.booleans(),
)
def test_segments_of_every_key_dtype_and_row_order(kind, data, two_keys, arrangement, threaded):
    """Keys by value (text in text order, nulls first), float times with NaN and nulls last."""
    dtype, values = KEY_DTYPES[kind]
    rows = data.draw(
        st.lists(
            st.tuples(st.sampled_from(values), st.sampled_from([1, 2]), st.one_of(st.none(), FLOAT_TIMES)),
            max_size=120,
        )
    )
    if arrangement == "shuffled":
        rows = _arrange(rows, arrangement, data.draw(st.permutations(range(len(rows)))))
    text = kind not in ("Int64", "UInt32")
    schema = {"k": pl.String if text else dtype, "v": pl.Int64, "t": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.col("k").cast(dtype))
    if arrangement == "sorted":
        frame = frame.sort("k", "v", "t", nulls_last=[False, False, True], maintain_order=True)
    elif arrangement == "by time":
        frame = frame.sort("t", nulls_last=True, maintain_order=True)
    by = ["k", "v"] if two_keys else ["k"]
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        seg = segments(frame, by, ["t"])
    listed = frame.with_columns(pl.col("k").cast(pl.String) if text else pl.col("k")).rows()

    def group(pos: int) -> tuple:
        k, v, _ = listed[pos]
        return (k is not None, k if k is not None else 0, v if two_keys else 0)

    def key(pos: int) -> tuple:
        t = listed[pos][2]
        no_time = t is None or math.isnan(t)
        return (*group(pos), no_time, 0.0 if no_time else t, pos)

    expected = sorted(range(frame.height), key=key)
    assert seg.row_index(frame.height).tolist() == expected
    groups = [group(i) for i in expected]
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    assert seg.offsets.tolist() == ([*starts, len(groups)] if groups else [0])


def test_regression_categorical_codes_beyond_the_lookup_table_fall_back_to_text():
    """A Categorical whose physical codes are far above its row count (a big shared category
    list) is coded through its text, not a table as large as the category list."""
    categories = pl.Categories.random()
    pl.Series([f"s{i}" for i in range(70_000)]).cast(pl.Categorical(categories))
    frame = pl.DataFrame({"k": pl.Series(["s69999", None, "s2", "s69999"]).cast(pl.Categorical(categories))})
    (codes,), k = key_codes([frame], [["k"]])
    assert codes.tolist() == [2, 0, 1, 2]  # null, then "s2" < "s69999" by text
    assert k == 3


# --- the date rule: no key group spans two dates (issue 21) -------------------------------------


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", None]), st.sampled_from(["20240102", "20240103", None])),
        max_size=12,
    ),
    st.sampled_from([[], ["symbol"], ["symbol", "desk"]]),
)
def test_date_rule_holds_exactly_when_no_key_group_spans_two_dates(rows, keys):
    frame = pl.DataFrame(rows, schema={"symbol": pl.String, "date": pl.String}, orient="row").with_columns(
        desk=1
    )
    groups: dict = {}
    for symbol, date in rows:  # by hand: the dates each key group holds (a null key is a group too)
        if date is not None:
            groups.setdefault(symbol if keys else None, set()).add(date)
    spans = any(len(d) > 1 for d in groups.values())
    for check in (
        lambda: check_dates_in_keys(frame, keys, where="demo"),
        lambda: guard_dates_in_keys(frame.lazy(), keys, where="demo").collect(),
        lambda: vf.quantile_bin(frame.with_columns(x=1.0), "x", 2, by=keys or None),
    ):
        if spans:
            with pytest.raises(DataError, match=r"'date' holds 2 dates \(20240102 .. 20240103\) in the"):
                check()
        else:
            check()
    if spans:  # the advice passes the same check
        check_dates_in_keys(frame, ["date", *keys], where="demo")


@given(
    data=st.data(), n_groups=st.integers(1, 4), arrangement=st.sampled_from(["sorted", "by time", "shuffled"])
)
def test_sorted_segments_equal_group_order_bit_for_bit(data, n_groups, arrangement):
    """The lookup's one-pass check of sorted input answers exactly what the sort answers (NaN, -0.0, ties)."""
    rows = data.draw(st.lists(st.tuples(st.integers(0, n_groups - 1), FLOAT_TIMES), max_size=60))
    rows = _arrange(rows, arrangement, data.draw(st.permutations(range(len(rows)))))
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    times = np.array([t for _, t in rows], dtype=np.float64)
    got = sorted_segments(codes, n_groups, times.copy())
    want = group_order(codes, n_groups, times.copy())
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()
    assert np.array_equal(got[2].view(np.int64), want[2].view(np.int64))
    assert got[3] == want[3]


def test_regression_sorted_input_is_not_sorted_again_in_a_lookup(monkeypatch):
    """forward_return on rows already in (key, time) order takes the one-pass check, not the sort."""
    calls = []
    real = lookup_module.group_order
    monkeypatch.setattr(lookup_module, "group_order", lambda *a: calls.append(1) or real(*a))
    df = pl.DataFrame({"symbol": [1, 1, 2, 2], "t": [0.0, 1.0, 0.0, 2.0], "price": [1.0, 2.0, 4.0, 5.0]})
    got = vf.forward_return(df, [1], "price", "t", "symbol")
    assert calls == []
    assert got["return_1"].to_list() == [1.0, None, 0.0, None]
    shuffled = vf.forward_return(df.reverse(), [1], "price", "t", "symbol")
    assert calls == [1]
    assert shuffled["return_1"].to_list() == [None, 0.0, None, 1.0]


def test_regression_plan_nodes_run_their_passes_in_threads():
    """Inside a plan's UDF Polars reports a pool of 1 thread: the passes ran on one core."""
    assert pl.thread_pool_size() == POOL_THREADS  # read outside any plan
    offsets = np.array([0, 300_000, 600_000, 900_000], dtype=np.int64)  # 3 groups over 250k rows
    seen: list[int] = []

    def node(batch: pl.DataFrame) -> pl.DataFrame:
        seen.append(len(by_group_runs(offsets, lambda a, b: (a, b))))
        return batch

    pl.LazyFrame({"a": [1]}).map_batches(node).collect()
    assert seen == [min(pl.thread_pool_size(), 3)]
