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
