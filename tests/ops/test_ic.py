"""rank_ic and ic_summary: against a plain average-rank Spearman and hand-computed moments."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

RETURNS = ["return_10", "return_60"]


def average_ranks(values: list[float]) -> list[Fraction]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [Fraction(0)] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = Fraction(i + j + 2, 2)
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Pearson correlation of average ranks, in exact arithmetic (None when undefined)."""
    if len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return float(sxy) / math.sqrt(float(sxx * syy))


def present(v: float | None) -> bool:
    return v is not None and not math.isnan(v)


def reference(df: pl.DataFrame, by: list[str]) -> dict[tuple, dict[str, object]]:
    cells: dict[tuple, list[dict]] = {}
    for row in df.iter_rows(named=True):
        cells.setdefault(tuple(row[k] for k in by), []).append(row)
    out = {}
    for key, rows in cells.items():
        out[key] = {}
        for r in RETURNS:
            pairs = [(row["signal"], row[r]) for row in rows if present(row["signal"]) and present(row[r])]
            out[key][f"{r}_n"] = len(pairs)
            out[key][f"{r}_ic"] = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    return out


small = st.one_of(st.integers(-3, 3).map(float), st.floats(-1.0, 1.0), st.none(), st.just(math.nan))


@st.composite
def frames(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    n = draw(st.integers(0, 50))
    key_kind = draw(st.sampled_from(["none", "date", "date+cat"]))
    cols: dict[str, pl.Series] = {
        "signal": pl.Series(draw(st.lists(small, min_size=n, max_size=n)), dtype=pl.Float64),
        **{r: pl.Series(draw(st.lists(small, min_size=n, max_size=n)), dtype=pl.Float64) for r in RETURNS},
    }
    if key_kind != "none":
        days = draw(st.lists(st.sampled_from(["20240102", "20240103", "20240104"]), min_size=n, max_size=n))
        cols["date"] = pl.Series(days)
    if key_kind == "date+cat":
        symbols = draw(st.lists(st.sampled_from(["A", "B", None]), min_size=n, max_size=n))
        cols["symbol"] = pl.Series(symbols, dtype=pl.Categorical)
    by = {"none": [], "date": ["date"], "date+cat": ["date", "symbol"]}[key_kind]
    return pl.DataFrame(cols), by


@given(frames())
def test_rank_ic_matches_an_exact_spearman(case):
    df, by = case
    got = vf.rank_ic(df, "signal", RETURNS, by=by)
    expected = reference(df, by) if df.height or not by else {}
    if not by and df.height == 0:
        expected = {(): {f"{r}_{s}": (0 if s == "n" else None) for r in RETURNS for s in ("n", "ic")}}
    assert got.height == len(expected)
    for row in got.iter_rows(named=True):
        cell = expected[tuple(row[k] for k in by)]
        for r in RETURNS:
            assert row[f"{r}_n"] == cell[f"{r}_n"]
            if cell[f"{r}_ic"] is None:
                assert row[f"{r}_ic"] is None, (row, cell)
            else:
                assert row[f"{r}_ic"] == pytest.approx(cell[f"{r}_ic"], rel=1e-12, abs=1e-12)


@given(frames(), st.randoms(use_true_random=False))
def test_rank_ic_ignores_row_order_and_laziness(case, rnd):
    df, by = case
    order = list(range(df.height))
    rnd.shuffle(order)
    eager = vf.rank_ic(df, "signal", RETURNS, by=by)
    lazy = vf.rank_ic(df.lazy(), "signal", RETURNS, by=by)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    shuffled = vf.rank_ic(df[order] if order else df, "signal", RETURNS, by=by)
    assert shuffled.columns == eager.columns
    for a, b in zip(shuffled.iter_rows(), eager.iter_rows(), strict=True):
        for x, y in zip(a, b, strict=True):
            assert x == (pytest.approx(y, rel=1e-12, abs=1e-12) if isinstance(y, float) else y)


def test_ic_summary_mean_t_and_information_ratio():
    ics = pl.DataFrame(
        {"date": ["d1", "d2", "d3", "d4"], "r_ic": [0.05, -0.01, 0.03, None], "r_n": [9, 9, 9, 1]}
    )
    row = vf.ic_summary(ics).row(0, named=True)
    values = [0.05, -0.01, 0.03]
    mean, std = statistics.fmean(values), statistics.stdev(values)
    assert row["n"] == 4
    assert row["r_ic_n"] == 3
    assert row["r_ic_mean"] == pytest.approx(mean, rel=1e-12)
    assert row["r_ic_std"] == pytest.approx(std, rel=1e-12)
    assert row["r_ic_t"] == pytest.approx(mean / (std / math.sqrt(3)), rel=1e-12)
    assert row["r_ic_ir"] == pytest.approx(mean / std, rel=1e-12)
    assert "weight" not in vf.ic_summary(ics).columns


def test_ic_over_a_batch_of_dates(tmp_path):
    """A pipeline ending in rank_ic writes one IC row per date; ic_summary(scan(out)) is the year."""
    days = ["20240102", "20240103", "20240104"]
    for i, day in enumerate(days):
        _, trades = vf.datasets.synthetic_day(day, n_symbols=3, seed=i, trades_per_symbol=60)
        vf.save(trades, tmp_path / "in" / f"{day}.parquet")
    cfg = vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")

    def pipeline(lf, ctx):
        moved = lf.vf.parse_time(ctx.market, "ticktime").vf.forward_return([60], "price")
        return vf.rank_ic(moved.with_columns(signal=pl.col("side") * pl.col("qty")), "signal", "return_60")

    assert vf.run_local(pipeline, cfg, days, progress=False).ok
    per_date = vf.scan(tmp_path / "out" / "*.parquet").collect()
    assert per_date.height == 3
    year = vf.ic_summary(per_date).row(0, named=True)
    values = per_date["return_60_ic"].to_list()
    assert year["return_60_ic_mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert year["return_60_ic_ir"] == pytest.approx(
        statistics.fmean(values) / statistics.stdev(values), rel=1e-12
    )


def test_constant_signal_and_tiny_cells_give_null_ic():
    df = pl.DataFrame({"d": [1, 1, 1, 2], "signal": [1.0, 1.0, 1.0, 2.0], "return_10": [1.0, 2.0, 3.0, 4.0]})
    got = vf.rank_ic(df, "signal", "return_10", by="d")
    assert got.rows() == [(1, 3, None), (2, 1, None)]


def test_several_dates_need_the_date_among_the_keys():
    df = pl.DataFrame({"date": ["20240102", "20240103"], "signal": [1.0, 2.0], "return_10": [1.0, 2.0]})
    with pytest.raises(DataError, match="'date' holds 2 dates"):
        vf.rank_ic(df, "signal", "return_10")


def test_bad_input_is_named():
    df = pl.DataFrame({"signal": [1.0], "return_10": [1.0], "s": ["a"]})
    with pytest.raises(ColumnNotFoundError, match="'return_60'"):
        vf.rank_ic(df, "signal", ["return_60"])
    with pytest.raises(SchemaError, match="'s'"):
        vf.rank_ic(df, "s", "return_10")
    with pytest.raises(VizflowError, match="both the signal and a return"):
        vf.rank_ic(df, "signal", ["signal"])
    with pytest.raises(VizflowError, match="returns is empty"):
        vf.rank_ic(df, "signal", [])
    with pytest.raises(SchemaError, match="no '\\*_ic' column"):
        vf.ic_summary(df)


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=12), st.booleans())
def test_regression_ic_summary_without_a_date_column_has_a_standard_error(values, with_symbol):
    # Per-date IC rows without a `date` column (the runner's per-date outputs often drop it) are one
    # IC per date each: after clustered standard errors came in they formed one cluster and gave a
    # null se and t. Each row is its own draw: se = sample std / sqrt(rows).
    ics = pl.DataFrame({"return_60_ic": values})
    if with_symbol:
        ics = ics.with_columns(symbol=pl.lit("A"))
    out = vf.ic_summary(ics, by="symbol" if with_symbol else None)
    std = statistics.stdev(values)
    se = out["return_60_ic_se"][0]
    if std == 0:
        assert se in (None, 0.0)
        return
    assert se == pytest.approx(std / math.sqrt(len(values)), rel=1e-9, abs=1e-15)
    dated = vf.ic_summary(ics.with_columns(date=pl.int_range(pl.len())), by="symbol" if with_symbol else None)
    assert dated["return_60_ic_se"][0] == pytest.approx(se, rel=1e-9, abs=1e-15)
