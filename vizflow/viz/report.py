"""A self-contained HTML report: plotly figures and tables in one file (plotly.js inlined once)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from vizflow._optional import import_optional
from vizflow.viz.tables import TABLE_CSS, Table

if TYPE_CHECKING:
    from collections.abc import Mapping

    import plotly.graph_objects as go

__all__ = ["write_report"]


def write_report(
    figures: Mapping[str, go.Figure | Table], path: str | Path, *, title: str = "vizflow report",
    notes: list[str] | None = None,
) -> Path:  # fmt: skip
    """Write ``figures`` (heading -> figure or :class:`~vizflow.viz.tables.Table`) to one HTML file.

    The sections come in the mapping's order, under the title and the ``notes`` (one bullet
    each); the file opens offline (plotly.js is inlined once, with the first figure).

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow.viz as vz
    >>> fig = vz.line(pl.DataFrame({"x": [1, 2], "y": [3, 4]}), "x", "y")
    >>> out = vz.write_report({"a line": fig}, pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> "a line" in out.read_text() and "plotly" in out.read_text()
    True
    """
    pio = import_optional("plotly.io", extra="viz")
    parts = []
    inlined = False
    for heading, fig in figures.items():
        if isinstance(fig, Table):
            body = fig.to_html()
        else:
            body = pio.to_html(fig, full_html=False, include_plotlyjs=False if inlined else "inline")
            inlined = True
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{body}")
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes or [])
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}{TABLE_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><ul>{items}</ul>{''.join(parts)}</body></html>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
