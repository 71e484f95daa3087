"""vizflow.data_quality (vf.quality): each defect injected into the real sample is counted back; the
clean sample's counts come from plain Python over its rows."""

from __future__ import annotations

import bisect
import importlib
import importlib.util
import itertools
import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf
import vizflow.cli
from vizflow import demo
from vizflow.data_quality import COUNTS, ISSUES, RULES

DAY, SYMBOL = "20230201", "600519.SH"


def continuous(ticktime: int) -> bool:  # CN continuous trading, written out (not session_phase)
    return 93000000 <= ticktime < 113000000 or 130000000 <= ticktime < 145700000


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    return vf.datasets.cn_sample_trades(DAY)


@pytest.fixture(scope="module")
def quotes() -> pl.DataFrame:
    return vf.datasets.cn_sample_quotes(DAY)


def counts(trades: pl.DataFrame, quotes: pl.DataFrame, **kwargs) -> dict[str, int]:
    out = vf.quality(trades, quotes, vf.CN, bid_size_col="bid_size", ask_size_col="ask_size", **kwargs)
    return out.filter(pl.col("symbol") == SYMBOL).select(*COUNTS, "issues").row(0, named=True)


def outside_quote_reference(trades: pl.DataFrame, quotes: pl.DataFrame) -> list[bool]:
    """For each trade: a continuous print outside the last quote at or before it (bisect, in Python)."""
    book = quotes.filter(pl.col("symbol") == SYMBOL).sort("ticktime", maintain_order=True)
    times, bids, asks = book["ticktime"].to_list(), book["bid"].to_list(), book["ask"].to_list()
    flags = []
    for t, p in zip(trades["ticktime"], trades["price"], strict=True):
        i = bisect.bisect_right(times, t) - 1
        ok = continuous(t) and i >= 0 and bids[i] is not None and asks[i] is not None and p > 0
        flags.append(ok and (p < bids[i] or p > asks[i]))
    return flags


@pytest.fixture(scope="module")
def clean(trades, quotes) -> dict[str, int]:
    return counts(trades, quotes)


def test_the_clean_sample_counts_what_it_holds(trades, quotes, clean):
    q = quotes.filter(pl.col("symbol") == SYMBOL)
    assert clean["trades"] == trades.height == 27135
    assert clean["quotes"] == q.height == 5109
    assert clean["auction_trades"] == (trades["side"] == 0).sum() == 563  # 09:25 and 15:00 matches
    assert clean["outside_quote"] == sum(outside_quote_reference(trades, quotes)) == 7064
    # The 3-second snapshots: every continuous print has a book in force; 26 % print outside it.
    zero = [c for c in ISSUES if c != "outside_quote"]
    assert {c: clean[c] for c in zero} == dict.fromkeys(zero, 0)
    assert clean["issues"] == 7064


def test_auction_snapshots_are_locked_but_not_counted(quotes, clean):
    locked = quotes.filter(pl.col("symbol") == SYMBOL, pl.col("bid") == pl.col("ask"))
    assert locked.height > 100
    assert not any(continuous(t) for t in locked["ticktime"])
    assert clean["locked_quotes"] == 0


def test_all_three_days_lazy_equals_eager():
    t, q = vf.datasets.cn_sample_trades(), vf.datasets.cn_sample_quotes()
    eager = vf.quality(t, q, vf.CN)
    lazy = vf.quality(t.lazy(), q.lazy(), vf.CN)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(eager)
    assert eager.select("date", "symbol").rows() == [
        (d, s) for d in vf.datasets.SAMPLE_DATES for s in ("000333.SZ", SYMBOL)
    ]
    assert eager.filter(pl.col("symbol") == "000333.SZ")["trades"].to_list() == [0, 0, 0]
    shuffled = vf.quality(t.sample(fraction=1.0, shuffle=True, seed=1), q, vf.CN)
    assert shuffled.drop("out_of_order", "issues").equals(eager.drop("out_of_order", "issues"))
    assert shuffled["out_of_order"].sum() > 1000  # file order is what out_of_order reads
    totals = vf.quality_totals(eager)
    assert totals.filter(pl.col("symbol") == SYMBOL).select("dates", "trades").row(0) == (3, 78404)
    assert vf.quality_totals(eager, by=None)["quotes"].item() == q.height
    assert vf.worst_dates(eager, 2)["date"].to_list() == ["20230203", "20230201"]  # 7923, 7064 issues


def rows_where(frame: pl.DataFrame, k: int, condition: pl.Expr) -> list[int]:
    index = frame.with_row_index("i").filter(condition)["i"].to_list()
    step = len(index) // (k + 1)
    return [index[step * (j + 1)] for j in range(k)]


def set_at(frame: pl.DataFrame, rows: list[int], **values) -> pl.DataFrame:
    hit = pl.int_range(pl.len()).is_in(rows)
    return frame.with_columns(
        **{
            c: pl.when(hit).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c))
            for c, v in values.items()
        }
    )


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {c: after[c] - before[c] for c in COUNTS if after[c] != before[c]}


CONT = pl.col("ticktime").is_between(93000000, 112959999) | pl.col("ticktime").is_between(
    130000000, 145659999
)
SH_CONT = (pl.col("symbol") == SYMBOL) & CONT


def test_crossed_quotes_are_counted(trades, quotes, clean):
    rows = rows_where(quotes, 5, SH_CONT)
    bad = quotes.with_columns(
        bid=pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.col("ask") + 0.01).otherwise("bid")
    )
    got = delta(counts(trades, bad), clean)
    assert got.pop("crossed_quotes") == 5
    assert set(got) <= {"outside_quote", "unquoted_trades"}  # trades in force of a crossed book lose it


def test_locked_quotes_are_counted(trades, quotes, clean):
    rows = rows_where(quotes, 3, SH_CONT & (pl.col("ask") - pl.col("bid") > 0.05))
    bad = quotes.with_columns(
        bid=pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.col("ask")).otherwise("bid")
    )
    got = delta(counts(trades, bad), clean)
    assert got.pop("locked_quotes") == 3
    assert set(got) <= {"outside_quote"}


def test_bad_prices_are_counted(trades, quotes, clean):
    rows = rows_where(trades, 6, CONT)
    bad = set_at(trades, rows[:2], price=0.0)
    bad = set_at(bad, rows[2:3], price=math.nan)
    bad = set_at(bad, rows[3:4], price=-1.0)
    bad = set_at(bad, rows[4:5], qty=-100)
    bad = set_at(bad, rows[5:6], price=None)
    got = delta(counts(bad, quotes), clean)
    assert got.pop("bad_prices") == 6
    assert set(got) <= {"outside_quote"}  # a bad price is no longer counted outside the quote


def test_bad_times_are_counted(trades, quotes, clean):
    rows = rows_where(trades, 2, CONT)
    bad = set_at(set_at(trades, rows[:1], ticktime=None), rows[1:], ticktime=256000000)
    got = delta(counts(bad, quotes), clean)
    assert got.pop("bad_times") == 2
    assert set(got) <= {"outside_quote", "out_of_order"}


def test_duplicate_trades_are_counted(trades, quotes, clean):
    rows = rows_where(trades, 4, CONT)
    bad = pl.concat([trades.with_row_index("i"), trades.with_row_index("i")[rows]]).sort(
        "i", maintain_order=True
    )
    got = delta(counts(bad.drop("i"), quotes), clean)
    assert got.pop("duplicate_trades") == 4
    assert got.pop("trades") == 4
    assert set(got) <= {"outside_quote"}


def test_the_same_print_without_its_trade_id_is_no_duplicate_of_a_sweep(trades, quotes):
    """A sweep prints several fills at one millisecond, price and size: only the id tells them apart."""
    no_id = trades.drop("trade_id")
    without_id = counts(no_id, quotes)
    assert without_id["duplicate_trades"] == no_id.height - no_id.unique().height == 4763
    assert counts(trades, quotes)["duplicate_trades"] == 0


def test_out_of_order_trades_and_quotes_are_counted(trades, quotes, clean):
    def swap(frame: pl.DataFrame, rows: list[int]) -> pl.DataFrame:
        order = list(range(frame.height))
        for r in rows:
            order[r], order[r + 1] = order[r + 1], order[r]
        return frame[order]

    later = pl.col("ticktime").shift(-1) > pl.col("ticktime")
    t_rows = rows_where(trades, 3, CONT & later)
    q_rows = rows_where(quotes, 2, SH_CONT & later & (pl.col("symbol").shift(-1) == SYMBOL))
    got = delta(counts(swap(trades, t_rows), swap(quotes, q_rows)), clean)
    assert got.pop("out_of_order") == 3
    assert got.pop("quotes_out_of_order") == 2
    assert set(got) <= {"outside_quote"}


def test_stale_quotes_are_counted(trades, quotes, clean):
    gap = (pl.col("symbol") == SYMBOL) & pl.col("ticktime").is_between(100000000, 100100000)
    gap2 = (pl.col("symbol") == SYMBOL) & pl.col("ticktime").is_between(140000000, 140040000)
    got = delta(counts(trades, quotes.filter(~gap & ~gap2)), clean)
    assert got.pop("quotes") < 0
    assert got.pop("stale_quotes") == 2  # 60 s and 40 s without a quote; 30 s is the default limit
    assert set(got) <= {"outside_quote"}
    assert counts(trades, quotes.filter(~gap & ~gap2), stale_after=50)["stale_quotes"] == 1


def test_a_gap_over_the_lunch_break_is_not_stale(trades, quotes):
    lunch = (pl.col("symbol") == SYMBOL) & pl.col("ticktime").is_between(112959000, 130001000)
    assert counts(trades, quotes.filter(~lunch))["stale_quotes"] == 0


def test_one_sided_and_bad_quotes_are_counted(trades, quotes, clean):
    rows = rows_where(quotes, 6, SH_CONT)
    bad = set_at(quotes, rows[:3], bid=None)
    bad = set_at(bad, rows[3:4], ask=math.nan)
    bad = set_at(bad, rows[4:6], bid_size=0)
    got = delta(counts(trades, bad), clean)
    assert got.pop("one_sided_quotes") == 3
    assert got.pop("bad_quotes") == 3
    assert set(got) <= {"outside_quote", "unquoted_trades"}


def test_outside_quote_is_counted(trades, quotes, clean):
    inside = [not f for f in outside_quote_reference(trades, quotes)]
    cont = trades.with_columns(ok=pl.Series(inside))
    rows = rows_where(cont, 4, CONT & pl.col("ok"))
    got = delta(counts(set_at(trades, rows, price=99999.0), quotes), clean)
    assert got == {"outside_quote": 4}


def test_outside_session_and_auctions_are_counted_apart(trades, quotes, clean):
    extra = trades.tail(3).with_columns(ticktime=pl.Series([120000000, 151000000, 160000000]))
    got = delta(counts(pl.concat([trades, extra]), quotes), clean)
    assert got.pop("trades") == 3
    assert got.pop("outside_session") == 3  # the break, after hours, closed
    assert set(got) <= {"out_of_order"}


def test_clear_errors(trades, quotes):
    with pytest.raises(vf.VizflowError, match="stale_after=0"):
        vf.quality(trades, quotes, vf.CN, stale_after=0)
    with pytest.raises(vf.ColumnNotFoundError, match="'px'"):
        vf.quality(trades, quotes, vf.CN, price_col="px")
    with pytest.raises(vf.SchemaError, match="'ticktime'.*orderable"):
        vf.quality(trades.with_columns(pl.col("ticktime").cast(pl.String)), quotes, vf.CN)
    with pytest.raises(vf.SchemaError, match="'date'.*Int64"):
        vf.quality(trades.with_columns(pl.col("date").cast(pl.Int64)), quotes, vf.CN)


def test_vizflow_quality_command_prints_the_worst_dates(tmp_path, capsys):
    t, q = vf.datasets.cn_sample_trades(), vf.datasets.cn_sample_quotes()
    for day in vf.datasets.SAMPLE_DATES:
        vf.save(t.filter(pl.col("date") == day), tmp_path / "trades" / f"{day}.parquet")
        vf.save(q.filter(pl.col("date") == day), tmp_path / "quotes" / f"{day}.parquet")
    (tmp_path / "cfg.toml").write_text(
        'input_pattern = "trades/{date}.parquet"\nmarket = "CN"\n'
        '[sources]\nquotes = "quotes/{date}.parquet"\n'
    )
    code = vizflow.cli.main(
        [
            "quality",
            "--config",
            str(tmp_path / "cfg.toml"),
            "--dates",
            "20230201:20230203",
            "--workers",
            "1",
            "--top",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 succeeded" in out
    worst = out.split("worst dates")[1]
    assert worst.index("20230203") < worst.index("20230201")
    assert "20230202" not in worst
    saved = pl.read_parquet(tmp_path / "output" / "quality" / "20230202.parquet")
    assert saved.equals(
        vf.quality(t.filter(pl.col("date") == "20230202"), q.filter(pl.col("date") == "20230202"), vf.CN)
    )


# --- against a plain-Python reference on small random days -------------------------------------------


# CN times of day, one in each phase: pre-open, the opening auction, continuous (morning), the
# break, continuous (afternoon), the closing auction, after hours, and a time that is none.
TIMES = [91000000, 92500000, 93000000, 93010000, 93100000, 100000000, 120000000, 130000000, 130020000,
         145600000, 145700000, 150000000, 151000000]  # fmt: skip
PRICES = [None, math.nan, 0.0, -1.0, 10.0, 10.1, 10.2, 10.3]


def elapsed(ticktime: int) -> float | None:
    s = (ticktime // 10000000) * 3600 + (ticktime // 100000 % 100) * 60 + ticktime // 1000 % 100
    if 34200 <= s < 41400:
        return s - 34200.0
    if 46800 <= s < 53820:
        return 7200.0 + s - 46800
    return None


def phase(ticktime: int | None) -> str | None:
    if ticktime is None:
        return None
    if 91500000 <= ticktime < 93000000:
        return "auction"
    if 145700000 <= ticktime < 150500000:
        return "auction"
    return "continuous" if continuous(ticktime) else "other"


def good(x) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def quality_reference(
    trades: list[tuple], quotes: list[tuple], stale_after: float
) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = {}

    def row(key):
        return out.setdefault(key, dict.fromkeys(COUNTS, 0))

    seen, last_time = set(), {}
    for r in trades:
        date, sym, t, price, qty = r
        c = row((date, sym))
        c["trades"] += 1
        c["bad_prices"] += not (good(price) and good(qty))
        c["bad_times"] += t is None
        c["duplicate_trades"] += r in seen or any(
            x == r or (x[:3] == r[:3] and _same(x[3], price) and x[4] == qty) for x in seen
        )
        seen.add(r)
        prev = last_time.get((date, sym))
        c["out_of_order"] += t is not None and prev is not None and t < prev
        if t is not None or (date, sym) not in last_time:
            last_time[(date, sym)] = t if t is not None else last_time.get((date, sym))
        p = phase(t)
        c["auction_trades"] += p == "auction"
        c["outside_session"] += p == "other"
        if p == "continuous":
            book = [q for q in quotes if q[0] == date and q[1] == sym and q[2] <= t]
            bid, ask = (book[-1][3], book[-1][4]) if book else (None, None)
            two_sided = good(bid) and good(ask) and bid <= ask
            c["unquoted_trades"] += not two_sided
            c["outside_quote"] += two_sided and good(price) and (price < bid or price > ask)
    last_q = {}
    clocks: dict[tuple, list[float]] = {}
    for q in quotes:
        date, sym, t, bid, ask = q
        c = row((date, sym))
        c["quotes"] += 1
        cont = phase(t) == "continuous"
        both = bid is not None and ask is not None
        c["crossed_quotes"] += cont and good(bid) and good(ask) and bid > ask
        c["locked_quotes"] += cont and good(bid) and good(ask) and bid == ask
        c["one_sided_quotes"] += cont and not both
        c["bad_quotes"] += any(x is not None and not good(x) for x in (bid, ask))
        prev = last_q.get((date, sym))
        c["quotes_out_of_order"] += prev is not None and t < prev
        last_q[(date, sym)] = t
        if cont:
            clocks.setdefault((date, sym), []).append(elapsed(t))
    for key, clock in clocks.items():
        clock.sort()
        out[key]["stale_quotes"] = sum(b - a > stale_after for a, b in itertools.pairwise(clock))
    for c in out.values():
        c["issues"] = sum(c[k] for k in ISSUES)
    return out


def _same(a, b) -> bool:
    return a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))


keys = st.tuples(st.sampled_from(["20240102", "20240103"]), st.sampled_from(["A", "B"]))


@given(
    st.lists(
        st.tuples(
            keys,
            st.one_of(st.none(), st.sampled_from(TIMES)),
            st.sampled_from(PRICES),
            st.sampled_from([100, 0]),
        ),
        max_size=25,
    ),
    st.lists(
        st.tuples(keys, st.sampled_from(TIMES), st.sampled_from(PRICES), st.sampled_from(PRICES)), max_size=25
    ),
    st.sampled_from([30.0, 1000.0]),
)
def test_quality_equals_plain_python(trade_rows, quote_rows, stale_after):
    trades = [(d, s, t, p, q) for (d, s), t, p, q in trade_rows]
    quotes = sorted(
        ((d, s, t, b, a) for (d, s), t, b, a in quote_rows), key=lambda q: q[2]
    )  # time order: as-of rows
    schema_t = {
        "date": pl.String,
        "symbol": pl.String,
        "ticktime": pl.Int64,
        "price": pl.Float64,
        "qty": pl.Int64,
    }
    schema_q = {
        "date": pl.String,
        "symbol": pl.String,
        "ticktime": pl.Int64,
        "bid": pl.Float64,
        "ask": pl.Float64,
    }
    got = vf.quality(
        pl.DataFrame(trades, schema=schema_t, orient="row"),
        pl.DataFrame(quotes, schema=schema_q, orient="row"),
        vf.CN,
        stale_after=stale_after,
    )
    expected = quality_reference(trades, quotes, stale_after)
    counted = {
        (r["date"], r["symbol"]): {c: r[c] for c in (*COUNTS, "issues")} for r in got.iter_rows(named=True)
    }
    assert sorted(counted) == sorted(expected)
    for key, row in counted.items():
        assert row == expected[key], {
            c: (row[c], expected[key][c]) for c in row if row[c] != expected[key][c]
        }


def test_regression_a_null_time_hid_a_step_back_in_time():
    """A null time between 09:32 and 09:31 made the step back invisible (compared with the null)."""
    trades = pl.DataFrame(
        {"date": "d", "symbol": "A", "ticktime": [93200000, None, 93100000], "price": 10.0, "qty": 100}
    )
    quotes = pl.DataFrame({"date": "d", "symbol": "A", "ticktime": [93000000], "bid": [9.9], "ask": [10.1]})
    out = vf.quality(trades, quotes, vf.CN)
    assert out.select("out_of_order", "bad_times").row(0) == (1, 1)


def test_regression_a_nan_book_was_a_quote_and_locked():
    """NaN == NaN in Polars: a NaN bid and ask counted as a locked quote in force, not a bad one."""
    trades = pl.DataFrame({"date": "d", "symbol": "A", "ticktime": [93100000], "price": [10.0], "qty": [100]})
    quotes = pl.DataFrame(
        {"date": "d", "symbol": "A", "ticktime": [93000000], "bid": [math.nan], "ask": [math.nan]}
    )
    out = vf.quality(trades, quotes, vf.CN)
    assert out.select("bad_quotes", "locked_quotes", "crossed_quotes", "unquoted_trades").row(0) == (
        1,
        0,
        0,
        1,
    )


def test_the_demo_reports_the_samples_quality_and_cost_tables(tmp_path):
    """The demo's step (its summary lines are the report's notes) on the real sample."""
    state = demo.DemoState(output=tmp_path)
    for step in (demo.load_sample, demo.session_clock, demo.costs_and_quality):
        step(state)
    text = "\n".join(state.lines)
    assert (
        "600519.SH: 3 symbol-day(s), 78,404 trades (1,340 in auctions), 15,310 quotes; outside_quote 21,880"
        in text
    )
    assert "000333.SZ: 3 symbol-day(s), 0 trades (0 in auctions), 15,034 quotes; no defect" in text
    saved = vf.load(tmp_path / "quality.parquet").collect()
    assert saved.equals(vf.quality(state.trades, state.quotes, vf.CN))
    table = vf.load(tmp_path / "spread_decomposition.parquet").collect()
    assert table["size"].cast(pl.String).to_list() == ["<=100", "101-500", ">500"]
    assert table["n"].sum() == (vf.datasets.cn_sample_trades()["side"] != 0).sum()
    gap = table["effective_spread_mean"] - table["realized_spread_60_mean"] - table["price_impact_60_mean"]
    # The means keep the identity up to the 8 prints of 14:56 whose mid 60 s later is null (the
    # closing auction's 14:57:00 snapshot has an empty book).
    assert (table["realized_spread_60_n"].sum(), table["effective_spread_n"].sum()) == (77_056, 77_064)
    assert gap.abs().max() < 1e-3
    assert "<=100 (68,149 trades): quoted +3.31 +/-" in text


def test_regression_vf_quality_is_the_function_and_its_module_is_named_apart():
    """The module was ``vizflow.quality``, shadowed by the function ``vf.quality`` it re-exported."""
    module = importlib.import_module("vizflow.data_quality")
    assert importlib.util.find_spec("vizflow.quality") is None
    assert vf.quality is module.quality
    assert vf.quality_totals is module.quality_totals
    assert vf.worst_dates is module.worst_dates
    assert callable(vf.quality)


def test_every_count_has_its_one_line_rule():
    """The report's captions read RULES for each count shown: none may be missing or left over."""
    assert list(RULES) == [*COUNTS, "issues"]
    assert all(rule and not rule.endswith(".") for rule in RULES.values())
