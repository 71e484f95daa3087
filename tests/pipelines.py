"""Pipelines importable by name, for spawned workers, Dask workers and the CLI tests."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import vizflow as vf

if TYPE_CHECKING:
    from collections.abc import Callable


def clock(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """parse_time, then one row per symbol."""
    return (
        lf.vf.parse_time(ctx.market, "ticktime")
        .group_by("symbol")
        .agg(n=pl.len(), last=pl.col("elapsed_seconds").max())
        .sort("symbol")
        .with_columns(date=pl.lit(ctx.date))
    )


def fails_on_0103(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    if ctx.date == "20240103":
        msg = "boom on purpose"
        raise RuntimeError(msg)
    return clock(lf, ctx)


def not_a_frame(lf: pl.LazyFrame, ctx: vf.Context) -> int:
    return 42


def flaky(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """Fails the first time per date (a marker file remembers), then works."""
    marker = ctx.config.output_dir / f".tried_{ctx.date}"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("x")
        msg = "transient"
        raise OSError(msg)
    return clock(lf, ctx)


def worker_pid(lf: pl.LazyFrame, ctx: vf.Context) -> pl.DataFrame:
    return pl.DataFrame({"pid": [os.getpid()], "threads": [os.environ.get("POLARS_MAX_THREADS", "")]})


def big(lf: pl.LazyFrame, ctx: vf.Context) -> pl.DataFrame:
    """A frame large enough that writing it takes a while (for the kill-mid-write test)."""
    n = 30_000_000
    return pl.select(a=pl.int_range(n), b=pl.int_range(n).cast(pl.Float64) * 1.5, c=pl.lit("x" * 20))


def faults_by_date(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """BaseExceptions on three dates: a Polars panic (pyo3's PanicException, which does not
    pickle), sys.exit(3), and a KeyboardInterrupt the pipeline raises itself (no Ctrl-C)."""
    from polars.exceptions import PanicException

    faults = {
        "20240103": PanicException("polars panicked on purpose"),
        "20240104": SystemExit(3),
        "20240105": KeyboardInterrupt("raised by the pipeline"),
    }
    if ctx.date in faults:
        raise faults[ctx.date]
    return clock(lf, ctx)


def thread_caps(lf: pl.LazyFrame, ctx: vf.Context) -> pl.DataFrame:
    """The thread pools the worker really has, not the variables that should have sized them."""
    import numba

    return pl.DataFrame(
        {"pid": [os.getpid()], "polars": [pl.thread_pool_size()], "numba": [numba.get_num_threads()]}
    )


def _marker(ctx: vf.Context, what: str) -> Path:
    return ctx.config.output_dir / f".{what}_{ctx.date}_{os.getpid()}"


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            msg = f"gave up waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


def dies_on_0103(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """0103 kills its own worker while 0102 is running on the other worker.

    0102 announces itself, then waits until 0103's worker is dead, so a healthy date is in
    flight when the pool breaks (the pool then ends it too: it must be rerun, not lost).
    """
    out = ctx.config.output_dir
    if ctx.date == "20240103":
        _wait_for(lambda: any(out.glob(".started_20240102_*")), "20240102 to start")
        _marker(ctx, "dying").touch()
        os.kill(os.getpid(), signal.SIGKILL)
    if ctx.date == "20240102":
        _marker(ctx, "started").touch()
        dying = lambda: list(out.glob(".dying_20240103_*"))  # noqa: E731
        _wait_for(lambda: bool(dying()) and _gone(int(dying()[0].name.rsplit("_", 1)[1])), "0103 to die")
    return clock(lf, ctx)


def holds(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """Announce the date (a marker naming this process), then hold it until a `release` file exists."""
    _marker(ctx, "started").touch()
    _wait_for((ctx.config.output_dir / "release").exists, "the release file", seconds=120)
    return clock(lf, ctx)


def holds_mid_write(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """Hold the date half-way through writing its output (a temporary file exists meanwhile)."""
    with vf.io.atomic_write(ctx.config.get_output_path(ctx.date)) as f:
        f.write(b"PAR1 half a file")
        f.flush()
        _marker(ctx, "started").touch()
        _wait_for((ctx.config.output_dir / "release").exists, "the release file", seconds=120)
        msg = "released: this date never completes"
        raise RuntimeError(msg)


def presses_ctrl_c_on_0103(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame:
    """The user's Ctrl-C arrives (a real SIGINT to this process) while 0103 runs."""
    if ctx.date == "20240103":
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the signal handler interrupts this
    return clock(lf, ctx)
