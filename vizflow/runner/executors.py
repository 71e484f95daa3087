"""Executors for a batch: the default process pool, its worker initializer, kernel warm-up."""

from __future__ import annotations

import os
import pickle
from typing import TYPE_CHECKING, Any

from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable


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
