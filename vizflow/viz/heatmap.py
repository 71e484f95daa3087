"""The heatmap: one aggregated value per (x, y) cell, each cell drawn over exactly its bin."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import polars as pl

from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import VizflowError
from vizflow.market import Market, get_market
from vizflow.viz import grid
from vizflow.viz._stats import finalized, statistic_column, table_kind
from vizflow.viz.axes import label_time_axis
from vizflow.viz.bands import band_hover, band_label
from vizflow.viz.inputs import eager_frame, positive_int
from vizflow.viz.plotly_import import empty_figure, graph_objects

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import plotly.graph_objects as go


__all__ = ["HeatmapAgg", "heatmap"]

HeatmapAgg: TypeAlias = Literal["mean", "median", "sum", "min", "max", "std", "count"]
"""How the rows of a cell become its value."""

_REDUCERS = {
    "mean": pl.Expr.mean,
    "median": pl.Expr.median,
    "sum": pl.Expr.sum,
    "min": pl.Expr.min,
    "max": pl.Expr.max,
    "std": pl.Expr.std,
    "count": pl.Expr.count,
}
MIN_COUNT = 10
"""The ``min_count`` of the shipped figures (report, dashboard, docs): fewer trades is noise."""
_SEQUENTIAL = ("count", "std")  # never negative: a sequential scale from 0
_I, _J, _N, _V = "__vf_i", "__vf_j", "__vf_n", "__vf_v"
_B, _G = "__vf_band", "__vf_clusters"  # a statistics table's cell: its band text and cluster count
_EMPTY = "#d0d0d0"  # the plot's background, seen through cells without values: no colour of a scale
_HIDDEN = "#7a7a7a"  # cells hidden by min_count: darker, never read as a zero
_UNDEFINED = "#c8b88a"  # shown cells whose value is undefined (a t of one cluster, NaN): no scale's colour


def _band_columns(final: pl.DataFrame, se: str, clusters: str, cluster: str) -> list[pl.Series]:
    """Each cell's 95% CI on hover, or why it has none (``_B``), and its cluster count (``_G``)."""
    g = final[clusters] if clusters in final.columns else pl.Series([None] * final.height, dtype=pl.Int64)
    texts = [band_hover(s, c, cluster) for s, c in zip(final[se].to_list(), g.to_list(), strict=True)]
    return [pl.Series(_B, texts, dtype=pl.String), g.alias(_G)]


def _flat_trace(
    x_axis: grid.CellAxis,
    y_axis: grid.CellAxis,
    cells: np.ndarray,
    customdata: list,
    hover: str,
    *,
    name: str,
    colour: str,
) -> go.Heatmap:
    """One colour over ``cells`` (a boolean grid), over the value trace: hidden or uncoloured cells."""
    return graph_objects().Heatmap(
        x=x_axis.coords, y=y_axis.coords, z=[[1.0 if h else None for h in row] for row in cells],
        customdata=customdata, hovertemplate=hover, colorscale=[[0.0, colour], [1.0, colour]],
        showscale=False, name=name, zmin=0.0, zmax=1.0, hoverongaps=False,  # only its own cells hover
    )  # fmt: skip


def _subtitle(notes: list[str], width: int = 100) -> tuple[str, int]:
    """Join notes into subtitle lines of at most about ``width`` characters; return them and their count."""
    lines: list[str] = []
    for note in notes:
        if lines and len(lines[-1]) + len(note) + 2 <= width:
            lines[-1] += f"; {note}"
        else:
            lines.append(note)
    return "".join(f"<br><sup>{line}</sup>" for line in lines), len(lines)


def _colour_range(values: np.ndarray, agg: str, quantile: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    sequential = agg in _SEQUENTIAL
    size = finite if sequential else np.abs(finite)
    top = float(np.quantile(size, quantile)) if size.size else 0.0
    if top <= 0:  # a quantile of zeros: fall back to the largest cell, then to 1
        top = float(size.max()) if size.size and size.max() > 0 else 1.0
    return (0.0, top) if sequential else (-top, top)


def _check_options(agg: str, x_width: object, min_count: object, quantile: object) -> float | None:
    if not isinstance(agg, str) or agg not in _REDUCERS:
        msg = f"heatmap: agg={agg!r} is not one of {list(_REDUCERS)}"
        raise VizflowError(msg)
    positive_int(min_count, "min_count", "heatmap")
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) or not 0 < quantile <= 1:
        msg = f"heatmap: quantile={quantile!r}; expected a number in (0, 1], e.g. 0.95"
        raise VizflowError(msg)
    if x_width is None:
        return None
    number = not isinstance(x_width, bool) and isinstance(x_width, numbers.Real)
    if not number or not math.isfinite(x_width) or x_width <= 0:  # type: ignore[arg-type, operator]
        msg = f"heatmap: x_width={x_width!r}; expected a finite number > 0 (the x bin width)"
        raise VizflowError(msg)
    return float(x_width)  # type: ignore[arg-type]


def heatmap(
    frame: pl.DataFrame | pl.LazyFrame,
    x: str,
    y: str,
    z: str,
    *,
    agg: HeatmapAgg = "mean",
    x_width: float | None = None,
    min_count: int = 1,
    market: Market | str | None = None,
    title: str | None = None,
    max_points: int = 250_000,
    colorscale: str | None = None,
    quantile: float = 0.95,
    counts: str | None = None,
    unit: str | None = None,
    y_labels: Mapping[Any, str] | Callable[[Any], str] | None = None,
    cluster: str = "date",
    hover: str | None = None,
) -> go.Figure:
    """Draw a heatmap of ``z`` over ``(x, y)`` cells (e.g. mean forward return by half hour and size bin).

    Parameters
    ----------
    frame
        Raw rows: the rows sharing a cell are aggregated with ``agg``. Or a statistics table: a
        partial table (:func:`vizflow.summarize`, combined here by ``[x, y]``) or a finalized
        one (:func:`vizflow.finalize`, one row per ``(x, y)`` cell), whose cells are drawn as
        they are, their counts (``{v}_n``, else ``n``) on hover and for ``min_count``.
    x, y, z
        Column names. ``z`` is numeric (any column for ``agg="count"``). For a statistics table,
        ``x`` and ``y`` are two of its keys and ``z`` a value ``v`` (its mean ``{v}_mean`` is
        drawn) or one of its statistics (``{v}_mean``, ``{v}_t``, ``{v}_se``, ...; pass
        ``agg="std"`` or ``"count"`` for a sequential colour scale).
    agg
        ``"mean"`` (default), ``"median"``, ``"sum"``, ``"min"``, ``"max"``, ``"std"`` or
        ``"count"``, over the non-null ``z`` values of a cell.
    x_width
        Cut ``x`` into floor bins ``[k * x_width, (k + 1) * x_width)`` (:func:`vizflow.bin` with
        ``how="floor"``) and draw each cell over exactly its bin: raw times or left bin edges
        (``elapsed_seconds // 1800 * 1800``) give the same cells. Needed with ``market``. Without
        it, each distinct ``x`` value is one column: integers (e.g. ``vf.bin`` numbers) are
        centred on their value with every integer between the smallest and the largest present
        (unless that range is sparse, over ``10 * distinct + 100`` values), other values are
        categories in sorted order. ``y`` is always drawn that way.
    min_count
        Hide the cells with fewer than ``min_count`` non-null ``z`` values (their hover still
        shows the count); the title says how many were hidden.
    market
        Label an ``elapsed_seconds`` x axis with the market's clock times (no lunch gap).
    title
        The figure title; notes on hidden or coarsened cells are appended.
    max_points
        With more cells than this, numeric ``x`` is coarsened into wider floor bins (whole
        multiples of ``x_width``), and the title says so.
    colorscale
        A plotly colour scale; default a diverging ``"RdBu"`` centred on 0, or ``"Viridis"`` from
        0 for ``"count"`` and ``"std"``.
    quantile
        The colour range is ``±`` this quantile of ``|value|`` over the drawn, finite cells
        (``[0, quantile]`` for sequential scales), so a cell of two trades does not set it;
        larger cells saturate. Infinite and NaN cells are not coloured (the title counts them).
    counts
        The frame is already aggregated: each row is one cell, ``z`` its value (computed as
        ``agg`` says, which then only picks the colour scale) and the column ``counts`` the
        number of values behind it, used for the hover and ``min_count``. Two rows in one cell
        raise. The explorer draws its cells so (:func:`vizflow.viz.explorer`).
    unit
        The unit of the drawn value, shown on the colour bar and on hover (e.g. ``"bp"``);
        default none for raw values, ``"t"`` for a ``{v}_t`` statistic.
    y_labels
        How each ``y`` value is shown on the axis and on hover: a mapping or a function of the
        value, e.g. :func:`vizflow.viz.labels.bin_labels` for the range a ``vf.bin`` number
        holds (``log_qty_bin`` 4 -> ``56.2-178 shares``). Default: the value itself.
    cluster
        A statistics table only: what its standard errors were clustered by when summarized
        (:func:`vizflow.summarize`'s default, ``"date"``), for the labels. Each cell's hover
        shows its 95% CI ``t(0.975, G - 1) x se`` or why it has none (fewer than 2 clusters).
    hover
        With ``counts``: a column of text added to each cell's hover (the explorer's bands).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``heatmap`` trace; each cell's hover shows its interval, value and count
        (``customdata`` holds ``[interval, y, count, value, band]`` per cell; ``band`` is the
        95% CI text of a statistics table's cell, else empty). Cells hidden by ``min_count``
        are drawn dark grey by a trace named ``"hidden"``, shown cells whose value is not finite
        (a t-stat of fewer than 2 clusters, inf, NaN) khaki by a trace named ``"undefined"``,
        and cells without values show the light grey background: none reads as a zero.

    Raises
    ------
    ColumnNotFoundError
        For a missing ``x``, ``y`` or ``z`` column, naming it.
    VizflowError
        For an unknown ``agg``, a bad ``x_width``, ``min_count``, ``max_points`` or
        ``quantile``, a ``market`` without ``x_width``, or with ``counts`` or a finalized table,
        two rows in one cell.

    Examples
    --------
    >>> import polars as pl, vizflow.viz as vz
    >>> df = pl.DataFrame({"t": [0, 0, 1, 1], "s": [-1, 1, -1, 1], "r": [0.1, -0.2, 0.3, 0.0]})
    >>> fig = vz.heatmap(df, "t", "s", "r")
    >>> fig.data[0].type, [list(row) for row in fig.data[0].z]
    ('heatmap', [[0.1, 0.3], [None, None], [-0.2, 0.0]])

    Half-hour cells on the session clock: cell ``k`` spans ``[1800 k, 1800 (k + 1))``.

    >>> import vizflow as vf
    >>> ticks = pl.DataFrame({"elapsed_seconds": [10.0, 14399.0], "s": [1, 1], "r": [1.0, 2.0]})
    >>> trace = vz.heatmap(ticks, "elapsed_seconds", "s", "r", x_width=1800, market=vf.CN).data[0]
    >>> trace.x[0], trace.x[-1], trace.customdata[0][-1][0]
    (0.0, 14400.0, '14:30-15:00')

    A finalized table (e.g. a year of per-date partials, combined): the mean of each cell.

    >>> final = vf.finalize(vf.summarize(df, ["t", "s"], "r"))
    >>> [list(row) for row in vz.heatmap(final, "t", "s", "r").data[0].z]
    [[0.1, 0.3], [None, None], [-0.2, 0.0]]
    """
    width = _check_options(agg, x_width, min_count, quantile)
    positive_int(max_points, "max_points", "heatmap")
    if market is not None and width is None:
        msg = (
            f"heatmap: x {x!r} is drawn on the {market if isinstance(market, str) else market.name} "
            "session clock, so each cell must span a time interval; expected x_width= (the bin "
            "width in seconds, e.g. 1800 for half hours)"
        )
        raise VizflowError(msg)
    kind = table_kind(frame.collect_schema())
    band: tuple[str, str] | None = None
    if kind != "raw" and counts is None:
        value, z = statistic_column(frame.collect_schema(), kind, z, where="heatmap")
        frame = finalized(frame, [x, y], [value], where="heatmap")
        counts = f"{value}_n" if f"{value}_n" in frame.columns else "n"
        title = title if title is not None else f"{z} by {x} and {y}"
        band = (f"{value}_se", f"{value}_clusters")
        unit = unit if unit is not None else ("t" if z == f"{value}_t" else None)
        frame = frame.with_columns(_band_columns(frame, *band, cluster))
    if hover is not None:
        require_columns(frame.collect_schema(), [hover], where="heatmap")
        frame = frame.with_columns(pl.col(hover).cast(pl.String).alias(_B))
    texts = band is not None or hover is not None
    df = eager_frame(frame, [x, y, z, *([counts] if counts else [])], "heatmap")
    if agg != "count" or counts:
        require_numeric(df.schema, z, where="heatmap")
    if counts:
        require_numeric(df.schema, counts, where="heatmap")
    if width is not None:
        require_numeric(df.schema, x, where="heatmap")
    title = title if title is not None else f"{agg} {z} by {x} and {y}"
    notes = []
    placed = df.filter(pl.col(x).is_not_null(), pl.col(y).is_not_null())
    if width is not None:
        placed = placed.filter(pl.col(x).is_finite())
    if placed.height < df.height:
        notes.append(f"{df.height - placed.height} rows with null or non-finite {x}/{y} not drawn")
    if placed.height == 0:
        return empty_figure(title)
    y_axis = grid.value_axis(placed, y).labelled(y_labels)
    ny = len(y_axis.labels)
    x_axis = grid.x_axis(placed, x, width, market, max(1, max_points // ny))
    notes += [x_axis.note] if x_axis.note else []
    cells = _cells(placed, x_axis, y_axis, z, agg=agg, counts=counts)
    nx = len(x_axis.labels)
    tally = np.zeros((ny, nx), dtype=np.int64)
    values = np.full((ny, nx), np.nan)
    bands = np.full((ny, nx), "", dtype=object)
    i, j = cells[_I].to_numpy(), cells[_J].to_numpy()
    tally[j, i] = cells[_N].to_numpy()
    values[j, i] = cells[_V].fill_null(np.nan).to_numpy()
    if texts:
        bands[j, i] = cells[_B].to_numpy()
    shown = tally >= min_count
    drawn = np.where(shown, values, np.nan)
    hidden = int(((tally > 0) & ~shown).sum())
    undefined = shown & (tally > 0) & ~np.isfinite(values)
    bad = int(undefined.sum())
    zmin, zmax = _colour_range(drawn, agg, quantile)
    sequential = agg in _SEQUENTIAL
    customdata = [
        [
            [x_axis.labels[c], y_label, int(tally[r, c]), _text(values[r, c], tally[r, c]), bands[r, c]]
            for c in range(nx)
        ]
        for r, y_label in enumerate(y_axis.labels)
    ]
    go_ = graph_objects()
    what = z if counts else "count of values" if agg == "count" else f"{agg} {z}"
    named = f"{what} ({unit})" if unit else what
    if band is not None:
        notes.append(band_label(cluster, cells[_G].to_list()))
    hover = (
        f"{x}: %{{customdata[0]}}<br>{y}: %{{customdata[1]}}<br>{named}: %{{customdata[3]}}"
        "<br>n: %{customdata[2]}" + ("<br>%{customdata[4]}" if texts else "") + "<extra></extra>"
    )
    fig = go_.Figure(
        go_.Heatmap(
            x=x_axis.coords,
            y=y_axis.coords,
            z=[[None if not math.isfinite(v) else float(v) for v in row] for row in drawn],
            customdata=customdata,
            hovertemplate=hover,
            colorscale=colorscale or ("Viridis" if sequential else "RdBu"),
            zmin=zmin,
            zmax=zmax,
            zmid=None if sequential else 0.0,
            colorbar={"title": {"text": named}},
        )
    )
    legend = ["light grey: no values"]
    if bad:
        legend.insert(0, f"khaki: {bad} cells without a finite {agg if counts is None else z} (see hover)")
        fig.add_trace(
            _flat_trace(x_axis, y_axis, undefined, customdata, hover, name="undefined", colour=_UNDEFINED)
        )
    if hidden:
        legend.insert(0, f"dark grey: {hidden} cells with < {min_count} values hidden")
        hidden_hover = hover.replace("<extra>", f"<br>hidden: < {min_count} values<extra>")
        fig.add_trace(
            _flat_trace(
                x_axis, y_axis, (tally > 0) & ~shown, customdata, hidden_hover, name="hidden", colour=_HIDDEN
            )
        )
    if hidden or bad:
        notes.append(", ".join(legend))
    subtitle, lines = _subtitle(notes)
    fig.update_layout(
        title=title + subtitle, xaxis_title=x, yaxis_title=y, plot_bgcolor=_EMPTY,
        margin={"t": 60 + 18 * (title.count("<br>") + lines)} if lines else None,
    )  # fmt: skip
    fig.update_xaxes(showgrid=False, zeroline=False)  # grid lines would cross the cells without values
    fig.update_yaxes(showgrid=False, zeroline=False)
    if x_axis.categorical:
        fig.update_xaxes(type="category")
    if y_axis.categorical:
        fig.update_yaxes(type="category")
    if y_labels is not None:
        fig.update_yaxes(tickvals=y_axis.centres(), ticktext=y_axis.labels)
    label_time_axis(fig, x, market)
    if market is not None:  # a bin at or past the close (e.g. 15:00:00 prints) must not be clipped
        coords = x_axis.coords
        fig.update_xaxes(range=[min(0.0, coords[0]), max(get_market(market).total_seconds, coords[-1])])
    return fig


def _cells(
    placed: pl.DataFrame,
    x_axis: grid.CellAxis,
    y_axis: grid.CellAxis,
    z: str,
    *,
    agg: str,
    counts: str | None,
) -> pl.DataFrame:
    frame = pl.DataFrame({_I: x_axis.cells, _J: y_axis.cells, z: placed[z]})
    if counts is None:
        return frame.group_by(_I, _J).agg(
            pl.col(z).count().alias(_N), _REDUCERS[agg](pl.col(z)).cast(pl.Float64).alias(_V)
        )
    extra = [placed[c] for c in (_B, _G) if c in placed.columns]
    cells = (
        frame.with_columns(placed[counts].alias(_N), *extra)
        .group_by(_I, _J)
        .agg(
            pl.col(_N).sum(),
            pl.col(z).first().cast(pl.Float64).alias(_V),
            pl.len().alias("rows"),
            *(pl.col(c.name).first() for c in extra),
        )
    )
    if cells.height and cells["rows"].max() > 1:  # type: ignore[operator]
        msg = (
            f"heatmap: counts={counts!r} says each row is one cell, but {int((cells['rows'] > 1).sum())} "
            "cells hold several rows; expected one row per (x, y) cell (combine them first)"
        )
        raise VizflowError(msg)
    return cells.drop("rows")


def _text(value: float, count: int) -> str:
    return "no values" if count == 0 else f"{value:.6g}"
