"""Helpers shared by the benchmarks: timing medians, versions and peak memory in a child process."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import queue as queue_module
import statistics
import time
from pathlib import Path
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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def results_dir() -> Path:
    """Where machine-readable results go: ``$VIZFLOW_BENCH_OUT`` or ``benchmarks/out`` (git-ignored)."""
    folder = Path(os.environ.get("VIZFLOW_BENCH_OUT", Path(__file__).parent / "out"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_results(name: str, rows: list[dict[str, Any]], **meta: Any) -> Path:
    """Write one benchmark's rows as JSON (with machine, versions, load and scale) and say where."""
    import numba
    import numpy as np
    import polars as pl

    payload = {
        "benchmark": name,
        "utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "load_average": load_average(),
        "scale": SCALE,
        "versions": {
            "python": platform.python_version(),
            "polars": pl.__version__,
            "numba": numba.__version__,
            "numpy": np.__version__,
        },
        **meta,
        "rows": rows,
    }
    path = results_dir() / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    print(f"results written to {path}")
    return path


def interleaved_medians(fns: list[Callable[[], Any]], repeats: int, warmup: int = 1) -> list[float]:
    """Median wall time of each callable, runs interleaved (a, b, c, a, b, c, ...) after warm-up runs.

    On a shared machine the load changes over seconds; interleaving spreads it over all cases
    instead of penalising whichever block of runs it hits, and ratios taken from one run hold.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


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


def _status_kib(field: str) -> int:
    with Path("/proc/self/status").open() as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _timed_child(target: Callable[..., Callable[[], Any]], args: tuple, queue: mp.Queue) -> None:
    import ctypes
    import gc

    run = target(*args)  # builds the inputs (and warms up); not counted
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # give freed heap back, so reuse is not hidden
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # reset the kernel's peak RSS (VmHWM) to now
    base = _status_kib("VmRSS")
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    queue.put((seconds, (_status_kib("VmHWM") - base) / 1024))


def time_and_peak(target: Callable[..., Callable[[], Any]], *args: Any) -> tuple[float, float]:
    """Wall seconds and peak RSS growth (MiB) of one run of ``target(*args)()`` in a fresh process.

    ``target`` (a module-level function, sent to a spawned child) prepares the inputs and returns
    the zero-argument callable to measure. The peak is the kernel's own high-water mark (VmHWM,
    reset just before the run through ``/proc/self/clear_refs``), so no short spike is missed.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_timed_child, args=(target, args, queue))
    proc.start()
    while True:  # a child that dies (import error, out of memory) must not hang the parent
        try:
            result = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            if not proc.is_alive() and queue.empty():
                msg = f"benchmark child process exited with code {proc.exitcode} before reporting"
                raise RuntimeError(msg) from None
    proc.join()
    return result


def peak_memory_mib(target: Callable[[], Callable[[], Any]]) -> float:
    """Peak RSS growth (MiB) while running the callable that ``target()`` returns, in a fresh process.

    ``target`` must be a module-level function (it is sent to a spawned child) that prepares inputs
    and returns the zero-argument callable to measure. See :func:`time_and_peak`.
    """
    return time_and_peak(target)[1]


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
