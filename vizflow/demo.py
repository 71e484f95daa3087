"""The main job, end to end on the built-in sample: what ``make demo`` / ``vizflow demo`` run.

Each step is a small function that takes the :class:`DemoState` and adds to it; ``main`` runs them
in order and prints a short summary. Outputs go under the chosen folder (``demo-output/``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

import vizflow as vf
import vizflow.viz as vz
from vizflow._optional import import_optional
from vizflow.data_quality import ISSUES as QUALITY_ISSUES
from vizflow.data_quality import RULES as QUALITY_RULES
from vizflow.student import ci_halfwidth
from vizflow.viz.heatmap import MIN_COUNT
from vizflow.viz.tables import Table

if TYPE_CHECKING:
    from collections.abc import Mapping

    import plotly.graph_objects as go

__all__ = ["DemoState", "main", "report_notes"]

DATE = "20240102"
_OPEN, _CLOSE = 93000000, 150000000  # continuous trading starts / the closing auction prints
_MORNING_CLOSE = 7200.0
LARGE = 10_000  # shares: a "large" print
HALF_HOUR = 1800  # seconds: the time bins of the profile and the heatmap


@dataclass
class DemoState:
    """What the demo steps share: the output folder, the sample frames and the summary lines."""

    output: Path
    quotes: pl.DataFrame = field(default_factory=pl.DataFrame)
    trades: pl.DataFrame = field(default_factory=pl.DataFrame)
    matched: pl.DataFrame = field(default_factory=pl.DataFrame)
    year: pl.DataFrame = field(default_factory=pl.DataFrame)
    synthetic: bool = False
    lines: list[str] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    tabled: set[int] = field(default_factory=set)

    def say(self, line: str) -> None:
        """Add one line to the printed summary."""
        self.lines.append(line)
        print(line, flush=True)

    def show(self, heading: str, table: Table, since: int) -> None:
        """Show the summary's lines from ``since`` on as ``table`` in the report, not as notes."""
        self.tables[heading] = table
        self.tabled.update(range(since, len(self.lines)))


KEYS = ["date", "symbol"]
"""One instrument on one day: the per-symbol steps key by both (each day has its own clock)."""

KEY = "day_symbol"
"""A one-column label of ``KEYS`` for figures and filters."""


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.concat_str("date", pl.lit(" "), "symbol").alias(KEY))


def load_sample(state: DemoState) -> None:
    """Load the input: the shipped real sample (default) or the synthetic day."""
    if state.synthetic:
        state.quotes, state.trades = vf.datasets.synthetic_day(DATE, n_symbols=300, seed=7)
        what = f"synthetic day {DATE}"
    else:
        state.trades = vf.datasets.cn_sample_trades()
        state.quotes = vf.datasets.cn_sample_quotes()
        what = "real sample: SSE/SZSE Level-2, 2023-02-01..03 (see vizflow/datasets/data/PROVENANCE.md)"
    state.trades, state.quotes = _keyed(state.trades), _keyed(state.quotes)
    vf.save(state.quotes, state.output / "input" / "quotes.parquet")
    vf.save(state.trades, state.output / "input" / "trades.parquet")
    state.say(
        f"{what}: {state.trades['symbol'].n_unique()} traded symbol(s) on "
        f"{state.trades['date'].n_unique()} day(s), {state.quotes.height:,} quotes, "
        f"{state.trades.height:,} trades"
    )


def session_clock(state: DemoState) -> None:
    """Put trades and quotes on the CN session clock; summarise trades per session."""
    state.trades = vf.parse_time(state.trades, vf.CN, "ticktime")
    state.quotes = vf.parse_time(state.quotes, vf.CN, "ticktime")
    names = pl.Enum(["open auction", "morning", "afternoon", "close auction"])
    session = (
        pl.when(pl.col("ticktime") < _OPEN)
        .then(pl.lit("open auction"))
        .when(pl.col("ticktime") >= _CLOSE)
        .then(pl.lit("close auction"))
        .when(pl.col("elapsed_seconds") < _MORNING_CLOSE)
        .then(pl.lit("morning"))
        .otherwise(pl.lit("afternoon"))
        .cast(names)
    )
    per_session = vf.aggregate(
        state.trades.with_columns(session=session),
        ["session"],
        {"trades": pl.len(), "shares": pl.col("qty").sum()},
    )
    vf.save(per_session, state.output / "trades_per_session.parquet")
    since = len(state.lines)
    state.say("trades per session:")
    for row in per_session.iter_rows(named=True):
        state.say(f"  {row['session']:<14} {row['trades']:>9,} trades {row['shares']:>14,} shares")
    total = per_session.select(pl.lit("all").alias("session"), pl.col("trades", "shares").sum())
    caption = (
        f"The prints of the sample's {state.trades['date'].n_unique()} day(s) by session, and their sum."
    )
    meanings = {
        "session": "open auction: before 09:30; morning: 09:30-11:30; afternoon: from 13:00 to the close "
        "auction; close auction: the prints at 15:00",
        "trades": "prints",
        "shares": "their sizes summed",
    }
    table = pl.concat([per_session.with_columns(pl.col("session").cast(pl.String)), total])
    state.show("trades per session", Table(table, caption, meanings, totals=1), since)


def size_profile(state: DemoState) -> None:
    """Bin trade sizes (log10 shares, width 0.5) and aggregate volume by half hour and size bin.

    Half hours are floor bins of the session clock (``how="floor"``: bin 3 is 11:00-11:30, bin 4
    13:00-13:30), so none straddles the lunch break.
    """
    profile = (
        state.trades.lazy()
        .with_columns(log_qty=pl.col("qty").log10())
        .pipe(vf.bin, {"log_qty": 0.5})
        .pipe(vf.bin, {"elapsed_seconds": HALF_HOUR}, how="floor", suffix="_half_hour")
        .pipe(
            vf.aggregate,
            ["elapsed_seconds_half_hour", "log_qty_bin"],
            {"trades": pl.len(), "shares": pl.col("qty").sum()},
        )
        .collect()
    )
    vf.save(profile, state.output / "size_profile.parquet")
    by_size = profile.group_by("log_qty_bin").agg(pl.col("shares").sum()).drop_nulls()
    top = by_size.sort("shares", descending=True).row(0, named=True)
    close_bin = int(vf.CN.total_seconds) // HALF_HOUR  # [14400, 16200): prints at exactly 15:00
    closing = f" and {close_bin} (15:00)" if close_bin in profile["elapsed_seconds_half_hour"] else ""
    state.say(
        f"size profile: {by_size.height} log10-size bins by half hours 0-{close_bin - 1}{closing}; most "
        f"volume in bin {top['log_qty_bin']} (~{10 ** (top['log_qty_bin'] * 0.5):,.0f} shares per trade)"
    )


def forward_returns(state: DemoState) -> None:
    """Forward returns of every trade, measured on the quotes' mid, at several horizons."""
    horizons = [1, 5, 30, 60, 300]
    state.trades = vf.forward_return(
        state.trades, horizons, "price", symbol_col=KEYS,
        reference=state.quotes, reference_price_col="mid",
    )  # fmt: skip
    signed = [(pl.col(f"return_{h}") * pl.col("side")).mean().mul(1e4).alias(f"{h}s") for h in horizons]
    decay = state.trades.filter(pl.col("side") != 0).select(signed)
    vf.save(state.trades, state.output / "trades_with_returns.parquet")
    state.say(
        "mean markout from the trade price to the later mid, in the aggressor's direction (bp): "
        + ", ".join(f"{name} {value:+.2f}" for name, value in decay.row(0, named=True).items())
    )


def tags(state: DemoState) -> None:
    """Tag trades per symbol with compiled rules: large prints, sequence, signed volume."""
    state.trades = vf.enrich(
        state.trades,
        [
            vf.TagCondition("is_large", lambda r: r["qty"] >= LARGE),
            vf.TagRunning("seq", lambda p, r: p + 1, 0),
            vf.TagRunning("net_volume", lambda p, r: p + r["side"] * r["qty"], 0),
        ],
        by=KEYS,
        sort_by="elapsed_seconds",
    )
    last = state.trades.group_by(KEY).agg(pl.col("net_volume").last())
    low, high = last.select(pl.col("net_volume").min().alias("low"), pl.col("net_volume").max()).row(0)
    state.say(
        f"tags: {int(state.trades['is_large'].sum()):,} large prints (>= 10,000 shares); "
        f"net aggressor volume ranges {low:+,} .. {high:+,} shares per symbol and day"
    )


def round_trips(state: DemoState) -> None:
    """FIFO-match a trader's fills composed from the sample prints; holding periods and P&L."""
    # No public data holds a real trader's fills: take every 25th continuous-session print of the
    # first 10 instrument-days (real times, prices and sizes) as "our" fills, side = aggressor.
    # A hypothetical owner: the fills are composed, the market data is real.
    keys = state.trades[KEY].unique().sort().head(10)
    fills = (
        state.trades.filter(pl.col(KEY).is_in(keys.implode()), pl.col("side") != 0)
        .filter(pl.int_range(pl.len()).over(KEY) % 25 == 0)
        .select(KEY, "symbol", "date", "ticktime", "elapsed_seconds", "side", "qty", "price")
    )
    matched = vf.enrich(
        fills,
        [vf.FIFOMatch("side", "qty", "elapsed_seconds", "price", entry_side=1, exit_side=-1)],
        by=KEYS,
        sort_by="elapsed_seconds",
    )
    vf.save(matched, state.output / "round_trips.parquet")
    closed = matched.filter("is_closed")
    held, pnl, qty = closed.select(
        pl.col("holding_period").median(), pl.col("realized_pnl").sum(), pl.col("matched_qty").sum()
    ).row(0)
    state.matched = matched
    state.say(
        f"FIFO on {fills.height:,} composed fills ({keys.len()} symbol-days): {closed.height:,} "
        f"matches, {matched.height - closed.height} lots open at the close; holding period "
        f"median {held:,.0f} s; realized P&L {pnl:+,.0f} (per share matched {pnl / qty:+.4f})"
    )


BATCH_HORIZONS: list[float | str] = [1, 5, 30, 60, 300, "close"]
"""The batch's markout horizons (seconds, and the day's last mid)."""

SIZE = "size_tercile"
"""The batch's cells: terciles of trade size within each date (0: the day's smallest third)."""

TIES: Literal["share", "order"] = "share"
"""The size terciles' rule for ties (:func:`vizflow.quantile_bin`): equal sizes share a tercile, so a
trade's tercile depends on its size alone (``"order"`` would split a common lot size across terciles
by row order)."""

TIES_TEXT = (
    f"ties={TIES!r}: equal sizes share a tercile, "
    + "so a common lot size such as 100 shares fills the middle one"
)
"""How the size terciles treat ties, as the summary says it."""


def daily_pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """Run the demo's daily job on a date's trades and its quotes (the config's source ``quotes``).

    Both go on the session clock; each trade gets its forward returns at ``BATCH_HORIZONS`` on
    the quotes' mid, signed by the aggressor's side; the trades are cut into size terciles within
    the date; the output is the partial statistics of the signed returns per tercile
    (:func:`vizflow.summarize`), which :func:`vizflow.combine` merges across dates exactly.
    """
    quotes = ctx.load("quotes").pipe(vf.parse_time, ctx.market, ctx.col("ticktime"))
    marked = (
        lf.pipe(vf.parse_time, ctx.market, ctx.col("ticktime"))
        .pipe(
            vf.forward_return, BATCH_HORIZONS, ctx.col("price"), reference=quotes, reference_price_col="mid"
        )
        .filter(pl.col("side") != 0)
    )
    returns = [f"return_{h}" for h in BATCH_HORIZONS]
    signed = marked.with_columns(pl.col(*returns) * pl.col("side"))
    return vf.summarize(vf.quantile_bin(signed, "qty", 3, out=SIZE, ties=TIES), SIZE, returns)


def year_lines(year: pl.DataFrame, scale: float = 1e4) -> list[str]:
    """Format a finalized table of ``return_{h}`` columns: a line per cell, mean and 95% CI per horizon (bp).

    The interval is ``t(0.975, G - 1) x se`` with ``G`` the cell's clusters (``{v}_clusters``);
    ``no CI`` where there are fewer than 2.

    >>> import polars as pl, vizflow as vf
    >>> rows = pl.DataFrame(
    ...     {"date": ["d1", "d2", "d3", "d1"], "k": [0, 0, 0, 1], "return_5": [1e-4, 3e-4, 2e-4, 2e-4]}
    ... )
    >>> for line in year_lines(vf.finalize(vf.summarize(rows, "k", "return_5"))):
    ...     print(line)
    k  trades             5s
    0       3  +2.00 +/-2.48
    1       1  +2.00 (no CI)
    """
    values = [
        c.removesuffix("_mean") for c in year.columns if c.startswith("return_") and c.endswith("_mean")
    ]
    keys = [c for c in year.columns if c not in ("n", "weight") and not c.startswith("return_")]
    heads = [v.removeprefix("return_") + ("" if v.endswith("close") else "s") for v in values]
    rows = [
        [" ".join(str(row[k]) for k in keys), f"{row['n']:,}"]
        + [_mean_ci(row[f"{v}_mean"], row[f"{v}_se"], row.get(f"{v}_clusters"), scale) for v in values]
        for row in year.iter_rows(named=True)
    ]
    table = [[" ".join(keys), "trades", *heads], *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in table
    ]


def _mean_ci(mean: float | None, se: float | None, clusters: int | None, scale: float) -> str:
    half = None if se is None else ci_halfwidth(se * scale, clusters)
    shown = f"{float('nan') if mean is None else mean * scale:+.2f}"
    return f"{shown} (no CI)" if half is None else f"{shown} +/-{half:4.2f}"


def batch(state: DemoState) -> None:
    """Run the daily job over the sample's dates on 2 worker processes; combine them into one table.

    The real sample's three days (the synthetic mode: four synthetic dates) are written one file
    per date, trades and quotes. Each date's output is a partial table
    (``batch/output/{date}.parquet``); ``vf.finalize(vf.combine(vf.scan(output)))`` is the table
    of all the dates, saved as ``batch/year.parquet``, printed, and drawn as a decay curve with
    error bars in the report. The config is also written to ``batch/cfg.toml``, so the same batch
    runs from the shell:
    ``vizflow run vizflow.demo:daily_pipeline --config demo-output/batch/cfg.toml --dates ...``.
    """
    cal = vf.datasets.xshg_calendar()
    folder = state.output / "batch"
    if state.synthetic:
        dates = vf.calendar.range(cal, "20240102", "20240105")
        days = [vf.datasets.synthetic_day(d, n_symbols=50, seed=i) for i, d in enumerate(dates)]
    else:
        quotes, trades = vf.datasets.cn_sample_quotes(), vf.datasets.cn_sample_trades()
        dates = sorted(trades["date"].unique().to_list())
        days = [(quotes.filter(pl.col("date") == d), trades.filter(pl.col("date") == d)) for d in dates]
    for day, (quotes, trades) in zip(dates, days, strict=True):
        vf.save(trades, folder / "input" / "trades" / f"{day}.parquet")
        vf.save(quotes, folder / "input" / "quotes" / f"{day}.parquet")
    config = vf.Config(
        input_dir=folder / "input", output_dir=folder / "output", input_pattern="trades/{date}.parquet",
        sources={"quotes": "quotes/{date}.parquet"},
    )  # fmt: skip
    config.to_toml(folder / "cfg.toml")
    result = vf.run_batch(daily_pipeline, config, dates, max_workers=2, calendar=cal)
    state.say(f"batch of {len(dates)} dates (trades + quotes) with 2 worker processes: {result}")
    result.raise_for_failures()
    state.year = vf.finalize(vf.combine(vf.scan(folder / "output" / "*.parquet"))).collect()
    vf.save(state.year, folder / "year.parquet")
    clusters = sorted({c for v in state.year.columns if v.endswith("_clusters") for c in state.year[v]})
    since = len(state.lines)
    state.say(
        f"the {len(dates)} dates combined (vf.finalize(vf.combine(vf.scan(output)))): mean markout from "
        "the trade price to the later mid, in the aggressor's direction, +/- its 95% CI (bp; se clustered "
        f"by date, G = {'/'.join(map(str, clusters))} dates, t(0.975, G - 1) x se), by size tercile within "
        f"each date ({TIES_TEXT}):"
    )
    for line in year_lines(state.year):
        state.say(f"  {line}")
    returns = [c.removesuffix("_mean") for c in state.year.columns if c.endswith("_mean")]
    names = {v: v.removeprefix("return_") + ("" if v.endswith("close") else " s") for v in returns}
    caption = (
        f"The {len(dates)} dates combined (vf.finalize(vf.combine(vf.scan(output)))): the mean markout "
        "from the trade price to the mid h later, in the aggressor's direction, in bp, by size tercile."
    )
    first = names[returns[0]]
    meanings = {
        SIZE: f"terciles of trade size within each date, 0 the smallest ({TIES_TEXT})",
        "n": "prints with an aggressor side",
        first: f"the mean markout at h = {first}, and so on for each horizon (close: the day's last mid)",
    }
    table = ci_table(
        state.year, SIZE, names, caption, meanings, clusters=clusters, scale=1e4, key_header="size tercile"
    )
    state.show(YEAR_TABLE, table, since)


YEAR_TABLE = "the batch's dates combined: markout by size tercile"
"""The heading of the batch's table in the report (drawn beside its decay figure)."""


def ci_table(
    finalized: pl.DataFrame,
    key: str,
    names: Mapping[str, str],
    caption: str,
    meanings: Mapping[str, str],
    *,
    clusters: list[int],
    scale: float = 1.0,
    key_header: str | None = None,
) -> Table:
    """Make a report table of a finalized summary: ``key``, ``trades`` (``n``), each value's mean and CI.

    ``names`` maps each value column ``v`` to its header: the column of its mean (times ``scale``),
    followed by the half-width of its 95% CI (``t(0.975, G - 1) x se`` with ``G`` its clusters; null
    for fewer than 2), headed ``±``. ``meanings`` (by key, ``n`` or header) go under the caption,
    and a last one says what ``±`` is, with the ``clusters`` (dates) seen.

    >>> import polars as pl, vizflow as vf
    >>> rows = pl.DataFrame({"date": ["d1", "d2", "d3"], "k": 0, "r": [1e-4, 3e-4, 2e-4]})
    >>> summary = vf.finalize(vf.summarize(rows, "k", "r"))
    >>> table = ci_table(summary, "k", {"r": "r (bp)"}, "", {}, clusters=[3], scale=1e4)
    >>> [table.cell(c, v) for c, v in zip(table.frame.columns, table.frame.row(0))]
    ['0', '3', '+2.00', '2.48']
    """
    columns: list[pl.Expr] = [pl.col(key).cast(pl.String), pl.col("n")]
    headers = {"n": "trades"} | ({key: key_header} if key_header else {})
    formats: dict[str, str] = {}
    for v, name in names.items():
        half = [
            ci_halfwidth(se * scale, g) if se is not None else None
            for se, g in zip(finalized[f"{v}_se"], finalized[f"{v}_clusters"], strict=True)
        ]
        columns += [(pl.col(f"{v}_mean") * scale).alias(name), pl.lit(pl.Series(f"{name} ci95", half))]
        headers[f"{name} ci95"] = "\u00b1"
        formats[name] = "+,.2f"
    first = f"{next(iter(names.values()))} ci95"
    band = (
        "the half-width of the 95% CI of the mean to its left, t(0.975, G - 1) x se, with se clustered by "
        f"date (G = {'/'.join(map(str, clusters))} dates)"
    )
    frame = finalized.select(columns).cast({f"{name} ci95": pl.Float64 for name in names.values()})
    return Table(frame, caption, {**meanings, first: band}, headers=headers, formats=formats)


SIZE_BREAKS = (100, 500)
SIZES = pl.Enum(["<=100", "101-500", ">500"])
"""Trade-size buckets (shares) of the spread decomposition table, split at ``SIZE_BREAKS``."""
LISTED = 5
"""The quality summary lists each symbol up to this many, else one line for all."""


def costs_and_quality(state: DemoState) -> None:
    """Count the sample's data defects and split its trades' costs (quality, spread decomposition).

    Writes ``quality.parquet`` (one row per date and symbol) and ``spread_decomposition.parquet``
    (effective = realized + impact at 60 s by trade size, in bp, finalized with se clustered by
    date); the summary and the report list both.
    """
    table = vf.quality(state.trades, state.quotes, vf.CN)
    vf.save(table, state.output / "quality.parquet")
    since = len(state.lines)
    per_symbol = vf.quality_totals(table)
    listed = per_symbol if per_symbol.height <= LISTED else vf.quality_totals(table, None)
    state.say("data quality (vf.quality; each rule in docs/data-quality.md), over the dates:")
    for row in listed.iter_rows(named=True):
        found = ", ".join(f"{c} {row[c]:,}" for c in QUALITY_ISSUES if row[c]) or "no defect"
        who = row.get("symbol", f"{per_symbol.height} symbols")
        state.say(
            f"  {who}: {row['dates']} symbol-day(s), {row['trades']:,} trades ({row['auction_trades']:,} "
            f"in auctions), {row['quotes']:,} quotes; {found}"
        )
    state.show("data quality: defects per date and symbol (vf.quality)", quality_table(table), since)
    columns = ["quoted_spread", "effective_spread", "realized_spread_60", "price_impact_60"]
    small, medium = SIZE_BREAKS
    size = (
        pl.when(pl.col("qty") <= small).then(pl.lit(SIZES.categories[0]))
        .when(pl.col("qty") <= medium).then(pl.lit(SIZES.categories[1]))
        .otherwise(pl.lit(SIZES.categories[2]))
    ).cast(SIZES)  # fmt: skip
    trades = state.trades.select(*KEYS, "elapsed_seconds", "price", "side", "qty").filter(pl.col("side") != 0)
    costs = vf.spread_decomposition(trades, [60], state.quotes, symbol_col=KEYS)
    costs = costs.with_columns(pl.col(columns) * 1e4, size=size)
    decomposition = vf.finalize(vf.summarize(costs, "size", columns))
    vf.save(decomposition, state.output / "spread_decomposition.parquet")
    since = len(state.lines)
    state.say(
        "where the trades' cost goes (vf.spread_decomposition: effective spread = realized spread + "
        "price impact at 60 s, in the aggressor's direction; bp, mean +/- its 95% CI, se clustered by "
        "date), by trade size in shares:"
    )
    for row in decomposition.iter_rows(named=True):
        cells = [
            f"{name} {_mean_ci(row[f'{c}_mean'], row[f'{c}_se'], row.get(f'{c}_clusters'), 1.0)}"
            for c, name in zip(columns, ["quoted", "effective", "realized", "impact"], strict=True)
        ]
        state.say(f"  {row['size']:>7} ({row['n']:,} trades): " + ", ".join(cells))
    unmarked = int(decomposition["n"].sum()) - int(decomposition["realized_spread_60_n"].sum())
    clusters = sorted(set(decomposition["effective_spread_clusters"].to_list()))
    caption = (
        "vf.spread_decomposition of every print with an aggressor side: the mean of each measure over the "
        "prints, in bp, by trade size. D is +1 for a buyer-initiated print, -1 for a seller-initiated one; "
        "P its price; B, A and M the bid, ask and mid of the last snapshot at or before the print (t) "
        "and 60 s later (t+60). effective = realized + impact, print by print."
    )
    meanings = {
        "size": "shares in the print",
        "n": f"prints ({unmarked:,} of them with no mid 60 s later, left out of realized and impact)",
        "quoted": "the quoted spread (A_t - B_t) / M_t",
        "effective": "2D (P - M_t) / M_t, what the print paid over the mid, both ways",
        "realized 60 s": "2D (P - M_t+60) / M_t, what the other side kept after 60 s",
        "impact 60 s": "2D (M_t+60 - M_t) / M_t, how far the mid moved the print's way",
    }
    names = dict(zip(columns, ["quoted", "effective", "realized 60 s", "impact 60 s"], strict=True))
    shown = ci_table(decomposition, "size", names, caption, meanings, clusters=clusters, key_header="size")
    state.show("where the cost of a trade goes: the spread decomposition at 60 s", shown, since)


def quality_table(table: pl.DataFrame) -> Table:
    """Make the report's table of :func:`vizflow.quality` output: its rows and their sum, defects found only.

    The columns are the keys, ``trades``, ``auction_trades``, ``quotes``, the defect counts that
    are not 0 on every row, and ``issues``; the caption says what each means and which are all 0.
    """
    found = [c for c in QUALITY_ISSUES if table[c].sum() > 0]
    shown = ["trades", "auction_trades", "quotes", *found, "issues"]
    total = table.select(pl.lit("all").alias("date"), pl.lit("").alias("symbol"), pl.col(shown).sum())
    rows = pl.concat([table.select(pl.col("date", "symbol").cast(pl.String), *shown), total])
    zero = [c for c in QUALITY_ISSUES if c not in found]
    caption = (
        "vf.quality of the sample: one row per date and symbol, then their sum; each count is a number of "
        "rows (the rules in docs/data-quality.md)."
        + (f" 0 on every row, so not shown: {', '.join(zero)}." if zero else "")
    )
    return Table(rows, caption, {c: QUALITY_RULES[c] for c in shown}, totals=1)


def report_notes(lines: list[str]) -> list[str]:
    """Fold the summary's indented lines into the line above them: one report bullet each.

    >>> report_notes(["trades per session:", "  morning   10 trades", "  afternoon  5 trades", "done"])
    ['trades per session: morning 10 trades; afternoon 5 trades', 'done']
    """
    notes: list[str] = []
    for line in lines:
        if line.startswith("  ") and notes:
            text = " ".join(line.split())
            notes[-1] += f" {text}" if notes[-1].endswith(":") else f"; {text}"
        else:
            notes.append(line)
    return notes


def report(state: DemoState) -> None:
    """Write demo-output/report.html: the day's figures, self-contained (extra vizflow[viz])."""
    try:
        import_optional("plotly.graph_objects", extra="viz")
    except ImportError as exc:
        state.say(f"report: skipped, {exc}")
        return
    first = state.trades[KEY].unique().sort()[0]
    quotes = state.quotes.filter(pl.col(KEY) == first, pl.col("ticktime").is_between(93000000, 145700000))
    trades = (
        state.trades.filter(pl.col("side") != 0)
        .with_columns(log_qty=pl.col("qty").log10(), signed_60=pl.col("return_60") * pl.col("side") * 1e4)
        .pipe(vf.bin, {"log_qty": 0.5})
    )
    heading = (
        f"mean 60 s markout (bp, trade price to the later mid, aggressor's direction) by half hour and "
        f"trade size (log10 shares, bins of 0.5; cells of fewer than {MIN_COUNT} trades hidden)"
    )
    day: dict[str, go.Figure] = {
        f"mid of {first} on the session clock": vz.line(quotes, "elapsed_seconds", "mid", market=vf.CN),
        "alpha decay: markout from the trade price to the later mid, in the aggressor's direction": vz.decay(
            trades, sign="side", title="mean signed markout by horizon (bp)"
        ),
        heading: vz.heatmap(
            trades, "elapsed_seconds", "log_qty_bin", "signed_60", x_width=HALF_HOUR, min_count=MIN_COUNT,
            market=vf.CN, unit="bp", y_labels=vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares"),
        ),
        "cumulative realized P&L of the composed fills": vz.pnl_curve(state.matched, group=KEY, market=vf.CN),
        "holding periods of the composed round trips": vz.holding_histogram(state.matched),
    }  # fmt: skip
    # The day's tables first, then its figures, then the batch's table beside its figure.
    sections: dict[str, go.Figure | Table] = {h: t for h, t in state.tables.items() if h != YEAR_TABLE}
    sections.update(day)
    if state.year.height:
        combined = (
            "the batch's dates combined (vf.finalize(vf.combine(vf.scan(output)))): markout from the "
            "trade price to the later mid, in the aggressor's direction, by size tercile of the day"
        )
        sections[YEAR_TABLE] = state.tables[YEAR_TABLE]
        sections[combined] = vz.decay(
            state.year, SIZE, log_x=True, title="mean signed markout by horizon (bp)"
        )
    notes = report_notes([line for i, line in enumerate(state.lines) if i not in state.tabled])
    path = vz.write_report(sections, state.output / "report.html", title="vizflow demo", notes=notes)
    shown = sum(isinstance(s, Table) for s in sections.values())
    state.say(f"report: {path} ({len(sections) - shown} figures, {shown} tables, opens offline)")


STEPS = [
    load_sample, session_clock, size_profile, forward_returns, tags, round_trips, batch, costs_and_quality,
    report,
]  # fmt: skip
"""The demo's steps, in order."""


def main(output: str | Path = "demo-output", *, synthetic: bool = False) -> DemoState:
    """Run every demo step, write outputs under ``output`` and print a summary.

    ``synthetic=True`` uses the generated 300-symbol day instead of the shipped real sample.

    Returns
    -------
    DemoState
        The frames and summary lines, for tests.
    """
    state = DemoState(output=Path(output), synthetic=synthetic)
    state.output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    state.say(f"vizflow {vf.__version__} demo -> {state.output}/")
    for step in STEPS:
        step(state)
    state.say(f"done in {time.perf_counter() - started:.1f}s; outputs in {state.output}/")
    return state
