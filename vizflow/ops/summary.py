"""Summable statistics: ``summarize`` a frame into partials, ``combine`` partials exactly, ``finalize``.

A partial table has one row per key cell, an Int64 column ``n`` (rows in the cell), a Float64
column ``weight`` (sum of the weights, weighted partials only) and one Struct column per value
column, named after it, holding the value's partial statistics:

- unweighted: ``n`` (non-missing values), ``mean`` and ``m2`` (sum of squared deviations from
  ``mean``), then the cluster fields ``g``, ``q``, ``b``, ``c`` below;
- weighted: ``n`` (non-missing values of positive weight), ``sum_w``, ``sum_w2`` (sums of the
  weights and of their squares over the non-missing values), ``mean`` (weighted) and ``m2``
  (weighted sum of squared deviations), then ``g``, ``q``, ``b``, ``c``.

The cluster fields carry the cluster-robust variance of the mean. With ``S_g`` and ``W_g`` a
cluster's weighted sum and weight over its non-missing values (unweighted: its count) and ``m``
the partial's mean: ``g`` (Int64) counts the clusters with ``W_g > 0``, ``q = sum_g (S_g - W_g m)**2``,
``b = sum_g W_g (S_g - W_g m)`` and ``c = sum_g W_g**2``.

Partials merge by the pairwise update of Chan, Golub and LeVeque (1979): counts and weights add,
the mean is the weighted mean of the means, and ``m2`` adds the within parts and the weighted
squared distances of each mean from the merged mean. No sum of squares is ever formed, so a large
mean with a tiny spread keeps its digits. The cluster fields shift to the merged mean ``M`` the
same way: with ``d = M - m``, ``S_g - W_g M = (S_g - W_g m) - W_g d``, so ``q' = q - 2 d b + d**2 c``
and ``b' = b - d c``; then ``g``, ``q``, ``b``, ``c`` add. By default clusters are never merged
across partial rows: each cluster must lie in one row (cut partials along cluster boundaries, e.g.
one per date when clustering by date). ``combine(..., cluster=keys)`` instead pools the rows
whose ``keys`` are equal into one cluster first (their sums and weights add), for partials that
keep the cluster among their keys. ``summarize`` itself is the default merge of one-cluster
partials (``g = 1``, ``q = b = 0``, ``c = W_g**2``), one per cluster of each cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, overload

import polars as pl

from vizflow._frames import same_kind
from vizflow._keys import as_keys
from vizflow._validate import require_columns, require_dtype
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError

if TYPE_CHECKING:
    from vizflow._typing import FrameT

__all__ = ["combine", "finalize", "summarize"]

_CLUSTER_FIELDS = ("g", "q", "b", "c")
_UNWEIGHTED = ("n", "mean", "m2", *_CLUSTER_FIELDS)
_WEIGHTED = ("n", "sum_w", "sum_w2", "mean", "m2", *_CLUSTER_FIELDS)
_RESERVED = ("n", "weight")
_STATS = ("n", "mean", "std", "se", "clusters", "t")
_IID_STATS = ("n", "mean", "std", "se", "t")
_CLUSTER_ALIAS = "__vizflow_cluster_"  # prefix of cluster expressions' columns while summarizing
SeKind = Literal["cluster", "iid"]
_MIN_CLUSTERS = 2  # a cluster-robust standard error needs G - 1 >= 1


_BAD = ".bad"  # suffix of the per-cell counts of bad values, checked after the group_by


def _bad_count(column: str, *, weight: bool) -> pl.Expr:
    x = pl.col(column)
    bad = (x.is_null() | ~x.is_finite() | (x < 0)).fill_null(True) if weight else x.is_infinite()
    return bad.sum().alias(column + _BAD)


def _raise_on_bad(cells: pl.DataFrame, weight: str | None) -> pl.DataFrame:
    # Runs on the small aggregated table, so checking costs one extra sum per column.
    counts = [c for c in cells.columns if c.endswith(_BAD)]
    for name in counts:
        total = int(cells.get_column(name).sum())
        if total:
            column = name.removesuffix(_BAD)
            where = int((cells.get_column(name) > 0).sum())
            if column == weight:
                msg = (
                    f"summarize: weight column {column!r} holds {total} null, NaN, negative or infinite "
                    f"value(s) in {where} cell(s); expected finite weights >= 0"
                )
            else:
                msg = (
                    f"summarize: value column {column!r} holds {total} infinite value(s) in {where} cell(s); "
                    "expected finite values (null and NaN count as missing)"
                )
            raise DataError(msg)
    return cells.drop(counts)


def _group(lf: pl.LazyFrame, keys: list[str], exprs: list[pl.Expr]) -> pl.LazyFrame:
    if not keys:
        return lf.select(exprs)
    return lf.group_by(keys).agg(exprs).sort(keys, nulls_last=False)


def _unweighted(x: str) -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr]:
    # Polars' var is a stable (Welford-type) one-pass update on its fast group_by path; n * var
    # is m2 without a sum of squares (tests/ops/test_summary.py checks the digits it keeps).
    count = pl.col(x).count()
    agg = [
        count.cast(pl.Int64).alias(f"{x}.n"),
        pl.col(x).mean().alias(f"{x}.mean"),
        (pl.col(x).var(ddof=0).fill_null(0.0) * count).alias(f"{x}.m2"),
    ]
    w = pl.col(f"{x}.n").cast(pl.Float64)
    fields = [pl.col(f"{x}.{f}").alias(f) for f in ("n", "mean", "m2")]
    return [], agg, pl.struct(*fields, *_one_cluster(w))


def _weighted(x: str, w: str, keys: list[str]) -> tuple[list[pl.Expr], list[pl.Expr], pl.Expr]:
    # Two passes: deviations from the cell's plain mean ``c`` (broadcast with ``over``) are small,
    # so ``sum(w*d**2) - sum(w*d)**2 / sum(w)`` keeps its digits; then ``mean = c + sum(w*d) / sum(w)``.
    c = pl.col(x).mean()
    wx = pl.when(pl.col(x).is_not_null()).then(pl.col(w))
    d = pl.col(x) - (c.over(keys) if keys else c)
    pre = [
        (c.over(keys) if keys else c).alias(f"{x}.c"),
        wx.alias(f"{x}.w"),
        wx.pow(2).alias(f"{x}.w2"),
        (wx * d).alias(f"{x}.wd"),
        (wx * d.pow(2)).alias(f"{x}.wd2"),
        ((pl.col(x).is_not_null()) & (pl.col(w) > 0)).alias(f"{x}.pos"),
    ]
    agg = [
        pl.col(f"{x}.pos").sum().cast(pl.Int64).alias(f"{x}.n"),
        pl.col(f"{x}.c").first(),
        *(pl.col(f"{x}.{part}").sum() for part in ("w", "w2", "wd", "wd2")),
    ]
    sum_w, wd = pl.col(f"{x}.w"), pl.col(f"{x}.wd")
    packed = pl.struct(
        pl.col(f"{x}.n").alias("n"),
        sum_w.alias("sum_w"),
        pl.col(f"{x}.w2").alias("sum_w2"),
        pl.when(sum_w > 0).then(pl.col(f"{x}.c") + wd / sum_w).alias("mean"),
        pl.when(sum_w > 0).then(pl.col(f"{x}.wd2") - wd.pow(2) / sum_w).otherwise(0.0).clip(0.0).alias("m2"),
        *_one_cluster(sum_w),
    )
    return pre, agg, packed


def _one_cluster(w: pl.Expr) -> list[pl.Expr]:
    # A cell of one cluster around its own mean: S - W m = 0, so q = b = 0 and c = W**2.
    return [
        (w > 0).cast(pl.Int64).alias("g"),
        pl.lit(0.0).alias("q"),
        pl.lit(0.0).alias("b"),
        w.pow(2).alias("c"),
    ]


def _clusters(
    cluster: str | pl.Expr | Sequence[str | pl.Expr] | None, schema: pl.Schema, date_col: str
) -> tuple[list[str], list[pl.Expr]]:
    """Cluster column names and the expressions that make the computed ones."""
    if cluster is None:
        return ([date_col] if date_col in schema else []), []
    items = [cluster] if isinstance(cluster, str | pl.Expr) else cluster
    if not isinstance(items, list | tuple) or not all(isinstance(c, str | pl.Expr) for c in items):
        msg = (
            f"summarize: cluster={cluster!r}; expected a column name, an expression, a list of them, "
            "[] (the whole partial is one cluster) or None (by the date column when there is one)"
        )
        raise VizflowError(msg)
    names: list[str] = []
    made: list[pl.Expr] = []
    for i, c in enumerate(items):
        if isinstance(c, str):
            names.append(c)
        else:
            names.append(f"{_CLUSTER_ALIAS}{i}")
            made.append(c.alias(names[-1]))
    require_columns(schema, [c for c in items if isinstance(c, str)], where="summarize")
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        msg = f"summarize: cluster names {duplicates} more than once"
        raise VizflowError(msg)
    return names, made


def summarize(
    frame: FrameT,
    by: str | Sequence[str] | None,
    values: str | Sequence[str],
    weight: str | None = None,
    *,
    cluster: str | pl.Expr | Sequence[str | pl.Expr] | None = None,
    date_col: str = "date",
) -> FrameT:
    """Partial statistics of ``values`` per ``by`` cell: a table that :func:`combine` merges exactly.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    by
        Key column(s) of the cells (integers, strings, Categoricals, dates; a null key is a cell
        of its own). ``None`` or ``[]``: one row for the whole frame.
    values
        Numeric or Boolean column(s) to summarize. Null and NaN are missing values, skipped per
        column (each column counts its own non-missing values).
    weight
        Optional column of weights: finite and ``>= 0`` (a null, NaN, negative or infinite weight
        raises). A weight of 0 leaves its row out of every statistic but ``n``.
    cluster
        What the cluster-robust standard error of :func:`finalize` clusters by: a column name,
        an expression (e.g. ``pl.col("elapsed_seconds") // 1800`` for half hours), a list of
        them (``["date", ...]``: half hours of each date), ``[]`` (the whole partial is one
        cluster) or ``None`` (default: by ``date_col`` when the frame has it, else one cluster,
        so a per-date partial is one date cluster and :func:`combine` of the dates clusters by
        date). A null value is a cluster of its own. Rows whose errors are correlated
        (markouts seconds apart share their forward path) belong in one cluster.
    date_col
        The date column that clusters by default.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, one row per cell, sorted by the keys (nulls first): the keys,
        ``n`` (Int64, rows in the cell), ``weight`` (Float64 sum of the weights, only when
        weighted), then one Struct column per value named after it, with the fields ``n``,
        ``mean``, ``m2`` (unweighted) or ``n``, ``sum_w``, ``sum_w2``, ``mean``, ``m2``
        (weighted), then the cluster fields ``g``, ``q``, ``b``, ``c``, as described in
        :mod:`vizflow.ops.summary`.

    Raises
    ------
    ColumnNotFoundError
        For a key, value or weight column not in the frame.
    SchemaError
        For a value or weight column that is not numeric (or Boolean, for values).
    VizflowError
        For no values, a column named twice (as key and value, value and weight, or value or
        weight and cluster), named ``n`` or ``weight`` (the names of the count columns), or a
        ``cluster`` that is not names or expressions.
    DataError
        When collected, for an infinite value, or a null, NaN, negative or infinite weight.

    Notes
    -----
    A pure Polars aggregation (a ``group_by`` by keys and clusters, then one by the keys that
    merges the clusters by :func:`combine`'s rule), collected only if ``frame`` is a DataFrame;
    the checks of values and weights run on the aggregated cells, when the result is collected.
    Unweighted, ``m2`` is ``n`` times Polars' ``var(ddof=0)``, a stable one-pass update; weighted,
    the deviations are taken from the cell's plain mean (a window over the keys, a second pass),
    so neither forms a sum of squares that a large common offset would ruin.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"side": ["b", "s", "b", "b"], "ret": [1.0, 2.0, 3.0, None]})
    >>> vf.summarize(df, "side", "ret")
    shape: (2, 3)
    ┌──────┬─────┬───────────────────────────┐
    │ side ┆ n   ┆ ret                       │
    │ ---  ┆ --- ┆ ---                       │
    │ str  ┆ i64 ┆ struct[7]                 │
    ╞══════╪═════╪═══════════════════════════╡
    │ b    ┆ 3   ┆ {2,2.0,2.0,1,0.0,0.0,4.0} │
    │ s    ┆ 1   ┆ {1,2.0,0.0,1,0.0,0.0,1.0} │
    └──────┴─────┴───────────────────────────┘

    Cell ``b`` has 3 rows and 2 values (``n``, ``mean``, ``m2`` = 2, 2.0, 2.0), in one cluster
    (``df`` has no ``date`` column): ``g = 1``, ``q = b = 0``, ``c = 2**2``.
    """
    keys: list[str] = as_keys(by, where="summarize", name="by")
    names: list[str] = as_keys(values, where="summarize", name="values")
    if not names:
        msg = "summarize: values is empty; expected one or more numeric column names"
        raise VizflowError(msg)
    schema = frame.collect_schema()
    require_columns(schema, [*keys, *names, *([weight] if weight is not None else [])], where="summarize")
    clash = [c for c in (*keys, *names) if c in _RESERVED]
    if clash:
        msg = f"summarize: column(s) {clash} clash with the count columns {list(_RESERVED)}; rename them"
        raise VizflowError(msg)
    for column in names:
        if column in keys or column == weight:
            other = "a key" if column in keys else "the weight"
            msg = f"summarize: column {column!r} is both a value and {other}; expected distinct columns"
            raise VizflowError(msg)
        require_dtype(
            schema,
            column,
            lambda d: d.is_numeric() or d == pl.Boolean,
            expected="a numeric or Boolean dtype",
            where="summarize",
        )
    clusters: list[str]
    made: list[pl.Expr]
    clusters, made = _clusters(cluster, schema, date_col)
    for column in clusters:
        if column in names or column == weight:
            other = "a value" if column in names else "the weight"
            msg = f"summarize: column {column!r} is both a cluster and {other}; expected distinct columns"
            raise VizflowError(msg)
    # One partial per cluster of each cell (keys + clusters), merged over the clusters by combine's rule.
    cells: list[str] = [*keys, *(c for c in clusters if c not in keys)]
    checked = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in names]
    agg = [pl.len().cast(pl.Int64).alias("n")]
    if weight is not None:
        require_dtype(schema, weight, lambda d: d.is_numeric(), expected="a numeric dtype", where="summarize")
        checked.append(pl.col(weight).cast(pl.Float64))
        agg += [pl.col(weight).sum().alias("weight"), _bad_count(weight, weight=True)]
    agg += [_bad_count(c, weight=False) for c in names]
    pre: list[pl.Expr] = []
    packed: list[pl.Expr] = []
    for column in names:
        p, a, s = _unweighted(column) if weight is None else _weighted(column, weight, cells)
        pre += p
        agg += a
        packed.append(s.alias(column))
    lf = frame.lazy().with_columns(made).with_columns(checked).with_columns(pre)
    # Sorted by cell and cluster: the merge below adds the clusters in one order, whatever the rows' order.
    grouped = _group(lf, cells, agg)
    # An opaque node, so no projection of the result can prune the check away.
    checked_cells = grouped.map_batches(
        lambda found: _raise_on_bad(found, weight),
        schema=pl.Schema({c: d for c, d in grouped.collect_schema().items() if not c.endswith(_BAD)}),
        projection_pushdown=False,
        predicate_pushdown=False,
    )
    per_cluster = checked_cells.select([*cells, "n", *(["weight"] if weight is not None else []), *packed])
    if cells == keys:  # every cell is one cluster (or the clusters are among the keys): nothing to merge
        result = per_cluster
    else:
        result = _group(per_cluster, keys, _merge_exprs(names, weighted=weight is not None))
    return same_kind(frame, result)


def _layout(schema: pl.Schema, *, where: str) -> tuple[list[str], list[str], bool]:
    """Keys, value columns and weightedness of a partial table's schema."""
    structs = {c: d for c, d in schema.items() if isinstance(d, pl.Struct)}
    if "n" not in schema or not structs:
        msg = (
            f"{where}: the table is not a partial table (columns {schema.names()}); expected the output "
            "of vf.summarize or vf.combine: an 'n' column and one Struct column per value"
        )
        raise (ColumnNotFoundError if "n" not in schema else SchemaError)(msg)
    weighted = None
    for column, dtype in structs.items():
        fields = tuple(f.name for f in dtype.fields)
        if fields not in (_UNWEIGHTED, _WEIGHTED):
            expect = [f for f in (_WEIGHTED if "sum_w" in fields else _UNWEIGHTED) if f not in fields]
            msg = (
                f"{where}: partial column {column!r} has fields {list(fields)}; expected {list(_UNWEIGHTED)} "
                f"or {list(_WEIGHTED)}" + (f" (missing {expect})" if expect else "")
            )
            if set(_CLUSTER_FIELDS).isdisjoint(fields):
                msg += (
                    "; a partial written before vizflow kept its cluster statistics (g, q, b, c): "
                    "run vf.summarize again"
                )
            raise SchemaError(msg)
        if weighted is not None and weighted != (fields == _WEIGHTED):
            msg = f"{where}: partial column {column!r} mixes weighted and unweighted partials in one table"
            raise SchemaError(msg)
        weighted = fields == _WEIGHTED
    if weighted and "weight" not in schema:
        raise ColumnNotFoundError.missing(["weight"], schema.names(), where=where)
    keys = [c for c in schema.names() if c not in structs and c not in _RESERVED]
    return keys, list(structs), bool(weighted)


def _merged(column: str, weighted: bool, *, pooled: bool = False) -> pl.Expr:
    """Merge a cell's rows of partial column ``column``: as distinct clusters, or ``pooled`` into one."""
    s = pl.col(column).struct
    n, mean, m2 = s.field("n"), s.field("mean"), s.field("m2")
    w = s.field("sum_w") if weighted else n.cast(pl.Float64)
    total = w.sum()
    ref = mean.drop_nulls().first()
    merged_mean = pl.when(total > 0).then(ref + (w * (mean - ref)).sum() / total)
    merged_m2 = m2.sum() + (w * (mean - merged_mean).pow(2)).sum()
    fields: dict[str, pl.Expr] = {"n": n.sum()}
    if weighted:
        fields |= {"sum_w": total, "sum_w2": s.field("sum_w2").sum()}
    fields |= {"mean": merged_mean, "m2": merged_m2}
    # Each partial's cluster sums shift to the merged mean (d = M - m; a partial without values has
    # a null mean and q = b = c = 0, so its null terms drop out of the sums), then add.
    q, b, c = s.field("q"), s.field("b"), s.field("c")
    d = merged_mean - mean
    if pooled:
        # The rows are parts of one cluster: its sum and weight add, and it is one cluster again.
        fields |= {"g": (total > 0).cast(pl.Int64), "q": pl.lit(0.0), "b": pl.lit(0.0), "c": total.pow(2)}
    else:
        fields |= {
            "g": s.field("g").sum(),
            "q": (q - 2.0 * d * b + d.pow(2) * c).sum().clip(0.0),
            "b": (b - d * c).sum(),
            "c": c.sum(),
        }
    return pl.struct([e.alias(name) for name, e in fields.items()]).alias(column)


def _merge_exprs(columns: Sequence[str], *, weighted: bool, pooled: bool = False) -> list[pl.Expr]:
    exprs = [pl.col("n").sum()]
    if weighted:
        exprs.append(pl.col("weight").sum())
    exprs += [_merged(c, weighted, pooled=pooled) for c in columns]
    if pooled:  # counts of rows holding several clusters, checked after the group_by
        exprs += [(pl.col(c).struct.field("g") > 1).sum().alias(c + _SHARED) for c in columns]
    return exprs


_SHARED = ".several"  # suffix of the per-cell counts of rows holding several clusters (combine's cluster=)


def _raise_on_several(cells: pl.DataFrame, cluster: list[str]) -> pl.DataFrame:
    counts = [c for c in cells.columns if c.endswith(_SHARED)]
    for name in counts:
        total = int(cells.get_column(name).sum())
        if total:
            column = name.removesuffix(_SHARED)
            msg = (
                f"combine: cluster={cluster} names the cluster of each row, but {total} row(s) of partial "
                f"column {column!r} hold several clusters (g > 1); expected partials summarized with "
                f"clusters no finer than {cluster} and those columns among the keys (e.g. by=[..., 'date'])"
            )
            raise DataError(msg)
    return cells.drop(counts)


@overload
def combine(
    partials: pl.DataFrame | Sequence[pl.DataFrame],
    by: str | Sequence[str] | None = None,
    *,
    cluster: str | Sequence[str] | None = None,
) -> pl.DataFrame: ...


@overload
def combine(
    partials: pl.LazyFrame | Sequence[pl.LazyFrame],
    by: str | Sequence[str] | None = None,
    *,
    cluster: str | Sequence[str] | None = None,
) -> pl.LazyFrame: ...


def combine(
    partials: pl.DataFrame | pl.LazyFrame | Sequence[pl.DataFrame] | Sequence[pl.LazyFrame],
    by: str | Sequence[str] | None = None,
    *,
    cluster: str | Sequence[str] | None = None,
) -> pl.DataFrame | pl.LazyFrame:
    """Merge partial tables (from :func:`summarize` or :func:`combine`) cell by cell into one.

    Parameters
    ----------
    partials
        A list of partial tables (e.g. one per date) or one frame holding many, such as
        ``vf.scan("out/*.parquet")`` of a batch whose pipeline ended in :func:`summarize`. All
        must have the same columns and dtypes.
    by
        The keys to merge by; default all the key columns of the partials. A subset merges over
        the other keys too (e.g. ``by="half_hour"`` of partials keyed by half hour and size
        decile gives one row per half hour); ``[]`` merges everything into one row. Each
        merged cell's clusters count as clusters of their own: right when every cluster lies
        in one of them (cells of different dates, clustered by date), wrong when a cluster
        spans several (size deciles of one date, clustered by date: the date would count once
        per decile, and ``{v}_se`` would come out too small). Summarize by the coarser keys
        instead then, or keep the cluster as a key and name it in ``cluster``.
    cluster
        Key column(s) of the partials that name each row's cluster (e.g. ``"date"`` for
        partials summarized by ``[..., "date"]`` and clustered by date, the default): rows of a
        cell with equal values pool into one cluster before the clusters are combined, so
        ``by`` may drop any key. Each row must hold at most one cluster (``g <= 1``). Default
        ``None``: every row's clusters are its own.

    Returns
    -------
    DataFrame or LazyFrame
        A partial table, one row per cell of ``by``, sorted by it (nulls first): a DataFrame when
        every input is one, else a LazyFrame. The merge is associative and ignores row order:
        ``combine([combine(a), combine(b)]) == combine(a + b)`` up to rounding.

    Raises
    ------
    VizflowError
        For an empty list, an item that is not a frame, or a list mixing DataFrames and LazyFrames.
    ColumnNotFoundError
        For a table without ``n`` (or ``weight``, if weighted), or a ``by`` or ``cluster`` column
        that is not one of its keys.
    DataError
        When collected, with ``cluster``, for a row that holds several clusters.
    SchemaError
        For a table without partial columns, a partial column whose fields are not those
        :func:`summarize` writes, or tables whose columns or dtypes differ.

    Notes
    -----
    One Polars ``group_by``: per value, ``n``, ``sum_w`` and ``sum_w2`` add; the merged mean is
    ``ref + sum(w_i * (mean_i - ref)) / sum(w_i)``, with ``ref`` the first non-null mean of the
    cell (``w_i`` is ``sum_w``, or ``n`` unweighted); and
    ``m2 = sum(m2_i) + sum(w_i * (mean_i - mean)**2)``. Collected only when the inputs are
    DataFrames.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> day1 = pl.DataFrame({"date": [1, 1], "side": ["b", "s"], "ret": [1.0, 2.0]})
    >>> day2 = pl.DataFrame({"date": [2, 2], "side": ["b", "b"], "ret": [3.0, 5.0]})
    >>> parts = [vf.summarize(day, "side", "ret") for day in (day1, day2)]
    >>> vf.combine(parts).equals(vf.summarize(pl.concat([day1, day2]), "side", "ret"))
    True
    >>> vf.combine(parts)["ret"].to_list()[0]
    {'n': 3, 'mean': 3.0, 'm2': 8.0, 'g': 2, 'q': 8.0, 'b': 2.0, 'c': 5.0}

    Side ``b`` has 3 values in 2 date clusters, ``S_g - W_g M`` = ``1 - 1 * 3 = -2`` and
    ``8 - 2 * 3 = 2``: ``q = 4 + 4``, ``b = 1 * -2 + 2 * 2``, ``c = 1**2 + 2**2``.
    """
    frames = [partials] if isinstance(partials, pl.DataFrame | pl.LazyFrame) else partials
    if not isinstance(frames, Sequence) or isinstance(frames, str) or not frames:
        msg = f"combine: partials is {partials!r}; expected a partial table or a non-empty list of them"
        raise VizflowError(msg)
    kinds = {type(f) for f in frames}
    if not kinds <= {pl.DataFrame, pl.LazyFrame}:
        bad = next(f for f in frames if not isinstance(f, pl.DataFrame | pl.LazyFrame))
        msg = f"combine: an item of partials is {type(bad).__name__}; expected DataFrames or LazyFrames"
        raise VizflowError(msg)
    if len(kinds) > 1:
        msg = "combine: partials mixes DataFrames and LazyFrames; expected one kind (call .lazy() on each)"
        raise VizflowError(msg)
    schema = frames[0].collect_schema()
    for i, frame in enumerate(frames[1:], start=1):
        other = frame.collect_schema()
        if dict(other) != dict(schema):
            diff = sorted(
                c for c in {*schema, *other} if c not in schema or c not in other or schema[c] != other[c]
            )
            msg = (
                f"combine: partial table {i} differs from table 0 in column(s) {diff} "
                f"({[(c, schema.get(c), other.get(c)) for c in diff]}); expected the same columns and dtypes"
            )
            raise SchemaError(msg)
    keys, columns, weighted = _layout(schema, where="combine")
    key_schema = pl.Schema({k: schema[k] for k in keys})
    if by is not None:
        chosen = as_keys(by, where="combine", name="by")
        require_columns(key_schema, chosen, where="combine")
        keys = chosen
    lf = pl.concat([f.lazy().select(schema.names()) for f in frames], how="vertical")
    if cluster is not None:
        shared = as_keys(cluster, where="combine", name="cluster")
        require_columns(key_schema, shared, where="combine")
        # Rows of one cluster (equal cluster keys) pool into one cluster per cell first.
        cells = [*keys, *(c for c in shared if c not in keys)]
        pooled = _group(lf, cells, _merge_exprs(columns, weighted=weighted, pooled=True))
        lf = pooled.map_batches(
            lambda found: _raise_on_several(found, shared),
            schema=pl.Schema({c: d for c, d in pooled.collect_schema().items() if not c.endswith(_SHARED)}),
            projection_pushdown=False,
            predicate_pushdown=False,
        )
    result = _group(lf, keys, _merge_exprs(columns, weighted=weighted))
    return result.collect() if kinds == {pl.DataFrame} else result


def finalize(partial: FrameT, *, se: SeKind = "cluster") -> FrameT:
    """Means, standard deviations, cluster-robust standard errors and t-statistics from a partial table.

    Parameters
    ----------
    partial
        The output of :func:`summarize` or :func:`combine`.
    se
        ``"cluster"`` (default): the cluster-robust standard error over the clusters the partial
        was summarized with (by date, unless :func:`summarize` was told otherwise).
        ``"iid"``: the textbook ``std / sqrt(n)`` that treats every row as an independent draw,
        only when asked for by name: overlapping markouts are not independent, and it can be
        several times too small.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind, one row per cell in the same order: the keys, ``n`` (rows), ``weight``
        (sum of the weights; ``n`` as a Float64 when unweighted), then per value column ``v``:
        ``{v}_n``, ``{v}_mean``, ``{v}_std``, ``{v}_se``, ``{v}_clusters`` (Int64), ``{v}_t``
        (below); with ``se="iid"`` the same without ``{v}_clusters``. A statistic that is
        undefined (no values, one value, fewer than 2 clusters, a zero standard error) is null.

    Raises
    ------
    ColumnNotFoundError, SchemaError
        For a table that is not a partial table, as :func:`combine`.
    VizflowError
        For an ``se`` other than ``"cluster"`` or ``"iid"``.

    Notes
    -----
    With ``W = sum w``, ``W2 = sum w**2`` over the non-missing values (unweighted: ``w = 1``,
    so ``W = W2 = n``):

    - ``{v}_mean = sum(w * x) / W``;
    - ``{v}_std = sqrt(m2 / (W - W2 / W))``, ``m2 = sum(w * (x - mean)**2)``: the unbiased
      variance for reliability weights, which is the sample (``ddof=1``) variance when
      unweighted, and does not change if every weight is scaled;
    - ``{v}_se = sqrt(G / (G - 1) * q / W**2)`` with ``G = {v}_clusters``, the clusters holding
      a non-missing value of positive weight, and ``q = sum_g (S_g - W_g mean)**2`` over them
      (``S_g``, ``W_g``: a cluster's weighted sum and weight): the cluster-robust (sandwich)
      standard error of the mean with the small-sample factor ``G / (G - 1)``, i.e. statsmodels'
      ``OLS(x, 1)`` (``WLS`` with the weights) ``.fit(cov_type="cluster")`` (CR1); null for
      ``G < 2``. With ``se="iid"``: ``{v}_std / sqrt(n_eff)``, ``n_eff = W**2 / W2``;
    - ``{v}_t = {v}_mean / {v}_se``; compare it with Student's t with ``G - 1`` degrees of
      freedom (:func:`vizflow.student.t_quantile`), not the normal: 4.30, not 1.96, for a 95%
      band over three dates.

    One row per cluster gives the iid figure again: ``G / (G - 1) * sum (x - mean)**2 / G**2``
    is ``std**2 / n``. ``{v}_n`` counts the values that entered (non-missing, of positive
    weight). Plain column arithmetic, no aggregation; collected only if ``partial`` is a
    DataFrame.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"date": [1, 1, 2, 2, 3, 3], "ret": [1.0, 2.0, 6.0, 4.0, 3.0, 2.0]})
    >>> vf.finalize(vf.summarize(df, [], "ret")).select("ret_mean", "ret_se", "ret_clusters")
    shape: (1, 3)
    ┌──────────┬──────────┬──────────────┐
    │ ret_mean ┆ ret_se   ┆ ret_clusters │
    │ ---      ┆ ---      ┆ ---          │
    │ f64      ┆ f64      ┆ i64          │
    ╞══════════╪══════════╪══════════════╡
    │ 3.0      ┆ 1.040833 ┆ 3            │
    └──────────┴──────────┴──────────────┘
    >>> vf.finalize(vf.summarize(df, [], "ret"), se="iid")["ret_se"].round(6).to_list()
    [0.730297]

    Clustered by date (the default, as ``df`` has a ``date`` column): the dates' sums of
    deviations are -3, 4, -1, so ``se = sqrt(3 / 2 * 26 / 36) = 1.0408``, above the iid 0.7303.
    """
    if se not in ("cluster", "iid"):
        msg = f"finalize: se={se!r}; expected 'cluster' (the default) or 'iid' (rows as independent draws)"
        raise VizflowError(msg)
    keys: list[str]
    keys, columns, weighted = _layout(partial.collect_schema(), where="finalize")
    exprs: list[pl.Expr | str] = [
        *keys,
        "n",
        pl.col("weight") if weighted else pl.col("n").cast(pl.Float64).alias("weight"),
    ]
    for column in columns:
        s = pl.col(column).struct
        n = s.field("n")
        total = s.field("sum_w") if weighted else n.cast(pl.Float64)
        total2 = s.field("sum_w2") if weighted else total
        mean = pl.when(total > 0).then(s.field("mean"))
        dof = total - total2 / total
        std = pl.when((n > 1) & (dof > 0)).then((s.field("m2") / dof).sqrt())
        if se == "iid":
            error = std / (total.pow(2) / total2).sqrt()
            t = pl.when(error > 0).then(mean / error)
            exprs += [
                e.alias(f"{column}_{k}") for k, e in zip(_IID_STATS, (n, mean, std, error, t), strict=True)
            ]
            continue
        g = s.field("g")
        error = pl.when((g >= _MIN_CLUSTERS) & (total > 0)).then(
            (g.cast(pl.Float64) / (g - 1).cast(pl.Float64) * s.field("q")).sqrt() / total
        )
        t = pl.when(error > 0).then(mean / error)
        exprs += [e.alias(f"{column}_{k}") for k, e in zip(_STATS, (n, mean, std, error, g, t), strict=True)]
    result = partial.lazy().select(exprs)
    return same_kind(partial, result)
