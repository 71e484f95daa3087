"""Enrichment: seq, position and one TagCondition on ~10M rows / 2,000 symbols, frame to frame.

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
from benchmarks._common import growth_ratio, header, key_matrix, keyed, median_time, peak_memory_mib, scaled

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
def bare_nb(offsets, qty, side):
    n = qty.size
    is_large = np.empty(n, np.bool_)
    seq = np.empty(n, np.int64)
    position = np.empty(n, np.int64)
    for g in range(offsets.size - 1):
        s = 0
        p = 0
        for i in range(offsets[g], offsets[g + 1]):
            is_large[i] = qty[i] > 10000
            s += 1  # noqa: SIM113
            seq[i] = s
            p += side[i] * qty[i]
            position[i] = p
    return is_large, seq, position


def bare(df: pl.DataFrame) -> pl.DataFrame:
    """The limit: frame already sorted; arrays out, one fused loop, columns back."""
    runs = df["symbol"].rle().struct.field("len").to_numpy()  # the input is sorted by symbol
    offsets = np.concatenate([[0], np.cumsum(runs)]).astype(np.int64)
    is_large, seq, position = bare_nb(offsets, df["qty"].to_numpy(), df["side"].to_numpy().astype(np.int64))
    return df.with_columns(
        pl.Series("is_large", is_large), pl.Series("seq", seq), pl.Series("position", position)
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


def memory(df: pl.DataFrame) -> None:
    frame = keyed(df, "int")
    data_bytes = frame.estimated_size() + frame.height * (1 + 8 + 8)
    print("enrich (int keys):", growth_ratio(peak_memory_mib(_memory_case), data_bytes))


def main() -> None:
    print(header())
    df = data()
    n = df.height
    # Parity before timing.
    expected = bare(df)
    got = ours(df)
    for name in ("is_large", "seq", "position"):
        assert got[name].equals(expected[name]), name
    sub = df.head(PY_SUBSET)
    ref = python_plan(sub)
    assert ours(sub).equals(ref)

    t_ours = median_time(lambda: ours(df), repeats=5)
    t_bare = median_time(lambda: bare(df), repeats=5)
    t_py = median_time(lambda: python_plan(sub), repeats=3, warmup=0) * n / PY_SUBSET
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=0)
    t_shuffled = median_time(lambda: ours(shuffled), repeats=3)
    print(f"\nrows: {n:,}, symbols: {N_SYMBOLS}; median of 5 runs")
    print(f"(Python: 3 runs on {PY_SUBSET:,} rows, scaled)")
    print(f"{'case':<52} {'seconds':>8} {'Mrows/s':>8}")
    for name, t in [
        ("vizflow enrich (3 rules), sorted input", t_ours),
        ("vizflow enrich (3 rules), shuffled input", t_shuffled),
        ("bare numba loop, frame to frame (sorted input)", t_bare),
        ("plan's row-dict Python loop (extrapolated)", t_py),
    ]:
        print(f"{name:<52} {t:8.3f} {n / t / 1e6:8.2f}")
    print(
        f"\nours vs Python loop: {t_py / t_ours:.0f}x (target >= 100x); "
        f"ours vs bare numba: {t_bare / t_ours:.2f}x (target >= 0.5x)"
    )
    timings = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        timings.append(res.stdout.split())
    print(
        "first call in a fresh process (compile 3 user rules + kernels), then a cached call:",
        ", ".join(f"{a}s / {b}s" for a, b in timings),
    )
    print(f"\nbare fused loop on sorted input: {t_bare:.3f} s")
    key_matrix(ours, df, t_bare, ("int", "str", "cat"), "elapsed_seconds")
    memory(df)


if __name__ == "__main__":
    main()
