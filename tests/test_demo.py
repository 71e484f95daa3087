"""The demo (what `make demo` runs) end to end, on the real sample and on the synthetic day."""

from __future__ import annotations

import polars as pl
import pytest
from scipy.stats import t as scipy_t

import vizflow as vf
import vizflow.viz as vz
from tests.viz.report_tables import number, report_tables
from vizflow.demo import BATCH_HORIZONS, SIZE, YEAR_TABLE, main


@pytest.mark.slow
@pytest.mark.parametrize("synthetic", [False, True], ids=["real", "synthetic"])
def test_demo_runs_end_to_end(tmp_path, synthetic, capsys):
    state = main(tmp_path, synthetic=synthetic)
    text = "\n".join(state.lines)
    for expected in (
        "trades per session",
        "morning",
        "afternoon",
        "mean markout from the trade price to the later mid, in the aggressor's direction (bp)",
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
    dates = inputs.select(pl.col("date").n_unique()).collect().item()  # 3 real days, 4 synthetic ones
    assert year.select(pl.col("^return_.*_clusters$").max()).row(0) == (dates,) * len(BATCH_HORIZONS)
    assert f"+/- its 95% CI (bp; se clustered by date, G = {dates} dates, t(0.975, G - 1) x se)" in text
    assert "ties='share': equal sizes share a tercile" in text  # the terciles' rule for ties
    assert "size_tercile  trades" in text
    report = (out / "report.html").read_text()
    _check_year_report_table(report_tables(report)[YEAR_TABLE], year, dates)
    for figure in ("mean signed markout by horizon (bp)", f"95% CI, clustered by date, {dates} dates"):
        assert figure in report  # the figures' titles and band labels
    fig = vz.decay(year, SIZE, log_x=True)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["0", "1", "2"]
    assert fig.layout.meta["band"] == f"95% CI, clustered by date, {dates} dates"
    for trace in fig.data:  # the band of every point: t(0.975, G - 1) (4.303 for 3 dates) x its clustered se
        for e, v in zip(trace.error_y.array, [c[0] for c in trace.customdata], strict=True):
            column = "return_close" if v == "close" else f"return_{int(float(v.removesuffix(' s')))}"
            se = year.filter(pl.col(SIZE) == int(trace.name))[f"{column}_se"].item() * 1e4
            assert e == pytest.approx(scipy_t.ppf(0.975, dates - 1) * se, rel=1e-12)
    assert fig.layout.xaxis.ticktext[-1] == "close"


def _check_year_report_table(table, year, dates):
    """The report's table of the batch: per tercile, the trades and each horizon's mean and 95% CI (bp)."""
    heads = [f"{h} s" if h != "close" else "close" for h in BATCH_HORIZONS]
    assert table.header == ["size tercile", "trades", *(c for h in heads for c in (h, "\u00b1"))]
    assert [row[0] for row in table.body] == ["0", "1", "2"]
    for row, cell in zip(table.body, year.iter_rows(named=True), strict=True):
        assert number(row[1]) == cell["n"]
        for k, h in enumerate(BATCH_HORIZONS):
            mean, se = cell[f"return_{h}_mean"] * 1e4, cell[f"return_{h}_se"] * 1e4
            assert number(row[2 + 2 * k]) == pytest.approx(mean, abs=0.005 + 1e-9)
            assert number(row[3 + 2 * k]) == pytest.approx(
                scipy_t.ppf(0.975, dates - 1) * se, abs=0.005 + 1e-9
            )
    assert f"se clustered by date (G = {dates} dates)" in table.caption
