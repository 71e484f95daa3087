"""Key columns: naming them, and refusing frames whose dates the keys would mix.

A per-key pass (forward returns, running tags, FIFO) over a frame that holds several trading
days, keyed by symbol alone, silently chains one day's last print to the next day's first: a
10 s return at 14:59:55 reads the next morning's price. What must hold is that **no key group
spans two dates**; :func:`check_dates_in_keys` checks exactly that (per group, not whether a
column named like a date is among the keys) and shows a fix that passes the same check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    """List the columns whose dates :func:`check_dates_in_keys` reads.

    They are ``date_col`` (the trading date, any dtype) and every ``pl.Date`` column; Datetime
    columns (by their calendar day in their own time zone) only when the frame has no
    ``date_col``, which otherwise is the authority (a night session's rows carry the next
    trading date across midnight). Keys and the time column are left out: a key is constant
    within its group, and an absolute time orders rows across days correctly. A plan node that
    runs the check at ``collect()`` time must carry these columns (and the keys).

    Examples
    --------
    >>> date_columns(pl.Schema({"date": pl.String, "d": pl.Date, "symbol": pl.Int64}), ["symbol"])
    ['date', 'd']
    >>> date_columns(pl.Schema({"ts": pl.Datetime("us", "UTC"), "symbol": pl.Int64}), ["symbol"])
    ['ts']
    """
    has_date = date_col in schema
    return [
        c
        for c, dtype in schema.items()
        if c not in keys
        and c != time_col
        and (c == date_col or dtype == pl.Date or (isinstance(dtype, pl.Datetime) and not has_date))
    ]


def check_dates_in_keys(
    frame: pl.DataFrame | pl.LazyFrame,
    keys: Sequence[str],
    *,
    where: str,
    date_col: str = "date",
    time_col: str | None = None,
) -> None:
    """Raise :class:`DataError` when one key group of ``frame`` holds rows of several dates.

    The dates are read from the columns :func:`date_columns` lists (``date_col``, Date
    columns, and Datetime columns by calendar day when there is no ``date_col``). With no keys
    the whole frame is one group. The message names the column, a group that spans several
    dates and keys that pass this same check (adding the date to the keys, derived from a
    Datetime with ``.dt.date()`` when there is no date column).

    Parameters
    ----------
    frame
        The rows a per-key pass will read (a LazyFrame is collected now, its keys and date
        columns only: use :func:`guard_dates_in_keys` to check at ``collect()`` time).
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
        Naming the column, how many dates the group holds and the keys to use instead.

    Examples
    --------
    >>> two_days = pl.DataFrame({"date": ["20240102", "20240103"], "symbol": ["A", "A"]})
    >>> check_dates_in_keys(two_days, ["date", "symbol"], where="demo")
    >>> check_dates_in_keys(two_days, ["symbol"], where="demo")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.DataError: demo: column 'date' holds 2 dates (20240102 .. 20240103) in ...
    >>> one_date_each = pl.DataFrame({"date": ["20240102", "20240103"], "symbol": ["A", "B"]})
    >>> check_dates_in_keys(one_date_each, ["symbol"], where="demo")  # no group spans two dates
    """
    schema = frame.collect_schema()
    candidates = date_columns(schema, keys, date_col=date_col, time_col=time_col)
    if not candidates:
        return
    rows = frame.lazy().select([*keys, *candidates]).collect() if isinstance(frame, pl.LazyFrame) else frame
    _raise_if_mixed(rows, schema, candidates, keys, where=where, date_col=date_col)


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
    nothing before ``collect()``; the filter reads only the keys and the date columns.

    Parameters
    ----------
    frame
        The rows to check, DataFrame or LazyFrame.
    keys
        The key columns of the pass.
    where
        The operation, for the message.
    date_col
        The name of the trading-date column.
    time_col
        The pass's time column, exempt from the check.

    Examples
    --------
    >>> two_days = pl.LazyFrame({"date": ["20240102", "20240103"], "x": [1, 2]})
    >>> chain = guard_dates_in_keys(two_days, [], where="demo")  # nothing is read yet
    >>> chain.collect()
    Traceback (most recent call last):
    ...
    vizflow.exceptions.DataError: demo: column 'date' holds 2 dates (20240102 .. 20240103) in ...
    """
    if isinstance(frame, pl.DataFrame):
        check_dates_in_keys(frame, keys, where=where, date_col=date_col, time_col=time_col)
        return frame
    schema = frame.collect_schema()
    candidates: list[str] = date_columns(schema, keys, date_col=date_col, time_col=time_col)
    if not candidates:
        return frame
    columns = [*keys, *candidates]

    def check(packed: pl.Series) -> pl.Series:
        rows = (
            packed[0].struct.unnest()
            if packed.len()
            else pl.DataFrame(schema={c: schema[c] for c in columns})
        )
        _raise_if_mixed(rows, schema, candidates, keys, where=where, date_col=date_col)
        return pl.Series([True])

    # implode() makes the check one aggregate over all rows, never a batch at a time.
    whole = pl.struct(columns).implode()
    guard = whole.map_batches(check, return_dtype=pl.Boolean, returns_scalar=True)
    return frame.filter(guard)


def _day(schema: pl.Schema, column: str) -> pl.Expr:
    """Return the date a row of ``column`` falls on (a Datetime's calendar day in its own time zone)."""
    day = pl.col(column).dt.date() if isinstance(schema[column], pl.Datetime) else pl.col(column)
    return day.drop_nulls()


def _raise_if_mixed(
    rows: pl.DataFrame,
    schema: pl.Schema,
    candidates: Sequence[str],
    keys: Sequence[str],
    *,
    where: str,
    date_col: str,
) -> None:
    for c in candidates:
        day = _day(schema, c)
        if rows.select(day.n_unique()).item() <= 1:  # the common case: one date, no grouping needed
            continue
        stats = [
            day.n_unique().alias("n"),
            day.min().cast(pl.String).alias("lo"),
            day.max().cast(pl.String).alias("hi"),
        ]
        if keys:
            spans = rows.lazy().group_by(keys).agg(stats).filter(pl.col("n") > 1).head(1).collect()
            if spans.height == 0:
                continue
            found = spans.row(0, named=True)
            group = ", ".join(f"{k}={found[k]!r}" for k in keys)
            within = f"in the key group ({group})"
        else:
            found = rows.select(stats).row(0, named=True)
            within = "in the one group a key list of [] makes"
        if c == date_col or schema[c] == pl.Date:
            fix, derive = [c, *keys], ""
        else:  # a Datetime is read only when there is no date_col: derive one under that name
            fix, derive = [date_col, *keys], f" after adding {date_col}=pl.col({c!r}).dt.date()"
        msg = (
            f"{where}: column {c!r} holds {found['n']} dates ({found['lo']} .. {found['hi']}) {within}, "
            f"so rows of different days would be chained together; key by {fix}{derive} "
            "(or run one date at a time)"
        )
        raise DataError(msg)
