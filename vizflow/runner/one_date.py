"""One date: load its input, call the pipeline, collect, save atomically."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from vizflow import io as vf_io
from vizflow.config import Config, format_date
from vizflow.context import Context
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable

    from vizflow._typing import DateLike

__all__ = ["DateResult", "run"]

log = logging.getLogger("vizflow.run")


def run(
    pipeline_fn: Callable[..., Any],
    config: Config,
    date: DateLike,
    save: bool = True,
    *,
    calendar: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Run ``pipeline_fn`` on one date: load, call, collect, save atomically, return.

    Parameters
    ----------
    pipeline_fn
        ``fn(lf: pl.LazyFrame, ctx: Context) -> LazyFrame | DataFrame``.
    config
        Where the date's input is (``config.get_file_path(date)``) and where its output goes
        (``config.get_output_path(date)``, written atomically: temporary file, then rename).
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.
    save
        Write the output file.
    calendar
        Calendar frame for the :class:`Context`.

    Returns
    -------
    pl.DataFrame
        The collected result.

    Raises
    ------
    FileNotFoundError
        If the date's input file is missing (the message gives the path).
    VizflowError
        If the pipeline returns something other than a DataFrame or LazyFrame.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = vf.save(pl.DataFrame({"ticktime": [93000000, 130000000]}), root / "in" / "20240102.parquet")
    >>> cfg = vf.Config(input_dir=root / "in", output_dir=root / "out", input_pattern="{date}.parquet")
    >>> def pipeline(lf, ctx):
    ...     return lf.vf.parse_time(ctx.market, "ticktime")
    >>> vf.run(pipeline, cfg, "20240102")["elapsed_seconds"].to_list()
    [0.0, 7200.0]
    >>> (root / "out" / "20240102.parquet").exists()
    True
    """
    day = format_date(date)
    lf = vf_io.load(config.get_file_path(day))
    result = pipeline_fn(lf, Context(config, day, calendar))
    if isinstance(result, pl.LazyFrame):
        result = result.collect()
    if not isinstance(result, pl.DataFrame):
        msg = (
            f"run: pipeline {getattr(pipeline_fn, '__name__', pipeline_fn)!r} returned "
            f"{type(result).__name__} for {day}; expected a polars DataFrame or LazyFrame"
        )
        raise VizflowError(msg)
    if save:
        vf_io.save(result, config.get_output_path(day))
    return result


@dataclass(frozen=True)
class DateResult:
    """What happened to one date."""

    date: str
    status: Literal["succeeded", "skipped", "failed"]
    seconds: float = 0.0
    rows: int | None = None
    reason: str = ""
    traceback: str = ""


def _run_date(
    pipeline_fn: Callable[..., Any],
    config: Config,
    date: str,
    calendar: pl.DataFrame | None,
    retries: int,
) -> DateResult:
    """One date with retries; never raises (errors become a failed DateResult)."""
    start = time.perf_counter()
    for attempt in range(retries + 1):
        try:
            out = run(pipeline_fn, config, date, calendar=calendar)
            return DateResult(date, "succeeded", time.perf_counter() - start, out.height)
        except Exception as exc:
            if attempt < retries:
                log.warning("vizflow: %s failed (%s), retrying", date, exc)
                continue
            return DateResult(
                date, "failed", time.perf_counter() - start, None,
                f"{type(exc).__name__}: {exc}", traceback.format_exc(),
            )  # fmt: skip
    raise AssertionError  # pragma: no cover
