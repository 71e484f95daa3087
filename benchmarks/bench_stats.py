"""A year of dates: mean/se of 3 returns by (half hour, size decile), map-reduce vs concatenate.

(a) vizflow: per date ``quantile_bin`` + ``summarize`` (``run_local``, then ``run_batch`` with 2
processes), then ``finalize(combine(scan(partials)))``; (b) Polars: scan every file, concatenate,
the same per-date deciles, ``group_by`` mean/std. Time and peak RSS (of the process and its
workers) for 60, 120 and 240 dates, each in a fresh spawned process. Target (issue 14): (a) faster
than (b), and its peak memory flat as dates grow. Run: ``python -m benchmarks stats``
(``VIZFLOW_BENCH_TRADES`` sets the trades per date; default 200,000).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import header, load_average, save_results

RETURNS = ["return_10", "return_60", "return_300"]
KEYS = ["half_hour", "size_decile"]
SIZES = [60, 120, 240]
TRADES = int(os.environ.get("VIZFLOW_BENCH_TRADES", "200000"))
DATES = [(dt.date(2023, 1, 2) + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(max(SIZES))]


def _day(date: str, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    elapsed = rng.uniform(0.0, 14400.0, TRADES)
    qty = np.round(rng.lognormal(6.0, 1.2, TRADES)) + 100
    drift = 1e-5 * (np.log(qty) - 7.0)
    cols = {
        r: drift * math.sqrt(h) + rng.normal(0.0, 1e-4 * math.sqrt(h), TRADES)
        for r, h in zip(RETURNS, (10, 60, 300), strict=True)
    }
    return pl.DataFrame(
        {"date": [date] * TRADES, "elapsed_seconds": elapsed, "qty": qty.astype(np.int64), **cols}
    )


def pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """One date: half-hour and per-date size-decile cells, the partial statistics of 3 returns."""
    keyed = lf.with_columns(half_hour=(pl.col("elapsed_seconds") // 1800).cast(pl.Int64))
    return vf.summarize(vf.quantile_bin(keyed, "qty", 10, out="size_decile"), KEYS, RETURNS)


def map_reduce(root: Path, dates: list[str], workers: int) -> pl.DataFrame:
    out = root / f"out-{len(dates)}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    cfg = vf.Config(input_dir=root / "in", output_dir=out, input_pattern="{date}.parquet")
    if workers == 1:
        result = vf.run_local(pipeline, cfg, dates, skip_existing=False, progress=False)
    else:
        result = vf.run_batch(pipeline, cfg, dates, max_workers=workers, skip_existing=False, progress=False)
    result.raise_for_failures()
    return vf.finalize(vf.combine(vf.scan(out / "*.parquet"))).collect()


def concatenate(root: Path, dates: list[str]) -> pl.DataFrame:
    lf = pl.scan_parquet([str(root / "in" / f"{d}.parquet") for d in dates])
    keyed = lf.with_columns(half_hour=(pl.col("elapsed_seconds") // 1800).cast(pl.Int64))
    keyed = vf.quantile_bin(keyed, "qty", 10, by="date", out="size_decile")
    stats = [
        e for r in RETURNS for e in (pl.col(r).mean().alias(f"{r}_mean"), pl.col(r).std().alias(f"{r}_std"))
    ]
    return keyed.group_by(KEYS).agg(pl.len().alias("n"), *stats).sort(KEYS).collect()


def _tree_rss() -> int:
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a worker that just exited
            total += child.memory_info().rss
    return total


def _child(kind: str, root: str, n: int, queue: mp.Queue) -> None:
    import ctypes
    import gc

    dates = DATES[:n]
    run = {
        "seq": lambda: map_reduce(Path(root), dates, 1),
        "two": lambda: map_reduce(Path(root), dates, 2),
        "concat": lambda: concatenate(Path(root), dates),
    }[kind]
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = peak = _tree_rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    table = run()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    table.write_parquet(Path(root) / f"result-{kind}-{n}.parquet")
    queue.put((seconds, (peak - base) / 2**20))


def measure(kind: str, root: Path, n: int) -> tuple[float, float]:
    """Seconds and peak RSS growth (MiB, the process and its workers) of one run in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, str(root), n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def check_parity(root: Path, n: int) -> None:
    ours = pl.read_parquet(root / f"result-seq-{n}.parquet")
    theirs = pl.read_parquet(root / f"result-concat-{n}.parquet")
    two = pl.read_parquet(root / f"result-two-{n}.parquet")
    for other in (theirs, two):
        assert ours.select(KEYS).equals(other.select(KEYS))
        assert (ours["n"] == other["n"]).all()
        for col in [f"{r}_{s}" for r in RETURNS for s in ("mean", "std")]:
            rel = ((ours[col] - other[col]).abs() / other[col].abs()).max()
            assert rel < 1e-9, (col, rel)


def main() -> None:
    print(header())
    print(f"{TRADES:,} trades a date, 3 returns, 8 half hours x 10 size deciles")
    root = Path(tempfile.mkdtemp(prefix="vizflow-bench-stats-"))
    try:
        start = time.perf_counter()
        for i, date in enumerate(DATES):
            _day(date, i).write_parquet(root / "in" / f"{date}.parquet", mkdir=True)
        size = sum(f.stat().st_size for f in (root / "in").iterdir()) / 2**20
        print(f"wrote {len(DATES)} files ({size:,.0f} MiB parquet) in {time.perf_counter() - start:.1f} s")
        print(
            "| dates | (a) summarize + combine, sequential | (a) 2 processes | (b) concatenate + group_by |"
        )
        print("|---|---|---|---|")
        rows = []
        for n in SIZES:
            cells = [measure(kind, root, n) for kind in ("seq", "two", "concat")]
            check_parity(root, n)
            print(f"| {n} | " + " | ".join(f"{s:.2f} s, {m:,.0f} MiB" for s, m in cells) + " |", flush=True)
            rows += [
                {"dates": n, "case": kind, "seconds": s, "peak_rss_growth_mib": m}
                for kind, (s, m) in zip(("seq", "two", "concat"), cells, strict=True)
            ]
        save_results("stats", rows, trades_a_date=TRADES, load_average_end=load_average())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
