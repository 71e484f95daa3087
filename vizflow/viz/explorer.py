"""The explorer: a Dash app over a table of markouts, "where is the alpha, and how does it decay".

The page has the controls (X, Y, value, statistic, weight, minimum count, dates), a heatmap of the
statistic over the (X, Y) cells and the decay curve of the cells selected on it (box or lasso).
The numbers come from :class:`vizflow.viz.cells.ExplorerData`; this module only draws them.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from vizflow._optional import import_optional
from vizflow.exceptions import VizflowError
from vizflow.viz.bands import band_label
from vizflow.viz.cells import STATISTICS, ExplorerData, Statistic, load_table
from vizflow.viz.dashboard import error_figure
from vizflow.viz.grid import value_axis, x_axis
from vizflow.viz.heatmap import MIN_COUNT, heatmap
from vizflow.viz.horizons import close_position, horizon_ticks
from vizflow.viz.plotly_import import graph_objects

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import plotly.graph_objects as go

    from vizflow.market import Market

__all__ = ["decay_figure", "explorer", "heatmap_figure"]

_NONE = ""  # the weight option "(none)": RadioItems values cannot be None
_CELLS = "cells"  # the trace of invisible markers that a box or lasso selects
_BANDS_TEXT = (
    "Bands and t-stats: 95% confidence intervals, t(0.975, G - 1) x the cluster-robust standard error "
    "(G clusters). Clustered by date when the dates in view are several, by half hour of the session clock "
    "when they are one; a cell or horizon with fewer than 2 clusters has none (its hover says why)."
)


def heatmap_figure(
    data: ExplorerData, x: str, y: str, value: str, statistic: Statistic, *, weight: str | None = None,
    min_count: int = MIN_COUNT, dates: Sequence[int] | None = None, labels: Mapping[str, Any] | None = None,
) -> go.Figure:  # fmt: skip
    """Draw the heatmap of one view, with an invisible marker on each shown cell for box/lasso selection.

    Each marker's ``customdata`` is the cell's ``[x, y]`` key, so a selection names its cells by
    value; the marker trace is named ``"cells"``. Cells of fewer than ``min_count`` values are
    hidden (drawn grey) and cannot be selected. Each cell's hover shows its 95% CI (clustered as
    :meth:`ExplorerData.clustering` says) or why it has none; the subtitle names the clustering.
    ``labels`` maps a column to its ``y_labels`` (:func:`vizflow.viz.heatmap`) when it is Y.

    Examples
    --------
    >>> import polars as pl
    >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1e-4, 3e-4, 5e-4]})
    >>> data = ExplorerData.from_table(rows, market=None)
    >>> fig = heatmap_figure(data, "a", "b", "return_5", "count", min_count=2)
    >>> [t.name for t in fig.data], list(fig.data[-1].customdata)
    (['count of return_5', 'hidden', 'cells'], [[1, 'u']])
    """
    cells = data.cells(x, y, value, statistic, weight=weight, dates=dates)
    label = _label(statistic, value)
    timed = x == data.time
    shown = cells.filter(pl.col("count") >= min_count)
    clustered_by = data.clusters_in(dates).noun
    band = band_label(clustered_by, shown["clusters"].to_list())
    fig = heatmap(
        cells.rename({"stat": label}), x, y, label, counts="count", hover="band",
        agg="count" if statistic in ("count", "sum of weight") else "mean",  # sequential from 0, or diverging
        x_width=data.x_width if timed else None, market=data.market if timed else None,
        min_count=min_count, title=f"{label} by {x} and {y}<br><sup>{band}</sup>", max_points=10**9,
        y_labels=(labels or {}).get(y),
    )  # fmt: skip
    if fig.data:  # no cell with both keys: an empty figure that says so
        fig.data[0].name = label
    placed = cells.filter(pl.col(x).is_not_null(), pl.col(y).is_not_null(), pl.col("count") >= min_count)
    if placed.height:
        fig.add_trace(_selectable(placed, x, y, data.x_width if timed else None))
    fig.update_layout(dragmode="select", clickmode="event+select", meta={"vizflow_view": [x, y, value]})
    return fig


def _selectable(placed: pl.DataFrame, x: str, y: str, width: float | None) -> go.Scatter:
    # The heatmap's own axis mapping, so each marker sits at the centre of the cell it names.
    xs, ys = x_axis(placed, x, width, None, 10**9).row_centres(), value_axis(placed, y).row_centres()
    return graph_objects().Scatter(
        x=xs, y=ys, mode="markers", name=_CELLS,
        customdata=placed.select(x, y).rows(), hoverinfo="skip", showlegend=False,
        marker={"size": 12, "opacity": 0}, selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}},
    )  # fmt: skip


def decay_figure(
    data: ExplorerData, x: str, y: str, selection: Sequence[Sequence] | None, *, weight: str | None = None,
    dates: Sequence[int] | None = None,
) -> go.Figure:  # fmt: skip
    """Draw the markout curve over every horizon of the selected cells (``None``: all), with its 95% CI.

    The band is ``t(0.975, G - 1) x se`` per horizon (:meth:`ExplorerData.decay`), clustered by
    date when the rows span several dates and by half hour of the session clock when they hold
    one; a horizon with fewer than 2 clusters has no band, and its hover says why. ``close`` is
    a diamond of its own right of the curve. Traces: the mean (``customdata`` ``[n, band text]``),
    the band's upper and lower edges, then ``close``. ``layout.meta`` holds the totals:
    ``rows``, ``weight``, ``share`` (of the date range), ``band`` (the band's label),
    ``clustering`` and ``text`` (the line the page shows).

    Examples
    --------
    >>> import polars as pl
    >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1.0, 3.0, 5.0]})
    >>> data = ExplorerData.from_table(rows, market=None, scale=1)
    >>> fig = decay_figure(data, "a", "b", [[1, "u"]])
    >>> list(fig.data[0].y), fig.layout.meta["rows"], fig.layout.meta["band"]
    ([2.0], 2, '95% CI, 1 cluster (no band where < 2)')
    """
    curve, totals = data.decay(x, y, selection, weight=weight, dates=dates)
    go_ = graph_objects()
    numeric, close = curve.filter(pl.col("horizon").is_not_null()), curve.filter(pl.col("horizon").is_null())
    h, mean, half = numeric["horizon"].to_list(), numeric["mean"].to_list(), numeric["half"].to_list()
    pairs = list(zip(mean, half, strict=True))
    upper = [m + d if m is not None and d is not None else None for m, d in pairs]
    lower = [m - d if m is not None and d is not None else None for m, d in pairs]
    kind = "weighted mean" if weight else "mean"
    label = band_label(totals["clustered_by"], curve["clusters"].to_list())
    hover = "%{x} s: %{y:.4g} bp, n %{customdata[0]}<br>%{customdata[1]}<extra></extra>"
    fig = go_.Figure(
        [
            go_.Scatter(x=h, y=mean, mode="lines+markers", name=kind, hovertemplate=hover,
                        customdata=numeric.select("n", "band").rows(), line={"color": _BLUE}),
            go_.Scatter(x=h, y=upper, mode="lines", line={"width": 0}, name="upper", showlegend=False,
                        hoverinfo="skip"),
            go_.Scatter(x=h, y=lower, mode="lines", line={"width": 0}, fill="tonexty", name="lower",
                        fillcolor="rgba(31, 119, 180, 0.2)", showlegend=False, hoverinfo="skip"),
        ]
    )  # fmt: skip
    ticks = horizon_ticks(h, log_x=False)
    if close.height:
        at = close_position(ticks, h, log_x=False)
        fig.add_trace(
            go_.Scatter(
                x=[at], y=close["mean"].to_list(), mode="markers", name="close", showlegend=False,
                error_y={"type": "data", "array": close["half"].to_list(), "visible": True},
                customdata=close.select("n", "band").rows(),
                marker={"symbol": "diamond", "size": 11, "color": _BLUE},
                hovertemplate="close: %{y:.4g} bp, n %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            )
        )  # fmt: skip
        fig.update_xaxes(tickvals=[*ticks, at], ticktext=[*(f"{t:g}" for t in ticks), "close"])
    what = "whole table" if selection is None else f"{len(selection)} selected cells"
    head = f"markout of the {what}: {_totals_text(totals, weight)}"
    text = f"{head}; {label}"
    fig.update_layout(
        title=f"{head}<br><sup>{label}; {totals['clustering']}</sup>",
        xaxis_title="horizon (s)", yaxis_title=f"{kind} forward return (bp)",
        meta={**totals, "cells": None if selection is None else len(selection), "band": label, "text": text},
    )  # fmt: skip
    return fig


_BLUE = "#1f77b4"


def _totals_text(totals: dict, weight: str | None) -> str:
    share = totals["share"]
    share_text = "no weight in the date range" if share is None else f"{share:.1%} of the total"
    if weight:
        return f"{totals['rows']:,} rows, {weight} {totals['weight']:,.6g} ({share_text})"
    return f"{totals['rows']:,} rows ({share_text})"


def _label(statistic: str, value: str) -> str:
    return {
        "mean": f"mean {value} (bp)",
        "weighted mean": f"weighted mean {value} (bp)",
        "sum of weight": "sum of weight",
        "count": f"count of {value}",
        "t-stat": f"t-stat of {value}",
    }[statistic]


def _selection(selected: dict | None) -> list | None:
    """Return the cells (``[x, y]`` keys) of a Dash ``selectedData``; ``None`` for no selection."""
    # A redraw makes plotly report an empty selection without a box or lasso: that is no selection.
    if not selected or not (selected.get("range") or selected.get("lassoPoints")):
        return None
    return [p["customdata"] for p in selected.get("points", []) if p.get("customdata") is not None]


def _dates_text(dates: list, index: Sequence[int] | None) -> str:
    """Return the label of a date-range slider position, e.g. ``"20230201 .. 20230202 (2 of 3 dates)"``.

    Examples
    --------
    >>> _dates_text(["20230201", "20230202", "20230203"], [0, 1])
    '20230201 .. 20230202 (2 of 3 dates)'
    """
    if not dates:
        return ""
    lo, hi = (0, len(dates) - 1) if index is None else (max(index[0], 0), min(index[1], len(dates) - 1))
    return f"{dates[lo]} .. {dates[hi]} ({hi - lo + 1} of {len(dates)} dates)"


def _date_slider(dcc: Any, n_dates: int, marks: dict) -> Any:
    last = max(n_dates - 1, 0)
    options = {"id": "vf-dates", "min": 0, "max": last, "step": 1, "value": [0, last], "marks": marks}
    if "allow_direct_input" in inspect.signature(dcc.RangeSlider).parameters:
        options["allow_direct_input"] = False  # Dash >= 3 adds number boxes, which would show indices
    return dcc.RangeSlider(**options)


def _radio(dash: Any, ident: str, label: str, options: list, value: Any) -> Any:
    return dash.html.Div(
        [dash.html.B(label), dash.dcc.RadioItems(id=ident, options=options, value=value,
                                                 labelStyle={"display": "block"})],
        style={"marginRight": "24px"},
    )  # fmt: skip


def explorer(
    table: pl.DataFrame | pl.LazyFrame | str | Path,
    *,
    x: str | None = None,
    y: str | None = None,
    value: str | None = None,
    statistic: Statistic | None = None,
    weight: str | None = None,
    min_count: int = MIN_COUNT,
    columns: Sequence[str] | None = None,
    date: str = "date",
    time: str = "elapsed_seconds",
    x_width: float = 1800,
    market: Market | str | None = None,
    prefix: str = "return_",
    sign: str | None = None,
    weights: Sequence[str] | None = None,
    max_levels: int = 64,
    title: str = "vizflow explorer",
    labels: Mapping[str, Mapping[Any, str] | Callable[[Any], str]] | None = None,
) -> Any:
    """Build the explorer: a Dash app over raw rows with ``return_*`` columns or partial tables.

    Parameters
    ----------
    table
        Raw rows with forward-return columns ``{prefix}{h}`` (e.g. from
        :func:`vizflow.forward_return`), or partial tables from :func:`vizflow.summarize` of them
        (e.g. one per date, keyed by the date and the X/Y columns; they are combined), or a
        parquet file or folder of either.
    x, y, value, statistic, weight, min_count
        The initial view: X and Y columns (default: ``time`` if present, then the first
        candidate), the return column (default the shortest horizon), the statistic (``"mean"``,
        ``"weighted mean"``, ``"sum of weight"``, ``"count"``, ``"t-stat"``; default ``"mean"``,
        or ``"weighted mean"`` for a table summarized with ``weight=``, which has no unweighted
        mean), the weight column and the minimum count of values a cell needs to be shown and
        selectable.
    columns
        The X/Y candidates. Default: ``time`` and every integer, string, Boolean or Categorical
        column with at most ``max_levels`` distinct values (raw rows), or every key of a
        partial table but ``date``.
    date
        The date column: a date-range slider filters it.
    time
        The session-clock column (raw ``elapsed_seconds``, or left bin edges in a partial
        table): cut into floor bins of ``x_width`` seconds, drawn over exactly their bins, with
        clock times when ``market`` is given.
    x_width
        The width of those bins, in seconds.
    market
        The market (``vf.CN`` or its name) whose clock times label the time axis.
    prefix, sign
        Return columns start with ``prefix``; ``sign`` (raw rows only) names a column to
        multiply them by, e.g. the trade side, so means read in the direction of the signal.
    weights
        The weight columns offered (raw rows; default every other numeric column). A partial
        table offers its ``weight``.
    max_levels
        The most distinct values a raw column may hold to be offered as X or Y.
    title
        Page heading.
    labels
        How a column's values are shown when it is Y: a mapping or function per column, e.g.
        ``{"log_qty_bin": vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")}`` (the
        share range of each size bin; ``vizflow explore --bin-labels log_qty_bin=0.5,log10,shares``).

    Returns
    -------
    dash.Dash
        Serve with ``app.run(host="127.0.0.1", port=8050)``, ``vizflow explore PATH``, or
        ``app.run(jupyter_mode="inline")`` in a notebook.

    Raises
    ------
    ColumnNotFoundError
        For a table without return columns or without X/Y candidates, or a missing column.
    VizflowError
        For a bad initial view, or ``sign`` with a partial table.

    Notes
    -----
    Raw rows are collected once and summarized by the date and every candidate (per weight
    column, on first use); each view combines those partials, so a year of partial tables opens
    as fast as it can be read. A panel that fails shows its error in place.

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> rows = pl.DataFrame({"side": [1, -1, 1], "size_bin": [0, 1, 1], "return_1": [1e-4, 2e-4, 3e-4]})
    >>> app = vz.explorer(rows, min_count=1)
    >>> type(app).__name__
    'Dash'
    """
    dash = import_optional("dash", extra="viz")
    source = load_table(table) if isinstance(table, str | Path) else table
    data = ExplorerData.from_table(
        source, columns=columns, date=date, time=time, x_width=x_width, market=market, prefix=prefix,
        sign=sign, weights=weights, max_levels=max_levels,
    )  # fmt: skip
    view = _initial_view(data, x, y, value=value, statistic=statistic, weight=weight)
    html, dcc, Input, Output = dash.html, dash.dcc, dash.Input, dash.Output
    dims = [{"label": d, "value": d} for d in data.dims]
    horizons = list(data.values)  # by horizon, close last
    n_dates = len(data.dates)
    marks = {i: str(data.dates[i]) for i in range(0, n_dates, max(1, math.ceil(n_dates / 8)))}
    app = dash.Dash(__name__, title=title)
    app.layout = html.Div(
        [
            html.H2(title),
            html.Div(
                [
                    _radio(dash, "vf-x", "X", dims, view["x"]),
                    _radio(dash, "vf-y", "Y", dims, view["y"]),
                    _radio(dash, "vf-value", "value", horizons, view["value"]),
                    _radio(dash, "vf-stat", "statistic", list(STATISTICS), view["statistic"]),
                    _radio(dash, "vf-weight", "weight",
                           [{"label": w or "(none)", "value": w or _NONE} for w in data.weights],
                           view["weight"] or _NONE),
                    html.Div([html.B("minimum count"), html.Br(),
                              dcc.Input(id="vf-min-count", type="number", min=1, step=1, value=min_count,
                                        debounce=True, style={"width": "80px"})]),
                ],
                style={"display": "flex", "flexWrap": "wrap"},
            ),
            html.Div(
                [html.B("dates "), html.Span(_dates_text(data.dates, None), id="vf-dates-label"),
                 html.Div(_date_slider(dcc, n_dates, marks), style={"padding": "0 48px"})],  # end labels fit
                style={"display": "block" if n_dates > 1 else "none", "margin": "8px 0"},
            ),
            html.P(_BANDS_TEXT, id="vf-bands", style={"fontSize": "90%", "margin": "4px 0"}),
            dcc.Graph(id="vf-heatmap", style={"height": "520px"}),
            html.Div(id="vf-totals", style={"fontFamily": "monospace", "margin": "4px 0"}),
            dcc.Graph(id="vf-decay", style={"height": "420px"}),
        ],
        style={"fontFamily": "sans-serif", "margin": "0 16px"},
    )  # fmt: skip

    controls = [Input(i, "value") for i in ("vf-x", "vf-y", "vf-value", "vf-stat", "vf-weight")]

    @app.callback(
        Output("vf-heatmap", "figure"), Output("vf-heatmap", "selectedData"),
        *controls, Input("vf-min-count", "value"), Input("vf-dates", "value"),
    )  # fmt: skip
    def draw_heatmap(x: str, y: str, value: str, stat: Statistic, w: str, least: Any, dates: list) -> tuple:  # noqa: PLR0917
        try:
            return heatmap_figure(
                data, x, y, value, stat, weight=w or None, min_count=least, dates=dates, labels=labels
            ), None
        except Exception as exc:  # a panel's error belongs on the page, not only in the server log
            return error_figure("heatmap", exc), None

    @app.callback(Output("vf-dates-label", "children"), Input("vf-dates", "value"))
    def label_dates(dates: list) -> str:
        return _dates_text(data.dates, dates)

    @app.callback(
        Output("vf-decay", "figure"), Output("vf-totals", "children"),
        Input("vf-heatmap", "selectedData"), *controls[:2], controls[4], Input("vf-dates", "value"),
    )  # fmt: skip
    def draw_decay(selected: dict | None, x: str, y: str, w: str, dates: list) -> tuple:
        try:
            fig = decay_figure(data, x, y, _selection(selected), weight=w or None, dates=dates)
        except Exception as exc:  # as above
            return error_figure("decay", exc), f"decay failed: {type(exc).__name__}: {exc}"
        return fig, fig.layout.meta["text"]

    return app


def _initial_view(
    data: ExplorerData, x: str | None, y: str | None, *, value: str | None, statistic: str | None,
    weight: str | None,
) -> dict:  # fmt: skip
    x = x or (data.time if data.time in data.dims else data.dims[0])
    y = y or next((d for d in data.dims if d != x), None)
    if y is None:
        msg = f"explorer: only one X/Y column ({data.dims}); expected two (pass columns=)"
        raise VizflowError(msg)
    value = value or next(iter(data.values))  # the shortest horizon
    weight = weight if weight is not None else data.weights[0]
    # a table summarized with weights has no unweighted mean: open it on the weighted one
    statistic = statistic or ("mean" if None in data.weights else "weighted mean")
    data.cells(x, y, value, statistic, weight=weight)  # type: ignore[arg-type]  # raises on a bad view
    return {"x": x, "y": y, "value": value, "statistic": statistic, "weight": weight}
