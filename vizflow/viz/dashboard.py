"""A Dash dashboard: figures recomputed from a Polars frame when the user picks a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

import vizflow as vf
from vizflow._optional import import_optional
from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError
from vizflow.viz import figures
from vizflow.viz.heatmap import MIN_COUNT, heatmap
from vizflow.viz.labels import bin_labels

if TYPE_CHECKING:
    from collections.abc import Callable

    import plotly.graph_objects as go

__all__ = ["dashboard", "error_figure", "panel_figure", "sample_dashboard"]


def dashboard(
    panels: Mapping[str, Callable[[pl.DataFrame], go.Figure]] | Sequence[go.Figure],
    data: pl.DataFrame | pl.LazyFrame | None = None,
    control: str | None = None,
    *,
    title: str = "vizflow",
) -> Any:
    """Build a Dash app: the given figures, or a dropdown over ``data[control]`` and one graph per panel.

    Parameters
    ----------
    panels
        A list of figures, served as they are (then no ``data`` or ``control``); or heading ->
        function from the selected rows (a DataFrame) to a figure, recomputed when the dropdown
        changes.
    data
        The frame to filter; collected once.
    control
        The column the dropdown chooses from (e.g. ``"date"`` or ``"symbol"``).
    title
        Page heading.

    Returns
    -------
    dash.Dash
        Serve with ``app.run(host="127.0.0.1", port=8050)`` (or ``vizflow dashboard``).

    Raises
    ------
    VizflowError
        For a list with an item that is not a figure, a list with ``data``/``control``, or
        panel functions without them.
    ColumnNotFoundError
        For a ``control`` column not in ``data``.

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> df = pl.DataFrame({"day": ["d1", "d1", "d2"], "x": [1, 2, 1], "y": [1.0, 2.0, 5.0]})
    >>> app = vz.dashboard({"y by x": lambda d: vz.line(d, "x", "y")}, df, "day")
    >>> type(app).__name__
    'Dash'

    The simple form, figures made beforehand:

    >>> app = vz.dashboard([vz.line(df, "x", "y"), vz.decay(pl.DataFrame({"return_1": [1e-4]}))])
    >>> [graph.id for graph in app.layout.children[1:]]
    ['vf-figure-0', 'vf-figure-1']
    """
    if not isinstance(panels, Mapping):
        return _static(panels, data, control, title)
    if data is None or control is None:
        msg = "dashboard: panel functions need data= and control= (the frame and its dropdown column)"
        raise VizflowError(msg)
    dash = import_optional("dash", extra="viz")
    frame = data.collect() if isinstance(data, pl.LazyFrame) else data
    require_columns(frame.schema, [control], where="dashboard")
    options = [str(v) for v in frame[control].drop_nulls().unique().sort().to_list()]
    app = dash.Dash(__name__, title=title)
    graphs = [dash.dcc.Graph(id=f"vf-panel-{i}") for i in range(len(panels))]
    app.layout = dash.html.Div(
        [
            dash.html.H1(title),
            dash.html.Label(f"{control}: "),
            dash.dcc.Dropdown(
                id="vf-control",
                options=options,
                value=options[0] if options else None,
                clearable=False,
                style={"width": "320px"},
            ),
            *[dash.html.Div([dash.html.H3(name), graph]) for name, graph in zip(panels, graphs, strict=True)],
        ]
    )

    @app.callback(
        [dash.Output(f"vf-panel-{i}", "figure") for i in range(len(panels))],
        dash.Input("vf-control", "value"),
    )
    def update(value: str) -> list[go.Figure]:
        rows = frame.filter(pl.col(control).cast(pl.String) == value)
        figures = [panel_figure(name, fn, rows) for name, fn in panels.items()]
        for fig in figures:
            fig.update_layout(meta={"vizflow_control": value})
        return figures

    return app


def _static(figures: Any, data: object, control: object, title: str) -> Any:
    dash = import_optional("dash", extra="viz")
    go_ = import_optional("plotly.graph_objects", extra="viz")
    figures = list(figures) if isinstance(figures, Sequence) and not isinstance(figures, str) else [figures]
    bad = [i for i, fig in enumerate(figures) if not isinstance(fig, go_.Figure)]
    if bad or data is not None or control is not None:
        what = f"item {bad[0]} is {type(figures[bad[0]]).__name__}" if bad else "data/control were given"
        msg = (
            f"dashboard: panels is a list but {what}; expected a list of plotly figures alone, or a "
            "mapping heading -> function(rows) -> figure with data= and control="
        )
        raise VizflowError(msg)
    app = dash.Dash(__name__, title=title)
    app.layout = dash.html.Div(
        [dash.html.H1(title), *[dash.dcc.Graph(id=f"vf-figure-{i}", figure=f) for i, f in enumerate(figures)]]
    )
    return app


def error_figure(name: str, exc: BaseException) -> go.Figure:
    """Return a figure whose title shows why panel ``name`` failed, so the error is on the page.

    Examples
    --------
    >>> error_figure("decay", ValueError("no rows")).layout.title.text
    "panel 'decay' failed: ValueError: no rows"
    """
    fig = import_optional("plotly.graph_objects", extra="viz").Figure()
    fig.update_layout(title=f"panel {name!r} failed: {type(exc).__name__}: {exc}")
    return fig


def panel_figure(name: str, fn: Callable[[pl.DataFrame], go.Figure], rows: pl.DataFrame) -> go.Figure:
    """Call a panel's function; if it raises, a figure whose title shows the error (not a blank graph).

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> fig = panel_figure("mid", lambda d: vz.line(d, "x", "mid"), pl.DataFrame({"x": [1]}))
    >>> fig.layout.title.text
    "panel 'mid' failed: ColumnNotFoundError: line: column 'mid' not found; available: ['x']."
    """
    try:
        return fn(rows)
    except Exception as exc:  # a panel's error belongs on the page, not only in the server log
        return error_figure(name, exc)


HALF_HOURS = (pl.col("elapsed_seconds") // 1800).alias("half hour")
"""The clusters of one day's markouts: half hours of the session clock (a day is one date cluster)."""

SHARES = bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")
"""The share range each ``log_qty_bin`` (log10 shares, width 0.5) holds."""


def sample_dashboard() -> Any:
    """Build the dashboard of the shipped real sample: one day of 600519 at a time.

    Panels: the mid on the session clock, the alpha-decay curve of the trades (95% CI clustered
    by half hour: one day is one date), and the mean forward return by half hour (floor bins of
    the session clock) and trade-size bin (its share range), cells of fewer than ``MIN_COUNT``
    trades hidden.
    """
    quotes = vf.parse_time(  # continuous-session quotes only (no auction or pre-open books)
        vf.datasets.cn_sample_quotes().filter(
            pl.col("symbol") == "600519.SH", pl.col("ticktime").is_between(93000000, 145700000)
        ),
        vf.CN,
    )
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN)
    parts = []
    for day in vf.datasets.SAMPLE_DATES:
        t = trades.filter(pl.col("date") == day)
        q = quotes.filter(pl.col("date") == day)
        parts.append(vf.forward_return(t, [1, 5, 30, 60, 300], "price", reference=q))
    returns = (
        pl.concat(parts)
        .filter(pl.col("side") != 0)
        .with_columns(log_qty=pl.col("qty").log10())
        .pipe(vf.bin, {"log_qty": 0.5})
        .with_columns(signed_60=pl.col("return_60") * pl.col("side") * 1e4)
    )
    data = pl.concat(
        [quotes.with_columns(kind=pl.lit("quote")), returns.with_columns(kind=pl.lit("trade"))],
        how="diagonal_relaxed",
    )
    panels = {
        "600519 mid on the session clock": lambda d: figures.line(
            d.filter(pl.col("kind") == "quote"), "elapsed_seconds", "mid", market=vf.CN,
            title=f"600519.SH mid, {d['date'][0] if d.height else ''}",
        ),
        "alpha decay (trades, in the aggressor's direction)": lambda d: figures.decay(
            d.filter(pl.col("kind") == "trade"), sign="side", cluster=HALF_HOURS,
        ),
        "mean 60 s markout (bp) by half hour and trade size": lambda d: heatmap(
            d.filter(pl.col("kind") == "trade"), "elapsed_seconds", "log_qty_bin", "signed_60",
            x_width=1800, min_count=MIN_COUNT, market=vf.CN, unit="bp", y_labels=SHARES,
        ),
    }  # fmt: skip
    return dashboard(panels, data, "date", title="vizflow: 600519.SH, real Level-2 sample")
