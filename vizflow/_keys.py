"""Key columns: naming them, and refusing frames whose dates the keys would mix.

A per-key pass (forward returns, running tags, FIFO) over a frame that holds several trading
days, keyed by symbol alone, silently chains one day's last print to the next day's first: a
10 s return at 14:59:55 reads the next morning's price. :func:`check_dates_in_keys` turns that
into an error that shows the fix (put the date among the keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from vizflow.exceptions import DataError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import FrameT

__all__ = ["as_keys", "check_dates_in_keys", "date_columns", "guard_dates_in_keys"]


def as_keys(keys: str | Sequence[str] | None, *, where: str, name: str) -> list[str]:
    """Key column names as a list: one name, a list or tuple of names, or ``None`` (no key).

    Examples
    --------
    >>> as_keys("symbol", where="demo", name="by"), as_keys(["date", "symbol"], where="demo", name="by")
    (['symbol'], ['date', 'symbol'])
    """
    if keys is None:
        return []
    values = [keys] if isinstance(keys, str) else list(keys) if isinstance(keys, list | tuple) else None
    if values is None or not all(isinstance(k, str) for k in values):
        msg = f"{where}: {name}={keys!r}; expected a column name or a list of column names"
        raise VizflowError(msg)
    duplicates = sorted({k for k in values if values.count(k) > 1})
    if duplicates:
        msg = f"{where}: {name} names {duplicates} more than once"
        raise VizflowError(msg)
    return values


def date_columns(
    schema: pl.Schema, keys: Sequence[str], *, date_col: str = "date", time_col: str | None = None
) -> list[str]:
    """List the columns :func:`check_dates_in_keys` reads: ``date_col``, Date and Datetime columns.

    Keys and the time column are left out. A plan node that runs the check at ``collect()`` time
    must carry these columns.

    Examples
    --------
    >>> date_columns(pl.Schema({"date": pl.String, "d": pl.Date, "symbol": pl.Int64}), ["symbol"])
    ['date', 'd']
    """
    return [
        c
        for c, dtype in schema.items()
        if c not in keys
        and c != time_col
        and (c == date_col or dtype == pl.Date or isinstance(dtype, pl.Datetime))
    ]


def check_dates_in_keys(
    frame: pl.DataFrame | pl.LazyFrame,
    keys: Sequence[str],
    *,
    where: str,
    date_col: str = "date",
    time_col: str | None = None,
) -> None:
    """Raise :class:`DataError` when ``frame`` spans several dates that ``keys`` would mix.

    A frame spans several dates when it has a column ``date_col`` with more than one distinct
    value, a ``pl.Date`` column with more than one, or a ``pl.Datetime`` column whose values fall
    on more than one calendar day (in its own time zone). Such a column must be among ``keys``
    (a Datetime can be keyed through a date column derived from it). ``time_col`` (the column a
    pass orders by) is exempt: an absolute time orders rows across days correctly.

    Parameters
    ----------
    frame
        The rows a per-key pass will read (a LazyFrame is collected now for the check's three
        numbers per column: use :func:`guard_dates_in_keys` to check at ``collect()`` time).
    keys
        The key columns of the pass (e.g. ``["symbol"]``).
    where
        The operation, for the message.
    date_col
        The name of the trading-date column (``Config.columns["date"]``).
    time_col
        The pass's time column, exempt from the check.

    Raises
    ------
    DataError
        Naming the column, how many dates it holds and the keys to use instead.

    Examples
    --------
    >>> two_days = pl.DataFrame({"date": ["20240102", "20240103"], "symbol": ["A", "A"]})
    >>> check_dates_in_keys(two_days, ["date", "symbol"], where="demo")
    >>> check_dates_in_keys(two_days, ["symbol"], where="demo")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.DataError: demo: column 'date' holds 2 dates (20240102 .. 20240103) but ...
    """
    schema = frame.collect_schema()
    candidates = date_columns(schema, keys, date_col=date_col, time_col=time_col)
    if candidates:
        found = frame.lazy().select(_date_stats(schema, candidates)).collect().item()
        _raise_if_mixed(found, schema, candidates, keys, where=where, date_col=date_col)


def guard_dates_in_keys(
    frame: FrameT,
    keys: Sequence[str],
    *,
    where: str,
    date_col: str = "date",
    time_col: str | None = None,
) -> FrameT:
    """Return ``frame`` after :func:`check_dates_in_keys`; on a LazyFrame the check is a plan step.

    A DataFrame is checked now. A LazyFrame gets a filter that keeps every row and raises the
    same :class:`DataError` at ``collect()`` time (any engine), so a chain built on a scan reads
    nothing before ``collect()``; the filter reads only the date columns.

    Examples
    --------
    >>> two_days = pl.LazyFrame({"date": ["20240102", "20240103"], "x": [1, 2]})
    >>> chain = guard_dates_in_keys(two_days, [], where="demo")  # nothing is read yet
    >>> chain.collect()
    Traceback (most recent call last):
    ...
    vizflow.exceptions.DataError: demo: column 'date' holds 2 dates (20240102 .. 20240103) but ...
    """
    if isinstance(frame, pl.DataFrame):
        check_dates_in_keys(frame, keys, where=where, date_col=date_col, time_col=time_col)
        return frame
    schema = frame.collect_schema()
    candidates = date_columns(schema, keys, date_col=date_col, time_col=time_col)
    if not candidates:
        return frame

    def check(stats: pl.Series) -> pl.Series:
        _raise_if_mixed(stats[0], schema, candidates, keys, where=where, date_col=date_col)
        return pl.Series([True])

    guard = _date_stats(schema, candidates).map_batches(check, return_dtype=pl.Boolean, returns_scalar=True)
    return frame.filter(guard)


def _date_stats(schema: pl.Schema, candidates: Sequence[str]) -> pl.Expr:
    """One struct of ``{n, lo, hi}`` per candidate column (distinct days, first and last)."""
    days = [pl.col(c).dt.date() if isinstance(schema[c], pl.Datetime) else pl.col(c) for c in candidates]
    return pl.struct(
        pl.struct(
            n=e.drop_nulls().n_unique(),
            lo=e.drop_nulls().min().cast(pl.String),
            hi=e.drop_nulls().max().cast(pl.String),
        ).alias(str(i))
        for i, e in enumerate(days)
    )


def _raise_if_mixed(
    stats: dict[str, dict[str, Any]],
    schema: pl.Schema,
    candidates: Sequence[str],
    keys: Sequence[str],
    *,
    where: str,
    date_col: str,
) -> None:
    for i, c in enumerate(candidates):
        found = stats[str(i)]
        if found["n"] > 1:
            fix = [c, *keys] if c == date_col or schema[c] == pl.Date else ["date", *keys]
            derive = (
                f" after adding date=pl.col({c!r}).dt.date()" if isinstance(schema[c], pl.Datetime) else ""
            )
            msg = (
                f"{where}: column {c!r} holds {found['n']} dates ({found['lo']} .. {found['hi']}) "
                f"but the keys {list(keys)} do not include it, so rows of different days would be "
                f"chained together; key by {fix}{derive} (or run one date at a time)"
            )
            raise DataError(msg)
