"""forward_window: 3 windows on ~5M trades / 2,000 symbols vs Polars ``rolling`` and a DuckDB range join.

For the trade count, the volume, the VWAP and the high in the window ``(t, t + h]`` after every
trade, h = 5 s, 60 s, 300 s (integer milliseconds everywhere, so all agree exactly on the edges).
References (issue 23): Polars ``rolling("ms", period=h, offset=0, closed="right",
group_by="symbol")`` per horizon on rows sorted once by (symbol, ms) (not at all when they
arrive sorted), the three lazy queries collected together and stacked (no join back); DuckDB (2
threads) one range self-join ``b.ms > a.ms AND b.ms <= a.ms + 300000`` with every horizon's
aggregates under ``FILTER (WHERE b.ms <= a.ms + h)``, grouped by row (slow: timed once on the
first tenth of the symbols and scaled by ten).
Parity (1e-9) is checked before timing. Target (issue 23): sorted input >= 2x Polars ``rolling``.
Run: ``python -m benchmarks window`` (``--scale``, or ``VIZFLOW_BENCH_SYMBOLS=500``, for less).
"""

from __future__ import annotations

import os
import time

import duckdb
import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import header, interleaved_medians, load_average, save_results, scaled

HORIZONS_MS = [5_000, 60_000, 300_000]
N_SYMBOLS, PER_SYMBOL = int(os.environ.get("VIZFLOW_BENCH_SYMBOLS", "2000")), scaled(2500, floor=5)
DUCK_SHARE = max(1, N_SYMBOLS // 10)
AGGS = {
    "n": pl.len(),
    "volume": pl.col("qty").sum(),
    "vwap": (pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum(),
    "high": pl.col("price").max(),
}
NAMES = [f"{name}_{h}" for name in AGGS for h in HORIZONS_MS]


def data() -> pl.DataFrame:
    trades = vf.datasets.synthetic_trades(n_symbols=N_SYMBOLS, trades_per_symbol=PER_SYMBOL, seed=2)
    trades = vf.parse_time(trades, vf.CN)
    return trades.select(
        "symbol",
        ms=(pl.col("elapsed_seconds") * 1000).round().cast(pl.Int64),
        price=pl.col("price"),
        qty=pl.col("qty").cast(pl.Int64),
    )


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.forward_window(df, HORIZONS_MS, AGGS, time_col="ms")


def polars_rolling(df: pl.DataFrame, *, presorted: bool) -> pl.DataFrame:
    """One ``rolling(group_by="symbol")`` per horizon on rows sorted once by (symbol, ms).

    Windows ``(t, t + h]``: offset 0, period h, closed right; ``rolling`` emits one row per input
    row in the frame's order, so the columns are stacked side by side (no join back; the rows
    come back in (symbol, ms) order). Not sorted at all when the frame arrives sorted.
    """
    rows = df if presorted else df.sort("symbol", "ms")
    queries = [
        rows.lazy()
        .rolling("ms", period=f"{h}i", offset="0i", closed="right", group_by="symbol")
        .agg(
            pl.len().alias(f"n_{h}"),
            pl.col("qty").sum().alias(f"volume_{h}"),
            ((pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum()).alias(f"vwap_{h}"),
            pl.col("price").max().alias(f"high_{h}"),
        )
        .drop("symbol", "ms")
        for h in HORIZONS_MS
    ]
    return pl.concat([rows, *pl.collect_all(queries)], how="horizontal")


def duckdb_range_join(con: duckdb.DuckDBPyConnection, table: str = "trades") -> pl.DataFrame:
    """One range self-join on the widest window, every horizon an aggregate with a ``FILTER``."""
    cols = []
    for h in HORIZONS_MS:
        within = f"FILTER (WHERE b.ms <= a.ms + {h})"
        cols += [
            f"count(b.ms) {within} AS n_{h}",
            f"coalesce(sum(b.qty) {within}, 0) AS volume_{h}",
            f"sum(b.price * b.qty) {within} / sum(b.qty) {within} AS vwap_{h}",
            f"max(b.price) {within} AS high_{h}",
        ]
    sql = (
        f"SELECT a.i, {', '.join(cols)} FROM {table} a LEFT JOIN {table} b ON a.symbol = b.symbol "
        f"AND b.ms > a.ms AND b.ms <= a.ms + {max(HORIZONS_MS)} GROUP BY a.i ORDER BY a.i"
    )
    return con.sql(sql).pl()


def check(label: str, other: pl.DataFrame, expected: pl.DataFrame) -> None:
    for name in NAMES:
        a = other.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy()
        b = expected.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True, err_msg=f"{label} {name}")


def main() -> None:
    print(header(), f"duckdb {duckdb.__version__}, load average {load_average()}")
    df = data().sort("symbol", "ms", maintain_order=True)
    indexed = df.with_row_index("i")
    shuffled = indexed.sample(fraction=1.0, shuffle=True, seed=0)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("trades", indexed.to_arrow())
    expected = ours(df)
    check("polars", polars_rolling(df, presorted=True), expected)
    check("polars shuffled", polars_rolling(shuffled, presorted=False).sort("i"), expected)
    check("vizflow shuffled", ours(shuffled).sort("i"), expected)
    # DuckDB's range join emits every (row, later row within 300 s) pair (~50 a row here) and is
    # slow: it runs on the first tenth of the symbols, timed once, and is scaled by 10 (the work
    # is linear in symbols of equal activity).
    part = indexed.filter(pl.col("symbol").is_in(df["symbol"].unique(maintain_order=True).head(DUCK_SHARE)))
    con.register("part", part.to_arrow())
    t0 = time.perf_counter()
    got = duckdb_range_join(con, "part")
    t_duck = (time.perf_counter() - t0) * df.height / part.height
    check("duckdb range join", got, expected.filter(indexed["symbol"].is_in(part["symbol"].unique())))
    unsorted = shuffled.drop("i")
    t_o, t_p, t_os, t_ps = interleaved_medians(
        [lambda: ours(df), lambda: polars_rolling(df, presorted=True), lambda: ours(unsorted),
         lambda: polars_rolling(unsorted, presorted=False)], repeats=3,
    )  # fmt: skip
    rows = [
        {"case": "sorted: vizflow forward_window (3 horizons x 4 aggregates)", "seconds": t_o,
         "vs_ours": 1.0},
        {"case": "sorted: Polars rolling(group_by) x3, collect_all", "seconds": t_p, "vs_ours": t_p / t_o},
        {"case": "sorted: DuckDB range self-join + FILTER aggregates (1 run, 1/10 of symbols, x10)",
         "seconds": t_duck,
         "vs_ours": t_duck / t_o},
        {"case": "shuffled: vizflow forward_window", "seconds": t_os, "vs_ours": 1.0},
        {"case": "shuffled: Polars rolling (sorts once)", "seconds": t_ps, "vs_ours": t_ps / t_os},
    ]  # fmt: skip
    print(f"{df.height:,} trades, {N_SYMBOLS} symbols, windows {HORIZONS_MS} ms; median of 3 interleaved")
    for r in rows:
        print(f"| {r['case']} | {r['seconds']:.3f} s | {r['vs_ours']:.2f}x |")
    save_results("window", rows, trades=df.height, symbols=N_SYMBOLS, horizons_ms=HORIZONS_MS)


if __name__ == "__main__":
    main()
