"""Calendar files: a list of sessions or of holidays, as CSV (with an optional span line) or parquet."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from vizflow.calendar.builders import from_holidays
from vizflow.calendar.days import valid_days
from vizflow.calendar.model import Calendar, from_days
from vizflow.dates import checked_date
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["load"]

SESSION_COLUMNS = ("date", "session")
"""Header names of a sessions file's column (``date`` is the older name)."""

HOLIDAY_COLUMN = "holiday"
"""Header name of a holidays file's column."""

_Span = tuple[str | None, str | None]


def load(path: str | PathLike[str]) -> Calendar:
    r"""Load a calendar file: CSV or parquet, one trading date (or one holiday) per row.

    **The header says what the file lists.** A column ``session`` (or ``date``, or no header
    at all) lists the trading days; a column ``holiday`` lists the closures on weekdays, as an
    exchange announces them, and the sessions are the span's Monday-to-Friday dates minus them
    (:func:`~vizflow.calendar.from_holidays`; for another week use that function).

    **The span** is the dates the file is complete for. A CSV states it in a comment line
    ``# span: START..END`` (the shipped XSHG file has one); a holidays file must, since its first
    and last holiday are not its first and last day. Without it a sessions file spans its first
    to its last date. Blank lines, CRLF line ends and a UTF-8 byte-order mark are ignored, and
    lines starting with ``#`` are comments. Parquet holds sessions only (a ``date`` or
    ``session`` column: String or integer ``YYYYMMDD``, or Date).

    Parameters
    ----------
    path
        The ``.csv`` or ``.parquet`` file.

    Returns
    -------
    Calendar
        The calendar, as :func:`~vizflow.calendar.generate` (or ``from_holidays``) builds it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    VizflowError
        For another extension, a file that is not UTF-8, no ``date``, ``session`` or ``holiday``
        column, a holidays file without a span line (or in parquet), a malformed date (named with
        its position) or span line, or no dates.
    DataError
        For an empty date in a row (e.g. a null in parquet).

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cal.csv").write_text("# span: 20240101..20240105\n20240102\n20240103\n")
    >>> vf.calendar.load(folder / "cal.csv")
    Calendar(20240101..20240105, 2 sessions)
    >>> _ = (folder / "xshg_2027.csv").write_text("# span: 20270101..20270110\nholiday\n20270101\n")
    >>> vf.calendar.load(folder / "xshg_2027.csv").days
    ('20270104', '20270105', '20270106', '20270107', '20270108')
    """
    path = Path(path)
    where = f"calendar.load: {str(path)!r}"
    if not path.is_file():
        msg = f"calendar.load: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    suffix = path.suffix.lower()
    span: _Span = (None, None)
    if suffix == ".csv":
        frame, span = _read_csv(path, where=where)
    elif suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        msg = f"calendar.load: {str(path)!r} is neither .csv nor .parquet"
        raise VizflowError(msg)
    column = _column(frame, where=where)
    days = valid_days(frame.get_column(column), where=where)
    if column != HOLIDAY_COLUMN:
        return from_days(days, *span, where=where)
    lo, hi = span
    if lo is None or hi is None:
        how = "add a line" if suffix == ".csv" else "write it as CSV with a line"
        msg = (
            f"{where} lists holidays, so it needs the span they are complete for: {how} "
            "'# span: YYYYMMDD..YYYYMMDD' (e.g. '# span: 20270101..20271231')"
        )
        raise VizflowError(msg)
    try:
        return from_holidays(days, lo, hi)
    except VizflowError as exc:
        msg = f"{where}: {str(exc).removeprefix('calendar.from_holidays: ')}"
        raise VizflowError(msg) from None


def _column(frame: pl.DataFrame, *, where: str) -> str:
    """Return the frame's column of dates: one of ``date``/``session`` (sessions) or ``holiday``."""
    found = [c for c in (*SESSION_COLUMNS, HOLIDAY_COLUMN) if c in frame.columns]
    if len(found) == 1:
        return found[0]
    what = (
        "no 'date' column (nor 'session' or 'holiday')" if not found else f"more than one date column {found}"
    )
    msg = (
        f"{where} has {what}; columns: {frame.columns}. A sessions file has a 'session' (or "
        "'date') column or no header; a holidays file a 'holiday' column"
    )
    raise VizflowError(msg)


def _read_csv(path: Path, *, where: str) -> tuple[pl.DataFrame, _Span]:
    """Read the CSV's rows (no comments or blank lines) and its ``# span:`` (or ``(None, None)``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise VizflowError(msg) from None
    lines = [line.strip() for line in text.splitlines()]
    span: _Span = (None, None)
    for line in lines:
        key, _, value = line.lstrip("#").partition(":")
        if line.startswith("#") and key.strip().lower() == "span":
            lo, sep, hi = value.strip().partition("..")
            if not sep:
                msg = f"{where}: span line {line!r}; expected '# span: YYYYMMDD..YYYYMMDD'"
                raise VizflowError(msg)
            span = (
                checked_date(lo.strip(), where=f"{where} span"),
                checked_date(hi.strip(), where=f"{where} span"),
            )
    rows = [line for line in lines if line and not line.startswith("#")]
    if not rows:
        return pl.DataFrame({"date": []}, schema={"date": pl.String}), span
    has_header = not rows[0].isdigit()
    frame = pl.read_csv(io.StringIO("\n".join(rows)), has_header=has_header, infer_schema=False)
    return (frame if has_header else frame.rename({frame.columns[0]: "date"})), span
