"""A full market day: forward returns of every trade against quote snapshots, 5,000 symbols.

The day (issue 23): 5,000 Int64 symbols, ~6,000 trades a symbol on average with a skewed spread
(lognormal, sigma 1: the top 1% trade over 10x the median; ~29M trades), quote snapshots every 3 s for
every symbol (4,800 a symbol, ~24M), horizons 1/10/60/300 s, the future mid from the quotes
(``reference=``) over the trade's own price. Times are integer milliseconds of trading time
everywhere, so every implementation computes exactly the same thing:

- vizflow ``forward_return(trades, ..., reference=quotes)`` on trades sorted by (symbol, time),
  and on the same trades in time order (a feed);
- Polars, as an expert writes it: both frames sorted once by (symbol, time) (they are stored so;
  ``t + h`` keeps that order), one ``join_asof(by="symbol", check_sortedness=False)`` per horizon,
  the four lazy queries collected together (``pl.collect_all``), nulls past each symbol's last
  quote from an ``is_last`` flag on the quotes (no join back, no per-horizon sort);
- the bare merge: ``to_numpy()`` of the six sorted columns, one ``njit`` loop walking trades and
  quotes of each symbol together with one pointer per horizon, NaN where vizflow has null, four
  ``pl.Series`` out.

Parity (rtol 1e-12, same nulls) is checked on the symbols of the first 10% of codes before
timing. Each case then runs in its own spawned process (data read from parquet and a warm-up on
a small slice not counted): wall time and peak RSS growth (the kernel's VmHWM, reset before the
run), the median of ``REPEATS`` processes.

Then the same day as parquet files (trades and quotes with their usual extra columns) through a
lazy chain, ``vf.scan`` -> ``parse_time`` -> ``forward_return(reference=...)`` -> ``summarize``
by side, collected with the streaming engine: time, peak RSS, and the optimized plan's
projection of each parquet scan (only the needed columns may be read).

Data are generated once per scale into ``$TMPDIR/vizflow-bench-market-day-<scale>`` and reused
(delete that folder after changing :func:`generate`).
Run: ``python -m benchmarks market_day`` (full day, ~10 min) or ``--scale 0.05`` for a quick run.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from numba import njit

import vizflow as vf
from benchmarks._common import SCALE, header, load_average, save_results, time_and_peak

N_SYMBOLS = max(20, round(5000 * SCALE))
TRADES_PER_SYMBOL = 5840  # mean; x 5,000 symbols = 29.2M
SNAPSHOT_MS = 3000
DAY_MS = 4 * 3600 * 1000  # CN: 09:30-11:30 and 13:00-15:00
HORIZONS_S = [1, 10, 60, 300]
HORIZONS_MS = [h * 1000 for h in HORIZONS_S]
NAMES = [f"return_{h}" for h in HORIZONS_MS]
REPEATS = int(os.environ.get("VIZFLOW_BENCH_REPEATS", "3"))
FOLDER = Path(tempfile.gettempdir()) / f"vizflow-bench-market-day-{SCALE:g}"
TRADE_COLS = ["symbol", "ms", "price"]
QUOTE_COLS = ["symbol", "ms", "mid"]


def _ticktime(ms: np.ndarray) -> np.ndarray:
    """Integer HHMMSSmmm clock of elapsed trading milliseconds (CN sessions)."""
    wall = np.where(ms < 7_200_000, ms + 34_200_000, ms - 7_200_000 + 46_800_000)
    h, rest = np.divmod(wall, 3_600_000)
    m, rest = np.divmod(rest, 60_000)
    s, milli = np.divmod(rest, 1000)
    return ((h * 100 + m) * 100 + s) * 1000 + milli


def generate(folder: Path = FOLDER) -> Path:
    """Write ``trades.parquet`` and ``quotes.parquet`` (sorted by symbol, time) unless present."""
    done = folder / "done"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(23)
    codes = 600_000 + np.arange(N_SYMBOLS, dtype=np.int64)
    # Skewed activity: lognormal weights, scaled to the mean.
    weights = rng.lognormal(0.0, 1.0, N_SYMBOLS)
    per_symbol = np.maximum(1, np.round(weights / weights.mean() * TRADES_PER_SYMBOL)).astype(np.int64)
    # Quotes: every symbol every 3 s, mid a random walk on a 0.01 tick grid (half-ticks for the mid).
    q_ms = np.arange(0, DAY_MS, SNAPSHOT_MS, dtype=np.int64)
    q_sym = np.repeat(codes, q_ms.size)
    start = rng.uniform(5, 100, N_SYMBOLS).round(2)
    steps = rng.integers(-1, 2, (N_SYMBOLS, q_ms.size)) * 0.005
    mid = (start[:, None] + np.cumsum(steps, axis=1)).clip(0.5).round(3).ravel()
    spread = 0.01 * rng.integers(1, 3, mid.size)
    quotes = pl.DataFrame(
        {
            "symbol": q_sym,
            "ms": np.tile(q_ms, N_SYMBOLS),
            "ticktime": _ticktime(np.tile(q_ms, N_SYMBOLS)),
            "bid": (mid - spread / 2).round(3),
            "ask": (mid + spread / 2).round(3),
            "mid": mid,
            "bid_size": rng.integers(1, 500, mid.size) * 100,
            "ask_size": rng.integers(1, 500, mid.size) * 100,
        }
    )
    del steps, spread
    # Trades: uniform times within the day, sorted per symbol; price at the prevailing mid +- half a tick.
    n = int(per_symbol.sum())
    sym_idx = np.repeat(np.arange(N_SYMBOLS, dtype=np.int64), per_symbol)
    t_ms = rng.integers(0, DAY_MS, n)
    order = np.argsort(sym_idx * DAY_MS + t_ms, kind="stable")
    sym_idx, t_ms = sym_idx[order], t_ms[order]
    del order
    pos = sym_idx * q_ms.size + t_ms // SNAPSHOT_MS
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    trades = pl.DataFrame(
        {
            "symbol": codes[sym_idx],
            "ms": t_ms,
            "ticktime": _ticktime(t_ms),
            "price": (mid[pos] + side * 0.005).round(3),
            "qty": np.ceil(rng.lognormal(np.log(8), 1.1, n)).astype(np.int64) * 100,
            "side": side,
            "order_id": np.arange(n, dtype=np.int64),
        }
    )
    trades.write_parquet(folder / "trades.parquet", row_group_size=1_000_000)
    quotes.write_parquet(folder / "quotes.parquet", row_group_size=1_000_000)
    done.write_text(f"{trades.height} trades, {quotes.height} quotes\n")
    return folder


def read(what: str, cols: list[str], order: str = "sorted") -> pl.DataFrame:
    frame = pl.read_parquet(FOLDER / f"{what}.parquet", columns=cols).rechunk()  # contiguous inputs
    return frame.sort("ms", maintain_order=True) if order == "by time" else frame


def ours(trades: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    return vf.forward_return(
        trades, HORIZONS_MS, "price", "ms", "symbol", reference=quotes, reference_price_col="mid"
    )


def polars_asof(trades: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    """Both frames sorted by (symbol, ms): one ``join_asof`` per horizon, collected together."""
    q = quotes.lazy().select(
        "symbol",
        pl.col("ms").alias("q_ms"),
        "mid",
        is_last=pl.col("symbol").ne(pl.col("symbol").shift(-1)).fill_null(True),
    )
    queries = []
    for h, name in zip(HORIZONS_MS, NAMES, strict=True):
        target = trades.lazy().select("symbol", "price", target=pl.col("ms") + h)
        joined = target.join_asof(
            q, left_on="target", right_on="q_ms", by="symbol", strategy="backward", check_sortedness=False
        )
        past_end = pl.col("is_last") & (pl.col("target") > pl.col("q_ms"))
        queries.append(
            joined.select(
                pl.when(~past_end).then((pl.col("mid") - pl.col("price")) / pl.col("price")).alias(name)
            )
        )
    return trades.hstack([f.to_series() for f in pl.collect_all(queries)])


@njit(cache=True)
def bare_merge_nb(ts, tt, tp, qs, qt, qm, hs):  # noqa: PLR0917
    """Trades and quotes sorted by (symbol, time): walk both per symbol, a pointer per horizon."""
    n, nq, nh = ts.size, qs.size, hs.size
    out = np.empty((nh, n))
    ptr = np.empty(nh, np.int64)
    i = 0
    j0 = 0
    while i < n:
        s = ts[i]
        i1 = i
        while i1 < n and ts[i1] == s:
            i1 += 1
        while j0 < nq and qs[j0] < s:
            j0 += 1
        j1 = j0
        while j1 < nq and qs[j1] == s:
            j1 += 1
        last = qt[j1 - 1] if j1 > j0 else 0
        ptr[:] = j0 - 1
        for r in range(i, i1):
            for k in range(nh):
                target = tt[r] + hs[k]
                p = ptr[k]
                while p + 1 < j1 and qt[p + 1] <= target:
                    p += 1
                ptr[k] = p
                if p >= j0 and target <= last:
                    out[k, r] = (qm[p] - tp[r]) / tp[r]
                else:
                    out[k, r] = np.nan
        i = i1
        j0 = j1
    return out


def bare_merge(trades: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    out = bare_merge_nb(
        trades["symbol"].to_numpy(), trades["ms"].to_numpy(), trades["price"].to_numpy(),
        quotes["symbol"].to_numpy(), quotes["ms"].to_numpy(), quotes["mid"].to_numpy(),
        np.array(HORIZONS_MS, np.int64),
    )  # fmt: skip
    return trades.hstack([pl.Series(name, out[k]) for k, name in enumerate(NAMES)])


CASES = {
    "vizflow forward_return (trades sorted by symbol, time)": (ours, "sorted"),
    "vizflow forward_return (trades in time order, a feed)": (ours, "by time"),
    "Polars join_asof x4 (sorted once, collect_all)": (polars_asof, "sorted"),
    "bare numba merge (sorted arrays, all horizons)": (bare_merge, "sorted"),
}


def _case(label: str):
    """In the child: read the day, warm up on a slice (compiles), return the measured call."""
    fn, order = CASES[label]
    trades, quotes = read("trades", TRADE_COLS, order), read("quotes", QUOTE_COLS)
    fn(trades.head(10_000), quotes.head(10_000))
    return lambda: fn(trades, quotes)


def lazy_chain(engine: str = "streaming") -> pl.LazyFrame:
    trades = vf.parse_time(vf.scan(FOLDER / "trades.parquet"), vf.CN)
    quotes = vf.parse_time(vf.scan(FOLDER / "quotes.parquet"), vf.CN)
    returns = vf.forward_return(
        trades, HORIZONS_S, "price", "elapsed_seconds", "symbol", reference=quotes, reference_price_col="mid"
    )
    return vf.summarize(returns, "side", [f"return_{h}" for h in HORIZONS_S])


def _lazy_case(engine: str):
    lazy_chain().head(0).collect()  # compiles the kernels; reads nothing it needs not
    return lambda: lazy_chain().collect(engine=engine)


def scans_read(plan: str) -> list[str]:
    """The projection of every parquet scan in an optimized plan, e.g. ``['3/7', '3/8']``."""
    return re.findall(r"PROJECT (\d+/\d+) COLUMNS", plan)


def check_parity() -> None:
    cut = 600_000 + max(2, N_SYMBOLS // 10)
    trades = read("trades", TRADE_COLS).filter(pl.col("symbol") < cut)
    quotes = read("quotes", QUOTE_COLS).filter(pl.col("symbol") < cut)
    expected = ours(trades, quotes)
    for label, other in (("polars", polars_asof(trades, quotes)), ("bare", bare_merge(trades, quotes))):
        for name in NAMES:
            a, b = expected[name], other[name]
            assert a.is_null().sum() == b.fill_nan(None).is_null().sum(), (label, name, "nulls")
            np.testing.assert_allclose(
                b.fill_nan(None).to_numpy(),
                a.to_numpy(),
                rtol=1e-12,
                equal_nan=True,
                err_msg=f"{label} {name}",
            )
    feed = ours(trades.sort("ms", maintain_order=True), quotes)
    assert feed.sort("symbol", "ms", maintain_order=True).equals(
        expected.sort("symbol", "ms", maintain_order=True)
    )
    print(
        f"parity: {trades.height:,} trades of {cut - 600_000} symbols, 4 horizons, 3 implementations: equal"
    )


def main() -> None:
    print(header(), f"load average {load_average()}")
    t0 = time.perf_counter()
    generate()
    day = (FOLDER / "done").read_text().strip()
    print(f"data in {FOLDER}: {day} (ready in {time.perf_counter() - t0:.1f} s)")
    check_parity()
    rows = []
    print(f"\none spawned process per run, median of {REPEATS}; peak = RSS growth over the inputs")
    print(f"{'case':<58} {'seconds':>8} {'peak MiB':>9} {'x Polars':>9} {'x bare':>7}")
    results = {}
    for label in CASES:
        runs = [time_and_peak(_case, label) for _ in range(REPEATS)]
        results[label] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    t_pl = results["Polars join_asof x4 (sorted once, collect_all)"][0]
    t_bare = results["bare numba merge (sorted arrays, all horizons)"][0]
    for label, (sec, mib) in results.items():
        print(f"{label:<58} {sec:8.3f} {mib:9.0f} {t_pl / sec:8.2f}x {t_bare / sec:6.2f}x")
        rows.append({"case": label, "seconds": sec, "peak_rss_growth_mib": mib})

    plan = lazy_chain().explain(engine="streaming")
    projections = scans_read(plan)
    # trades: symbol, ticktime, price, side (summarize's key); quotes: symbol, ticktime, mid.
    print(
        f"\nlazy chain (scan -> parse_time -> forward_return -> summarize), parquet scans read {projections}"
    )
    assert sorted(projections) == ["3/8", "4/7"], plan
    runs = [time_and_peak(_lazy_case, "streaming") for _ in range(REPEATS)]
    sec, mib = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"{'lazy chain, streaming engine, from parquet':<58} {sec:8.3f} {mib:9.0f}")
    rows.append(
        {"case": "lazy chain streaming (scan->parse_time->forward_return->summarize)", "seconds": sec,
         "peak_rss_growth_mib": mib, "parquet_projections": projections}
    )  # fmt: skip
    save_results("market_day", rows, day=day, horizons_s=HORIZONS_S, repeats=REPEATS)


if __name__ == "__main__":
    main()
