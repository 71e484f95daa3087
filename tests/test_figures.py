"""Figures: trace types, axis titles, data equal to the aggregated frame, clock axes, bad input."""

from __future__ import annotations

import polars as pl
import pytest

import vizflow as vf
import vizflow.viz as vz
from vizflow.exceptions import ColumnNotFoundError


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    quotes, trades = vf.datasets.synthetic_day(n_symbols=5, trades_per_symbol=300, seed=2)
    trades = vf.parse_time(trades, vf.CN)
    quotes = vf.parse_time(quotes, vf.CN)
    out = vf.forward_return(trades, [1, 30, 300], "price", reference=quotes, reference_price_col="mid")
    return out.with_columns(
        half_hour=pl.col("elapsed_seconds") // 1800 * 1800, log_qty=pl.col("qty").log10()
    ).pipe(vf.bin, {"log_qty": 0.5})


def test_heatmap_equals_the_aggregated_frame(trades):
    fig = vz.heatmap(trades, "half_hour", "log_qty_bin", "return_30", market=vf.CN)
    assert fig.data[0].type == "heatmap"
    expected = vf.aggregate(trades, ["half_hour", "log_qty_bin"], {"m": pl.col("return_30").mean()})
    trace = fig.data[0]
    for row in expected.iter_rows(named=True):
        i = list(trace.x).index(row["half_hour"])
        j = list(trace.y).index(row["log_qty_bin"])
        assert trace.z[j][i] == pytest.approx(row["m"], nan_ok=True)
    assert fig.layout.yaxis.title.text == "log_qty_bin"
    assert "half_hour" in fig.layout.xaxis.title.text


def test_clock_axis_has_no_lunch_gap(trades):
    fig = vz.line(
        trades.filter(pl.col("symbol") == trades["symbol"][0]), "elapsed_seconds", "price", market=vf.CN
    )
    axis = fig.layout.xaxis
    assert list(axis.range) == [0, 14400.0]  # 4 hours of trading: the lunch break takes no room
    labels = dict(zip(axis.tickvals, axis.ticktext, strict=True))
    assert labels[0.0] == "09:30"
    assert labels[7200.0] == "11:30|13:00"
    assert labels[14400.0] == "15:00"
    assert max(fig.data[0].x) <= 14400.0


def test_line_groups_and_decimation(trades):
    fig = vz.line(trades, "elapsed_seconds", "price", "symbol", max_points=100)
    assert len(fig.data) == 5
    assert all(t.type == "scatter" and len(t.x) <= 100 for t in fig.data)
    assert "decimated" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "elapsed_seconds"
    assert fig.layout.yaxis.title.text == "price"


def test_decay_curve_matches_means(trades):
    fig = vz.decay(trades, sign="side")
    assert list(fig.data[0].x) == [1.0, 30.0, 300.0]
    for h, y in zip((1, 30, 300), fig.data[0].y, strict=True):
        assert y == pytest.approx((trades[f"return_{h}"] * trades["side"]).mean() * 1e4)
    per_symbol = vz.decay(trades, "symbol")
    assert len(per_symbol.data) == 5


def test_pnl_and_holding_figures_from_fifo_output():
    fills = vf.datasets.synthetic_fills(2000, 3, seed=1)
    matched = vf.enrich(
        fills,
        [vf.FIFOMatch("side", "qty", "elapsed_seconds", "price")],
        by="symbol",
        sort_by="elapsed_seconds",
    )
    closed = matched.filter("is_closed").sort("elapsed_seconds")
    fig = vz.pnl_curve(matched, market=vf.CN)
    assert fig.data[0].y[-1] == pytest.approx(closed["realized_pnl"].sum())
    hist = vz.holding_histogram(matched, bins=20)
    assert hist.data[0].type == "bar"
    assert sum(hist.data[0].y) == closed.height


def test_large_heatmap_is_coarsened():
    df = pl.DataFrame(
        {"x": list(range(2000)) * 3, "y": [0] * 2000 + [1] * 2000 + [2] * 2000, "z": [1.0] * 6000}
    )
    fig = vz.heatmap(df, "x", "y", "z", max_points=300)
    assert len(fig.data[0].x) <= 101
    assert "coarsened" in fig.layout.title.text


def test_missing_columns_are_named_and_empty_frames_give_empty_figures(trades):
    with pytest.raises(ColumnNotFoundError, match="heatmap: column 'signal' not found"):
        vz.heatmap(trades, "half_hour", "signal", "return_30")
    with pytest.raises(ColumnNotFoundError, match="line: column 'px' not found"):
        vz.line(trades, "elapsed_seconds", "px")
    empty = trades.head(0)
    for fig in (
        vz.heatmap(empty, "half_hour", "log_qty_bin", "return_30"),
        vz.line(empty.lazy(), "elapsed_seconds", "price"),
        vz.holding_histogram(pl.DataFrame(schema={"holding_period": pl.Float64, "is_closed": pl.Boolean})),
    ):
        assert len(fig.data) == 0
        assert "no rows" in fig.layout.title.text


def test_report_is_self_contained(tmp_path, trades):
    out = vz.write_report({"decay": vz.decay(trades)}, tmp_path / "r.html", notes=["synthetic"])
    text = out.read_text()
    assert "<h2>decay</h2>" in text
    assert '<script src="http' not in text  # plotly.js is inlined: the file opens offline
    assert len(text) > 1_000_000
