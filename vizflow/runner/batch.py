"""A batch of dates and its result: :func:`run_batch`, :func:`run_local`, :class:`BatchResult`."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import numbers
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from vizflow import calendar as cal_mod
from vizflow import io as vf_io
from vizflow.config import Config, format_date
from vizflow.exceptions import CalendarError, VizflowError
from vizflow.runner.executors import check_picklable, dask_client, run_on_dask, run_on_executor, warm_kernels
from vizflow.runner.one_date import DateResult, Job, ctrl_c_stops_the_batch, run_calendar
from vizflow.runner.pool import cores, default_threads, refuse_unguarded_script, run_on_pool

if TYPE_CHECKING:
    from collections.abc import Callable

    from vizflow._typing import DateLike
    from vizflow.calendar import Calendar

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
    from tqdm import tqdm  # a core dependency; imported only when a bar is drawn

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
    threads_per_worker: int | None = None,
    retries: int = 0,
    calendar: Calendar | pl.DataFrame | None = None,
    progress: bool | None = None,
) -> BatchResult:
    """Run ``pipeline_fn`` over many dates; one failing date never stops the others.

    Whatever a pipeline raises on one date (``SystemExit``, a Polars panic, any exception) fails
    that date alone; so does a worker process that dies (killed, out of memory): the other dates
    run to the end on a fresh pool. Only the user's Ctrl-C stops the batch.

    Parameters
    ----------
    pipeline_fn
        As for :func:`run`; for processes it must be importable (a top-level function).
    config
        As for :func:`run`.
    dates
        Dates to run (``"YYYYMMDD"`` or :class:`datetime.date`), duplicates ignored. A list, even
        for one date.
    parallel
        Use worker processes (default) or run in this process, in order.
    skip_existing
        Skip a date whose output file exists. Outputs are written to a temporary file and renamed,
        so an interrupted run never leaves a file that would be skipped.
    executor
        Any :class:`concurrent.futures.Executor` (a ``ThreadPoolExecutor`` needs no pickling), or a
        Dask ``distributed.Client`` or its ``get_executor()``: the calendar is then scattered once,
        the kernels warmed on every worker, and a dead worker's dates rerun on the others. Default:
        a process pool with the ``spawn`` start method (fork and Polars' thread pool can
        deadlock) whose workers exit when this process dies.
    max_workers
        Processes in the default pool (default: the cores available to this process).
    threads_per_worker
        Polars and numba threads in each of them (default: cores // workers, at least 1).
    retries
        Run a failing date (or one whose worker died) again, this many times.
    calendar
        With a calendar, dates that are not trading days are skipped (reason logged) and the
        calendar is passed to each :class:`Context`; a date outside the calendar's span fails.
        Default: with a ``config.calendar`` file, the market's calendar extended with it
        (:func:`~vizflow.runner.one_date.run_calendar`); else none.
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
        Before any work, for bad arguments or a pipeline that cannot be sent to worker processes;
        and when a script without an ``if __name__ == "__main__":`` guard runs a batch.
    KeyboardInterrupt
        On Ctrl-C: queued dates are cancelled and running ones stopped; finished dates keep their
        outputs and no temporary file is left.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = vf.save(pl.DataFrame({"x": [1, 2]}), root / "20240102.parquet")
    >>> cfg = vf.Config(input_dir=root, output_dir=root / "out", input_pattern="{date}.parquet")
    >>> with ThreadPoolExecutor(2) as pool:
    ...     print(vf.run_batch(lambda lf, ctx: lf, cfg, ["20240102"], executor=pool))
    1 succeeded, 0 skipped, 0 failed
    """
    refuse_unguarded_script()
    sizes = {"max_workers": max_workers, "threads_per_worker": threads_per_worker}
    counts = {"retries": (retries, 0)} | {k: (v, 1) for k, v in sizes.items() if v is not None}
    _check_arguments(pipeline_fn, config, executor, counts)
    days = _days(dates)
    calendar = run_calendar(config, calendar)
    config.check_no_input_overwrite(days)  # before any work: an output never replaces an input
    results: dict[str, DateResult] = {}
    bar = _progress(len(days), progress)

    def record(result: DateResult) -> None:
        results[result.date] = result
        if result.status == "failed":
            log.error("vizflow: %s failed: %s", result.date, result.reason)
        elif result.status == "skipped":
            log.info("vizflow: %s skipped: %s", result.date, result.reason)
        else:
            log.info("vizflow: %s done in %.2fs (%s rows)", result.date, result.seconds, result.rows)
        if bar is not None:
            bar.update(1)

    todo = []
    for day in days:
        early = _before_work(day, config, calendar, skip_existing)
        if early is None:
            todo.append(day)
        else:
            record(early)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    vf_io.clean_stale_temporaries(config.output_dir)
    job = Job(pipeline_fn, config, calendar, retries)
    try:
        with ctrl_c_stops_the_batch():
            client = dask_client(executor)
            if not todo:
                pass
            elif client is not None:
                run_on_dask(client, job, todo, record)
            elif executor is not None:
                run_on_executor(executor, job, todo, record)
            elif not parallel:
                for day in todo:
                    record(job(day))
            else:
                check_picklable(pipeline_fn)
                warm_kernels()
                pl.thread_pool_size()  # size this process's pool before the workers' cap is set
                workers = max_workers or cores()
                threads = threads_per_worker or default_threads(workers)
                run_on_pool(job, todo, record, workers=workers, threads=threads)
    finally:
        if bar is not None:
            bar.close()
    return BatchResult([results[d] for d in days])


def _check_arguments(
    pipeline_fn: object, config: object, executor: object, counts: Mapping[str, tuple[object, int]]
) -> None:
    problem = None
    if not callable(pipeline_fn):
        problem = f"pipeline_fn is {type(pipeline_fn).__name__} {pipeline_fn!r}; expected fn(lf, ctx)"
    elif not isinstance(config, Config):
        problem = f"config is {type(config).__name__}; expected a vizflow.Config"
    elif executor is not None and not isinstance(executor, cf.Executor) and dask_client(executor) is None:
        problem = (
            f"executor is {type(executor).__name__}; expected a concurrent.futures.Executor or a "
            "Dask distributed.Client"
        )
    for name, (value, lowest) in counts.items():
        if problem is None and not _at_least(value, lowest):
            problem = f"{name}={value!r}; expected an integer >= {lowest}"
    if problem is not None:
        msg = f"run_batch: {problem}"
        raise VizflowError(msg)


def _at_least(value: object, lowest: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= lowest


def _days(dates: object) -> list[str]:
    if isinstance(dates, str | bytes) or not isinstance(dates, Iterable):
        msg = (
            f"run_batch: dates is {type(dates).__name__} {dates!r}; expected a list of dates, "
            f"e.g. [{dates!r}] for one date"
        )
        raise VizflowError(msg)
    return list(dict.fromkeys(format_date(d) for d in dates))


def _before_work(
    day: str, config: Config, calendar: Calendar | pl.DataFrame | None, skip_existing: bool
) -> DateResult | None:
    """Return the result of a date that needs no work (skipped, beyond the calendar), else None."""
    if calendar is not None:
        try:
            if not cal_mod.is_session(calendar, day):
                return DateResult(day, "skipped", reason="not a trading day")
        except CalendarError as exc:  # beyond the calendar: it cannot know, so never a skip
            return DateResult(day, "failed", reason=f"{type(exc).__name__}: {exc}")
    if skip_existing and vf_io.is_complete(config.get_output_path(day)):  # not a truncated file
        return DateResult(day, "skipped", reason="output exists")
    return None


def run_local(
    pipeline_fn: Callable[..., Any],
    config: Config,
    dates: Iterable[DateLike],
    skip_existing: bool = True,
    *,
    retries: int = 0,
    calendar: Calendar | pl.DataFrame | None = None,
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
