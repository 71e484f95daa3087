"""The demo (what `make demo` runs) end to end, on the real sample and on the synthetic day."""

from __future__ import annotations

import pytest

import vizflow as vf
from vizflow.demo import main


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
