from __future__ import annotations

import json
import re

import polars as pl
import pytest

pytest.importorskip("plotly")

from plotly.offline import get_plotlyjs

import vizflow.viz as vz


def _figures(text: str) -> list[list]:
    """The data of every ``Plotly.newPlot(div, data, layout, config)`` call in the page, in order."""
    calls = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{"template"', text, flags=re.S)
    return [json.loads(data) for data in calls]


def test_regression_report_inlines_plotly_js_once_and_draws_every_figure(tmp_path):
    """The whole plotly.js bundle is inlined exactly once, each figure is drawn with its own data, nothing
    is fetched from the network, and headings and notes are escaped. (It asserted
    ``count("plotly.js v") <= 2``, which a page without plotly.js passes.)"""
    df = pl.DataFrame({"x": [1, 2, 3], "y": [3.0, 1.0, 2.0]})
    figs = {"first <line>": vz.line(df, "x", "y"), "second": vz.line(df.reverse(), "y", "x")}
    out = vz.write_report(figs, tmp_path / "sub" / "r.html", notes=["a & b"])
    text = out.read_text(encoding="utf-8")
    bundle = get_plotlyjs()
    assert text.count(bundle) == 1  # the library itself, not only its banner
    assert text.count("plotly.js v") == 1
    assert "<script src=" not in text
    assert text.count('class="plotly-graph-div"') == 2
    drawn = _figures(text)
    assert [(d[0]["x"], d[0]["y"]) for d in drawn] == [
        ([1, 2, 3], [3.0, 1.0, 2.0]),
        ([1.0, 2.0, 3.0], [2, 3, 1]),
    ]
    assert text.index("first &lt;line&gt;") < text.index("<h2>second</h2>")
    assert "<li>a &amp; b</li>" in text
