"""Plotly figures from vizflow frames: lines, alpha decay, P&L and holding periods (heatmaps: heatmap.py).

Every function takes a DataFrame or LazyFrame, returns a ``plotly.graph_objects.Figure`` (never
shows it), titles axes with the column names, and keeps figures small: inputs larger than
``max_points`` are aggregated or decimated first, and the title says so. A frame with no rows
gives an empty figure whose title says so. An ``elapsed_seconds`` axis is labelled with clock
times when a ``market`` is given (see :func:`vizflow.viz.clock_axis`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError
from vizflow.ops.forward import CLOSE
from vizflow.viz._stats import finalized, horizon_of, table_kind, value_columns
from vizflow.viz.axes import label_time_axis
from vizflow.viz.bands import band_hover, band_label, halfwidth
from vizflow.viz.horizons import close_position, dodged, horizon_ticks
from vizflow.viz.inputs import eager_frame, positive_int
from vizflow.viz.plotly_import import empty_figure, graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from vizflow.market import Market

__all__ = ["decay", "holding_histogram", "line", "pnl_curve"]


def _decimate(df: pl.DataFrame, max_points: int) -> tuple[pl.DataFrame, bool]:
    if df.height <= max_points:
        return df, False
    step = -(-df.height // max_points)
    return df.gather_every(step), True


def line(
    frame: pl.DataFrame | pl.LazyFrame,
    x: str,
    y: str,
    group: str | None = None,
    *,
    market: Market | str | None = None,
    title: str | None = None,
    max_points: int = 5_000,
    mode: str = "lines",
) -> go.Figure:
    """Draw lines of ``y`` against ``x``, one per value of ``group``.

    Each line keeps at most ``max_points`` points (every k-th point after sorting by ``x``; the
    title says when this happened). With ``market`` an ``elapsed_seconds`` axis shows clock
    times and no lunch gap.

    Raises
    ------
    ColumnNotFoundError
        For a missing ``x``, ``y`` or ``group`` column, naming it.
    VizflowError
        For ``max_points`` that is not an integer >= 1.

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> df = pl.DataFrame({"h": [1, 5, 1, 5], "r": [0.1, 0.2, 0.0, -0.1], "g": ["a", "a", "b", "b"]})
    >>> fig = vz.line(df, "h", "r", "g")
    >>> [(t.name, list(t.y)) for t in fig.data]
    [('a', [0.1, 0.2]), ('b', [0.0, -0.1])]
    """
    positive_int(max_points, "max_points", "line")
    cols = [x, y] + ([group] if group else [])
    df = eager_frame(frame, cols, "line")
    title = title if title is not None else (f"{y} by {x}" + (f" per {group}" if group else ""))
    if df.height == 0:
        return empty_figure(title)
    go_ = graph_objects()
    fig = go_.Figure()
    thinned = False
    parts = df.sort(group, x).partition_by(group, maintain_order=True) if group else [df.sort(x)]
    for part in parts:
        part, cut = _decimate(part, max_points)
        thinned = thinned or cut
        name = str(part[group][0]) if group else y
        fig.add_trace(go_.Scatter(x=part[x].to_list(), y=part[y].to_list(), mode=mode, name=name))
    note = f" (decimated to <= {max_points} points per line)" if thinned else ""
    fig.update_layout(title=title + note, xaxis_title=x, yaxis_title=y, legend_title_text=group)
    label_time_axis(fig, x, market)
    return fig


def decay(
    frame: pl.DataFrame | pl.LazyFrame,
    group: str | None = None,
    *,
    prefix: str = "return_",
    sign: str | None = None,
    scale: float = 1e4,
    log_x: bool = False,
    title: str | None = None,
    cluster: str | pl.Expr | None = None,
) -> go.Figure:
    """Draw the alpha-decay curve: mean forward return (bp) against horizon, with its 95% CI, per group.

    Parameters
    ----------
    frame
        Raw rows with ``{prefix}{h}`` columns (from :func:`vizflow.forward_return`), a partial
        table of them (:func:`vizflow.summarize`, e.g. ``vf.scan`` of a batch's per-date
        partials) or a finalized table (:func:`vizflow.finalize`: ``{v}_mean``, ``{v}_se``,
        ``{v}_clusters``, ``{v}_n`` or ``n``, one row per ``group`` value). Raw rows are
        summarized and partials combined by ``group``, then finalized, so the three draw the
        same figure.
    group
        A column whose values get one curve each (a key of a partial or finalized table);
        default one curve for the whole table.
    prefix
        The prefix of the return columns; the rest of the name is the horizon in seconds
        (``return_60``, ``return_0.5``, ``return_-5``) or ``close`` (``return_close``, the
        markout to the last price of the day: drawn as a separate diamond at the right end of
        the axis, labelled ``close``, not joined to the curve).
    sign
        Raw rows only: a column (e.g. the trade side) to multiply returns by, so the curve reads
        "in the direction of the signal". A partial or finalized table is already summarized:
        multiply before :func:`vizflow.summarize`.
    scale
        Multiplies means and standard errors (``1e4``: basis points).
    log_x
        Draw the horizon axis on a log scale, ticks at the horizons. Horizons ``<= 0`` (e.g.
        ``return_-5``) have no place on it and raise: select the positive horizons first.
    title
        The figure title; the band's label ("95% CI, clustered by date, 3 dates") is added
        below it.
    cluster
        Raw rows: what the standard errors are clustered by, a column name or an expression
        (passed to :func:`vizflow.summarize`; default its default, the ``date`` column, so rows of
        one date are one cluster and get no band). A partial or finalized table was clustered
        when summarized: a name here only labels its clusters (default ``"date"``).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``lines+markers`` trace per group (sorted by it, nulls first), plus one marker trace
        per group for ``close``. ``error_y.array`` holds the 95% CI half-width
        ``t(0.975, G - 1) x se`` per point (:mod:`vizflow.viz.bands`; ``G`` the point's
        clusters, ``{v}_clusters``), ``None`` where there is no band (fewer than 2 clusters, or
        no se); ``customdata`` holds ``[horizon, n, band text, clusters]`` per point, shown on
        hover with the reason for a missing band. With several groups, each group's points are
        shifted sideways (:func:`vizflow.viz.horizons.dodged`: never past another horizon) so
        that bars at one horizon do not hide each other; the hover and the ticks give the true
        horizon.

    Raises
    ------
    ColumnNotFoundError
        For no ``{prefix}`` column, or a missing ``group`` or ``sign`` column.
    SchemaError
        For a ``{prefix}`` column whose rest is neither a number nor ``close``.
    VizflowError
        For ``sign`` or a ``cluster`` expression with a partial or finalized table, horizons
        ``<= 0`` with ``log_x``, or a finalized table with several rows per group.

    Notes
    -----
    Collects the frame. The mean and se are those of :func:`vizflow.finalize` (the se is
    cluster-robust, CR1); the band is Student's t with ``G - 1`` degrees of freedom times it
    (4.30 se for three dates, 1.96 se only in the limit).

    Examples
    --------
    >>> import polars as pl, vizflow as vf, vizflow.viz as vz
    >>> df = pl.DataFrame(
    ...     {
    ...         "date": ["d1", "d1", "d2", "d3"],
    ...         "return_1": [1e-4, 3e-4, 2e-4, 4e-4],
    ...         "return_60": [2e-4, 4e-4, 3e-4, 5e-4],
    ...     }
    ... )
    >>> fig = vz.decay(df)
    >>> list(fig.data[0].x), [round(v, 6) for v in fig.data[0].y]
    ([1.0, 60.0], [2.5, 3.5])
    >>> fig.data[0].customdata[0][2]
    '+/- 2.46 (95% CI: t(2) 4.303 x se 0.573, 3 dates)'
    >>> fig.layout.title.text.split("<br>")[1]
    '<sup>95% CI, clustered by date, 3 dates</sup>'
    >>> same = vz.decay(vf.finalize(vf.summarize(df, None, ["return_1", "return_60"])))
    >>> same.data[0].y == fig.data[0].y
    True
    """
    schema = frame.collect_schema()
    kind = table_kind(schema)
    values = [v for v in value_columns(schema, kind, prefix) if v not in (group, sign)]
    if not values:
        require_columns(schema, [f"{prefix}<horizon>"], where="decay")
    horizons = {v: horizon_of(v, prefix, where="decay") for v in values}
    if log_x:
        bad = [v for v, h in horizons.items() if h is not None and h <= 0]
        if bad:
            msg = (
                f"decay: log_x=True cannot place the horizon(s) of {bad} (<= 0 s) on a log axis; expected "
                f"positive horizons: drop those columns first, or use log_x=False"
            )
            raise VizflowError(msg)
    keys = [group] if group else []
    final = finalized(frame, keys, values, sign=sign, cluster=cluster, where="decay")
    clustered_by = cluster_name(cluster, schema, kind)
    title = title if title is not None else "alpha decay: mean forward return by horizon"
    if final.height == 0 or not final["n"].sum():
        return empty_figure(title)
    stats = [f"{v}_{s}" for v in values for s in ("mean", "se")]
    final = final.with_columns(pl.col(*stats).cast(pl.Float64) * scale).sort(keys, nulls_last=False)
    numeric = sorted((h, v) for v, h in horizons.items() if h is not None)
    closes = [v for v, h in horizons.items() if h is None]
    ticks = horizon_ticks([h for h, _ in numeric], log_x=log_x)
    at_close = close_position(ticks, [h for h, _ in numeric], log_x=log_x)
    go_ = graph_objects()
    fig = go_.Figure()
    unit = "bp" if scale == BASIS_POINTS else f"x {scale:g}"
    spots = [h for h, _ in numeric] + ([at_close] if closes else [])
    columns = [v for _, v in numeric] + closes[:1]
    counts = []
    for i, row in enumerate(final.iter_rows(named=True)):
        name = ("null" if row[group] is None else str(row[group])) if group else "mean"
        colour = _PALETTE[i % len(_PALETTE)]
        xs = dict(zip(columns, dodged(spots, i, final.height, log_x=log_x), strict=True))
        curve = [(xs[v], v) for _, v in numeric]
        end = [(xs[closes[0]], v) for v in closes]
        counts += [_clusters(row, v) for v in values]
        for part, joined in ((curve, True), (end, False)):
            if part:
                trace = _decay_trace(part, horizons, row, unit, clustered_by, name=name, colour=colour,
                                     joined=joined)  # fmt: skip
                fig.add_trace(go_.Scatter(**trace, showlegend=bool(group) and (joined or not numeric)))
    label = band_label(clustered_by, counts)
    fig.update_layout(
        title=f"{title}<br><sup>{label}</sup>", xaxis_title="horizon (s)",
        yaxis_title=f"mean forward return ({unit})", legend_title_text=group, meta={"band": label},
    )  # fmt: skip
    if log_x:
        fig.update_xaxes(type="log")
    if closes or log_x:
        labels = [f"{t:g}" for t in ticks] + (["close"] if closes else [])
        fig.update_xaxes(tickvals=ticks + ([at_close] if closes else []), ticktext=labels)
    return fig


BASIS_POINTS = 1e4
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")  # fmt: skip


def cluster_name(cluster: str | pl.Expr | None, schema: pl.Schema, kind: str) -> str:
    """Name the clusters of a figure's standard errors, for its band label.

    A column name names itself; an expression its output name; no ``cluster`` is
    :func:`vizflow.summarize`'s default, the dates (raw rows without a ``date`` column are one
    ``"cluster"``).

    Examples
    --------
    >>> import polars as pl
    >>> schema = pl.Schema({"date": pl.String, "return_1": pl.Float64})
    >>> cluster_name(None, schema, "raw"), cluster_name("symbol", schema, "raw")
    ('date', 'symbol')
    >>> cluster_name((pl.col("t") // 1800).alias("half hour"), schema, "raw")
    'half hour'
    """
    if cluster is None:
        return "date" if kind != "raw" or DATE in schema else "cluster"
    if isinstance(cluster, str):
        return cluster
    return cluster.meta.output_name(raise_if_undetermined=False) or "cluster"


DATE = "date"
"""The column :func:`vizflow.summarize` clusters by when given no ``cluster=``."""


def _clusters(row: dict, value: str) -> int | None:
    count = row.get(f"{value}_clusters")
    return None if count is None else int(count)


def _decay_trace(
    points: list[tuple[float, str]], horizons: dict[str, float | None], row: dict, unit: str,
    clustered_by: str, *, name: str, colour: str, joined: bool,
) -> dict[str, Any]:  # fmt: skip
    """One group's points (``(x, value)``): the curve (``joined``) or the ``close`` diamond."""
    bands = [halfwidth(row[f"{v}_se"], _clusters(row, v)) for _, v in points]
    return {
        "x": [x for x, _ in points],
        "y": [row[f"{v}_mean"] for _, v in points],
        "error_y": {"type": "data", "visible": True, "array": bands},
        "customdata": [_hover(v, horizons[v], row, clustered_by) for _, v in points],
        "hovertemplate": f"{name}<br>%{{customdata[0]}}: %{{y:.4g}} {unit}<br>%{{customdata[2]}}"
        "<br>n: %{customdata[1]}<extra></extra>",
        "mode": "lines+markers" if joined else "markers",
        "name": name,
        "legendgroup": name,
        "line": {"color": colour},
        "marker": {"color": colour, "symbol": "circle" if joined else "diamond", "size": 8 if joined else 11},
    }


def _hover(value: str, horizon: float | None, row: dict, clustered_by: str) -> list:
    count = row.get(f"{value}_n", row["n"])
    clusters = _clusters(row, value)
    band = band_hover(row[f"{value}_se"], clusters, clustered_by)
    return [CLOSE if horizon is None else f"{horizon:g} s", count, band, clusters]


def pnl_curve(
    matched: pl.DataFrame | pl.LazyFrame,
    time_col: str = "elapsed_seconds",
    group: str | None = None,
    *,
    market: Market | str | None = None,
    max_points: int = 5_000,
) -> go.Figure:
    """Draw the cumulative realized P&L over the closing fills' time, from FIFOMatch output.

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> m = pl.DataFrame(
    ...     {
    ...         "elapsed_seconds": [5.0, 1.0, 9.0],
    ...         "realized_pnl": [2.0, 1.0, None],
    ...         "is_closed": [True, True, False],
    ...     }
    ... )
    >>> list(vz.pnl_curve(m).data[0].y)
    [1.0, 3.0]
    """
    cols = [time_col, "realized_pnl", "is_closed"] + ([group] if group else [])
    df = eager_frame(matched, cols, "pnl_curve").filter(pl.col("is_closed"))
    keys = [group] if group else []
    df = df.sort(*keys, time_col).with_columns(
        cumulative_pnl=pl.col("realized_pnl").cum_sum().over(keys)
        if keys
        else pl.col("realized_pnl").cum_sum()
    )
    return line(df, time_col, "cumulative_pnl", group, market=market, max_points=max_points,
                title="cumulative realized P&L")  # fmt: skip


def holding_histogram(
    matched: pl.DataFrame | pl.LazyFrame, *, bins: int = 50, column: str = "holding_period"
) -> go.Figure:
    """Draw a histogram of holding periods of closed round trips (pre-binned: ``bins`` bars at most).

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> m = pl.DataFrame({"holding_period": [1.0, 2.0, 2.5, None], "is_closed": [True, True, True, False]})
    >>> fig = vz.holding_histogram(m, bins=2)
    >>> fig.data[0].type, sum(fig.data[0].y)
    ('bar', 3)
    """
    df = eager_frame(matched, [column, "is_closed"], "holding_histogram").filter(pl.col("is_closed"))
    title = "holding period of closed round trips"
    if df.height == 0:
        return empty_figure(title)
    values = df[column]
    if values.dtype == pl.Duration:
        values = values.dt.total_microseconds() / 1e6
    counts = values.hist(bin_count=bins)
    go_ = graph_objects()
    edges = counts[counts.columns[0]].to_list()
    width = (edges[1] - edges[0]) if len(edges) > 1 else None
    fig = go_.Figure(
        go_.Bar(x=[e - (width or 0) / 2 for e in edges], y=counts["count"].to_list(), width=width)
    )
    fig.update_layout(title=title, xaxis_title=f"{column} (s)", yaxis_title="round trips", bargap=0.02)
    return fig
