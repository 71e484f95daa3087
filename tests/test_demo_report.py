"""The demo report's tables on the real sample hold the right numbers, computed here from the sample's
rows in plain Python (bisect for the quote in force, the clustered se written out), not read from vizflow."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

import polars as pl
import pytest

pytest.importorskip("plotly")

from scipy.stats import t as scipy_t

import vizflow as vf
from tests.test_data_quality import outside_quote_reference, phase
from tests.viz.report_tables import ParsedTable, number, report_tables
from vizflow import demo

QUALITY = "data quality: defects per date and symbol (vf.quality)"
COSTS = "where the cost of a trade goes: the spread decomposition at 60 s"
SESSIONS = "trades per session"
OPEN, LUNCH, AFTERNOON, CLOSE = 34_200, 41_400, 46_800, 54_000  # CN: 09:30, 11:30, 13:00, 15:00 (s)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    """The demo's steps that the report's day tables need (no batch), then the report's HTML."""
    state = demo.DemoState(output=tmp_path_factory.mktemp("demo"))
    for step in (
        demo.load_sample, demo.session_clock, demo.forward_returns, demo.round_trips,
        demo.costs_and_quality, demo.report,
    ):  # fmt: skip
        step(state)
    return (state.output / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(page) -> dict[str, ParsedTable]:
    return report_tables(page)


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    return vf.datasets.cn_sample_trades()


@pytest.fixture(scope="module")
def quotes() -> pl.DataFrame:
    return vf.datasets.cn_sample_quotes()


def seconds(ticktime: int) -> float:
    """HHMMSSmmm -> seconds of the day."""
    return ticktime // 10_000_000 * 3600 + ticktime // 100_000 % 100 * 60 + ticktime % 100_000 / 1000


def clock(ticktime: int) -> float:
    """The CN session clock: 09:30 is 0, the lunch break takes no time; earlier and later clamp."""
    s = min(max(seconds(ticktime), OPEN), CLOSE)
    if s <= LUNCH:
        return s - OPEN
    return LUNCH - OPEN + max(s - AFTERNOON, 0.0)


def test_the_report_shows_the_day_tables(report, page):
    assert list(report) == [SESSIONS, QUALITY, COSTS]  # no batch ran: no table of its dates
    notes = page[page.index("<ul>") : page.index("</ul>")]
    assert "FIFO on" in notes
    for tabled in ("trades per session:", "data quality (vf.quality", "where the trades' cost goes"):
        assert tabled not in notes  # shown as a table, not repeated as a note


def test_trades_per_session_table(report, trades):
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, qty in zip(trades["ticktime"], trades["qty"], strict=True):
        session = (
            "open auction" if t < 93_000_000 else "close auction" if t >= 150_000_000
            else "morning" if t < 113_000_000 else "afternoon"
        )  # fmt: skip
        counts[session][0] += 1
        counts[session][1] += qty
    table = report[SESSIONS]
    assert table.header == ["session", "trades", "shares"]
    names = ["open auction", "morning", "afternoon", "close auction"]
    assert table.body == [[s, f"{counts[s][0]:,}", f"{counts[s][1]:,}"] for s in names]
    assert table.foot == [["all", f"{trades.height:,}", f"{sum(trades['qty']):,}"]]
    assert table.classes[0] == ["", "num", "num"]


def test_quality_table_counts_what_the_sample_holds(report, trades, quotes):
    table = report[QUALITY]
    # The clean sample's only defect is outside_quote (tests/test_data_quality.py counts every rule in
    # plain Python): every other defect column is 0 everywhere, so the table leaves it out.
    assert table.header == ["date", "symbol", "trades", "auction_trades", "quotes", "outside_quote", "issues"]
    assert "0 on every row, so not shown: bad_prices, bad_times, duplicate_trades" in table.caption
    expected = []
    for date in sorted(quotes["date"].unique()):
        for symbol in sorted(quotes["symbol"].unique()):
            day = trades.filter(pl.col("date") == date, pl.col("symbol") == symbol)
            book = quotes.filter(pl.col("date") == date, pl.col("symbol") == symbol)
            auction = sum(phase(t) == "auction" for t in day["ticktime"])
            outside = sum(outside_quote_reference(day, book)) if day.height else 0
            expected.append([date, symbol, day.height, auction, book.height, outside, outside])
    assert [[r[0], r[1], *map(number, r[2:])] for r in table.body] == expected
    sums = [sum(r[i] for r in expected) for i in range(2, 7)]
    assert [number(c) for c in table.foot[0][2:]] == sums
    assert table.foot[0][:2] == ["all", ""]
    assert all(row[2:] == [f"{int(number(c)):,}" for c in row[2:]] for row in table.body)  # separators
    assert table.classes[0] == ["", "", "num", "num", "num", "num", "num"]


def costs_reference(trades: pl.DataFrame, quotes: pl.DataFrame) -> dict[str, dict[str, list]]:
    """Per size bucket and measure: (date, value in bp) of every print with an aggressor side."""
    books = {}
    for (date, symbol), book in quotes.group_by("date", "symbol"):
        columns = [book[c].to_list() for c in ("ticktime", "bid", "ask", "mid")]
        rows = sorted(zip(*columns, strict=True), key=lambda r: (clock(r[0]), r[0]))  # time order
        books[date, symbol] = ([clock(r[0]) for r in rows], rows)
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    prints = trades.select("date", "symbol", "ticktime", "price", "side", "qty").rows()
    for date, symbol, t, price, side, qty in prints:
        if side == 0:
            continue
        size = "<=100" if qty <= 100 else "101-500" if qty <= 500 else ">500"
        out[size]["n"].append(date)
        times, rows = books[date, symbol]
        now = bisect.bisect_right(times, clock(t)) - 1  # the last quote at or before, in time order
        later = bisect.bisect_right(times, clock(t) + 60) - 1
        _, bid, ask, mid = rows[now] if now >= 0 else (None,) * 4
        mid_later = rows[later][3] if later >= 0 else None
        if mid is None:
            continue
        if bid is not None and ask is not None:
            out[size]["quoted"].append((date, (ask - bid) / mid * 1e4))
        out[size]["effective"].append((date, 2 * side * (price - mid) / mid * 1e4))
        if mid_later is not None:
            out[size]["realized 60 s"].append((date, 2 * side * (price - mid_later) / mid * 1e4))
            out[size]["impact 60 s"].append((date, 2 * side * (mid_later - mid) / mid * 1e4))
    return out


def mean_and_ci(values: list[tuple[str, float]]) -> tuple[float, float]:
    """The mean and the half-width of its 95% CI with se clustered by date, written out."""
    n = len(values)
    mean = sum(v for _, v in values) / n
    deviations: dict[str, float] = defaultdict(float)
    for date, v in values:
        deviations[date] += v - mean
    g = len(deviations)
    se = math.sqrt(g / (g - 1) * sum(d * d for d in deviations.values())) / n
    return mean, scipy_t.ppf(0.975, g - 1) * se


def test_spread_decomposition_table_holds_the_means_and_clustered_bands(report, trades, quotes):
    table = report[COSTS]
    measures = ["quoted", "effective", "realized 60 s", "impact 60 s"]
    assert table.header == ["size", "trades", *(h for m in measures for h in (m, "\u00b1"))]
    reference = costs_reference(trades, quotes)
    assert [row[0] for row in table.body] == ["<=100", "101-500", ">500"]
    for row in table.body:
        cells = reference[row[0]]
        assert number(row[1]) == len(cells["n"])
        assert row[1] == f"{len(cells['n']):,}"
        for k, measure in enumerate(measures):
            mean, half = mean_and_ci(cells[measure])
            shown_mean, shown_half = row[2 + 2 * k], row[3 + 2 * k]
            assert shown_mean[0] in "+-"
            assert number(shown_mean) == pytest.approx(mean, abs=0.005 + 1e-9), (row[0], measure)
            assert number(shown_half) == pytest.approx(half, abs=0.005 + 1e-9), (row[0], measure)
    unmarked = sum(len(c["effective"]) - len(c["realized 60 s"]) for c in reference.values())
    assert unmarked == 8  # the prints of 14:56 whose mid 60 s later is the closing auction's empty book
    assert f"trades: prints ({unmarked} of them with no mid 60 s later" in table.caption
    dates = trades["date"].n_unique()
    assert f"se clustered by date (G = {dates} dates)" in table.caption
    assert "effective: 2D (P - M_t) / M_t" in table.caption
    assert table.classes[0] == ["", *["num"] * 9]
