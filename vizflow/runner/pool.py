"""The default executor: a spawn process pool that outlives a dying worker, and dies with its parent.

Each date is one task. A worker writes a claim file (its pid) in a folder private to the batch
while it runs a date, so when a worker dies and ``concurrent.futures`` breaks the whole pool
(``BrokenProcessPool`` for every pending task), the parent knows which date the dead worker held:
that date is charged one attempt, every other unfinished date goes to a fresh pool.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizflow import io as vf_io
from vizflow.exceptions import VizflowError
from vizflow.runner.one_date import DateResult

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from vizflow.runner.one_date import Job

__all__ = ["cores", "default_threads", "refuse_unguarded_script", "run_on_pool"]

log = logging.getLogger("vizflow.run")

_CLAIMS = "VIZFLOW_RUNNER_CLAIMS"
"""Environment variable naming the batch's claim folder, set for the workers only."""
_UNGUARDED = "unguarded-script"
"""Marker a worker leaves in the claim folder when the user's script has no ``__main__`` guard."""
_MAX_BLIND_RESTARTS = 3
"""Pool breaks with no date to blame (no worker held one) before the batch gives up on the pool."""
_PR_SET_PDEATHSIG = 1


def cores() -> int:
    """Return the cores this process may run on (its CPU affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def default_threads(workers: int) -> int:
    """Polars / numba threads each of ``workers`` processes may use: the cores shared out."""
    return max(1, cores() // workers)


def refuse_unguarded_script() -> None:
    """Stop a spawned worker that is re-running the user's script because it lacks the guard.

    A spawn worker imports the parent's ``__main__`` script; without ``if __name__ ==
    "__main__":`` that import calls :func:`run_batch` again while the worker is still starting
    (multiprocessing's "bootstrapping phase"). The worker leaves a marker for the parent, which
    turns the broken pool into one clear error, and exits without a traceback.
    """
    if not getattr(mp.current_process(), "_inheriting", False):
        return
    claims = os.environ.get(_CLAIMS)
    if claims:
        with contextlib.suppress(OSError):
            (Path(claims) / _UNGUARDED).touch()
    raise SystemExit(1)


def _die_with_parent(parent: int) -> None:
    """Exit as soon as the parent is gone (killed by SIGKILL or SIGTERM), not block under PID 1."""
    if sys.platform.startswith("linux"):  # the kernel's signal needs no GIL (a long numba kernel)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="vizflow-parent-watchdog", daemon=True).start()


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    _die_with_parent(parent)


def _pool_task(job: Job, day: str) -> DateResult:
    """Run one date in a worker, holding a claim file that names this process while it runs."""
    claim = Path(os.environ[_CLAIMS]) / day
    claim.write_text(str(os.getpid()))
    try:
        return job(day)
    finally:
        claim.unlink(missing_ok=True)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the processes started inside the block (Polars reads its cap at import)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return "exit status unknown"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            name = signal.Signals(-exitcode).name
            return f"killed by {name}, e.g. out of memory" if name == "SIGKILL" else f"killed by {name}"
        return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _unguarded_error() -> VizflowError:
    main = getattr(sys.modules.get("__main__"), "__file__", "your script")
    msg = (
        f"run_batch: the worker processes re-ran {main!r}, which calls run_batch when imported. "
        "Worker processes import the script that started them: put the call under "
        "'if __name__ == \"__main__\":', or use run_local / parallel=False"
    )
    return VizflowError(msg)


class _Batch:
    """The state of one batch across pools: what is left, and how often each date killed a worker."""

    def __init__(self, job: Job, record: Callable[[DateResult], None], claims: Path) -> None:
        self.job, self.record, self.claims = job, record, claims
        self.crashes: Counter[str] = Counter()
        self.blind = 0

    def one_pool(self, days: list[str], workers: int, threads: int) -> list[str]:
        """Run ``days`` on a fresh pool; return the dates to run again after a worker died."""
        env = {
            "POLARS_MAX_THREADS": str(threads),
            "NUMBA_NUM_THREADS": str(threads),
            _CLAIMS: str(self.claims),
        }
        futures: dict[cf.Future[DateResult], str] = {}
        pool = cf.ProcessPoolExecutor(
            min(workers, len(days)), mp_context=mp.get_context("spawn"), initializer=_init_worker,
            initargs=(os.getpid(),),
        )  # fmt: skip
        try:  # the workers start during the first submits, so with the environment set
            with _environment(env), contextlib.suppress(cf.process.BrokenProcessPool):  # one died already
                for day in days:
                    futures[pool.submit(_pool_task, self.job, day)] = day
            unsubmitted = days[len(futures) :]
            processes = dict(getattr(pool, "_processes", None) or {})
            for future in cf.as_completed(list(futures)):
                if _broke(future):
                    break
                self._harvest(future, futures.pop(future))
        except BaseException:  # Ctrl-C, or anything else in this process: stop the workers
            _stop(pool)
            vf_io.clean_stale_temporaries(self.job.config.output_dir)
            raise
        pool.shutdown(wait=True)  # every worker joined: their exit codes are final
        left = list(unsubmitted)
        for future, day in futures.items():
            if _broke(future):
                left.append(day)
            else:
                self._harvest(future, day)
        return self._after_break(left, processes) if left else []

    def _harvest(self, future: cf.Future[DateResult], day: str) -> None:
        exc = future.exception()
        if exc is None:
            self.record(future.result())
        else:  # e.g. the pipeline could not be pickled
            self.record(DateResult(day, "failed", reason=f"{type(exc).__name__}: {exc}"))

    def _after_break(self, left: list[str], processes: dict[int, Any]) -> list[str]:
        if (self.claims / _UNGUARDED).exists():
            raise _unguarded_error()
        held = {}
        for day in left:
            with contextlib.suppress(OSError, ValueError):
                held[day] = int((self.claims / day).read_text() or 0)
            (self.claims / day).unlink(missing_ok=True)
        codes = {day: getattr(processes.get(pid), "exitcode", None) for day, pid in held.items()}
        # The pool SIGTERMs its healthy workers after one dies: the others died by themselves.
        dead = [day for day, code in codes.items() if code != -signal.SIGTERM] or list(held)
        if not dead:
            self.blind += 1
            if self.blind >= _MAX_BLIND_RESTARTS:
                for day in left:
                    reason = "worker processes died before running any date; see stderr"
                    self.record(DateResult(day, "failed", reason=reason))
                return []
        for day in dead:
            self.crashes[day] += 1
            how = f"worker process {held[day]} died while running {day} ({_how(codes[day])})"
            if self.crashes[day] > self.job.retries:
                self.record(DateResult(day, "failed", reason=how))
                left.remove(day)
            else:
                log.warning("vizflow: %s, retrying", how)
        return left


def _broke(future: cf.Future[DateResult]) -> bool:
    return isinstance(future.exception(), cf.process.BrokenProcessPool)


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel the queued dates and end the running ones now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() drops them
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    pool.shutdown(wait=True, cancel_futures=True)


def run_on_pool(
    job: Job, days: list[str], record: Callable[[DateResult], None], *, workers: int, threads: int
) -> None:
    """Run ``days`` on spawn worker processes; ``record`` gets each date's result as it ends.

    Raises
    ------
    VizflowError
        If the workers re-ran a script without its ``__main__`` guard.
    KeyboardInterrupt
        On Ctrl-C: queued dates are cancelled, running ones stopped, their temporary files removed.
    """
    with tempfile.TemporaryDirectory(prefix="vizflow-claims-") as claims:
        batch = _Batch(job, record, Path(claims))
        while days:
            days = batch.one_pool(days, workers, threads)
