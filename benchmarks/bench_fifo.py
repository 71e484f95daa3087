"""FIFO matching throughput: 10M fills over 2,000 symbols, frame to expanded frame.

Compared in one run with (a) the plan's row-by-row Python design (a dict per row, a deque of lots;
timed on a subset and scaled), (b) a bare numba FIFO loop over the same arrays written here (the
machine's limit), (c) vizflow's kernel alone. Also the scaling curve and peak memory; writes
``benchmarks/fifo_scaling.png``. Target (issue 6): end to end at least 0.5x of (b); issue 13 keeps it
and adds integer keys and time-ordered / shuffled input (vs (b) on sorted input).
Run: ``python -m benchmarks fifo``.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import SCALE, growth_ratio, header, key_matrix, median_time, peak_memory_mib, scaled

if TYPE_CHECKING:
    from collections.abc import Callable
from vizflow.kernels.fifo import fifo_match_nb

N, N_SYMBOLS = scaled(10_000_000, floor=20_000), 2000
PY_SUBSET = min(300_000, N)
SCALING = [scaled(n, floor=20_000) for n in (1_000_000, 3_000_000, 10_000_000, 30_000_000)]
RULE = vf.FIFOMatch("side", "qty", "elapsed_seconds", "price", 1, -1)


def interleaved_medians(fns: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Median wall time of each callable, runs interleaved (a, b, c, a, b, c, ...) after one warm-up.

    On a shared machine the load changes over seconds; interleaving spreads it over all cases
    instead of penalising whichever block of runs it hits.
    """
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def fills(n: int = N) -> pl.DataFrame:
    return vf.datasets.synthetic_fills(n, N_SYMBOLS, seed=6)


def ours(df: pl.DataFrame) -> pl.DataFrame:
    return vf.enrich(df, [RULE], by="symbol", sort_by="elapsed_seconds")


@numba.njit(cache=True)
def bare_fifo_nb(offsets, side, qty, price, time):
    n = qty.size
    src = np.empty(2 * n, np.int64)
    ent = np.empty(2 * n, np.int64)
    mq = np.empty(2 * n)
    pnl = np.empty(2 * n)
    held = np.empty(2 * n)
    lot_i = np.empty(n, np.int64)
    lot_q = np.empty(n)
    k = 0
    for g in range(offsets.size - 1):
        head = tail = 0
        d0 = 0
        for i in range(offsets[g], offsets[g + 1]):
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
    return src[:k], ent[:k], mq[:k], pnl[:k], held[:k]


def bare(df: pl.DataFrame) -> pl.DataFrame:
    """The limit: the frame already sorted; arrays out, one loop, the expanded frame back."""
    runs = df["symbol"].rle().struct.field("len").to_numpy()  # the input is sorted by symbol
    offsets = np.concatenate([[0], np.cumsum(runs)]).astype(np.int64)
    src, ent, mq, pnl, held = bare_fifo_nb(
        offsets,
        df["side"].to_numpy(),
        df["qty"].to_numpy(),
        df["price"].to_numpy(),
        df["elapsed_seconds"].to_numpy(),
    )
    return df.gather(pl.Series(src)).with_columns(
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
    print(header())
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
        f"\nfills: {N:,} over {N_SYMBOLS} symbols -> {got.height:,} output rows; median of 7 interleaved runs"
    )
    print(f"{'case':<52} {'seconds':>8} {'M fills/s':>10}")
    for name, t in [
        ("vizflow enrich([FIFOMatch]) frame -> frame", t_ours),
        ("(b) bare numba FIFO loop frame -> frame", t_bare),
        ("(c) vizflow kernel alone (arrays)", t_kernel),
        (f"(a) plan's Python design ({PY_SUBSET:,} fills, scaled)", t_py),
    ]:
        print(f"{name:<52} {t:8.3f} {N / t / 1e6:10.2f}")
    print(
        f"\nours vs bare numba: {t_bare / t_ours:.2f}x (target >= 0.5x); ours vs Python: {t_py / t_ours:.0f}x"
    )
    data_bytes = df.estimated_size() + got.estimated_size()
    print(
        f"FIFO ({N:,} fills, string keys, sorted):",
        growth_ratio(peak_memory_mib(_ours_for_memory), data_bytes),
    )
    print(f"bare numba FIFO: {peak_memory_mib(_bare_for_memory):.0f} MiB")

    sizes, ours_t, bare_t = [], [], []
    for n in SCALING:
        d = fills(n)
        sizes.append(n)
        t_o, t_b = interleaved_medians([lambda d=d: ours(d), lambda d=d: bare(d)], repeats=5)
        ours_t.append(t_o)
        bare_t.append(t_b)
        print(
            f"scaling {n:>11,} fills: vizflow {ours_t[-1]:7.3f} s ({n / ours_t[-1] / 1e6:5.1f} M/s), "
            f"bare {bare_t[-1]:7.3f} s ({n / bare_t[-1] / 1e6:5.1f} M/s)"
        )
        del d
    if SCALE == 1:  # a reduced run must not overwrite the recorded figure
        _plot(sizes, ours_t, bare_t)
    print(f"\nbare numba FIFO on sorted input: {t_bare:.3f} s")
    key_matrix(ours, df, t_bare, ("int", "str"), "elapsed_seconds")


def _plot(sizes: list[int], ours_t: list[float], bare_t: list[float]) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    millions = [s / 1e6 for s in sizes]
    ax.plot(millions, ours_t, "o-", label="vizflow enrich([FIFOMatch]) frame -> frame")
    ax.plot(millions, bare_t, "s--", label="bare numba loop frame -> frame")
    ax.set_xlabel("fills (millions, 2,000 symbols)")
    ax.set_ylabel("seconds (median of 5)")
    ax.set_title("FIFO matching: time vs fills (2 cores)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "fifo_scaling.png", dpi=100)


if __name__ == "__main__":
    main()
