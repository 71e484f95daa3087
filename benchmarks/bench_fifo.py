"""FIFO matching throughput: 10M fills over 2,000 symbols, frame to expanded frame.

Compared in one run with (a) the plan's row-by-row Python design (a dict per row, a deque of
lots; timed on a subset and scaled), (b) the floor (issue 23): bare kernel + gather, i.e.
``to_numpy()`` of the Int64 key, side, qty, price and time of the sorted frame, one ``njit`` FIFO
loop (a new key restarts the queue: no offsets pass) writing the source row, entry row, matched
quantity, P&L and holding period, then one ``gather`` of the input rows and four ``pl.Series``
(NaN -> null for the open lots' P&L and holding period); vizflow adds five more columns (lot
side, entry time and price, exit price, is_closed) and validates its inputs, (c) vizflow's kernel
alone on ready arrays. Also peak memory, and the scaling curve: each size and implementation in
fresh processes, alternating, with wall and CPU (user + system) time and minor page faults per fill,
so a per-fill slowdown can be told apart from memory first-touch and from a loaded machine; writes
``benchmarks/fifo_scaling.png`` at full scale. Target (issue 23): end to end >= 0.7x of (b), 30M
fills no worse per fill than 10M; other key dtypes and orders are reported against (b) on sorted
Int64 keys.
Run: ``python -m benchmarks fifo``.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import queue as queue_module
import resource
import statistics
import time
from collections import deque
from pathlib import Path
from typing import Any

import numba
import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import (
    SCALE,
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
from vizflow.kernels.fifo import fifo_match_nb

N, N_SYMBOLS = scaled(10_000_000, floor=20_000), 2000
PY_SUBSET = min(300_000, N)
SCALING = [scaled(n, floor=20_000) for n in (1_000_000, 3_000_000, 10_000_000, 30_000_000)]
RULE = vf.FIFOMatch("side", "qty", "elapsed_seconds", "price", 1, -1)


def fills(n: int = N, kind: str = "int") -> pl.DataFrame:
    """Sorted by (symbol, time); Int64 symbols (``S0042`` -> 42) unless ``kind`` says otherwise."""
    return keyed(vf.datasets.synthetic_fills(n, N_SYMBOLS, seed=6), kind)


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.enrich(df, [RULE], by="symbol", sort_by="elapsed_seconds")


@numba.njit(cache=True)
def bare_fifo_nb(sym, side, qty, price, time):
    n = qty.size
    src = np.empty(2 * n, np.int64)
    ent = np.empty(2 * n, np.int64)
    mq = np.empty(2 * n)
    pnl = np.empty(2 * n)
    held = np.empty(2 * n)
    lot_i = np.empty(n, np.int64)
    lot_q = np.empty(n)
    k = 0
    lo = 0
    while lo < n:
        hi = lo + 1
        while hi < n and sym[hi] == sym[lo]:
            hi += 1
        head = tail = 0
        d0 = 0
        for i in range(lo, hi):
            rem = qty[i]
            if tail > head and side[i] != d0:
                while rem > 1e-9 and head < tail:
                    take = min(rem, lot_q[head])
                    j = lot_i[head]
                    src[k] = i
                    ent[k] = j
                    mq[k] = take
                    pnl[k] = d0 * (price[i] - price[j]) * take
                    held[k] = time[i] - time[j]
                    k += 1
                    rem -= take
                    lot_q[head] -= take
                    if lot_q[head] <= 1e-9:
                        head += 1
            if rem > 1e-9:
                if head == tail:
                    head = tail = 0
                    d0 = side[i]
                lot_i[tail] = i
                lot_q[tail] = rem
                tail += 1
        for j in range(head, tail):
            src[k] = lot_i[j]
            ent[k] = lot_i[j]
            mq[k] = lot_q[j]
            pnl[k] = np.nan
            held[k] = np.nan
            k += 1
        lo = hi
    return src[:k], ent[:k], mq[:k], pnl[:k], held[:k]


def bare(df: pl.DataFrame) -> pl.DataFrame:
    """The floor: Int64 keys, sorted frame; ``to_numpy()`` in, one loop, one gather of the input rows."""
    src, ent, mq, pnl, held = bare_fifo_nb(
        df["symbol"].to_numpy(),
        df["side"].to_numpy(),
        df["qty"].to_numpy(),
        df["price"].to_numpy(),
        df["elapsed_seconds"].to_numpy(),
    )
    return df.gather(src).with_columns(
        matched_entry_idx=pl.Series(ent),
        matched_qty=pl.Series(mq),
        realized_pnl=pl.Series(pnl, nan_to_null=True),
        holding_period=pl.Series(held, nan_to_null=True),
    )


def kernel_only(arrays: tuple) -> None:
    """vizflow's kernel on ready arrays: all output columns (times, prices, P&L) as numpy."""
    offsets, direction, qty, price, time = arrays
    n = qty.size
    outs = [np.empty(2 * n, dt) for dt in (np.int64, np.int64, np.float64, np.bool_, np.int8)]
    outs += [np.empty(2 * n, time.dtype), np.empty(2 * n, time.dtype)] + [np.empty(2 * n) for _ in range(3)]
    fifo_match_nb(
        offsets, direction, qty, price, time, np.arange(n), False, 1e-9,
        *outs, np.empty(n, np.int64), np.empty(n),
    )  # fmt: skip


def python_plan(df: pl.DataFrame) -> list[dict]:
    """The plan's design: rows as dicts, per-symbol state (a deque of lots), a list of dicts out."""
    out: list[dict] = []
    for _, group in df.group_by("symbol", maintain_order=True):
        lots: deque = deque()
        for idx, row in enumerate(group.iter_rows(named=True)):
            remaining = row["qty"]
            if lots and row["side"] != lots[0]["side"]:
                while remaining > 1e-9 and lots:
                    lot = lots[0]
                    take = min(remaining, lot["qty"])
                    out.append(
                        {
                            **row,
                            "matched_entry_idx": lot["idx"],
                            "matched_qty": take,
                            "realized_pnl": lot["side"] * (row["price"] - lot["price"]) * take,
                            "holding_period": row["elapsed_seconds"] - lot["t"],
                            "is_closed": True,
                        }
                    )
                    remaining -= take
                    lot["qty"] -= take
                    if lot["qty"] <= 1e-9:
                        lots.popleft()
            if remaining > 1e-9:
                lots.append(
                    {
                        "idx": idx,
                        "qty": remaining,
                        "side": row["side"],
                        "price": row["price"],
                        "t": row["elapsed_seconds"],
                    }
                )
        out.extend(
            {"matched_entry_idx": lot["idx"], "matched_qty": lot["qty"], "is_closed": False} for lot in lots
        )
    return out


def _ours_for_memory():
    df = fills()
    ours(df.head(1000))
    return lambda: ours(df)


def _bare_for_memory():
    df = fills()
    bare(df.head(1000))
    return lambda: bare(df)


def main() -> None:
    print(header(), f"load average {load_average()}")
    df = fills()
    expected = bare(df)
    got = ours(df)
    # Parity, row by row (the input is pre-sorted, so input and sorted positions agree).
    cols = ["symbol", "elapsed_seconds", "matched_entry_idx", "matched_qty", "realized_pnl", "holding_period"]
    assert got.select(cols).equals(expected.select(cols))
    offsets = np.append(
        df.select((pl.col("symbol") != pl.col("symbol").shift(1)).fill_null(True).arg_true())
        .to_series().to_numpy(), df.height,
    ).astype(np.int64)  # fmt: skip
    arrays = (offsets, *(df[c].to_numpy() for c in ["side", "qty", "price", "elapsed_seconds"]))
    kernel_only(arrays)
    sub = df.head(PY_SUBSET)
    py_rows = python_plan(sub)
    got_sub = ours(sub)
    assert len(py_rows) == got_sub.height
    assert np.isclose(sum(r.get("realized_pnl") or 0.0 for r in py_rows), got_sub["realized_pnl"].sum())

    t_ours, t_bare, t_kernel = interleaved_medians(
        [lambda: ours(df), lambda: bare(df), lambda: kernel_only(arrays)], repeats=7
    )
    t_py = median_time(lambda: python_plan(sub), repeats=3, warmup=0) * N / PY_SUBSET
    print(
        f"\nfills: {N:,} over {N_SYMBOLS} Int64 symbols -> {got.height:,} output rows;"
        " median of 7 interleaved"
    )
    rows = [
        {"case": "vizflow enrich([FIFOMatch]) frame -> frame, Int64 sorted", "seconds": t_ours},
        {"case": "bare FIFO kernel + gather, Int64 sorted", "seconds": t_bare},
        {"case": "vizflow kernel alone (arrays, 9 columns)", "seconds": t_kernel},
        {"case": f"plan's Python design ({PY_SUBSET:,} fills, scaled)", "seconds": t_py},
    ]
    print(f"{'case':<60} {'seconds':>8} {'M fills/s':>10}")
    for r in rows:
        print(f"{r['case']:<60} {r['seconds']:8.3f} {N / r['seconds'] / 1e6:10.2f}")
    print(
        f"\nours vs bare kernel + gather: {t_bare / t_ours:.2f}x (target >= 0.7x);"
        f" vs Python: {t_py / t_ours:.0f}x"
    )
    data_bytes = df.estimated_size() + got.estimated_size()
    peak = peak_memory_mib(_ours_for_memory)
    peak_bare = peak_memory_mib(_bare_for_memory)
    print(f"FIFO ({N:,} fills, Int64 keys, sorted):", growth_ratio(peak, data_bytes))
    print(f"bare kernel + gather: {peak_bare:.0f} MiB")
    rows.append(
        {"case": "peak RSS growth", "ours_mib": peak, "bare_mib": peak_bare, "data_mib": data_bytes / 2**20}
    )

    sizes, ours_t, bare_t = [], [], []
    print(
        f"\nscaling: each size and implementation in {SCALING_ROUNDS} fresh processes, alternating "
        "(no heap left over from another size); per process the median of 3 runs; CPU = user + system "
        "time of all threads, faults = minor page faults (first touch of new memory)"
    )
    for n in SCALING:
        o, b = _scaling(n)
        sizes.append(n)
        ours_t.append(o["wall"])
        bare_t.append(b["wall"])
        for name, r in (("vizflow", o), ("bare", b)):
            print(
                f"scaling {n:>11,} fills, {name:<7}: {r['wall']:7.3f} s ({n / r['wall'] / 1e6:5.1f} M/s); "
                f"per fill: wall {r['wall'] / n * 1e9:5.1f} ns, CPU {r['cpu'] / n * 1e9:5.1f} ns "
                f"(system {r['sys'] / n * 1e9:5.1f}), {r['faults'] / n * 1e3:5.2f} faults per 1k fills"
            )
        print(f"{'':>30}vizflow vs bare: {b['wall'] / o['wall']:.2f}x")
        rows.append({"case": f"scaling {n}", "fills": n, "ours_s": o["wall"], "bare_s": b["wall"],
                     "x_bare": b["wall"] / o["wall"], "ours": o, "bare": b})  # fmt: skip
    if SCALE == 1:  # a reduced run must not overwrite the recorded figure
        _plot(sizes, ours_t, bare_t)
    print(f"\nevery key dtype and order; x bare = bare kernel + gather on sorted Int64 keys ({t_bare:.3f} s)")
    print(f"{'keys':<6} {'order':<9} {'ours s':>7} {'x bare':>7}")
    for kind in ("int", "str", "cat"):
        for order, case in orders(fills(N, kind), "elapsed_seconds").items():
            ours(case.head(1000))
            (t,) = interleaved_medians([lambda c=case: ours(c)], repeats=3)
            print(f"{kind:<6} {order:<9} {t:7.3f} {t_bare / t:6.2f}x")
            rows.append({"case": f"matrix {kind} {order}", "keys": kind, "order": order, "ours_s": t,
                         "x_bare": t_bare / t})  # fmt: skip
    save_results("fifo", rows, fills=N, symbols=N_SYMBOLS, output_rows=got.height)


SCALING_ROUNDS = 2
"""Fresh processes per size and implementation in the scaling curve."""


def _scaling_child(n: int, what: str, queue: Any) -> None:
    """Run ``what`` ("ours" or "bare") on ``n`` fills 3 times in this fresh process; report each run."""
    df = fills(n)
    run = ours if what == "ours" else bare
    run(df.head(1000))  # compiled (or loaded from numba's cache) before timing
    runs = []
    for _ in range(3):
        gc.collect()
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        out = run(df)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        del out
        runs.append({
            "wall": wall,
            "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "sys": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt,
        })  # fmt: skip
    queue.put(runs)


def _scaling(n: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per-process medians, then the median over processes, for vizflow and the bare loop at ``n`` fills."""
    ctx = mp.get_context("spawn")
    found: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
    for _ in range(SCALING_ROUNDS):
        for what in found:
            queue = ctx.Queue()
            proc = ctx.Process(target=_scaling_child, args=(n, what, queue))
            proc.start()
            while True:  # a child that dies (out of memory) must not hang the parent
                try:
                    runs = queue.get(timeout=1.0)
                    break
                except queue_module.Empty:
                    if not proc.is_alive() and queue.empty():
                        msg = f"scaling child ({what}, {n} fills) exited with code {proc.exitcode}"
                        raise RuntimeError(msg) from None
            proc.join()
            found[what].append({k: statistics.median(r[k] for r in runs) for k in runs[0]})
    o, b = ({k: statistics.median(p[k] for p in procs) for k in procs[0]} for procs in found.values())
    return o, b


def _plot(sizes: list[int], ours_t: list[float], bare_t: list[float]) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    millions = [s / 1e6 for s in sizes]
    ax.plot(millions, ours_t, "o-", label="vizflow enrich([FIFOMatch]) frame -> frame")
    ax.plot(millions, bare_t, "s--", label="bare numba loop frame -> frame")
    ax.set_xlabel("fills (millions, 2,000 symbols)")
    ax.set_ylabel("seconds (median of fresh processes)")
    ax.set_title("FIFO matching: time vs fills (2 cores)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "fifo_scaling.png", dpi=100)


if __name__ == "__main__":
    main()
