"""Statistics tables for the figures: raw rows, partials (``vf.summarize``) or finalized tables.

:func:`decay` and :func:`heatmap` draw any of the three kinds. Raw rows and partials are turned into
one finalized row per drawn cell with :func:`vizflow.summarize`, :func:`vizflow.combine` and
:func:`vizflow.finalize`, so every input draws the same numbers; a finalized table is drawn as it is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, TypeAlias

import polars as pl

from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError
from vizflow.ops._horizons import CLOSE, seconds_of
from vizflow.ops.summary import combine, finalize, summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["TableKind", "combined", "finalized", "statistic_column", "table_kind", "value_columns"]

TableKind: TypeAlias = Literal["raw", "partial", "final"]
STATISTICS = ("mean", "std", "se", "t", "n", "clusters")


def table_kind(schema: pl.Schema) -> TableKind:
    """Tell raw rows from a partial table (Struct columns, ``n``) and a finalized one (``{v}_mean``, ``_se``).

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> rows = pl.DataFrame({"side": [1, 1], "return_5": [1.0, 3.0]})
    >>> [table_kind(t.collect_schema()) for t in (rows, vf.summarize(rows, "side", "return_5"))]
    ['raw', 'partial']
    >>> table_kind(vf.finalize(vf.summarize(rows, "side", "return_5")).collect_schema())
    'final'
    """
    if "n" in schema and any(isinstance(d, pl.Struct) for d in schema.values()):
        return "partial"
    if "n" in schema and _final_values(schema):
        return "final"
    return "raw"


def _final_values(schema: pl.Schema) -> list[str]:
    return [c.removesuffix("_mean") for c in schema if c.endswith("_mean") and f"{c[:-5]}_se" in schema]


def value_columns(schema: pl.Schema, kind: TableKind, prefix: str = "") -> list[str]:
    """Return the value columns ``v`` of a table of ``kind`` starting with ``prefix``, in schema order.

    Raw rows: the numeric columns; partials: the Struct columns; finalized: each ``v`` with both
    ``{v}_mean`` and ``{v}_se``.

    Examples
    --------
    >>> import polars as pl
    >>> schema = pl.Schema(
    ...     {"side": pl.Int64, "n": pl.Int64, "return_5_mean": pl.Float64, "return_5_se": pl.Float64}
    ... )
    >>> value_columns(schema, "final", "return_")
    ['return_5']
    """
    if kind == "final":
        names = _final_values(schema)
    elif kind == "partial":
        names = [c for c, d in schema.items() if isinstance(d, pl.Struct)]
    else:
        names = [c for c, d in schema.items() if d.is_numeric()]
    return [c for c in names if c.startswith(prefix)]


def statistic_column(schema: pl.Schema, kind: TableKind, z: str, *, where: str) -> tuple[str, str]:
    """Split ``z`` of a partial or finalized table into its value ``v`` and the statistic column to draw.

    ``z`` is a value (``return_60``: its mean) or one of its statistics (``return_60_t``).

    Examples
    --------
    >>> import polars as pl
    >>> schema = pl.Schema({"n": pl.Int64, "r_mean": pl.Float64, "r_se": pl.Float64, "r_t": pl.Float64})
    >>> (
    ...     statistic_column(schema, "final", "r", where="demo"),
    ...     statistic_column(schema, "final", "r_t", where="demo"),
    ... )
    (('r', 'r_mean'), ('r', 'r_t'))
    """
    values = value_columns(schema, kind)
    if z in values:
        return z, f"{z}_mean"
    for stat in STATISTICS:
        value = z.removesuffix(f"_{stat}")
        if value != z and value in values:
            return value, z
    options = [f"{v}{s}" for v in values for s in ("", "_mean", "_t")]
    msg = (
        f"{where}: z={z!r} is not a value of this {'partial' if kind == 'partial' else 'finalized'} table; "
        f"expected a value or one of its statistics {[f'<v>_{s}' for s in STATISTICS]}, e.g. {options[:6]}"
    )
    raise ColumnNotFoundError(msg)


def finalized(
    frame: pl.DataFrame | pl.LazyFrame,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    sign: str | None = None,
    cluster: str | pl.Expr | None = None,
    where: str,
) -> pl.DataFrame:
    """One finalized row per ``keys`` cell (``{v}_n``, ``{v}_mean``, ``{v}_se``, ...), from any table kind.

    Raw rows (each value multiplied by ``sign`` first, if given) are summarized by ``keys``
    (clustered by ``cluster``, default :func:`vizflow.summarize`'s: the date column),
    partials combined by ``keys``, then finalized; a finalized table must already hold one row per
    cell (it cannot be merged: finalize after combining).

    Examples
    --------
    >>> import polars as pl
    >>> rows = pl.DataFrame({"g": ["a", "a", "b"], "s": [1, -1, 1], "r": [1.0, -3.0, 5.0]})
    >>> finalized(rows, ["g"], ["r"], sign="s", where="demo").select("g", "r_n", "r_mean").rows()
    [('a', 2, 2.0), ('b', 1, 5.0)]
    """
    schema = frame.collect_schema()
    kind = table_kind(schema)
    require_columns(schema, keys, where=where)
    if kind == "raw":
        lf = frame.lazy()
        if sign is not None:
            require_columns(schema, [sign], where=where)
            require_numeric(schema, sign, where=where)
            lf = lf.with_columns(pl.col(*values) * pl.col(sign))
        try:
            return finalize(summarize(lf, list(keys), list(values), cluster=cluster)).collect()
        except DataError as exc:  # raised when collected: name the figure that asked
            msg = f"{where}: {exc}"
            raise DataError(msg) from exc
    if cluster is not None and not isinstance(cluster, str):
        msg = (
            f"{where}: cluster={cluster!r} clusters raw rows, but this is a {kind} table, already "
            "summarized: pass cluster= to vf.summarize (here a name only labels the table's clusters)"
        )
        raise VizflowError(msg)
    if sign is not None:
        msg = (
            f"{where}: sign={sign!r} needs raw rows, but this is a {kind} table: multiply the returns "
            f"by {sign!r} before vf.summarize (e.g. pl.col('return_60') * pl.col({sign!r}))"
        )
        raise VizflowError(msg)
    if kind == "partial":
        return combined(frame, list(keys))
    table = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    cells = table.select(keys).n_unique() if keys else min(table.height, 1)
    if cells < table.height:
        extra = [c for c in table.columns if c not in keys and _is_key(c, schema)]
        msg = (
            f"{where}: the finalized table holds {table.height} rows for {cells} cell(s) of {list(keys)} "
            f"(it is also keyed by {extra}); expected one row per cell: "
            f"vf.finalize(vf.combine(partials, by={list(keys)}))"
        )
        raise VizflowError(msg)
    return table


def combined(
    partial: pl.DataFrame | pl.LazyFrame, keys: list[str], *, date_col: str = "date"
) -> pl.DataFrame:
    """Finalize a partial table combined by ``keys``, never counting one cluster twice.

    Cells cut by keys that ``keys`` drops may hold the same cluster (the size terciles of one
    date): combined as they are, each would count as a cluster of its own and the standard error
    would come out too small. When the table is keyed by ``date_col`` and each row holds one
    cluster, the rows of a date pool into one cluster (``combine(..., cluster=date_col)``);
    otherwise ``{v}_se``, ``{v}_t`` and ``{v}_clusters`` are withheld (null), so no band is drawn.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> rows = pl.DataFrame({"date": [1, 1, 2, 2, 3, 3], "size": [0, 1] * 3, "r": [1.0, 2, 3, 5, 4, 4]})
    >>> part = vf.summarize(rows, ["date", "size"], "r")  # one cluster (date) per row
    >>> combined(part, [])["r_clusters"].to_list()  # 3 dates, not 6 cells
    [3]
    >>> combined(part.drop("date"), [])["r_clusters"].to_list()  # cannot tell: withheld
    [None]
    """
    schema = partial.collect_schema()
    structs = [c for c, d in schema.items() if isinstance(d, pl.Struct)]
    table_keys = [c for c in schema.names() if c not in structs and c not in ("n", "weight")]
    lf = partial.lazy()
    if all(k in keys for k in table_keys):
        return finalize(combine(lf, by=keys)).collect()
    if date_col in table_keys:
        try:
            return finalize(combine(lf, by=keys, cluster=date_col)).collect()
        except DataError:  # a row holds several clusters (summarized with finer clusters)
            pass
    final = finalize(combine(lf, by=keys)).collect()
    withheld = [pl.lit(None, pl.Float64).alias(f"{v}_{s}") for v in structs for s in ("se", "t")]
    return final.with_columns(*withheld, *(pl.lit(None, pl.Int64).alias(f"{v}_clusters") for v in structs))


def _is_key(column: str, schema: pl.Schema) -> bool:
    stats = {f"{v}_{s}" for v in _final_values(schema) for s in STATISTICS}
    return column not in ("n", "weight") and column not in stats


def horizon_of(column: str, prefix: str, *, where: str) -> float | None:
    """Return the horizon in seconds of a ``{prefix}{h}`` column; ``None`` for ``{prefix}close``.

    A duration suffix is read in seconds, as ``forward_return`` reads it on the session clock.

    >>> horizon_of("return_-5", "return_", where="demo"), horizon_of("return_close", "return_", where="demo")
    (-5.0, None)
    >>> horizon_of("return_1m", "return_", where="demo"), horizon_of("return_500ms", "return_", where="demo")
    (60.0, 0.5)
    """
    rest = column.removeprefix(prefix)
    if rest == CLOSE:
        return None
    value = seconds_of(rest)
    if not math.isfinite(value):
        msg = (
            f"{where}: column {column!r} does not end in a horizon after {prefix!r}; expected a number of "
            f"seconds ({prefix}60, {prefix}-5), a duration ({prefix}1m) or {prefix}{CLOSE}"
        )
        raise SchemaError(msg)
    return value
