"""forward_return: 3 horizons on ~5M rows / 2,000 symbols against the references an expert writes.

Every implementation gets the same rows (symbol, integer-ms time, price; unique (symbol, time))
and computes the same thing: the last price at or before ``t + h`` of the row's own symbol, null
(NaN for the bare loop) past the symbol's last print. Parity is checked before timing.

References (issue 23):

- **Polars**: the frame sorted once by (symbol, time) (not at all when it arrives sorted; ``t + h``
  keeps that order), one ``join_asof(by="symbol", check_sortedness=False)`` per horizon against
  the same sorted frame, the three lazy queries collected together (``pl.collect_all``), nulls past
  each symbol's end from an ``is_last`` flag on the right frame: no per-horizon sort, no join back.
  The rows come back in (symbol, time) order; vizflow's come back in input order.
- **DuckDB**: one query with three ``ASOF LEFT JOIN``s and each symbol's last time (``GROUP BY``),
  2 threads, result to Polars via Arrow, unordered.
- **bare numba sweep**: ``to_numpy()`` of the three columns of the sorted Int64-key frame, one
  ``njit`` loop finding each symbol's rows and answering all horizons in one pass, NaN past the
  end, three ``pl.Series`` out: the floor. Its time on sorted Int64 keys is the denominator of
  every "x bare" figure (other key dtypes and orders included: a bare loop needs them sorted and
  integer).
- **bare numba sweep, 2 threads**: the same loop on two runs of whole symbols (the rows split at
  the symbol change nearest the middle), one thread each (``nogil``), into one output: what the
  2 cores allow. It does not change "x bare"; it bounds "x join_asof": Polars' time over this
  floor is the largest ratio any implementation can reach on this machine (printed per key dtype).
- pandas ``merge_asof`` per horizon (issue 3's reference), once.

Targets (issue 23), sorted input, Int64/String/Categorical keys: >= 3x Polars ``join_asof`` and
>= 0.6x the bare sweep; shuffled input >= 0.35x the bare sweep on sorted input.
Run: ``python -m benchmarks forward_return`` (``--scale 0.05`` for a quick check).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pandas as pd
import polars as pl
from numba import njit

import vizflow as vf
from benchmarks._common import (
    growth_ratio,
    header,
    interleaved_medians,
    keyed,
    load_average,
    median_time,
    orders,
    peak_memory_mib,
    save_results,
    scaled,
)

HORIZONS_MS = [5_000, 60_000, 300_000]
NAMES = [f"return_{h}" for h in HORIZONS_MS]
N_SYMBOLS, PER_SYMBOL = 2000, scaled(2500, floor=5)


def data() -> pl.DataFrame:
    """Sorted by (symbol, ms), String symbols; ``keyed`` gives the Int64 and Categorical twins."""
    trades = vf.datasets.synthetic_trades(n_symbols=N_SYMBOLS, trades_per_symbol=PER_SYMBOL, seed=2)
    trades = vf.parse_time(trades, vf.CN).select(
        "symbol", ms=(pl.col("elapsed_seconds") * 1000).round().cast(pl.Int64), price="price"
    )
    # Unique (symbol, time): DuckDB takes the first of equal times, Polars/pandas/vizflow the last.
    return trades.unique(["symbol", "ms"], keep="first", maintain_order=True).sort(
        "symbol", "ms", maintain_order=True
    )


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.forward_return(df, HORIZONS_MS, "price", "ms", "symbol")


def polars_asof(df: pl.DataFrame, *, presorted: bool) -> pl.DataFrame:
    """Sorted once (unless it arrives sorted), one ``join_asof`` per horizon, collected together."""
    rows = df if presorted else df.sort("symbol", "ms")
    right = rows.lazy().select(
        "symbol",
        pl.col("ms").alias("t_src"),
        pl.col("price").alias("fut"),
        is_last=pl.col("symbol").ne(pl.col("symbol").shift(-1)).fill_null(True),
    )
    queries = []
    for h, name in zip(HORIZONS_MS, NAMES, strict=True):
        left = rows.lazy().select("symbol", "price", target=pl.col("ms") + h)
        joined = left.join_asof(
            right,
            left_on="target",
            right_on="t_src",
            by="symbol",
            strategy="backward",
            check_sortedness=False,
        )
        past_end = pl.col("is_last") & (pl.col("target") > pl.col("t_src"))
        queries.append(
            joined.select(
                pl.when(~past_end).then((pl.col("fut") - pl.col("price")) / pl.col("price")).alias(name)
            )
        )
    return rows.hstack([f.to_series() for f in pl.collect_all(queries)])


def duckdb_asof(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    cols, joins = [], []
    for k, (h, name) in enumerate(zip(HORIZONS_MS, NAMES, strict=True)):
        joins.append(f"ASOF LEFT JOIN {table} s{k} ON t.symbol = s{k}.symbol AND t.ms + {h} >= s{k}.ms")
        cols.append(f"CASE WHEN t.ms + {h} <= l.last THEN (s{k}.price - t.price) / t.price END AS {name}")
    sql = (
        f"WITH l AS (SELECT symbol, max(ms) AS last FROM {table} GROUP BY symbol) "
        f"SELECT t.*, {', '.join(cols)} FROM {table} t JOIN l ON t.symbol = l.symbol {' '.join(joins)}"
    )
    return con.sql(sql).pl()


def pandas_merge_asof(df: pd.DataFrame) -> pd.DataFrame:
    """Per horizon: ``merge_asof`` needs the left side sorted by the target itself."""
    src = df[["symbol", "ms", "price"]].rename(columns={"ms": "t_src", "price": "fut"}).sort_values("t_src")
    last = df.groupby("symbol")["ms"].transform("max")
    out = df.assign(last=last, i=np.arange(len(df)))
    for h, name in zip(HORIZONS_MS, NAMES, strict=True):
        left = out.assign(target=out["ms"] + h).sort_values("target", kind="stable")
        merged = pd.merge_asof(
            left, src, left_on="target", right_on="t_src", by="symbol", direction="backward"
        )
        merged[name] = ((merged["fut"] - merged["price"]) / merged["price"]).where(
            merged["target"] <= merged["last"]
        )
        out = merged.drop(columns=["target", "t_src", "fut"])
    return out.sort_values("i").reset_index(drop=True)


@njit(cache=True, nogil=True)
def bare_sweep_into_nb(sym, t, p, horizons, start, stop, out):  # noqa: PLR0917
    """All horizons in one pass over rows ``start:stop`` (whole symbols); NaN past a symbol's end.

    The arrays are sorted by (symbol, time).
    """
    nh = horizons.size
    ptr = np.empty(nh, np.int64)
    lo = start
    while lo < stop:
        hi = lo + 1
        while hi < stop and sym[hi] == sym[lo]:
            hi += 1
        last = t[hi - 1]
        ptr[:] = lo
        for i in range(lo, hi):
            for k in range(nh):
                target = t[i] + horizons[k]
                j = ptr[k]
                while j + 1 < hi and t[j + 1] <= target:
                    j += 1
                ptr[k] = j
                out[k, i] = (p[j] - p[i]) / p[i] if target <= last else np.nan
        lo = hi


@njit(cache=True)
def bare_sweep_nb(sym, t, p, horizons):
    """The sweep over all rows in one thread."""
    out = np.empty((horizons.size, t.size))
    bare_sweep_into_nb(sym, t, p, horizons, 0, t.size, out)
    return out


def bare(df: pl.DataFrame) -> pl.DataFrame:
    """The floor: arrays in, one fused loop, Series out (Int64 keys, sorted by symbol and time)."""
    out = bare_sweep_nb(
        df["symbol"].to_numpy(), df["ms"].to_numpy(), df["price"].to_numpy(), np.array(HORIZONS_MS, np.int64)
    )
    return df.hstack([pl.Series(name, out[k]) for k, name in enumerate(NAMES)])


def bare_threads(df: pl.DataFrame) -> pl.DataFrame:
    """The floor on 2 cores: the sweep on two runs of whole symbols, one thread each."""
    sym, t, p = df["symbol"].to_numpy(), df["ms"].to_numpy(), df["price"].to_numpy()
    n, horizons = t.size, np.array(HORIZONS_MS, np.int64)
    out = np.empty((horizons.size, n))
    cut = n // 2
    while 0 < cut < n and sym[cut] == sym[cut - 1]:
        cut += 1
    with ThreadPoolExecutor(2) as pool:
        runs = [
            pool.submit(bare_sweep_into_nb, sym, t, p, horizons, a, b, out) for a, b in ((0, cut), (cut, n))
        ]
        for run in runs:
            run.result()
    return df.hstack([pl.Series(name, out[k]) for k, name in enumerate(NAMES)])


def same(label: str, got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Equal returns (rtol 1e-12, NaN as null) after putting both in (symbol, ms) order."""
    got, expected = got.sort("symbol", "ms"), expected.sort("symbol", "ms")
    for name in NAMES:
        a = got[name].fill_nan(None)
        b = expected[name]
        assert a.is_null().sum() == b.is_null().sum(), f"{label} {name}: nulls differ"
        np.testing.assert_allclose(
            a.to_numpy(), b.to_numpy(), rtol=1e-12, equal_nan=True, err_msg=f"{label} {name}"
        )


def _memory_case():
    frame = keyed(data(), "int")
    ours(frame.head(1000))
    return lambda: ours(frame)


def main() -> None:
    print(header(), f"duckdb {duckdb.__version__}, pandas {pd.__version__}, load average {load_average()}")
    df = data()
    n = df.height
    ints = keyed(df, "int")
    expected = ours(ints)
    same("bare", bare(ints), expected)
    same("bare, 2 threads", bare_threads(ints), expected)
    print(f"rows: {n:,}, symbols: {N_SYMBOLS}, horizons {HORIZONS_MS} ms (integer-ms times everywhere)")

    # Headline (Int64 keys): every reference once, interleaved with ours.
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    shuffled = ints.sample(fraction=1.0, shuffle=True, seed=0)
    con.register("sorted_t", ints.to_arrow())
    con.register("shuffled_t", shuffled.to_arrow())
    same("duckdb", duckdb_asof(con, "sorted_t"), expected)
    same("duckdb shuffled", duckdb_asof(con, "shuffled_t"), expected)
    pdf = ints.to_pandas()
    same("pandas", pl.from_pandas(pandas_merge_asof(pdf)), expected)
    t_ours, t_bare, t_bare2, t_duck, t_duck_sh = interleaved_medians(
        [lambda: ours(ints), lambda: bare(ints), lambda: bare_threads(ints),
         lambda: duckdb_asof(con, "sorted_t"), lambda: duckdb_asof(con, "shuffled_t")], repeats=5,
    )  # fmt: skip
    t_pandas = median_time(lambda: pandas_merge_asof(pdf), repeats=1, warmup=0)
    rows = [
        {"case": "vizflow forward_return, Int64 sorted", "seconds": t_ours},
        {"case": "bare numba sweep, Int64 sorted", "seconds": t_bare},
        {"case": "bare numba sweep, 2 threads, Int64 sorted", "seconds": t_bare2},
        {"case": "DuckDB ASOF JOIN x3, sorted table", "seconds": t_duck},
        {"case": "DuckDB ASOF JOIN x3, shuffled table", "seconds": t_duck_sh},
        {"case": "pandas merge_asof per horizon (1 run)", "seconds": t_pandas},
    ]
    print(f"\n{'case':<44} {'seconds':>8} {'Mrows/s':>8} {'time/ours':>10}")
    for r in rows:
        print(
            f"{r['case']:<44} {r['seconds']:8.3f} {n / r['seconds'] / 1e6:8.2f} {r['seconds'] / t_ours:9.2f}x"
        )

    # Every key dtype and order: ours and Polars interleaved; x bare against the sorted Int64 floor.
    print(
        f"\nbare sweep (sorted Int64 arrays): {t_bare:.3f} s, 2 threads {t_bare2:.3f} s; ours and Polars"
        " median of 5 interleaved; 'join_asof / 2 threads' = Polars' time over the 2-thread floor, the"
        " largest 'x join_asof' this machine allows"
    )
    print(
        f"{'keys':<6} {'order':<9} {'ours s':>7} {'join_asof s':>11} {'x join_asof':>11} {'x bare':>7}"
        f" {'join_asof / 2 threads':>22}"
    )
    for kind in ("int", "str", "cat"):
        for order, case in orders(keyed(df, kind), "ms").items():
            presorted = order == "sorted"
            same(f"polars {kind} {order}", polars_asof(case, presorted=presorted), expected)
            same(f"ours {kind} {order}", ours(case), expected)
            t_o, t_p = interleaved_medians(
                [lambda c=case: ours(c), lambda c=case, s=presorted: polars_asof(c, presorted=s)], repeats=5
            )
            print(
                f"{kind:<6} {order:<9} {t_o:7.3f} {t_p:11.3f} {t_p / t_o:10.2f}x {t_bare / t_o:6.2f}x"
                f" {t_p / t_bare2:21.2f}x"
            )
            rows.append(
                {"case": f"matrix {kind} {order}", "keys": kind, "order": order, "ours_s": t_o,
                 "polars_join_asof_s": t_p, "x_join_asof": t_p / t_o, "x_bare": t_bare / t_o,
                 "join_asof_over_bare_2_threads": t_p / t_bare2}
            )  # fmt: skip
    data_bytes = ints.estimated_size() + n * 8 * len(HORIZONS_MS)
    peak = peak_memory_mib(_memory_case)
    print("forward_return (Int64 keys):", growth_ratio(peak, data_bytes))
    rows.append({"case": "peak RSS growth, Int64 sorted", "mib": peak, "data_mib": data_bytes / 2**20})
    save_results("forward_return", rows, rows_in=n, symbols=N_SYMBOLS, horizons_ms=HORIZONS_MS)


if __name__ == "__main__":
    main()
