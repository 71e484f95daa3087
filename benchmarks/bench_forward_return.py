"""forward_return: 3 horizons on ~5M rows / 2,000 symbols vs pandas, DuckDB and Polars as-of joins.

Targets (issue 3): faster than all three; at least 3x pandas ``merge_asof`` and 2x DuckDB
``ASOF JOIN`` (each run once per horizon). Targets (issue 13), on integer, string and Categorical
keys, sorted and shuffled input: >= 2x a hand-written Polars ``join_asof`` per horizon on the same
keys and >= 0.5x a bare numba sweep answering all horizons in one pass over the sorted arrays;
peak RSS <= 2x (input + output) bytes. Run: ``python -m benchmarks forward_return``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
from numba import njit

import vizflow as vf
from benchmarks._common import growth_ratio, header, keyed, median_time, orders, peak_memory_mib, scaled

HORIZONS = [5, 60, 300]
N_SYMBOLS, PER_SYMBOL = 2000, scaled(2500, floor=5)


def data() -> pl.DataFrame:
    trades = vf.datasets.synthetic_trades(n_symbols=N_SYMBOLS, trades_per_symbol=PER_SYMBOL, seed=2)
    trades = vf.parse_time(trades, vf.CN).select("symbol", "elapsed_seconds", "price")
    # Unique (symbol, time): DuckDB takes the first of equal times, Polars/pandas/vizflow the last.
    trades = trades.unique(["symbol", "elapsed_seconds"], keep="first", maintain_order=True)
    # The hand-written joins use exact integer milliseconds: on float seconds, t + h rounds below
    # a decimal tie now and then (253.088 + 5 < 258.088), which vizflow's slack counts as reached.
    return trades.with_columns(ms=(pl.col("elapsed_seconds") * 1000).round().cast(pl.Int64))


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.forward_return(df, HORIZONS, "price", "elapsed_seconds", "symbol")


def polars_join_asof(df: pl.DataFrame) -> pl.DataFrame:
    src = df.sort("ms").select("symbol", pl.col("ms").alias("t_src"), pl.col("price").alias("fut"))
    last = df.group_by("symbol").agg(pl.col("ms").max().alias("last"))
    out = df.with_row_index("i").join(last, on="symbol")
    for h in HORIZONS:
        out = (
            out.with_columns(target=pl.col("ms") + h * 1000)
            .sort("target")
            .join_asof(
                src,
                left_on="target",
                right_on="t_src",
                by="symbol",
                strategy="backward",
                check_sortedness=False,  # sorted by target; groups inherit it
            )
            .with_columns(
                pl.when(pl.col("target") <= pl.col("last"))
                .then((pl.col("fut") - pl.col("price")) / pl.col("price"))
                .alias(f"return_{h}")
            )
            .drop("target", "t_src", "fut")
        )
    return out.sort("i").drop("i", "last")


def pandas_merge_asof(df: pd.DataFrame) -> pd.DataFrame:
    src = (
        df[["symbol", "ms", "price"]]
        .rename(columns={"ms": "t_src", "price": "fut"})
        .sort_values("t_src", kind="stable")
    )
    last = df.groupby("symbol")["ms"].transform("max")
    out = df.assign(last=last, i=np.arange(len(df)))
    for h in HORIZONS:
        left = out.assign(target=out["ms"] + h * 1000).sort_values("target", kind="stable")
        merged = pd.merge_asof(
            left, src, left_on="target", right_on="t_src", by="symbol", direction="backward"
        )
        ret = (merged["fut"] - merged["price"]) / merged["price"]
        merged[f"return_{h}"] = ret.where(merged["target"] <= merged["last"])
        out = merged.drop(columns=["target", "t_src", "fut"])
    return out.sort_values("i").reset_index(drop=True)


def duckdb_asof(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    cols = []
    joins = []
    for k, h in enumerate(HORIZONS):
        joins.append(f"ASOF LEFT JOIN src s{k} ON t.symbol = s{k}.symbol AND t.ms + {h * 1000} >= s{k}.ms")
        cols.append(
            f"CASE WHEN t.ms + {h * 1000} <= l.last THEN (s{k}.price - t.price) / t.price END AS return_{h}"
        )
    sql = (
        "WITH last AS (SELECT symbol, max(ms) AS last FROM src GROUP BY symbol) "
        f"SELECT t.i, {', '.join(cols)} FROM trades t JOIN last l ON t.symbol = l.symbol "
        f"{' '.join(joins)} ORDER BY t.i"
    )
    return pl.from_arrow(con.sql(sql).to_arrow_table())


@njit(cache=True)
def bare_sweep_nb(offsets, t, p, horizons, out):
    """All horizons in one pass over (symbol, time)-sorted arrays: the floor for any as-of pass."""
    ptr = np.empty(horizons.size, dtype=np.int64)
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        last = t[hi - 1]
        ptr[:] = lo - 1
        for i in range(lo, hi):
            for k in range(horizons.size):
                target = t[i] + horizons[k]
                j = ptr[k]
                while j + 1 < hi and t[j + 1] <= target:
                    j += 1
                ptr[k] = j
                out[k, i] = (p[j] - p[i]) / p[i] if target <= last else np.nan


def bare(df: pl.DataFrame):
    """The bare sweep's inputs: sorted arrays and offsets, prepared outside the timing."""
    s = df.sort("symbol", "ms", maintain_order=True)
    runs = s["symbol"].rle().struct.field("len").to_numpy()
    offsets = np.concatenate([[0], np.cumsum(runs)]).astype(np.int64)
    t = s["ms"].to_numpy().astype(np.float64) / 1000.0
    p = s["price"].to_numpy()
    out = np.empty((len(HORIZONS), s.height))
    hs = np.array(HORIZONS, dtype=np.float64)
    return lambda: bare_sweep_nb(offsets, t, p, hs, out)


def _memory_case():
    frame = keyed(data(), "int").select("symbol", "elapsed_seconds", "price")
    ours(frame.head(1000))
    return lambda: ours(frame)


def key_matrix(df: pl.DataFrame) -> None:
    """Issue 13: every key dtype and order, each against its references in the same run."""
    floor = median_time(bare(df), repeats=5)
    print(f"\nbare numba sweep (sorted arrays, all horizons): {floor:.3f} s")
    print(f"{'keys':<6} {'order':<9} {'ours s':>7} {'join_asof s':>11} {'x join_asof':>11} {'x bare':>7}")
    for kind in ("int", "str", "cat"):
        frame = keyed(df, kind)
        for order, case in orders(frame, "ms").items():
            ours(case.head(1000))
            t_ours = median_time(lambda case=case: ours(case), repeats=5)
            t_join = median_time(lambda case=case: polars_join_asof(case), repeats=3)
            print(
                f"{kind:<6} {order:<9} {t_ours:7.3f} {t_join:11.3f} "
                f"{t_join / t_ours:10.2f}x {floor / t_ours:6.2f}x"
            )
    frame = keyed(df, "int").select("symbol", "elapsed_seconds", "price")
    data_bytes = frame.estimated_size() + frame.height * 8 * len(HORIZONS)
    print("forward_return (int keys):", growth_ratio(peak_memory_mib(_memory_case), data_bytes))


def main() -> None:
    print(header(), f"duckdb {duckdb.__version__}, pandas {pd.__version__}")
    df = data()
    n = df.height
    pdf = df.to_pandas()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    indexed = df.with_row_index("i")
    con.register("trades", indexed.to_arrow())
    con.register("src", df.to_arrow())

    expected = ours(df)
    names = [f"return_{h}" for h in HORIZONS]
    others = {
        "polars": polars_join_asof(df),
        "pandas": pl.from_pandas(pandas_merge_asof(pdf)),
        "duckdb": duckdb_asof(con),
    }
    for label, other in others.items():
        for name in names:
            np.testing.assert_allclose(
                other[name].to_numpy(), expected[name].to_numpy(), rtol=1e-9, equal_nan=True,
                err_msg=f"{label} {name}",
            )  # fmt: skip

    shuffled = df.sample(fraction=1.0, shuffle=True, seed=0)
    runs = {
        "vizflow forward_return (3 horizons, one call)": lambda: ours(df),
        "vizflow forward_return, shuffled input": lambda: ours(shuffled),
        "Polars join_asof per horizon": lambda: polars_join_asof(df),
        "DuckDB ASOF JOIN per horizon (2 threads)": lambda: duckdb_asof(con),
        "pandas merge_asof per horizon": lambda: pandas_merge_asof(pdf),
    }
    times = {name: median_time(fn, repeats=5) for name, fn in runs.items()}
    base = times["vizflow forward_return (3 horizons, one call)"]
    print(f"\nrows: {n:,}, symbols: {N_SYMBOLS}, horizons: {HORIZONS}; median of 5 runs")
    print(f"{'case':<48} {'seconds':>8} {'Mrows/s':>8} {'time / ours':>12}")
    for name, t in times.items():
        print(f"{name:<48} {t:8.3f} {n / t / 1e6:8.2f} {t / base:11.2f}x")
    key_matrix(df)


if __name__ == "__main__":
    main()
