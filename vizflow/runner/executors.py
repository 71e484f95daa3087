"""Executors a batch can run on besides the default pool: a Dask cluster, any ``concurrent.futures`` one.

Each ships the work its own way: Dask with its serialisation (cloudpickle: lambdas travel), a
thread pool by reference (no pickling at all), a user's process pool with the standard pickle.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import pickle
import pkgutil
import sys
import uuid
from typing import TYPE_CHECKING, Any

from vizflow import kernels
from vizflow.exceptions import VizflowError
from vizflow.runner.one_date import DateResult, run_date

if TYPE_CHECKING:
    from collections.abc import Callable

    from vizflow.runner.one_date import Job

__all__ = ["dask_client", "run_on_dask", "run_on_executor", "warm_kernels"]


def warm_kernels() -> None:
    """Compile the library kernels once before fanning out (numba's disk cache can race).

    Every module of :mod:`vizflow.kernels` with a ``warm_up()`` is warmed, so a new kernel
    module is covered as soon as it has one (``tests/kernels/test_warm.py`` checks they all do).
    """
    for module in pkgutil.iter_modules(kernels.__path__):
        warm = getattr(importlib.import_module(f"{kernels.__name__}.{module.name}"), "warm_up", None)
        if warm is not None:
            warm()


def check_picklable(pipeline_fn: Callable[..., Any]) -> None:
    """Refuse, before any work, a pipeline the standard pickle cannot send to worker processes."""
    try:
        pickle.dumps(pipeline_fn)
    except Exception as exc:
        msg = (
            f"run_batch: pipeline {getattr(pipeline_fn, '__qualname__', pipeline_fn)!r} cannot be "
            f"sent to worker processes ({type(exc).__name__}: {exc}). Define it at the top level "
            "of an importable module (not a lambda or a nested function), or use "
            "run_local / parallel=False, a thread pool or a Dask cluster"
        )
        raise VizflowError(msg) from None


def dask_client(executor: object) -> Any:
    """Return the Dask client behind ``executor`` (a client or its ``get_executor()``), else None."""
    if "distributed" not in sys.modules:  # nobody made a Dask client without importing it
        return None
    from distributed import Client
    from distributed.cfexecutor import ClientExecutor

    if isinstance(executor, ClientExecutor):
        return executor._client
    return executor if isinstance(executor, Client) else None


def _failed(day: str, exc: BaseException) -> DateResult:
    return DateResult(day, "failed", reason=f"{type(exc).__name__}: {exc}")


def _warm_kernels_plugin() -> Any:
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmKernels(WorkerPlugin):
        """Warm the kernels on every worker, those that join later included."""

        def setup(self, worker: object) -> None:
            warm_kernels()

    return WarmKernels()


def run_on_dask(client: Any, job: Job, days: list[str], record: Callable[[DateResult], None]) -> None:
    """One Dask task per date; the calendar is scattered once, kernels warmed on each worker.

    Dask reruns the tasks of a worker that dies on another worker (up to its
    ``distributed.scheduler.allowed-failures``, then the date fails with ``KilledWorker``).
    """
    from distributed import as_completed

    client.register_plugin(_warm_kernels_plugin(), name="vizflow-warm-kernels")
    calendar = None if job.calendar is None else client.scatter(job.calendar, broadcast=True)
    batch = uuid.uuid4().hex[:8]
    futures = {
        client.submit(
            run_date, job.pipeline_fn, job.config, day, calendar, job.retries, key=f"vizflow-{day}-{batch}",
            pure=False,
        ): day
        for day in days
    }  # fmt: skip
    try:
        for future in as_completed(futures):
            try:
                record(future.result())
            except Exception as exc:  # KilledWorker, a pipeline Dask could not serialise
                record(_failed(futures[future], exc))
    except BaseException:
        client.cancel(list(futures))
        raise


def run_on_executor(
    executor: cf.Executor, job: Job, days: list[str], record: Callable[[DateResult], None]
) -> None:
    """One task per date on any :class:`concurrent.futures.Executor` (the caller owns it)."""
    if isinstance(executor, cf.ProcessPoolExecutor):
        check_picklable(job.pipeline_fn)
    futures = {executor.submit(job, day): day for day in days}
    try:
        for future in cf.as_completed(futures):
            try:
                record(future.result())
            except Exception as exc:  # the executor's own failure (a broken pool, pickling)
                record(_failed(futures[future], exc))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
