"""The explorer's numbers: a table of markouts as summable partials, cut into cells and selections.

Everything the explorer shows is computed here with :func:`vizflow.summarize`,
:func:`vizflow.combine` and :func:`vizflow.finalize`, so it is plain Polars and testable without
a browser. Raw rows are summarized per view: the rows of the chosen date range by the chosen
(X, Y) cells (time floored to its bins), or the rows of the selected cells into one row per
horizon, clustered by date when they span several dates and by half hour of the session clock
when they hold one. A partial table is combined the same way, keeping its own clusters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeAlias

import polars as pl

import vizflow as vf
from vizflow._validate import require_columns
from vizflow.exceptions import ColumnNotFoundError, VizflowError
from vizflow.viz._stats import horizon_of
from vizflow.viz.bands import band_hover, halfwidth

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["HALF_HOUR", "STATISTICS", "Clustering", "ExplorerData", "Statistic", "load_table"]

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


HALF_HOUR = 1800.0
"""The explorer's clusters on one date: half hours of the session clock."""


class Clustering(NamedTuple):
    """What the explorer's standard errors are clustered by: an expression for vf.summarize, and its noun."""

    expr: pl.Expr | None  # None: one cluster
    noun: str  # "date", "half hour" or "cluster"
    why: str  # the sentence the page shows
    withheld: bool = False  # no se can be given at all (partials cut finer than the view): why says so


@dataclass
class ExplorerData:
    """A table of markouts prepared for the explorer (see :func:`vizflow.viz.explorer`).

    Build it with :meth:`from_table`. ``dims`` are the X/Y candidates, ``values`` the return
    columns (value column -> horizon in seconds, ``None`` for ``close``), ``weights`` the weight
    columns offered (``None`` first when unweighted statistics are available), ``dates`` the
    sorted dates.

    Raw rows are summarized per view (:func:`vizflow.summarize` by the view's cells), clustered
    by date when the rows in view hold several dates and by half hour of the session clock when
    they hold one (:meth:`clustering`), so every t-stat and band is cluster-robust. A partial
    table is combined as it is: its cells' clusters are the partials' own.
    """

    dims: list[str]
    values: dict[str, float | None]
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
            c: horizon_of(c, prefix, where="explorer")
            for c, d in schema.items()
            if c.startswith(prefix) and (isinstance(d, pl.Struct) if partial else d.is_numeric())
        }
        if not values:
            msg = (
                f"explorer: no {prefix}<horizon> column in {schema.names()}; expected raw rows with forward "
                "returns (vf.forward_return) or a partial table of them (vf.summarize)"
            )
            raise ColumnNotFoundError(msg)
        values = dict(sorted(values.items(), key=lambda kv: (kv[1] is None, kv[1] or 0.0)))  # close last
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

    def _check_weight(self, weight: str | None) -> None:
        if self.raw is not None:
            if weight is not None and weight not in self.weights:
                msg = f"explorer: weight {weight!r} is not one of the weight columns {self.weights[1:]}"
                raise ColumnNotFoundError(msg)
            return
        if weight in self._partials:
            return
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

    def _floor(self, column: pl.Expr, width: float | None = None) -> pl.Expr:
        # bin k of [k w, (k + 1) w) by vf.bin's exact division, as its left edge k * w
        width = self.x_width if width is None else width
        return column.map_batches(
            lambda s: vf.bin(s.to_frame(), {s.name: width}, how="floor")[f"{s.name}_bin"] * width,
            return_dtype=pl.Float64,
        )

    def _in_dates(self, table: pl.DataFrame, dates: Sequence[int] | None) -> pl.DataFrame:
        if self.date and dates is not None and self.dates:
            lo, hi = self.dates[max(dates[0], 0)], self.dates[min(dates[1], len(self.dates) - 1)]
            table = table.filter(pl.col(self.date).is_between(pl.lit(lo), pl.lit(hi)))
        return table

    def clustering(self, rows: pl.DataFrame) -> Clustering:
        """Choose the clusters of raw rows: their dates if several, else half hours of the session clock.

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"date": ["d1", "d2"], "elapsed_seconds": [0.0, 5000.0], "s": [1, 1],
        ...                      "return_1": [1e-4, 2e-4]})  # fmt: skip
        >>> data = ExplorerData.from_table(rows, market=None)
        >>> data.clustering(rows).noun, data.clustering(rows.head(1)).noun
        ('date', 'half hour')
        """
        if self.date and rows[self.date].n_unique() > 1:
            why = "clustered by date: the rows in view span several dates"
            return Clustering(pl.col(self.date), "date", why)
        if self.time:
            why = "clustered by half hour of the session clock: the rows in view hold one date"
            return Clustering(self._floor(pl.col(self.time), HALF_HOUR), "half hour", why)
        why = "one cluster: the rows in view hold one date (or none) and no session-clock column"
        return Clustering(None, "cluster", why)

    def clusters_in(self, dates: Sequence[int] | None) -> Clustering:
        """Return the clustering of a view over the date range ``dates`` (a partial table: its own).

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"date": ["d1", "d2"], "s": [1, 1], "return_1": [1e-4, 2e-4]})
        >>> data = ExplorerData.from_table(rows, market=None)
        >>> data.clusters_in(None).noun, data.clusters_in([1, 1]).why
        ('date', 'one cluster: the rows in view hold one date (or none) and no session-clock column')
        """
        if self.raw is None:
            return Clustering(None, "date", _OWN)
        return self.clustering(self._in_dates(self.raw, dates))

    def _rows(self, x: str, y: str, dates: Sequence[int] | None) -> tuple[pl.DataFrame, Clustering]:
        """Return the raw rows of the date range, the clock floored to its cells, and their clustering."""
        assert self.raw is not None
        rows = self._in_dates(self.raw, dates)
        clusters = self.clustering(rows)
        if clusters.expr is not None:  # before the clock is floored to the cells' width
            rows = rows.with_columns(clusters.expr.alias(_CLUSTER))
            clusters = clusters._replace(expr=pl.col(_CLUSTER))
        if self.time in (x, y):
            rows = rows.with_columns(self._floor(pl.col(self.time)))
        return rows, clusters

    def _final(
        self, keys: tuple[str, str], by: list[str], values: list[str], weight: str | None, *,
        dates: Sequence[int] | None, selection: pl.DataFrame | None = None,
    ) -> tuple[pl.DataFrame, Clustering, pl.DataFrame]:  # fmt: skip
        """Return finalized statistics by ``by`` of the rows (or partials) in the date range and selection.

        Also returns the clustering and the rows (or partials) of the whole date range, for totals.
        """
        x, y = keys
        self._check_weight(weight)
        if self.raw is not None:
            rows, clusters = self._rows(x, y, dates)
            picked = rows if selection is None else _semi(rows, selection, x, y)
            if picked.height == 0:
                return picked, clusters, rows
            one: list[pl.Expr] | pl.Expr = [] if clusters.expr is None else clusters.expr  # []: one cluster
            final = vf.finalize(vf.summarize(picked, by, values, weight=weight, cluster=one))
            return final, clusters, rows
        table = self._in_dates(self._partials[weight], dates)
        if self.time in (x, y):  # partial keys hold left edges; re-floor to x_width
            table = table.with_columns(self._floor(pl.col(self.time)))
        whole = table
        if selection is not None:
            table = _semi(table, selection, x, y)
        clusters = Clustering(None, "date", _OWN)
        if table.height == 0:
            return table, clusters, whole
        final = vf.finalize(vf.combine(_stats_of(table, by, values, weight), by=by))
        finer = [d for d in self.dims if d not in by]
        if finer:  # merging rows of one cluster cut by other keys loses their covariance: no honest se
            why = (
                f"the partials are also cut by {finer}: rows of one date cut by other keys cannot be "
                f"merged into a clustered se (summarize by the date and {by or 'nothing else'} only)"
            )
            nulls = [pl.lit(None, pl.Float64).alias(f"{v}_{s}") for v in values for s in ("se", "t")]
            counts = [pl.lit(None, pl.Int64).alias(f"{v}_clusters") for v in values]
            final = final.with_columns(*nulls, *counts)
            clusters = Clustering(None, "date", why, withheld=True)
        return final, clusters, whole

    def cells(
        self, x: str, y: str, value: str, statistic: Statistic, *, weight: str | None = None,
        dates: Sequence[int] | None = None,
    ) -> pl.DataFrame:  # fmt: skip
        """One row per (x, y) cell: the keys, ``stat``, ``count`` (values), ``clusters`` and ``band``.

        ``mean`` and ``count`` are unweighted when the table allows it, ``weighted mean`` and
        ``sum of weight`` need ``weight``, ``t-stat`` is weighted when ``weight`` is given. Means
        are multiplied by ``scale`` (basis points). ``dates`` is an index range into ``dates``.
        ``band`` is the cell's 95% CI of the mean in the table's unit, or why it has none (fewer
        than 2 clusters); ``clusters`` its cluster count (:meth:`clustering`).

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1.0, 3.0, 5.0]})
        >>> cells = ExplorerData.from_table(rows, market=None, scale=1).cells("a", "b", "return_5", "mean")
        >>> cells.drop("band").rows(), cells["band"][0]
        ([(1, 'u', 2.0, 2, 1), (2, 'v', 5.0, 1, 1)], 'no band: 1 cluster (a clustered CI needs 2 or more)')
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
        final, clusters, _ = self._final((x, y), [x, y], [value], use, dates=dates)
        if final.height == 0:
            return pl.DataFrame(schema={x: self._dtype(x), y: self._dtype(y), **_CELL})
        stat = {
            "mean": pl.col(f"{value}_mean") * self.scale,
            "weighted mean": pl.col(f"{value}_mean") * self.scale,
            "sum of weight": pl.col("weight"),
            "count": pl.col(f"{value}_n").cast(pl.Float64),
            "t-stat": pl.col(f"{value}_t"),
        }[statistic]
        g = f"{value}_clusters"
        final = final.with_columns(_counts(final, g))
        bands = [
            _band_text(None if se is None else se * self.scale, n, clusters)
            for se, n in final.select(f"{value}_se", g).iter_rows()
        ]
        return final.select(
            x, y, stat.alias("stat"), pl.col(f"{value}_n").alias("count"), pl.col(g).alias("clusters"),
            pl.Series("band", bands, dtype=pl.String),
        )  # fmt: skip

    def decay(
        self, x: str, y: str, selection: Sequence[Sequence] | None, *, weight: str | None = None,
        dates: Sequence[int] | None = None,
    ) -> tuple[pl.DataFrame, dict]:  # fmt: skip
        """Return the markout curve of the selected (x, y) cells (``None``: all), and its totals.

        Returns one row per horizon (``horizon``, null for ``close``; ``mean``, ``se``, ``n``,
        ``clusters``, ``half`` (the 95% CI half-width ``t(0.975, G - 1) x se``, null with fewer
        than 2 clusters) and ``band`` (its text, or why there is none); ``mean``, ``se`` and
        ``half`` scaled to basis points) and ``{"rows", "weight", "share", "clustered_by",
        "clustering"}``: the rows of the selection, their total weight (rows when unweighted),
        its share of the date range's total, the clusters' noun and the sentence saying why.

        Examples
        --------
        >>> import polars as pl
        >>> rows = pl.DataFrame({"a": [1, 1, 2], "b": ["u", "u", "v"], "return_5": [1.0, 3.0, 5.0]})
        >>> curve, totals = ExplorerData.from_table(rows, market=None, scale=1).decay("a", "b", [[1, "u"]])
        >>> curve.select("horizon", "mean", "n", "clusters", "half").rows()
        [(5.0, 2.0, 2, 1, None)]
        >>> totals["rows"], totals["share"], totals["clustered_by"]
        (2, 0.6666666666666666, 'cluster')
        """
        self._check_dims(x, y)
        picked = None
        if selection is not None:
            picked = pl.DataFrame([list(cell) for cell in selection], schema=[x, y], orient="row")
            picked = picked.cast({x: self._dtype(x), y: self._dtype(y)}).unique()
        values = list(self.values)
        final, clusters, whole = self._final((x, y), [], values, weight, dates=dates, selection=picked)
        if final.height == 0 or not final["n"][0]:
            msg = f"explorer: the selection holds no cell of {x!r} x {y!r} with rows"
            raise VizflowError(msg)
        final = final.with_columns(*(_counts(final, f"{v}_clusters") for v in values))
        rows = []
        for v, h in self.values.items():
            se, g = final[f"{v}_se"][0], final[f"{v}_clusters"][0]
            scaled = None if se is None else se * self.scale
            half = halfwidth(scaled, g)
            mean = final[f"{v}_mean"][0]
            rows.append((h, None if mean is None else mean * self.scale, scaled, final[f"{v}_n"][0], g, half,
                         _band_text(scaled, g, clusters)))  # fmt: skip
        curve = pl.DataFrame(rows, schema=_CURVE, orient="row")
        if self.raw is not None:
            total = float(whole[weight].sum()) if weight else float(whole.height)
        else:
            total = float(vf.finalize(vf.combine(_stats_of(whole, [], values, weight), by=[]))["weight"][0])
        picked_weight = float(final["weight"][0])
        share = picked_weight / total if total > 0 else None  # no weight at all: no share to show
        totals = {"rows": int(final["n"][0]), "weight": picked_weight, "share": share,
                  "clustered_by": clusters.noun, "clustering": clusters.why}  # fmt: skip
        return curve, totals

    def _dtype(self, column: str) -> pl.DataType:
        table = self.raw if self.raw is not None else next(iter(self._partials.values()))
        return table.schema[column]

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


_CLUSTER = "__vf_cluster"
_OWN = "the partials' own clusters (vf.summarize's default: dates)"
_CELL = {"stat": pl.Float64, "count": pl.Int64, "clusters": pl.Int64, "band": pl.String}


def _band_text(se: float | None, clusters: int | None, clustering: Clustering) -> str:
    return f"no band: {clustering.why}" if clustering.withheld else band_hover(se, clusters, clustering.noun)


def _semi(table: pl.DataFrame, selection: pl.DataFrame, x: str, y: str) -> pl.DataFrame:
    return table.join(selection, on=[x, y], how="semi", nulls_equal=True)


def _stats_of(table: pl.DataFrame, by: list[str], values: list[str], weight: str | None) -> pl.DataFrame:
    return table.select(*by, "n", *(["weight"] if weight else []), *values)


def _counts(final: pl.DataFrame, column: str) -> pl.Expr:
    """Return a finalized table's cluster counts as Int64; null where the table has none."""
    return pl.col(column).cast(pl.Int64) if column in final.columns else pl.lit(None, pl.Int64).alias(column)


_CURVE = {"horizon": pl.Float64, "mean": pl.Float64, "se": pl.Float64, "n": pl.Int64, "clusters": pl.Int64,
          "half": pl.Float64, "band": pl.String}  # fmt: skip


def _raw_dims(
    frame: pl.DataFrame, columns: Sequence[str] | None, values: dict[str, float | None], *, date: str,
    time: str, max_levels: int,
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
