"""Markouts (issue 16): as-of directions and exact matches as pandas merge_asof, negative horizons,
the close, and windows kept within a session."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import VizflowError
from vizflow.viz._stats import horizon_of  # decay and the explorer read horizons from names with it

symbols = st.sampled_from(["a", "b", None])
times = st.one_of(st.integers(0, 12).map(float), st.none())
prices = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 5.0]), st.floats(0.5, 50), st.none())
rows_strategy = st.lists(st.tuples(symbols, times, prices), max_size=30)
horizon_values = st.lists(
    st.sampled_from([-7, -2, -0.5, 0, 0.5, 1, 3, 20]), min_size=1, max_size=3, unique=True
)
SCHEMA = {"symbol": pl.String, "t": pl.Float64, "px": pl.Float64}


def _pandas_markouts(rows, source, horizons, *, direction, allow_exact, tolerance):
    """Expected returns from pandas merge_asof at t + h, plus vizflow's no-future-price rule."""
    left = pd.DataFrame(rows, columns=["symbol", "t", "px"]).reset_index(names="i")
    right = pd.DataFrame(source, columns=["symbol", "t", "mid"]).dropna(subset=["symbol", "t"])
    right = right.reset_index(names="pos").sort_values(["t", "pos"], kind="stable")
    last = right.groupby("symbol")["t"].max()
    out = {}
    for h in horizons:
        q = left.dropna(subset=["symbol", "t"]).assign(target=lambda d, h=h: d["t"] + h)
        q = q.sort_values("target", kind="stable")
        if right.empty or q.empty:
            merged = q.assign(mid=np.nan)
        else:
            merged = pd.merge_asof(
                q, right[["symbol", "t", "mid"]].rename(columns={"t": "t_src"}), left_on="target",
                right_on="t_src", by="symbol", direction=direction, allow_exact_matches=allow_exact,
                tolerance=tolerance,
            )  # fmt: skip
        values = dict.fromkeys(range(len(rows)))
        for rec in merged.itertuples():
            p0, p = rec.px, rec.mid
            beyond = direction == "backward" and rec.target > last.get(rec.symbol, -math.inf)
            if pd.isna(p0) or p0 == 0 or pd.isna(p) or beyond:
                continue
            values[rec.i] = (p - p0) / p0
        out[h] = [values[i] for i in range(len(rows))]
    return out


@given(
    rows=rows_strategy,
    source=rows_strategy,
    horizons=horizon_values,
    direction=st.sampled_from(["backward", "forward", "nearest"]),
    allow_exact=st.booleans(),
    tolerance=st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.5])),
)
def test_directions_and_exact_matches_equal_pandas_merge_asof(
    *, rows, source, horizons, direction, allow_exact, tolerance
):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    quotes = pl.DataFrame(source, schema=SCHEMA, orient="row").rename({"px": "mid"})
    mine, theirs = {r[0] for r in rows} - {None}, {r[0] for r in source} - {None}
    if mine and theirs and not mine & theirs:
        return  # no shared key is an error (tested in test_forward)
    out = vf.forward_return(
        df, horizons, "px", "t", "symbol", reference=quotes, direction=direction,
        allow_exact_matches=allow_exact, tolerance=tolerance,
    )  # fmt: skip
    expected = _pandas_markouts(
        rows, source, horizons, direction=direction, allow_exact=allow_exact, tolerance=tolerance
    )
    for h in horizons:
        got = out[vf.ops.forward.horizon_name(h)].to_list()
        for a, b in zip(got, expected[h], strict=True):
            assert (a is None and b is None) or (
                a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
            ), (h, got, expected[h])


def test_negative_horizon_reads_the_past_and_zero_the_present():
    df = pl.DataFrame({"symbol": ["a"] * 4, "t": [0.0, 5.0, 10.0, 15.0], "px": [10.0, 11.0, 12.0, 13.0]})
    out = vf.forward_return(df, [-5, 0, 5], "px", "t", "symbol")
    assert out.columns[-3:] == ["return_-5", "return_0", "return_5"]
    assert out["return_-5"].to_list() == [
        None,
        pytest.approx(-1 / 11),
        pytest.approx(-1 / 12),
        pytest.approx(-1 / 13),
    ]
    assert out["return_0"].to_list() == [0.0, 0.0, 0.0, 0.0]
    assert out["return_5"].to_list()[-1] is None


def test_markout_to_close_reads_each_groups_last_price():
    df = pl.DataFrame(
        {
            "date": ["d1", "d1", "d2", "d2"],
            "symbol": [1, 1, 1, 1],
            "t": [0.0, 9.0, 0.0, 3.0],
            "px": [10.0, 12.0, 20.0, 15.0],
        }
    )
    out = vf.forward_return(df, ["close", 1], "px", "t", ["date", "symbol"])
    assert out["return_close"].to_list() == [pytest.approx(0.2), 0.0, pytest.approx(-0.25), 0.0]


def test_names_override_and_its_errors():
    df = pl.DataFrame({"symbol": ["a", "a"], "t": [0.0, 1.0], "px": [1.0, 2.0]})
    out = vf.forward_return(df, [-1, 1], "px", "t", "symbol", names=["pre", "post"])
    assert out.columns[-2:] == ["pre", "post"]
    assert out["post"].to_list() == [1.0, None]
    with pytest.raises(VizflowError, match="one non-empty name per horizon"):
        vf.forward_return(df, [-1, 1], "px", "t", "symbol", names=["pre"])
    with pytest.raises(VizflowError, match="repeats"):
        vf.forward_return(df, [-1, 1], "px", "t", "symbol", names=["x", "x"])
    with pytest.raises(VizflowError, match="direction"):
        vf.forward_return(df, [1], "px", "t", "symbol", direction="Backward")  # type: ignore[arg-type]


@given(
    t=st.lists(st.integers(0, 14400).map(float), min_size=1, max_size=30),
    horizons=st.lists(
        st.sampled_from([-3600, -60, 60, 600, 3600, 14400]), min_size=1, max_size=3, unique=True
    ),
)
def test_returns_within_session_are_null_across_the_break_and_the_close(t, horizons):
    # On the CN clock the morning is [0, 7200) and the afternoon [7200, 14400].
    df = pl.DataFrame({"symbol": ["a"] * len(t), "t": t, "px": np.linspace(10, 11, len(t))})
    free = vf.forward_return(df, horizons, "px", "t", "symbol")
    within = vf.forward_return(df, horizons, "px", "t", "symbol", returns_within="session", market=vf.CN)
    for h in horizons:
        name = vf.ops.forward.horizon_name(h)
        for ti, a, b in zip(t, free[name].to_list(), within[name].to_list(), strict=True):
            lo, hi = (0.0, 7200.0) if ti < 7200 else (7200.0, 14400.0)
            assert b == (a if lo <= ti + h <= hi else None)


def test_returns_within_session_needs_a_market():
    df = pl.DataFrame({"symbol": ["a"], "t": [0.0], "px": [1.0]})
    with pytest.raises(VizflowError, match="needs market="):
        vf.forward_return(df, [1], "px", "t", "symbol", returns_within="session")
    with pytest.raises(VizflowError, match="returns_within"):
        vf.forward_return(df, [1], "px", "t", "symbol", returns_within="lunch")  # type: ignore[arg-type]


def test_duration_horizons_are_named_as_given_and_read_back_in_seconds():
    quotes = pl.DataFrame({"symbol": "A", "elapsed_seconds": [0.0, 60.0, 90.0], "mid": [1.0, 2.0, 4.0]})
    out = vf.forward_return(quotes, ["1m", "1m30s", "500ms", -5], "mid")
    names = [c for c in out.columns if c.startswith("return_")]
    assert names == ["return_1m", "return_1m30s", "return_500ms", "return_-5"]
    assert [horizon_of(c, "return_", where="test") for c in names] == [60.0, 90.0, 0.5, -5.0]
