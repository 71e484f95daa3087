"""Running sums (``p + step``, ``step + p``, ``p - step``) check overflow with integer comparisons.

The float64 shadow is switched off in these tests, so only the sum passes' own check can find
a value that would wrap: every test here fails if that check is removed.
"""

from __future__ import annotations

import importlib

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.arrangements import force_threads
from vizflow.exceptions import DataError

FORMS = {
    "p + step": lambda p, r: p + r["q"],
    "step + p": lambda p, r: r["q"] + p,
    "p - step": lambda p, r: p - r["q"],
}
SIGN = {"p + step": 1, "step + p": 1, "p - step": -1}
BOUNDS = {pl.Int64: (-(2**63), 2**63 - 1), pl.UInt64: (0, 2**64 - 1)}


@pytest.fixture(autouse=True)
def _no_shadow(monkeypatch):
    """Only the integer check of a running sum may find an overflow."""
    rules = importlib.import_module("vizflow.enrich.rules")
    monkeypatch.setattr(rules.TagRunning, "_has_float_shadow", lambda *args: False)


def _arranged(df: pl.DataFrame, arrangement: str, seed: int) -> pl.DataFrame:
    if arrangement == "shuffled":  # visited through the order
        return df.sample(fraction=1.0, shuffle=True, seed=seed)
    if arrangement == "by time":  # a feed: a value per key
        return df.sort("t", maintain_order=True)
    return df  # sorted: one pass over the groups


@given(
    steps=st.lists(st.integers(-(2**64), 2**64), min_size=1, max_size=8),
    form=st.sampled_from(sorted(FORMS)),
    dtype=st.sampled_from([pl.Int64, pl.UInt64]),
    arrangement=st.tuples(st.sampled_from(["sorted", "shuffled", "by time"]), st.integers(0, 2**16)),
    threaded=st.booleans(),
)
def test_a_sum_raises_exactly_when_a_partial_sum_leaves_its_type(steps, form, dtype, arrangement, threaded):
    low, high = BOUNDS[dtype]
    steps = [min(max(s, low), high) for s in steps]  # each step is a value of the column's type
    n = len(steps)
    other = pl.DataFrame(
        {"symbol": [2] * n, "t": list(range(n)), "q": [0] * n}, schema_overrides={"q": dtype}
    )
    df = pl.concat(
        [
            pl.DataFrame(
                {"symbol": [1] * n, "t": list(range(n)), "q": steps},
                schema={"symbol": pl.Int64, "t": pl.Int64, "q": dtype},
            ),
            other,
        ]
    )
    total, first_bad, expected = 0, None, []
    for i, s in enumerate(steps):
        total += SIGN[form] * s
        if not low <= total <= high and first_bad is None:
            first_bad = i
        expected.append(total)
    arranged = _arranged(df, *arrangement)
    rule = vf.TagRunning("cum", FORMS[form], 0)
    with pytest.MonkeyPatch.context() as mp:
        if threaded:
            force_threads(mp)
        if first_bad is None:
            out = vf.enrich(arranged, [rule], by="symbol", sort_by="t")
            got = out.filter(pl.col("symbol") == 1).sort("t")["cum"]
            assert got.dtype == dtype
            assert got.to_list() == expected
        else:
            with pytest.raises(
                DataError, match=rf"rule 'cum' failed at row \d+ \(symbol=1, t={first_bad}\).*overflows"
            ):
                vf.enrich(arranged, [rule], by="symbol", sort_by="t")


def test_regression_an_int64_sum_past_2_63_is_found_without_the_float_shadow():
    df = pl.DataFrame({"symbol": [1, 1, 2, 1], "t": [3, 1, 1, 2], "q": [1, 2**62, 5, 2**62]})
    for arranged in (df, df.sort("symbol", "t"), df.sort("t", maintain_order=True)):
        with pytest.raises(DataError, match=r"failed at row \d \(symbol=1, t=2\).*Int64 value overflows"):
            vf.enrich(arranged, [vf.TagRunning("cum", FORMS["p + step"], 0)], by="symbol", sort_by="t")


def test_a_boolean_or_float_step_is_not_a_sum_of_integers():
    """Steps of another kind leave the value to the other passes: the answers stay those of the rule."""
    df = pl.DataFrame({"symbol": [1, 1, 1], "t": [1, 2, 3], "f": [True, False, True], "x": [0.5, 1.0, 2.0]})
    out = vf.enrich(
        df,
        [
            vf.TagRunning("count", lambda p, r: p + r["f"], 0),
            vf.TagRunning("sum", lambda p, r: p + r["x"], 0),
        ],
        by="symbol",
        sort_by="t",
    )
    assert out["count"].to_list() == [1, 1, 2]
    assert out["sum"].to_list() == [0.5, 1.5, 3.5]
    assert out["sum"].dtype == pl.Float64
