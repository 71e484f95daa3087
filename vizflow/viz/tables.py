"""Tables for the HTML report: a frame, a caption and how each column is written.

Numbers are right-aligned with thousands separators (integers ``12,345``, floats ``1,234.57`` unless
a column says otherwise), a null is an en dash, and the last ``totals`` rows go in the table's
footer. :func:`vizflow.viz.write_report` draws a :class:`Table` wherever it meets one among its
figures.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vizflow.exceptions import ColumnNotFoundError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import polars as pl

__all__ = ["TABLE_CSS", "Table", "text"]

TABLE_CSS = (
    "figure.vf{margin:0.5em 0 1.5em}"
    "figure.vf figcaption{color:#333;font-size:90%;line-height:1.4;margin-bottom:0.6em}"
    "figure.vf figcaption p{margin:0 0 0.3em}"
    "table.vf{border-collapse:collapse;font-variant-numeric:tabular-nums}"
    "table.vf th,table.vf td{padding:3px 10px;border-bottom:1px solid #ddd;white-space:nowrap}"
    "table.vf th{border-bottom:2px solid #888;text-align:left}"
    "table.vf .num{text-align:right}"
    "table.vf tfoot td{border-top:2px solid #888;font-weight:bold}"
)
"""The report's style for every table (class ``vf``)."""

NULL = "\u2013"
"""How a null or NaN cell is written (an en dash)."""


def text(value: str) -> str:
    """Escape ``value`` for HTML, with every non-ASCII character as a numeric reference.

    >>> text("a < b \u2013 c")
    'a &lt; b &#8211; c'
    """
    return html.escape(value).encode("ascii", "xmlcharrefreplace").decode("ascii")


@dataclass(frozen=True)
class Table:
    """A table of the report: ``frame``'s rows under a caption of what it shows and what its columns mean.

    Parameters
    ----------
    frame
        The rows, in order; its columns are the table's columns.
    caption
        What the table shows (plain text, escaped).
    meanings
        Column -> what it means (plain text), listed under the caption by the column's header.
    headers
        Column -> the header written above it (default: the column's name).
    formats
        Column -> a format spec for its numbers (``"+,.2f"``); default ``","`` for integers and
        ``",.2f"`` for floats.
    totals
        How many of the last rows are totals (drawn in the footer).

    Examples
    --------
    >>> import polars as pl
    >>> from vizflow.viz.tables import Table
    >>> frame = pl.DataFrame({"symbol": ["A", "all"], "trades": [12345, 12345], "bp": [1.5, None]})
    >>> meanings = {"trades": "prints", "bp": "their cost"}
    >>> print(Table(frame, "Trades & their cost.", meanings, formats={"bp": "+.1f"}, totals=1).to_html())
    <figure class="vf"><figcaption><p>Trades &amp; their cost.</p>
    <p><b>trades</b>: prints; <b>bp</b>: their cost.</p></figcaption>
    <table class="vf">
    <thead><tr><th>symbol</th><th class="num">trades</th><th class="num">bp</th></tr></thead>
    <tbody><tr><td>A</td><td class="num">12,345</td><td class="num">+1.5</td></tr></tbody>
    <tfoot><tr><td>all</td><td class="num">12,345</td><td class="num">&#8211;</td></tr></tfoot>
    </table></figure>
    """

    frame: pl.DataFrame
    caption: str
    meanings: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    totals: int = 0

    def __post_init__(self) -> None:
        """Refuse a meaning, header or format for a column the frame does not have."""
        for what, named in (
            ("meanings", self.meanings),
            ("headers", self.headers),
            ("formats", self.formats),
        ):
            unknown = [c for c in named if c not in self.frame.columns]
            if unknown:
                raise ColumnNotFoundError.missing(unknown, self.frame.columns, where=f"Table ({what})")
        if not 0 <= self.totals <= self.frame.height:
            msg = f"Table: totals={self.totals!r}; expected 0 to the frame's {self.frame.height} rows"
            raise VizflowError(msg)

    def cell(self, column: str, value: object) -> str:
        """Write one cell's text: the column's format, or thousands separators; a null is an en dash."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NULL
        dtype = self.frame.schema[column]
        if column in self.formats:
            return format(value, self.formats[column])
        if dtype.is_integer():
            return format(value, ",")
        if dtype.is_float():
            return format(value, ",.2f")
        return str(value)

    def to_html(self) -> str:
        """Write the table as an HTML fragment (``<figure class="vf">``, non-ASCII as references)."""
        columns = self.frame.columns
        numeric = {c: self.frame.schema[c].is_numeric() for c in columns}

        def attr(c: str) -> str:
            return ' class="num"' if numeric[c] else ""

        head = "".join(f"<th{attr(c)}>{text(self.headers.get(c, c))}</th>" for c in columns)
        rows = [
            "<tr>"
            + "".join(f"<td{attr(c)}>{text(self.cell(c, v))}</td>" for c, v in zip(columns, row, strict=True))
            + "</tr>"
            for row in self.frame.iter_rows()
        ]
        split = len(rows) - self.totals
        body, foot = "".join(rows[:split]), "".join(rows[split:])
        meanings = "; ".join(
            f"<b>{text(self.headers.get(c, c))}</b>: {text(m)}" for c, m in self.meanings.items()
        )
        return (
            f'<figure class="vf"><figcaption><p>{text(self.caption)}</p>'
            + (f"\n<p>{meanings}.</p>" if meanings else "")
            + '</figcaption>\n<table class="vf">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n"
            + (f"<tfoot>{foot}</tfoot>\n" if foot else "")
            + "</table></figure>"
        )
