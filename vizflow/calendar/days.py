"""Lists of trading dates, checked: a column or a list of values to sorted ``"YYYYMMDD"`` strings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from vizflow.dates import format_date
from vizflow.exceptions import DataError, SchemaError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vizflow._typing import DateLike

__all__ = ["date_texts", "valid_days"]


def valid_days(column: pl.Series, *, where: str) -> list[str]:
    """``column`` (String/integer ``YYYYMMDD``, Date or Datetime) as checked ``YYYYMMDD`` strings.

    Parameters
    ----------
    column
        The dates, in any order.
    where
        The operation, named in errors.

    Returns
    -------
    list of str
        ``"YYYYMMDD"``, in the column's order.

    Raises
    ------
    DataError
        For a null (named with its row).
    SchemaError
        For another dtype.
    VizflowError
        For a malformed date (named with its position).

    Examples
    --------
    >>> import polars as pl
    >>> valid_days(pl.Series([20240103, 20240102]), where="here")
    ['20240103', '20240102']
    """
    if column.null_count():
        msg = (
            f"{where}: the 'date' column has {column.null_count()} null(s), first at row "
            f"{column.is_null().arg_max()}; a calendar lists trading days only"
        )
        raise DataError(msg)
    dtype = column.dtype
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y%m%d").to_list()
    if not (dtype.is_integer() or dtype == pl.String):
        msg = (
            f"{where}: the 'date' column has dtype {dtype}; "
            "expected String or integer YYYYMMDD, Date or Datetime"
        )
        raise SchemaError(msg)
    text = column.cast(pl.String)
    if dtype == pl.String:
        text = text.str.strip_chars()
    ok = text.str.contains(r"^\d{8}$") & text.str.to_date("%Y%m%d", strict=False).is_not_null()
    malformed = (~ok.fill_null(False)).arg_true()
    if len(malformed):
        i = int(malformed[0])
        raise_malformed(column[i], i, where)
    return text.to_list()


def date_texts(dates: Iterable[DateLike], *, where: str) -> list[str]:
    """``dates`` (``"YYYYMMDD"`` strings or :class:`datetime.date`) as checked strings, in order.

    Parameters
    ----------
    dates
        The dates; a :class:`polars.Series` may also hold integer ``YYYYMMDD`` values (a column
        read from a file), as :func:`valid_days` reads it.
    where
        The operation, named in errors.

    Returns
    -------
    list of str
        ``"YYYYMMDD"``.

    Raises
    ------
    VizflowError
        For a malformed date, named with its position.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> date_texts([dt.date(2024, 1, 2), "20240103"], where="here")
    ['20240102', '20240103']
    >>> date_texts(pl.Series([20240104]), where="here")
    ['20240104']
    """
    if isinstance(dates, pl.Series):
        return valid_days(dates, where=where)
    texts = [d.strftime("%Y%m%d") if isinstance(d, dt.date) else d for d in dates]
    bad = next((i for i, v in enumerate(texts) if not isinstance(v, str)), None)
    if bad is not None:
        raise_malformed(texts[bad], bad, where)
    return valid_days(pl.Series(texts, dtype=pl.String), where=where)


def raise_malformed(value: object, position: int, where: str) -> None:
    """Raise the error for the malformed date ``value`` at ``position``.

    Parameters
    ----------
    value
        The value.
    position
        Its position in the list or column.
    where
        The operation.

    Raises
    ------
    VizflowError
        Always, e.g. ``where: date #1 malformed date '2024-01-03'; expected ...``.

    Examples
    --------
    >>> raise_malformed(None, 1, "here")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.VizflowError: here: date #1 malformed date None; expected a 'YYYYMMDD' string ...
    """
    try:
        format_date(value)  # type: ignore[arg-type]
    except VizflowError as exc:
        msg = f"{where}: date #{position} {exc}"
        raise VizflowError(msg) from None
    msg = f"{where}: date #{position} malformed date {value!r}"  # e.g. a non-string in a list
    raise VizflowError(msg)
