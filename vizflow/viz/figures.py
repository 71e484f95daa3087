"""Plotly figures from vizflow frames: lines, alpha decay, P&L and holding periods (heatmaps: heatmap.py).

Every function takes a DataFrame or LazyFrame, returns a ``plotly.graph_objects.Figure`` (never
shows it), titles axes with the column names, and keeps figures small: inputs larger than
``max_points`` are aggregated or decimated first, and the title says so. A frame with no rows
gives an empty figure whose title says so. An ``elapsed_seconds`` axis is labelled with clock
times when a ``market`` is given (see :func:`vizflow.viz.clock_axis`).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import polars as pl

from vizflow._optional import import_optional
from vizflow._validate import require_columns
from vizflow.exceptions import VizflowError
from vizflow.viz.axes import clock_axis

if TYPE_CHECKING:
    from collections.abc import Sequence

    import plotly.graph_objects as go

    from vizflow.market import Market

__all__ = ["decay", "holding_histogram", "line", "pnl_curve"]


def _go() -> Any:
    return import_optional("plotly.graph_objects", extra="viz")


def _eager(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str], where: str) -> pl.DataFrame:
    require_columns(frame.collect_schema(), columns, where=where)
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _positive_int(value: object, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        msg = f"{where}: {name}={value!r}; expected an integer >= 1"
        raise VizflowError(msg)
    return int(value)


def _empty(title: str) -> go.Figure:
    fig = _go().Figure()
    fig.update_layout(title=f"{title}: no rows to plot" if title else "no rows to plot")
    return fig


def _time_axis(fig: go.Figure, column: str, market: Market | str | None, axis: str = "x") -> None:
    if market is not None:
        settings = clock_axis(market)
        fig.update_layout({f"{axis}axis": {**settings, "title": {"text": f"{column} (clock time)"}}})


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
    _positive_int(max_points, "max_points", "line")
    cols = [x, y] + ([group] if group else [])
    df = _eager(frame, cols, "line")
    title = title if title is not None else (f"{y} by {x}" + (f" per {group}" if group else ""))
    if df.height == 0:
        return _empty(title)
    go_ = _go()
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
    _time_axis(fig, x, market)
    return fig


def decay(
    frame: pl.DataFrame | pl.LazyFrame,
    group: str | None = None,
    *,
    prefix: str = "return_",
    sign: str | None = None,
    scale: float = 1e4,
    title: str | None = None,
) -> go.Figure:
    """Draw the alpha-decay curve: mean forward return (bp) against horizon, per group.

    Uses every ``{prefix}{h}`` column (from :func:`vizflow.forward_return`). ``sign`` names a
    column (e.g. the trade side) to multiply returns by, so the curve reads "in the direction of
    the signal".

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> df = pl.DataFrame({"return_1": [1e-4, 3e-4], "return_60": [2e-4, 4e-4]})
    >>> fig = vz.decay(df)
    >>> list(fig.data[0].x), [round(v, 6) for v in fig.data[0].y]
    ([1.0, 60.0], [2.0, 3.0])
    """
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    columns = [c for c in df.columns if c.startswith(prefix)]
    if not columns:
        require_columns(df.schema, [f"{prefix}<horizon>"], where="decay")
    horizons = {c: float(c.removeprefix(prefix)) for c in columns}
    sgn = pl.col(sign) if sign else pl.lit(1.0)
    keys = [group] if group else []
    if sign:
        require_columns(df.schema, [sign], where="decay")
    means = (
        df.lazy()
        .group_by(keys or pl.lit(0).alias("_all"))
        .agg([(pl.col(c) * sgn).mean().mul(scale).alias(c) for c in columns])
        .unpivot(index=keys or ["_all"], on=columns, variable_name="column", value_name="mean_return_bp")
        .with_columns(horizon=pl.col("column").replace_strict(horizons, return_dtype=pl.Float64))
        .sort(*keys, "horizon")
        .collect()
    )
    title = title if title is not None else "alpha decay: mean forward return by horizon"
    fig = line(means, "horizon", "mean_return_bp", group, title=title, mode="lines+markers")
    fig.update_layout(xaxis_title="horizon (s)", yaxis_title="mean forward return (bp)")
    return fig


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
    df = _eager(matched, cols, "pnl_curve").filter(pl.col("is_closed"))
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
    df = _eager(matched, [column, "is_closed"], "holding_histogram").filter(pl.col("is_closed"))
    title = "holding period of closed round trips"
    if df.height == 0:
        return _empty(title)
    values = df[column]
    if values.dtype == pl.Duration:
        values = values.dt.total_microseconds() / 1e6
    counts = values.hist(bin_count=bins)
    go_ = _go()
    edges = counts[counts.columns[0]].to_list()
    width = (edges[1] - edges[0]) if len(edges) > 1 else None
    fig = go_.Figure(
        go_.Bar(x=[e - (width or 0) / 2 for e in edges], y=counts["count"].to_list(), width=width)
    )
    fig.update_layout(title=title, xaxis_title=f"{column} (s)", yaxis_title="round trips", bargap=0.02)
    return fig
