"""Faults in a batch: what one date raises or does to its worker, and what happens to the parent.

Each test names the finding it guards (issue 12, findings section B). Dates are tiny; the
pipelines (tests/pipelines.py) synchronise through marker files, so nothing sleeps and hopes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import vizflow as vf
from tests import pipelines

DATES = ["20240102", "20240103", "20240104", "20240105", "20240108", "20240109"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path) -> vf.Config:
    for i, day in enumerate(DATES):
        trades = vf.datasets.synthetic_trades(day, n_symbols=2, trades_per_symbol=5, seed=i)
        vf.save(trades, tmp_path / "in" / f"{day}.parquet")
    return vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")


def _wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _started(config: vf.Config) -> dict[str, int]:
    """Dates a `holds` pipeline announced, and the pid of the process running each."""
    found = (p.name.split("_") for p in config.output_dir.glob(".started_*"))
    return {day: int(pid) for _, day, pid in found}


def _gone(pid: int) -> bool:
    return pipelines._gone(pid)


FAULTS = {
    "20240103": "PanicException: polars panicked on purpose",
    "20240104": "SystemExit: 3",
    "20240105": "KeyboardInterrupt: raised by the pipeline",
}


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "pool"])
def test_regression_base_exception_fails_its_date_alone(config, parallel):
    """B1: a Polars panic or sys.exit aborted run_local and came back from a pool unpicklable."""
    result = vf.run_batch(pipelines.faults_by_date, config, DATES, parallel=parallel, max_workers=2)
    assert result.failed == FAULTS
    assert result.succeeded == ["20240102", "20240108", "20240109"]  # later dates still ran
    for failed in (r for r in result.results if r.status == "failed"):
        name, message = failed.reason.split(": ", 1)
        assert "faults_by_date" in failed.traceback
        assert re.fullmatch(rf"(\w+\.)*{name}: {message}", failed.traceback.strip().splitlines()[-1])


def test_regression_user_ctrl_c_stops_an_in_process_batch(config):
    """B1: only a real Ctrl-C (SIGINT to this process) stops run_local; later dates never run."""
    with pytest.raises(KeyboardInterrupt):
        vf.run_local(pipelines.presses_ctrl_c_on_0103, config, DATES)
    assert config.get_output_path("20240102").exists()
    assert not any(config.get_output_path(d).exists() for d in DATES[1:])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_regression_dead_worker_fails_only_its_date(config):
    """B2: one worker SIGKILLed itself and all six dates failed with BrokenProcessPool, unnamed.

    20240102 is in flight on the healthy worker when the pool breaks; it must be rerun, not lost.
    The date whose worker died is charged each death, and retries bound its attempts.
    """
    result = vf.run_batch(pipelines.dies_on_0103, config, DATES, max_workers=2, retries=1)
    assert set(result.failed) == {"20240103"}
    dying = sorted(config.output_dir.glob(".dying_20240103_*"), key=lambda p: p.stat().st_mtime)
    assert len(dying) == 2  # the first run and one retry, each in a worker that died
    pid = dying[-1].name.rsplit("_", 1)[1]
    assert result.failed["20240103"] == (
        f"worker process {pid} died while running 20240103 (killed by SIGKILL, e.g. out of memory)"
    )
    assert result.succeeded == [d for d in DATES if d != "20240103"]
    outs = pl.concat([vf.load(config.get_output_path(d)).collect() for d in result.succeeded])
    assert outs["date"].to_list() == [d for d in result.succeeded for _ in range(2)]


def test_regression_thread_cap_is_the_workers_pool_size(config):
    threads = 3  # not what the machine would give two workers, on any core count but 6 or 7
    """B8: POLARS_MAX_THREADS was set after Polars sized its pool; the old test read the variable."""
    result = vf.run_batch(pipelines.thread_caps, config, DATES[:4], max_workers=2, threads_per_worker=threads)
    assert result.ok, str(result)
    outs = pl.concat([vf.load(config.get_output_path(d)).collect() for d in DATES[:4]])
    assert os.getpid() not in outs["pid"].to_list()
    assert outs["polars"].to_list() == [threads] * 4
    assert outs["numba"].to_list() == [threads] * 4


def test_default_thread_cap_shares_the_cores_out(config):
    result = vf.run_batch(pipelines.thread_caps, config, DATES[:2], max_workers=2)
    assert result.ok, str(result)
    cores = len(os.sched_getaffinity(0))
    expected = max(1, cores // 2)
    outs = pl.concat([vf.load(config.get_output_path(d)).collect() for d in DATES[:2]])
    assert set(outs["polars"].to_list()) == {expected}


def _write_config(config: vf.Config, tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        f"input_dir = {str(config.input_dir)!r}\noutput_dir = {str(config.output_dir)!r}\n"
        "input_pattern = '{date}.parquet'\nmarket = 'CN'\n"
    )
    return cfg


def test_regression_script_without_main_guard_gets_one_clear_error(config, tmp_path):
    """B10: without the guard every date failed with BrokenProcessPool under 618 lines of stderr."""
    script = tmp_path / "job.py"
    script.write_text(
        "import vizflow as vf\nfrom tests import pipelines\n"
        f"cfg = vf.Config.from_toml({str(_write_config(config, tmp_path))!r})\n"
        f"vf.run_batch(pipelines.clock, cfg, {DATES[:3]!r}, max_workers=2)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.count('if __name__ == "__main__":') == 1, done.stderr
    assert "job.py" in done.stderr
    assert "BrokenProcessPool" not in done.stderr
    assert len(done.stderr.splitlines()) < 30, done.stderr
    assert not any(config.get_output_path(d).exists() for d in DATES)


def _vizflow_run(config: vf.Config, tmp_path: Path, pipeline: str, dates: list[str]) -> subprocess.Popen:
    dates_file = tmp_path / "dates.txt"
    dates_file.write_text("\n".join(dates))
    command = [sys.executable, "-m", "vizflow", "run", f"tests.pipelines:{pipeline}"]
    command += ["--config", str(_write_config(config, tmp_path)), "--dates-file", str(dates_file)]
    return subprocess.Popen(  # its own session: a signal to it reaches no one else
        [*command, "--workers", "2", "--no-progress"], cwd=ROOT, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_regression_workers_exit_when_the_parent_is_killed(config, tmp_path, sig):
    """B3: after SIGKILL / SIGTERM of `vizflow run` its workers blocked forever under PID 1."""
    parent = _vizflow_run(config, tmp_path, "holds", DATES[:4])
    try:
        _wait_until(lambda: len(_started(config)) == 2, "two dates in flight")
        workers = set(_started(config).values())
        assert parent.pid not in workers
        parent.send_signal(sig)
        parent.wait(timeout=30)
        _wait_until(lambda: all(_gone(pid) for pid in workers), "the workers to exit", seconds=10)
    finally:
        (config.output_dir / "release").touch()
        parent.kill()
        parent.communicate()
    assert len(_started(config)) == 2  # the queued dates never started
    assert not any(config.get_output_path(d).exists() for d in DATES)


def test_regression_ctrl_c_stops_the_batch_and_leaves_no_temporary_files(config, tmp_path):
    """B3: Ctrl-C cancels queued dates, ends the running ones and removes their temporary files."""
    parent = _vizflow_run(config, tmp_path, "holds_mid_write", DATES[:4])
    try:
        _wait_until(lambda: len(_started(config)) == 2, "two dates half-written")
        workers = set(_started(config).values())
        assert len([p for p in config.output_dir.iterdir() if p.name.endswith(".tmp")]) == 2
        parent.send_signal(signal.SIGINT)
        _, stderr = parent.communicate(timeout=60)
    finally:
        parent.kill()
    assert parent.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert all(_gone(pid) for pid in workers)
    assert len(_started(config)) == 2
    leftovers = [p.name for p in config.output_dir.iterdir() if not p.name.startswith(".started_")]
    assert leftovers == []
