"""A self-contained HTML report: several plotly figures in one file (plotly.js inlined once)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from vizflow._optional import import_optional

if TYPE_CHECKING:
    from collections.abc import Mapping

    import plotly.graph_objects as go

__all__ = ["write_report"]


def write_report(
    figures: Mapping[str, go.Figure], path: str | Path, *, title: str = "vizflow report",
    notes: list[str] | None = None,
) -> Path:  # fmt: skip
    """Write ``figures`` (heading -> figure) to one HTML file that opens offline.

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
    for i, (heading, fig) in enumerate(figures.items()):
        body = pio.to_html(fig, full_html=False, include_plotlyjs="inline" if i == 0 else False)
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{body}")
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes or [])
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><ul>{items}</ul>{''.join(parts)}</body></html>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
