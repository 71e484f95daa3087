"""The information coefficient: per-date rank correlation of a signal with forward returns.

:func:`rank_ic` turns one date (or each ``by`` cell) into one row of Spearman correlations;
those rows are the summable unit of a year. :func:`ic_summary` reduces any table of them (for
example ``vf.scan`` of a batch's per-date outputs) to the mean IC, its t-statistic and its
information ratio across dates, through :func:`~vizflow.summarize` and :func:`~vizflow.finalize`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from vizflow._frames import same_kind
from vizflow._keys import as_keys, guard_dates_in_keys
from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import SchemaError, VizflowError
from vizflow.ops.summary import finalize, summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT

__all__ = ["ic_summary", "rank_ic"]

_MIN_PAIRS = 2


def _present(column: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(column).fill_nan(None) if dtype.is_float() else pl.col(column)


def rank_ic(
    frame: FrameT,
    signal: str,
    returns: str | Sequence[str],
    by: str | Sequence[str] | None = None,
) -> FrameT:
    """Spearman rank correlation of ``signal`` with each return, one row per ``by`` cell.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame; in a per-date pipeline, one date.
    signal
        The numeric signal column.
    returns
        The numeric forward-return column(s), e.g. ``["return_10", "return_60"]``.
    by
        Cell column(s); default none (the whole frame, one date, is one cell). A frame holding
        several dates must have its date column among them (``by="date"``).

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame``, one row per cell sorted by the keys (nulls first): the keys,
        then per return ``r``: ``{r}_n`` (Int64, the rows where both the signal and ``r`` are
        present) and ``{r}_ic`` (Float64). The IC is null for fewer than 2 pairs or a constant
        signal or return.

    Raises
    ------
    ColumnNotFoundError
        For a signal, return or key column not in the frame.
    SchemaError
        For a non-numeric signal or return.
    VizflowError
        For no returns, or the signal among them.
    DataError
        For a frame that spans several dates none of the ``by`` columns separates.

    Notes
    -----
    Per cell and return: drop the rows where the signal or the return is null or NaN, rank both
    (ties get their average rank, as ``scipy.stats.spearmanr`` does) and take the Pearson
    correlation of the ranks. One ``group_by``; the check for several dates collects two
    numbers per date-like column.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame(
    ...     {
    ...         "date": ["d1"] * 4 + ["d2"] * 3,
    ...         "imbalance": [0.1, 0.5, 0.2, 0.9, 0.3, 0.1, 0.2],
    ...         "return_60": [1.0, 3.0, 2.0, None, -1.0, 2.0, 0.5],
    ...     }
    ... )
    >>> vf.rank_ic(df, "imbalance", "return_60", by="date")
    shape: (2, 3)
    ┌──────┬─────────────┬──────────────┐
    │ date ┆ return_60_n ┆ return_60_ic │
    │ ---  ┆ ---         ┆ ---          │
    │ str  ┆ i64         ┆ f64          │
    ╞══════╪═════════════╪══════════════╡
    │ d1   ┆ 3           ┆ 1.0          │
    │ d2   ┆ 3           ┆ -1.0         │
    └──────┴─────────────┴──────────────┘
    """
    keys: list[str] = as_keys(by, where="rank_ic", name="by")
    names: list[str] = as_keys(returns, where="rank_ic", name="returns")
    if not names:
        msg = "rank_ic: returns is empty; expected one or more forward-return columns"
        raise VizflowError(msg)
    if signal in names:
        msg = f"rank_ic: column {signal!r} is both the signal and a return; expected distinct columns"
        raise VizflowError(msg)
    schema = frame.collect_schema()
    require_columns(schema, [signal, *names, *keys], where="rank_ic")
    for column in (signal, *names):
        require_numeric(schema, column, where="rank_ic")
    frame = guard_dates_in_keys(frame, keys, where="rank_ic")  # on a LazyFrame: at collect() time
    x = _present(signal, schema[signal])
    exprs = []
    for column in names:
        y = _present(column, schema[column])
        both = x.is_not_null() & y.is_not_null()
        pairs = both.sum().cast(pl.Int64)
        ic = pl.corr(x.filter(both).rank("average"), y.filter(both).rank("average"))
        exprs += [
            pairs.alias(f"{column}_n"),
            pl.when(pairs >= _MIN_PAIRS).then(ic.fill_nan(None)).alias(f"{column}_ic"),
        ]
    lf = frame.lazy()
    result = lf.group_by(keys).agg(exprs).sort(keys, nulls_last=False) if keys else lf.select(exprs)
    return same_kind(frame, result)


def ic_summary(ics: FrameT, by: str | Sequence[str] | None = None) -> FrameT:
    """Mean IC, its spread, standard error, t-statistic and information ratio across dates.

    Parameters
    ----------
    ics
        Rows of :func:`rank_ic`, one per date (and cell): e.g. ``rank_ic(frame, ..., by="date")``
        or ``vf.scan("out/*.parquet")`` of a batch whose pipeline ended in :func:`rank_ic`.
        Every column ``{r}_ic`` is summarized.
    by
        Key column(s) to summarize within (e.g. ``"symbol"`` for a per-symbol IC); default none:
        all rows together.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``ics``, one row per ``by`` cell: the keys, ``n`` (rows, i.e. dates), then
        per return ``r``: ``{r}_ic_n`` (dates with an IC), ``{r}_ic_mean``, ``{r}_ic_std`` (across
        dates), ``{r}_ic_se``, ``{r}_ic_t`` (``mean / se``) and ``{r}_ic_ir`` (the information
        ratio ``mean / std``, per date: multiply by ``sqrt(dates per year)`` to annualise).

    Raises
    ------
    ColumnNotFoundError
        For a key not in ``ics``.
    SchemaError
        For a table without any ``*_ic`` column.

    Notes
    -----
    ``finalize(summarize(ics, by, ic columns))`` with the formulas of :func:`~vizflow.finalize`
    (each date weighs the same), plus the ratio. Each row is one date's IC: the standard error
    is clustered by ``date`` when the table has it, else each row is a cluster of its own; with
    one row per date both equal ``std / sqrt(dates)``. The per-date rows are themselves summable: the
    partials of several years :func:`~vizflow.combine` exactly.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> ics = pl.DataFrame({"date": ["d1", "d2", "d3"], "return_60_ic": [0.02, 0.04, 0.03]})
    >>> vf.ic_summary(ics).select("n", "return_60_ic_mean", "return_60_ic_t", "return_60_ic_ir")
    shape: (1, 4)
    ┌─────┬───────────────────┬────────────────┬─────────────────┐
    │ n   ┆ return_60_ic_mean ┆ return_60_ic_t ┆ return_60_ic_ir │
    │ --- ┆ ---               ┆ ---            ┆ ---             │
    │ i64 ┆ f64               ┆ f64            ┆ f64             │
    ╞═════╪═══════════════════╪════════════════╪═════════════════╡
    │ 3   ┆ 0.03              ┆ 5.196152       ┆ 3.0             │
    └─────┴───────────────────┴────────────────┴─────────────────┘
    """
    schema = ics.collect_schema()
    columns = [c for c in schema.names() if c.endswith("_ic")]
    if not columns:
        msg = f"ic_summary: no '*_ic' column in {schema.names()}; expected the output of vf.rank_ic"
        raise SchemaError(msg)
    keys: list[str] = as_keys(by, where="ic_summary", name="by")
    # Each row is one date's IC, an independent draw across dates: cluster by the date column when
    # there is one (one cluster per date in a cell), else each row is a cluster of its own.
    cluster = None if "date" in schema else pl.int_range(pl.len())
    final = finalize(summarize(ics.lazy(), keys, columns, cluster=cluster))
    exprs: list[pl.Expr | str] = [*keys, "n"]
    for c in columns:
        exprs += [f"{c}_{stat}" for stat in ("n", "mean", "std", "se", "t")]
        ratio = pl.when(pl.col(f"{c}_std") > 0).then(pl.col(f"{c}_mean") / pl.col(f"{c}_std"))
        exprs.append(ratio.alias(f"{c}_ir"))
    result = final.select(exprs)
    return same_kind(ics, result)
