"""run_batch on a real Dask cluster: a scheduler and two workers as separate processes on loopback.

One worker is SIGKILLed while it holds a date; Dask reruns that date on the other worker and the
batch completes. The cluster's processes are stopped by their PIDs at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import vizflow as vf
from tests import pipelines

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

DATES = ["20240102", "20240103", "20240104", "20240105"]
ROOT = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).parent / "dask")  # the `dask` command of this environment


def _wait_until(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers, each its own process; yields (client, workers)."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    where = ["--host", "127.0.0.1", "--scheduler-file", str(scheduler_file), "--no-dashboard"]
    scheduler = subprocess.Popen([DASK, "scheduler", "--port", "0", *where], **common)
    processes = [scheduler]
    try:
        _wait_until(scheduler_file.exists, "the scheduler file")
        one_process = ["--nthreads", "1", "--no-nanny"]  # the date runs in the process we start
        workers = [subprocess.Popen([DASK, "worker", *where, *one_process], **common) for _ in range(2)]
        processes += workers
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            yield client, workers
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def config(tmp_path) -> vf.Config:
    for i, day in enumerate(DATES):
        trades = vf.datasets.synthetic_trades(day, n_symbols=2, trades_per_symbol=5, seed=i)
        vf.save(trades, tmp_path / "in" / f"{day}.parquet")
    return vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")


def _started(config: vf.Config) -> list[tuple[str, int]]:
    return sorted(
        (p.name.split("_")[1], int(p.name.split("_")[2])) for p in config.output_dir.glob(".started_*")
    )


def _task_inputs(dask_scheduler) -> dict[str, str]:
    """Each vizflow task on the scheduler, and the one piece of data it depends on."""
    tasks = dask_scheduler.tasks.items()
    return {
        str(key): "".join(str(dep.key) for dep in task.dependencies)
        for key, task in tasks
        if str(key).startswith("vizflow-")
    }


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning", "ignore::UserWarning")
def test_dask_cluster_reruns_the_dates_of_a_killed_worker(cluster, config):
    client, workers = cluster
    pids = {w.pid for w in workers}
    seen: dict[str, object] = {}

    def kill_one_holder() -> None:
        try:
            _wait_until(lambda: len(_started(config)) == 2, "both workers to hold a date")
            seen["inputs"] = client.run_on_scheduler(_task_inputs)
            seen["victim"] = victim = _started(config)[0][1]
            os.kill(victim, signal.SIGKILL)
        finally:  # whatever happened, let the batch end
            (config.output_dir / "release").touch()

    config.output_dir.mkdir(parents=True)
    killer = threading.Thread(target=kill_one_holder)
    killer.start()
    calendar = vf.calendar.generate(DATES)
    result = vf.run_batch(pipelines.holds, config, DATES, executor=client.get_executor(), calendar=calendar)
    killer.join()
    assert result.ok, str(result)
    assert result.succeeded == DATES
    inputs, victim = seen["inputs"], seen["victim"]
    assert len(inputs) == len(DATES)
    (calendar_key,) = set(inputs.values())  # one calendar for all dates, sent once...
    assert calendar_key.startswith("Calendar-")  # ...by scatter, not pickled into each task
    assert victim in pids  # the date ran in the worker process itself (no nanny)
    runs = _started(config)
    held = {day for day, pid in runs if pid == victim}
    assert len(held) == 1
    assert {pid for day, pid in runs if day in held} == {victim, (pids - {victim}).pop()}  # rerun elsewhere
    assert all(config.get_output_path(d).exists() for d in DATES)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning", "ignore::UserWarning")
def test_dask_ships_a_lambda_and_warms_the_kernels_on_each_worker(cluster, config):
    """B10: the stdlib pickle check refused a lambda that Dask (cloudpickle) can ship."""
    client, _ = cluster
    result = vf.run_batch(lambda lf, ctx: lf.head(1), config, DATES, executor=client)
    assert result.succeeded == DATES
    warmed = client.run(lambda dask_worker: "vizflow-warm-kernels" in dask_worker.plugins)
    assert list(warmed.values()) == [True, True]
