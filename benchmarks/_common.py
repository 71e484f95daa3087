"""Helpers shared by the benchmarks: timing medians, versions and peak memory in a child process."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
import platform
import statistics
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

SCALE = float(os.environ.get("VIZFLOW_BENCH_SCALE", "1"))
"""Size factor of every benchmark's data: ``VIZFLOW_BENCH_SCALE=0.01`` is a quick check that they run."""


def scaled(n: int, floor: int = 1) -> int:
    """``n`` rows (or rows per symbol) at :data:`SCALE`, at least ``floor``."""
    return max(floor, round(n * SCALE))


def growth_ratio(peak_mib: float, data_bytes: float) -> str:
    """Peak RSS growth against input + output bytes, as printed in RESULTS.md (target <= 2x)."""
    data_mib = data_bytes / 2**20
    return (
        f"peak RSS growth {peak_mib:.0f} MiB; input + output {data_mib:.0f} MiB; {peak_mib / data_mib:.2f}x"
    )


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def header() -> str:
    """Machine, date and library versions for the results table."""
    import numba
    import numpy as np
    import polars as pl

    return (
        f"date {dt.date.today()}, {os.cpu_count()} cores ({platform.machine()}), "
        f"python {platform.python_version()}, polars {pl.__version__}, numba {numba.__version__}, "
        f"numpy {np.__version__}"
    )


def _child(target: Callable[[], Callable[[], Any]], queue: mp.Queue) -> None:
    import psutil

    run = target()  # builds the inputs; not counted
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # give freed heap back, so reuse is not hidden
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = psutil.Process().memory_info().rss
    peak = base

    import threading

    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        proc = psutil.Process()
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run()
    done.set()
    sampler.join()
    queue.put((peak - base) / 2**20)


def peak_memory_mib(target: Callable[[], Callable[[], Any]]) -> float:
    """Peak RSS growth (MiB) while running the callable that ``target()`` returns, in a fresh process.

    ``target`` must be a module-level function (it is sent to a spawned child) that prepares inputs
    and returns the zero-argument callable to measure.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def keyed(df: Any, kind: str) -> Any:
    """The same rows with integer (``ukey``-style: 600000.SH -> 600000), string or Categorical symbols."""
    import polars as pl

    if kind == "int":
        return df.with_columns(pl.col("symbol").str.extract(r"(\d+)").cast(pl.Int64))
    return df.with_columns(pl.col("symbol").cast(pl.Categorical if kind == "cat" else pl.String))


def orders(frame: Any, time_col: str) -> dict[str, Any]:
    """The row orders users have.

    sorted: by (symbol, time); by time: all symbols interleaved in time order, as a feed arrives;
    shuffled: a random permutation, the worst case for the sort.
    """
    return {
        "sorted": frame,
        "by time": frame.sort(time_col, maintain_order=True),
        "shuffled": frame.sample(fraction=1.0, shuffle=True, seed=0),
    }


def key_matrix(
    run: Callable[[Any], Any], df: Any, floor: float, kinds: tuple[str, ...], time_col: str
) -> None:
    """Time ``run`` on every key dtype and row order; print seconds and the ratio to ``floor``."""
    print(f"{'keys':<6} {'order':<9} {'ours s':>7} {'x bare':>7}")
    for kind in kinds:
        for order, case in orders(keyed(df, kind), time_col).items():
            run(case.head(1000))
            t = median_time(lambda case=case: run(case), repeats=3)
            print(f"{kind:<6} {order:<9} {t:7.3f} {floor / t:6.2f}x")
