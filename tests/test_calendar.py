"""Trading calendar: generate/load/range/next/prev against a hand-written reference and real XSHG."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import CalendarError, VizflowError

cal_days = st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2020, 3, 31)), min_size=1, max_size=40).map(
    lambda ds: [d.strftime("%Y%m%d") for d in ds]
)


def test_range_exit_criterion_plan():
    cal = vf.calendar.generate(["20231229", "20240102", "20240103", "20240104", "20240105", "20240108"])
    assert vf.calendar.range(cal, "20240101", "20240105") == ["20240102", "20240103", "20240104", "20240105"]


@given(days=cal_days, data=st.data())
def test_against_set_reference(days, data):
    cal = vf.calendar.generate(days)
    ref = sorted(set(days))
    assert cal["date"].to_list() == ref
    assert cal["prev_date"].to_list() == [None, *ref[:-1]]
    assert cal["next_date"].to_list() == [*ref[1:], None]
    lo = data.draw(st.sampled_from(ref))
    hi = data.draw(st.sampled_from(ref))
    if lo <= hi:
        assert vf.calendar.range(cal, lo, hi) == [d for d in ref if lo <= d <= hi]
    probe = data.draw(st.dates(dt.date(2020, 1, 1), dt.date(2020, 3, 31)))
    key = probe.strftime("%Y%m%d")
    if ref[0] <= key <= ref[-1]:
        assert vf.calendar.is_trading_day(cal, probe) == (key in ref)
        after = [d for d in ref if d > key]
        if after:
            assert vf.calendar.next_day(cal, probe) == after[0]
        before = [d for d in ref if d < key]
        if len(before) >= 2:
            assert vf.calendar.prev_day(cal, key, n=2) == before[-2]
    else:
        with pytest.raises(CalendarError, match=f"covers {ref[0]}..{ref[-1]}"):
            vf.calendar.is_trading_day(cal, key)


def test_dates_accept_datetime_date():
    cal = vf.calendar.generate([dt.date(2024, 1, 2), "20240103"])
    assert vf.calendar.next_day(cal, dt.date(2024, 1, 2)) == "20240103"


@pytest.mark.parametrize("bad", ["2024-01-02", "20240230", "2024012", None])
def test_malformed_dates_are_named(bad):
    with pytest.raises(VizflowError, match=rf"calendar.generate: date #1 malformed date {bad!r}"):
        vf.calendar.generate(["20240102", bad])


def test_load_skips_blank_lines_and_names_a_bad_date(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_bytes(b"20240102\r\n20240103\r\n\r\n")  # CRLF and a blank line at the end
    assert vf.calendar.load(path)["date"].to_list() == ["20240102", "20240103"]
    path.write_text("20240102\n2024-01-03\n")
    with pytest.raises(VizflowError, match=r"cal.csv': date #1 malformed date '2024-01-03'"):
        vf.calendar.load(path)


def test_errors():
    cal = vf.calendar.generate(["20240102", "20240103"])
    with pytest.raises(CalendarError, match="fewer than 1 trading day"):
        vf.calendar.next_day(cal, "20240103")
    with pytest.raises(CalendarError, match="outside the calendar"):
        vf.calendar.range(cal, "20240101", "20240103")
    with pytest.raises(VizflowError, match="start 20240103 is after end 20240102"):
        vf.calendar.range(cal, "20240103", "20240102")
    with pytest.raises(VizflowError, match="positive integer"):
        vf.calendar.prev_day(cal, "20240103", n=0)
    with pytest.raises(VizflowError, match="no dates"):
        vf.calendar.generate([])


def test_load_csv_with_header_and_parquet(tmp_path):
    (tmp_path / "a.csv").write_text("date\n20240103\n20240102\n")
    pl.DataFrame({"date": [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]}).write_parquet(tmp_path / "b.parquet")
    pl.DataFrame({"day": [20240102]}).write_parquet(tmp_path / "c.parquet")
    assert vf.calendar.load(tmp_path / "a.csv")["date"].to_list() == ["20240102", "20240103"]
    assert vf.calendar.load(tmp_path / "b.parquet")["date"].to_list() == ["20240102", "20240103"]
    with pytest.raises(VizflowError, match="has no 'date' column"):
        vf.calendar.load(tmp_path / "c.parquet")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        vf.calendar.load(tmp_path / "missing.csv")


# --- the real XSHG calendar ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def xshg(shared_data):
    return vf.calendar.load(shared_data / "calendar" / "xshg_2019_2025.csv")


def test_real_xshg_loads(xshg):
    assert xshg.height == 1699
    assert xshg["date"][0] == "20190102"
    assert xshg["date"][-1] == "20251231"
    per_year = xshg.group_by(pl.col("date").str.slice(0, 4)).len().sort("date")["len"].to_list()
    assert per_year == [244, 243, 243, 242, 242, 242, 243]


def test_real_xshg_spring_festival(xshg):
    # The hikyuu trade file holds the two sessions around the 2019 Spring Festival.
    assert vf.calendar.next_day(xshg, "20190201") == "20190211"
    assert vf.calendar.range(xshg, "20190202", "20190210") == []
    assert not vf.calendar.is_trading_day(xshg, "20240209")  # Lunar New Year's Eve, a workday


def test_real_xshg_equals_exchange_calendars(xshg):
    pytest.importorskip("exchange_calendars", reason="the calendars extra is not installed")
    assert vf.calendar.from_exchange("XSHG", "20190101", "20251231").equals(xshg)
