"""Pipelines importable by name, for spawned workers, Dask workers and the CLI tests."""

from __future__ import annotations

import os

import polars as pl

import vizflow as vf  # noqa: TC001 (used at run time by the workers)


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
