from __future__ import annotations

import polars as pl
import pytest

pytest.importorskip("plotly")

import vizflow.viz as vz


def test_report_is_self_contained(tmp_path):
    df = pl.DataFrame({"x": [1, 2, 3], "y": [3.0, 1.0, 2.0]})
    figs = {"first <line>": vz.line(df, "x", "y"), "second": vz.line(df, "x", "y")}
    out = vz.write_report(figs, tmp_path / "sub" / "r.html", notes=["a & b"])
    text = out.read_text(encoding="utf-8")
    assert out.exists()
    # plotly.js is inlined once, and nothing is fetched from the network
    assert "<script src=" not in text
    assert text.count("plotly.js v") <= 2  # the library banner, inlined once
    assert text.count('class="plotly-graph-div"') == 2
    assert "first &lt;line&gt;" in text
    assert "<li>a &amp; b</li>" in text
