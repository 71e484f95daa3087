"""Enrichment: seq, position and one TagCondition on ~10M rows / 2,000 symbols, frame to frame.

The floor (issue 23): Int64 keys, the frame sorted by (symbol, time); ``to_numpy()`` of the key,
``qty`` and ``side`` (its own Int8, no cast), one fused ``njit`` loop computing the three tags
(a new key restarts them: no run-length pass), three ``pl.Series`` out. And for a rule set that
reads one column, a bare loop reading that column (and the key). Every "x bare" figure is over
the 3-tag floor on sorted Int64 keys. Targets (issue 23): sorted Int64 >= 0.5x, shuffled >= 0.25x.

Targets (issue 5): at least 100x the plan's row-dict Python loop and at least 0.5x a bare numba loop
over the same arrays, end to end. Also the first-call compile latency. Targets (issue 13): >= 0.5x
the bare fused loop on integer keys; shuffled input >= 0.2x of the bare loop on sorted input; peak
RSS <= 2x (input + output). Run: ``python -m benchmarks enrich``.
"""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import polars as pl

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

N_SYMBOLS, PER_SYMBOL = 2000, scaled(5000, floor=5)
PY_SUBSET = min(
    200_000, N_SYMBOLS * PER_SYMBOL
)  # the Python loop is timed on this many rows and extrapolated


def data() -> pl.DataFrame:
    trades = vf.datasets.synthetic_trades(n_symbols=N_SYMBOLS, trades_per_symbol=PER_SYMBOL, seed=3)
    return vf.parse_time(trades, vf.CN).select("symbol", "elapsed_seconds", "qty", "side", "price")


def rules() -> list[vf.TagRule]:
    return [
        vf.TagCondition("is_large", lambda r: r["qty"] > 10000),
        vf.TagRunning("seq", lambda p, r: p + 1, 0),
        vf.TagRunning("position", lambda p, r: p + r["side"] * r["qty"], 0),
    ]


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.enrich(df, rules(), by="symbol", sort_by="elapsed_seconds")


@numba.njit(cache=True)
def bare_nb(sym, qty, side):
    """The three tags in one fused loop over (symbol, time)-sorted arrays; a new key restarts them."""
    n = qty.size
    is_large = np.empty(n, np.bool_)
    seq = np.empty(n, np.int64)
    position = np.empty(n, np.int64)
    s = 0
    p = 0
    for i in range(n):
        if i == 0 or sym[i] != sym[i - 1]:
            s = 0
            p = 0
        is_large[i] = qty[i] > 10000
        s += 1
        seq[i] = s
        p += side[i] * qty[i]
        position[i] = p
    return is_large, seq, position


def bare(df: pl.DataFrame) -> pl.DataFrame:
    """The floor: Int64 keys, frame sorted by (symbol, time); ``to_numpy()`` in, one loop, Series out."""
    is_large, seq, position = bare_nb(df["symbol"].to_numpy(), df["qty"].to_numpy(), df["side"].to_numpy())
    return df.hstack(
        [pl.Series("is_large", is_large), pl.Series("seq", seq), pl.Series("position", position)]
    )


@numba.njit(cache=True)
def bare_one_nb(sym, qty):
    """One running sum over one column (the one-column rule set's floor)."""
    out = np.empty(qty.size, np.int64)
    v = 0
    for i in range(qty.size):
        if i == 0 or sym[i] != sym[i - 1]:
            v = 0
        v += qty[i]
        out[i] = v
    return out


def bare_one(df: pl.DataFrame) -> pl.DataFrame:
    return df.hstack([pl.Series("volume", bare_one_nb(df["symbol"].to_numpy(), df["qty"].to_numpy()))])


def ours_one(df: pl.DataFrame) -> pl.DataFrame:
    """A rule set that reads one column: running volume."""
    return vf.enrich(
        df, [vf.TagRunning("volume", lambda p, r: p + r["qty"], 0)], by="symbol", sort_by="elapsed_seconds"
    )


def python_plan(df: pl.DataFrame) -> pl.DataFrame:
    """The plan's design (phase 5): a dict per row, ``rule.process(row, state)`` per rule.

    This is vizflow's own ``jit=False`` path, which follows the plan's row-by-row Enricher.
    """
    slow = [
        vf.TagCondition("is_large", lambda r: r["qty"] > 10000, jit=False),
        vf.TagRunning("seq", lambda p, r: p + 1, 0, jit=False),
        vf.TagRunning("position", lambda p, r: p + r["side"] * r["qty"], 0, jit=False),
    ]
    return vf.enrich(df, slow, by="symbol", sort_by="elapsed_seconds")


FIRST_CALL = """
import time, polars as pl, vizflow as vf
def rules():  # the same rule code every call, as in a loop over dates
    return [vf.TagCondition("is_large", lambda r: r["qty"] > 10000),
            vf.TagRunning("seq", lambda p, r: p + 1, 0),
            vf.TagRunning("position", lambda p, r: p + r["side"] * r["qty"], 0)]
df = pl.DataFrame({"symbol": ["a", "b"], "t": [1.0, 2.0], "qty": [1, 2], "side": [1, -1]})
t = time.perf_counter()
vf.enrich(df, rules(), by="symbol", sort_by="t")
first = time.perf_counter() - t
t = time.perf_counter()
vf.enrich(df, rules(), by="symbol", sort_by="t")
print(f"{first:.3f} {time.perf_counter() - t:.4f}")
"""


def _memory_case():
    frame = keyed(data(), "int")
    ours(frame.head(1000))
    return lambda: ours(frame)


def main() -> None:
    print(header(), f"load average {load_average()}")
    df = data()
    ints = keyed(df, "int")
    n = df.height
    # Parity before timing.
    expected = bare(ints)
    got = ours(ints)
    for name in ("is_large", "seq", "position"):
        assert got[name].equals(expected[name]), name
    assert ours_one(ints)["volume"].equals(bare_one(ints)["volume"])
    sub = df.head(PY_SUBSET)
    assert ours(sub).equals(python_plan(sub))

    arranged = orders(ints, "elapsed_seconds")
    shuffled, feed = arranged["shuffled"], arranged["by time"]
    t_ours, t_bare, t_one, t_bare_one, t_shuffled, t_feed = interleaved_medians(
        [
            lambda: ours(ints),
            lambda: bare(ints),
            lambda: ours_one(ints),
            lambda: bare_one(ints),
            lambda: ours(shuffled),
            lambda: ours(feed),
        ],
        repeats=5,
    )
    t_py = median_time(lambda: python_plan(sub), repeats=3, warmup=0) * n / PY_SUBSET
    rows = [
        {"case": "vizflow enrich, 3 rules, Int64 sorted", "seconds": t_ours},
        {"case": "bare fused loop, 3 tags, Int64 sorted", "seconds": t_bare},
        {"case": "vizflow enrich, 1 rule reading qty, Int64 sorted", "seconds": t_one},
        {"case": "bare loop, 1 running sum reading qty, Int64 sorted", "seconds": t_bare_one},
        {"case": "vizflow enrich, 3 rules, Int64 shuffled", "seconds": t_shuffled},
        {"case": "vizflow enrich, 3 rules, Int64 by time (a feed)", "seconds": t_feed},
        {"case": "plan's row-dict Python loop (extrapolated)", "seconds": t_py},
    ]
    print(
        f"\nrows: {n:,}, symbols: {N_SYMBOLS}; median of 5 interleaved runs"
        f" (Python: 3 on {PY_SUBSET:,}, scaled)"
    )
    print(f"{'case':<52} {'seconds':>8} {'Mrows/s':>8}")
    for r in rows:
        print(f"{r['case']:<52} {r['seconds']:8.3f} {n / r['seconds'] / 1e6:8.2f}")
    print(
        f"\nours vs bare fused loop: {t_bare / t_ours:.2f}x (target >= 0.5x); one-column rule set vs "
        f"one-column bare loop: {t_bare_one / t_one:.2f}x (target >= 1x); shuffled vs bare fused loop on "
        f"sorted rows: {t_bare / t_shuffled:.2f}x (target >= 0.25x); a feed: {t_bare / t_feed:.2f}x; "
        f"ours vs Python loop: {t_py / t_ours:.0f}x"
    )
    timings = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        timings.append(res.stdout.split())
    print(
        "first call in a fresh process (compile 3 user rules + kernels), then a cached call:",
        ", ".join(f"{a}s / {b}s" for a, b in timings),
    )
    print(f"\nevery key dtype and order; x bare = the bare fused loop on sorted Int64 keys ({t_bare:.3f} s)")
    print(f"{'keys':<6} {'order':<9} {'ours s':>7} {'x bare':>7}")
    for kind in ("int", "str", "cat"):
        for order, case in orders(keyed(df, kind), "elapsed_seconds").items():
            ours(case.head(1000))
            (t,) = interleaved_medians([lambda c=case: ours(c)], repeats=3)
            print(f"{kind:<6} {order:<9} {t:7.3f} {t_bare / t:6.2f}x")
            rows.append({"case": f"matrix {kind} {order}", "keys": kind, "order": order, "ours_s": t,
                         "x_bare": t_bare / t})  # fmt: skip
    data_bytes = ints.estimated_size() + n * (1 + 8 + 8)
    peak = peak_memory_mib(_memory_case)
    print("enrich (int keys):", growth_ratio(peak, data_bytes))
    rows.append({"case": "peak RSS growth, Int64 sorted", "mib": peak, "data_mib": data_bytes / 2**20})
    save_results("enrich", rows, rows_in=n, symbols=N_SYMBOLS)


if __name__ == "__main__":
    main()
