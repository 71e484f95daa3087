"""Enricher / TagCondition / TagRunning against the plan's row-by-row reference."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import math
import types
import typing

import numba
import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import vizflow as vf
from tests.arrangements import arrange, force_threads
from tests.reference import enrich_reference
from vizflow.enrich.compile import jit_rule, read_columns
from vizflow.exceptions import ColumnNotFoundError, CompileError, DataError, SchemaError, VizflowError

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
    record = np.dtype([("qty", np.int64)])
    compiled = [jit_rule(lambda p, r: p + r["qty"], record, rule="s", n_args=2) for _ in range(3)]
    assert compiled[0] is compiled[1] is compiled[2]  # a new lambda object each time, same code


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
    """The change of ``column`` since the key's previous row (a rule with state, on the Python path)."""

    def __init__(self, column="px"):
        self.column = column

    @property
    def output_columns(self):
        return ["change"]

    @property
    def inputs(self):
        return [self.column]

    def process(self, row, state):
        change = None if state.last is None else row[self.column] - state.last
        state.last = row[self.column]
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


class LastOfGroup(vf.ExpandingRule):
    """Keep each group's last row, with its quantity doubled; records what it was shown."""

    seen: typing.ClassVar[list[list[str]]] = []

    @property
    def output_columns(self):
        return ["double"]

    @property
    def inputs(self):
        return ["qty"]

    def expand(self, sorted_frame, offsets, row_index, by):
        LastOfGroup.seen.append(sorted_frame.columns)
        source = offsets[1:] - 1
        return source, {"double": sorted_frame["qty"].gather(source) * 2}


@given(rows=st.lists(ROW, min_size=1, max_size=60), seed=st.integers(0, 2**16))
def test_regression_expanding_rule_reads_its_columns_and_output_is_one_gather(rows, seed):
    """Issue 13: the rule is shown only the keys, the order, its inputs and the tags, sorted; the
    output carries every input column of the rows it picked (one gather of the input rows)."""
    df = _frame(rows).with_row_index("i").sample(fraction=1.0, shuffle=True, seed=seed)
    LastOfGroup.seen.clear()
    out = vf.enrich(df, [vf.TagRunning("seq", seq, 0), LastOfGroup()], by="symbol", sort_by="t")
    assert LastOfGroup.seen == [["symbol", "t", "qty", "seq"]]
    last = {}
    for i, row in sorted(
        enumerate(rows), key=lambda r: (r[1]["symbol"], r[1]["t"], df["i"].to_list().index(r[0]))
    ):
        last[row["symbol"]] = i
    expected = df.filter(pl.col("i").is_in(list(last.values()))).sort("symbol")
    assert out.select(df.columns).equals(expected.select(df.columns))
    assert out["double"].to_list() == (expected["qty"] * 2).to_list()
    assert out["seq"].to_list() == [sum(r["symbol"] == s for r in rows) for s in expected["symbol"]]


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


# --- regressions of issue 11 (findings A.3, A.6, A.9, B.1 and C "enrich") ------------------------

THRESH = 0
SCALE = 1
LIMITS = types.ModuleType("limits")
LIMITS.qty = 0
QTY = pl.DataFrame({"symbol": ["a", "b", "a", "b", "a"], "qty": [50, 300, 200, 500, 120]})


def test_regression_compiled_rule_sees_current_globals():
    """A.3: the memo keyed on the code object alone answered with the first THRESH every time."""
    global THRESH, SCALE
    qty = QTY["qty"].to_list()
    for THRESH in [100, 250, 400, 100]:
        for jit in (True, False):
            rule = vf.TagCondition("big", lambda r: r["qty"] > THRESH, jit=jit)  # noqa: B023
            got = vf.enrich(QTY, [rule], by="symbol")["big"].to_list()
            assert got == [q > THRESH for q in qty], (THRESH, jit)
    for SCALE in [1, 3, 0.5]:
        rule = vf.TagRunning("scaled", lambda p, r: p + r["qty"] * SCALE, 0)  # noqa: B023
        out = vf.enrich(QTY.filter(pl.col("symbol") == "a"), [rule], by="symbol")["scaled"]
        assert out.to_list() == [50 * SCALE, 250 * SCALE, 370 * SCALE]
        assert out.dtype == (pl.Float64 if isinstance(SCALE, float) else pl.Int64)  # 1 vs 1.0 differ


def test_regression_compiled_rule_sees_current_closure_and_module_attribute():
    """A.3 with closures: a cell reassigned after the rule was built, and a module attribute."""
    limit = 100
    rule = vf.TagCondition("big", lambda r: r["qty"] > limit)
    first = vf.enrich(QTY, [rule], by="symbol")["big"].sum()
    limit = 250
    assert (first, vf.enrich(QTY, [rule], by="symbol")["big"].sum()) == (4, 2)

    def above(level):
        return vf.TagCondition("big", lambda r: r["qty"] > level)

    sums = [vf.enrich(QTY, [above(level)], by="symbol")["big"].sum() for level in (100, 250, 400)]
    assert sums == [4, 2, 1]
    for LIMITS.qty, expected in [(100, 4), (400, 1)]:
        rule = vf.TagCondition("big", lambda r: r["qty"] > LIMITS.qty)
        assert vf.enrich(QTY, [rule], by="symbol")["big"].sum() == expected


def test_regression_an_unhashable_global_is_recompiled_not_frozen():
    """A.3: a numpy array global cannot key the memo; each call must see its current contents."""
    global WEIGHTS
    for WEIGHTS in [np.array([1, 2]), np.array([10, 20])]:
        rule = vf.TagRunning("w", lambda p, r: p + WEIGHTS[1] * r["qty"], 0)  # noqa: B023
        assert vf.enrich(QTY.head(1), [rule], by="symbol")["w"].to_list() == [50 * WEIGHTS[1]]


WEIGHTS = np.array([0, 0])


def _previous_price_reference(rows: list[dict], by: list[str]) -> list[bool | None]:
    """``price > previous price`` of the same key in (t, input) order, by hand."""
    out: list[bool | None] = []
    for i, row in enumerate(rows):
        same = [
            (r["t"], j) for j, r in enumerate(rows)
            if all(r[c] == row[c] for c in by) and (r["t"], j) < (row["t"], i)
        ]  # fmt: skip
        out.append(None if not same else row["price"] > rows[max(same)[1]]["price"])
    return out


def test_regression_expression_condition_follows_by_and_sort_by():
    """A.6: an expression ran over the whole frame in input order, ignoring by and sort_by."""
    df = pl.DataFrame({"symbol": ["a", "b", "a", "b"], "t": [2, 1, 1, 2], "price": [10.0, 5.0, 9.0, 4.0]})
    rule = vf.TagCondition("up", pl.col("price") > pl.col("price").shift(1))
    out = vf.enrich(df, [rule], by="symbol", sort_by="t")
    assert out["up"].to_list() == [True, None, None, False]  # a: 9 -> 10 up; b: 5 -> 4 down
    assert out.drop("up").equals(df)


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "day": st.sampled_from([1, 2]),
                "symbol": st.sampled_from([9, 10, 100]),
                "t": st.integers(0, 4),
                "price": st.integers(1, 5).map(float),
            }
        ),
        max_size=30,
    ),
    keys=st.sampled_from([["symbol"], ["day", "symbol"], []]),
)
def test_expression_condition_per_group_in_time_order_equals_reference(rows, keys):
    df = pl.DataFrame(rows, schema={"day": pl.Int64, "symbol": pl.Int64, "t": pl.Int64, "price": pl.Float64})
    rule = vf.TagCondition("up", pl.col("price") > pl.col("price").shift(1))
    out = vf.enrich(df, [rule], by=keys, sort_by="t")
    assert out["up"].to_list() == _previous_price_reference(rows, keys)


def test_expression_condition_must_be_boolean():
    df = pl.DataFrame({"symbol": ["a"], "qty": [1]})
    with pytest.raises(SchemaError, match=r"rule 'x': the expression .* gives Int64; .* must give Boolean"):
        vf.enrich(df, [vf.TagCondition("x", pl.col("qty") * 2)], by="symbol")


KEY_VALUES = {
    "Int64": (pl.Int64, [10, 9, -3, None]),
    "UInt32": (pl.UInt32, [10, 9, 0]),
    "String": (pl.String, ["b", "a", "10", None]),
    "Categorical": (pl.Categorical(), ["b", "a", "10", None]),
    "Enum": (pl.Enum(["z", "b", "a"]), ["b", "a", "z"]),
    "Date": (pl.Date, [dt.date(2024, 1, 3), dt.date(2024, 1, 2), dt.date(2023, 12, 29), None]),
    "Boolean": (pl.Boolean, [True, False, None]),
}


@pytest.mark.parametrize("kind", list(KEY_VALUES))
@given(data=st.data())
def test_any_key_dtype_and_several_key_columns_match_by_value(kind, data):
    """Issue 11 keys: every key dtype groups by value; several key columns group by tuple."""
    dtype, values = KEY_VALUES[kind]
    rows = data.draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "key": st.sampled_from(values),
                    "venue": st.sampled_from([1, 2]),
                    "t": st.integers(0, 5),
                    "qty": st.integers(1, 100),
                    "side": st.sampled_from([-1, 1]),
                }
            ),
            max_size=40,
        )
    )
    df = pl.DataFrame(
        rows, schema={"key": dtype, "venue": pl.Int64, "t": pl.Int64, "qty": pl.Int64, "side": pl.Int8}
    )
    rules = [vf.TagRunning("seq", seq, 0), vf.TagRunning("position", position, 0, jit=False)]
    for by in (["key"], ["key", "venue"], ["venue", "key"]):
        out = vf.enrich(df, rules, by=by, sort_by="t")
        expected = enrich_reference(rows, by, "t", running={"seq": (seq, 0), "position": (position, 0)})
        assert out["seq"].to_list() == expected["seq"], by  # compiled
        assert out["position"].to_list() == expected["position"], by  # Python path


MULTI_DAY_ROW = st.fixed_dictionaries(
    {
        "date": st.sampled_from(["20240102", "20240103", "20240104"]),
        "symbol": st.sampled_from([600519, 9, 10]),
        "t": st.integers(0, 5),
        "qty": st.integers(1, 100),
        "side": st.sampled_from([-1, 1]),
    }
)
MULTI_DAY_SCHEMA = {"date": pl.String, "symbol": pl.Int64, "t": pl.Int64, "qty": pl.Int64, "side": pl.Int8}


@given(rows=st.lists(MULTI_DAY_ROW, max_size=50), seed=st.integers(0, 2**16))
@example(rows=[], seed=0)
def test_per_day_runs_concatenated_equal_one_run_keyed_by_date_and_symbol(rows, seed):
    """Metamorphic (issue 11): split by date, enrich each day, concatenate == one keyed run."""
    df = pl.DataFrame(rows, schema=MULTI_DAY_SCHEMA).with_row_index("row")
    rules = [vf.TagRunning("position", position, 0), vf.TagCondition("big", is_large)]
    whole = vf.enrich(df, rules, by=["date", "symbol"], sort_by="t")
    days = [
        vf.enrich(df.filter(pl.col("date") == d), rules, by="symbol", sort_by="t")
        for d in sorted(set(df["date"]))
    ]
    assert whole.equals(pl.concat(days).sort("row") if days else whole)
    # Integer keys, shuffled rows: the same tags per row (ties in t broken by the original row).
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
    again = vf.enrich(shuffled, rules, by=["date", "symbol"], sort_by=["t", "row"])
    assert again.sort("row").equals(whole)
    grouped = df.sort("date", "symbol", "t", "row")  # already sorted: the run-length path
    assert vf.enrich(grouped, rules, by=["date", "symbol"], sort_by="t").sort("row").equals(whole)


def test_regression_several_dates_without_date_key_are_refused():
    """A.1 for enrich: three days keyed by symbol alone chained one day's state into the next."""
    df = pl.DataFrame({"date": ["20240102", "20240103"], "symbol": ["a", "a"], "t": [1, 1], "qty": [1, 2]})
    with pytest.raises(DataError, match=r"column 'date' holds 2 dates.*\['date', 'symbol'\]"):
        vf.enrich(df, [vf.TagRunning("s", seq, 0)], by="symbol", sort_by="t")
    out = vf.enrich(df, [vf.TagRunning("s", seq, 0)], by=["date", "symbol"], sort_by="t")
    assert out["s"].to_list() == [1, 1]


@pytest.mark.parametrize("by", [[], None])
def test_regression_empty_by_is_one_group_not_a_panic(by):
    """B.1: enrich(..., by=[]) panicked inside Polars; no keys means one group."""
    df = pl.DataFrame({"symbol": ["b", "a", "b"], "t": [3, 1, 2], "qty": [1, 2, 3]})
    rules = [vf.TagRunning("seq", seq, 0), PriceChange("qty")]
    Reset.keys = []
    out = vf.enrich(df, rules, by=by, sort_by="t", state_class=Reset)
    assert out["seq"].to_list() == [3, 1, 2]
    assert out["change"].to_list() == [-2, None, 1]  # python path: one group, reset(None) once
    assert Reset.keys == [None]
    assert vf.enrich(df, [vf.TagRunning("seq", seq, 0)], by=by)["seq"].to_list() == [1, 2, 3]
    with pytest.raises(VizflowError, match="by=5; expected a column name"):
        vf.enrich(df, [vf.TagRunning("seq", seq, 0)], by=5)


class Reset(vf.State):
    keys: typing.ClassVar[list] = []

    def reset(self, symbol):
        Reset.keys.append(symbol)
        self.last = None


def test_regression_running_uint64_sum_stays_uint64():
    """A.9: a TagRunning sum over UInt64 [2**62, 2**62 + 1] came back as a negative Int64."""
    df = pl.DataFrame({"symbol": ["a", "a"], "q": pl.Series([2**62, 2**62 + 1], dtype=pl.UInt64)})
    out = vf.enrich(df, [vf.TagRunning("s", lambda p, r: p + r["q"], 0)], by="symbol")
    assert out.schema["s"] == pl.UInt64
    assert out["s"].to_list() == [2**62, 2**63 + 1]


def test_regression_running_integer_overflow_raises_naming_rule_row_and_columns():
    """A.9: an integer running value that wraps around must be an error, not a wrong number."""
    big = pl.DataFrame({"symbol": ["a", "b", "a", "a"], "t": [1, 1, 2, 3], "q": [2**62, 1, 2**62, 1]})
    with pytest.raises(
        DataError,
        match=r"rule 's' failed at row 2 \(symbol='a', t=2\) reading \{'q': 4611686018427387904\}: "
        r"the running Int64 value overflows",
    ):
        vf.enrich(big, [vf.TagRunning("s", lambda p, r: p + r["q"], 0)], by="symbol", sort_by="t")
    unsigned = pl.DataFrame({"symbol": ["a"], "q": pl.Series([1], dtype=pl.UInt64)})
    with pytest.raises(DataError, match="UInt64 value overflows"):  # below 0 wraps too
        vf.enrich(unsigned, [vf.TagRunning("s", lambda p, r: p - r["q"], 0)], by="symbol")
    floats = vf.enrich(big, [vf.TagRunning("s", lambda p, r: p + r["q"], 0.0)], by="symbol", sort_by="t")
    assert floats["s"].to_list() == [2.0**62, 1.0, 2.0**63, 2.0**63 + 1]


def test_regression_compiled_zero_division_names_rule_and_row():
    """C: a compiled ZeroDivisionError named neither the rule nor the row."""
    df = pl.DataFrame({"symbol": ["b", "a", "a"], "t": [1, 2, 1], "qty": [3, 0, 2]})
    with pytest.raises(
        DataError,
        match=r"rule 'inv' failed at row 1 \(symbol='a', t=2\) reading \{'qty': 0\}: ZeroDivisionError",
    ):
        vf.enrich(df, [vf.TagRunning("inv", lambda p, r: p + 1 // r["qty"], 0)], by="symbol", sort_by="t")
    with pytest.raises(DataError, match=r"rule 'c' failed at row 1 .*ZeroDivisionError"):
        vf.enrich(df, [vf.TagCondition("c", lambda r: 1 / r["qty"] > 0)], by="symbol", sort_by="t")


ERROR_CASES = {
    "returns a string": (
        lambda: vf.TagCondition("x", lambda r: "big"),
        CompileError,
        r"rule 'x' returns unicode_type; .*number or a boolean",
    ),
    "returns None": (
        lambda: vf.TagCondition("x", lambda r: None),
        CompileError,
        r"rule 'x' returns none; .*NaN rather than None",
    ),
    "initial None": (
        lambda: vf.TagRunning("x", lambda p, r: p, None),
        CompileError,
        r"'x': initial=None; .*jit=False",
    ),
    "running with one argument": (
        lambda: vf.TagRunning("x", lambda r: 1, 0),
        CompileError,
        r"rule 'x': the function takes 1 .*expected 2",
    ),
    "condition with two arguments": (
        lambda: vf.TagCondition("x", lambda p, r: 1),
        CompileError,
        r"rule 'x': the function takes 2 .*expected 1",
    ),
    "not a function": (
        lambda: vf.TagCondition("x", 5),
        vf.CompileError,  # exported with the other errors
        r"rule 'x': expected a function like lambda r: .*got int 5",
    ),
    "decimal column": (
        lambda: vf.TagCondition("x", lambda r: r["d"] > 1),
        SchemaError,
        r"column 'd' has dtype Decimal.*cast\(pl.Float64\)",
    ),
    "column not declared": (
        lambda: vf.TagCondition("x", lambda r: r[NAME] > 1, inputs=[]),
        CompileError,
        r"rule 'x' .*Field 'qty'.*inputs=",
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_regression_numba_errors_name_the_rule(case):
    """C: raw numba errors (TypingError, Signature mismatch, AttributeError __code__) became clear."""
    make, error, message = ERROR_CASES[case]
    df = pl.DataFrame({"symbol": ["a"], "qty": [1], "d": [1.5]}).with_columns(
        pl.col("d").cast(pl.Decimal(10, 2))
    )
    with pytest.raises(error, match=message):
        vf.enrich(df, [make()], by="symbol")


NAME = "qty"


def test_regression_columns_read_through_globals_and_closures_are_found():
    """C: r[name] with name in a closure gave "Field 'qty' was not found in record"."""
    column = "qty"
    df = pl.DataFrame({"symbol": ["a", "a"], "qty": [1, 5]})
    closure = vf.enrich(df, [vf.TagCondition("x", lambda r: r[column] > 2)], by="symbol")
    module = vf.enrich(df, [vf.TagCondition("x", lambda r: r[NAME] > 2)], by="symbol")
    assert closure["x"].to_list() == module["x"].to_list() == [False, True]


def test_regression_columns_named_like_parameters_are_not_read():
    """C: a string column named r, p or max was taken as read (and refused as not numeric)."""
    df = pl.DataFrame(
        {"symbol": ["a", "a"], "qty": [3, 1], "r": ["x", "y"], "p": ["u", "v"], "max": ["m", "n"]}
    )
    out = vf.enrich(df, [vf.TagRunning("hi", lambda p, r: max(p, r["qty"]), 0)], by="symbol")
    assert out["hi"].to_list() == [3, 3]
    assert read_columns(
        lambda p, r: max(p, r.qty) + math.floor(r["px"]), ["r", "p", "max", "floor", "qty", "px"]
    ) == [
        "qty",
        "px",
    ]


@given(qty=st.lists(st.integers(-3, 3), max_size=20))
def test_numeric_condition_is_a_boolean_like_bool(qty):
    """A compiled TagCondition returning a number is its truth value, as on the Python path."""
    df = pl.DataFrame({"symbol": ["a"] * len(qty), "qty": qty}, schema={"symbol": pl.String, "qty": pl.Int64})
    compiled = vf.enrich(df, [vf.TagCondition("x", lambda r: r["qty"] * 2)], by="symbol")
    python = vf.enrich(df, [vf.TagCondition("x", lambda r: r["qty"] * 2, jit=False)], by="symbol")
    assert compiled.schema["x"] == pl.Boolean
    assert compiled["x"].to_list() == python["x"].to_list() == [q != 0 for q in qty]


CONDITIONS = {
    "elementwise": pl.col("price") > 2,
    "when/null/between": pl.when(pl.col("price").is_null())
    .then(False)
    .otherwise(pl.col("price").is_between(2, 4)),
    "is_in a list": pl.col("price").is_in([1.0, 3.0]),
    "is_in a column": pl.col("price").is_in(pl.col("limit")),
    "shift": pl.col("price") > pl.col("price").shift(1),
    "group mean": pl.col("price") > pl.col("price").mean(),
    "cum_sum": pl.col("price").cum_sum() > 5,
    "fill forward": pl.col("price").fill_null(strategy="forward") > 2,
}


@pytest.mark.parametrize("name", list(CONDITIONS))
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([3, 1, 2]), st.integers(0, 4), st.none() | st.integers(1, 5).map(float)),
        max_size=25,
    )
)
def test_expression_conditions_equal_evaluation_on_each_sorted_group(name, rows):
    """A.6: each group alone, stable-sorted by time, evaluated by Polars, equals the enrich column."""
    df = pl.DataFrame(
        [(s, t, p, 2.0 + s) for s, t, p in rows],
        schema={"symbol": pl.Int64, "t": pl.Int64, "price": pl.Float64, "limit": pl.Float64},
        orient="row",
    ).with_row_index("row")
    expr = CONDITIONS[name]
    got = vf.enrich(df, [vf.TagCondition("c", expr)], by="symbol", sort_by="t")
    expected: dict[int, bool | None] = {}
    for symbol in set(df["symbol"]):
        group = df.filter(pl.col("symbol") == symbol).sort("t", maintain_order=True)
        expected.update(zip(group["row"], group.select(expr).to_series(), strict=True))
    assert got["c"].to_list() == [expected[i] for i in range(df.height)]
    assert got.drop("c").equals(df)


@numba.njit
def _prejitted_is_large(r):
    return r["qty"] > 50


def test_a_numba_function_and_a_callable_object_are_rules():
    """A function you compiled with numba.njit is used as is; a callable object runs with jit=False."""
    df = pl.DataFrame({"symbol": ["a", "a"], "qty": [10, 60], "r": ["x", "y"]})
    out = vf.enrich(df, [vf.TagCondition("big", _prejitted_is_large)], by="symbol")
    assert out["big"].to_list() == [False, True]
    threshold = functools.partial(lambda limit, r: r["qty"] > limit, 50)
    with pytest.raises(CompileError, match=r"numba compiles Python functions .*jit=False"):
        vf.TagCondition("big", threshold)
    assert vf.enrich(df, [vf.TagCondition("big", threshold, jit=False)], by="symbol")["big"].to_list() == [
        False,
        True,
    ]


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "symbol": st.sampled_from([600519, 9, None]),
                "t": st.one_of(st.integers(-3, 3), st.integers(-(2**62), 2**62)),  # ties and spread
                "qty": st.integers(1, 100),
                "side": st.sampled_from([-1, 1]),
            }
        ),
        max_size=300,
    ),
    time_dtype=st.sampled_from([pl.Int64, pl.Float64]),
    arrangement=st.sampled_from(["by time", "shuffled"]),
    seed=st.integers(0, 2**16),
    threaded=st.booleans(),
)
def test_regression_long_unsorted_groups_equal_the_row_by_row_reference(
    rows, time_dtype, arrangement, seed, threaded
):
    """Groups over 32 rows out of time order take the radix sort (issue 13), in threads or not."""
    schema = {"symbol": pl.Int64, "t": time_dtype, "qty": pl.Int64, "side": pl.Int8}
    df = pl.DataFrame(rows, schema=schema).with_row_index("i")
    df = arrange(df, arrangement, seed)
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        out = vf.enrich(
            df, [vf.TagRunning("seq", seq, 0), vf.TagRunning("position", position, 0)], "symbol", "t"
        )
    arranged = [
        rows[i] | {"t": float(rows[i]["t"]) if time_dtype == pl.Float64 else rows[i]["t"]} for i in df["i"]
    ]
    expected = enrich_reference(arranged, "symbol", "t", running={"seq": (seq, 0), "position": (position, 0)})
    assert out["seq"].to_list() == expected["seq"]
    assert out["position"].to_list() == expected["position"]


@given(
    rows=st.lists(ROW, min_size=1, max_size=60),
    key_dtype=st.sampled_from([pl.Int64, pl.String]),
    time_dtype=st.sampled_from([pl.Int64, pl.Float64]),
)
def test_regression_sorted_input_is_not_sorted_again(rows, key_dtype, time_dtype):
    """Rows already in (symbol, time) order take one pass, not key codes and a counting sort (issue 23)."""
    rows = [r | {"symbol": ord(r["symbol"]) if key_dtype == pl.Int64 else r["symbol"]} for r in rows]
    schema = SCHEMA | {"symbol": key_dtype, "t": time_dtype}
    df = pl.DataFrame(rows, schema=schema).sort("symbol", "t", maintain_order=True)

    def no_sort(*args, **kwargs):
        msg = "sorted again"
        raise AssertionError(msg)

    with pytest.MonkeyPatch.context() as mp:
        _forbid_sorting(mp, no_sort)
        out = vf.enrich(
            df, [vf.TagRunning("seq", seq, 0), vf.TagRunning("position", position, 0)], "symbol", "t"
        )
    ordered = df.to_dicts()
    expected = enrich_reference(ordered, "symbol", "t", running={"seq": (seq, 0), "position": (position, 0)})
    assert out["seq"].to_list() == expected["seq"]
    assert out["position"].to_list() == expected["position"]


def test_regression_a_rule_reads_a_record_of_its_own_columns_only(monkeypatch):
    """A rule reading one column gets a view of it, not a record gather of every rule's columns."""
    seen = {}
    original = vf.TagRunning.compute

    def spy(self, records, offsets):
        seen[self.name] = (records.dtype.names, records.base is not None)
        return original(self, records, offsets)

    monkeypatch.setattr(vf.TagRunning, "compute", spy)
    df = pl.DataFrame({"symbol": [1, 1, 2], "t": [1, 2, 1], "qty": [3, 4, 5], "side": [1, -1, 1]})
    rules = [vf.TagRunning("volume", lambda p, r: p + r["qty"], 0), vf.TagRunning("position", position, 0)]
    out = vf.enrich(df, rules, "symbol", "t")
    assert seen["volume"][0] == ("qty",)
    assert seen["position"][0] == ("qty", "side")
    assert out["volume"].to_list() == [3, 7, 5]
    assert out["position"].to_list() == [3, -1, 5]


@given(rows=st.lists(ROW, max_size=60))
def test_regression_row_by_row_conditions_need_no_sort(rows):
    """Compiled conditions and elementwise expressions give the same values in any row order: no sort."""
    df = _frame(rows)

    def no_sort(*args, **kwargs):
        msg = "sorted"
        raise AssertionError(msg)

    rules = [vf.TagCondition("is_large", is_large), vf.TagCondition("buy", pl.col("side") > 0)]
    with pytest.MonkeyPatch.context() as mp:
        _forbid_sorting(mp, no_sort)
        mp.setattr(importlib.import_module("vizflow.enrich.presorted"), "presorted_segments", no_sort)
        out = vf.enrich(df, rules, by="symbol", sort_by="t")
    assert out["is_large"].to_list() == [is_large(r) for r in rows]
    assert out["buy"].to_list() == [r["side"] > 0 for r in rows]


@given(
    rows=st.lists(
        st.tuples(ROW, st.sampled_from(["a", "b", None])).map(lambda x: x[0] | {"symbol": x[1]}),
        min_size=1,
        max_size=60,
    ),
    time_dtype=st.sampled_from([pl.Int64, pl.Float64]),
)
def test_regression_a_feed_in_time_order_is_not_sorted(rows, time_dtype):
    """Keys interleaved, each key's rows in time order: running values per key code, no sort (issue 23)."""
    df = pl.DataFrame(rows, schema=SCHEMA | {"t": time_dtype}).sort("t", maintain_order=True)

    def no_sort(*args, **kwargs):
        msg = "sorted"
        raise AssertionError(msg)

    rules = [
        vf.TagRunning("seq", seq, 0),
        vf.TagRunning("position", position, 0),
        vf.TagCondition("l", is_large),
    ]
    with pytest.MonkeyPatch.context() as mp:
        _forbid_sorting(mp, no_sort)
        out = vf.enrich(df, rules, by="symbol", sort_by="t")
    ordered = df.to_dicts()
    expected = enrich_reference(
        ordered,
        "symbol",
        "t",
        conditions={"l": is_large},
        running={"seq": (seq, 0), "position": (position, 0)},
    )
    assert out["seq"].to_list() == expected["seq"]
    assert out["position"].to_list() == expected["position"]
    assert out["l"].to_list() == expected["l"]


def test_regression_a_feed_overflow_names_the_row_and_uint64_stays_uint64():
    df = pl.DataFrame({"symbol": [1, 2, 1, 2], "t": [1, 1, 2, 2], "q": [2**62, 1, 2**62, 2]})
    with pytest.raises(DataError, match=r"rule 'cum' failed at row 2 \(symbol=1, t=2\).*overflows"):
        vf.enrich(df, [vf.TagRunning("cum", lambda p, r: p + r["q"], 0)], by="symbol", sort_by="t")
    unsigned = df.with_columns(pl.col("q").cast(pl.UInt64))
    out = vf.enrich(unsigned, [vf.TagRunning("cum", lambda p, r: p + r["q"], 0)], by="symbol", sort_by="t")
    assert out["cum"].dtype == pl.UInt64
    assert out["cum"].to_list() == [2**62, 1, 2**63, 3]


def test_regression_shuffled_overflow_is_found_through_the_order():
    """Running values on unsorted rows visit them through the order: the overflow check still runs there."""
    df = pl.DataFrame({"symbol": [1, 1, 2, 1], "t": [3, 1, 1, 2], "q": [1, 2**62, 5, 2**62]})
    with pytest.raises(
        DataError, match=r"rule 'cum' failed at row 3 \(symbol=1, t=2\).*Int64 value overflows"
    ):
        vf.enrich(df, [vf.TagRunning("cum", lambda p, r: p + r["q"], 0)], by="symbol", sort_by="t")
    threaded = pl.concat([df.with_columns(pl.col("symbol") + 10 * k) for k in range(40)])
    with pytest.MonkeyPatch.context() as mp:
        force_threads(mp)
        with pytest.raises(
            DataError, match=r"failed at row 3 \(symbol=1, t=2\)"
        ):  # the first, not a later run's
            vf.enrich(threaded, [vf.TagRunning("cum", lambda p, r: p + r["q"], 0)], by="symbol", sort_by="t")


@given(rows=st.lists(ROW, max_size=80), seed=st.integers(0, 2**16), threaded=st.booleans())
def test_regression_unsorted_rows_are_read_in_place_not_gathered(rows, seed, threaded):
    """Built-in rules on unsorted rows read the input columns where they are (no gather, no scatter)."""
    df = _frame(rows).with_row_index("i").sample(fraction=1.0, shuffle=True, seed=seed)

    def no_gather(*args, **kwargs):
        msg = "gathered"
        raise AssertionError(msg)

    rules = [
        vf.TagRunning("seq", seq, 0),
        vf.TagRunning("position", position, 0),
        vf.TagCondition("l", is_large),
    ]
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        mp.setattr(importlib.import_module("vizflow.enrich.enricher"), "_unsort", no_gather)
        mp.setattr(pl.DataFrame, "gather", no_gather)
        out = vf.enrich(df, rules, by="symbol", sort_by="t")
    expected = enrich_reference(
        [rows[i] for i in df["i"]],
        "symbol",
        "t",
        conditions={"l": is_large},
        running={"seq": (seq, 0), "position": (position, 0)},
    )
    assert out["seq"].to_list() == expected["seq"]
    assert out["position"].to_list() == expected["position"]
    assert out["l"].to_list() == expected["l"]


class _Volume(vf.TagRunning):
    """A subclass may read its records in sorted order: its columns are gathered into it."""


@given(rows=st.lists(ROW, max_size=60), seed=st.integers(0, 2**16))
def test_regression_a_column_read_in_place_and_gathered_reaches_each_rule_in_its_order(rows, seed):
    """``qty`` is read where it is by ``position`` and gathered into (symbol, t) order for the subclass."""
    df = _frame(rows).with_row_index("i").sample(fraction=1.0, shuffle=True, seed=seed)
    volume = _Volume("volume", lambda p, r: p + r["qty"], 0)
    out = vf.enrich(df, [vf.TagRunning("position", position, 0), volume], by="symbol", sort_by="t")
    expected = enrich_reference(
        [rows[i] for i in df["i"]],
        "symbol",
        "t",
        running={"position": (position, 0), "volume": (lambda p, r: p + r["qty"], 0)},
    )
    assert out["position"].to_list() == expected["position"]
    assert out["volume"].to_list() == expected["volume"]


def _forbid_sorting(mp: pytest.MonkeyPatch, fail: typing.Callable[..., typing.Any]) -> None:
    """Make every way the enricher sorts rows call ``fail``."""
    sorts = [
        ("enricher", "segments"),
        ("presorted", "segments"),
        ("presorted", "group_order"),
        ("presorted", "packed_order"),
    ]
    for name, attr in sorts:
        mp.setattr(importlib.import_module(f"vizflow.enrich.{name}"), attr, fail)
