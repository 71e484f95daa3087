from __future__ import annotations

import polars as pl
import pytest

import vizflow as vf
from vizflow.exceptions import CalendarError, VizflowError


def test_context_col_market_and_dates():
    cal = vf.calendar.generate(["20240102", "20240103", "20240104"])
    ctx = vf.Context(vf.Config(market="HK", columns={"price": "mid"}), "20240103", cal)
    assert ctx.col("price") == "mid"
    assert ctx.col("qty") == "qty"
    assert ctx.market is vf.HK
    assert (ctx.prev_date(), ctx.next_date()) == ("20240102", "20240104")


def test_context_without_calendar():
    with pytest.raises(CalendarError, match="no calendar"):
        vf.Context(vf.Config(), "20240103").next_date()


@pytest.fixture
def two_sources(tmp_path):
    for day, mid in (("20240102", 10.0), ("20240103", 11.0)):
        vf.save(pl.DataFrame({"symbol": ["A"], "qty": [100]}), tmp_path / "trades" / f"{day}.parquet")
        vf.save(pl.DataFrame({"symbol": ["A"], "mid": [mid]}), tmp_path / "quotes" / f"{day}.parquet")
    return vf.Config(
        input_dir=tmp_path, output_dir=tmp_path / "out", input_pattern="trades/{date}.parquet",
        sources={"quotes": "quotes/{date}.parquet"},
    )  # fmt: skip


def test_regression_ctx_load_returns_that_dates_source(two_sources):
    for day, mid in (("20240102", 10.0), ("20240103", 11.0)):
        ctx = vf.Context(two_sources, day)
        lf = ctx.load("quotes")
        assert isinstance(lf, pl.LazyFrame)
        assert lf.collect()["mid"].to_list() == [mid]
        assert ctx.source_path("quotes") == two_sources.input_dir / "quotes" / f"{day}.parquet"


def test_ctx_load_missing_file_names_source_date_and_path(two_sources):
    with pytest.raises(
        FileNotFoundError, match=r"source 'quotes' of 20240104: no such file '.*quotes/20240104"
    ):
        vf.Context(two_sources, "20240104").load("quotes")


def test_ctx_load_unknown_source_lists_known(two_sources):
    with pytest.raises(
        VizflowError, match=r"unknown source 'quote' for 20240102; known sources: \['quotes'\]"
    ):
        vf.Context(two_sources, "20240102").load("quote")
