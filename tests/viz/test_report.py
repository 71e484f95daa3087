from __future__ import annotations

import json
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("plotly")

from plotly.offline import get_plotlyjs

import vizflow.viz as vz
from tests.viz.report_tables import number, report_tables
from vizflow.exceptions import ColumnNotFoundError, VizflowError
from vizflow.viz.tables import Table


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


def test_a_table_is_drawn_in_its_place_with_right_aligned_separated_numbers(tmp_path):
    frame = pl.DataFrame(
        {
            "symbol": ["A<1>", "B", "all"],
            "trades": [1234567, 0, 1234567],
            "bp": [-0.004, None, float("nan")],
            "ratio": [1234.5, 2.0, 3.25],
        }
    )
    table = Table(
        frame, "Trades & cost.", {"trades": "prints", "bp": "cost in bp"}, headers={"bp": "\u00b1 bp"},
        formats={"bp": "+.2f"}, totals=1,
    )  # fmt: skip
    df = pl.DataFrame({"x": [1, 2], "y": [3.0, 4.0]})
    sections = {"costs": table, "a line": vz.line(df, "x", "y"), "again": table}
    text = vz.write_report(sections, tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()) == 1  # inlined with the first figure, though a table comes first
    assert text.index("<h2>costs</h2>") < text.index("<h2>a line</h2>") < text.index("<h2>again</h2>")
    parsed = report_tables(text)
    assert list(parsed) == ["costs", "again"]
    costs = parsed["costs"]
    assert costs.header == ["symbol", "trades", "\u00b1 bp", "ratio"]
    assert costs.body == [["A<1>", "1,234,567", "-0.00", "1,234.50"], ["B", "0", "\u2013", "2.00"]]
    assert costs.foot == [["all", "1,234,567", "\u2013", "3.25"]]
    assert costs.classes == [["", "num", "num", "num"]] * 2
    assert costs.caption == "Trades & cost. trades: prints; \u00b1 bp: cost in bp."
    assert "A&lt;1&gt;" in text
    assert "table.vf .num{text-align:right}" in text


@given(
    st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=5),
    st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=5),
)
def test_table_cells_read_back_as_their_numbers(ints, floats):
    n = min(len(ints), len(floats))
    frame = pl.DataFrame({"i": ints[:n], "f": floats[:n]})
    table = Table(frame, "")
    for i, f in frame.iter_rows():
        cell_i, cell_f = table.cell("i", i), table.cell("f", f)
        assert number(cell_i) == i
        head, *groups = cell_i.lstrip("-").split(",")
        assert 1 <= len(head) <= 3
        assert [len(g) for g in groups] == [3] * ((len(str(abs(i))) - 1) // 3)
        assert abs(number(cell_f) - f) <= 0.005 + abs(f) * 1e-15
        assert len(cell_f.split(".")[1]) == 2


def test_a_table_refuses_names_it_does_not_have():
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ColumnNotFoundError, match="'b'"):
        Table(frame, "", {"b": "x"})
    with pytest.raises(ColumnNotFoundError, match="formats"):
        Table(frame, "", formats={"c": ".1f"})
    with pytest.raises(VizflowError, match="totals=2"):
        Table(frame, "", totals=2)
