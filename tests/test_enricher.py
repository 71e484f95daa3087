"""Enricher / TagCondition / TagRunning against the plan's row-by-row reference."""

from __future__ import annotations

import numba
import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.reference import enrich_reference
from vizflow.enrich.compile import _JITTED, CompileError
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

ROW = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["a", "b", "c", "d"]),
        "t": st.integers(0, 5),
        "qty": st.integers(1, 100),
        "side": st.sampled_from([-1, 1]),
        "px": st.floats(1, 2, allow_nan=False),
    }
)
SCHEMA = {"symbol": pl.String, "t": pl.Int64, "qty": pl.Int64, "side": pl.Int8, "px": pl.Float64}


def _frame(rows):
    return pl.DataFrame(rows, schema=SCHEMA)


def is_large(r):
    return r["qty"] > 50


def seq(p, r):
    return p + 1


def position(p, r):
    return p + r["side"] * r["qty"]


def notional(p, r):
    return p + r["qty"] * r["px"]


# --- exit criteria (plan phase 5) ----------------------------------------------------------------


def test_exit_criteria_plan():
    df = pl.DataFrame(
        {"symbol": ["X", "X", "Y", "X", "Y"], "t": [1, 2, 1, 3, 2], "qty": [500, 20000, 10001, 10000, 3]}
    )
    out = vf.Enricher(
        [
            vf.TagCondition("is_large", lambda r: r["qty"] > 10000),
            vf.TagRunning("seq", lambda p, r: p + 1, 0),
        ],
        by="symbol",
        sort_by="t",
    ).run(df)
    assert out["is_large"].to_list() == [False, True, True, False, False]
    assert out["seq"].to_list() == [1, 2, 1, 3, 2]  # increments per row, resets per symbol
    assert out.schema["is_large"] == pl.Boolean
    assert out.schema["seq"] == pl.Int64


# --- properties ---------------------------------------------------------------------------------


@given(rows=st.lists(ROW, max_size=60), jit=st.booleans())
def test_equals_row_by_row_reference(rows, jit):
    df = _frame(rows)
    rules = [
        vf.TagCondition("is_large", is_large, jit=jit),
        vf.TagRunning("seq", seq, 0, jit=jit),
        vf.TagRunning("position", position, 0, jit=jit),
        vf.TagRunning("notional", notional, 0.0, jit=jit),
    ]
    out = vf.enrich(df, rules, by="symbol", sort_by="t")
    expected = enrich_reference(
        rows, "symbol", "t",
        conditions={"is_large": is_large},
        running={"seq": (seq, 0), "position": (position, 0), "notional": (notional, 0.0)},
    )  # fmt: skip
    assert out.select(list(SCHEMA)).equals(df)  # input rows, input order
    for name in ("is_large", "seq", "position"):
        assert out[name].to_list() == expected[name], name
    assert np.allclose(out["notional"].to_numpy(), np.array(expected["notional"], dtype=float))


@given(rows=st.lists(ROW, max_size=40))
def test_lazy_equals_eager_and_per_symbol_runs_concatenate(rows):
    df = _frame(rows)
    rules = [vf.TagRunning("position", position, 0), vf.TagRunning("seq", seq, 0)]
    eager = vf.enrich(df, rules, by="symbol", sort_by="t")
    lazy = df.lazy().vf.enrich(rules, by="symbol", sort_by="t")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    for symbol in df["symbol"].unique():
        alone = vf.enrich(df.filter(pl.col("symbol") == symbol), rules, by="symbol", sort_by="t")
        assert alone.equals(eager.filter(pl.col("symbol") == symbol))


def test_expression_condition_is_vectorised_and_equal():
    df = vf.datasets.synthetic_trades(n_symbols=4, trades_per_symbol=50)
    a = vf.enrich(df, [vf.TagCondition("big", pl.col("qty") > 1000)], by="symbol", sort_by="ticktime")
    b = vf.enrich(df, [vf.TagCondition("big", lambda r: r["qty"] > 1000)], by="symbol", sort_by="ticktime")
    assert a.equals(b)


def test_compiled_functions_are_reused_between_calls():
    df = pl.DataFrame({"symbol": ["a"], "qty": [1]})
    before = len(_JITTED)
    for _ in range(3):  # a new lambda object each time, same code: compiled once
        vf.enrich(df, [vf.TagRunning("s", lambda p, r: p + r["qty"], 0)], by="symbol")
    assert len(_JITTED) == before + 1


# --- dtypes ---------------------------------------------------------------------------------------


def test_dtype_follows_initial_and_columns():
    df = pl.DataFrame({"symbol": ["a", "a"], "qty": [1, 2], "px": [1.5, 2.5]})
    out = vf.enrich(
        df,
        [
            vf.TagRunning("n", lambda p, r: p + 1, 0),
            vf.TagRunning("f", lambda p, r: p + 1, 0.0),
            vf.TagRunning("widened", lambda p, r: p + r["px"], 0),  # int start, float updates
        ],
        by="symbol",
    )
    assert out.schema["n"] == pl.Int64
    assert out.schema["f"] == pl.Float64
    assert out.schema["widened"] == pl.Float64
    assert out["widened"].to_list() == [1.5, 4.0]


# --- the Python path and custom rules ----------------------------------------------------------


class LastPrice(vf.State):
    def reset(self, symbol):
        self.last = None
        self.symbol = symbol


class PriceChange(vf.TagRule):
    @property
    def output_columns(self):
        return ["change"]

    @property
    def inputs(self):
        return ["px"]

    def process(self, row, state):
        change = None if state.last is None else row["px"] - state.last
        state.last = row["px"]
        return {"change": change}


def test_custom_rule_with_state_class_on_python_path():
    df = pl.DataFrame({"symbol": ["a", "b", "a", "a"], "t": [1, 1, 2, 3], "px": [1.0, 5.0, 1.5, 1.25]})
    out = vf.enrich(df, [PriceChange()], by="symbol", sort_by="t", state_class=LastPrice)
    assert out["change"].to_list() == [None, None, 0.5, -0.25]


def test_string_condition_on_python_path_only():
    df = pl.DataFrame({"symbol": ["a", "a"], "side": ["B", "S"]})
    with pytest.raises(SchemaError, match=r"column 'side' has dtype String.*replace_strict"):
        vf.enrich(df, [vf.TagCondition("buy", lambda r: r["side"] == "B")], by="symbol")
    out = vf.enrich(df, [vf.TagCondition("buy", lambda r: r["side"] == "B", jit=False)], by="symbol")
    assert out["buy"].to_list() == [True, False]


def _python_only(x):
    return int(str(x))


def test_uncompilable_function_names_rule_and_fix():
    df = pl.DataFrame({"symbol": ["a"], "qty": [1]})
    with pytest.raises(CompileError, match=r"rule 'bad' does not compile with numba: .*jit=False"):
        vf.enrich(df, [vf.TagRunning("bad", lambda p, r: p + _python_only(r["qty"]), 0)], by="symbol")


# --- expanding rules (plan 6.2) ------------------------------------------------------------------


class Duplicate(vf.ExpandingRule):
    """Emit every row twice, numbering the copies (a stand-in for FIFOMatch)."""

    @property
    def output_columns(self):
        return ["copy"]

    @property
    def inputs(self):
        return []

    def expand(self, sorted_frame, offsets, row_index, by):
        source = np.repeat(np.arange(sorted_frame.height), 2)
        return source, {"copy": pl.Series(np.tile([0, 1], sorted_frame.height))}


def test_expanding_rule_gathers_rows_once_and_keeps_other_tags():
    df = pl.DataFrame({"symbol": ["b", "a", "a"], "t": [1, 2, 1], "qty": [1, 2, 3]})
    out = vf.enrich(df, [vf.TagRunning("seq", seq, 0), Duplicate()], by="symbol", sort_by="t")
    assert out.columns == ["symbol", "t", "qty", "seq", "copy"]
    assert out.select("symbol", "t", "seq", "copy").rows() == [
        ("a", 1, 1, 0), ("a", 1, 1, 1), ("a", 2, 2, 0), ("a", 2, 2, 1), ("b", 1, 1, 0), ("b", 1, 1, 1),
    ]  # fmt: skip


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input():
    df = pl.DataFrame(
        {"symbol": ["a"], "t": [1], "qty": [None]},
        schema={"symbol": pl.String, "t": pl.Int64, "qty": pl.Int64},
    )
    with pytest.raises(ColumnNotFoundError, match=r"'sym' not found.*available"):
        vf.enrich(df, [vf.TagRunning("s", seq, 0)], by="sym")
    with pytest.raises(ColumnNotFoundError, match="'time' not found"):
        vf.enrich(df, [vf.TagRunning("s", seq, 0)], by="symbol", sort_by="time")
    with pytest.raises(ColumnNotFoundError, match="'price' not found"):
        vf.enrich(df, [vf.TagCondition("x", lambda r: r["q"] > 0, inputs=["price"])], by="symbol")
    with pytest.raises(DataError, match="column 'qty' has 1 null"):
        vf.enrich(df, [vf.TagCondition("x", lambda r: r["qty"] > 0)], by="symbol")
    with pytest.raises(VizflowError, match=r"several rules write the column\(s\) \['x'\]"):
        vf.Enricher([vf.TagRunning("x", seq, 0), vf.TagRunning("x", seq, 0)], by="symbol")
    with pytest.raises(VizflowError, match="already exist"):
        vf.enrich(df, [vf.TagRunning("qty", seq, 0)], by="symbol")
    with pytest.raises(VizflowError, match="no rules"):
        vf.Enricher([], by="symbol")


def test_empty_frame_single_symbol_and_many_tiny_symbols():
    empty = _frame([])
    out = vf.enrich(
        empty, [vf.TagRunning("seq", seq, 0), vf.TagCondition("big", is_large)], by="symbol", sort_by="t"
    )
    assert out.height == 0
    assert out.columns[-2:] == ["seq", "big"]
    tiny = pl.DataFrame({"symbol": [str(i) for i in range(1000)], "t": [0] * 1000})
    assert vf.enrich(tiny, [vf.TagRunning("seq", seq, 0)], by="symbol")["seq"].to_list() == [1] * 1000
    one = pl.DataFrame({"symbol": ["a"] * 5, "t": [5, 4, 3, 2, 1]})
    assert vf.enrich(one, [vf.TagRunning("seq", seq, 0)], by="symbol", sort_by="t")["seq"].to_list() == [
        5,
        4,
        3,
        2,
        1,
    ]


def test_null_symbols_form_their_own_first_group():
    df = pl.DataFrame({"symbol": [None, "a", None, "a"], "t": [1, 1, 2, 2]})
    out = vf.enrich(df, [vf.TagRunning("seq", seq, 0)], by="symbol", sort_by="t")
    assert out["seq"].to_list() == [1, 1, 2, 2]
    grouped = df.sort("symbol", "t", nulls_last=False)  # already grouped: the O(n) path
    assert vf.enrich(grouped, [vf.TagRunning("seq", seq, 0)], by="symbol", sort_by="t")["seq"].to_list() == [
        1,
        2,
        1,
        2,
    ]


class LastQtyChange(vf.TagRule):
    """A custom rule that brings its own compiled pass (``compute``) instead of ``process``."""

    @property
    def output_columns(self):
        return ["qty_change"]

    @property
    def inputs(self):
        return ["qty"]

    def compute(self, records, offsets):
        return _qty_change_nb(offsets, records["qty"].astype(np.int64))


@numba.njit(cache=True)
def _qty_change_nb(offsets, qty):
    out = np.zeros(qty.size, np.int64)
    for g in range(offsets.size - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            out[i] = qty[i] - qty[i - 1]
    return out


def test_custom_rule_with_its_own_numba_kernel():
    df = pl.DataFrame({"symbol": ["a", "b", "a", "a"], "t": [1, 1, 3, 2], "qty": [5, 7, 9, 6]})
    out = vf.enrich(df, [LastQtyChange()], by="symbol", sort_by="t")
    assert out["qty_change"].to_list() == [0, 0, 3, 1]  # a: 5 -> 6 -> 9 in time order
