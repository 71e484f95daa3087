"""A batch of dates and its result: :func:`run_batch`, :func:`run_local`, :class:`BatchResult`."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vizflow import calendar as cal_mod
from vizflow.config import Config, format_date
from vizflow.exceptions import VizflowError
from vizflow.runner.executors import _check_picklable, _init_worker, _warm_kernels
from vizflow.runner.one_date import DateResult, _run_date

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import polars as pl

    from vizflow._typing import DateLike

__all__ = ["BatchResult", "run_batch", "run_local"]

log = logging.getLogger("vizflow.run")


@dataclass
class BatchResult:
    """The summary of a batch: which dates succeeded, were skipped, failed (and why)."""

    results: list[DateResult] = field(default_factory=list)

    def _with(self, status: str) -> list[DateResult]:
        return [r for r in self.results if r.status == status]

    @property
    def succeeded(self) -> list[str]:
        """Dates processed."""
        return [r.date for r in self._with("succeeded")]

    @property
    def skipped(self) -> list[str]:
        """Dates skipped (output already there, or not a trading day)."""
        return [r.date for r in self._with("skipped")]

    @property
    def failed(self) -> dict[str, str]:
        """Failed dates and their error."""
        return {r.date: r.reason for r in self._with("failed")}

    @property
    def ok(self) -> bool:
        """No date failed."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise :class:`VizflowError` listing the failed dates, if any."""
        if not self.ok:
            raise VizflowError(str(self))

    def __str__(self) -> str:
        lines = [f"{len(self.succeeded)} succeeded, {len(self.skipped)} skipped, {len(self.failed)} failed"]
        lines += [f"  failed {r.date}: {r.reason}" for r in self._with("failed")]
        return "\n".join(lines)


def _progress(total: int, enabled: bool | None) -> Any:
    """Return a tqdm bar on a terminal (stderr), else None."""
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="date", desc="vizflow", file=sys.stderr)


def run_batch(
    pipeline_fn: Callable[..., Any],
    config: Config,
    dates: Iterable[DateLike],
    parallel: bool = True,
    skip_existing: bool = True,
    *,
    executor: cf.Executor | None = None,
    max_workers: int | None = None,
    retries: int = 0,
    calendar: pl.DataFrame | None = None,
    progress: bool | None = None,
) -> BatchResult:
    """Run ``pipeline_fn`` over many dates; one failing date never stops the others.

    Parameters
    ----------
    pipeline_fn
        As for :func:`run`; for processes it must be importable (a top-level function).
    config
        As for :func:`run`.
    dates
        Dates to run (``"YYYYMMDD"`` or :class:`datetime.date`), duplicates ignored.
    parallel
        Use worker processes (default) or run in this process, in order.
    skip_existing
        Skip a date whose output file exists. Outputs are written to a temporary file and renamed,
        so an interrupted run never leaves a file that would be skipped.
    executor
        Any :class:`concurrent.futures.Executor`: e.g. a Dask cluster's
        ``distributed.Client(...).get_executor()``. Default: a process pool with the ``spawn``
        start method (fork and Polars' thread pool can deadlock), ``max_workers`` processes
        (default: the cores available), each limited to ``cores // workers`` Polars threads.
    max_workers
        Size of the default pool.
    retries
        Retry a failing date this many times.
    calendar
        With a calendar, dates that are not trading days are skipped (reason logged) and the
        calendar is passed to each :class:`Context`.
    progress
        A progress bar on stderr: default only when stderr is a terminal; ``False`` never.

    Returns
    -------
    BatchResult
        ``succeeded``, ``skipped``, ``failed`` (date -> error); each failure keeps its traceback
        text. Call ``raise_for_failures()`` to turn failures into an exception.

    Raises
    ------
    VizflowError
        Before any work, if the pipeline cannot be sent to worker processes.
    """
    days = list(dict.fromkeys(format_date(d) for d in dates))
    results: dict[str, DateResult] = {}
    todo = []
    for day in days:
        if calendar is not None and not _is_session(calendar, day):
            results[day] = DateResult(day, "skipped", reason="not a trading day")
            log.info("vizflow: %s skipped: not a trading day", day)
        elif skip_existing and config.get_output_path(day).exists():
            results[day] = DateResult(day, "skipped", reason="output exists")
            log.info("vizflow: %s skipped: output exists", day)
        else:
            todo.append(day)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    bar = _progress(len(days), progress)
    if bar is not None:
        bar.update(len(days) - len(todo))

    def record(result: DateResult) -> None:
        results[result.date] = result
        if result.status == "failed":
            log.error("vizflow: %s failed: %s", result.date, result.reason)
        else:
            log.info("vizflow: %s done in %.2fs (%s rows)", result.date, result.seconds, result.rows)
        if bar is not None:
            bar.update(1)

    if not parallel or not todo:
        for day in todo:
            record(_run_date(pipeline_fn, config, day, calendar, retries))
    else:
        _check_picklable(pipeline_fn)
        own = executor is None
        if own:
            _warm_kernels()
            workers = max_workers or len(os.sched_getaffinity(0))
            threads = max(1, (os.cpu_count() or 1) // workers)
            executor = cf.ProcessPoolExecutor(
                workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                initargs=(threads,),
            )  # fmt: skip
        assert executor is not None
        try:
            futures = {
                executor.submit(_run_date, pipeline_fn, config, day, calendar, retries): day for day in todo
            }
            for future in cf.as_completed(futures):
                day = futures[future]
                try:
                    record(future.result())
                except Exception as exc:
                    record(DateResult(day, "failed", reason=f"{type(exc).__name__}: {exc}",
                                      traceback=traceback.format_exc()))  # fmt: skip
        finally:
            if own:
                executor.shutdown(wait=True, cancel_futures=True)
    if bar is not None:
        bar.close()
    return BatchResult([results[d] for d in days])


def _is_session(calendar: pl.DataFrame, day: str) -> bool:
    try:
        return cal_mod.is_trading_day(calendar, day)
    except VizflowError:
        return False


def run_local(
    pipeline_fn: Callable[..., Any],
    config: Config,
    dates: Iterable[DateLike],
    skip_existing: bool = True,
    *,
    retries: int = 0,
    calendar: pl.DataFrame | None = None,
    progress: bool | None = None,
) -> BatchResult:
    """:func:`run_batch` in this process, one date after another (breakpoints and tracebacks work).

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for day in ("20240102", "20240103"):
    ...     _ = vf.save(pl.DataFrame({"x": [1]}), root / f"{day}.parquet")
    >>> cfg = vf.Config(input_dir=root, output_dir=root / "out", input_pattern="{date}.parquet")
    >>> print(vf.run_local(lambda lf, ctx: lf, cfg, ["20240102", "20240103", "20240104"]))
    2 succeeded, 0 skipped, 1 failed
      failed 20240104: FileNotFoundError: load: no such file: '.../20240104.parquet'
    """
    return run_batch(
        pipeline_fn, config, dates, False, skip_existing,
        retries=retries, calendar=calendar, progress=progress,
    )  # fmt: skip
