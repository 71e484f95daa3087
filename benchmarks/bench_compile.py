"""Compile once (issue 25): rules whose thresholds change per date, and the on-disk cache.

Two rules read a value set per date through a closure (``qty > thresh``, ``p + qty * scale``) on
20,000 rows. 240 calls with a new value each against 240 with a fixed value: total time ratio
(target within 1.5x) and peak RSS growth over the 240 calls (target < 50 MiB), each in a fresh
process (``time_and_peak``). Then the first call in a fresh process (a spawn worker's first
date) with a cold on-disk cache against a warm one, with numba's cache hits and misses.
Run: ``python -m benchmarks compile``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import header, load_average, save_results, scaled, time_and_peak
from vizflow.enrich.compile import jit_rule, memo_size

if TYPE_CHECKING:
    from collections.abc import Callable

ROWS, CALLS, BLOCK = scaled(20_000, floor=100), 240, 24
DATES = ["20230104", "20230105"]


def frame() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    return pl.DataFrame(
        {
            "symbol": rng.integers(0, 50, ROWS),
            "t": np.arange(ROWS),
            "qty": rng.integers(1, 10_000, ROWS),
        }
    )


def rules(thresh: float, scale: float) -> list[vf.TagRule]:
    """The day's rules: a size threshold and a scale read through closures."""
    return [
        vf.TagCondition("big", lambda r: r["qty"] > thresh),
        vf.TagRunning("scaled", lambda p, r: p + r["qty"] * scale, 0.0),
    ]


def calls(new_values: bool) -> Callable[[], Any]:
    """Prepare the frame and warm the rules up; return the 240 calls to measure."""
    df = frame()
    vf.enrich(df, rules(5000.0, 1.0), by="symbol", sort_by="t")

    def run() -> None:
        for day in range(CALLS):
            value = 5000.0 + day if new_values else 5000.0
            vf.enrich(df, rules(value, value / 5000.0), by="symbol", sort_by="t")

    return run


def _interleaved(queue: Any) -> None:
    """Child: 240 calls each way, in blocks of 24 taking turns (and turns at going first)."""
    df = frame()
    vf.enrich(df, rules(5000.0, 1.0), by="symbol", sort_by="t")
    totals = {False: 0.0, True: 0.0}
    for block in range(CALLS // BLOCK):
        for new_values in (False, True) if block % 2 else (True, False):
            start = time.perf_counter()
            for day in range(block * BLOCK, (block + 1) * BLOCK):
                value = 5000.0 + day if new_values else 5000.0
                vf.enrich(df, rules(value, value / 5000.0), by="symbol", sort_by="t")
            totals[new_values] += time.perf_counter() - start
    queue.put((totals[False], totals[True], memo_size()))


def interleaved() -> tuple[float, float, int]:
    """Total seconds of the 240 fixed-value and 240 new-value calls, and the memo's size after."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_interleaved, args=(queue,))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _first_call(queue: Any) -> None:
    """Child: a fresh process's first enrich call, after the library's own first call.

    A rule built by ``exec`` (no source: compiled in memory, never cached) goes first and pays
    for the library kernels' first use; then the two rules' first call is timed, with numba's
    cache statistics of the rules and their passes.
    """
    df = frame()
    namespace: dict[str, Any] = {}
    exec("warm = lambda r: r['qty'] > 0", namespace)
    start = time.perf_counter()
    vf.enrich(df, [vf.TagCondition("warm", namespace["warm"])], by="symbol", sort_by="t")
    library = time.perf_counter() - start
    start = time.perf_counter()
    vf.enrich(df, rules(5000.0, 1.0), by="symbol", sort_by="t")
    seconds = time.perf_counter() - start
    hits = misses = 0
    record = df.select("qty").to_numpy(structured=True).dtype
    for rule, n_args, name in zip(rules(1.0, 1.0), (1, 2), ("condition", "running"), strict=True):
        compiled = jit_rule(rule.fn, record, rule=rule.name, n_args=n_args)
        for dispatcher in (compiled.function, getattr(compiled, name)):
            hits += sum(dispatcher.stats.cache_hits.values())
            misses += sum(dispatcher.stats.cache_misses.values())
    queue.put((library, seconds, hits, misses))


def first_call(cache: str) -> tuple[float, float, int, int]:
    """Library first call, the rules' first call (s), cache hits and misses, in a spawned process."""
    before = os.environ.get("VIZFLOW_CACHE_DIR")
    os.environ["VIZFLOW_CACHE_DIR"] = cache  # the spawned child inherits it
    try:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_first_call, args=(queue,))
        proc.start()
        result = queue.get()
        proc.join()
    finally:
        if before is None:
            os.environ.pop("VIZFLOW_CACHE_DIR", None)
        else:
            os.environ["VIZFLOW_CACHE_DIR"] = before
    return result


def pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """A batch's pipeline: the day's threshold and scale, read by the rules through closures."""
    thresh = 5000.0 + int(ctx.date[-2:])
    return vf.enrich(lf, rules(thresh, thresh / 5000.0), by="symbol", sort_by="ticktime")


def runner_first_dates(root: Path, cache: str) -> list[float]:
    """Seconds of each worker's first date (DateResult.seconds) in a fresh 2-worker batch."""
    before = os.environ.get("VIZFLOW_CACHE_DIR")
    os.environ["VIZFLOW_CACHE_DIR"] = cache  # the pool's spawned workers inherit it
    out = root / f"out-{len(list(root.iterdir()))}"
    config = vf.Config(input_dir=root / "in", output_dir=out, input_pattern="{date}.parquet")
    try:
        result = vf.run_batch(pipeline, config, DATES, max_workers=2, progress=False)
    finally:
        if before is None:
            os.environ.pop("VIZFLOW_CACHE_DIR", None)
        else:
            os.environ["VIZFLOW_CACHE_DIR"] = before
    result.raise_for_failures()
    return [r.seconds for r in result.results]


def runner(rows: list[dict[str, Any]]) -> None:
    """The runner's first date on each of 2 spawn workers: cold cache, warm cache, cache off."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for i, day in enumerate(DATES):
            trades = vf.datasets.synthetic_trades(day, 50, trades_per_symbol=scaled(400, floor=4), seed=i)
            vf.save(trades, root / "in" / f"{day}.parquet")
        cache = str(root / "cache")
        cases = [
            ("cold cache", runner_first_dates(root, cache)),
            ("warm cache", runner_first_dates(root, cache)),
        ]
        cases.append(("cache off", runner_first_dates(root, "off")))
    for case, seconds in cases:
        shown = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"runner, 2 spawn workers, first date each, {case:<10}: {shown} s")
        rows.append({"case": f"runner first dates, {case}", "seconds": seconds})


def main() -> None:
    print(header())
    print(f"load average {load_average()}; {ROWS:,} rows, two rules, {CALLS} calls")
    fixed_s, new_s, memo = interleaved()
    ratio = new_s / fixed_s
    _, fixed_mib = time_and_peak(calls, False)
    _, new_mib = time_and_peak(calls, True)
    for case, seconds, mib in [("fixed value", fixed_s, fixed_mib), ("new values", new_s, new_mib)]:
        per_call = 1000 * seconds / CALLS
        print(
            f"{CALLS} calls, {case:<11}: {seconds:6.2f} s ({per_call:.1f} ms a call), peak RSS +{mib:.1f} MiB"
        )
    print(f"new / fixed: {ratio:.2f}x (target <= 1.5x); RSS growth {new_mib:.1f} MiB (target < 50 MiB)")
    print(f"compiled rules held after {2 * CALLS} calls: {memo}")
    rows: list[dict[str, Any]] = [
        {"case": "fixed value", "calls": CALLS, "seconds": fixed_s, "peak_rss_mib": fixed_mib},
        {"case": "new value each call", "calls": CALLS, "seconds": new_s, "peak_rss_mib": new_mib},
    ]
    with tempfile.TemporaryDirectory() as folder:
        cold = first_call(folder)
        warm = first_call(folder)
    off = first_call("off")
    for case, (library, seconds, hits, misses) in [
        ("cold cache", cold),
        ("warm cache", warm),
        ("cache off", off),
    ]:
        print(
            f"fresh process, {case:<10}: rules' first call {seconds:.3f} s (numba cache hits {hits}, "
            f"misses {misses}); the library's own first call before it {library:.3f} s"
        )
        row = {"case": f"first call, {case}", "seconds": seconds, "library_first_call": library}
        rows.append(row | {"cache_hits": hits, "cache_misses": misses})
    print(f"a spawn worker's first date saves {cold[1] - warm[1]:.3f} s with a warm cache")
    runner(rows)
    save_results("compile", rows, rows_per_call=ROWS, ratio_new_over_fixed=ratio)


if __name__ == "__main__":
    main()
