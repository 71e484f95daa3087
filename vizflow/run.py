"""Running a pipeline over one date, many dates, or many machines.

vizflow runs one date (:func:`run`); for many it hands the dates to an existing executor: a
process pool (spawn start method) by default, any :class:`concurrent.futures.Executor` you pass
(a Dask cluster through ``client.get_executor()``), or job commands for a cluster scheduler
(:func:`run_cluster`). Workers receive paths and parameters, never frames.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import pickle
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from vizflow import calendar as cal_mod
from vizflow import io as vf_io
from vizflow.config import Config, format_date
from vizflow.context import Context
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from vizflow._typing import DateLike

__all__ = [
    "BatchResult",
    "DateResult",
    "resolve_pipeline",
    "run",
    "run_batch",
    "run_cluster",
    "run_local",
]

log = logging.getLogger("vizflow.run")

DEFAULT_TEMPLATE = 'ailab create job --name=vf_{date} --command "{command}"'
"""The plan's cluster job command; ``{command}`` is the ``vizflow run`` line for one date."""


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


def _init_worker(threads: int) -> None:
    """Keep N workers on N cores from running N x N threads (Polars sizes its pool lazily)."""
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads))
    os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))


def _warm_kernels() -> None:
    """Compile the library kernels once before fanning out (numba's disk cache can race)."""
    import numpy as np

    from vizflow.kernels.asof import asof_index_nb
    from vizflow.kernels.fifo import warm_up as warm_fifo
    from vizflow.kernels.segments import group_order_nb, sort_segments_nb

    z, o = np.zeros(1, np.int64), np.zeros(2, np.int64)
    asof_index_nb(o, np.zeros(1), o, np.zeros(1), 0.0, True, 1.0, z.copy())
    warm_fifo()
    for key in (np.zeros(1), np.zeros(1, np.int64)):  # float and integer/temporal sort keys
        group_order_nb(z, 1, key, z.copy(), o.copy())
        sort_segments_nb(o, key, z.copy())


def _check_picklable(pipeline_fn: Callable[..., Any]) -> None:
    try:
        pickle.dumps(pipeline_fn)
    except Exception as exc:
        msg = (
            f"run_batch: pipeline {getattr(pipeline_fn, '__qualname__', pipeline_fn)!r} cannot be "
            f"sent to worker processes ({type(exc).__name__}: {exc}). Define it at the top level "
            "of an importable module (not a lambda or a nested function), or use "
            "run_local / parallel=False"
        )
        raise VizflowError(msg) from None


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


def resolve_pipeline(target: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    """``"module:function"`` for a pipeline, and the function (importing it if given by name).

    Raises
    ------
    VizflowError
        For a lambda, a nested function or one defined in ``__main__``: other machines cannot
        import those by name.
    """
    if isinstance(target, str):
        module, _, name = target.partition(":")
        if not module or not name:
            msg = f"pipeline {target!r}: expected 'module:function', e.g. 'mypkg.jobs:daily'"
            raise VizflowError(msg)
        import importlib

        if str(Path.cwd()) not in sys.path:  # `vizflow run mymodule:fn` from the project folder
            sys.path.insert(0, str(Path.cwd()))
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            msg = f"pipeline {target!r} cannot be imported: {exc}"
            raise VizflowError(msg) from None
        return target, fn
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", "")
    why = None
    if qualname == "<lambda>" or "<lambda>" in qualname:
        why = "it is a lambda"
    elif "<locals>" in qualname:
        why = "it is defined inside another function"
    elif module in (None, "__main__"):
        why = "it is defined in __main__ (a script or notebook), which other processes cannot import"
    if why:
        msg = (
            f"pipeline {qualname or target!r} cannot run on a cluster: {why}. Cluster jobs import "
            "the pipeline by name ('module:function'): move it to a module on the workers' path"
        )
        raise VizflowError(msg)
    return f"{module}:{qualname}", target


def run_cluster(
    pipeline_fn: str | Callable[..., Any],
    config: Config | str | Path,
    dates: Iterable[DateLike],
    template: str = DEFAULT_TEMPLATE,
) -> list[str]:
    """One job command per date for a cluster scheduler's command line.

    Each job runs ``vizflow run module:function --config <toml> --date <date>``.

    Parameters
    ----------
    pipeline_fn
        An importable function, or ``"module:function"``.
    config
        The config TOML path the jobs read (or a :class:`Config` loaded with
        :meth:`Config.from_toml`, which remembers its file).
    dates
        The dates, one job each.
    template
        The job line; ``{date}``, ``{command}`` (the ``vizflow run`` line), ``{target}`` and
        ``{config}`` are filled in. Default: the plan's ``ailab create job --name=vf_{date} ...``.
        Slurm: ``'sbatch --job-name=vf_{date} --wrap "{command}"'``.

    Returns
    -------
    list of str
        The commands, in date order; vizflow submits nothing itself.

    Examples
    --------
    >>> import vizflow as vf
    >>> for line in vf.run_cluster("jobs.daily:pipeline", "cfg.toml", ["20240102"]):
    ...     print(line)
    ailab create job --name=vf_20240102 --command "vizflow run jobs.daily:pipeline --config cfg.toml
    --date 20240102"
    >>> slurm = 'sbatch --job-name=vf_{date} --wrap "{command}"'
    >>> for line in vf.run_cluster("jobs.daily:pipeline", "cfg.toml", ["20240102"], template=slurm):
    ...     print(line)
    sbatch --job-name=vf_20240102 --wrap "vizflow run jobs.daily:pipeline --config cfg.toml
    --date 20240102"
    """
    if isinstance(pipeline_fn, str):
        target = pipeline_fn  # imported on the cluster, not here
        module, _, name = target.partition(":")
        if not module or not name:
            msg = f"pipeline {target!r}: expected 'module:function', e.g. 'mypkg.jobs:daily'"
            raise VizflowError(msg)
    else:
        target, _ = resolve_pipeline(pipeline_fn)
    if isinstance(config, Config):
        if config.source is None:
            msg = (
                "run_cluster: the jobs need the config as a TOML file; load it with "
                "Config.from_toml(path) or pass the path"
            )
            raise VizflowError(msg)
        config = config.source
    cfg = shlex.quote(str(config))
    commands = []
    for day in sorted(dict.fromkeys(format_date(d) for d in dates)):
        command = f"vizflow run {shlex.quote(target)} --config {cfg} --date {day}"
        commands.append(template.format(date=day, command=command, target=target, config=cfg))
    return commands
