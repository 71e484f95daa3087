"""The runner on a year-shaped batch: 240 small dates, sequential vs the process pool vs a Dask cluster.

What it measures is the runner's own cost, so the dates are small (a few thousand trades): dates/s,
the overhead each executor adds per date beyond the date's own work, the speed-up over the
sequential run, and the fixed cost of starting the workers. ``RESULTS.md`` turns these into what
100 machines would need. Run: ``python -m benchmarks run``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import vizflow as vf
from benchmarks._common import header, load_average, save_results

if TYPE_CHECKING:
    from collections.abc import Callable

N_DATES = 240
REPEATS = 3
WORKERS = 2


def pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """A small real pipeline: session clock, then per-symbol counts and last trade."""
    return (
        lf.vf.parse_time(ctx.market, "ticktime")
        .group_by("symbol")
        .agg(n=pl.len(), qty=pl.col("qty").sum(), last=pl.col("elapsed_seconds").max())
        .sort("symbol")
    )


def _dates() -> list[str]:
    cal = vf.calendar.for_market("CN")
    return vf.calendar.sessions(cal, "20230101", "20231231")[:N_DATES]


def _time(run: Callable[[], vf.BatchResult]) -> tuple[float, float]:
    """Wall seconds of the batch, and the seconds its dates spent in their own work."""
    start = time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    assert result.ok, str(result)
    assert len(result.succeeded) == N_DATES
    return wall, sum(r.seconds for r in result.results)


REPORTED: list[dict] = []


def _report(name: str, runs: list[tuple[float, float]], workers: int, sequential: float | None) -> float:
    wall = statistics.median(w for w, _ in runs)
    work = statistics.median(s for _, s in runs)
    REPORTED.append({"case": name, "seconds": wall, "own_work_s": work, "workers": workers})
    overhead = (wall * workers - work) / N_DATES  # worker time not spent inside a date
    line = (
        f"{name:<34} {wall:7.2f} s  {N_DATES / wall:7.1f} dates/s  "
        f"own work {work / N_DATES * 1e3:6.1f} ms/date  overhead {overhead * 1e3:6.1f} ms/date"
    )
    if sequential is not None:
        line += f"  speed-up {sequential / wall:4.2f}x"
    print(line + "   runs: " + " / ".join(f"{w:.2f}" for w, _ in runs), flush=True)
    return wall


def main() -> None:
    print(header())
    root = Path(tempfile.mkdtemp(prefix="vizflow-bench-run-"))
    dates = _dates()
    try:
        for i, day in enumerate(dates):
            trades = vf.datasets.synthetic_trades(day, 20, trades_per_symbol=200, seed=i)
            vf.save(trades, root / "in" / f"{day}.parquet")
        rows = vf.scan(root / "in" / "*.parquet").select(pl.len()).collect().item()
        print(f"{N_DATES} dates ({dates[0]}..{dates[-1]}), {rows:,} trades in all; median of {REPEATS} runs")

        def config(name: str) -> vf.Config:
            out = root / name
            shutil.rmtree(out, ignore_errors=True)
            return vf.Config(input_dir=root / "in", output_dir=out, input_pattern="{date}.parquet")

        vf.run(pipeline, config("warm"), dates[0], save=False)  # compile, caches
        seq = [
            _time(lambda: vf.run_local(pipeline, config("seq"), dates, progress=False))
            for _ in range(REPEATS)
        ]
        sequential = _report("run_local (sequential)", seq, 1, None)

        startup = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            assert vf.run_batch(
                pipeline, config("one"), dates[:WORKERS], max_workers=WORKERS, progress=False
            ).ok
            startup.append(time.perf_counter() - t)
        print(f"{f'pool start + {WORKERS} dates':<34} {statistics.median(startup):7.2f} s (fixed cost)")
        pool = [
            _time(lambda: vf.run_batch(pipeline, config("pool"), dates, max_workers=WORKERS, progress=False))
            for _ in range(REPEATS)
        ]
        _report(f"process pool, {WORKERS} workers", pool, WORKERS, sequential)
        _dask(pipeline, config, dates, sequential)
        for day in dates[:: N_DATES // 8]:
            assert (
                vf.load(root / "seq" / f"{day}.parquet")
                .collect()
                .equals(vf.load(root / "pool" / f"{day}.parquet").collect())
            ), day
        save_results("run", REPORTED, dates=N_DATES, load_average_end=load_average())
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _dask(fn: Callable, config: Callable[[str], vf.Config], dates: list[str], sequential: float) -> None:
    try:
        import distributed
    except ImportError:
        print("dask: not installed (pip install 'vizflow[dask]')")
        return
    with (
        distributed.LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert vf.run_batch(fn, config("dask-warm"), dates[:WORKERS], executor=client).ok
        runs = [_time(lambda: vf.run_batch(fn, config("dask"), dates, executor=client, progress=False))
                for _ in range(REPEATS)]  # fmt: skip
        _report(f"Dask cluster, {WORKERS} workers x 1 thread", runs, WORKERS, sequential)


if __name__ == "__main__":
    main()
