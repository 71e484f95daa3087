"""Real session days: night sessions belong to the next trading day; one day's sessions from a schedule."""

from __future__ import annotations

import datetime as dt
import sys

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
from tests.strategies import ms_times_of_day, to_hhmmssmmm
from vizflow.exceptions import CalendarError, DataError, VizflowError

XSHG = vf.datasets.xshg_calendar()


def next_session_after(day: dt.date) -> str:
    """The first XSHG session strictly after ``day``, by walking the calendar's day list."""
    text = day.strftime("%Y%m%d")
    return next(d for d in XSHG.days if d > text)


def futures_rule(day: dt.date, t: dt.time) -> str | None:
    """CN_FUTURES by hand: 18:00-24:00 opens the next trading day's night, 00:00-05:45 continues it."""
    if t >= dt.time(18, 0):
        return next_session_after(day)
    if t < dt.time(5, 45):
        return next_session_after(day - dt.timedelta(days=1))
    text = day.strftime("%Y%m%d")
    return text if text in XSHG.days else None  # None: a day-session print on a non-session


def test_friday_night_belongs_to_monday_and_holidays_are_skipped():
    prints = pl.DataFrame(
        {
            "date": ["20240105", "20240105", "20240106", "20240108", "20240208", "20240209", "20240219"],
            "ticktime": [
                205_500_000,
                213_000_000,
                10_000_000,
                90_000_000,
                223_000_000,
                13_000_000,
                93_000_000,
            ],
        }
    )
    out = vf.trading_date(prints, vf.CN_FUTURES)
    # Fri 20:55 auction, Fri 21:30, Sat 01:00 -> Mon; Mon 09:00 -> Mon; the night before the
    # Spring Festival (Thu 8 Feb 2024) and its small hours -> Mon 19 Feb, the first session after.
    assert out.get_column("trading_date").to_list() == [
        "20240108",
        "20240108",
        "20240108",
        "20240108",
        "20240219",
        "20240219",
        "20240219",
    ]


@given(
    st.lists(
        st.tuples(st.dates(dt.date(2023, 12, 20), dt.date(2024, 2, 25)), ms_times_of_day),
        min_size=1,
        max_size=30,
    )
)
def test_cn_futures_equals_the_hand_written_rule(rows):
    expected = [futures_rule(d, t) for d, t in rows]
    frame = pl.DataFrame(
        {"date": [d.strftime("%Y%m%d") for d, _ in rows], "ticktime": [to_hhmmssmmm(t) for _, t in rows]}
    )
    if None in expected:
        with pytest.raises(DataError, match="day-session print on .* not a session"):
            vf.trading_date(frame, vf.CN_FUTURES)
        return
    assert vf.trading_date(frame, vf.CN_FUTURES).get_column("trading_date").to_list() == expected


def test_a_day_market_keeps_the_date_and_refuses_a_holiday():
    ok = pl.DataFrame({"date": ["20240102"], "ticktime": [93_000_000]})
    assert vf.trading_date(ok, vf.CN).get_column("trading_date").to_list() == ["20240102"]
    holiday = pl.DataFrame({"date": ["20240101"], "ticktime": [93_000_000]})
    with pytest.raises(DataError, match="20240101, which is not a session"):
        vf.trading_date(holiday, vf.CN)
    beyond = pl.DataFrame({"date": ["20270104"], "ticktime": [93_000_000]})
    with pytest.raises(CalendarError, match="20270104 is outside the XSHG calendar"):
        vf.trading_date(beyond, vf.CN)


def test_date_dtypes_are_kept_and_datetimes_carry_their_own_date():
    base = {"ticktime": [213_000_000, 100_000_000]}
    as_date = pl.DataFrame({"date": [dt.date(2024, 1, 5), dt.date(2024, 1, 8)], **base})
    assert vf.trading_date(as_date, vf.CN_FUTURES).get_column("trading_date").to_list() == [
        dt.date(2024, 1, 8),
        dt.date(2024, 1, 8),
    ]
    as_int = pl.DataFrame({"date": [20240105, 20240108], **base})
    out = vf.trading_date(as_int, vf.CN_FUTURES)
    assert out.schema["trading_date"] == pl.Int64
    assert out.get_column("trading_date").to_list() == [20240108, 20240108]
    utc = pl.Series([dt.datetime(2024, 1, 5, 13, 30), dt.datetime(2024, 1, 5, 17, 0)]).dt.replace_time_zone(
        "UTC"
    )
    stamped = pl.DataFrame({"ts": utc})  # 21:30 Friday and 01:00 Saturday in Shanghai
    got = vf.trading_date(stamped, vf.CN_FUTURES, "ts", date_col=None)
    assert got.get_column("trading_date").to_list() == [dt.date(2024, 1, 8), dt.date(2024, 1, 8)]


def test_nulls_stay_null_and_lazy_stays_lazy():
    lf = pl.LazyFrame({"date": ["20240105", None, "20240105"], "ticktime": [213_000_000, 213_000_000, None]})
    out = vf.trading_date(lf, vf.CN_FUTURES)
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().get_column("trading_date").to_list() == ["20240108", None, None]


def test_bad_arguments_are_refused():
    df = pl.DataFrame({"date": ["2024-01-05"], "ticktime": [213_000_000]})
    with pytest.raises(DataError, match="'2024-01-05', not a date YYYYMMDD"):
        vf.trading_date(df, vf.CN_FUTURES)
    with pytest.raises(VizflowError, match="date_col=None needs a Datetime"):
        vf.trading_date(df, vf.CN_FUTURES, date_col=None)
    with pytest.raises(VizflowError, match="out='date' already exists"):
        vf.trading_date(df, vf.CN_FUTURES, out="date")


def night_and_day() -> pl.DataFrame:
    """One CN_FUTURES trading day: Friday 2024-01-05 night, past midnight, then Monday's day session."""
    clock = [
        ("20240105", 210_000_000, 100.0),
        ("20240105", 235_950_000, 101.0),
        ("20240106", 10_000, 102.0),  # 00:00:10 Saturday
        ("20240106", 23_000_000, 103.0),  # 02:30 Saturday, the night close
        ("20240108", 90_000_000, 104.0),  # 09:00 Monday
        ("20240108", 150_000_000, 105.0),
    ]
    return pl.DataFrame(
        {
            "symbol": ["au2402"] * len(clock),
            "date": [c[0] for c in clock],
            "ticktime": [c[1] for c in clock],
            "mid": [c[2] for c in clock],
        }
    )


def test_regression_night_and_day_frame_is_one_continuous_trading_day():
    """parse_time counts 21:00-02:30 through midnight and the day after it, on one trading day."""
    frame = vf.parse_time(vf.trading_date(night_and_day(), vf.CN_FUTURES), vf.CN_FUTURES)
    assert frame.get_column("trading_date").unique().to_list() == ["20240108"]
    assert frame.get_column("elapsed_seconds").to_list() == [
        0.0,
        10_790.0,
        10_810.0,
        19_800.0,
        19_800.0,
        33_300.0,
    ]
    assert vf.CN_FUTURES.total_seconds == 33_300.0
    # Keyed by the trading day, a 20 s return from 23:59:50 reads the 00:00:10 price.
    out = vf.forward_return(
        frame.drop("date"), [20], symbol_col=["trading_date", "symbol"], date_col="trading_date"
    )
    assert out.get_column("return_20")[1] == pytest.approx(102.0 / 101.0 - 1)


# --- one day's market from exchange_calendars ----------------------------------------------------


def test_xnys_half_day_after_thanksgiving():
    pytest.importorskip("exchange_calendars")
    day = vf.market_for("XNYS", "20261127")
    assert day.describe() == "09:30:00-13:00:00"
    assert day.total_seconds == 3.5 * 3600
    times = pl.DataFrame({"t": ["09:30:00", "13:00:00", "15:59:00"]})
    clock = vf.parse_time(times, day, "t").get_column("elapsed_seconds").to_list()
    assert clock == [0.0, 12_600.0, 12_600.0]  # a 15:59 print is after that day's close
    assert vf.market_for("XNYS", "20261125").total_seconds == 6.5 * 3600


def test_lunch_breaks_and_a_half_day_without_one():
    pytest.importorskip("exchange_calendars")
    assert vf.market_for("XSHG", "20240102").describe() == "09:30:00-11:30:00, 13:00:00-15:00:00"
    assert vf.market_for("XSHG", dt.date(2024, 1, 2)).total_seconds == vf.CN.total_seconds
    assert vf.market_for("XHKG", "20241224").describe() == "09:30:00-12:00:00"  # Christmas Eve


def test_not_a_session_and_unknown_exchange_are_calendar_errors():
    pytest.importorskip("exchange_calendars")
    with pytest.raises(CalendarError, match="20261126 is not a session of XNYS"):
        vf.market_for("XNYS", "20261126")  # Thanksgiving
    with pytest.raises(CalendarError, match="'XXXX'"):
        vf.market_for("XXXX", "20261126")


@pytest.mark.parametrize("exchange", ["XNYS", "XHKG", "XSHG", "XTKS", "XLON"])
def test_every_irregular_day_equals_the_exchange_calendars_schedule(exchange):
    """Each early close and late open of 2024-2026, and a few regular days, against the schedule."""
    xcals = pytest.importorskip("exchange_calendars")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
        cal = xcals.get_calendar(exchange, start="2024-01-01", end="2026-12-31")
        schedule = cal.schedule
        irregular = {*cal.early_closes, *cal.late_opens}
    days = sorted({*irregular, *schedule.index[::150]})
    assert days
    for day in days:
        row = schedule.loc[day]
        length = (row["close"] - row["open"]).total_seconds()
        if row.notna()["break_start"]:
            length -= (row["break_end"] - row["break_start"]).total_seconds()
        market = vf.market_for(exchange, day.strftime("%Y%m%d"))
        assert market.total_seconds == length, day
        assert market.tz == str(cal.tz)
        assert market.sessions[0].start == row["open"].tz_convert(cal.tz).strftime("%H:%M:%S"), day
        assert market.sessions[-1].end == row["close"].tz_convert(cal.tz).strftime("%H:%M:%S"), day


def test_without_exchange_calendars_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "exchange_calendars", None)
    with pytest.raises(ImportError, match=r"pip install 'vizflow\[calendars\]'"):
        vf.market_for("XNYS", "20261127")
