"""Figures: trace types, axis titles, cell geometry, data equal to a reference aggregation, bad input."""

from __future__ import annotations

import itertools
import math
import os
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as scipy_t

import vizflow as vf
import vizflow.viz as vz
from tests.viz import test_dashboard
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError
from vizflow.viz.axes import clock_at
from vizflow.viz.horizons import dodged

pytest.importorskip("plotly")

img = test_dashboard.img  # the folder the browser tests draw into


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    quotes, trades = vf.datasets.synthetic_day(n_symbols=5, trades_per_symbol=300, seed=2)
    trades = vf.parse_time(trades, vf.CN)
    quotes = vf.parse_time(quotes, vf.CN)
    out = vf.forward_return(trades, [1, 30, 300], "price", reference=quotes, reference_price_col="mid")
    return out.with_columns(log_qty=pl.col("qty").log10()).pipe(vf.bin, {"log_qty": 0.5})


def _cells(trace) -> dict[tuple[int, int], tuple[int, str]]:
    """(column, row) -> (count, value text) from a heatmap trace's customdata."""
    return {
        (c, r): (cell[2], cell[3])
        for r, row in enumerate(trace.customdata)
        for c, cell in enumerate(row)
        if cell[2]
    }


def _column_of(edges, value: float) -> int:
    """The column whose drawn interval [edges[i], edges[i + 1]) holds ``value`` (a linear scan)."""
    hits = [i for i in range(len(edges) - 1) if edges[i] <= value < edges[i + 1]]
    assert len(hits) == 1, (value, edges)
    return hits[0]


def test_heatmap_equals_a_reference_mean_per_drawn_cell(trades):
    fig = vz.heatmap(trades, "elapsed_seconds", "log_qty_bin", "return_30", x_width=1800, market=vf.CN)
    trace = fig.data[0]
    assert trace.type == "heatmap"
    expected: dict[tuple[int, int], list[float]] = {}
    for t, b, r in trades.select("elapsed_seconds", "log_qty_bin", "return_30").iter_rows():
        if b is not None and r is not None:
            expected.setdefault((_column_of(trace.x, t), list(trace.y).index(b)), []).append(r)
    cells = _cells(trace)
    assert set(cells) == set(expected)
    for (c, r), values in expected.items():
        assert cells[c, r][0] == len(values)
        assert trace.z[r][c] == pytest.approx(sum(values) / len(values))
    assert fig.layout.yaxis.title.text == "log_qty_bin"
    assert "elapsed_seconds" in fig.layout.xaxis.title.text


@given(
    ms=st.lists(st.integers(0, 14_399_999), min_size=1, max_size=80),
    width=st.sampled_from([60, 300, 900, 1800, 3600, 7]),
)
def test_regression_heatmap_cells_span_exactly_their_floor_bin(ms, width):
    """Cells were drawn half a bin early: each row now lands in the drawn interval [k*w, (k+1)*w)."""
    t = [m / 1000 for m in ms]
    df = pl.DataFrame({"t": t, "s": [m % 3 for m in ms], "z": [1.0] * len(ms)})
    trace = vz.heatmap(df, "t", "s", "z", x_width=width).data[0]
    edges = list(trace.x)
    assert all(b - a == pytest.approx(width) for a, b in itertools.pairwise(edges))
    assert all(e / width == round(e / width) for e in edges)  # edges on the grid k * w
    counts: dict[tuple[int, int], int] = {}
    for v, s in zip(t, df["s"], strict=True):
        key = (_column_of(edges, v), list(trace.y).index(s))
        counts[key] = counts.get(key, 0) + 1
    assert {k: n for k, (n, _) in _cells(trace).items()} == counts


def test_regression_last_afternoon_half_hour_is_not_blank():
    """14:45-15:00 was blank (a left edge 12600 drawn as the centre of [11700, 13500))."""
    ticks = [93000000, 104500000, 144500000, 145959000]
    df = vf.parse_time(pl.DataFrame({"ticktime": ticks, "s": [1] * 4, "z": [1.0, 2.0, 3.0, 5.0]}), vf.CN)
    for x in ("elapsed_seconds", "half_hour"):
        frame = df.with_columns(half_hour=pl.col("elapsed_seconds") // 1800 * 1800)
        trace = vz.heatmap(frame, x, "s", "z", x_width=1800, market=vf.CN).data[0]
        assert list(trace.x) == [1800.0 * k for k in range(9)]  # 09:30 ... 15:00 in 8 half hours
        assert trace.z[0][-1] == 4.0  # the two trades of 14:45 and 14:59 are in the last cell
        assert trace.customdata[0][-1][:3] == ["14:30-15:00", "1", 2]
        assert trace.customdata[0][3][0] == "11:00-11:30"
        assert trace.customdata[0][4][0] == "13:00-13:30"


def test_heatmap_without_a_width_centres_integer_bins_and_fills_the_gaps():
    df = pl.DataFrame({"k": [0, 0, 3], "s": [2, 5, 2], "z": [1.0, 2.0, 3.0]})
    trace = vz.heatmap(df, "k", "s", "z").data[0]
    assert list(trace.x) == [0, 1, 2, 3]  # columns 1 and 2 exist (blank): column 3 is not stretched
    assert list(trace.y) == [2, 3, 4, 5]
    assert list(trace.z[0]) == [1.0, None, None, 3.0]
    assert trace.z[3][0] == 2.0


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([1e-07, 0.5, 1e-07], pl.Float64),
        ([True, False, True], pl.Boolean),
        (["b", "a", "b"], pl.String),
        (["b", "a", "b"], pl.Categorical),
        ([3, 1, 3], pl.Int32),
    ],
)
def test_regression_y_values_are_matched_by_value_not_by_string(values, dtype):
    """y = 1e-07 or booleans came out empty (str(v) '1e-07' vs Polars' pivot name '1e-7')."""
    df = pl.DataFrame({"x": [0, 0, 1], "y": pl.Series(values, dtype=dtype), "z": [1.0, 2.0, 4.0]})
    trace = vz.heatmap(df, "x", "y", "z").data[0]
    cells = {(cell[0], cell[1]): cell[3] for row in trace.customdata for cell in row if cell[2]}
    first, second = str(values[0]), str(values[1])
    assert cells == {("0", first): "1", ("0", second): "2", ("1", first): "4"}
    assert sum(v is not None for row in trace.z for v in row) == 3


def test_min_count_hides_small_cells_and_hover_shows_counts():
    df = pl.DataFrame({"x": [0] * 5 + [1] * 2, "y": [0] * 7, "z": [1.0] * 5 + [9.0] * 2})
    fig = vz.heatmap(df, "x", "y", "z", min_count=3)
    trace = fig.data[0]
    assert list(trace.z[0]) == [1.0, None]
    assert [cell[2] for cell in trace.customdata[0]] == [5, 2]  # the hidden cell still shows n = 2
    assert "1 cells with < 3 values hidden" in fig.layout.title.text
    assert "n: %{customdata[2]}" in trace.hovertemplate


def test_regression_colour_range_is_robust_to_a_two_trade_cell():
    """The colour range was set by the largest |cell|, often a cell of two trades."""
    rng = np.random.default_rng(3)
    rows = [(i % 20, i % 3, float(rng.normal())) for i in range(6000)] + [(25, 0, 500.0), (25, 0, 700.0)]
    df = pl.DataFrame(rows, schema={"x": pl.Int64, "y": pl.Int64, "z": pl.Float64}, orient="row")
    trace = vz.heatmap(df, "x", "y", "z").data[0]
    means: dict[tuple[int, int], list[float]] = {}
    for x, y, z in rows:
        means.setdefault((x, y), []).append(z)
    expected = float(np.quantile([abs(sum(v) / len(v)) for v in means.values()], 0.95))
    assert trace.zmax == pytest.approx(expected)
    assert trace.zmin == -trace.zmax
    assert trace.zmid == 0
    assert trace.zmax < 5  # the cell of mean 600 saturates instead of washing out the rest


def test_regression_inf_and_nan_never_make_the_colour_range_inf_or_nan():
    df = pl.DataFrame({"x": [0, 1, 2, 3], "y": [0, 0, 0, 0], "z": [math.inf, math.nan, 1.0, -2.0]})
    fig = vz.heatmap(df, "x", "y", "z")
    trace = fig.data[0]
    assert math.isfinite(trace.zmax)
    assert math.isfinite(trace.zmin)
    assert list(trace.z[0][:2]) == [None, None]
    assert [cell[3] for cell in trace.customdata[0][:2]] == ["inf", "nan"]
    assert "khaki: 2 cells without a finite mean (see hover)" in fig.layout.title.text
    assert fig.data[1].name == "undefined"  # drawn khaki, neither a zero nor an empty cell
    assert list(fig.data[1].z[0]) == [1.0, 1.0, None, None]


@pytest.mark.parametrize("agg", ["mean", "median", "sum", "min", "max", "std"])
def test_every_accepted_agg_equals_a_python_reference(agg):
    rows = [(0, 0, 1.0), (0, 0, 4.0), (0, 0, 2.0), (1, 0, -3.0), (1, 0, 5.0)]
    df = pl.DataFrame(rows, schema={"x": pl.Int64, "y": pl.Int64, "z": pl.Float64}, orient="row")
    reference = {
        "mean": lambda v: sum(v) / len(v),
        "median": lambda v: (
            sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1 :][:2]) / 2
        ),
        "sum": sum,
        "min": min,
        "max": max,
        "std": lambda v: math.sqrt(sum((a - sum(v) / len(v)) ** 2 for a in v) / (len(v) - 1)),
    }[agg]
    trace = vz.heatmap(df, "x", "y", "z", agg=agg).data[0]
    assert trace.z[0][0] == pytest.approx(reference([1.0, 4.0, 2.0]))
    assert trace.z[0][1] == pytest.approx(reference([-3.0, 5.0]))


@pytest.mark.parametrize("agg", ["mode", "Mean", None])
def test_regression_unknown_agg_is_refused_naming_the_accepted_ones(agg):
    """agg='max' gave "'NoneType' object is not callable"; an unknown agg now names the accepted ones."""
    df = pl.DataFrame({"x": [0], "y": [0], "z": [1.0]})
    with pytest.raises(VizflowError, match=r"agg=.* not one of \['mean', 'median', 'sum', 'min', 'max'"):
        vz.heatmap(df, "x", "y", "z", agg=agg)


def test_regression_count_heatmap_is_sequential_and_titled_as_a_count():
    df = pl.DataFrame({"x": [0, 0, 0, 1], "y": [0, 0, 0, 0], "z": [1.0, None, 2.0, 3.0]})
    trace = vz.heatmap(df, "x", "y", "z", agg="count").data[0]
    assert list(trace.z[0]) == [2.0, 1.0]  # non-null values per cell
    assert trace.zmin == 0
    assert trace.zmid is None
    assert trace.colorbar.title.text == "count of values"
    assert trace.colorscale != vz.heatmap(df, "x", "y", "z").data[0].colorscale


def test_heatmap_on_the_clock_needs_a_width():
    df = pl.DataFrame({"half_hour": [0.0], "s": [0], "z": [1.0]})
    with pytest.raises(VizflowError, match=r"session clock.*expected x_width="):
        vz.heatmap(df, "half_hour", "s", "z", market=vf.CN)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"x_width": 0}, "x_width=0"),
        ({"x_width": math.nan}, "x_width="),
        ({"x_width": "1800"}, "x_width='1800'"),
        ({"agg": ["mean"]}, r"agg=\['mean'\] is not one of"),
        ({"min_count": 0}, "min_count=0"),
        ({"min_count": 2.5}, "min_count=2.5"),
        ({"max_points": 0}, "max_points=0"),
        ({"quantile": 0}, "quantile=0"),
    ],
)
def test_bad_heatmap_options_are_refused(option, match):
    df = pl.DataFrame({"x": [0.0], "y": [0], "z": [1.0]})
    with pytest.raises(VizflowError, match=f"heatmap: {match}"):
        vz.heatmap(df, "x", "y", "z", **option)


def test_null_keys_are_counted_in_the_title():
    df = pl.DataFrame({"x": [0.0, None, 1.0], "y": [0, 0, None], "z": [1.0, 2.0, 3.0]})
    fig = vz.heatmap(df, "x", "y", "z", x_width=1)
    assert "2 rows with null or non-finite x/y not drawn" in fig.layout.title.text


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


def _cn_clock(elapsed: int, *, end: bool) -> str:
    """A hand reference of CN's clock: 09:30-11:30 then 13:00-15:00, the close past 14400 s."""
    if elapsed < 7200 or (end and elapsed == 7200):
        seconds = 9 * 3600 + 30 * 60 + elapsed
    else:
        seconds = 13 * 3600 + min(elapsed - 7200, 7200)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")


@given(elapsed=st.integers(0, 20_000), end=st.booleans())
def test_clock_at_equals_a_hand_reference_of_the_cn_sessions(elapsed, end):
    """Each session's own times, the lunch boundary by ``end``, and the close for anything past it."""
    assert clock_at(vf.CN, float(elapsed), end=end) == _cn_clock(elapsed, end=end)


def test_line_groups_and_decimation(trades):
    fig = vz.line(trades, "elapsed_seconds", "price", "symbol", max_points=100)
    assert len(fig.data) == 5
    assert all(t.type == "scatter" and len(t.x) <= 100 for t in fig.data)
    assert "decimated" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "elapsed_seconds"
    assert fig.layout.yaxis.title.text == "price"


@pytest.mark.parametrize("max_points", [0, -5, 2.5, True])
def test_regression_line_max_points_zero_is_refused(max_points):
    """line(max_points=0) raised ZeroDivisionError."""
    with pytest.raises(VizflowError, match=f"line: max_points={max_points!r}; expected an integer >= 1"):
        vz.line(pl.DataFrame({"x": [1, 2], "y": [1.0, 2.0]}), "x", "y", max_points=max_points)


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


def test_large_heatmap_is_coarsened_into_aligned_bins():
    df = pl.DataFrame(
        {"x": list(range(2000)) * 3, "y": [0] * 2000 + [1] * 2000 + [2] * 2000, "z": [1.0] * 6000}
    )
    fig = vz.heatmap(df, "x", "y", "z", max_points=300)
    trace = fig.data[0]
    assert len(trace.x) - 1 <= 100
    assert "coarsened" in fig.layout.title.text
    assert sum(cell[2] for row in trace.customdata for cell in row) == 6000  # no row lost
    binned = vz.heatmap(df, "x", "y", "z", x_width=5, max_points=300).data[0]
    assert all(e % 5 == 0 for e in binned.x)  # whole multiples of x_width: bins stay aligned
    assert len(binned.x) - 1 <= 101


def test_missing_columns_are_named_and_empty_frames_give_empty_figures(trades):
    with pytest.raises(ColumnNotFoundError, match="heatmap: column 'signal' not found"):
        vz.heatmap(trades, "elapsed_seconds", "signal", "return_30")
    with pytest.raises(ColumnNotFoundError, match="line: column 'px' not found"):
        vz.line(trades, "elapsed_seconds", "px")
    empty = trades.head(0)
    for fig in (
        vz.heatmap(empty, "elapsed_seconds", "log_qty_bin", "return_30", x_width=1800),
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


def test_regression_vf_viz_is_a_lazy_attribute(monkeypatch):
    """vf.viz was no attribute until `import vizflow.viz`; without plotly it names the extra."""
    monkeypatch.delattr(vf, "viz")
    assert vf.viz is vz
    monkeypatch.setitem(sys.modules, "plotly", None)
    with pytest.raises(ImportError, match=r"vf.viz needs plotly.*pip install 'vizflow\[viz\]'"):
        _ = vf.viz


def test_regression_demo_report_skips_without_plotly(monkeypatch, tmp_path, capsys):
    """`vizflow demo` without plotly crashed in the report step; it now skips it, saying why."""
    from vizflow.demo import DemoState, report

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    state = DemoState(output=tmp_path)
    report(state)
    assert state.lines == ["report: skipped, 'plotly.graph_objects' is required for this feature: "
                           "pip install 'vizflow[viz]'"]  # fmt: skip
    assert not (tmp_path / "report.html").exists()


def test_regression_report_trades_per_session_bullet_is_not_empty():
    """The report's "trades per session:" bullet was empty: its indented lines were dropped."""
    from vizflow.demo import report_notes

    lines = [
        "vizflow demo",
        "trades per session:",
        "  morning      1,000 trades",
        "  afternoon      900 trades",
        "x",
    ]
    assert report_notes(lines) == [
        "vizflow demo",
        "trades per session: morning 1,000 trades; afternoon 900 trades",
        "x",
    ]


def test_closing_print_bin_is_drawn_inside_the_axis_range():
    """A print at exactly 15:00:00 is in the floor bin [14400, 16200): drawn and labelled, not clipped."""
    df = vf.parse_time(pl.DataFrame({"ticktime": [93000000, 150000000], "s": [1, 1], "z": [1.0, 2.0]}), vf.CN)
    fig = vz.heatmap(df, "elapsed_seconds", "s", "z", x_width=1800, market=vf.CN)
    trace = fig.data[0]
    assert trace.x[-1] == 16200.0
    assert trace.z[0][-1] == 2.0
    assert list(fig.layout.xaxis.range) == [0.0, 16200.0]
    assert trace.customdata[0][-1][0] == "at or after the close, 14400 s"


def test_regression_dashboard_panel_error_is_shown_not_blank():
    """A panel whose frame lacks its column (no 'mid') drew a blank graph; its error reached only the log."""
    from vizflow.viz.dashboard import panel_figure

    fig = panel_figure(
        "mid", lambda d: vz.line(d, "elapsed_seconds", "mid"), pl.DataFrame({"elapsed_seconds": [1.0]})
    )
    assert fig.layout.title.text.startswith(
        "panel 'mid' failed: ColumnNotFoundError: line: column 'mid' not found"
    )
    ok = panel_figure("y", lambda d: vz.line(d, "x", "y"), pl.DataFrame({"x": [1], "y": [2.0]}))
    assert list(ok.data[0].y) == [2.0]


@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 14_399_999),
            st.sampled_from(["600519", "000333", "10", "9"]),
            st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
        ),
        min_size=1,
        max_size=60,
    ),
    dtype=st.sampled_from([pl.String, pl.Categorical, pl.Int64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_heatmap_cells_equal_a_dict_reference_for_any_key_dtype_and_row_order(rows, dtype, seed):
    """Per drawn cell: n = non-null z values and the mean, against a dict keyed by (bin, y value)."""
    t = [ms / 1000 for ms, _, _ in rows]
    ys = [int(s) if dtype == pl.Int64 else s for _, s, _ in rows]
    z = pl.Series([z for *_, z in rows], dtype=pl.Float64)
    df = pl.DataFrame({"t": t, "y": pl.Series(ys).cast(dtype), "z": z})
    df = df[np.random.default_rng(seed).permutation(df.height)]
    trace = vz.heatmap(df, "t", "y", "z", x_width=900, market=vf.CN).data[0]
    expected: dict[tuple[int, str], list[float]] = {}
    for v, s, z in zip(t, ys, (z for *_, z in rows), strict=True):
        values = expected.setdefault((_column_of(trace.x, v), str(s)), [])
        if z is not None:
            values.append(z)
    drawn = {
        (c, cell[1]): cell
        for row in trace.customdata
        for c, cell in enumerate(row)
        if (c, cell[1]) in expected
    }
    assert set(drawn) == set(expected)
    for key, values in expected.items():
        assert drawn[key][2] == len(values)
        if values:
            assert float(drawn[key][3]) == pytest.approx(sum(values) / len(values), rel=1e-5, abs=1e-12)


# --- decay: raw rows, partials and finalized tables -------------------------------------------------

DECAY_HORIZONS = ("return_1", "return_30", "return_-5", "return_close")


def _points(fig) -> list[tuple]:
    """Every drawn point: (trace name, x, y, error bar, customdata), in drawing order."""
    return [
        (t.name, x, y, e, tuple(c))
        for t in fig.data
        for x, y, e, c in zip(t.x, t.y, t.error_y.array, t.customdata, strict=True)
    ]


EPS = sys.float_info.epsilon


def _same_points(a, b, *, scale: float, n: int) -> None:
    """Equal names, horizons, counts and texts; means and bars equal to what two summation orders promise.

    Raw rows summarized at once and the same rows' partials combined add the same numbers in a
    different order: each sum can differ by about ``n`` roundings of the largest term. So a mean
    (in the figure's unit) may differ by ``n * eps * scale``, ``scale`` the largest ``|value|``, not
    by a relative 1e-12 of itself: a mean that nearly cancels (-3.3e-06 bp of returns up to 100 bp)
    has few correct digits in either path. The band, a square root of such sums, gets the same
    absolute slack times its t quantile (12.7 for two clusters). Plus a relative 1e-12 of each.
    """
    assert [(p[0], p[1], p[4][:2], p[4][3]) for p in a] == [(p[0], p[1], p[4][:2], p[4][3]) for p in b]
    slack = 16 * (n + 1) * EPS * scale
    for p, q in zip(a, b, strict=True):
        for u, v, bound in ((p[2], q[2], slack), (p[3], q[3], 13 * slack)):
            assert u == (None if v is None else pytest.approx(v, rel=1e-12, abs=bound))


def _reference_decay(rows: list[tuple], horizons: list[str]) -> dict[tuple[str, str], tuple]:
    """(group, column) -> (mean bp, 95% CI half-width bp or None, n, clusters) of sign * return, by plain
    Python: clustered by date, CR1 (G / (G - 1) x the sandwich), scipy's t quantile with G - 1 dof."""
    out = {}
    for g in {r[0] for r in rows}:
        for j, column in enumerate(horizons):
            values = [(r[2], r[1] * r[3 + j]) for r in rows if r[0] == g and r[3 + j] is not None]
            n = len(values)
            mean = sum(v for _, v in values) / n if n else None
            sums: dict = {}
            for day, v in values:
                sums[day] = sums.get(day, 0.0) + (v - mean)
            clusters = len(sums)
            se = (
                math.sqrt(clusters / (clusters - 1) * sum(s * s for s in sums.values())) / n
                if clusters > 1
                else None
            )
            half = None if se is None or se == 0 else scipy_t.ppf(0.975, clusters - 1) * se
            out[str(g), column] = (
                None if mean is None else mean * 1e4,
                None if half is None else half * 1e4,
                n,
                clusters,
            )
    return out


decay_rows = st.lists(
    st.tuples(
        st.sampled_from(["600519", "000333", "9", "10"]),
        st.sampled_from([-1, 1]),
        st.sampled_from(["20230201", "20230202", "20230203"]),
        *[st.one_of(st.none(), st.floats(-1e-2, 1e-2, allow_nan=False)) for _ in DECAY_HORIZONS],
    ),
    min_size=1,
    max_size=40,
)


@given(rows=decay_rows, dtype=st.sampled_from([pl.String, pl.Categorical, pl.Int64]), seed=st.integers(0, 99))
def test_decay_of_raw_rows_equals_decay_of_their_finalized_table_point_for_point(rows, dtype, seed):
    """Raw rows (signed in decay), their partials and their finalized table draw the same points,
    equal to a plain-Python mean, count and 95% CI clustered by date (t with G - 1 dof, scipy) per
    group and horizon; a point of fewer than 2 dates has no band and says why."""
    rows = [(str(int(r[0])) if dtype == pl.Int64 else r[0], *r[1:]) for r in rows]  # "000333" is 333
    schema = {
        "g": pl.String,
        "side": pl.Int64,
        "date": pl.String,
        **dict.fromkeys(DECAY_HORIZONS, pl.Float64),
    }
    df = pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.col("g").cast(dtype))
    df = df[np.random.default_rng(seed).permutation(df.height)]
    signed = df.with_columns(pl.col(*DECAY_HORIZONS) * pl.col("side"))
    partial = vf.summarize(signed, "g", list(DECAY_HORIZONS))
    raw = vz.decay(df, "g", sign="side")
    scale = 1e4 * max((abs(v) for r in rows for v in r[3:] if v is not None), default=0.0)
    _same_points(_points(raw), _points(vz.decay(vf.finalize(partial), "g")), scale=scale, n=len(rows))
    _same_points(_points(raw), _points(vz.decay(partial.lazy(), "g")), scale=scale, n=len(rows))
    expected = _reference_decay(rows, list(DECAY_HORIZONS))
    at = {"1 s": "return_1", "30 s": "return_30", "-5 s": "return_-5", "close": "return_close"}
    assert len(_points(raw)) == len({r[0] for r in rows}) * len(DECAY_HORIZONS)
    slack = 16 * (len(rows) + 1) * EPS * scale
    for name, _x, y, band, (label, n, text, clusters) in _points(raw):
        mean, reference_band, count, dates = expected[name, at[label]]
        assert (n, clusters) == (count, dates)
        assert y == (None if mean is None else pytest.approx(mean, rel=1e-9, abs=slack))
        if dates < 2:
            assert band is None
            assert (
                text == f"no band: {dates} date{'' if dates == 1 else 's'} (a clustered CI needs 2 or more)"
            )
        elif reference_band is not None and reference_band > 1e6 * slack:
            assert band == pytest.approx(reference_band, rel=1e-9)
            assert text.startswith(f"+/- {band:.3g} (95% CI: t({dates - 1}) ")
    assert raw.layout.meta["band"].startswith("95% CI, clustered by date, ")


def test_regression_decay_paths_agree_on_a_mean_that_nearly_cancels():
    """FlakyFailure on a fresh clone: raw rows and their partials gave -3.333333331578814e-06 and
    -3.3333333333333337e-06 bp for one mean, compared under a relative 1e-12; both are within a few
    roundings of returns up to 100 bp of the true mean, which is what the comparison must allow."""
    a = [(-3.333333331578814e-06, 1.0), (-3.3333333333333337e-06, 1.0)]
    scale, n = 100.0, 3
    assert a[0][0] != pytest.approx(a[1][0], rel=1e-12, abs=1e-18)  # the old tolerance: a false failure
    point = [("g", 1.0, a[0][0], a[0][1], ("1 s", 3, "", 2))]
    other = [("g", 1.0, a[1][0], a[1][1], ("1 s", 3, "", 2))]
    _same_points(point, other, scale=scale, n=n)
    far = [("g", 1.0, a[1][0] + 1e-9, a[1][1], ("1 s", 3, "", 2))]  # a real difference still fails
    with pytest.raises(AssertionError):
        _same_points(point, far, scale=scale, n=n)


def test_decay_curve_is_sorted_by_horizon_and_close_is_a_separate_marker_at_the_right():
    """return_close (float('close') used to crash decay) is a diamond right of every horizon, tick 'close'."""
    df = pl.DataFrame({"return_60": [2e-4, 4e-4], "return_close": [1e-4, 1e-4], "return_-5": [0.0, 2e-4]})
    fig = vz.decay(df)
    curve, close = fig.data
    assert list(curve.x) == [-5.0, 60.0]
    assert list(curve.y) == pytest.approx([1.0, 3.0])
    assert close.mode == "markers"
    assert close.marker.symbol == "diamond"
    assert close.x[0] > 60
    assert list(close.y) == pytest.approx([1.0])
    assert close.error_y.array == (None,)  # no date column: one cluster, no band
    assert close.customdata[0][0] == "close"
    assert fig.layout.xaxis.ticktext[-1] == "close"
    assert fig.layout.xaxis.tickvals[-1] == close.x[0]
    assert all(t < close.x[0] for t in fig.layout.xaxis.tickvals[:-1])
    assert close.showlegend is False  # one legend entry per group: the curve's


def test_decay_log_x_ticks_at_the_horizons_and_refuses_non_positive_horizons():
    df = pl.DataFrame({"return_1": [1e-4, 2e-4], "return_300": [3e-4, 1e-4], "return_30": [0.0, 1e-4]})
    fig = vz.decay(df, log_x=True)
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.xaxis.tickvals) == [1.0, 30.0, 300.0]
    assert list(fig.layout.xaxis.ticktext) == ["1", "30", "300"]
    for bad in ("return_-5", "return_0"):
        with pytest.raises(VizflowError, match=rf"log_x=True cannot place .*{bad}.*use log_x=False"):
            vz.decay(df.with_columns(pl.lit(1e-4).alias(bad)), log_x=True)


def test_decay_hover_shows_counts_the_band_and_why_a_point_has_none():
    """Two dates: t(0.975, 1) = 12.706 x the clustered se; one date: no band, and the hover says why."""
    df = pl.DataFrame(
        {"date": ["d1", "d2", "d2"], "return_5": [1e-4, 3e-4, None], "return_10": [1e-4, None, None]}
    )
    trace = vz.decay(df).data[0]
    assert [c[1] for c in trace.customdata] == [2, 1]  # non-missing values behind each point
    assert [c[3] for c in trace.customdata] == [2, 1]  # and the dates (clusters) they come from
    # CR1 of [1, 3] bp in two dates: sqrt(2 * (1 + 1)) / 2 = 1 bp; t(0.975, 1) = 12.7062
    assert trace.error_y.array[0] == pytest.approx(scipy_t.ppf(0.975, 1) * 1.0, rel=1e-12)
    assert trace.customdata[0][2] == "+/- 12.7 (95% CI: t(1) 12.71 x se 1, 2 dates)"
    assert trace.error_y.array[1] is None  # one date: no band
    assert trace.customdata[1][2] == "no band: 1 date (a clustered CI needs 2 or more)"
    assert "%{customdata[2]}" in trace.hovertemplate
    assert "n: %{customdata[1]}" in trace.hovertemplate


def test_decay_labels_its_band_with_its_clustering_and_cluster_count():
    df = pl.DataFrame({"date": ["d1", "d2", "d3"] * 2, "g": ["a"] * 3 + ["b"] * 3, "return_5": [1e-4] * 6})
    fig = vz.decay(df.with_columns(pl.col("return_5") * pl.int_range(6)), "g")
    assert fig.layout.meta["band"] == "95% CI, clustered by date, 3 dates"
    assert fig.layout.title.text.endswith("<br><sup>95% CI, clustered by date, 3 dates</sup>")
    by_half_hour = vz.decay(
        df.with_columns(
            t=pl.Series([0.0, 10.0, 2000.0, 4000.0, 4001.0, 9000.0]), return_5=pl.int_range(6) * 1e-4
        ),
        cluster=(pl.col("t") // 1800).alias("half hour"),
    )
    assert by_half_hour.layout.meta["band"] == "95% CI, clustered by half hour, 4 half hours"
    assert vz.decay(df.drop("date")).layout.meta["band"] == "95% CI, 1 cluster (no band where < 2)"
    final = vf.finalize(vf.summarize(df, None, "return_5"))
    assert vz.decay(final, cluster="symbol").layout.meta["band"].startswith("95% CI, clustered by symbol")
    with pytest.raises(VizflowError, match=r"decay: cluster=.* clusters raw rows, but this is a final table"):
        vz.decay(final, cluster=pl.col("date"))


def test_decay_band_equals_statsmodels_clustered_ci_on_the_real_sample():
    """The band of vz.decay on real markouts (one symbol, three dates) equals statsmodels' cluster-robust
    se of the mean (OLS on a constant, cov_type="cluster" by date) times scipy's t(0.975, G - 1)."""
    sm = pytest.importorskip("statsmodels.api")
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN).filter(pl.col("side") != 0)
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes().filter(pl.col("symbol") == "600519.SH"), vf.CN)
    marks = vf.forward_return(
        trades, [1, 60], "price", symbol_col=["date", "symbol"],
        reference=quotes, reference_price_col="mid",
    )  # fmt: skip
    fig = vz.decay(marks, sign="side")
    for k, h in enumerate([1, 60]):
        rows = marks.select("date", (pl.col(f"return_{h}") * pl.col("side") * 1e4).alias("x")).drop_nulls()
        groups = rows["date"].cast(pl.Categorical).to_physical().to_numpy()
        fit = sm.OLS(rows["x"].to_numpy(), np.ones(rows.height)).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
        half = scipy_t.ppf(0.975, 2) * float(fit.bse[0])
        assert fig.data[0].y[k] == pytest.approx(float(fit.params[0]), rel=1e-9)
        assert fig.data[0].error_y.array[k] == pytest.approx(half, rel=1e-9)
    assert fig.layout.meta["band"] == "95% CI, clustered by date, 3 dates"


@given(st.integers(2, 5), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_regression_decay_of_partials_cut_finer_than_the_curve_counts_each_date_once(dates, sizes, seed):
    # Per-date partials keyed by (date, size bucket), drawn as one curve: combined by [] each
    # (date, bucket) cell counted as a cluster of its own (G = dates x buckets, se too small).
    # The curve pools each date into one cluster: the band equals the one from the raw rows.
    rng = np.random.default_rng(seed)
    n = dates * sizes * 4
    rows = pl.DataFrame(
        {
            "date": np.repeat(np.arange(dates), sizes * 4),
            "size": np.tile(np.repeat(np.arange(sizes), 4), dates),
            "return_5": rng.normal(0, 1e-4, n),
        }
    )
    part = vf.summarize(rows, ["date", "size"], "return_5")
    from_rows, from_partials = vz.decay(rows).data[0], vz.decay(part).data[0]
    assert [c[3] for c in from_partials.customdata] == [dates]
    assert from_partials.error_y.array[0] == pytest.approx(from_rows.error_y.array[0], rel=1e-9)
    # Without the date among the keys the table cannot say which cells share a date: no band.
    undated = vz.decay(part.drop("date")).data[0]
    assert undated.error_y.array[0] is None


def test_decay_of_a_finalized_table_with_sign_is_refused():
    """sign must be applied before summarize: a partial or finalized table cannot be re-signed."""
    df = pl.DataFrame({"side": [1, -1], "return_5": [1e-4, 3e-4]})
    partial = vf.summarize(df, "side", "return_5")
    for table in (partial, vf.finalize(partial)):
        with pytest.raises(VizflowError, match=r"decay: sign='side' needs raw rows.*before vf.summarize"):
            vz.decay(table, "side", sign="side")


def test_decay_of_a_finalized_table_needs_one_row_per_group():
    df = pl.DataFrame({"g": ["a", "a", "b"], "k": [1, 2, 1], "return_5": [1e-4, 3e-4, 2e-4]})
    final = vf.finalize(vf.summarize(df, ["g", "k"], "return_5"))
    with pytest.raises(VizflowError, match=r"3 rows for 2 cell\(s\) of \['g'\].*\['k'\].*by=\['g'\]"):
        vz.decay(final, "g")
    with pytest.raises(VizflowError, match=r"3 rows for 1 cell\(s\) of \[\]"):
        vz.decay(final)
    one_row_per_g = vf.finalize(vf.combine(vf.summarize(df, ["g", "k"], "return_5"), by="g"))
    assert [t.name for t in vz.decay(one_row_per_g, "g").data] == ["a", "b"]


@pytest.mark.parametrize("column", ["return_60x", "return_1mo", "return_nan", "return_inf"])  # 60s is 60 s
def test_regression_decay_names_a_column_without_a_horizon(column):
    """A return column whose rest was not a number crashed with float()'s ValueError."""
    with pytest.raises(SchemaError, match=rf"decay: column '{column}' does not end in a horizon"):
        vz.decay(pl.DataFrame({column: [1e-4]}))


def test_decay_with_null_groups_and_empty_frames():
    df = pl.DataFrame({"g": ["a", None, "a"], "return_5": [1e-4, 2e-4, 3e-4]})
    assert [t.name for t in vz.decay(df, "g").data] == ["null", "a"]
    for empty in (df.head(0), vf.summarize(df.head(0), "g", "return_5")):
        fig = vz.decay(empty, "g")
        assert len(fig.data) == 0
        assert "no rows" in fig.layout.title.text


# --- heatmap of a partial or finalized table -------------------------------------------------------

heat_rows = st.lists(
    st.tuples(
        st.sampled_from(["20240102", "20240103", "20240104"]),
        st.integers(0, 8),
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.none(), st.floats(-1e-2, 1e-2, allow_nan=False)),
    ),
    min_size=1,
    max_size=60,
)


@given(rows=heat_rows, min_count=st.integers(1, 3))
def test_heatmap_of_a_year_table_equals_plain_polars_cells(rows, min_count):
    """finalize(combine(per-date partials)) drawn directly: each cell's value and count equal a plain
    Polars group_by over the rows, and the same as the heatmap of the raw rows."""
    schema = {"date": pl.String, "half_hour": pl.Int64, "decile": pl.String, "r": pl.Float64}
    df = pl.DataFrame(rows, schema=schema, orient="row")
    partials = [vf.summarize(day, ["half_hour", "decile"], "r") for day in df.partition_by("date")]
    year = vf.finalize(vf.combine(partials))
    expected = {
        (h, d): (n, mean)
        for h, d, n, mean in df.group_by("half_hour", "decile")
        .agg(pl.col("r").count().alias("n"), pl.col("r").mean().alias("mean"))
        .iter_rows()
    }
    fig = vz.heatmap(year, "half_hour", "decile", "r", min_count=min_count)
    trace = fig.data[0]
    drawn = {}
    for i, row in enumerate(trace.customdata):
        for j, cell in enumerate(row):
            if (int(cell[0]), cell[1]) in expected:
                drawn[int(cell[0]), cell[1]] = (cell[2], trace.z[i][j])
    assert set(drawn) == set(expected)
    for key, (n, mean) in expected.items():
        assert drawn[key][0] == n
        shown = n >= min_count and mean is not None
        assert drawn[key][1] == (pytest.approx(mean, rel=1e-12, abs=1e-15) if shown else None)
    raw = vz.heatmap(df, "half_hour", "decile", "r", min_count=min_count).data[0]
    assert [[c[2] for c in row] for row in raw.customdata] == [
        [c[2] for c in row] for row in trace.customdata
    ]
    assert (
        vz.heatmap(vf.combine(partials), "half_hour", "decile", "r", min_count=min_count).data[0].z == trace.z
    )


def test_heatmap_of_a_finalized_table_draws_any_statistic_with_its_counts():
    df = pl.DataFrame(
        {
            "date": ["d1", "d2", "d3", "d1", "d2"],
            "x": [0, 0, 0, 1, 1],
            "y": [1] * 5,
            "r": [1.0, 3.0, None, 2.0, 6.0],
        }
    )
    final = vf.finalize(vf.summarize(df, ["x", "y"], "r"))
    t = vz.heatmap(final, "x", "y", "r_t")
    # one value per date: the clustered se is the iid one, mean / (std / sqrt(n)): 2 / 1, 4 / 2
    assert list(t.data[0].z[0]) == pytest.approx([2.0, 2.0])
    assert t.layout.title.text == "r_t by x and y<br><sup>95% CI, clustered by date, 2 dates</sup>"
    assert t.data[0].colorbar.title.text == "r_t (t)"
    assert [cell[2] for cell in t.data[0].customdata[0]] == [2, 2]  # r_n (non-missing), not the 3 rows
    half = scipy_t.ppf(0.975, 1) * 1.0  # se of [1, 3] over two dates: 1
    assert t.data[0].customdata[0][0][4] == f"+/- {half:.3g} (95% CI: t(1) 12.71 x se 1, 2 dates)"
    hidden = vz.heatmap(final.with_columns(pl.col("r_n") - pl.Series([1, 0])), "x", "y", "r", min_count=2)
    assert list(hidden.data[0].z[0]) == [None, 4.0]
    assert "1 cells with < 2 values hidden" in hidden.layout.title.text


def test_heatmap_t_stat_of_a_cell_of_one_cluster_is_blank_and_says_why():
    """A cell whose values all come from one date has no clustered se, so no t: its hover says why."""
    df = pl.DataFrame(
        {"date": ["d1", "d1", "d1", "d2"], "x": [0, 0, 1, 1], "y": [0] * 4, "r": [1.0, 2.0, 3.0, 5.0]}
    )
    fig = vz.heatmap(vf.summarize(df, ["x", "y"], "r"), "x", "y", "r_t")
    assert fig.data[0].z[0][0] is None  # one date
    assert fig.data[0].z[0][1] is not None  # two dates
    assert fig.data[0].customdata[0][0][4] == "no band: 1 date (a clustered CI needs 2 or more)"
    assert "%{customdata[4]}" in fig.data[0].hovertemplate
    assert fig.layout.title.text == (
        "r_t by x and y<br><sup>95% CI, clustered by date, 1-2 dates (no band where < 2)</sup>"
        "<br><sup>khaki: 1 cells without a finite r_t (see hover), light grey: no values</sup>"
    )


def test_heatmap_of_a_finalized_table_refuses_several_rows_per_cell_and_unknown_values():
    df = pl.DataFrame({"x": [0, 0], "y": [1, 1], "k": ["a", "b"], "r": [1.0, 2.0]})
    final = vf.finalize(vf.summarize(df, ["x", "y", "k"], "r"))
    with pytest.raises(VizflowError, match=r"heatmap: the finalized table holds 2 rows for 1 cell.*\['k'\]"):
        vz.heatmap(final, "x", "y", "r")
    with pytest.raises(ColumnNotFoundError, match=r"heatmap: z='ret' is not a value of this finalized table"):
        vz.heatmap(final, "x", "y", "ret")
    merged = vz.heatmap(vf.summarize(df, ["x", "y", "k"], "r"), "x", "y", "r").data[0]
    assert [list(row) for row in merged.z] == [[1.5]]


def test_decay_never_takes_the_group_or_sign_column_for_a_return():
    """A group or sign column named like a return (return_bucket, return_sign) is not a horizon."""
    df = pl.DataFrame(
        {"return_bucket": [0, 0, 1], "return_sign": [1, -1, 1], "return_5": [1e-4, -3e-4, 2e-4]}
    )
    fig = vz.decay(df, "return_bucket", sign="return_sign")
    assert [(t.name, t.customdata[0][0], round(t.y[0], 9)) for t in fig.data] == [
        ("0", "5 s", 2.0),  # (1e-4 * 1 + -3e-4 * -1) / 2, in bp
        ("1", "5 s", 2.0),
    ]


def test_decay_of_an_infinite_return_names_the_figure_and_the_column():
    """An infinite markout (a zero price) is bad data: decay raises, naming itself and the column."""
    df = pl.DataFrame({"return_5": [1e-4, math.inf], "return_60": [1e-4, 2e-4]})
    with pytest.raises(DataError, match=r"^decay: summarize: value column 'return_5' holds 1 infinite"):
        vz.decay(df)


def test_regression_tests_draw_images_into_a_temporary_folder(img):
    """`make test` rewrote six tracked images under docs/img/; only `make figures` may write there."""
    repo = Path(__file__).resolve().parents[2]
    if os.environ.get(test_dashboard.FIGURES):
        assert img == Path(os.environ[test_dashboard.FIGURES])
    else:
        assert repo not in img.parents


# --- where decay draws its points, and how heatmaps label and hide cells -----------------------------

spots_strategy = st.lists(
    st.one_of(st.integers(-300, 3600).map(float), st.floats(0.01, 3600, allow_nan=False)),
    min_size=1,
    max_size=12,
    unique=True,
).map(sorted)
# Horizons a float rounding apart (3599.9999999999995 and 3600.0) are one horizon to a reader and
# to the axis: no offset fits between them. Distinct horizons differ by more than 1e-9 relative.
spots_strategy = spots_strategy.filter(
    lambda s: all(b - a > 1e-9 * max(1.0, abs(b)) for a, b in itertools.pairwise(s))
)


@given(spots=spots_strategy, groups=st.integers(1, 12), log_x=st.booleans())
def test_regression_decay_offsets_never_cross_another_horizon(spots, groups, log_x):
    """Each group's point at a horizon stays strictly between the neighbouring horizons (the 1 s point of
    a group was drawn at x = -3.1 s), and every group keeps the horizons' order."""
    if log_x:
        spots = [s for s in spots if s > 0] or [1.0]
    drawn = [dodged(spots, i, groups, log_x=log_x) for i in range(groups)]
    for k, spot in enumerate(spots):
        xs = [d[k] for d in drawn]
        if k:
            assert min(xs) > spots[k - 1]
            assert min(xs) > max(d[k - 1] for d in drawn)  # every point of the previous horizon is left of it
        if k + 1 < len(spots):
            assert max(xs) < spots[k + 1]
        if groups == 1:
            assert xs == [spot]


def test_regression_decay_figure_keeps_each_group_between_its_neighbouring_horizons():
    """Through vz.decay: ten groups at 1, 5, 30, 60, 300 s and close, on a linear and a log axis."""
    rows = pl.DataFrame(
        {
            "g": [str(i) for i in range(10)] * 2,
            **{f"return_{h}": [1e-4 * (i % 3)] * 20 for i, h in enumerate([1, 5, 30, 60, 300, "close"])},
        }
    )
    for log_x in (False, True):
        fig = vz.decay(rows, "g", log_x=log_x)
        curves = [t for t in fig.data if t.mode == "lines+markers"]
        closes = [t for t in fig.data if t.mode == "markers"]
        assert len(curves) == len(closes) == 10
        spots = [-math.inf, 1, 5, 30, 60, 300, fig.layout.xaxis.tickvals[-1]]  # the close's spot last
        for k in range(5):  # horizon k + 1 of spots lies strictly between spots k and k + 2
            assert all(spots[k] < t.x[k] < spots[k + 2] for t in curves)
        assert min(t.x[0] for t in closes) > max(t.x[-1] for t in curves)


def test_regression_heatmap_y_axis_shows_what_each_bin_holds():
    """A log10 size bin's axis read 0..7 (bin numbers); with y_labels it reads the share range of each."""
    df = pl.DataFrame({"t": [0.0, 10.0, 20.0], "qty": [100, 1000, 20000], "r": [1.0, 2.0, 3.0]})
    binned = vf.bin(df.with_columns(log_qty=pl.col("qty").log10()), {"log_qty": 0.5})
    shares = vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")
    fig = vz.heatmap(binned, "t", "log_qty_bin", "r", x_width=60, y_labels=shares)
    assert list(fig.layout.yaxis.ticktext) == [shares(k) for k in range(4, 10)]
    assert (shares(4), shares(6)) == ("56.2-178 shares", "562-1,780 shares")  # 100 is in bin 4, 1000 in 6
    assert list(fig.layout.yaxis.tickvals) == list(range(4, 10))
    row_of = {cell[1]: r for r, row in enumerate(fig.data[0].customdata) for cell in row}
    assert fig.data[0].z[row_of["56.2-178 shares"]][0] == 1.0  # the hover names the range too
    assert fig.data[0].z[row_of["17,800-56,200 shares"]][0] == 3.0
    mapped = vz.heatmap(binned, "t", "log_qty_bin", "r", x_width=60, y_labels={4: "small", 9: "large"})
    assert list(mapped.layout.yaxis.ticktext) == ["small", "5", "6", "7", "8", "large"]


@pytest.mark.parametrize(("width", "how", "k", "expected"), [
    (1800, "floor", 3, "5,400-7,200"), (0.5, "round", 0, "-0.25-0.25"), (1e-4, "round", 2, "0.00015-0.00025"),
])  # fmt: skip
def test_bin_labels_give_the_interval_vf_bin_puts_in_each_bin(width, how, k, expected):
    assert vz.bin_labels(width, how=how)(k) == expected
    lo, hi = ((k - 0.5) * width, (k + 0.5) * width) if how == "round" else (k * width, (k + 1) * width)
    inside = pl.DataFrame({"v": [lo + (hi - lo) * f for f in (0.01, 0.5, 0.99)]})
    assert vf.bin(inside, {"v": width}, how=how)["v_bin"].to_list() == [k] * 3


@pytest.mark.parametrize("width", [0, -1.0, math.inf, math.nan, True, "0.5"])
def test_bin_labels_refuse_a_bad_width(width):
    with pytest.raises(VizflowError, match=r"bin_labels: width=.*expected a finite number > 0"):
        vz.bin_labels(width)
    with pytest.raises(VizflowError, match="how='ceil'"):
        vz.bin_labels(1.0, how="ceil")


def test_regression_hidden_cells_are_drawn_grey_not_like_a_zero():
    """Cells below min_count were blank, which on RdBu reads as about zero; now a grey trace covers them."""
    df = pl.DataFrame({"x": [0, 0, 1, 2], "y": [0, 0, 0, 0], "r": [0.0, 0.0, 5.0, -5.0]})
    fig = vz.heatmap(df, "x", "y", "r", min_count=2)
    values, hidden = fig.data
    assert list(values.z[0]) == [0.0, None, None]  # a true zero is coloured; the small cells are not
    assert hidden.name == "hidden"
    assert list(hidden.z[0]) == [None, 1.0, 1.0]
    assert hidden.showscale is False
    assert hidden.hoverongaps is False  # its blank cells leave the hover to the cells below
    grey = {c for _, c in hidden.colorscale}
    assert len(grey) == 1
    scale = dict(values.colorscale)
    mid = [c for v, c in scale.items() if v == 0.5]
    assert mid
    assert grey.isdisjoint(mid)
    assert fig.layout.plot_bgcolor not in (*grey, *scale.values())  # nor is an empty cell
    assert "hidden: < 2 values" in hidden.hovertemplate
    assert "dark grey: 2 cells with < 2 values hidden, light grey: no values" in fig.layout.title.text
    assert len(vz.heatmap(df, "x", "y", "r").data) == 1  # nothing hidden: no grey trace


def test_regression_colour_bar_has_its_unit():
    df = pl.DataFrame({"x": [0, 1], "y": [0, 0], "r": [1.0, 2.0]})
    assert vz.heatmap(df, "x", "y", "r", unit="bp").data[0].colorbar.title.text == "mean r (bp)"
    assert "mean r (bp): %{customdata[3]}" in vz.heatmap(df, "x", "y", "r", unit="bp").data[0].hovertemplate
    assert vz.heatmap(df, "x", "y", "r", agg="count").data[0].colorbar.title.text == "count of values"
