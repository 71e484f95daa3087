"""Running a pipeline over one date, many dates, or many machines.

vizflow runs one date (:func:`run`); for many it hands the dates to an existing executor: a
process pool (spawn start method) by default, any :class:`concurrent.futures.Executor` you pass
(a Dask cluster through ``client.get_executor()``), or job commands for a cluster scheduler
(:func:`run_cluster`). Workers receive paths and parameters, never frames.

Modules: :mod:`~vizflow.runner.one_date` (one date), :mod:`~vizflow.runner.batch` (a batch and
its result), :mod:`~vizflow.runner.executors` (process pool, Dask), :mod:`~vizflow.runner.cluster`
(job commands), :mod:`~vizflow.runner.pipeline` (pipelines by name).
"""

from __future__ import annotations

import logging

from vizflow.runner.batch import BatchResult, run_batch, run_local
from vizflow.runner.cluster import run_cluster
from vizflow.runner.one_date import DateResult, run
from vizflow.runner.pipeline import resolve_pipeline

logging.getLogger("vizflow.run").addHandler(logging.NullHandler())  # nothing on stderr unless asked

__all__ = [
    "BatchResult",
    "DateResult",
    "resolve_pipeline",
    "run",
    "run_batch",
    "run_cluster",
    "run_local",
]
