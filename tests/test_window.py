"""``forward_window`` against a brute-force loop that asks Polars for each window's aggregate."""

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
from tests.key_dtypes import MIXED_PAIRS, SAME_PAIRS, key_series, picks
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError
from vizflow.kernels.window import prefix_sums_nb, window_bounds_nb, window_extreme_nb

AGGS = {
    "n": pl.len(),
    "volume": pl.col("qty").sum(),
    "notional": pl.col("price").sum(),
    "priced": pl.col("price").count(),
    "mean": pl.col("price").mean(),
    "high": pl.col("price").max(),
    "low": pl.col("qty").min(),
    "vwap": (pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum(),
    "range": pl.col("price").max() - pl.col("price").min() + 1,
    "median": pl.col("price").median(),  # the general path
    "first": pl.col("qty").first(),  # the general path: first by time
}


def brute_force(
    frame: pl.DataFrame, ref: pl.DataFrame, horizons, aggs, keys, *, ref_keys=None, time=None, ref_time=None
):
    """Per row and horizon: filter the reference rows by hand, then let Polars aggregate them."""
    ref_keys, time = ref_keys or keys, time or "elapsed_seconds"
    ref_time = ref_time or time
    ordered = ref.with_row_index("__i").sort(ref_time, maintain_order=True, nulls_last=True)
    expected: dict[str, list] = {f"{name}_{h:g}": [] for name in aggs for h in horizons}
    for row in frame.iter_rows(named=True):
        t = row[time]
        key = [row[k] for k in keys]
        for h in horizons:
            if t is None or math.isnan(t) or any(v is None for v in key):
                for name in aggs:
                    expected[f"{name}_{h:g}"].append(None)
                continue
            same = [r for r in ordered.iter_rows(named=True) if [r[k] for k in ref_keys] == key]
            lo, hi = (t, t + h) if h > 0 else (t + h, t)
            inside = [
                r["__i"]
                for r in same
                if r[ref_time] is not None
                and not math.isnan(r[ref_time])
                and ((lo < r[ref_time] <= hi) if h > 0 else (lo <= r[ref_time] < hi))
            ]
            window = ordered.filter(pl.col("__i").is_in(inside)) if inside else ordered.head(0)
            values = window.select(**aggs).row(0)
            for name, value in zip(aggs, values, strict=True):
                expected[f"{name}_{h:g}"].append(value)
    return expected


def assert_same(out: pl.DataFrame, expected: dict) -> None:
    for name, want in expected.items():
        got = out.get_column(name).to_list()
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            if isinstance(b, float) and isinstance(a, float):
                same = (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9)
            else:
                same = a == b
            assert same, (name, i, a, b)


prices = st.one_of(st.none(), st.sampled_from([10.0, 10.5, 11.0, 9.5, 12.25]), st.just(float("nan")))
times = st.one_of(st.none(), st.integers(0, 20).map(lambda v: v / 2))  # exact binary halves: ties
horizon_lists = st.lists(
    st.sampled_from([-7.5, -2, -0.5, 0.5, 1, 3, 10]), min_size=1, max_size=3, unique=True
)


@st.composite
def frames(draw, key_dtype=None, n_max: int = 14):
    n = draw(st.integers(0, n_max))
    dtype = key_dtype or draw(st.sampled_from([pl.Int64, pl.String, pl.Categorical]))
    raw = draw(st.lists(st.one_of(st.none(), st.sampled_from([3, 10, 9])), min_size=n, max_size=n))
    symbol = pl.Series("symbol", raw, dtype=pl.Int64)
    if dtype != pl.Int64:
        symbol = symbol.cast(pl.String).cast(dtype)
    return pl.DataFrame(
        {
            "symbol": symbol,
            "elapsed_seconds": pl.Series(draw(st.lists(times, min_size=n, max_size=n)), dtype=pl.Float64),
            "price": pl.Series(draw(st.lists(prices, min_size=n, max_size=n)), dtype=pl.Float64),
            "qty": pl.Series(
                draw(st.lists(st.one_of(st.none(), st.integers(1, 500)), min_size=n, max_size=n)),
                dtype=pl.Int64,
            ),
        }
    )


@given(frames(), horizon_lists)
def test_own_rows_equal_brute_force(frame, horizons):
    """Ties, nulls (keys, times, values), NaN prices, negative horizons, three key dtypes."""
    out = vf.forward_window(frame, horizons, AGGS)
    assert out.height == frame.height
    assert out.select(frame.columns).equals(frame)
    expected = brute_force(frame, frame, horizons, AGGS, ["symbol"])
    assert_same(out, expected)


@given(
    st.sampled_from([pl.Int64, pl.String, pl.Categorical]).flatmap(lambda d: st.tuples(frames(d), frames(d))),
    horizon_lists,
)
def test_reference_frame_equals_brute_force(pair, horizons):
    frame, ref = pair
    ref = ref.rename({"elapsed_seconds": "t", "symbol": "sym"})
    out = vf.forward_window(
        frame.select("symbol", "elapsed_seconds"),
        horizons,
        AGGS,
        reference=ref,
        reference_time_col="t",
        reference_symbol_col="sym",
    )
    expected = brute_force(frame, ref, horizons, AGGS, ["symbol"], ref_keys=["sym"], ref_time="t")
    assert_same(out, expected)


@given(frames(pl.Int64), st.lists(st.sampled_from(["x", "y"]), min_size=14, max_size=14), horizon_lists)
def test_two_key_columns_equal_brute_force(frame, desk, horizons):
    frame = frame.with_columns(desk=pl.Series(desk[: frame.height], dtype=pl.String))
    keys = ["desk", "symbol"]
    out = vf.forward_window(frame, horizons, AGGS, symbol_col=keys)
    assert_same(out, brute_force(frame, frame, horizons, AGGS, keys))


@given(frames(), horizon_lists, st.randoms(use_true_random=False))
def test_shuffled_rows_give_the_same_rows(frame, horizons, rnd):
    """Every aggregate but ``first``, which rightly depends on the input order of tied times."""
    aggs = {k: v for k, v in AGGS.items() if k != "first"}
    order = list(range(frame.height))
    rnd.shuffle(order)
    shuffled = frame[order]
    a = vf.forward_window(frame, horizons, aggs)[order]
    b = vf.forward_window(shuffled, horizons, aggs)
    assert_same(b, {c: a.get_column(c).to_list() for c in a.columns if c not in frame.columns})


@given(frames(), horizon_lists, st.randoms(use_true_random=False), st.integers(1, 4))
def test_many_chunk_shuffled_input_equals_brute_force(frame, horizons, rnd, n_chunks):
    """A shuffled frame held in several chunks (as a scan or a concat gives it) is gathered right."""
    order = list(range(frame.height))
    rnd.shuffle(order)
    shuffled = frame[order]
    step = max(1, -(-frame.height // n_chunks))
    chunks = [shuffled.slice(i, step) for i in range(0, frame.height, step)] or [shuffled]
    chunked = pl.concat(chunks, rechunk=False)
    out = vf.forward_window(chunked, horizons, AGGS)
    assert_same(out, brute_force(chunked, chunked, horizons, AGGS, ["symbol"]))


@given(
    st.sampled_from([pl.Int64, pl.String]).flatmap(lambda d: st.tuples(frames(d, n_max=20), frames(d))),
    horizon_lists,
)
def test_threaded_runs_of_groups_equal_brute_force(pair, horizons):
    """The window passes on runs of whole groups in three threads, however small the frame."""
    frame, ref = pair
    with pytest.MonkeyPatch.context() as mp:
        force_threads(mp)
        own = vf.forward_window(frame, horizons, AGGS)
        other = vf.forward_window(frame.select("symbol", "elapsed_seconds"), horizons, AGGS, reference=ref)
    assert_same(own, brute_force(frame, frame, horizons, AGGS, ["symbol"]))
    assert_same(other, brute_force(frame, ref, horizons, AGGS, ["symbol"]))


@given(frames(), horizon_lists)
def test_lazy_equals_eager(frame, horizons):
    eager = vf.forward_window(frame, horizons, AGGS)
    lazy = vf.forward_window(frame.lazy(), horizons, AGGS)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect_schema() == eager.schema
    assert_same(lazy.collect(), {c: eager.get_column(c).to_list() for c in eager.columns})


def test_window_edges_and_dtypes_by_hand():
    """(t, t + h] after, [t + h, t) before; the row's own time and its ties are outside both."""
    df = pl.DataFrame(
        {"symbol": ["A"] * 5, "elapsed_seconds": [0.0, 1.0, 1.0, 2.0, 4.0], "qty": [1, 2, 4, 8, 16]}
    )
    out = vf.forward_window(
        df, [1, -1, 3], {"v": pl.col("qty").sum(), "n": pl.len(), "hi": pl.col("qty").max()}
    )
    assert out.get_column("v_1").to_list() == [6, 8, 8, 0, 0]
    assert out.get_column("v_-1").to_list() == [0, 1, 1, 6, 0]
    assert out.get_column("v_3").to_list() == [14, 24, 24, 16, 0]
    assert out.get_column("hi_3").to_list() == [8, 16, 16, 16, None]
    assert out.schema["v_1"] == pl.Int64
    assert out.schema["n_1"] == pl.UInt32
    assert out.schema["hi_1"] == pl.Int64


def test_decimal_far_edge_is_reached():
    """0.7 + 0.1 < 0.8 in binary, yet a row at 0.8 is inside the 0.1 s window of 0.7 (as forward_return)."""
    df = pl.DataFrame({"symbol": ["A", "A"], "elapsed_seconds": [0.7, 0.8], "qty": [1, 2]})
    assert vf.forward_window(df, [0.1], {"v": pl.col("qty").sum()}).get_column("v_0.1").to_list() == [2, 0]


def test_float_sums_stay_accurate_far_from_the_origin():
    """The prefix sums are double-doubles: a small window after a huge running total keeps its digits."""
    df = pl.DataFrame(
        {"symbol": ["A"] * 4, "elapsed_seconds": [0.0, 1.0, 2.0, 3.0], "x": [1e17, 0.1, 0.2, 0.3]}
    )
    out = vf.forward_window(df, [1], {"s": pl.col("x").sum()})
    assert out.get_column("s_1").to_list() == pytest.approx([0.1, 0.2, 0.3, 0.0], rel=1e-15)


def test_non_finite_values_spoil_only_their_windows():
    df = pl.DataFrame(
        {
            "symbol": ["A"] * 5,
            "elapsed_seconds": [0.0, 1.0, 2.0, 3.0, 4.0],
            "x": [1.0, np.inf, -np.inf, 1.0, 2.0],
        }
    )
    out = vf.forward_window(df, [1, 2], {"s": pl.col("x").sum()})
    assert out.get_column("s_1").to_list() == [np.inf, -np.inf, 1.0, 2.0, 0.0]
    assert out.get_column("s_2").to_list()[1:] == [-np.inf, 3.0, 2.0, 0.0]
    assert math.isnan(out.get_column("s_2")[0])  # inf + -inf


def test_real_sample_volume_and_vwap_match_a_join_and_group_by():
    """On the shipped trades: 10 s ahead and 10 s behind, against Polars' own join + group_by."""
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN).filter(pl.col("date") == "20230201")
    aggs = {
        "volume": pl.col("qty").sum(),
        "vwap": (pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum(),
    }
    out = vf.forward_window(trades, [10, -10], aggs, symbol_col=["date", "symbol"])
    probe = trades.with_row_index("row").gather_every(500)
    joined = probe.join(trades, on="symbol", suffix="_r")
    for h in (10, -10):
        inside = (
            (pl.col("elapsed_seconds_r") > pl.col("elapsed_seconds"))
            & (pl.col("elapsed_seconds_r") <= pl.col("elapsed_seconds") + h)
            if h > 0
            else (pl.col("elapsed_seconds_r") >= pl.col("elapsed_seconds") + h)
            & (pl.col("elapsed_seconds_r") < pl.col("elapsed_seconds"))
        )
        want = (
            joined.filter(inside)
            .group_by("row")
            .agg(
                v=pl.col("qty_r").sum(), w=(pl.col("price_r") * pl.col("qty_r")).sum() / pl.col("qty_r").sum()
            )
        )
        got = out[probe.get_column("row").to_list()].with_columns(row=probe.get_column("row"))
        check = got.join(want, on="row", how="left").with_columns(pl.col("v").fill_null(0))
        assert check.get_column(f"volume_{h}").to_list() == check.get_column("v").to_list()
        both = check.filter(pl.col("v") > 0)
        assert np.allclose(
            both.get_column(f"vwap_{h}").to_numpy(), both.get_column("w").to_numpy(), rtol=1e-12
        )


def test_a_multi_date_frame_keyed_by_symbol_alone_is_refused():
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN)
    with pytest.raises(DataError, match=r"forward_window: column 'date' holds 3 dates"):
        vf.forward_window(trades, [10], {"n": pl.len()})


def test_regression_time_errors_name_forward_window():
    """Errors raised by the sort and time helpers shared with forward_return said "forward_return"."""
    big = pl.DataFrame({"symbol": ["A", "A"], "ns": [1_700_000_000_000_000_000, 1_700_000_000_000_000_001]})
    with pytest.raises(DataError, match=r"^forward_window: time column 'ns' holds integers up to"):
        vf.forward_window(big, [1], {"n": pl.len()}, time_col="ns")
    ok = big.with_columns(ns=pl.Series([0, 1]))
    with pytest.raises(DataError, match=r"^forward_window \(reference\): time column 'ns' holds integers"):
        vf.forward_window(ok, [1], {"n": pl.len()}, time_col="ns", reference=big)


@pytest.mark.parametrize(
    ("horizons", "match"),
    [
        ([], "horizons is empty"),
        ([0], "non-zero"),
        ([1, 1.0], "duplicate"),
        ([math.inf], "finite"),
        ([True], "True"),
    ],
)
def test_bad_horizons(horizons, match):
    df = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0]})
    with pytest.raises(VizflowError, match=match):
        vf.forward_window(df, horizons, {"n": pl.len()})


def test_bad_aggregates_are_refused_clearly():
    df = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0], "qty": [1], "side": ["B"]})
    with pytest.raises(VizflowError, match="non-empty dict"):
        vf.forward_window(df, [1], {})
    with pytest.raises(ColumnNotFoundError, match="prize"):
        vf.forward_window(df, [1], {"p": pl.col("prize").sum()})
    with pytest.raises(VizflowError, match="one value per row"):
        vf.forward_window(df, [1], {"q": pl.col("qty") * 2})
    with pytest.raises(SchemaError, match="'s'"):
        vf.forward_window(df, [1], {"s": pl.col("side").sum() + 1})
    with pytest.raises(VizflowError, match=r"\['qty_1'\] already exist"):
        vf.forward_window(df.with_columns(qty_1=1), [1], {"qty": pl.col("qty").sum()})


def test_time_must_be_numeric_and_key_kinds_must_match():
    df = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": ["0"]})
    with pytest.raises(SchemaError, match="time column 'elapsed_seconds' has dtype String"):
        vf.forward_window(df, [1], {"n": pl.len()})
    ok = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0]})
    with pytest.raises(SchemaError, match="symbol column 'symbol' is String"):
        vf.forward_window(ok, [1], {"n": pl.len()}, reference=ok.with_columns(symbol=pl.lit(1)))


def test_empty_frame_keeps_the_schema():
    df = pl.DataFrame(schema={"symbol": pl.String, "elapsed_seconds": pl.Float64, "qty": pl.Int64})
    out = vf.forward_window(df, [1, -1], {"v": pl.col("qty").sum(), "n": pl.len()})
    assert out.schema == pl.Schema(
        {**df.schema, "v_1": pl.Int64, "v_-1": pl.Int64, "n_1": pl.UInt32, "n_-1": pl.UInt32}
    )


# --- the kernels, directly ------------------------------------------------------------------------


@given(
    st.lists(st.integers(0, 12).map(float), max_size=25).map(sorted),
    st.lists(st.integers(0, 12).map(float), max_size=25).map(sorted),
    st.sampled_from([-3.0, -1.0, 1.0, 2.5]),
)
def test_kernel_bounds_and_extremes_equal_a_loop(queries, source, h):
    q, s = np.array(queries), np.array(source)
    lo, hi = np.zeros(q.size, dtype=np.int64), np.zeros(q.size, dtype=np.int64)
    window_bounds_nb(np.array([0, q.size]), q, np.array([0, s.size]), s, h, 0.0, lo, hi)
    for i, t in enumerate(q):
        inside = [j for j, x in enumerate(s) if ((t < x <= t + h) if h > 0 else (t + h <= x < t))]
        assert list(range(lo[i], hi[i])) == inside
    values = np.arange(s.size, dtype=np.float64)[::-1].copy()
    out, found = np.zeros(q.size), np.zeros(q.size, dtype=np.bool_)
    window_extreme_nb(
        np.array([0, q.size]), lo, hi, values, np.ones(s.size, dtype=np.bool_), True, out, found
    )
    for i in range(q.size):
        assert found[i] == (hi[i] > lo[i])
        if found[i]:
            assert out[i] == values[lo[i] : hi[i]].max()


def test_kernel_extreme_survives_a_window_that_steps_back():
    values = np.array([5.0, 1.0, 3.0])
    out, found = np.zeros(2), np.zeros(2, dtype=np.bool_)
    window_extreme_nb(
        np.array([0, 2]), np.array([1, 0]), np.array([3, 1]), values, np.ones(3, np.bool_), True, out, found
    )
    assert out.tolist() == [3.0, 5.0]


def test_kernel_prefix_sums_count_non_finite_values_apart():
    values = np.array([1.0, np.nan, 2.0, np.inf])
    n = values.size + 1
    hi, lo = np.empty(n), np.empty(n)
    count, nan, pos, neg = (np.empty(n, dtype=np.int64) for _ in range(4))
    prefix_sums_nb(values, np.array([True, True, False, True]), hi, lo, count, nan, pos, neg)
    assert (hi + lo).tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert count.tolist() == [0, 1, 2, 2, 3]
    assert nan.tolist() == [0, 0, 1, 1, 1]
    assert pos.tolist() == [0, 0, 0, 0, 1]


# --- issue 21: keys of every dtype, empty keys, pl.len() alone ----------------------------------


@st.composite
def _keyed_frames(draw):
    mine, theirs, _ = draw(st.sampled_from(SAME_PAIRS + MIXED_PAIRS))
    sides = []
    for dtype_name in (mine, theirs):
        n = draw(st.integers(0, 10))
        sides.append(
            pl.DataFrame(
                {
                    "symbol": key_series("symbol", draw(st.lists(picks, min_size=n, max_size=n)), dtype_name),
                    "elapsed_seconds": pl.Series(
                        draw(st.lists(times, min_size=n, max_size=n)), dtype=pl.Float64
                    ),
                    "qty": pl.Series(
                        draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=pl.Int64
                    ),
                }
            )
        )
    return sides


@given(_keyed_frames(), horizon_lists)
def test_keys_of_every_dtype_equal_brute_force(pair, horizons):
    frame, ref = pair
    aggs = {"n": pl.len(), "volume": pl.col("qty").sum()}
    out = vf.forward_window(frame.select("symbol", "elapsed_seconds"), horizons, aggs, reference=ref)
    assert_same(out, brute_force(frame, ref, horizons, aggs, ["symbol"]))


@pytest.mark.parametrize(
    "arrangement",
    ["interleaved strings", "categorical", "times out of order", "nan time", "reference out of order"],
)
def test_regression_len_alone_on_rows_that_must_be_sorted(arrangement):
    frame = pl.DataFrame({"symbol": ["b", "a", "b", "a"], "elapsed_seconds": [0.0, 0.0, 1.0, 1.0]})
    ref = None
    if arrangement == "categorical":
        frame = frame.with_columns(pl.col("symbol").cast(pl.Categorical))
    elif arrangement == "times out of order":
        frame = frame.reverse()
    elif arrangement == "nan time":
        frame = frame.with_columns(elapsed_seconds=pl.Series([float("nan"), 0.0, 1.0, 1.0]))
    elif arrangement == "reference out of order":
        ref = frame.reverse()
    out = vf.forward_window(frame, [1, -1], {"n": pl.len()}, reference=ref)
    want = brute_force(frame, frame if ref is None else ref, [1, -1], {"n": pl.len()}, ["symbol"])
    assert_same(out, want)


def test_regression_empty_key_list_is_one_group():
    frame = pl.DataFrame({"elapsed_seconds": [0.0, 1.0, 2.0], "qty": [1, 2, 4]})
    out = vf.forward_window(frame, [1, 5], {"n": pl.len(), "volume": pl.col("qty").sum()}, symbol_col=[])
    assert out.select("n_1", "n_5", "volume_1", "volume_5").rows() == [
        (1, 2, 2, 6),
        (1, 1, 4, 4),
        (0, 0, 0, 0),
    ]


# --- durations and wall-clock time (issue 22) -----------------------------------------------------

_BASE = dt.datetime(2024, 1, 2, 23, 59, 50)  # past midnight: the wall clock does not stop


@st.composite
def _stamped_trades(draw, n_max: int = 14):
    n = draw(st.integers(0, n_max))
    offsets = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))  # half seconds: ties
    return pl.DataFrame(
        {
            "symbol": pl.Series(draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))),
            "ts": [_BASE + dt.timedelta(milliseconds=500 * s) for s in offsets],
            "qty": pl.Series(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=pl.Int64),
        },
        schema_overrides={"symbol": pl.String, "ts": pl.Datetime("us")},
    )


@given(
    trades=_stamped_trades(),
    period=st.sampled_from(["1s", "2500ms", "5s", "1m"]),
    before=st.booleans(),
    unit=st.sampled_from(["ns", "us", "ms"]),
    zone=st.sampled_from([None, "UTC", "Asia/Shanghai"]),
)
def test_wall_clock_windows_match_polars_rolling(trades, period, before, unit, zone):
    trades = trades.with_columns(pl.col("ts").dt.replace_time_zone(zone).dt.cast_time_unit(unit))
    horizon = f"-{period}" if before else period
    aggs = {"n": pl.len(), "volume": pl.col("qty").sum(), "high": pl.col("qty").max()}
    out = vf.forward_window(trades, [horizon], aggs, "ts")
    # Polars rolling: (t, t + p] is offset 0, closed right; [t - p, t) is offset -p, closed left.
    offset, closed = (f"-{period}", "left") if before else ("0s", "right")
    roll = {"index_column": "ts", "period": period, "offset": offset, "closed": closed}
    want = (
        trades.with_row_index("row")
        .sort("symbol", "ts", maintain_order=True)
        .with_columns(
            n=pl.len().rolling(**roll).over("symbol"),
            volume=pl.col("qty").sum().rolling(**roll).over("symbol"),
            high=pl.col("qty").max().rolling(**roll).over("symbol"),
        )
        .sort("row")
    )
    for name in aggs:
        got = out[f"{name}_{horizon}"].to_list()
        expected = want[name].to_list()
        assert got == expected, (name, got, expected)


def test_window_horizons_as_durations_on_the_session_clock():
    trades = pl.DataFrame(
        {"symbol": "A", "elapsed_seconds": [0.0, 0.5, 30.0, 60.0, 61.0], "qty": [1, 2, 4, 8, 16]}
    )
    out = vf.forward_window(
        trades, ["1m", dt.timedelta(milliseconds=500), "close"], {"v": pl.col("qty").sum()}
    )
    assert out.columns[-3:] == ["v_1m", "v_500ms", "v_close"]
    assert (
        out["v_1m"].to_list() == vf.forward_window(trades, [60], {"v": pl.col("qty").sum()})["v_60"].to_list()
    )
    assert out["v_500ms"].to_list() == [2, 0, 0, 0, 0]
    assert out["v_close"].to_list() == [30, 28, 24, 16, 0]  # (t, the key's last row]
