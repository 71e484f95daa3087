"""forward_window: 3 windows on ~5M trades / 2,000 symbols vs Polars ``rolling`` and DuckDB windows.

Target (issue 16): >= 2x both a Polars ``rolling(..., offset=..., group_by=...)`` formulation and
DuckDB's ``RANGE BETWEEN ... FOLLOWING`` window functions, each run once per horizon, for the
trade count, the volume, the VWAP and the high in the window ``(t, t + h]`` after every trade.
Times are integer milliseconds everywhere, so the three agree exactly on the window edges.
Each is timed on the rows sorted by (symbol, time) and on the same rows shuffled (the Polars
formulation sorts them itself, DuckDB partitions them), and compared within each input order.
Run: ``python -m benchmarks window``; ``VIZFLOW_BENCH_SYMBOLS=500`` for a reduced run (2,500
trades per symbol either way).
"""

from __future__ import annotations

import os

import duckdb
import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import header, median_time

HORIZONS_MS = [5_000, 60_000, 300_000]
N_SYMBOLS, PER_SYMBOL = int(os.environ.get("VIZFLOW_BENCH_SYMBOLS", "2000")), 2500
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


def polars_rolling(df: pl.DataFrame) -> pl.DataFrame:
    """One ``rolling`` per horizon over the (symbol, ms)-sorted rows: windows ``(t, t + h]``."""
    rows = df.with_row_index("i").sort("symbol", "ms", maintain_order=True)
    out = rows.select("i")
    for h in HORIZONS_MS:
        # offset 0, period h, closed right: (t, t + h]; rolling emits one row per input row, in order.
        got = rows.rolling("ms", period=f"{h}i", offset="0i", closed="right", group_by="symbol").agg(
            pl.len().alias(f"n_{h}"),
            pl.col("qty").sum().alias(f"volume_{h}"),
            ((pl.col("price") * pl.col("qty")).sum() / pl.col("qty").sum()).alias(f"vwap_{h}"),
            pl.col("price").max().alias(f"high_{h}"),
        )
        out = out.hstack(got.drop("symbol", "ms"))
    return out.sort("i").drop("i")


def duckdb_windows(con: duckdb.DuckDBPyConnection, table: str = "trades") -> pl.DataFrame:
    cols = []
    for h in HORIZONS_MS:
        frame = f"(PARTITION BY symbol ORDER BY ms RANGE BETWEEN 1 FOLLOWING AND {h} FOLLOWING)"
        cols += [
            f"count(*) OVER {frame} AS n_{h}",
            f"coalesce(sum(qty) OVER {frame}, 0) AS volume_{h}",
            f"sum(price * qty) OVER {frame} / sum(qty) OVER {frame} AS vwap_{h}",
            f"max(price) OVER {frame} AS high_{h}",
        ]
    sql = f"SELECT i, {', '.join(cols)} FROM {table} ORDER BY i"
    return pl.from_arrow(con.sql(sql).to_arrow_table())


def check(label: str, other: pl.DataFrame, expected: pl.DataFrame) -> None:
    for name in NAMES:
        a = other.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy()
        b = expected.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True, err_msg=f"{label} {name}")


def main() -> None:
    print(header(), f"duckdb {duckdb.__version__}")
    df = data()
    shuffled = df.with_row_index("i").sample(fraction=1.0, shuffle=True, seed=0)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("trades", df.with_row_index("i").to_arrow())
    con.register("shuffled", shuffled.to_arrow())  # i: the row's position in the sorted frame
    expected = ours(df)
    check("polars", polars_rolling(df), expected)
    check("duckdb", duckdb_windows(con), expected)
    back = ours(shuffled.drop("i")).with_columns(shuffled["i"]).sort("i")
    check("vizflow shuffled", back, expected)
    check("duckdb shuffled", duckdb_windows(con, "shuffled"), expected)  # ordered by i
    runs = {
        "sorted": {
            "vizflow forward_window (3 horizons x 4 aggregates, one call)": lambda: ours(df),
            "Polars rolling(group_by=symbol) per horizon": lambda: polars_rolling(df),
            "DuckDB RANGE window functions (2 threads)": lambda: duckdb_windows(con),
        },
        "shuffled": {
            "vizflow forward_window, shuffled input": lambda: ours(shuffled.drop("i")),
            "Polars rolling, shuffled input (sorts first)": lambda: polars_rolling(shuffled.drop("i")),
            "DuckDB RANGE windows, shuffled table": lambda: duckdb_windows(con, "shuffled"),
        },
    }
    print(
        f"{df.height:,} trades, {N_SYMBOLS} symbols, windows {HORIZONS_MS} ms; median of 3 "
        "(DuckDB, ~20x slower: one run, warmed by the parity check)"
    )
    for order, fns in runs.items():
        times = {
            label: median_time(fn, repeats=1, warmup=0) if label.startswith("DuckDB") else median_time(fn, 3)
            for label, fn in fns.items()
        }
        base = times[next(iter(fns))]  # each row's time over vizflow's on the same input order
        for label, t in times.items():
            print(f"| {order} | {label} | {t:.3f} s | {t / base:.2f}x |")


if __name__ == "__main__":
    main()
