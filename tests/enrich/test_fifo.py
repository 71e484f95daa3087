"""FIFOMatch through the public API: the plan's cases, a deque reference, invariants, errors."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import polars as pl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import vizflow as vf
from tests.reference import fifo_reference
from tests.strategies import fill_streams
from vizflow.exceptions import DataError, SchemaError, VizflowError

SCHEMA = {"symbol": pl.String, "t": pl.Float64, "side": pl.Int8, "qty": pl.Float64, "price": pl.Float64}


def fills(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def match(df, **kwargs) -> pl.DataFrame:
    rule = vf.FIFOMatch("side", "qty", "t", "price", 1, -1, **kwargs)
    return vf.enrich(df, [rule], by="symbol", sort_by="t")


# --- the plan's cases (phase 6) ------------------------------------------------------------------


def test_simple_match_plan():
    out = match(fills([("A", 1, 1, 100, 10.0), ("A", 2, -1, 100, 11.0)]))
    assert out.select("t", "matched_entry_idx", "matched_qty", "is_closed", "realized_pnl").rows() == [
        (2.0, 0, 100.0, True, 100.0)
    ]
    assert out["holding_period"].to_list() == [1.0]


def test_partial_match_plan():
    out = match(fills([("A", 1, 1, 100, 10.0), ("A", 2, -1, 60, 10.5), ("A", 3, -1, 40, 9.5)]))
    assert out.select("t", "matched_entry_idx", "matched_qty", "is_closed").rows() == [
        (2.0, 0, 60.0, True), (3.0, 0, 40.0, True),
    ]  # fmt: skip
    assert out["realized_pnl"].to_list() == pytest.approx([30.0, -20.0])


def test_trade_splitting_plan():
    out = match(fills([("A", 1, 1, 50, 10.0), ("A", 2, 1, 50, 10.2), ("A", 3, -1, 80, 10.5)]))
    assert out.select("t", "matched_entry_idx", "matched_qty", "is_closed").rows() == [
        (3.0, 0, 50.0, True), (3.0, 1, 30.0, True), (2.0, 1, 20.0, False),  # 20 left open
    ]  # fmt: skip
    assert out.filter("is_closed").height == 2


def test_unclosed_trades_plan():
    out = match(fills([("A", 1, 1, 100, 10.0), ("B", 1, -1, 5, 3.0)]))
    assert out.select("symbol", "is_closed", "matched_qty", "lot_side").rows() == [
        ("A", False, 100.0, 1), ("B", False, 5.0, -1),
    ]  # fmt: skip
    assert out["exit_price"].to_list() == [None, None]
    assert out["realized_pnl"].to_list() == [None, None]
    assert out["holding_period"].to_list() == [None, None]


def test_columns_preserved_when_splitting_plan():
    df = fills([("A", 1, 1, 50, 10.0), ("A", 2, 1, 50, 10.2), ("A", 3, -1, 80, 10.5)]).with_columns(
        order_id=pl.Series(["o1", "o2", "o3"]), venue=pl.lit("SSE")
    )
    out = match(df)
    closed = out.filter("is_closed")
    assert closed["order_id"].to_list() == ["o3", "o3"]  # the exit row's own columns, on each split
    assert closed["venue"].to_list() == ["SSE", "SSE"]
    assert out.filter(~pl.col("is_closed"))["order_id"].to_list() == ["o2"]  # open lot: its entry row
    assert out.columns[: len(df.columns)] == df.columns


def test_flip_in_position_mode():
    out = match(fills([("A", 1, 1, 100, 10.0), ("A", 2, -1, 150, 11.0), ("A", 3, 1, 30, 10.0)]))
    assert out.select("t", "matched_entry_idx", "matched_qty", "lot_side", "is_closed").rows() == [
        (2.0, 0, 100.0, 1, True),  # sell 150 closes the 100 long...
        (3.0, 1, 30.0, -1, True),  # ...and opens 50 short, which the next buy closes first
        (2.0, 1, 20.0, -1, False),
    ]  # fmt: skip
    assert out["realized_pnl"].to_list()[:2] == pytest.approx([100.0, 30.0])  # short: 11 -> 10


def test_strict_mode_rejects_an_exit_beyond_the_position():
    df = fills([("A", 1, 1, 100, 10.0), ("B", 1, 1, 10, 1.0), ("B", 2, -1, 11, 1.0)])
    with pytest.raises(
        DataError, match=r"exit at row 2 \(symbol 'B', t=2.0\) is larger than the open position"
    ):
        match(df, mode="strict")
    only_exits = fills([("A", 1, -1, 5, 10.0)])
    with pytest.raises(DataError, match="row 0"):
        match(only_exits, mode="strict")


def test_id_column_and_input_positions():
    df = fills([("B", 2, -1, 5, 10.0), ("A", 1, 1, 5, 10.0), ("B", 1, 1, 5, 9.0)]).with_columns(
        fill_id=pl.Series([101, 102, 103])
    )
    assert match(df)["matched_entry_idx"].to_list() == [1, 2]  # positions in the input frame
    assert match(df, id_col="fill_id")["matched_entry_idx"].to_list() == [102, 103]


# --- against the deque reference -----------------------------------------------------------------


def _as_rows(out: pl.DataFrame, df: pl.DataFrame) -> list[tuple]:
    """Our output as reference tuples (carrier row found through the id column)."""
    return list(
        zip(
            out["row"].to_list(), out["matched_entry_idx"].to_list(), out["matched_qty"].to_list(),
            out["is_closed"].to_list(), out["lot_side"].to_list(), strict=True,
        )
    )  # fmt: skip


@given(rows=fill_streams(), mode=st.sampled_from(["position", "strict"]))
def test_equals_deque_reference(rows, mode):
    df = fills(rows).with_row_index("row")
    try:
        expected = fifo_reference([(s, t, d, q, p) for s, t, d, q, p in rows], mode=mode)
    except ValueError as exc:
        with pytest.raises(DataError, match=f"exit at row {exc.args[0]} "):
            match(df, mode=mode)
        return
    out = match(df, mode=mode)
    got = _as_rows(out, df)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a[:2] == b[:2]
        assert a[3:] == b[3:]
        assert math.isclose(a[2], b[2], rel_tol=1e-9, abs_tol=1e-9)
    pnl = sum(lot * (rows[c][4] - rows[e][4]) * q for c, e, q, closed, lot in expected if closed)
    assert math.isclose(out["realized_pnl"].sum(), pnl, rel_tol=1e-9, abs_tol=1e-6)


@given(rows=fill_streams())
def test_quantity_is_conserved(rows):
    df = fills(rows)
    out = match(df)
    # Every fill's quantity is used exactly once: to close lots, or opening a lot (closed later
    # or still open). So per symbol: closing + opening = traded.
    traded: dict = defaultdict(float)
    for s, _, _, q, _ in rows:
        traded[s] += q
    used: dict = defaultdict(float)
    for row in out.iter_rows(named=True):
        used[row["symbol"]] += row["matched_qty"] * (2 if row["is_closed"] else 1)
    for s in traded:
        assert math.isclose(used[s], traded[s], rel_tol=1e-9, abs_tol=1e-6), s
    # per entry row: matched + open never exceeds its quantity
    per_entry = out.group_by("matched_entry_idx").agg(pl.col("matched_qty").sum())
    for idx, q in per_entry.iter_rows():
        assert q <= rows[idx][3] + 1e-9
    # entry never after exit
    closed = out.filter("is_closed")
    assert (closed["holding_period"] >= 0).all()


@given(rows=fill_streams())
def test_each_fill_is_used_exactly_once(rows):
    # Per input row: the quantity it closes (as the closing fill) plus the quantity of the lot it
    # opened (matched later or still open) is exactly its quantity; a lot never gives more.
    df = fills(rows).with_row_index("row")
    out = match(df)
    closing = out.filter("is_closed").group_by("row").agg(pl.col("matched_qty").sum())
    opened = out.group_by("matched_entry_idx").agg(pl.col("matched_qty").sum())
    used = [0.0] * len(rows)
    for row, q in [*closing.iter_rows(), *opened.iter_rows()]:
        used[row] += q
    for (_, _, _, q, _), u in zip(rows, used, strict=True):
        assert math.isclose(u, q, rel_tol=1e-9, abs_tol=1e-8)
    # per symbol and lot side: matched + open = the quantity that opened lots on that side
    lots = out.with_columns(pl.col("matched_entry_idx").cast(pl.Int64))
    for (symbol, side), group in lots.group_by("symbol", "lot_side"):
        total = sum(q for i, q in opened.iter_rows() if rows[i][0] == symbol and rows[i][2] == side)
        assert math.isclose(group["matched_qty"].sum(), total, rel_tol=1e-9, abs_tol=1e-8)


@given(rows=fill_streams())
def test_per_symbol_runs_concatenated_equal_the_whole_run(rows):
    df = fills(rows).with_row_index("row")
    whole = match(df, id_col="row")
    parts = [match(df.filter(pl.col("symbol") == s), id_col="row") for s in sorted({r[0] for r in rows})]
    assert whole.equals(pl.concat(parts) if parts else whole.clear())


def test_equal_timestamps_keep_input_order():
    out = match(fills([("A", 1, 1, 10, 1.0), ("A", 1, 1, 10, 2.0), ("A", 1, -1, 15, 3.0)]))
    assert out.select("matched_entry_idx", "matched_qty").rows() == [(0, 10.0), (1, 5.0), (1, 5.0)]


def test_fractional_quantities_leave_no_dust():
    out = match(fills([("X", 1, 1, 0.1, 1.0), ("X", 2, 1, 0.2, 1.0), ("X", 3, -1, 0.3, 2.0)]))
    assert out["is_closed"].to_list() == [True, True]  # 0.1 + 0.2 - 0.3 leaves no open lot


def test_lazy_input_and_namespace():
    df = fills([("A", 1, 1, 100, 10.0), ("A", 2, -1, 100, 11.0)])
    lazy = df.lazy().vf.enrich([vf.FIFOMatch("side", "qty", "t", "price", 1, -1)], by="symbol", sort_by="t")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(match(df))
    enricher = vf.Enricher([vf.FIFOMatch("side", "qty", "t", "price", 1, -1)], by="symbol", sort_by="t")
    assert enricher.run(df).equals(match(df))


def test_string_sides_and_other_rules_in_the_same_run():
    df = pl.DataFrame(
        {
            "symbol": ["A"] * 3,
            "t": [1.0, 2.0, 3.0],
            "side": ["B", "B", "S"],
            "qty": [1, 2, 3],
            "price": [1.0, 2.0, 3.0],
        }
    )
    out = vf.enrich(
        df,
        [vf.TagRunning("seq", lambda p, r: p + 1, 0), vf.FIFOMatch("side", "qty", "t", "price", "B", "S")],
        by="symbol", sort_by="t",
    )  # fmt: skip
    assert out.select("seq", "matched_entry_idx", "matched_qty").rows() == [(3, 0, 1.0), (3, 1, 2.0)]


def test_datetime_times_give_durations():
    import datetime as dt

    t0 = dt.datetime(2024, 1, 2, 9, 30)
    df = pl.DataFrame(
        {
            "symbol": ["A", "A"],
            "t": [t0, t0 + dt.timedelta(seconds=90)],
            "side": [1, -1],
            "qty": [1, 1],
            "price": [1.0, 2.0],
        }
    )
    out = match(df)
    assert out["holding_period"].to_list() == [dt.timedelta(seconds=90)]
    assert out["entry_time"].to_list() == [t0]


def test_integer_times_give_exact_integer_holding_periods():
    t0 = 1_700_000_000_000_000_000
    df = pl.DataFrame(
        {"symbol": ["A"] * 2, "t": [t0, t0 + 1], "side": [1, -1], "qty": [1, 1], "price": [1.0, 2.0]}
    )
    out = match(df)
    assert out.schema["holding_period"] == pl.Int64
    assert out["holding_period"].to_list() == [1]  # float64 would round this to 0
    ns = match(df.with_columns(pl.col("t").cast(pl.Datetime("ns"))))
    assert ns["holding_period"].to_list() == [pl.Series([1]).cast(pl.Duration("ns")).item()]
    assert ns.schema["entry_time"] == pl.Datetime("ns")


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("A", 2, 1, 0, 10.0), "'qty' is not a finite quantity > 0"),
        (("A", 2, 1, -5, 10.0), "'qty' is not a finite quantity > 0"),
        (("A", 2, 2, 5, 10.0), "'side' is neither entry_side 1 nor exit_side -1"),
        (("A", 2, None, 5, 10.0), "a null in"),
        (("A", 2, 1, 5, None), "a null in"),
        (("A", 2, 1, 5, math.inf), "'price' is not a finite price"),
    ],
)
def test_bad_fills_name_the_first_offending_row(row, message):
    df = fills([("A", 1, 1, 5, 10.0), row, ("A", 3, 1, -1, 10.0)])
    with pytest.raises(DataError, match=rf"row 1 \(symbol 'A'\): {message}"):
        match(df)


def test_bad_input_types_and_times():
    df = fills([("A", 1, 1, 5, 10.0), ("A", 2, -1, 5, 10.0)])
    with pytest.raises(SchemaError, match="side column 'side' has dtype String"):
        match(df.with_columns(pl.col("side").replace_strict({1: "B", -1: "S"}, return_dtype=pl.String)))
    with pytest.raises(SchemaError, match="time column 't' has dtype String"):
        match(df.with_columns(pl.col("t").cast(pl.String)))
    with pytest.raises(DataError, match=r"row 1 \(symbol 'A'\): 't' is not a finite time"):
        match(df.with_columns(t=pl.Series([1.0, math.nan])))
    with pytest.raises(DataError, match=r"row 0 .*quantity > 0 \(above qty_tol=1e-09\)"):
        match(df.with_columns(qty=pl.Series([1e-12, 1.0])))
    assert match(df.with_columns(qty=pl.Series([1e-12, 1e-12])), qty_tol=0)["matched_qty"].to_list() == [
        1e-12
    ]


def test_bad_parameters():
    with pytest.raises(VizflowError, match="mode='fifo'"):
        vf.FIFOMatch("side", "qty", "t", "price", 1, -1, mode="fifo")
    with pytest.raises(VizflowError, match="both 1"):
        vf.FIFOMatch("side", "qty", "t", "price", 1, 1)
    with pytest.raises(VizflowError, match="at most one row-expanding rule"):
        vf.Enricher([vf.FIFOMatch(), vf.FIFOMatch()], by="symbol")


def test_empty_frame():
    out = match(fills([]))
    assert out.height == 0
    assert set(vf.FIFOMatch.COLUMNS) <= set(out.columns)


@pytest.mark.parametrize("fractional", [False, True])
def test_synthetic_fills_match_the_reference(fractional):
    df = vf.datasets.synthetic_fills(3000, 40, seed=2, fractional=fractional)
    assert df.equals(vf.datasets.synthetic_fills(3000, 40, seed=2, fractional=fractional))  # deterministic
    assert (df["qty"] > 0).all()
    assert df["symbol"].n_unique() == 40
    out = vf.enrich(
        df.with_row_index("row"),
        [vf.FIFOMatch("side", "qty", "elapsed_seconds", "price", 1, -1)],
        by="symbol",
        sort_by="elapsed_seconds",
    )
    expected = fifo_reference(df.select("symbol", "elapsed_seconds", "side", "qty", "price").rows())
    got = out.select("row", "matched_entry_idx", "matched_qty", "is_closed", "lot_side").rows()
    assert [(r[0], r[1], r[3], r[4]) for r in got] == [(e[0], e[1], e[3], e[4]) for e in expected]
    assert [r[2] for r in got] == pytest.approx([e[2] for e in expected], abs=1e-9)


# --- regressions of issue 11 (findings A.9 FIFO dust, A.10 order, A.1 several dates) -------------


def test_regression_decimal_buys_closed_by_one_sell_leave_no_dust_lot():
    """A.9: 33333333.33 + 33333333.33 + 33333333.34 closed by 1e8 left a 3.7e-9 short lot."""
    df = fills([("X", 1, 1, 33333333.33, 1.0), ("X", 2, 1, 33333333.33, 1.0), ("X", 3, 1, 33333333.34, 1.0),
                ("X", 4, -1, 1e8, 2.0)])  # fmt: skip
    out = match(df)
    assert out["is_closed"].to_list() == [True, True, True]
    assert out["matched_qty"].to_list() == [33333333.33, 33333333.33, 33333333.34]
    # A real remainder stays: well above qty_tol * 1e8 = 0.1
    rest = match(fills([("X", 1, 1, 1e8, 1.0), ("X", 2, -1, 1e8 - 0.5, 2.0)]))
    assert rest.filter(~pl.col("is_closed"))["matched_qty"].to_list() == [0.5]


@given(
    total=st.integers(1, 10**10),
    cuts=st.lists(st.integers(1, 10**12 - 1), min_size=1, max_size=6, unique=True),
)
def test_parts_of_a_quantity_in_cents_closed_at_once_leave_nothing_open(total, cuts):
    """A.9: buys that split a quantity into decimal parts (in cents), then one sell of it all."""
    cents = total * 100
    edges = sorted({0, cents, *(c % cents for c in cuts)})
    parts = [(b - a) / 100 for a, b in itertools.pairwise(edges)]
    # A sell's remainder up to qty_tol * its quantity counts as zero (the policy): a last part that
    # small is left open by design, e.g. 0.57 of a sell of 2499999913 (tolerance 2.5).
    assume(parts[-1] > 2e-9 * total)
    rows = [("S", float(i), 1, q, 1.0) for i, q in enumerate(parts)]
    rows.append(("S", float(len(parts)), -1, float(total), 2.0))
    out = match(fills(rows))
    assert out["is_closed"].all()
    assert out.height == len(parts)
    expected = fifo_reference(rows)
    assert [(c, e, closed) for c, e, _, closed, _ in expected] == out.select(
        pl.lit(len(parts)), "matched_entry_idx", "is_closed"
    ).rows()


def test_regression_a_small_lot_closed_by_a_large_sell_leaves_no_dust():
    """A lot's remainder was scaled by its own fill only: 1249999992.63 + 5.37 sold as 1249999998
    left 1.1e-7 of the 5.37 lot open (the sell's remainder, 5.3699998855, rounds at 1.25e9)."""
    rows = [("S", 0.0, 1, 1249999992.63, 1.0), ("S", 1.0, 1, 5.37, 1.0), ("S", 2.0, -1, 1249999998.0, 2.0)]
    out = match(fills(rows))
    assert out.select("matched_entry_idx", "is_closed").rows() == [(0, True), (1, True)]
    # A real remainder stays open: 0.37 of the 5.37 lot, far above qty_tol * 1005 (1e-6).
    rest = match(fills([("S", 0.0, 1, 1e3, 1.0), ("S", 1.0, 1, 5.37, 1.0), ("S", 2.0, -1, 1e3 + 5.0, 2.0)]))
    assert rest.filter(~pl.col("is_closed"))["matched_qty"].round(9).to_list() == [0.37]


@pytest.mark.parametrize("shuffle", [False, True])
def test_regression_integer_symbols_come_out_in_numeric_order(shuffle):
    """A.10: output order followed the string form of integer symbols ("10" < "9") when unsorted."""
    df = pl.DataFrame(
        {"symbol": [10, 9, 10, 9, 100], "t": [1.0, 1.0, 2.0, 2.0, 1.0], "side": [1, 1, -1, -1, 1],
         "qty": [1.0] * 5, "price": [1.0, 1.0, 2.0, 2.0, 1.0]}
    )  # fmt: skip
    df = df.reverse() if shuffle else df.sort("symbol", "t")  # reversed: 100, 9, 10, 9, 10
    assert match(df)["symbol"].to_list() == [9, 10, 100]


def test_regression_fills_of_several_dates_need_the_date_among_the_keys():
    """A.1 for FIFO: two days keyed by symbol alone would match a buy of one day with a later sell."""
    df = fills([("A", 1, 1, 5, 10.0), ("A", 1, -1, 5, 11.0)]).with_columns(
        date=pl.Series(["20240102", "20240103"])
    )
    rule = vf.FIFOMatch("side", "qty", "t", "price", 1, -1)
    with pytest.raises(DataError, match=r"column 'date' holds 2 dates.*key by \['date', 'symbol'\]"):
        vf.enrich(df, [rule], by="symbol", sort_by="t")
    out = vf.enrich(df, [rule], by=["date", "symbol"], sort_by="t")
    assert out.select("date", "is_closed", "lot_side").rows() == [
        ("20240102", False, 1),
        ("20240103", False, -1),
    ]


@pytest.mark.parametrize("qty_tol", [1, 1.5, -1e-9, math.nan, "1e-9"])
def test_qty_tol_is_a_relative_tolerance_below_one(qty_tol):
    with pytest.raises(VizflowError, match=r"qty_tol=.*expected a number in \[0, 1\)"):
        vf.FIFOMatch("side", "qty", "t", "price", 1, -1, qty_tol=qty_tol)


def test_regression_uint64_times_above_int64_are_refused_clearly():
    """C: UInt64 times above 2**63 gave a raw Polars strict-cast error."""
    df = pl.DataFrame(
        {"symbol": ["A", "A"], "t": pl.Series([2**63 + 5, 2**63 + 9], dtype=pl.UInt64), "side": [1, -1],
         "qty": [1.0, 1.0], "price": [1.0, 2.0]}
    )  # fmt: skip
    with pytest.raises(
        DataError, match=r"sort_by column 't' holds UInt64 values above 2\*\*63 - 1.*subtract"
    ):
        match(df)
    shifted = match(df.with_columns(pl.col("t") - 2**63))
    assert shifted["holding_period"].to_list() == [4]


def test_no_keys_match_the_whole_frame_as_one_position():
    """B.1 for FIFO: by=[] is one group (a single instrument's fills), not a panic."""
    df = fills([("A", 1, 1, 5, 10.0), ("B", 2, -1, 5, 11.0), ("C", 3, -1, 1, 12.0)])
    out = vf.enrich(df, [vf.FIFOMatch("side", "qty", "t", "price", 1, -1)], by=[], sort_by="t")
    assert out.select("symbol", "matched_entry_idx", "matched_qty", "is_closed", "lot_side").rows() == [
        ("B", 0, 5.0, True, 1), ("C", 2, 1.0, False, -1),
    ]  # fmt: skip
    with pytest.raises(DataError, match=r"row 0 \(symbol None\): 'qty' is not a finite"):
        vf.enrich(
            df.with_columns(qty=pl.lit(-1.0)), [vf.FIFOMatch("side", "qty", "t", "price", 1, -1)], by=[]
        )


INT_SYMBOLS = {"a": 10, "b": 9, "c": 100}


@given(rows=fill_streams())
def test_integer_symbols_equal_deque_reference(rows):
    """A.10: integer symbols, any input order: matches and their order equal the deque reference."""
    rows = [(INT_SYMBOLS[s], t, d, q, p) for s, t, d, q, p in rows]
    df = pl.DataFrame(rows, schema={**SCHEMA, "symbol": pl.Int64}, orient="row").with_row_index("row")
    out = match(df)
    expected = fifo_reference(rows)  # symbols in numeric order
    got = _as_rows(out, df)
    assert [g[:2] + g[3:] for g in got] == [e[:2] + e[3:] for e in expected]
    assert [g[2] for g in got] == pytest.approx([e[2] for e in expected], rel=1e-9, abs=1e-9)


@given(
    rows=fill_streams(), days=st.lists(st.sampled_from(["20240102", "20240103"]), min_size=60, max_size=60)
)
def test_fifo_per_day_runs_concatenated_equal_one_run_keyed_by_date_and_symbol(rows, days):
    """Metamorphic (issue 11): FIFO per day, concatenated in date order == one run by (date, symbol)."""
    rows = [(INT_SYMBOLS[s], t, d, q, p) for s, t, d, q, p in rows]
    df = (
        pl.DataFrame(rows, schema={**SCHEMA, "symbol": pl.Int64}, orient="row")
        .with_row_index("row")
        .with_columns(date=pl.Series(days[: len(rows)], dtype=pl.String))
    )
    rule = vf.FIFOMatch("side", "qty", "t", "price", 1, -1, id_col="row")
    whole = vf.enrich(df, [rule], by=["date", "symbol"], sort_by="t")
    parts = [
        vf.enrich(df.filter(pl.col("date") == d), [rule], by="symbol", sort_by="t")
        for d in sorted(set(days[: len(rows)]))
    ]
    assert whole.equals(pl.concat(parts) if parts else whole)


def test_regression_fills_out_of_time_order_are_refused_not_given_negative_holding_periods():
    """Without sort_by (or with a key that disagrees with time_col) a holding period came out < 0."""
    df = fills([("A", 5, 1, 5, 10.0), ("B", 1, 1, 1, 1.0), ("A", 2, -1, 5, 11.0)])
    rule = vf.FIFOMatch("side", "qty", "t", "price", 1, -1)
    with pytest.raises(
        DataError, match=r"symbol 'A' are not in 't' order: row 2 \(t=2.0\) comes after t=5.0"
    ):
        vf.enrich(df, [rule], by="symbol")
    assert vf.enrich(df, [rule], by="symbol", sort_by="t")["holding_period"].to_list() == [
        3.0,
        None,
    ]  # short 2 -> 5
    ordered = fills([("A", 1, 1, 5, 10.0), ("B", 9, 1, 1, 1.0), ("A", 2, -1, 5, 11.0)])
    assert (
        vf.enrich(ordered, [rule], by="symbol")["holding_period"].to_list()[0] == 1.0
    )  # input order is fine


# --- the fast input checks (an Int8 side with entry 1 / exit -1 goes to the kernel as it is) -----


@pytest.mark.parametrize(
    ("entry", "exit_", "dtype"),
    [(-1, 1, pl.Int8), (1, -1, pl.Int16), (1.0, -1.0, pl.Float64), (1, -1, pl.Int8)],
)
def test_every_side_encoding_matches_like_the_int8_one(entry, exit_, dtype):
    base = fills(
        [("A", 1, 1, 100, 10.0), ("A", 2, -1, 150, 11.0), ("A", 3, 1, 20, 12.0), ("B", 1, -1, 5, 3.0)]
    )
    expected = match(base)
    side = pl.col("side") * (1 if entry == 1 else -1)
    rule = vf.FIFOMatch("side", "qty", "t", "price", entry, exit_)
    got = vf.enrich(base.with_columns(side.cast(dtype)), [rule], by="symbol", sort_by="t")
    assert got.select(vf.FIFOMatch.COLUMNS).equals(expected.select(vf.FIFOMatch.COLUMNS))


@pytest.mark.parametrize("bad", [2, 0, -128])
def test_an_int8_side_outside_entry_and_exit_is_named(bad):
    df = fills([("A", 1, 1, 5, 10.0), ("A", 2, bad, 5, 10.0), ("A", 3, bad, 5, 10.0)])
    with pytest.raises(DataError, match=r"row 1 \(symbol 'A'\): 'side' is neither entry_side 1"):
        match(df)
