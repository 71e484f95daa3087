"""Trading calendars: spans, frames of any order and dtype, the shipped XSHG file, for_market."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import re
import sys
import warnings
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from vizflow.calendar import Calendar
from vizflow.exceptions import CalendarError, ColumnNotFoundError, DataError, SchemaError, VizflowError

LO, HI = dt.date(2020, 1, 1), dt.date(2020, 3, 31)
cal_dates = st.lists(st.dates(LO, HI), min_size=1, max_size=40)


def ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


# --- references: plain loops over the sorted set of days -----------------------------------------


def ref_next(days: list[str], day: str, n: int) -> str | None:
    after = [d for d in days if d > day]
    return after[n - 1] if len(after) >= n else None


def ref_prev(days: list[str], day: str, n: int) -> str | None:
    before = [d for d in days if d < day]
    return before[-n] if len(before) >= n else None


def as_column(dates: list[dt.date], kind: str) -> pl.Series:
    if kind == "date":
        return pl.Series("date", dates, dtype=pl.Date)
    if kind == "int":
        return pl.Series("date", [int(ymd(d)) for d in dates], dtype=pl.Int64)
    return pl.Series("date", [ymd(d) for d in dates], dtype=pl.String)


@given(
    dates=cal_dates,
    extra=st.lists(st.integers(0, 39), max_size=10),
    kind=st.sampled_from(["str", "int", "date"]),
    probe=st.dates(LO - dt.timedelta(days=3), HI + dt.timedelta(days=3)),
    n=st.integers(1, 4),
    data=st.data(),
)
def test_navigation_on_shuffled_duplicated_frames_matches_sorted_list(*, dates, extra, kind, probe, n, data):
    """Regression (findings A.8): an unsorted or duplicated calendar frame gave a wrong next_day."""
    rows = dates + [dates[i % len(dates)] for i in extra]  # duplicates
    rows = data.draw(st.permutations(rows))
    frame = pl.DataFrame(as_column(rows, kind))
    days = sorted({ymd(d) for d in dates})
    key = ymd(probe)
    if not days[0] <= key <= days[-1]:
        for call in (
            lambda: vf.calendar.is_session(frame, key),
            lambda: vf.calendar.next_day(frame, key),
            lambda: vf.calendar.prev_day(frame, key),
        ):
            with pytest.raises(
                CalendarError, match=f"{key} is outside the calendar, which covers {days[0]}..{days[-1]}"
            ):
                call()
        return
    assert vf.calendar.is_session(frame, probe) == (key in days)
    for fn, ref in ((vf.calendar.next_day, ref_next), (vf.calendar.prev_day, ref_prev)):
        expected = ref(days, key, n)
        if expected is None:
            with pytest.raises(CalendarError, match=f"fewer than {n} trading day"):
                fn(frame, key, n)
        else:
            assert fn(frame, key, n) == expected
    hi = ymd(data.draw(st.dates(probe, HI + dt.timedelta(days=3))))
    if hi <= days[-1]:
        assert vf.calendar.range(frame, key, hi) == [d for d in days if key <= d <= hi]
        assert vf.calendar.sessions(frame, key, hi) == vf.calendar.range(frame, key, hi)


@given(dates=cal_dates, data=st.data())
def test_generate_and_to_frame_against_set_reference(dates, data):
    cal = vf.calendar.generate(data.draw(st.permutations([ymd(d) for d in dates])))
    ref = sorted({ymd(d) for d in dates})
    assert cal.days == tuple(ref)
    assert (cal.start, cal.end) == (ref[0], ref[-1])
    frame = cal.to_frame()
    assert frame["date"].to_list() == ref
    assert frame["prev_date"].to_list() == [None, *ref[:-1]]
    assert frame["next_date"].to_list() == [*ref[1:], None]
    assert vf.calendar.generate(frame["date"]) == cal  # a frame's column round-trips


@given(
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    probe=st.dates(LO, HI),
    n=st.integers(1, 9),
    bounded=st.booleans(),
)
def test_weekday_rule_against_day_loop(weekdays, probe, n, bounded):
    span = {"start": ymd(LO), "end": ymd(HI)} if bounded else {}
    cal = Calendar(weekdays=tuple(weekdays), **span)
    every = [LO + dt.timedelta(days=i) for i in range((HI - LO).days + 1)]
    days = [ymd(d) for d in every if d.weekday() in weekdays]
    key = ymd(probe)
    assert vf.calendar.is_session(cal, key) == (probe.weekday() in weekdays)
    assert vf.calendar.sessions(cal, key, ymd(HI)) == [d for d in days if d >= key]
    for fn, ref in ((vf.calendar.next_day, ref_next), (vf.calendar.prev_day, ref_prev)):
        expected = ref(days, key, n)
        if expected is not None:
            assert fn(cal, key, n) == expected
        elif bounded:
            with pytest.raises(CalendarError, match=f"fewer than {n} trading day"):
                fn(cal, key, n)


def test_range_exit_criterion_plan():
    cal = vf.calendar.generate(["20231229", "20240102", "20240103", "20240104", "20240105", "20240108"])
    assert vf.calendar.range(cal, "20240101", "20240105") == ["20240102", "20240103", "20240104", "20240105"]


def test_regression_unsorted_frame_is_trading_day_and_next_day():
    """Findings A.8 verbatim: is_trading_day was False and next_day '20240110' on this frame."""
    frame = pl.DataFrame({"date": ["20240102", "20240110", "20240105"]})
    assert vf.calendar.is_trading_day(frame, "20240105") is True
    assert vf.calendar.next_day(frame, "20240102") == "20240105"
    assert vf.calendar.prev_day(frame, "20240110") == "20240105"


@pytest.mark.parametrize(
    "column",
    [
        pl.Series("date", [20240105, 20240102, 20240102], dtype=pl.Int64),
        pl.Series("date", [20240105, 20240102], dtype=pl.UInt32),
        pl.Series("date", [dt.date(2024, 1, 5), dt.date(2024, 1, 2)], dtype=pl.Date),
        pl.Series("date", [dt.datetime(2024, 1, 5, 9), dt.datetime(2024, 1, 2)], dtype=pl.Datetime("us")),
    ],
    ids=["Int64", "UInt32", "Date", "Datetime"],
)
def test_regression_integer_and_date_columns_are_accepted(column):
    """Findings C: a date column of Int64 or Date raised TypeError on '<='."""
    frame = pl.DataFrame(column)
    assert vf.calendar.next_day(frame, "20240102") == "20240105"
    assert vf.calendar.range(frame, "20240102", "20240105") == ["20240102", "20240105"]
    assert not vf.calendar.is_session(frame, dt.date(2024, 1, 3))


def test_regression_bad_calendar_frames_give_clear_errors():
    """Findings C: an empty frame gave IndexError; other bad frames must name what is wrong."""
    with pytest.raises(CalendarError, match="calendar frame is empty"):
        vf.calendar.next_day(pl.DataFrame({"date": []}, schema={"date": pl.String}), "20240102")
    with pytest.raises(DataError, match="1 null"):
        vf.calendar.is_session(pl.DataFrame({"date": ["20240102", None]}), "20240102")
    with pytest.raises(SchemaError, match="dtype Float64"):
        vf.calendar.is_session(pl.DataFrame({"date": [20240102.0]}), "20240102")
    with pytest.raises(ColumnNotFoundError, match="'date' not found; available: \\['day'\\]"):
        vf.calendar.is_session(pl.DataFrame({"day": ["20240102"]}), "20240102")
    with pytest.raises(VizflowError, match="date #1 malformed date 20241301"):
        vf.calendar.is_session(pl.DataFrame({"date": [20240102, 20241301]}), "20240102")
    with pytest.raises(VizflowError, match="expected a vizflow Calendar or a DataFrame.*got list"):
        vf.calendar.is_session(["20240102"], "20240102")


# --- spans -----------------------------------------------------------------------------------------


def test_regression_span_is_not_first_and_last_session():
    """Findings A.8: a calendar forgot the span it was built for, so a holiday at its start was 'outside'."""
    cal = vf.calendar.generate(["20190102", "20190103", "20190104"], start="20190101", end="20190106")
    assert vf.calendar.range(cal, "20190101", "20190106") == ["20190102", "20190103", "20190104"]
    assert vf.calendar.is_session(cal, "20190101") is False
    with pytest.raises(CalendarError, match="fewer than 1 trading day"):
        vf.calendar.next_day(cal, "20190104")  # 20190105/06 are known weekend days; 20190107 is unknown
    with pytest.raises(
        CalendarError, match=r"20181231 is outside the calendar, which covers 20190101..20190106"
    ):
        vf.calendar.is_session(cal, "20181231")


def test_regression_from_exchange_keeps_the_asked_span():
    """Findings A.8: from_exchange("XSHG", "20190101", ...) then range(cal, "20190101", ...) raised."""
    pytest.importorskip("exchange_calendars", reason="the calendars extra is not installed")
    cal = vf.calendar.from_exchange("XSHG", "20190101", "20251231")
    assert (cal.name, cal.start, cal.end) == ("XSHG", "20190101", "20251231")
    assert vf.calendar.range(cal, "20190101", "20190104") == ["20190102", "20190103", "20190104"]
    assert not vf.calendar.is_session(cal, "20190101")
    with pytest.raises(CalendarError, match="outside the XSHG calendar, which covers 20190101..20251231"):
        vf.calendar.is_session(cal, "20260105")
    with pytest.raises(CalendarError, match="XSHG"):
        vf.calendar.from_exchange("XSHG", "20190101", "20991231")


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: vf.calendar.is_session(cal, "20270104"),
        lambda cal: vf.calendar.is_trading_day(cal, "20270104"),
        lambda cal: vf.calendar.sessions(cal, "20261201", "20270104"),
        lambda cal: vf.calendar.range(cal, "20270104", "20270105"),
        lambda cal: vf.calendar.next_day(cal, "20270104"),
        lambda cal: vf.calendar.prev_day(cal, "20270104"),
        lambda cal: vf.calendar.is_session(cal, "19901231"),
    ],
)
def test_regression_expired_calendar_raises_beyond_its_span(call):
    """Findings A.2: beyond the shipped calendar a date was reported as 'not a trading day'."""
    with pytest.raises(CalendarError, match=r"outside the XSHG calendar, which covers 19910101..20261231"):
        call(vf.datasets.xshg_calendar())


def test_answer_beyond_the_span_raises():
    cal = vf.datasets.xshg_calendar()
    assert vf.calendar.next_day(cal, "20261230") == "20261231"
    with pytest.raises(
        CalendarError, match="covering 19910101..20261231.*fewer than 1 trading day.* after 20261231"
    ):
        vf.calendar.next_day(cal, "20261231")
    with pytest.raises(CalendarError, match="before 19910102"):
        vf.calendar.prev_day(cal, "19910102")


# --- for_market -------------------------------------------------------------------------------------


def test_for_market_cn_is_the_shipped_xshg_calendar():
    assert vf.calendar.for_market("CN") is vf.datasets.xshg_calendar()
    assert vf.calendar.for_market(vf.CN_FUTURES) is vf.datasets.xshg_calendar()  # same holidays
    assert not vf.calendar.is_session(vf.calendar.for_market(vf.CN), "20240212")  # Spring Festival


def test_regression_crypto_sessions_are_every_calendar_day():
    """Findings A.8: CRYPTO's --dates A:B gave weekdays only; every calendar day trades."""
    cal = vf.calendar.for_market("CRYPTO")
    assert vf.calendar.sessions(cal, "20240228", "20240303") == [
        "20240228", "20240229", "20240301", "20240302", "20240303",
    ]  # fmt: skip
    assert vf.calendar.is_session(cal, "20241225")
    assert vf.calendar.is_session(cal, "21000101")  # unbounded: no holidays to know
    assert vf.calendar.next_day(cal, "20241231") == "20250101"


def test_for_market_custom_markets_are_weekdays():
    cal = vf.calendar.for_market(vf.Market("X", (vf.Session("10:00", "11:00"),)))
    assert cal.weekdays == (0, 1, 2, 3, 4)
    assert vf.calendar.sessions(cal, "20240105", "20240108") == ["20240105", "20240108"]
    assert vf.calendar.is_session(cal, "20241225")  # holidays are not known (documented)


@pytest.fixture
def without_exchange_calendars(monkeypatch):
    """Run as if the calendars extra were not installed (an import of it raises ImportError)."""
    monkeypatch.setitem(sys.modules, "exchange_calendars", None)


@pytest.mark.parametrize("market", ["HK", "US"])
def test_for_market_hk_us_without_exchange_calendars_are_weekdays(without_exchange_calendars, market):
    cal = vf.calendar.for_market(market)
    assert (cal.name, cal.weekdays, cal.start, cal.end) == (market, (0, 1, 2, 3, 4), None, None)
    assert vf.calendar.is_session(cal, "20241225")  # documented: holidays are not known without it


@pytest.mark.parametrize(("market", "exchange"), [("HK", "XHKG"), ("US", "XNYS"), (vf.HK, "XHKG")])
def test_regression_for_market_hk_us_use_exchange_calendars_when_installed(market, exchange):
    """Issue 21: for_market("HK"/"US") was every weekday, so Christmas counted as a session."""
    xcals = pytest.importorskip("exchange_calendars", reason="the calendars extra is not installed")
    cal = vf.calendar.for_market(market)
    assert cal.name == exchange
    assert not cal.is_session("20241225")
    assert not vf.calendar.is_session(cal, "20240101")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        ref = xcals.get_calendar(exchange, start="2023-01-01", end="2024-12-31")
        expected = [d.strftime("%Y%m%d") for d in ref.sessions]
    assert cal.sessions_in_range("20230101", "20241231") == expected


def test_for_market_unknown_name():
    with pytest.raises(VizflowError, match="unknown market 'XX'"):
        vf.calendar.for_market("XX")


# --- the Calendar object ----------------------------------------------------------------------------


def test_calendar_object_pickles_hashes_and_prints():
    cal = vf.datasets.xshg_calendar()
    again = pickle.loads(pickle.dumps(cal))
    assert again == cal
    assert hash(again) == hash(cal)
    assert repr(cal) == "Calendar('XSHG', 19910101..20261231, 8788 sessions)"
    assert repr(Calendar(weekdays=(5, 6), start="20240101")) == "Calendar(Sat,Sun, 20240101..)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "either days .* or weekdays"),
        ({"days": ("20240102",), "weekdays": (0,)}, "not both"),
        ({"days": ("20240102",)}, "needs both ends"),
        ({"days": ("20240103", "20240102"), "start": "20240101", "end": "20240105"}, "ascending"),
        ({"days": ("20240102", "20240102"), "start": "20240101", "end": "20240105"}, "without duplicates"),
        (
            {"days": ("20240110",), "start": "20240101", "end": "20240105"},
            "beyond the span 20240101..20240105",
        ),
        ({"weekdays": (0,), "start": "20240105", "end": "20240101"}, "start 20240105 is after end 20240101"),
        ({"weekdays": ()}, "non-empty set"),
        ({"weekdays": (7,)}, "non-empty set"),
        ({"weekdays": 5}, "weekdays=5; expected a non-empty set"),
        ({"days": (20240102,), "start": "20240101", "end": "20240105"}, "days: date #0 malformed"),
        ({"weekdays": (0,), "start": "2024-01-01"}, "start: malformed date '2024-01-01'"),
        (
            {"days": ("20240132",), "start": "20240101", "end": "20240205"},
            "days: date #0 malformed date '20240132'",
        ),
    ],
)
def test_calendar_object_is_validated(kwargs, match):
    with pytest.raises(VizflowError, match=match):
        Calendar(**kwargs)


def test_unbounded_rule_cannot_be_listed_but_a_bounded_one_can():
    with pytest.raises(CalendarError, match="unbounded"):
        Calendar(weekdays=(0, 1, 2, 3, 4), name="US").to_frame()
    week = Calendar(weekdays=(0, 1, 2, 3, 4), start="20240105", end="20240108").to_frame()
    assert week["date"].to_list() == ["20240105", "20240108"]


def test_generate_span_and_errors():
    with pytest.raises(VizflowError, match="date 20240110 is outside the given span 20240101..20240105"):
        vf.calendar.generate(["20240102", "20240110"], start="20240101", end="20240105")
    empty = vf.calendar.generate([], start="20240210", end="20240217")  # a holiday week
    assert vf.calendar.sessions(empty, "20240210", "20240217") == []
    with pytest.raises(VizflowError, match="no dates given"):
        vf.calendar.generate([])


def test_dates_accept_datetime_date():
    cal = vf.calendar.generate([dt.date(2024, 1, 2), "20240103"])
    assert vf.calendar.next_day(cal, dt.date(2024, 1, 2)) == "20240103"


@pytest.mark.parametrize("bad", ["2024-01-02", "20240230", "2024012", None, 20240102])
def test_malformed_dates_are_named(bad):
    with pytest.raises(VizflowError, match=rf"calendar.generate: date #1 malformed date {bad!r}"):
        vf.calendar.generate(["20240102", bad])


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
    with pytest.raises(VizflowError, match="calendar.is_session: malformed date '2024-01-03'"):
        vf.calendar.is_session(cal, "2024-01-03")


# --- files --------------------------------------------------------------------------------------------


def test_load_skips_blank_lines_and_names_a_bad_date(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_bytes(b"20240102\r\n20240103\r\n\r\n")  # CRLF and a blank line at the end
    assert vf.calendar.load(path).days == ("20240102", "20240103")
    path.write_text("20240102\n2024-01-03\n")
    with pytest.raises(VizflowError, match=r"cal.csv': date #1 malformed date '2024-01-03'"):
        vf.calendar.load(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf20240102\n20240103\n",
        b"\n\n20240102\n20240103\n",
        b"\xef\xbb\xbfdate\n20240103\n20240102\n",
    ],
    ids=["bom", "leading-blank-lines", "bom-and-header"],
)
def test_regression_csv_with_bom_or_leading_blank_line_loads(tmp_path, content):
    """Findings C: a BOM or a leading blank line gave "no 'date' column"."""
    path = tmp_path / "cal.csv"
    path.write_bytes(content)
    assert vf.calendar.load(path).days == ("20240102", "20240103")


def test_load_reads_the_span_comment(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("# my calendar\n# span: 20240101..20240107\n20240102\n20240105\n")
    cal = vf.calendar.load(path)
    assert (cal.start, cal.end, cal.days) == ("20240101", "20240107", ("20240102", "20240105"))
    path.write_text("# span: 20240101\n20240102\n")
    with pytest.raises(VizflowError, match="expected '# span: YYYYMMDD..YYYYMMDD'"):
        vf.calendar.load(path)
    path.write_text("# span: 20240103..20240107\n20240102\n")
    with pytest.raises(VizflowError, match="20240102 is outside the given span 20240103..20240107"):
        vf.calendar.load(path)


def test_load_refuses_non_utf8_and_empty_files(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_bytes(b"\xff\xfe2\x000\x00")
    with pytest.raises(VizflowError, match="cal.csv' is not UTF-8"):
        vf.calendar.load(path)
    path.write_text("\n# nothing\n")
    with pytest.raises(VizflowError, match="no dates given"):
        vf.calendar.load(path)


def test_load_refuses_a_null_date(tmp_path):
    pl.DataFrame({"date": ["20240102", None]}).write_parquet(tmp_path / "n.parquet")
    with pytest.raises(DataError, match="n.parquet'.*1 null"):
        vf.calendar.load(tmp_path / "n.parquet")
    (tmp_path / "n.csv").write_text("date,note\n20240102,a\n,b\n")
    with pytest.raises(DataError, match="1 null"):
        vf.calendar.load(tmp_path / "n.csv")


def test_load_csv_with_header_and_parquet(tmp_path):
    (tmp_path / "a.csv").write_text("date\n20240103\n20240102\n")
    pl.DataFrame({"date": [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]}).write_parquet(tmp_path / "b.parquet")
    pl.DataFrame({"day": [20240102]}).write_parquet(tmp_path / "c.parquet")
    assert vf.calendar.load(tmp_path / "a.csv").days == ("20240102", "20240103")
    assert vf.calendar.load(tmp_path / "b.parquet").days == ("20240102", "20240103")
    with pytest.raises(VizflowError, match="has no 'date' column"):
        vf.calendar.load(tmp_path / "c.parquet")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        vf.calendar.load(tmp_path / "missing.csv")


# --- the shipped XSHG calendar (ships in the package: no ../shared/data needed) -------------------------


def test_regression_shipped_xshg_ships_in_the_package_and_counts_sessions_per_year():
    """Findings C: the calendar tests skipped without ../shared/data although the CSV ships."""
    cal = vf.datasets.xshg_calendar()
    assert (cal.start, cal.end, cal.days[0], cal.days[-1]) == ("19910101", "20261231", "19910102", "20261231")
    per_year = pl.Series(cal.days).str.slice(0, 4).value_counts().sort("")
    counts = dict(zip(per_year[""].to_list(), per_year["count"].to_list(), strict=True))
    # 2019-2025 as counted in the cross-checked 0.8 file; 2026: 261 weekdays minus the 19 weekday
    # closures in DolphinDB's independent XSHG holiday list (Jan 1-2, Feb 16-20 and 23, Apr 6,
    # May 1, 4, 5, Jun 19, Sep 25, Oct 1, 2, 5, 6, 7).
    assert [counts[str(y)] for y in range(2019, 2027)] == [244, 243, 243, 242, 242, 242, 243, 242]


def test_shipped_xshg_spring_festivals():
    cal = vf.datasets.xshg_calendar()
    assert vf.calendar.next_day(cal, "20190201") == "20190211"  # the hikyuu trade file's day pair
    assert vf.calendar.range(cal, "20190202", "20190210") == []
    assert not vf.calendar.is_session(cal, "20240209")  # Lunar New Year's Eve, a workday, closed
    assert vf.calendar.is_session(cal, "20261230")


def _exchange_calendars_not_older_than_the_shipped_file():
    """exchange_calendars, unless it is missing or older than the version that wrote the shipped file.

    An older one (``make test-min`` pins the extra's floor) knows fewer years, so comparing the file
    with it says nothing; a newer one may know more, which is what these tests are there to notice.
    """
    import re
    from importlib.metadata import version

    from packaging.version import Version

    xcals = pytest.importorskip("exchange_calendars", reason="the calendars extra is not installed")
    header = (Path(vf.__file__).parent / "datasets" / "data" / "xshg.csv").read_text()[:400]
    wrote = re.search(r"exchange_calendars (\S+) ", header)[1]
    if Version(version("exchange_calendars")) < Version(wrote):
        pytest.skip(f"the shipped file was written by exchange_calendars {wrote}; an older one is installed")
    return xcals


def test_regression_shipped_xshg_covers_every_year_exchange_calendars_lists():
    """Findings A.2: the shipped calendar ended 20251231 while exchange_calendars lists 2026."""
    xcals = _exchange_calendars_not_older_than_the_shipped_file()
    cal = vf.datasets.xshg_calendar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # exchange_calendars' use of pandas
        bound_max = type(xcals.get_calendar("XSHG")).bound_max().strftime("%Y%m%d")
    assert cal.end == bound_max, "exchange_calendars lists more years: run dev/make_xshg_calendar.py"
    assert vf.calendar.from_exchange("XSHG", cal.start, cal.end) == cal
    with pytest.raises(CalendarError):  # the package records no earlier holidays
        vf.calendar.from_exchange("XSHG", "19900101", "19901231")


def test_dev_script_regenerates_the_shipped_file():
    """The shipped file is exactly what dev/make_xshg_calendar.py writes with this exchange_calendars."""
    _exchange_calendars_not_older_than_the_shipped_file()
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "dev" / "make_xshg_calendar.py"
    spec = importlib.util.spec_from_file_location("make_xshg_calendar", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(*module.default_span()) == module.OUT.read_text()


# --- issue 21: a calendar that outlives December ---------------------------------------------------

ILLUSTRATIVE_2027 = ["20270101", "20270208", "20270209", "20270210", "20270211", "20270212"]
"""Closures in the shape an exchange announces them (New Year's Day and a Spring Festival week);
the real 2027 list is not published yet, and these tests need only its shape."""


def weekdays_between(lo: dt.date, hi: dt.date, weekdays=(0, 1, 2, 3, 4)) -> list[str]:
    every = (lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1))
    return [ymd(d) for d in every if d.weekday() in weekdays]


@given(
    span=st.tuples(st.dates(LO, HI), st.dates(LO, HI)).map(sorted),
    picks=st.lists(st.integers(0, 200), max_size=15),
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    as_dates=st.booleans(),
)
def test_regression_from_holidays_is_the_spans_weekdays_minus_the_closures(span, picks, weekdays, as_dates):
    """Issue 21: there was no way to build a calendar from the closures an exchange announces."""
    lo, hi = span
    every = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    holidays = [every[i % len(every)] for i in picks]  # weekends and duplicates included
    given_holidays = holidays if as_dates else [ymd(d) for d in holidays]
    cal = vf.calendar.from_holidays(given_holidays, ymd(lo), ymd(hi), weekdays=tuple(weekdays), name="X")
    closed = {ymd(d) for d in holidays}
    expected = [d for d in weekdays_between(lo, hi, tuple(weekdays)) if d not in closed]
    assert (cal.name, cal.start, cal.end) == ("X", ymd(lo), ymd(hi))
    assert cal.sessions_in_range(ymd(lo), ymd(hi)) == expected
    for d in every:
        assert cal.is_session(d) == (ymd(d) in expected)


def test_from_holidays_refuses_a_closure_outside_its_span_and_bad_input():
    with pytest.raises(VizflowError, match="holiday 20260101 is outside the span 20270101..20271231"):
        vf.calendar.from_holidays(["20260101"], "20270101", "20271231")  # a typo in the year
    with pytest.raises(VizflowError, match="holidays: date #1 malformed date '2027-02-08'"):
        vf.calendar.from_holidays(["20270101", "2027-02-08"], "20270101", "20271231")
    with pytest.raises(VizflowError, match="start 20271231 is after end 20270101"):
        vf.calendar.from_holidays([], "20271231", "20270101")
    with pytest.raises(VizflowError, match="weekdays=\\(7,\\)"):
        vf.calendar.from_holidays([], "20270101", "20271231", weekdays=(7,))


def test_regression_extend_the_shipped_xshg_calendar_into_2027():
    """Issue 21: from 2027-01-01 every CN run failed until a new wheel shipped."""
    shipped = vf.datasets.xshg_calendar()
    year = vf.calendar.from_holidays(ILLUSTRATIVE_2027, "20270101", "20271231", name="XSHG 2027")
    cal = vf.calendar.extend(shipped, year)
    assert (cal.name, cal.start, cal.end) == ("XSHG", "19910101", "20271231")
    assert cal.next_session("20261231") == "20270104"
    assert vf.calendar.prev_day(cal, "20270104") == "20261231"
    assert cal.sessions_in_range("20270205", "20270216") == ["20270205", "20270215", "20270216"]
    assert cal.days[: len(shipped.days)] == shipped.days  # nothing before 2027 changed
    assert vf.calendar.extend(year, shipped) == dataclasses.replace(cal, name="XSHG 2027")  # either order


@given(
    dates=st.lists(st.dates(LO, HI), min_size=1, max_size=60),
    cuts=st.tuples(st.integers(0, 90), st.integers(0, 90)).map(sorted),
    flip=st.one_of(st.none(), st.integers(0, 90)),
)
def test_extend_two_pieces_of_one_calendar_gives_it_back_and_names_the_first_disagreement(dates, cuts, flip):
    whole = vf.calendar.generate([ymd(d) for d in dates], start=ymd(LO), end=ymd(HI))
    # two pieces whose spans overlap on cuts[0]..cuts[1] (or touch when they are equal - 1)
    a_end, b_start = LO + dt.timedelta(days=cuts[1]), LO + dt.timedelta(days=cuts[0])
    piece_a = vf.calendar.generate(
        whole.sessions_in_range(ymd(LO), ymd(a_end)), start=ymd(LO), end=ymd(a_end)
    )
    b_days = whole.sessions_in_range(ymd(b_start), ymd(HI))
    if flip is not None:  # make the second piece wrong on one date
        day = ymd(LO + dt.timedelta(days=flip))
        if ymd(b_start) <= day:
            b_days = sorted(set(b_days) ^ {day})
    piece_b = vf.calendar.generate(b_days, start=ymd(b_start), end=ymd(HI))
    disagree = sorted(set(piece_a.listed()) ^ set(piece_b.sessions_in_range(ymd(b_start), ymd(a_end))))
    disagree = [d for d in disagree if ymd(b_start) <= d <= ymd(a_end)]
    if disagree:
        with pytest.raises(CalendarError, match=f"the calendars disagree on {disagree[0]}:"):
            vf.calendar.extend(piece_a, piece_b)
        return
    joined = vf.calendar.extend(piece_a, piece_b)
    assert joined.listed() == tuple(sorted(set(piece_a.listed()) | set(piece_b.listed())))
    assert (joined.start, joined.end) == (ymd(LO), ymd(HI))
    if flip is None:
        assert joined == whole


def test_extend_refuses_a_gap_and_an_unbounded_rule_and_takes_frames():
    a = vf.calendar.generate(["20240102"], start="20240101", end="20240105")
    b = vf.calendar.generate(["20240109"], start="20240108", end="20240112")
    with pytest.raises(CalendarError, match="leave a gap, 20240106..20240107, that neither knows"):
        vf.calendar.extend(a, b)
    touching = vf.calendar.generate([], start="20240106", end="20240107")  # a weekend
    assert vf.calendar.extend(vf.calendar.extend(a, touching), b).days == ("20240102", "20240109")
    with pytest.raises(CalendarError, match="without both ends"):
        vf.calendar.extend(a, vf.calendar.Calendar(weekdays=(0, 1, 2, 3, 4), start="20240101"))
    two = vf.calendar.generate(["20240102", "20240103"], start="20240101", end="20240105")
    frame = pl.DataFrame({"date": [20240108, 20240103]})  # its span: 20240103..20240108
    assert vf.calendar.extend(two, frame).days == ("20240102", "20240103", "20240108")
    with pytest.raises(CalendarError, match="disagree on 20240102: a session of 'XSHG'.*not a session"):
        vf.calendar.extend(
            vf.calendar.from_holidays([], "20240101", "20240105", name="XSHG"),
            vf.calendar.generate(["20240103"], start="20240102", end="20240110"),
        )


# --- files: sessions or holidays, said by the header -------------------------------------------------


def test_regression_load_reads_a_holidays_file_said_by_its_header(tmp_path):
    """Issue 21: a calendar file could only list sessions, not the closures an exchange announces."""
    path = tmp_path / "xshg_2027.csv"
    path.write_text(
        "# XSHG closures 2027\n# span: 20270101..20271231\nholiday\n" + "\n".join(ILLUSTRATIVE_2027)
    )
    cal = vf.calendar.load(path)
    assert cal == vf.calendar.from_holidays(ILLUSTRATIVE_2027, "20270101", "20271231")
    assert len(cal.days) == 261 - 6  # 2027's weekdays minus six weekday closures
    sessions = tmp_path / "s.csv"
    sessions.write_text("# span: 20270101..20270105\nsession\n20270104\n20270105\n")
    assert vf.calendar.load(sessions).days == ("20270104", "20270105")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("h.csv", "holiday\n20270101\n", "needs the span they are complete for: add a line '# span:"),
        ("h.csv", "# span: 20270101..20271231\nholiday\n20280101\n", "holiday 20280101 is outside the span"),
        (
            "h.csv",
            "# span: 20270101..20271231\nholiday,session\n20270101,20270104\n",
            "more than one date column",
        ),
        (
            "h.csv",
            "# span: 20270101..20271231\nclosure\n20270101\n",
            "no 'date' column \\(nor 'session' or 'holiday'",
        ),
        ("h.csv", "# span: 20270101..20271231\nholiday\n2027-01-01\n", "date #0 malformed date '2027-01-01'"),
    ],
)
def test_load_holidays_file_errors(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(VizflowError, match=match):
        vf.calendar.load(tmp_path / name)


def test_load_refuses_a_parquet_holidays_file_without_a_span(tmp_path):
    pl.DataFrame({"holiday": ["20270101"]}).write_parquet(tmp_path / "h.parquet")
    with pytest.raises(VizflowError, match="write it as CSV with a line '# span:"):
        vf.calendar.load(tmp_path / "h.parquet")


# --- the error past a span: three ways out, and the Python one works as printed --------------------------


def suggested_code(message: str) -> str:
    return re.search(r"(cal = vf\.calendar\.extend\(.*\)\))\. See docs", message)[1]


@pytest.mark.parametrize(
    ("call", "day"),
    [
        (lambda cal: cal.is_session("20270104"), "20270104"),
        (lambda cal: vf.calendar.sessions(cal, "20261228", "20280105"), "20280105"),
        (lambda cal: cal.next_session("20261231"), "20270104"),
        (lambda cal: vf.calendar.prev_day(cal, "19910102"), "19901231"),
        (lambda cal: cal.is_session("19901231"), "19901231"),
    ],
)
def test_regression_error_past_the_span_names_three_ways_out_and_its_example_works(call, day):
    """Issue 21: the CalendarError past a span said only 'extend the calendar'."""
    cal = vf.datasets.xshg_calendar()
    with pytest.raises(CalendarError) as info:
        call(cal)
    message = str(info.value)
    assert "pip install -U exchange_calendars" in message
    assert "--calendar xshg_" in message
    assert "vf.calendar.from_holidays(" in message
    scope = {"vf": vf, "cal": cal}
    exec(suggested_code(message), scope)  # the example is copied as printed
    assert scope["cal"].covers(day)
    assert scope["cal"].days[:3] == cal.days[:3] or scope["cal"].start < cal.start


def test_error_past_the_span_file_example_loads(tmp_path):
    """The file the message describes, written as described, is what --calendar reads."""
    with pytest.raises(CalendarError) as info:
        vf.datasets.xshg_calendar().is_session("20270104")
    span = re.search(r"'(# span: \d{8}\.\.\d{8})'", str(info.value))[1]
    path = tmp_path / re.search(r"--calendar (\S+\.csv)", str(info.value))[1]
    path.write_text(f"{span}\nholiday\n20270101\n")
    assert vf.calendar.for_market("CN", file=path).is_session("20270104")


# --- exchange_calendars: used whenever it knows more ---------------------------------------------------


def test_from_exchange_xshg_without_exchange_calendars_uses_the_shipped_file(without_exchange_calendars):
    cal = vf.calendar.from_exchange("XSHG", "20240205", "20240220")
    assert cal.days == ("20240205", "20240206", "20240207", "20240208", "20240219", "20240220")
    assert (cal.name, cal.start, cal.end) == ("XSHG", "20240205", "20240220")
    with pytest.raises(ImportError, match="pip install 'vizflow\\[calendars\\]'"):
        vf.calendar.from_exchange("XSHG", "20260101", "20270131")  # past the shipped file
    with pytest.raises(ImportError, match="vizflow\\[calendars\\]"):
        vf.calendar.from_exchange("XHKG", "20240101", "20240131")
    assert vf.calendar.for_market("CN") is vf.datasets.xshg_calendar()


class _Newer:
    """A stand-in for an exchange_calendars release that lists XSHG's 2027 closures."""

    __version__ = "99.0"

    class XSHG:
        @staticmethod
        def bound_min():
            return dt.date(1990, 12, 3)

        @staticmethod
        def bound_max():
            return dt.date(2027, 12, 31)

        def __init__(self, start: str, end: str):
            lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            closed = set(ILLUSTRATIVE_2027)
            self.sessions = [
                d for d in (lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1))
                if d.weekday() < 5 and ymd(d) not in closed
            ]  # fmt: skip

    @classmethod
    def get_calendar(cls, name, start="2027-01-01", end="2027-12-31"):
        assert name == "XSHG"
        assert start >= "2027-01-01", "the shipped years come from the shipped file"
        return cls.XSHG(start, end)


def test_regression_for_market_cn_uses_an_exchange_calendars_that_knows_more(monkeypatch):
    """Issue 21: for_market("CN") ignored an installed exchange_calendars that lists the next year."""
    monkeypatch.setitem(sys.modules, "exchange_calendars", _Newer)
    cal = vf.calendar.for_market("CN")
    assert (cal.name, cal.start, cal.end) == ("XSHG", "19910101", "20271231")
    assert cal.next_session("20261231") == "20270104"
    assert not cal.is_session("20270208")
    assert vf.calendar.for_market(vf.CN_FUTURES) is cal


class _Older:
    """A stand-in for an exchange_calendars release that lists XSHG only to 2025."""

    __version__ = "0.1"

    class XSHG(_Newer.XSHG):
        @staticmethod
        def bound_max():
            return dt.date(2025, 12, 31)

    @classmethod
    def get_calendar(cls, name, start=None, end=None):
        assert name == "XSHG"
        assert start is None, "an older package is asked only for its bounds"
        return cls.XSHG("2025-01-01", "2025-01-31")


def test_for_market_cn_keeps_the_shipped_file_when_exchange_calendars_knows_less(monkeypatch):
    monkeypatch.setitem(sys.modules, "exchange_calendars", _Older)
    assert vf.calendar.for_market("CN") is vf.datasets.xshg_calendar()


def test_for_market_file_replaces_a_weekday_rule_and_extends_a_list(tmp_path, without_exchange_calendars):
    """A weekday rule knows no holidays, so a file for HK (without exchange_calendars) is used alone."""
    path = tmp_path / "hk_2024.csv"
    path.write_text("# span: 20240101..20241231\nholiday\n20240101\n20241225\n20241226\n")
    cal = vf.calendar.for_market("HK", file=path)
    assert (cal.name, cal.start, cal.end) == ("HK", "20240101", "20241231")
    assert not cal.is_session("20241225")
    with pytest.raises(CalendarError, match="outside the HK calendar"):
        cal.is_session("20250102")


def test_regression_for_market_file_that_disagrees_names_file_and_date(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("# span: 20240101..20241231\nholiday\n20240101\n20241225\n")
    with pytest.raises(
        CalendarError, match=r"wrong.csv': the calendars disagree on 20240209: not a session of 'XSHG'"
    ):
        vf.calendar.for_market("CN", file=path)  # it misses the Spring Festival, 20240209 comes first


def test_from_holidays_and_generate_take_a_column_of_any_date_dtype():
    column = pl.DataFrame({"holiday": [20270101, 20270105]})["holiday"]  # e.g. read from a file
    cal = vf.calendar.from_holidays(column, "20270101", "20270108")
    assert cal.days == ("20270104", "20270106", "20270107", "20270108")
    dates = pl.Series([dt.date(2024, 1, 3), dt.date(2024, 1, 2)])
    assert vf.calendar.generate(dates).days == ("20240102", "20240103")
