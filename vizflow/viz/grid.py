"""The heatmap's grid: which cell of an axis each row falls in, and where plotly draws that cell.

:func:`vizflow.viz.heatmap` draws its cells on these axes, and the explorer places its selectable
markers on the same ones, so each marker sits at the centre of the cell it names.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

from vizflow.market import Market, get_market
from vizflow.ops.binning import bin as bin_frame
from vizflow.viz.axes import clock_at

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["CellAxis", "binned_axis", "value_axis", "x_axis"]

_RANK = "__vf_rank"


class CellAxis(NamedTuple):
    """One heatmap axis: the cell index of every row, and how the cells are drawn."""

    cells: pl.Series
    """The cell index (0 .. n - 1) of each row."""
    coords: list
    """The plotly coordinates: n + 1 edges (binned) or n centres / category labels."""
    labels: list[str]
    """The hover text of each cell."""
    categorical: bool
    note: str
    """Why the axis is coarser than asked (empty when it is not)."""
    values: list | None = None
    """The column's value of each cell (``None``: binned on the fly)."""

    def centres(self) -> list:
        """Return the plotly coordinate of each cell's centre.

        Examples
        --------
        >>> import polars as pl
        >>> value_axis(pl.DataFrame({"k": [3, 1]}), "k").centres()
        [1, 2, 3]
        >>> binned_axis(pl.DataFrame({"t": [0.5, 2.5]}), "t", 2.0, 0.0, None).centres()
        [1.0, 3.0]
        """
        coords = self.coords
        if len(coords) == len(self.labels) + 1:  # bin edges
            return [(a + b) / 2 for a, b in pairwise(coords)]
        return list(coords)

    def row_centres(self) -> list:
        """Return the centre of the cell of each row, in row order.

        Examples
        --------
        >>> import polars as pl
        >>> binned_axis(pl.DataFrame({"t": [2.5, 0.5, 2.9]}), "t", 2.0, 0.0, None).row_centres()
        [3.0, 1.0, 3.0]
        """
        centres = self.centres()
        return [centres[i] for i in self.cells.to_list()]

    def labelled(self, labels: Mapping[Any, str] | Callable[[Any], str] | None) -> CellAxis:
        """Return the axis with each cell's label given by ``labels`` (a mapping or a function of the value).

        Examples
        --------
        >>> import polars as pl
        >>> value_axis(pl.DataFrame({"k": [0, 1]}), "k").labelled({1: "one"}).labels
        ['0', 'one']
        """
        if labels is None or self.values is None:
            return self
        if callable(labels):
            return self._replace(labels=[str(labels(v)) for v in self.values])
        return self._replace(labels=[str(labels.get(v, v)) for v in self.values])


def binned_axis(
    df: pl.DataFrame, column: str, width: float, origin: float, market: Market | str | None
) -> CellAxis:
    """Cut ``column`` into floor bins ``[origin + k width, origin + (k + 1) width)``, one cell each.

    With ``market``, an ``elapsed_seconds`` column's cells are labelled with clock times.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> axis = binned_axis(pl.DataFrame({"t": [10.0, 1900.0]}), "t", 1800, 0.0, vf.CN)
    >>> axis.coords, axis.labels, axis.cells.to_list()
    ([0.0, 1800.0, 3600.0], ['09:30-10:00', '10:00-10:30'], [0, 1])
    """
    shifted = df.select((pl.col(column) - origin).alias(column)) if origin else df.select(column)
    k = bin_frame(shifted, {column: width}, how="floor", suffix="__vf_k")[f"{column}__vf_k"]
    lo, hi = int(k.min()), int(k.max())  # type: ignore[arg-type]
    edges = [origin + j * width for j in range(lo, hi + 2)]
    if market is not None:
        close = get_market(market).total_seconds
        labels = [
            f"{clock_at(market, a)}-{clock_at(market, b, end=True)}"
            if a < close
            else f"at or after the close, {a:g} s"
            for a, b in pairwise(edges)
        ]
    else:
        labels = [f"[{a:.6g}, {b:.6g})" for a, b in pairwise(edges)]
    return CellAxis(k - lo, edges, labels, categorical=False, note="")


def value_axis(df: pl.DataFrame, column: str) -> CellAxis:
    """Return an axis of one cell per distinct value of ``column``.

    Integers are centred on their value with every integer between the smallest and the largest
    present (unless that range is sparse, over ``10 * distinct + 100`` values), so a missing value
    is a gap; other values are categories in sorted order, found by rank (never by their string
    form).

    Examples
    --------
    >>> import polars as pl
    >>> value_axis(pl.DataFrame({"k": [3, 1]}), "k").coords
    [1, 2, 3]
    >>> axis = value_axis(pl.DataFrame({"s": ["b", "a", "b"]}), "s")
    >>> axis.coords, axis.cells.to_list(), axis.categorical
    (['a', 'b'], [1, 0, 1], True)
    """
    series = df[column]
    if series.dtype.is_integer():
        lo, hi = int(series.min()), int(series.max())  # type: ignore[arg-type]
        if hi - lo < 10 * series.n_unique() + 100:  # the whole integer range: a missing value is a gap
            values = list(range(lo, hi + 1))
            return CellAxis(
                series - lo, values, [str(v) for v in values], categorical=False, note="", values=values
            )
    rank = series.rank("dense").cast(pl.Int64) - 1
    firsts = (
        pl.DataFrame({_RANK: rank, column: series}).group_by(_RANK).agg(pl.col(column).first()).sort(_RANK)
    )
    values = firsts[column].to_list()
    labels = [str(v) for v in values]
    return CellAxis(rank, labels, labels, categorical=True, note="", values=values)


def x_axis(
    df: pl.DataFrame, x: str, width: float | None, market: Market | str | None, limit: int
) -> CellAxis:
    """Return the heatmap's x axis: bins of ``width`` (or one cell per value), at most ``limit`` cells.

    Examples
    --------
    >>> import polars as pl
    >>> axis = x_axis(pl.DataFrame({"t": [0.0, 1.0, 2.0, 3.0]}), "t", 1.0, None, 2)
    >>> axis.coords, axis.note
    ([0.0, 2.0, 4.0], 'x coarsened to 2 bins of 2')
    """
    if width is not None:
        axis = binned_axis(df, x, width, 0.0, market)
        columns = len(axis.labels)
        if columns <= limit:
            return axis
        factor = -(-columns // limit)
        wide = binned_axis(df, x, width * factor, 0.0, market)
        return wide._replace(note=f"x coarsened to {len(wide.labels)} bins of {width * factor:g}")
    axis = value_axis(df, x)
    if len(axis.labels) <= limit or not df[x].dtype.is_numeric():
        return axis
    lo, hi = float(df[x].min()), float(df[x].max())  # type: ignore[arg-type]
    step = (hi - lo) / max(limit - 1, 1) or 1.0
    wide = binned_axis(df, x, step, lo, market)
    return wide._replace(note=f"{df[x].n_unique()} {x} values coarsened to {len(wide.labels)} bins")
