from __future__ import annotations

import pytest

import vizflow as vf
from vizflow.exceptions import CalendarError


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
