"""The explorer's numbers: a table of markouts as summable partials, cut into cells and selections.

Everything the explorer shows is computed here with :func:`vizflow.summarize`,
:func:`vizflow.combine` and :func:`vizflow.finalize`, so it is plain Polars and testable without
a browser. Raw rows are summarized once per weight column (by the date and every candidate X/Y
column, time floored to its bins); a partial table is used as it is. Each view then combines the
partials of the chosen date range by the chosen (X, Y) cells, or merges the selected cells into
one row per horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

import polars as pl

import vizflow as vf
from vizflow._validate import require_columns
from vizflow.exceptions import ColumnNotFoundError, SchemaError, VizflowError
from vizflow.viz._stats import horizon_of

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["STATISTICS", "ExplorerData", "Statistic", "load_table"]

Statistic: TypeAlias = Literal["mean", "weighted mean", "sum of weight", "count", "t-stat"]
"""What a heatmap cell shows."""

STATISTICS: tuple[Statistic, ...] = ("mean", "weighted mean", "sum of weight", "count", "t-stat")
_RESERVED = ("n", "weight")
_NO_WEIGHT = None


def _is_partial(schema: pl.Schema) -> bool:
    return "n" in schema and any(isinstance(d, pl.Struct) for d in schema.values())


def _levels_ok(dtype: pl.DataType) -> bool:
    categorical = isinstance(dtype, pl.Categorical | pl.Enum)
    return dtype.is_integer() or dtype in (pl.String, pl.Boolean) or categorical


def load_table(path: str | Path) -> pl.LazyFrame:
    """Open a parquet file, or every ``*.parquet`` file of a folder, as one LazyFrame.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for day in ("20240102", "20240103"):
    ...     pl.DataFrame({"date": [day], "return_1": [0.5]}).write_parquet(folder / f"{day}.parquet")
    >>> load_table(folder).collect()["date"].to_list()
    ['20240102', '20240103']
    """
    path = Path(path)
    if path.is_dir():
        if not any(path.glob("*.parquet")):
            msg = f"explore: folder {str(path)!r} holds no *.parquet file; expected raw rows or partials"
            raise FileNotFoundError(msg)
        return vf.scan(path / "*.parquet")
    if not path.is_file():
        msg = f"explore: {str(path)!r} is neither a parquet file nor a folder of them"
        raise FileNotFoundError(msg)
    return vf.load(path)


@dataclass
class ExplorerData:
    """A table of markouts prepared for the explorer (see :func:`vizflow.viz.explorer`).

    Build it with :meth:`from_table`. ``dims`` are the X/Y candidates, ``values`` the return
    columns (value column -> horizon in seconds), ``weights`` the weight columns offered
    (``None`` first when unweighted statistics are available), ``dates`` the sorted dates.
    """

    dims: list[str]
    values: dict[str, float]
    weights: list[str | None]
    dates: list
    date: str | None
    time: str | None
    x_width: float
    market: vf.Market | str | None
    scale: float
    raw: pl.DataFrame | None = None
    _partials: dict[str | None, pl.DataFrame] = field(default_factory=dict)

    @classmethod
    def from_table(
        cls,
        table: pl.DataFrame | pl.LazyFrame,
        *,
        columns: Sequence[str] | None = None,
        date: str = "date",
        time: str = "elapsed_seconds",
        x_width: float = 1800,
        market: vf.Market | str | None = "CN",
        prefix: str = "return_",
        sign: str | None = None,
        weights: Sequence[str] | None = None,
        max_levels: int = 64,
        scale: float = 1e4,
    ) -> ExplorerData:
        """Prepare raw rows with ``{prefix}{h}`` columns, or a partial table from ``vf.summarize``.

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"side": [1, -1, 1], "return_1": [1e-4, 2e-4, 3e-4], "qty": [1.0, 2.0, 3.0]})
        >>> data = ExplorerData.from_table(rows, market=None)
        >>> data.dims, data.values, data.weights
        (['side'], {'return_1': 1.0}, [None, 'qty'])
        """
        lf = table.lazy()
        schema = lf.collect_schema()
        partial = _is_partial(schema)
        values = {
            c: _horizon(c, prefix)
            for c, d in schema.items()
            if c.startswith(prefix) and (isinstance(d, pl.Struct) if partial else d.is_numeric())
        }
        if not values:
            msg = (
                f"explorer: no {prefix}<horizon> column in {schema.names()}; expected raw rows with forward "
                "returns (vf.forward_return) or a partial table of them (vf.summarize)"
            )
            raise ColumnNotFoundError(msg)
        has_date = date in schema
        has_time = time in schema
        if partial:
            if sign is not None:
                msg = (
                    f"explorer: sign={sign!r} needs raw rows; this is a partial table (sign, then summarize)"
                )
                raise VizflowError(msg)
            frame = lf.collect()
            keys = [c for c, d in schema.items() if not isinstance(d, pl.Struct)]
            dims = [c for c in keys if c not in (*_RESERVED, date)]
            weighted = "weight" in schema
            data = cls(dims, values, ["weight"] if weighted else [None], [], date if has_date else None,
                       time if has_time else None, float(x_width), market, scale)  # fmt: skip
            data._partials["weight" if weighted else None] = frame
        else:
            if sign is not None:
                require_columns(schema, [sign], where="explorer")
                lf = lf.with_columns(pl.col(*values) * pl.col(sign))
            frame = lf.collect()
            dims = _raw_dims(frame, columns, values, date=date, time=time, max_levels=max_levels)
            offered = weights if weights is not None else [
                c for c, d in schema.items()
                if d.is_numeric() and c not in (*values, *dims, date, time, sign)
            ]  # fmt: skip
            require_columns(schema, list(offered), where="explorer")
            data = cls(dims, values, [None, *offered], [], date if has_date else None,
                       time if has_time else None, float(x_width), market, scale, raw=frame)  # fmt: skip
        if has_date:
            source = frame if data.raw is None else data.raw
            data.dates = source[date].drop_nulls().unique().sort().to_list()
        if not data.dims:
            msg = f"explorer: no X/Y column among {schema.names()}; expected binned or categorical columns"
            raise ColumnNotFoundError(msg)
        return data

    def partials(self, weight: str | None) -> pl.DataFrame:
        """Return the partials by (date, every dim) for a weight column (``None``: unweighted), cached."""
        if weight in self._partials:
            return self._partials[weight]
        if self.raw is None:
            have = next(iter(self._partials))
            if have is not None and weight is not None:  # a weighted partial table asked for another weight
                msg = (
                    f"explorer: weight {weight!r} is not a column of this partial table; its weights are "
                    f"summed in {have!r} (pick weight {have!r})"
                )
                raise ColumnNotFoundError(msg)
            msg = (
                f"explorer: this partial table is {'weighted' if have else 'unweighted'}; "
                + ("the unweighted statistics ('mean') are not recoverable from it: pick 'weighted mean'"
                   if have else "a weighted statistic needs a table summarized with weight=")
            )  # fmt: skip
            raise VizflowError(msg)
        if weight is not None and weight not in self.weights:
            msg = f"explorer: weight {weight!r} is not one of the weight columns {self.weights[1:]}"
            raise ColumnNotFoundError(msg)
        keys = [*([self.date] if self.date else []), *self.dims]
        rows = self.raw
        if self.time in self.dims:
            rows = rows.with_columns(self._floor(pl.col(self.time)))
        self._partials[weight] = vf.summarize(rows, keys, list(self.values), weight=weight)
        return self._partials[weight]

    def _floor(self, column: pl.Expr) -> pl.Expr:
        # bin k of [k w, (k + 1) w) by vf.bin's exact division, as its left edge k * w
        width = self.x_width
        return column.map_batches(
            lambda s: vf.bin(s.to_frame(), {s.name: width}, how="floor")[f"{s.name}_bin"] * width,
            return_dtype=pl.Float64,
        )

    def _selected(self, weight: str | None, dates: Sequence[int] | None) -> pl.DataFrame:
        table = self.partials(weight)
        if self.date and dates is not None and self.dates:
            lo, hi = self.dates[max(dates[0], 0)], self.dates[min(dates[1], len(self.dates) - 1)]
            table = table.filter(pl.col(self.date).is_between(pl.lit(lo), pl.lit(hi)))
        if self.time in self.dims and self.raw is None:  # partial keys hold left edges; re-floor to x_width
            table = table.with_columns(self._floor(pl.col(self.time)))
        return table

    def _check_dims(self, *dims: str) -> None:
        for dim in dims:
            if dim not in self.dims:
                msg = f"explorer: {dim!r} is not one of the X/Y columns {self.dims}"
                raise ColumnNotFoundError(msg)
        if len(set(dims)) < len(dims):
            msg = f"explorer: X and Y are both {dims[0]!r}; expected two different columns"
            raise VizflowError(msg)

    def _value(self, value: str) -> str:
        if value not in self.values:
            msg = f"explorer: value {value!r} is not one of the return columns {list(self.values)}"
            raise ColumnNotFoundError(msg)
        return value

    def cells(
        self, x: str, y: str, value: str, statistic: Statistic, *, weight: str | None = None,
        dates: Sequence[int] | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        """One row per (x, y) cell: the keys, ``stat`` (the statistic) and ``count`` (values).

        ``mean`` and ``count`` are unweighted when the table allows it, ``weighted mean`` and
        ``sum of weight`` need ``weight``, ``t-stat`` is weighted when ``weight`` is given. Means
        are multiplied by ``scale`` (basis points). ``dates`` is an index range into ``dates``.

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1.0, 3.0, 5.0]})
        >>> ExplorerData.from_table(rows, market=None, scale=1).cells("a", "b", "return_5", "mean").rows()
        [(1, 'u', 2.0, 2), (2, 'v', 5.0, 1)]
        """
        self._check_dims(x, y)
        value = self._value(value)
        if statistic not in STATISTICS:
            msg = f"explorer: statistic {statistic!r} is not one of {list(STATISTICS)}"
            raise VizflowError(msg)
        if statistic in ("weighted mean", "sum of weight") and weight is None:
            msg = f"explorer: statistic {statistic!r} needs a weight column; pick one of {self.weights[1:]}"
            raise VizflowError(msg)
        unweighted_count = statistic == "count" and (self.raw is not None or None in self._partials)
        use = None if statistic == "mean" or unweighted_count else weight
        table = self._selected(use, dates).select(x, y, "n", *(["weight"] if use else []), value)
        final = vf.finalize(vf.combine(table, by=[x, y]))
        stat = {
            "mean": pl.col(f"{value}_mean") * self.scale,
            "weighted mean": pl.col(f"{value}_mean") * self.scale,
            "sum of weight": pl.col("weight"),
            "count": pl.col(f"{value}_n").cast(pl.Float64),
            "t-stat": pl.col(f"{value}_t"),
        }[statistic]
        return final.select(x, y, stat.alias("stat"), pl.col(f"{value}_n").alias("count"))

    def decay(
        self, x: str, y: str, selection: Sequence[Sequence] | None, *, weight: str | None = None,
        dates: Sequence[int] | None = None,
    ) -> tuple[pl.DataFrame, dict[str, float | None]]:  # fmt: skip
        """Return the markout curve of the selected (x, y) cells (``None``: all), and its totals.

        Returns one row per horizon (``horizon``, ``mean``, ``se``, ``n``; ``mean`` and ``se``
        scaled to basis points) and ``{"rows", "weight", "share"}``: the rows of the selection,
        their total weight (rows when unweighted) and its share of the date range's total.

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1.0, 3.0, 5.0]})
        >>> curve, totals = ExplorerData.from_table(rows, market=None, scale=1).decay("a", "b", [[1, "u"]])
        >>> curve.rows(), totals
        ([(5.0, 2.0, 1.0, 2)], {'rows': 2, 'weight': 2.0, 'share': 0.6666666666666666})
        """
        self._check_dims(x, y)
        table = self._selected(weight, dates)
        whole = vf.finalize(vf.combine(table, by=[]))
        if selection is not None:
            picked = pl.DataFrame([list(cell) for cell in selection], schema=[x, y], orient="row")
            picked = picked.cast({x: table.schema[x], y: table.schema[y]})
            table = table.join(picked.unique(), on=[x, y], how="semi", nulls_equal=True)
        if table.height == 0:
            msg = f"explorer: the selection holds no cell of {x!r} x {y!r} with rows"
            raise VizflowError(msg)
        final = vf.finalize(vf.combine(table, by=[]))
        curve = (
            pl.DataFrame(
                {
                    "horizon": list(self.values.values()),
                    "mean": [final[f"{v}_mean"][0] for v in self.values],
                    "se": [final[f"{v}_se"][0] for v in self.values],
                    "n": [final[f"{v}_n"][0] for v in self.values],
                },
                schema={"horizon": pl.Float64, "mean": pl.Float64, "se": pl.Float64, "n": pl.Int64},
            )
            .with_columns(pl.col("mean", "se") * self.scale)
            .sort("horizon")
        )
        total = float(whole["weight"][0])
        picked_weight = float(final["weight"][0])
        share = picked_weight / total if total > 0 else None  # no weight at all: no share to show
        totals = {"rows": int(final["n"][0]), "weight": picked_weight, "share": share}
        return curve, totals


def _horizon(column: str, prefix: str) -> float:
    horizon = horizon_of(column, prefix, where="explorer")
    if horizon is None:  # the curve runs over seconds; a markout to the close has no place on it
        msg = f"explorer: column {column!r} is a markout to the close; expected {prefix}<seconds> columns"
        raise SchemaError(msg)
    return horizon


def _raw_dims(
    frame: pl.DataFrame, columns: Sequence[str] | None, values: dict[str, float], *, date: str, time: str,
    max_levels: int,
) -> list[str]:  # fmt: skip
    if columns is not None:
        require_columns(frame.schema, list(columns), where="explorer")
        bad = [c for c in columns if c in values or c == date]
        if bad:
            msg = f"explorer: columns {bad} are return or date columns; expected binned or categorical ones"
            raise VizflowError(msg)
        return list(columns)
    dims = [time] if time in frame.columns else []
    for name, dtype in frame.schema.items():
        if name in (date, time) or name in values or not _levels_ok(dtype):
            continue
        if frame[name].n_unique() <= max_levels:
            dims.append(name)
    return dims
