"""The demo (what `make demo` runs) end to end, on the real sample and on the synthetic day."""

from __future__ import annotations

import polars as pl
import pytest

import vizflow as vf
import vizflow.viz as vz
from vizflow.demo import BATCH_HORIZONS, SIZE, main


@pytest.mark.slow
@pytest.mark.parametrize("synthetic", [False, True], ids=["real", "synthetic"])
def test_demo_runs_end_to_end(tmp_path, synthetic, capsys):
    state = main(tmp_path, synthetic=synthetic)
    text = "\n".join(state.lines)
    for expected in (
        "trades per session",
        "morning",
        "afternoon",
        "mean forward return",
        "FIFO on",
        "batch of",
    ):
        assert expected in text
    for name in ("trades_per_session", "trades_with_returns", "round_trips"):
        assert (tmp_path / f"{name}.parquet").exists()
    matched = vf.load(tmp_path / "round_trips.parquet").collect()
    assert matched.filter("is_closed")["realized_pnl"].null_count() == 0
    assert "real sample" in text if not synthetic else "synthetic day" in text
    _check_year_table(tmp_path, state, text)


def _check_year_table(out, state, text):
    """The batch ends in the combined table of its dates and a decay figure with error bars from it."""
    year = state.year
    assert year.equals(vf.load(out / "batch" / "year.parquet").collect())
    assert year[SIZE].to_list() == [0, 1, 2]
    inputs = vf.scan(out / "batch" / "input" / "trades" / "*.parquet").filter(pl.col("side") != 0)
    assert int(year["n"].sum()) == inputs.select(pl.len()).collect().item()  # every signed trade, once
    assert year.select(pl.col("^return_.*_se$").is_null().any()).row(0) == (False,) * len(BATCH_HORIZONS)
    assert "dates combined (vf.finalize(vf.combine(vf.scan(output))))" in text
    assert "size_tercile  trades" in text
    report = (out / "report.html").read_text()
    assert (
        "mean signed return by horizon, error bars +\\u002f- 1.96 se" in report
    )  # the figure (JSON-escaped /)
    fig = vz.decay(year, SIZE, log_x=True)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["0", "1", "2"]
    assert all(e is not None and e > 0 for t in fig.data for e in t.error_y.array)
    assert fig.layout.xaxis.ticktext[-1] == "close"
