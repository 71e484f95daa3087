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
from vizflow.kernels.window import prefix_sums_nb

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


def shares_no_key(
    frame: pl.DataFrame, ref: pl.DataFrame, keys: list[str], ref_keys: list[str] | None = None
) -> bool:
    """Both sides hold non-null keys and none in common: refused, as forward_return refuses it."""
    ref_keys = keys if ref_keys is None else ref_keys
    mine = frame.select(keys).drop_nulls().unique().with_columns(side=pl.lit(0))
    theirs = ref.select([pl.col(r).alias(k) for r, k in zip(ref_keys, keys, strict=True)])
    theirs = theirs.drop_nulls().unique().with_columns(side=pl.lit(1))
    if mine.height == 0 or theirs.height == 0:
        return False
    both = pl.concat([mine, theirs], how="vertical_relaxed").group_by(keys).agg(pl.col("side").n_unique())
    return both.filter(pl.col("side") == 2).height == 0


def refused_for_sharing_no_key(call) -> None:
    with pytest.raises(DataError, match="no key of the frame"):
        call()


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

    def call() -> pl.DataFrame:
        return vf.forward_window(
            frame.select("symbol", "elapsed_seconds"),
            horizons,
            AGGS,
            reference=ref,
            reference_time_col="t",
            reference_symbol_col="sym",
        )

    if shares_no_key(frame, ref, ["symbol"], ["sym"]):
        refused_for_sharing_no_key(call)
        return
    out = call()
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
        assert_same(own, brute_force(frame, frame, horizons, AGGS, ["symbol"]))
        call = lambda: vf.forward_window(  # noqa: E731
            frame.select("symbol", "elapsed_seconds"), horizons, AGGS, reference=ref
        )
        if shares_no_key(frame, ref, ["symbol"]):
            refused_for_sharing_no_key(call)
            return
        other = call()
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
        ([1, 1.0], "duplicate"),
        ([math.inf], "finite"),
        ([True], "True"),
    ],
)
def test_bad_horizons(horizons, match):
    df = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0]})
    with pytest.raises(VizflowError, match=match):
        vf.forward_window(df, horizons, {"n": pl.len()})


def test_regression_a_zero_horizon_is_taken_as_forward_return_takes_it():
    # forward_return took 0 (the price at t) and forward_window refused it: one rule for both.
    # 0 is the empty window (t, t]; with prevailing=True it holds the row in force at t, whose
    # price is the one forward_return reads at 0 (ties at t: the last row).
    quotes = pl.DataFrame(
        {"symbol": ["a"] * 4 + ["b"], "t": [0.0, 1.0, 1.0, 3.0, 0.0], "mid": [1.0, 2.0, 3.0, 4.0, 9.0]}
    )
    trades = pl.DataFrame(
        {"symbol": ["a", "a", "a", "b", "c"], "t": [0.5, 1.0, 2.5, 0.0, 1.0], "p": [1.0] * 5}
    )
    aggs = {"n": pl.len(), "last": pl.col("mid").last()}
    plain = vf.forward_window(trades, [0], aggs, "t", "symbol", reference=quotes)
    assert plain["n_0"].to_list() == [0] * 5
    prevailing = vf.forward_window(trades, [0], aggs, "t", "symbol", reference=quotes, prevailing=True)
    assert prevailing["n_0"].to_list() == [1, 1, 1, 1, 0]
    assert prevailing["last_0"].to_list() == [1.0, 3.0, 3.0, 9.0, None]
    at_t = vf.forward_return(trades, [0], "p", "t", "symbol", reference=quotes, reference_price_col="mid")
    assert (at_t["return_0"] + 1).to_list() == prevailing["last_0"].to_list()


def test_regression_a_reference_sharing_no_key_is_refused_as_forward_return_refuses_it():
    # forward_return raised and forward_window returned empty windows for every row: one rule.
    trades = pl.DataFrame({"symbol": ["600519", "600519"], "elapsed_seconds": [0.0, 1.0], "p": [1.0, 2.0]})
    quotes = pl.DataFrame({"symbol": ["600519.SH"], "elapsed_seconds": [0.5], "mid": [1.0]})
    with pytest.raises(DataError, match=r"forward_window: no key of the frame.*'600519'.*'600519\.SH'"):
        vf.forward_window(trades, [1], {"n": pl.len()}, reference=quotes)
    with pytest.raises(DataError, match=r"forward_return: no key of the frame.*'600519'.*'600519\.SH'"):
        vf.forward_return(trades, [1], "p", reference=quotes, reference_price_col="mid")
    # Keys that agree are looked up: the quote at 0.5 lies in (0, 1] of the first trade only.
    agreed = quotes.with_columns(symbol=pl.lit("600519"))
    assert vf.forward_window(trades, [1], {"n": pl.len()}, reference=agreed)["n_1"].to_list() == [1, 0]


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
    call = lambda: vf.forward_window(frame.select("symbol", "elapsed_seconds"), horizons, aggs, reference=ref)  # noqa: E731
    if shares_no_key(frame, ref, ["symbol"]):
        refused_for_sharing_no_key(call)
        return
    assert_same(call(), brute_force(frame, ref, horizons, aggs, ["symbol"]))


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


# --- issue 24 part 3: pairs (t + a, t + b], the prevailing row, time-weighted means ------------

WINDOWS = st.lists(
    st.one_of(
        st.sampled_from([-7.5, -2, -0.5, 0.5, 1, 3, 10]),
        st.tuples(st.sampled_from([-7.5, -2, -0.5, 0, 1]), st.sampled_from([-1, 0, 0.5, 2, 3])).filter(
            lambda p: p[0] < p[1]
        ),
    ),
    min_size=1,
    max_size=3,
    unique=True,
)
PAIR_AGGS = {
    "n": pl.len(),
    "volume": pl.col("qty").sum(),
    "mean": pl.col("price").mean(),
    "low": pl.col("qty").min(),
    "last": pl.col("qty").last(),  # the general path: last by time (the prevailing row if alone)
    "twap": vf.time_weighted("price"),
    "twq": vf.time_weighted(pl.col("qty") * 2),
}


def _suffix(window) -> str:
    return "_".join(f"{v:g}" for v in window) if isinstance(window, tuple) else f"{window:g}"


def _edges(window, t: float) -> tuple[float, float, bool]:
    """The window's start and end times, and whether a row at the start is inside it."""
    if isinstance(window, tuple):
        return t + window[0], t + window[1], False
    return (t, t + window, False) if window > 0 else (t + window, t, True)


def _inside(s: float, lo: float, hi: float, closed_start: bool) -> bool:
    return lo <= s < hi if closed_start else lo < s <= hi


def pair_brute_force(frame, ref, windows, aggs, keys, *, prevailing):
    """Per row and window: pick the reference rows by hand (and the row before them), then aggregate."""
    plain = {k: v for k, v in aggs.items() if isinstance(v, pl.Expr)}
    weighted = {k: v for k, v in aggs.items() if not isinstance(v, pl.Expr)}
    ordered = ref.with_row_index("__i").filter(pl.col("elapsed_seconds").is_not_null())
    ordered = ordered.sort("elapsed_seconds", maintain_order=True)
    expected: dict[str, list] = {f"{name}_{_suffix(w)}": [] for name in aggs for w in windows}
    weights = {
        name: dict(zip(ordered["__i"], ordered.select(agg.expr.cast(pl.Float64)).to_series(), strict=True))
        for name, agg in weighted.items()
    }
    for row in frame.iter_rows(named=True):
        t, key = row["elapsed_seconds"], [row[k] for k in keys]
        same = [r for r in ordered.iter_rows(named=True) if [r[k] for k in keys] == key]
        for w in windows:
            names = [f"{name}_{_suffix(w)}" for name in aggs]
            if t is None or any(v is None for v in key):
                for name in names:
                    expected[name].append(None)
                continue
            start, end, closed = _edges(w, t)
            picked = [j for j, r in enumerate(same) if _inside(r["elapsed_seconds"], start, end, closed)]
            before = [j for j, r in enumerate(same) if j < (picked[0] if picked else len(same))]
            before = [j for j in before if not _inside(same[j]["elapsed_seconds"], start, end, closed)]
            before = [j for j in before if same[j]["elapsed_seconds"] <= start]
            if prevailing and before:
                picked = [before[-1], *picked]
            rows = [same[j]["__i"] for j in picked]
            window = ordered.filter(pl.col("__i").is_in(rows)) if rows else ordered.head(0)
            for name, value in zip(plain, window.select(**plain).row(0), strict=True):
                expected[f"{name}_{_suffix(w)}"].append(value)
            for name, by_i in weights.items():
                total = weight = 0.0
                for j in picked:
                    s = same[j]["elapsed_seconds"]
                    until = same[j + 1]["elapsed_seconds"] if j + 1 < len(same) else end
                    span = min(until, end) - max(s, start)
                    value = by_i[same[j]["__i"]]
                    if value is not None and span > 0:
                        total += value * span
                        weight += span
                expected[f"{name}_{_suffix(w)}"].append(total / weight if weight > 0 else None)
    return expected


@given(frames(), WINDOWS, st.booleans())
def test_pairs_and_prevailing_equal_brute_force(frame, windows, prevailing):
    """Pairs of either sign, single horizons, the prevailing row and time weights; ties, nulls, NaN."""
    out = vf.forward_window(frame, windows, PAIR_AGGS, prevailing=prevailing)
    assert out.select(frame.columns).equals(frame)
    assert_same(out, pair_brute_force(frame, frame, windows, PAIR_AGGS, ["symbol"], prevailing=prevailing))


@given(
    st.sampled_from([pl.Int64, pl.String, pl.Categorical]).flatmap(lambda d: st.tuples(frames(d), frames(d))),
    WINDOWS,
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_pairs_with_a_shuffled_reference_equal_brute_force(pair, windows, prevailing, rnd):
    frame, ref = pair
    order = list(range(ref.height))
    rnd.shuffle(order)
    ref = ref[order]
    call = lambda: vf.forward_window(  # noqa: E731
        frame.select("symbol", "elapsed_seconds"), windows, PAIR_AGGS, reference=ref, prevailing=prevailing
    )
    if shares_no_key(frame, ref, ["symbol"]):
        refused_for_sharing_no_key(call)
        return
    out = call()
    assert_same(out, pair_brute_force(frame, ref, windows, PAIR_AGGS, ["symbol"], prevailing=prevailing))


def _duckdb_windows(frame: pl.DataFrame, ref: pl.DataFrame, a: float, b: float, *, prevailing: bool):
    """(t + a, t + b] as a DuckDB range join, the prevailing row by QUALIFY, time weights by LEAD."""
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register("q", frame.with_row_index("qi").to_arrow())
    con.register("r0", ref.with_row_index("ri").to_arrow())
    prevail = f"""
        UNION ALL
        SELECT * FROM (
            SELECT q.qi, r.* FROM q JOIN r ON q.date = r.date AND q.symbol = r.symbol
            AND r.t <= q.t + {a}
            QUALIFY row_number() OVER (PARTITION BY q.qi ORDER BY r.t DESC, r.ri DESC) = 1
        )
    """
    sql = f"""
        WITH r AS (
            SELECT *, elapsed_seconds AS t,
                lead(elapsed_seconds) OVER (PARTITION BY date, symbol ORDER BY elapsed_seconds, ri) AS next_t
            FROM r0 WHERE elapsed_seconds IS NOT NULL
        ),
        q AS (SELECT *, elapsed_seconds AS t FROM q),
        w AS (
            SELECT q.qi, r.* FROM q JOIN r ON q.date = r.date AND q.symbol = r.symbol
            AND r.t > q.t + {a} AND r.t <= q.t + {b}
            {prevail if prevailing else ""}
        ),
        spans AS (
            SELECT w.*,
                greatest(least(coalesce(next_t, q.t + {b}), q.t + {b}) - greatest(w.t, q.t + {a}), 0) AS span
            FROM w JOIN q USING (qi)
        )
        SELECT q.qi, count(spans.ri) AS n, coalesce(sum(spans.qty), 0) AS volume, min(spans.qty) AS low,
            sum(spans.qty * spans.span) FILTER (WHERE spans.span > 0 AND spans.qty IS NOT NULL)
            / sum(spans.span) FILTER (WHERE spans.span > 0 AND spans.qty IS NOT NULL) AS twap
        FROM q LEFT JOIN spans USING (qi)
        WHERE q.t IS NOT NULL AND q.symbol IS NOT NULL
        GROUP BY q.qi ORDER BY q.qi
    """
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    schema = dict.fromkeys(names, pl.Float64) | {"qi": pl.UInt32, "n": pl.Int64}
    return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")


@st.composite
def _dated_frames(draw):
    frame = draw(frames(pl.Int64, n_max=16))
    dates = draw(
        st.lists(st.sampled_from([dt.date(2024, 1, 2), dt.date(2024, 1, 3)]), min_size=16, max_size=16)
    )
    return frame.with_columns(date=pl.Series(dates[: frame.height], dtype=pl.Date))


@given(
    _dated_frames(),
    _dated_frames(),
    st.sampled_from([(-7.5, -2.0), (-2.0, 3.0), (0.0, 1.0), (0.5, 10.0), (-1.0, 0.0)]),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_pairs_equal_a_duckdb_range_join(frame, ref, window, prevailing, rnd):
    """Several dates and keys, shuffled reference, ties, null keys, times and values, empty windows."""
    order = list(range(ref.height))
    rnd.shuffle(order)
    ref = ref[order]
    aggs = {
        "n": pl.len(),
        "volume": pl.col("qty").sum(),
        "low": pl.col("qty").min(),
        "twap": vf.time_weighted("qty"),
    }
    call = lambda: vf.forward_window(  # noqa: E731
        frame, [window], aggs, symbol_col=["date", "symbol"], reference=ref, prevailing=prevailing
    )
    if shares_no_key(frame, ref, ["date", "symbol"]):
        refused_for_sharing_no_key(call)
        return
    out = call().with_row_index("qi")
    want = _duckdb_windows(frame, ref, *window, prevailing=prevailing)
    got = out.join(want.select("qi"), on="qi", how="semi").sort("qi")
    suffix = _suffix(window)
    assert got.height == want.height
    for name in ("n", "volume", "low", "twap"):
        for a, b in zip(got[f"{name}_{suffix}"].to_list(), want[name].to_list(), strict=True):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12), (name, a, b)
    voids = out.filter(pl.col("elapsed_seconds").is_null() | pl.col("symbol").is_null())
    assert voids.select(pl.col(f"n_{suffix}").is_null().all()).item()


def test_pairs_prevailing_and_time_weights_by_hand():
    quotes = pl.DataFrame(
        {
            "symbol": ["A"] * 5,
            "elapsed_seconds": [0.0, 4.0, 4.0, 6.0, 9.0],
            "mid": [10.0, 99.0, 11.0, None, 12.0],
        }
    )
    trades = pl.DataFrame({"symbol": ["A", "A", "B"], "elapsed_seconds": [2.0, 5.0, 1.0]})
    aggs = {"n": pl.len(), "last": pl.col("mid").last(), "twap": vf.time_weighted("mid")}
    plain = vf.forward_window(trades, [(-2, 2), 3], aggs, reference=quotes)
    prev = vf.forward_window(trades, [(-2, 2), 3], aggs, reference=quotes, prevailing=True)
    # t=2, (0, 4]: the two quotes at 4 (the later prevails: 99 lasts no time); t=5, (3, 7]: 4, 4, 6
    assert plain["n_-2_2"].to_list() == [2, 3, 0]
    assert prev["n_-2_2"].to_list() == [3, 4, 0]  # + the quote at 0 for both; B has no quotes
    assert plain["last_-2_2"].to_list() == [11.0, None, None]
    assert plain["twap_-2_2"].to_list() == [None, 11.0, None]  # t=5: (3, 7]: 11 over [4, 6], null after
    # t=2 with the prevailing quote: 10 over [0, 4]; t=5: 10 over [3, 4], 11 over [4, 6]
    assert prev["twap_-2_2"].to_list() == [10.0, pytest.approx(32 / 3), None]
    # 3 is (t, t + 3]: t=2: (2, 5] holds 99 and 11 at 4, prevailing 10 at 0 weighs [2, 4]
    assert prev["twap_3"].to_list() == [pytest.approx((10 * 2 + 11 * 1) / 3), pytest.approx(11.0), None]
    assert list(prev.columns[2:]) == ["n_-2_2", "n_3", "last_-2_2", "last_3", "twap_-2_2", "twap_3"]


@pytest.mark.parametrize(
    ("horizons", "match"),
    [
        ([(5, 5)], r"window \(5, 5\) is empty"),
        ([(5, -5)], r"start < end"),
        ([(1, 2, 3)], r"not a pair"),
        ([(0, "close")], r"'close' is a horizon of its own"),
        ([(0, "1mo")], r"window end '1mo' is not"),
        ([(-5, 5), (-5, 5)], r"duplicate horizons \['-5_5'\]"),
    ],
)
def test_bad_pairs_are_refused(horizons, match):
    frame = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0], "mid": [1.0]})
    with pytest.raises(VizflowError, match=match):
        vf.forward_window(frame, horizons, {"n": pl.len()})


def test_bad_time_weighted_and_prevailing_are_refused():
    frame = pl.DataFrame({"symbol": ["A"], "elapsed_seconds": [0.0], "mid": [1.0], "venue": ["x"]})
    with pytest.raises(SchemaError, match="non-numeric"):
        vf.forward_window(frame, [1], {"tw": vf.time_weighted("venue")})
    with pytest.raises(SchemaError, match="non-elementwise"):
        vf.forward_window(frame, [1], {"tw": vf.time_weighted(pl.col("mid").sum())})
    with pytest.raises(ColumnNotFoundError):
        vf.forward_window(frame, [1], {"tw": vf.time_weighted("bid")})
    with pytest.raises(VizflowError, match="not a column name"):
        vf.time_weighted(3)  # type: ignore[arg-type]
    with pytest.raises(VizflowError, match="prevailing="):
        vf.forward_window(frame, [1], {"n": pl.len()}, prevailing="yes")  # type: ignore[arg-type]


def test_pairs_as_durations_on_a_datetime_column_match_the_session_clock():
    base = dt.datetime(2024, 1, 2, 9, 30)
    quotes = pl.DataFrame(
        {"symbol": ["A"] * 4, "elapsed_seconds": [0.0, 1.5, 3.0, 7.0], "mid": [1.0, 2.0, 3.0, 4.0]}
    )
    stamped = quotes.with_columns(
        ts=pl.lit(base) + pl.duration(milliseconds=pl.col("elapsed_seconds") * 1000)
    )
    aggs = {"n": pl.len(), "tw": vf.time_weighted("mid")}
    clock = vf.forward_window(stamped, [(-2, 3)], aggs, prevailing=True)
    wall = vf.forward_window(
        stamped, [("-2s", dt.timedelta(seconds=3))], aggs, time_col="ts", prevailing=True
    )
    assert wall["n_-2s_3s"].to_list() == clock["n_-2_3"].to_list()
    assert wall["tw_-2s_3s"].to_list() == pytest.approx(clock["tw_-2_3"].to_list())


@given(
    st.sampled_from([pl.Int64, pl.String]).flatmap(lambda d: st.tuples(frames(d, n_max=20), frames(d))),
    WINDOWS,
    st.booleans(),
)
def test_pairs_in_threaded_runs_and_lazy_equal_brute_force(pair, windows, prevailing):
    """Pair bounds on runs of whole groups in three threads; the lazy plan node gives the same."""
    frame, ref = pair
    with pytest.MonkeyPatch.context() as mp:
        force_threads(mp)
        lazy = vf.forward_window(
            frame.lazy().select("symbol", "elapsed_seconds"), windows, PAIR_AGGS, reference=ref.lazy(),
            prevailing=prevailing,
        )  # fmt: skip
        if shares_no_key(frame, ref, ["symbol"]):
            refused_for_sharing_no_key(lazy.collect)
            return
        out = lazy.collect()
    assert lazy.collect_schema() == out.schema
    assert_same(out, pair_brute_force(frame, ref, windows, PAIR_AGGS, ["symbol"], prevailing=prevailing))


@pytest.mark.parametrize("window", ["close", (-30, 30), (5, 60), -20])
def test_time_weighted_over_long_windows_equals_a_loop(window):
    """Windows of many rows (the rows between the first and last come from prefix sums), ties, nulls."""
    rng = np.random.default_rng(11)
    n = 400
    quotes = pl.DataFrame(
        {
            "symbol": rng.integers(0, 3, n),
            "elapsed_seconds": rng.integers(0, 600, n).astype(float),
            "mid": pl.Series(1e6 + rng.normal(0, 1, n)).set(pl.Series(rng.random(n) < 0.1), None),
        }
    ).sample(fraction=1.0, shuffle=True, seed=3)
    trades = pl.DataFrame({"symbol": rng.integers(0, 3, 60), "elapsed_seconds": rng.uniform(0, 600, 60)})
    out = vf.forward_window(
        trades, [window], {"tw": vf.time_weighted("mid")}, reference=quotes, prevailing=True
    )
    ordered = quotes.with_row_index("i").sort("symbol", "elapsed_seconds", "i")
    for (sym, t), got in zip(trades.iter_rows(), out.get_column(out.columns[-1]), strict=True):
        rows = ordered.filter(pl.col("symbol") == sym).select("elapsed_seconds", "mid").rows()
        times = [r[0] for r in rows]
        if window == "close":
            start, end = t, times[-1]
            inside = [j for j, s in enumerate(times) if s > t]
        elif isinstance(window, tuple):
            start, end = t + window[0], t + window[1]
            inside = [j for j, s in enumerate(times) if start < s <= end]
        else:
            start, end = t + window, t
            inside = [j for j, s in enumerate(times) if start <= s < end]
        before = [j for j, s in enumerate(times) if s <= start and (not inside or j < inside[0])]
        before = [j for j in before if j not in inside]
        picked = ([before[-1]] if before else []) + inside
        total = weight = 0.0
        for j in picked:
            until = times[j + 1] if j + 1 < len(times) else end
            span = min(until, end) - max(times[j], start)
            if rows[j][1] is not None and span > 0:
                total += rows[j][1] * span
                weight += span
        want = total / weight if weight > 0 else None
        assert (got is None and want is None) or got == pytest.approx(want, rel=1e-14), (sym, t, got, want)
