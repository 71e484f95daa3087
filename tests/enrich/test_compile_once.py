"""Issue 25: a compiled rule compiles once; the values it reads are arguments, not constants."""

from __future__ import annotations

import importlib.util
import json
import linecache
import math
import subprocess
import sys
import textwrap
from math import floor

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.enrich import compile as compile_mod
from vizflow.enrich.compile import jit_rule, memo_size
from vizflow.enrich.rule_source import function_node
from vizflow.exceptions import DataError

QTY = pl.DataFrame(
    {"symbol": ["a", "b", "a", "b", "a", "a"], "t": [1, 1, 2, 2, 3, 4], "qty": [50, 300, 200, 500, 120, 7]}
)
RECORD = np.dtype([("qty", np.int64)])

THRESH = 0
SCALE = 1
WEIGHTS = np.array([0.0, 0.0])
MODE = "x"


def _signatures(compiled):
    return {
        name: len(getattr(compiled, name).signatures)
        for name in ("function", "condition", "running", "running_checked")
    }


def _tags(rules, frame=QTY):
    return vf.enrich(frame, rules, by="symbol", sort_by="t")


# --- the compile count -----------------------------------------------------------------------------


def test_regression_a_new_global_value_compiles_nothing():
    """Every new THRESH compiled the rule and its pass again (276 ms a call) and kept both forever."""
    global THRESH

    def big():
        return vf.TagCondition("big", lambda r: r["qty"] > THRESH)

    THRESH = 100
    _tags([big()])
    compiled = jit_rule(big().fn, RECORD, rule="big")
    before, size = _signatures(compiled), memo_size()
    for THRESH in range(101, 141):
        assert _tags([big()])["big"].to_list() == [q > THRESH for q in QTY["qty"]]
    assert jit_rule(big().fn, RECORD, rule="big") is compiled
    assert (_signatures(compiled), memo_size()) == (before, size)


def test_regression_a_new_closure_value_compiles_nothing():
    def running(scale):
        return vf.TagRunning("scaled", lambda p, r: p + r["qty"] * scale, 0)

    record = np.dtype([("qty", np.int64)])
    _tags([running(2)])
    compiled = jit_rule(running(2).fn, record, rule="scaled", n_args=2)
    before = _signatures(compiled)
    sums = [_tags([running(s)]).filter(pl.col("symbol") == "a")["scaled"].to_list()[-1] for s in range(3, 30)]
    assert sums == [377 * s for s in range(3, 30)]
    assert jit_rule(running(99).fn, record, rule="scaled", n_args=2) is compiled
    assert _signatures(compiled) == before


def test_a_new_type_of_value_compiles_one_signature_of_the_same_rule():
    def above(level):
        return vf.TagCondition("big", lambda r: r["qty"] > level)

    compiled = jit_rule(above(1).fn, RECORD, rule="big")
    _tags([above(1)])
    ints = len(compiled.function.signatures)
    _tags([above(1.5)])
    _tags([above(2.5)])
    assert len(compiled.function.signatures) == ints + 1  # int64 then float64, once each
    assert jit_rule(above(3.5).fn, RECORD, rule="big") is compiled


def test_regression_an_array_global_is_an_argument_and_read_at_each_call():
    global WEIGHTS
    rule = vf.TagRunning("w", lambda p, r: p + WEIGHTS[1] * r["qty"], 0.0)
    frame = QTY.filter(pl.col("symbol") == "b")
    results = []
    for WEIGHTS in [np.array([1.0, 2.0]), np.array([10.0, 20.0])]:
        results.append(_tags([rule], frame)["w"].to_list())
        WEIGHTS[1] = -1.0  # changed in place after the call: the next call must see the new array
    assert results == [[600.0, 1600.0], [6000.0, 16000.0]]
    compiled = jit_rule(rule.fn, np.dtype([("qty", np.int64)]), rule="w", n_args=2)
    assert compiled.names == ("WEIGHTS",)


def test_regression_a_rule_calling_an_imported_module_takes_its_values_as_arguments():
    """``math.sqrt(x)`` compiles differently when ``math`` was imported at module level (3.11+):
    the recompiled definition did not match the function's bytecode, so every new value compiled."""

    def rule(thresh):
        return vf.TagCondition("big", lambda r: math.sqrt(r["qty"]) + np.abs(r["t"]) > thresh)

    compiled = jit_rule(rule(10).fn, np.dtype([("qty", np.int64), ("t", np.int64)]), rule="big")
    assert (compiled.names, compiled.module is not None) == (("thresh",), True)
    got = [_tags([rule(level)])["big"].to_list() for level in (10, 20)]
    expected = [
        [math.sqrt(q) + t > level for q, t in zip(QTY["qty"], QTY["t"], strict=True)] for level in (10, 20)
    ]
    assert got == expected


def test_a_rule_calling_a_function_imported_from_math_is_cached_on_disk():
    def rule(thresh):
        return vf.TagCondition("half", lambda r: floor(r["qty"] / 2) > thresh)

    assert jit_rule(rule(10).fn, RECORD, rule="half").module is not None
    got = [_tags([rule(level)])["half"].to_list() for level in (60, 150)]
    assert got == [[q // 2 > level for q in QTY["qty"]] for level in (60, 150)]


def test_default_argument_values_are_arguments_too():
    rules = [vf.TagCondition("big", lambda r, t=level: r["qty"] > t) for level in (100, 250)]
    assert [_tags([rule])["big"].sum() for rule in rules] == [4, 2]
    compiled = jit_rule(rules[0].fn, RECORD, rule="big")
    assert (compiled.n_defaults, jit_rule(rules[1].fn, RECORD, rule="big")) == (1, compiled)


# --- the answers, for every value -------------------------------------------------------------------

NUMBERS = st.one_of(st.integers(-(2**40), 2**40), st.floats(), st.booleans(), st.sampled_from([0.0, -0.0]))
"""Python numbers; numpy scalars follow numpy's own promotion on the Python path (NEP 50)."""
THRESHOLDS = NUMBERS | st.sampled_from([np.int32(7), np.float32(1.5), np.int64(-3)])


@given(thresh=THRESHOLDS, scale=NUMBERS, qty=st.lists(st.integers(-1000, 1000), min_size=1, max_size=12))
def test_answers_equal_the_python_path_for_every_value(thresh, scale, qty):
    global THRESH, SCALE
    THRESH, SCALE = thresh, scale
    frame = pl.DataFrame({"symbol": ["a", "b"] * len(qty), "t": list(range(2 * len(qty))), "qty": qty * 2})

    def rules(jit):
        return [
            vf.TagCondition("above", lambda r: r["qty"] > THRESH, jit=jit),
            vf.TagCondition("near", lambda r: abs(r["qty"] - thresh) < 10, jit=jit),
            vf.TagRunning("sum", lambda p, r: p + r["qty"] * SCALE, 0.0, jit=jit),
        ]

    compiled, python = _tags(rules(True), frame), _tags(rules(False), frame)
    assert compiled.select("above", "near").equals(python.select("above", "near"))
    np.testing.assert_array_equal(compiled["sum"].to_numpy(), python["sum"].cast(pl.Float64).to_numpy())


def test_regression_a_global_changed_between_calls_of_the_same_rule_object():
    global THRESH
    rule = vf.TagCondition("big", lambda r: r["qty"] > THRESH)
    sums = []
    for THRESH in [100, 250, 400, 100]:  # noqa: B007 (the rule reads it)
        sums.append(_tags([rule])["big"].sum())
    assert sums == [4, 2, 1, 4]


# --- values that stay compiled in, and the bound of the memo ----------------------------------------


def test_regression_the_memo_of_baked_values_is_bounded(monkeypatch):
    """The memo kept every compiled version forever (+3.7 MiB a value); now at most MEMO_SIZE."""
    global MODE
    monkeypatch.setattr(compile_mod, "MEMO_SIZE", 3)
    monkeypatch.setenv("VIZFLOW_CACHE_DIR", "off")
    rule = vf.TagCondition("m", lambda r: (r["qty"] > 100) if MODE == "gt" else (r["qty"] < 100))
    got = []
    for MODE in ["gt", "lt", "x1", "x2", "x3", "gt"]:  # noqa: B007 (a string is compiled in: a key each)
        got.append(_tags([rule])["m"].sum())
        assert memo_size() <= 3
    assert got == [4, 2, 2, 2, 2, 4]


def test_a_rule_calling_a_user_function_is_compiled_in_memory_and_follows_it():
    import numba

    def make(factor):
        helper = numba.njit(lambda x: x * factor)
        return vf.TagCondition("big", lambda r: helper(r["qty"]) > 400)

    assert [_tags([make(f)])["big"].sum() for f in (1, 2)] == [1, 2]
    assert jit_rule(make(3).fn, RECORD, rule="big").module is None


def test_a_rule_without_source_keeps_its_values_compiled_in_and_answers_right():
    namespace = {"LIMIT": 100}
    exec("rule = lambda r: r['qty'] > LIMIT", namespace)
    assert function_node(namespace["rule"].__code__) is None
    sums = []
    for namespace["LIMIT"] in (100, 250):
        sums.append(_tags([vf.TagCondition("big", namespace["rule"])])["big"].sum())
    assert sums == [4, 2]


def test_regression_a_source_file_edited_after_import_is_not_used(tmp_path):
    """The definition found in an edited file is not the code Python runs: values stay baked."""
    path = tmp_path / "edited_rule.py"
    path.write_text("LIMIT = 100\nrule = lambda r: r['qty'] > LIMIT\n")
    spec = importlib.util.spec_from_file_location("edited_rule", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path.write_text("LIMIT = 100\nrule = lambda r: r['qty'] < LIMIT\n")
    linecache.checkcache(str(path))
    assert function_node(module.rule.__code__) is None
    module.LIMIT = 250
    assert _tags([vf.TagCondition("big", module.rule)])["big"].sum() == 2


COLS = ("qty", "t")
K = 0


def test_regression_a_value_numba_needs_as_a_constant_is_compiled_in_instead():
    """``r[COLS[K]]`` needs K at compile time: as an argument it does not compile; baked it does."""
    global K
    rule = vf.TagCondition("pick", lambda r: r[COLS[K]] > 2)
    got = []
    for K in (0, 1):  # noqa: B007 (the rule reads it)
        got.append(_tags([rule])["pick"].to_list())
    assert got == [[q > 2 for q in QTY["qty"]], [t > 2 for t in QTY["t"]]]


def test_a_cache_folder_that_cannot_be_written_compiles_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VIZFLOW_CACHE_DIR", str(blocker / "rules"))

    def rule(thresh):
        return vf.TagCondition("odd", lambda r: r["qty"] % 2 == 1 and r["qty"] > thresh - 1)

    assert jit_rule(rule(0).fn, RECORD, rule="odd").module is None
    assert [_tags([rule(level)])["odd"].sum() for level in (0, 10)] == [1, 0]


# --- errors -----------------------------------------------------------------------------------------


def test_an_error_in_a_rule_reading_an_argument_names_the_rule_and_the_row():
    divisor = 0
    rule = vf.TagCondition("div", lambda r: r["qty"] // divisor > 1)
    with pytest.raises(
        DataError, match=r"rule 'div' failed at row 0 \(symbol='a', t=1\) .*ZeroDivisionError"
    ):
        _tags([rule])
    divisor = 100
    assert _tags([rule])["div"].sum() == 3  # 300, 200 and 500


# --- the disk cache, in fresh processes ---------------------------------------------------------------

SCRIPT = """
import json, sys
import polars as pl
import vizflow as vf
from vizflow.enrich.compile import jit_rule

thresh = float(sys.argv[1])
frame = pl.DataFrame({"symbol": ["a", "a", "b"], "t": [1, 2, 1], "qty": [5, 50, 500]})
rules = [
    vf.TagCondition("big", lambda r: r["qty"] > thresh),
    vf.TagRunning("cum", lambda p, r: p + r["qty"] * thresh, 0.0),
]
out = vf.enrich(frame, rules, by="symbol", sort_by="t")
stats = {}
for rule, n in zip(rules, (1, 2)):
    record = frame.select("qty").to_numpy(structured=True).dtype
    compiled = jit_rule(rule.fn, record, rule=rule.name, n_args=n)
    for name in ("function", "condition" if n == 1 else "running"):
        s = getattr(compiled, name).stats
        stats[f"{rule.name}.{name}"] = [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
print(json.dumps({"stats": stats, "big": out["big"].to_list(), "cum": out["cum"].to_list()}))
"""


def test_regression_a_fresh_process_with_a_warm_cache_compiles_nothing(tmp_path):
    """Each spawn worker compiled every rule again; now a second process loads them from disk."""
    script = tmp_path / "worker_rules.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {"VIZFLOW_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(thresh):
        done = subprocess.run(
            [sys.executable, str(script), str(thresh)], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    cold, warm = run(10), run(100)
    assert all(misses > 0 and hits == 0 for hits, misses in cold["stats"].values()), cold
    assert all(misses == 0 and hits > 0 for hits, misses in warm["stats"].values()), warm
    assert (cold["big"], warm["big"]) == ([False, True, True], [False, False, True])
    assert warm["cum"] == [500.0, 5500.0, 50000.0]
