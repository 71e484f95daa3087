"""forward_return: against a searchsorted reference, pandas.merge_asof, and the lunch break."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from functools import partial

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vizflow as vf
from tests.arrangements import arrange, force_threads
from tests.key_dtypes import MIXED_PAIRS, SAME_PAIRS, key_series, picks
from tests.reference import forward_return_reference
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError
from vizflow.ops._horizons import parse_duration
from vizflow.ops.forward import _segments, _times, horizon_name

SCHEMA = {"symbol": pl.String, "t": pl.Float64, "px": pl.Float64}

symbols = st.sampled_from(["a", "b", "c", None])
times = st.one_of(st.integers(0, 12).map(float), st.none())  # small grid: many ties and gaps
prices = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 5.0, 10.0]), st.floats(0.5, 50), st.none())
rows_strategy = st.lists(st.tuples(symbols, times, prices), max_size=40)
horizons_strategy = st.lists(st.sampled_from([0.5, 1, 2, 3, 7, 20]), min_size=1, max_size=3, unique=True)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def _assert_matches(out: pl.DataFrame, expected: dict, horizons) -> None:
    for h in horizons:
        got = out[vf.ops.forward.horizon_name(h)].to_list()
        assert all(_close(a, b) for a, b in zip(got, expected[h], strict=True)), (h, got, expected[h])


# --- exit criterion and worked example ----------------------------------------------------------


def test_forward_return_exit_criterion_plan():
    df = pl.DataFrame(
        {"symbol": ["A", "A", "B"], "elapsed_seconds": [0.0, 60.0, 0.0], "mid": [10.0, 11.0, 5.0]}
    )
    out = vf.forward_return(df, [60], "mid", "elapsed_seconds", "symbol")
    assert out.columns[-1] == "return_60"
    assert out["return_60"].to_list() == [pytest.approx(0.1), None, None]


def test_horizon_crossing_lunch_reads_the_afternoon():
    quotes = pl.DataFrame(
        {
            "symbol": ["X"] * 4,
            "ticktime": [112930000, 112959000, 130030000, 130100000],
            "mid": [10.0, 10.5, 11.0, 12.0],
        }
    )
    trades = pl.DataFrame({"symbol": ["X"], "ticktime": [112930000], "price": [10.0]})
    quotes, trades = vf.parse_time(quotes, vf.CN), vf.parse_time(trades, vf.CN)
    out = vf.forward_return(trades, [60], "price", reference=quotes, reference_price_col="mid")
    assert out["return_60"].to_list() == [pytest.approx(0.1)]  # 11:29:30 + 60 s = 13:00:30 -> 11.0


# --- properties ---------------------------------------------------------------------------------


@given(rows=rows_strategy, horizons=horizons_strategy, log=st.booleans())
def test_equals_reference_on_own_prices(rows, horizons, log):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    out = vf.forward_return(df, horizons, "px", "t", "symbol", log=log)
    assert out.select(list(SCHEMA)).equals(df)  # same rows, same order
    _assert_matches(out, forward_return_reference(rows, horizons, log=log), horizons)


@given(
    rows=rows_strategy,
    source=rows_strategy,
    horizons=horizons_strategy,
    tolerance=st.one_of(st.none(), st.sampled_from([0.0, 1.0, 3.0])),
    current_from_source=st.booleans(),
)
def test_equals_reference_with_a_reference_frame(rows, source, horizons, tolerance, current_from_source):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    quotes = pl.DataFrame(source, schema=SCHEMA, orient="row").rename({"px": "mid"})
    call = partial(
        vf.forward_return,
        df.lazy(),
        horizons,
        "px",
        "t",
        "symbol",
        reference=quotes,
        tolerance=tolerance,
        current="reference" if current_from_source else "own",
    )
    mine, theirs = {r[0] for r in rows} - {None}, {r[0] for r in source} - {None}
    if mine and theirs and not mine & theirs:  # keys that match nothing are an error, not nulls
        with pytest.raises(DataError, match="no key of the frame"):
            call().collect()
        return
    out = call().collect()
    expected = forward_return_reference(
        rows, horizons, source, tolerance=tolerance, current_from_source=current_from_source
    )
    _assert_matches(out, expected, horizons)


@given(rows=rows_strategy, horizons=horizons_strategy, seed=st.integers(0, 2**16))
def test_row_order_does_not_matter(rows, horizons, seed):
    # Unique (symbol, time) keys: with ties, which equal-time row wins follows the input order.
    df = (
        pl.DataFrame(rows, schema=SCHEMA, orient="row")
        .unique(["symbol", "t"], keep="first", maintain_order=True)
        .with_row_index("i")
    )
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
    a = vf.forward_return(df, horizons, "px", "t", "symbol").sort("i")
    b = vf.forward_return(shuffled, horizons, "px", "t", "symbol").sort("i")
    assert a.equals(b)


ms_rows_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 30).map(lambda k: k * 100), prices),
    max_size=40,
)


@given(
    rows=ms_rows_strategy,
    horizons=st.lists(st.sampled_from([100, 200, 300, 700, 1100]), min_size=1, max_size=3, unique=True),
    origin=st.sampled_from([0, 3_600_000, 41_400_000]),
)
def test_decimal_ties_on_a_millisecond_grid(rows, horizons, origin):
    # Times and horizons in ms are exact integers for the reference; vizflow gets them as float
    # seconds, where e.g. 0.7 + 0.1 < 0.8 in binary. A decimal tie must still count as reached.
    rows = [(s, origin + ms, p) for s, ms, p in rows]
    df = pl.DataFrame([(s, ms / 1000, p) for s, ms, p in rows], schema=SCHEMA, orient="row")
    out = vf.forward_return(df, [h / 1000 for h in horizons], "px", "t", "symbol", tolerance=0.1)
    expected = forward_return_reference(rows, horizons, tolerance=100)
    for h in horizons:
        got = out[vf.ops.forward.horizon_name(h / 1000)].to_list()
        assert all(_close(a, b) for a, b in zip(got, expected[h], strict=True)), (h, got, expected[h])


def test_decimal_tie_examples():
    df = pl.DataFrame({"symbol": ["A"] * 3, "t": [0.1, 0.7, 0.8], "px": [1.0, 2.0, 4.0]})
    out = vf.forward_return(df, [0.1, 0.7], "px", "t", "symbol")
    assert out["return_0.1"].to_list() == [0.0, 1.0, None]  # 0.7 + 0.1 reads 0.8
    assert out["return_0.7"].to_list() == [3.0, None, None]  # 0.1 + 0.7 == 0.8, the last quote


def test_against_pandas_merge_asof():
    quotes, trades = vf.datasets.synthetic_day(n_symbols=20, trades_per_symbol=200, seed=5)
    quotes, trades = vf.parse_time(quotes, vf.CN), vf.parse_time(trades, vf.CN)
    horizons = [1, 30, 300]
    ours = vf.forward_return(trades, horizons, "price", reference=quotes, reference_price_col="mid")

    # pandas joins on exact integer milliseconds (t + h in float seconds may round below a tie).
    ms = (pl.col("elapsed_seconds") * 1000).round().cast(pl.Int64).alias("ms")
    q = quotes.with_columns(ms).to_pandas().sort_values("ms", kind="stable")
    t = trades.with_columns(ms).with_row_index("i").to_pandas()
    last = quotes.with_columns(ms).group_by("symbol").agg(pl.col("ms").max().alias("last")).to_pandas()
    for h in horizons:
        left = t.assign(target=t["ms"] + h * 1000).sort_values("target", kind="stable")
        merged = pd.merge_asof(
            left, q[["symbol", "ms", "mid"]].rename(columns={"ms": "q_ms"}), left_on="target",
            right_on="q_ms", by="symbol", direction="backward",
        )  # fmt: skip
        merged = merged.merge(last, on="symbol").sort_values("i")
        expected = (merged["mid"] - merged["price"]) / merged["price"]
        expected = expected.where(merged["target"] <= merged["last"])
        np.testing.assert_allclose(ours[f"return_{h}"].to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_lazy_in_lazy_out_and_many_horizons():
    _, trades = vf.datasets.synthetic_day(n_symbols=3, trades_per_symbol=50)
    lazy = vf.parse_time(trades.lazy(), vf.CN).vf.forward_return([1, 5, 30, 60, 300, 1800], "price")
    assert isinstance(lazy, pl.LazyFrame)
    out = lazy.collect()
    assert out.columns[-6:] == [f"return_{h}" for h in (1, 5, 30, 60, 300, 1800)]
    eager = vf.parse_time(trades, vf.CN).vf.forward_return([1, 5, 30, 60, 300, 1800], "price")
    assert out.equals(eager)


def test_column_names_for_fractional_horizons():
    df = pl.DataFrame({"symbol": ["a"], "t": [0.0], "px": [1.0]})
    out = vf.forward_return(df, [0.5, 2.0, 0.001], "px", "t", "symbol", prefix="fwd_")
    assert out.columns[-3:] == ["fwd_0.5", "fwd_2", "fwd_0.001"]


# --- bad input ----------------------------------------------------------------------------------


def test_numpy_horizons_are_accepted():
    df = pl.DataFrame({"symbol": ["a", "a"], "t": [0.0, 5.0], "px": [1.0, 2.0]})
    out = vf.forward_return(df, np.array([1, 5]), "px", "t", "symbol")
    assert out.columns[-2:] == ["return_1", "return_5"]
    assert vf.forward_return(df, np.int64(5), "px", "t", "symbol")["return_5"].to_list() == [1.0, None]


@pytest.mark.parametrize(
    "horizons",
    [[math.inf], [-math.nan], [], [60, 60], [60, 60.0], ["60"], "60", ["open"], [True], np.bool_(True), None],
)
def test_bad_horizons(horizons):
    df = pl.DataFrame({"symbol": ["a"], "t": [0.0], "px": [1.0]})
    with pytest.raises(VizflowError, match="horizon"):
        vf.forward_return(df, horizons, "px", "t", "symbol")


def test_bad_columns():
    df = pl.DataFrame({"symbol": ["a"], "t": [0.0], "px": ["1.0"], "ts": ["09:30"]})
    with pytest.raises(ColumnNotFoundError, match=r"'mid' not found; available"):
        vf.forward_return(df, [1], "mid", "t", "symbol")
    with pytest.raises(SchemaError, match="'px' has dtype String"):
        vf.forward_return(df, [1], "px", "t", "symbol")
    with pytest.raises(SchemaError, match="time column 'ts'"):
        vf.forward_return(df.with_columns(px=pl.lit(1.0)), [1], "px", "ts", "symbol")
    with pytest.raises(ColumnNotFoundError, match=r"reference.*'mid' not found"):
        vf.forward_return(df.with_columns(px=pl.lit(1.0)), [1], "px", "t", "symbol", reference=df)
    with pytest.raises(VizflowError, match="already exist"):
        vf.forward_return(df.with_columns(px=pl.lit(1.0), return_1=pl.lit(0.0)), [1], "px", "t", "symbol")
    with pytest.raises(VizflowError, match="needs a reference"):
        vf.forward_return(df.with_columns(px=pl.lit(1.0)), [1], "px", "t", "symbol", current="reference")


def test_empty_frame_keeps_schema():
    df = pl.DataFrame(schema=SCHEMA)
    out = vf.forward_return(df, [1, 2], "px", "t", "symbol")
    assert out.height == 0
    assert out.schema["return_1"] == pl.Float64


def test_integer_times_beyond_float_precision_are_refused():
    ns = 1_700_000_000_000_000_000  # epoch nanoseconds: 100 ns apart would merge in float64
    df = pl.DataFrame({"symbol": ["a", "a"], "t": [ns, ns + 100], "px": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"time column 't' holds integers up to 1700000000000000100"):
        vf.forward_return(df, [50], "px", "t", "symbol")
    small = df.with_columns(pl.col("t") - ns)  # an origin makes them exact
    assert vf.forward_return(small, [50], "px", "t", "symbol")["return_50"].to_list() == [0.0, None]


def test_symbol_kinds_must_match_the_reference():
    quotes = pl.DataFrame({"symbol": ["000333"] * 2, "t": [0.0, 1.0], "mid": [1.0, 2.0]})
    trades = pl.DataFrame({"symbol": [333], "t": [0.0], "px": [1.0]})
    with pytest.raises(SchemaError, match="symbol column 'symbol' is Int64 but the reference's"):
        vf.forward_return(trades, [1], "px", "t", "symbol", reference=quotes)
    categorical = trades.with_columns(pl.lit("000333").cast(pl.Categorical).alias("symbol"))
    out = vf.forward_return(categorical, [1], "px", "t", "symbol", reference=quotes)
    assert out["return_1"].to_list() == [1.0]  # Categorical and String match as text


# --- keys: several columns, several dates, any dtype (issue 11) ---------------------------------


def _three_days(symbol_dtype: pl.DataType) -> pl.DataFrame:
    """Three days of one symbol on the same session clock, each day at its own price level."""
    days = []
    for d, level in zip(["20230201", "20230202", "20230203"], [100.0, 200.0, 50.0], strict=True):
        t = np.arange(0.0, 100.0, 5.0)
        days.append(
            pl.DataFrame(
                {"date": d, "symbol": 600519, "t": t, "px": level + np.sin(t)},
                schema_overrides={"symbol": pl.Int64},
            )
        )
    return pl.concat(days).with_columns(pl.col("symbol").cast(symbol_dtype))


def test_regression_several_dates_keyed_by_symbol_alone_are_refused():
    frame = _three_days(pl.Int64)
    with pytest.raises(DataError, match=r"'date' holds 3 dates.*\['date', 'symbol'\]"):
        vf.forward_return(frame, [10], "px", "t", "symbol")


@pytest.mark.parametrize("dtype", [pl.Int64, pl.UInt32, pl.String, pl.Categorical], ids=str)
def test_regression_date_and_symbol_keys_equal_one_run_per_day(dtype):
    frame = _three_days(pl.Int64 if dtype == pl.Categorical else dtype).with_columns(
        pl.col("symbol").cast(pl.String).cast(dtype)
        if dtype in (pl.String, pl.Categorical)
        else pl.col("symbol")
    )
    shuffled = frame.with_row_index("i").sample(fraction=1.0, shuffle=True, seed=3)
    keyed = vf.forward_return(shuffled, [10, 30], "px", "t", ["date", "symbol"]).sort("i")
    per_day = pl.concat(
        vf.forward_return(day, [10, 30], "px", "t", "symbol")
        for day in frame.with_row_index("i").partition_by("date", maintain_order=True)
    )
    assert keyed.equals(per_day)
    assert keyed["return_10"].abs().max() < 0.05  # no day reads another day's price level


@given(
    rows=st.lists(
        st.tuples(st.sampled_from([1, 2, None]), st.sampled_from([7, 70, None]), times, prices), max_size=40
    ),
    horizons=horizons_strategy,
    split=st.integers(0, 40),
)
def test_two_integer_key_columns_equal_the_reference(rows, horizons, split):
    df = pl.DataFrame(
        rows, schema={"a": pl.Int16, "b": pl.Int64, "t": pl.Float64, "px": pl.Float64}, orient="row"
    )
    quotes = df.head(split).rename({"px": "mid", "a": "qa"})
    flat = [(None if a is None or b is None else (a, b), t, p) for a, b, t, p in rows]
    source = flat[:split]
    mine, theirs = {r[0] for r in flat} - {None}, {r[0] for r in source} - {None}
    call = partial(
        vf.forward_return,
        df,
        horizons,
        "px",
        "t",
        ["a", "b"],
        reference=quotes,
        reference_symbol_col=["qa", "b"],
    )
    if mine and theirs and not mine & theirs:
        with pytest.raises(DataError, match="no key of the frame"):
            call()
        return
    _assert_matches(call(), forward_return_reference(flat, horizons, source), horizons)


def test_regression_integer_symbols_match_by_value_whatever_the_row_order():
    df = pl.DataFrame({"symbol": [10, 9, 10, 9], "t": [0.0, 0.0, 1.0, 1.0], "px": [1.0, 4.0, 2.0, 5.0]})
    out = vf.forward_return(df, [1], "px", "t", "symbol")
    assert out["return_1"].to_list() == [1.0, 0.25, None, None]
    quotes = pl.DataFrame(
        {"symbol": [9, 10], "t": [1.0, 1.0], "mid": [8.0, 3.0]}, schema_overrides={"symbol": pl.Int32}
    )
    out = vf.forward_return(df.head(2), [1], "px", "t", "symbol", reference=quotes)
    assert out["return_1"].to_list() == [2.0, 1.0]  # Int64 trades match Int32 quotes by value


def test_regression_reference_sharing_no_key_is_refused():
    trades = pl.DataFrame({"symbol": ["600519"], "t": [0.0], "px": [1.0]})
    quotes = pl.DataFrame({"symbol": ["600519.SH"], "t": [1.0], "mid": [2.0]})
    with pytest.raises(DataError, match=r"no key of the frame.*'600519'.*'600519\.SH'"):
        vf.forward_return(trades, [1], "px", "t", "symbol", reference=quotes)
    partial_overlap = pl.concat([quotes, quotes.with_columns(symbol=pl.lit("600519"))])
    out = vf.forward_return(trades, [1], "px", "t", "symbol", reference=partial_overlap)
    assert out["return_1"].to_list() == [1.0]


@pytest.mark.parametrize(
    "keys",
    [
        pl.Series([dt.timedelta(days=1), dt.timedelta(days=2)] * 2),
        pl.Series([dt.date(2024, 1, 2), dt.date(2024, 1, 3)] * 2),
        pl.Series([True, False] * 2),
        pl.Series(["x", "y"] * 2, dtype=pl.Enum(["y", "x"])),
    ],
    ids=["duration", "date", "boolean", "enum"],
)
def test_regression_keys_of_any_groupable_dtype(keys):
    df = pl.DataFrame({"k": keys, "t": [0.0, 0.0, 1.0, 1.0], "px": [1.0, 4.0, 2.0, 5.0]})
    out = vf.forward_return(df, [1], "px", "t", "k")
    assert out["return_1"].to_list() == [1.0, 0.25, None, None]


def test_regression_infinite_time_gives_null_not_zero():
    df = pl.DataFrame({"symbol": ["a"] * 3, "t": [0.0, 10.0, math.inf], "px": [1.0, 2.0, 3.0]})
    out = vf.forward_return(df, [5, 10], "px", "t", "symbol")
    assert out["return_5"].to_list() == [0.0, None, None]  # 0 + 5 reads t=0; t=10 is the last real time
    assert out["return_10"].to_list() == [1.0, None, None]


def test_regression_price_col_is_not_required_with_current_reference():
    trades = pl.DataFrame({"symbol": ["a"], "t": [0.0]})
    quotes = pl.DataFrame({"symbol": ["a", "a"], "t": [0.0, 1.0], "mid": [2.0, 3.0]})
    out = vf.forward_return(trades, [1], time_col="t", reference=quotes, current="reference")
    assert out["return_1"].to_list() == [0.5]


@pytest.mark.parametrize("tolerance", ["5", -1.0, math.nan, True])
def test_regression_bad_tolerance_is_a_clear_error(tolerance):
    df = pl.DataFrame({"symbol": ["a"], "t": [0.0], "px": [1.0]})
    with pytest.raises(VizflowError, match="tolerance"):
        vf.forward_return(df, [1], "px", "t", "symbol", tolerance=tolerance)
    assert vf.forward_return(df, [1], "px", "t", "symbol", tolerance=np.float64(2))["return_1"].to_list() == [
        None
    ]


def test_key_columns_must_pair_with_the_reference():
    df = pl.DataFrame({"d": ["x"], "symbol": ["a"], "t": [0.0], "px": [1.0]})
    with pytest.raises(VizflowError, match="different numbers of key columns"):
        vf.forward_return(
            df,
            [1],
            "px",
            "t",
            ["d", "symbol"],
            reference=df.rename({"px": "mid"}),
            reference_symbol_col="symbol",
        )
    with pytest.raises(VizflowError, match="symbol_col"):
        vf.forward_return(df, [1], "px", "t", ["symbol", "symbol"])


@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", None]), st.one_of(st.floats(0, 40), times), prices), max_size=300
    ),
    horizons=horizons_strategy,
    arrangement=st.sampled_from(["by time", "shuffled"]),
    seed=st.integers(0, 2**16),
    threaded=st.booleans(),
)
def test_regression_long_unsorted_groups_equal_the_reference(rows, horizons, arrangement, seed, threaded):
    """Groups over 32 rows out of time order take the radix sort (issue 13), in threads or not."""
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row").with_row_index("i")
    df = arrange(df, arrangement, seed)
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        out = vf.forward_return(df, horizons, "px", "t", "symbol")
    arranged = [rows[i] for i in df["i"].to_list()]  # the reference takes ties in this order too
    _assert_matches(out, forward_return_reference(arranged, horizons), horizons)


def test_regression_time_and_segment_errors_name_the_calling_operation():
    """forward_window reuses _times and _segments: their errors must not say forward_return."""
    frame = pl.DataFrame({"t": [2**60, 0]})
    with pytest.raises(DataError, match=r"^forward_window: time column 't' holds integers"):
        _times(frame, "t", where="forward_window")
    with pytest.raises(DataError, match=r"^forward_return: time column 't'"):
        _times(frame, "t")
    with pytest.raises(VizflowError, match=r"^forward_window: 2 key codes for 3 times"):
        _segments(np.zeros(2, np.int64), 1, np.zeros(3), where="forward_window")


# --- keys of every dtype, empty keys, dates (issue 21) --------------------------------------------


def _join_asof_returns(frame: pl.DataFrame, ref: pl.DataFrame, keys: list[str], h: float, common) -> list:
    """Plain Polars: join_asof on t + h per key (stable ties: the last row), null past the key's last time."""
    cast = [pl.col(keys[0]).cast(common), *(pl.col(k) for k in keys[1:])]
    valid = pl.all_horizontal([pl.col(k).is_not_null() for k in keys]) & pl.col("t").is_not_null()
    left = frame.with_row_index("row").with_columns(cast).filter(valid).with_columns(target=pl.col("t") + h)
    right = ref.with_columns(cast).filter(valid).select(*keys, rt="t", found="mid")
    last = right.group_by(keys).agg(last=pl.col("rt").max())
    joined = (
        left.sort("target")
        .join_asof(
            right.sort("rt", maintain_order=True),
            left_on="target",
            right_on="rt",
            by=keys,
            check_sortedness=False,
        )
        .join(last, on=keys, how="left")
        .select("row", r=pl.when(pl.col("target") <= pl.col("last")).then(pl.col("found") / pl.col("px") - 1))
    )
    rows = frame.with_row_index("row").select("row").join(joined, on="row", how="left").sort("row")
    return rows["r"].to_list()


@st.composite
def _keyed_pair(draw):
    mine, theirs, common = draw(st.sampled_from(SAME_PAIRS + MIXED_PAIRS))
    two_keys = draw(st.booleans())
    sides = []
    for dtype_name in (mine, theirs):
        n = draw(st.integers(0, 12))
        cols = {
            "k": key_series("k", draw(st.lists(picks, min_size=n, max_size=n)), dtype_name),
            "t": pl.Series(
                draw(st.lists(st.one_of(st.none(), st.integers(0, 8)), min_size=n, max_size=n)),
                dtype=pl.Float64,
            ),
            "px": pl.Series(draw(st.lists(st.sampled_from([1.0, 2.0, 4.0]), min_size=n, max_size=n))),
            "mid": pl.Series(draw(st.lists(st.sampled_from([1.0, 3.0, 5.0]), min_size=n, max_size=n))),
        }
        if two_keys:
            cols["k2"] = pl.Series(
                draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)), dtype=pl.Int64
            )
        sides.append(pl.DataFrame(cols, schema_overrides={"px": pl.Float64, "mid": pl.Float64}))
    return sides[0], sides[1], ["k", "k2"] if two_keys else ["k"], common


@given(pair=_keyed_pair(), h=st.sampled_from([1.0, 2.0, 5.0]))
def test_keys_of_every_dtype_match_a_polars_join_asof(pair, h):
    frame, ref, keys, common = pair
    want = _join_asof_returns(frame, ref, keys, h, common)
    mine, theirs = ({r for r in f.select(keys).rows() if None not in r} for f in (frame, ref))
    if mine and theirs and not mine & theirs:  # no key in common: refused, where the join gives nulls
        assert all(w is None for w in want)
        with pytest.raises(DataError, match="occurs in the reference"):
            vf.forward_return(frame, [h], "px", "t", keys, reference=ref, reference_price_col="mid")
        return
    out = vf.forward_return(frame, [h], "px", "t", keys, reference=ref, reference_price_col="mid")
    got = out[horizon_name(h)].to_list()
    assert all(_close(a, b) for a, b in zip(got, want, strict=True)), (got, want)


@pytest.mark.parametrize(("dtype", "values"), [(pl.Float64, [1.0, 2.0]), (pl.UInt64, [2**63 + 5, 1])])
def test_regression_float_and_big_uint64_keys_with_a_reference(dtype, values):
    q = pl.DataFrame({"sym": pl.Series(values, dtype=dtype), "t": [0.0, 1.0], "p": [1.0, 2.0]})
    both = pl.concat([q, q.with_columns(t=pl.col("t") + 1, p=pl.col("p") * 2)])
    out = vf.forward_return(q, [1], "p", "t", "sym", reference=both, reference_price_col="p")
    assert out["return_1"].to_list() == [1.0, 1.0]  # each key reads its own price doubled at t + 1


def test_regression_empty_key_list_is_one_group():
    frame = pl.DataFrame({"t": [0.0, 1.0, 2.0], "mid": [1.0, 2.0, 4.0]})
    out = vf.forward_return(frame, [1, "close"], "mid", "t", [])
    assert out["return_1"].to_list() == [1.0, 1.0, None]
    assert out["return_close"].to_list() == [3.0, 1.0, 0.0]
    ref = frame.with_columns(mid=pl.col("mid") * 10)
    out = vf.forward_return(frame, [1], "mid", "t", [], reference=ref, reference_symbol_col=[])
    assert out["return_1"].to_list() == [19.0, 19.0, None]
    assert out.equals(vf.forward_return(frame.lazy(), [1], "mid", "t", [], reference=ref.lazy()).collect())


def test_regression_multi_date_advice_passes_the_check():
    stamps = pl.datetime_range(
        dt.datetime(2024, 1, 2, 14), dt.datetime(2024, 1, 3, 10), "4h", time_zone="Asia/Shanghai", eager=True
    )
    frame = pl.DataFrame({"ts": stamps, "symbol": "A", "t": np.arange(stamps.len(), dtype=float), "mid": 1.0})
    with pytest.raises(
        DataError, match=r"key by \['date', 'symbol'\] after adding date=pl.col\('ts'\).dt.date\(\)"
    ):
        vf.forward_return(frame, [1], "mid", "t", "symbol")
    fixed = frame.with_columns(date=pl.col("ts").dt.date())  # exactly the advice
    out = vf.forward_return(fixed, [1], "mid", "t", ["date", "symbol"])
    # 14:00 18:00 22:00 (Jan 2), then 02:00 06:00 10:00 (Jan 3): no return crosses midnight
    assert out["return_1"].is_null().to_list() == [False, False, True, False, False, True]


def test_regression_multi_date_guard_checks_groups_not_names():
    # Each symbol trades on one date only: no key group spans two dates, so nothing chains.
    frame = pl.DataFrame(
        {
            "date": ["20240102", "20240102", "20240103"],
            "symbol": ["A", "A", "B"],
            "t": [0.0, 1.0, 0.0],
            "mid": 1.0,
        }
    )
    out = vf.forward_return(frame, [1], "mid", "t", "symbol")
    assert out["return_1"].to_list() == [0.0, None, None]
    spans = frame.with_columns(symbol=pl.lit("A"))
    with pytest.raises(
        DataError, match=r"'date' holds 2 dates \(20240102 .. 20240103\) in the key group \(symbol='A'\)"
    ):
        vf.forward_return(spans, [1], "mid", "t", "symbol")
    with pytest.raises(DataError, match=r"holds 2 dates"):
        vf.forward_window(spans, [1], {"n": pl.len()}, "t", "symbol")


# --- ties in every direction, against exact decimal arithmetic (issue 21) ------------------------


def _exact_lookup(rows, ref, h, *, direction, allow_exact, tolerance):
    """Brute force in exact fractions: times and horizons are tenths, so no rounding can decide a tie."""
    out = []
    for sym, k, px in rows:
        seen = sorted(
            ((Fraction(t, 10), i, p) for i, (s, t, p) in enumerate(ref) if s == sym), key=lambda x: x[:2]
        )
        target = Fraction(k, 10) + h
        back = [x for x in seen if x[0] < target or (allow_exact and x[0] == target)]
        ahead = [x for x in seen if x[0] > target or (allow_exact and x[0] == target)]
        b = back[-1] if back else None  # the last of equal times
        a = min(ahead, key=lambda x: (x[0], x[1])) if ahead else None  # the first of equal times
        if direction == "backward":
            pick = b if seen and target <= seen[-1][0] else None  # no future price yet
        elif direction == "forward":
            pick = a
        else:
            pick = a if b is None or (a is not None and a[0] - target < target - b[0]) else b
        if pick is not None and tolerance is not None and abs(pick[0] - target) > tolerance:
            pick = None
        out.append(None if pick is None else pick[2] / px - 1)
    return out


_tie_case = st.tuples(
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 6), st.sampled_from([1.0, 2.0])), max_size=8),
    st.lists(
        st.tuples(st.sampled_from("ab"), st.integers(0, 12), st.sampled_from([1.0, 3.0, 7.0])), max_size=10
    ),
    st.integers(-3, 4),  # the horizon in tenths
    st.one_of(st.none(), st.integers(0, 3)),  # the tolerance in tenths
)


@given(
    case=_tie_case, direction=st.sampled_from(["backward", "forward", "nearest"]), allow_exact=st.booleans()
)
def test_ties_resolve_by_the_documented_rule_in_every_direction(case, direction, allow_exact):
    rows, ref, tenths, tolerance = case
    frame = pl.DataFrame([(s, k / 10, p) for s, k, p in rows], schema=SCHEMA, orient="row")
    quotes = pl.DataFrame([(s, k / 10, p) for s, k, p in ref], schema=SCHEMA, orient="row")
    tol = None if tolerance is None else Fraction(tolerance, 10)
    call = partial(
        vf.forward_return, frame, [tenths / 10], "px", "t", "symbol", reference=quotes,
        reference_price_col="px", direction=direction, allow_exact_matches=allow_exact,
        tolerance=None if tol is None else tolerance / 10,
    )  # fmt: skip
    if rows and ref and not {s for s, _, _ in rows} & {s for s, _, _ in ref}:
        with pytest.raises(DataError, match="occurs in the reference"):
            call()
        return
    h = Fraction(tenths, 10)
    want = _exact_lookup(rows, ref, h, direction=direction, allow_exact=allow_exact, tolerance=tol)
    got = call()[horizon_name(tenths / 10)].to_list()
    assert all(_close(a, b) for a, b in zip(got, want, strict=True)), (got, want)


@pytest.mark.parametrize(
    ("quotes", "want"),
    [
        ([0.2, 0.4], 1.0),  # 0.1 + 0.2 = 0.30000000000000004 is as far from 0.2 as from 0.4: backward
        ([0.3, 0.3], 2.0),  # two quotes at the target: the last, as backward
    ],
)
def test_regression_nearest_ties_are_not_decided_by_rounding(quotes, want):
    q = pl.DataFrame({"symbol": "A", "t": quotes, "px": [2.0, 3.0]})
    row = pl.DataFrame({"symbol": ["A"], "t": [0.1], "px": [1.0]})
    out = vf.forward_return(row, [0.2], "px", "t", reference=q, reference_price_col="px", direction="nearest")
    assert out["return_0.2"].to_list() == [want]


# --- prices given as expressions (for vf.book.microprice()) --------------------------------------


def test_price_expressions_are_evaluated_on_their_own_frame():
    quotes = pl.DataFrame(
        {
            "symbol": "A",
            "t": [0.0, 1.0, 2.0],
            "bid": [9.0, 10.0, 11.0],
            "ask": [11.0, 12.0, 13.0],
        }
    )
    trades = pl.DataFrame({"symbol": ["A", "A"], "t": [0.0, 1.0], "px": [5.0, 8.0]})
    mid = ((pl.col("bid") + pl.col("ask")) / 2).alias("mid_price")
    by_expr = vf.forward_return(trades, [1], "px", "t", reference=quotes, reference_price_col=mid)
    by_column = vf.forward_return(
        trades, [1], "px", "t", reference=quotes.with_columns(mid), reference_price_col="mid_price"
    )
    assert by_expr.equals(by_column)
    assert by_expr["return_1"].to_list() == [(11 - 5) / 5, (12 - 8) / 8]
    assert by_expr.columns == [*trades.columns, "return_1"]  # the evaluated price is not kept
    lazy = vf.forward_return(trades.lazy(), [1], "px", "t", reference=quotes.lazy(), reference_price_col=mid)
    assert lazy.collect().equals(by_expr)
    own = vf.forward_return(quotes, [1], mid, "t")  # the frame's own price as an expression
    assert own["return_1"].to_list() == [(11 - 10) / 10, (12 - 11) / 11, None]
    assert own.columns == [*quotes.columns, "return_1"]


def test_price_expressions_are_checked():
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 1.0], "bid": [9.0, 10.0], "name": ["x", "y"]})
    with pytest.raises(ColumnNotFoundError, match="ask"):
        vf.forward_return(quotes, [1], pl.col("bid") + pl.col("ask"), "t")
    with pytest.raises(SchemaError, match="expected a number"):
        vf.forward_return(quotes, [1], pl.col("name"), "t")
    with pytest.raises(VizflowError, match="one value, not one per row"):
        vf.forward_return(quotes, [1], pl.col("bid").mean(), "t")
    with pytest.raises(VizflowError, match="expected a column name or a Polars expression"):
        vf.forward_return(quotes, [1], "bid", "t", reference=quotes, reference_price_col=3)


# --- durations and wall-clock time (issue 22) -----------------------------------------------------


def test_durations_on_the_session_clock_are_seconds():
    quotes = pl.DataFrame({"symbol": "A", "elapsed_seconds": [0.0, 0.5, 5.0, 60.0, 5400.0], "mid": 1.0})
    quotes = quotes.with_columns(mid=pl.Series([1.0, 2.0, 4.0, 8.0, 16.0]))
    given = ["1m", "500ms", dt.timedelta(seconds=5), "1h30m"]
    out = vf.forward_return(quotes, given, "mid")
    numbers = vf.forward_return(quotes, [60, 0.5, 5, 5400], "mid")
    assert out.columns[-4:] == ["return_1m", "return_500ms", "return_5s", "return_1h30m"]
    assert (
        out.select(pl.all().exclude(quotes.columns)).rows()
        == numbers.select(pl.all().exclude(quotes.columns)).rows()
    )
    assert out["return_1m"][0] == 7.0  # 8 / 1 - 1: the quote one session minute later
    assert vf.forward_return(quotes, [1], "mid", tolerance="500ms").equals(
        vf.forward_return(quotes, [1], "mid", tolerance=0.5)
    )


def _wall_clock_reference(frame: pl.DataFrame, quotes: pl.DataFrame, horizon: dt.timedelta) -> list:
    """Plain Polars: join_asof on ts + horizon per key; null past the key's last quote."""
    valid = pl.col("symbol").is_not_null() & pl.col("ts").is_not_null()
    left = (
        frame.with_row_index("row")
        .filter(valid)
        .with_columns(target=(pl.col("ts") + horizon).cast(frame.schema["ts"]))
    )
    right = quotes.filter(valid).select("symbol", qt="ts", found="mid")
    last = right.group_by("symbol").agg(last=pl.col("qt").max())
    joined = (
        left.sort("target")
        .join_asof(
            right.sort("qt", maintain_order=True),
            left_on="target",
            right_on="qt",
            by="symbol",
            check_sortedness=False,
        )
        .join(last, on="symbol", how="left")
        .select("row", r=pl.when(pl.col("target") <= pl.col("last")).then(pl.col("found") / pl.col("px") - 1))
    )
    return (
        frame.with_row_index("row")
        .select("row")
        .join(joined, on="row", how="left")
        .sort("row")["r"]
        .to_list()
    )


_BASE = dt.datetime(2024, 1, 2, 23, 59, 50)  # the times run past midnight: the wall clock does not stop


@st.composite
def _stamped(draw, column: str, n_max: int = 10):
    n = draw(st.integers(0, n_max))
    offsets = draw(st.lists(st.one_of(st.none(), st.integers(0, 30)), min_size=n, max_size=n))
    return pl.DataFrame(
        {
            "symbol": pl.Series(draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))),
            "ts": [None if s is None else _BASE + dt.timedelta(milliseconds=500 * s) for s in offsets],
            column: pl.Series(draw(st.lists(st.sampled_from([1.0, 2.0, 4.0]), min_size=n, max_size=n))),
        },
        schema_overrides={"symbol": pl.String, "ts": pl.Datetime("us"), column: pl.Float64},
    )


@given(
    frame=_stamped("px"),
    quotes=_stamped("mid"),
    horizon=st.sampled_from(["1s", "2500ms", "-3s", dt.timedelta(seconds=4), "1m", "0s"]),
    unit=st.sampled_from(["ns", "us", "ms"]),
    zone=st.sampled_from([None, "UTC", "Asia/Shanghai"]),
)
def test_wall_clock_returns_match_a_polars_join_asof(frame, quotes, horizon, unit, zone):
    dtype = pl.Datetime(unit, zone)
    frame, quotes = (
        f.with_columns(pl.col("ts").dt.replace_time_zone(zone).cast(dtype)) for f in (frame, quotes)
    )
    shift = (
        horizon
        if isinstance(horizon, dt.timedelta)
        else dt.timedelta(microseconds=parse_duration(horizon) // 1000)
    )
    want = _wall_clock_reference(frame, quotes, shift)
    mine, theirs = ({s for s in f["symbol"].to_list() if s is not None} for f in (frame, quotes))
    call = partial(vf.forward_return, frame, [horizon], "px", "ts", reference=quotes)
    if mine and theirs and not mine & theirs:
        with pytest.raises(DataError, match="occurs in the reference"):
            call()
        return
    got = call()[horizon_name(horizon)].to_list()
    assert all(_close(a, b) for a, b in zip(got, want, strict=True)), (got, want)


def test_wall_clock_time_refuses_what_it_cannot_read():
    frame = pl.DataFrame({"symbol": "A", "ts": [_BASE, _BASE + dt.timedelta(seconds=1)], "mid": [1.0, 2.0]})
    assert vf.forward_return(frame, ["1s", 0], "mid", "ts")["return_1s"].to_list() == [1.0, None]
    with pytest.raises(VizflowError, match=r"horizon 5 is a number, but time column 'ts' is a date or time"):
        vf.forward_return(frame, [5], "mid", "ts")
    with pytest.raises(VizflowError, match=r"horizon 5 is a number, but time column 'ts'"):
        vf.forward_window(frame, [5], {"n": pl.len()}, "ts")
    with pytest.raises(VizflowError, match="tolerance 1 is a number"):
        vf.forward_return(frame, ["1s"], "mid", "ts", tolerance=1.0)
    with pytest.raises(VizflowError, match="returns_within='session' reads the session clock"):
        vf.forward_return(frame, ["1s"], "mid", "ts", returns_within="session", market=vf.CN)
    seconds = frame.with_columns(ts=pl.Series([0.0, 1.0]))
    with pytest.raises(
        SchemaError,
        match=r"'ts' is Datetime\(time_unit='us', time_zone=None\) but the reference's 'ts' is Float64",
    ):
        vf.forward_return(frame, ["1s"], "mid", "ts", reference=seconds)
    aware = frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
    with pytest.raises(SchemaError, match="same kind of time"):
        vf.forward_return(frame, ["1s"], "mid", "ts", reference=aware)
    with pytest.raises(VizflowError, match=r"horizon '1mo' is not a finite number, a duration"):
        vf.forward_return(frame, ["1mo"], "mid", "ts")


def test_a_date_time_column_takes_days():
    daily = pl.DataFrame(
        {
            "symbol": "A",
            "day": [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 5)],
            "close": [1.0, 2.0, 4.0],
        }
    )
    out = vf.forward_return(daily, ["1d", "2d"], "close", "day", date_col="trading_date")
    assert out.select("return_1d", "return_2d").rows() == [(1.0, 1.0), (0.0, 1.0), (None, None)]


def test_regression_time_units_of_both_sides_meet_in_the_finer_one():
    t0 = dt.datetime(2024, 1, 2, 9, 30)
    trades = pl.DataFrame(
        {"symbol": ["A"], "ts": [t0], "px": [1.0]}, schema_overrides={"ts": pl.Datetime("ms")}
    )
    quotes = pl.DataFrame(
        {"symbol": ["A", "A", "A"], "ts": [0, 1_500_000, 3_000_000], "mid": [1.0, 2.0, 3.0]}  # ns after t0
    ).with_columns(ts=pl.lit(t0).cast(pl.Datetime("ns")) + pl.duration(nanoseconds=pl.col("ts")))
    out = vf.forward_return(trades, ["1ms", "2ms"], "px", "ts", reference=quotes)
    assert out.select("return_1ms", "return_2ms").row(0) == (0.0, 1.0)  # 1.5 ms is not truncated to 1 ms


@pytest.mark.parametrize(
    "options",
    [{}, {"direction": "nearest"}, {"tolerance": 2}, {"allow_exact_matches": False}, {"log": True}],
    ids=["default", "nearest", "tolerance", "strict", "log"],
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", None]), times, prices), max_size=80),
    horizons=horizons_strategy,
    in_order=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_lookup_in_threads_equals_one_thread(options, rows, horizons, in_order, seed):
    """Runs of whole groups in three threads (the kernels release the GIL) give the same returns."""
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    df = df.sort("symbol", "t", nulls_last=True) if in_order else arrange(df, "shuffled", seed)
    quotes = df.rename({"px": "mid"}).sample(fraction=1.0, shuffle=True, seed=seed + 1)
    one = vf.forward_return(df, horizons, "px", "t", "symbol", reference=quotes, **options)
    with pytest.MonkeyPatch.context() as mp:
        force_threads(mp)
        three = vf.forward_return(df, horizons, "px", "t", "symbol", reference=quotes, **options)
        own = vf.forward_return(df, horizons, "px", "t", "symbol", **options)
    assert_frame_equal(three, one)
    assert_frame_equal(own, vf.forward_return(df, horizons, "px", "t", "symbol", **options))


# --- integer times: compared as integers, the same answers as float times ----------------------

int_times = st.one_of(st.integers(-5, 30), st.sampled_from([2**47 - 3, 2**47, 2**47 + 2]), st.none())
int_rows = st.lists(st.tuples(st.sampled_from(["a", "b"]), int_times, prices), max_size=30)
int_horizons = st.lists(st.sampled_from([0, 1, 2, 5, -3, 0.5, 2**47]), min_size=1, max_size=3, unique=True)


@given(rows=int_rows, source=int_rows, horizons=int_horizons, shuffled=st.booleans(), seed=st.integers(0, 99))
def test_integer_times_give_the_answers_of_float_times_bit_for_bit(rows, source, horizons, shuffled, seed):
    """Int64 times (read as integers when exact, without the float slack) = the same times as Float64.

    Times and horizons near 2**47 take the float path on one side or both; nulls take it too.
    """
    schema = {"symbol": pl.String, "t": pl.Int64, "px": pl.Float64}
    frame, quotes = (
        pl.DataFrame(rows, schema=schema, orient="row"),
        pl.DataFrame(source, schema=schema, orient="row"),
    )
    frame = frame.with_row_index("i")
    if shuffled:
        frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    floats = [pl.col("t").cast(pl.Float64)]
    for ref in (None, quotes):
        call = partial(vf.forward_return, horizons=horizons, price_col="px", time_col="t")
        kwargs = {} if ref is None else {"reference": ref, "reference_price_col": "px"}
        if ref is not None and quotes.get_column("symbol").drop_nulls().is_in(frame["symbol"]).sum() == 0:
            continue  # a reference sharing no key is refused, in both paths
        got = call(frame, **kwargs)
        float_ref = {} if ref is None else {"reference": ref.with_columns(floats)}
        expected = call(frame.with_columns(floats), **{**kwargs, **float_ref})
        for h in horizons:
            name = horizon_name(h)
            a, b = got[name].to_numpy(), expected[name].to_numpy()
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), (h, a, b)


def test_integer_times_are_read_as_integers_when_exact():
    frame = pl.DataFrame({"t": [3, 1, 2**47]})
    assert vf.ops._lookup.read_times(frame, "t", integer=True).dtype == np.int64
    assert vf.ops._lookup.read_times(frame, "t").dtype == np.float64  # forward_window's reading
    beyond = pl.DataFrame({"t": [3, 2**47 + 1]})
    assert vf.ops._lookup.read_times(beyond, "t", integer=True).dtype == np.float64
    with_null = pl.DataFrame({"t": [3, None]})
    assert vf.ops._lookup.read_times(with_null, "t", integer=True).dtype == np.float64


def test_forward_levels_refuses_names_of_the_wrong_shape_or_taken():
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 10.0], "bid": [9.0, 9.5], "ask": [11.0, 10.5]})
    trades = pl.DataFrame({"symbol": "A", "t": [5.0]})
    levels = partial(vf.ops.forward.forward_levels, trades, [0, 5], quotes, ["bid", "ask"], time_col="t")
    with pytest.raises(VizflowError, match="one row per horizon"):
        levels([["b", "a"]])
    with pytest.raises(VizflowError, match="one row per horizon"):
        levels([["b", "a"], ["b5"]])
    with pytest.raises(VizflowError, match="distinct non-empty names"):
        levels([["b", "a"], ["b", None]])
    with pytest.raises(VizflowError, match="already exist"):
        levels([["t", None], [None, "a5"]])
    with pytest.raises(ColumnNotFoundError, match="'bid_size'"):
        vf.ops.forward.forward_levels(trades, [0], quotes, ["bid_size"], [["x"]], time_col="t")
    got = levels([[None, "ask"], ["bid_5", "ask_5"]])
    assert got.columns == ["symbol", "t", "ask", "bid_5", "ask_5"]
    assert got.row(0) == ("A", 5.0, 11.0, 9.5, 10.5)


@given(
    a=st.lists(st.integers(-3, 6), max_size=15),
    b=st.lists(st.integers(-3, 6), max_size=15),
    sort_a=st.booleans(),
    sort_b=st.booleans(),
)
def test_sorted_integer_keys_of_both_sides_get_key_codes_codes_by_a_merge(a, b, sort_a, sort_b):
    """The merge coding of two Int64 keys = key_codes(nulls="drop"); unsorted sides fall back (None)."""
    left = pl.DataFrame({"s": sorted(a) if sort_a else a}, schema={"s": pl.Int64})
    right = pl.DataFrame({"r": sorted(b) if sort_b else b}, schema={"r": pl.Int64})
    merged = vf.ops._lookup._sorted_int_codes(left, right, "s", "r")
    in_order = left["s"].is_sorted() and right["r"].is_sorted()
    assert (merged is not None) == in_order
    if merged is not None:
        codes, k = merged
        want, want_k = vf._grouping.key_codes([left, right], [["s"], ["r"]], nulls="drop")
        assert [c.tolist() for c in codes] == [w.tolist() for w in want]
        assert k == want_k or (not a and not b)


def test_forward_levels_finish_makes_its_columns_from_the_levels_in_the_node():
    """A Finish finds the levels in the block's first rows and overwrites the block with its columns."""
    quotes = pl.DataFrame({"symbol": "A", "t": [0.0, 10.0], "bid": [9.0, 9.5], "ask": [11.0, 10.5]})
    trades = pl.DataFrame({"symbol": ["A", "A", "B"], "t": [5.0, 7.0, 1.0], "size": [2.0, 3.0, 4.0]})
    seen = []

    def widths(frame: pl.DataFrame, block: np.ndarray) -> None:
        seen.append(frame.columns)
        bid_now, ask_now, ask_later = block[0].copy(), block[1].copy(), block[2].copy()  # names' order
        block[0] = (ask_now - bid_now) * frame["size"].to_numpy()
        block[1] = ask_later - ask_now
        block[2] = np.nan  # a null
        block[3] = bid_now  # a row past the levels

    def finish(names=("w", "move", "none", "bid"), reads=("size",)):
        return vf.ops.forward.Finish(names=names, reads=reads, compute=widths)

    names = [["b", "a"], [None, "a5"]]
    levels = partial(vf.ops.forward.forward_levels, time_col="t")
    lazy = levels(trades.lazy(), [0, 5], quotes, ["bid", "ask"], names, finish=finish())
    assert seen == []  # nothing runs before collect()
    got = lazy.collect()
    assert "size" in seen[0]
    assert got.columns == ["symbol", "t", "size", "w", "move", "none", "bid"]
    # t = 5: bid 9, ask 11 at t, ask 10.5 at t + 5; t = 7: no quote yet at t + 5 = 12 (past the
    # last one, forward_return's rule); symbol B has no quote at all.
    assert got["w"].to_list() == [4.0, 6.0, None]
    assert got["move"].to_list() == [-0.5, None, None]
    assert got["none"].null_count() == 3
    assert got["bid"].to_list() == [9.0, 9.0, None]
    short, taken, unknown = (
        finish(names=("w", "move")),
        finish(names=("size", "a", "b")),
        finish(reads=("qty",)),
    )
    with pytest.raises(VizflowError, match="one at least per level"):
        levels(trades, [0, 5], quotes, ["bid", "ask"], names, finish=short)
    with pytest.raises(VizflowError, match="already exist"):
        levels(trades, [0, 5], quotes, ["bid", "ask"], names, finish=taken)
    with pytest.raises(ColumnNotFoundError, match="'qty'"):
        levels(trades, [0, 5], quotes, ["bid", "ask"], names, finish=unknown)
