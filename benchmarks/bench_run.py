"""run_batch: 16 dates through parse_time + forward_return, sequential vs 2 worker processes.

Target (issue 4): speed-up of at least 1.7x on 2 cores. Run: ``python -m benchmarks run``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

import vizflow as vf
from benchmarks._common import header

DATES = [f"202401{d:02d}" for d in range(2, 18)]


def pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.DataFrame:
    parsed = lf.vf.parse_time(ctx.market, "ticktime")
    return vf.forward_return(parsed, [5, 60, 300], "price")


ONE_THREAD = """
import sys, time
sys.path.insert(0, {root!r})
import vizflow as vf
from benchmarks.bench_run import pipeline, DATES
cfg = vf.Config(input_dir={inp!r}, output_dir={out!r}, input_pattern="{{date}}.parquet")
vf.run(pipeline, cfg, DATES[0], save=False)
start = time.perf_counter()
assert vf.run_local(pipeline, cfg, DATES, skip_existing=False, progress=False).ok
print(time.perf_counter() - start)
"""


def _sequential_one_thread(root: Path) -> float:
    """Sequential in a fresh process with POLARS_MAX_THREADS=1 (what each worker gets)."""
    import os
    import subprocess
    import sys

    code = ONE_THREAD.format(root=str(Path(__file__).parents[1]), inp=str(root / "in"), out=str(root / "one"))
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def _timed(fn) -> float:
    start = time.perf_counter()
    result = fn()
    assert result.ok, str(result)
    return time.perf_counter() - start


def main() -> None:
    print(header())
    root = Path(tempfile.mkdtemp(prefix="vizflow-bench-run-"))
    try:
        for i, day in enumerate(DATES):
            vf.save(
                vf.datasets.synthetic_trades(day, 1000, trades_per_symbol=1500, seed=i),
                root / "in" / f"{day}.parquet",
            )
        rows = sum(vf.load(root / "in" / f"{d}.parquet").select(pl.len()).collect().item() for d in DATES)
        seq_cfg = vf.Config(input_dir=root / "in", output_dir=root / "seq", input_pattern="{date}.parquet")
        par_cfg = vf.Config(input_dir=root / "in", output_dir=root / "par", input_pattern="{date}.parquet")
        vf.run(pipeline, seq_cfg, DATES[0], save=False)  # warm-up: compile, caches
        seq, par, one = [], [], []
        for k in range(3):
            for cfg in (seq_cfg, par_cfg):
                shutil.rmtree(cfg.output_dir, ignore_errors=True)
            seq.append(_timed(lambda: vf.run_local(pipeline, seq_cfg, DATES, progress=False)))
            par.append(_timed(lambda: vf.run_batch(pipeline, par_cfg, DATES, max_workers=2, progress=False)))
            one.append(_sequential_one_thread(root))
            print(
                f"run {k + 1}: sequential {seq[-1]:.2f} s (Polars threads), sequential 1 thread "
                f"{one[-1]:.2f} s, 2 processes {par[-1]:.2f} s"
            )
        for d in DATES:
            a = vf.load(seq_cfg.get_output_path(d)).collect()
            b = vf.load(par_cfg.get_output_path(d)).collect()
            assert a.equals(b), d
        s, p, o = sorted(seq)[1], sorted(par)[1], sorted(one)[1]
        print(
            f"\n16 dates, {rows:,} trades in all; median of 3: sequential {s:.2f} s, sequential "
            f"single-threaded {o:.2f} s, 2 processes {p:.2f} s; speed-up {s / p:.2f}x over sequential, "
            f"{o / p:.2f}x over single-threaded sequential (target >= 1.7x)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
