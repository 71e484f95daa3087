"""run / run_batch / run_local: processes, a Dask cluster, failures, crashes (run_cluster: test_cluster)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest

import vizflow as vf
from tests import pipelines
from vizflow.exceptions import VizflowError

DATES = ["20240102", "20240103", "20240104", "20240105"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path) -> vf.Config:
    for i, day in enumerate(DATES):
        trades = vf.datasets.synthetic_trades(day, n_symbols=3, trades_per_symbol=20, seed=i)
        vf.save(trades, tmp_path / "in" / f"{day}.parquet")
    return vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")


def test_run_single_date_exit_criterion_plan(config):
    out = vf.run(pipelines.clock, config, "20240102")
    assert out["n"].sum() == vf.datasets.synthetic_trades("20240102", 3, trades_per_symbol=20, seed=0).height
    assert vf.load(config.get_output_path("20240102")).collect().equals(out)
    assert vf.run(pipelines.clock, config, "20240103", save=False).height == 3
    assert not config.get_output_path("20240103").exists()


def test_run_errors(config):
    with pytest.raises(FileNotFoundError, match="20240201.parquet"):
        vf.run(pipelines.clock, config, "20240201")
    with pytest.raises(VizflowError, match="returned int for 20240102; expected a polars DataFrame"):
        vf.run(pipelines.not_a_frame, config, "20240102")


def test_run_batch_processes_in_parallel_exit_criterion_plan(config):
    result = vf.run_batch(pipelines.worker_pid, config, DATES, parallel=True, max_workers=2)
    assert result.ok, str(result)
    assert result.succeeded == DATES
    outs = pl.concat([vf.load(config.get_output_path(d)).collect() for d in DATES])
    assert (
        os.getpid() not in outs["pid"].to_list()
    )  # ran in worker processes (thread cap: test_runner_faults)


def test_run_local_and_failure_summary(config):
    (config.input_dir / "20240104.parquet").unlink()
    result = vf.run_local(pipelines.fails_on_0103, config, DATES)
    assert result.succeeded == ["20240102", "20240105"]
    assert set(result.failed) == {"20240103", "20240104"}
    assert "RuntimeError: boom on purpose" in result.failed["20240103"]
    assert "20240104.parquet" in result.failed["20240104"]
    failed = next(r for r in result.results if r.date == "20240103")
    assert "fails_on_0103" in failed.traceback
    with pytest.raises(VizflowError, match="2 failed"):
        result.raise_for_failures()


def test_skip_existing_and_retries(config):
    vf.run(pipelines.clock, config, "20240102")
    result = vf.run_local(pipelines.flaky, config, DATES, retries=1)
    assert result.skipped == ["20240102"]
    assert result.succeeded == DATES[1:]
    again = vf.run_local(pipelines.clock, config, DATES)
    assert again.skipped == DATES
    redo = vf.run_local(pipelines.clock, config, DATES[:1], skip_existing=False)
    assert redo.succeeded == DATES[:1]


def test_calendar_skips_non_trading_days(config):
    cal = vf.calendar.generate(["20240102", "20240104", "20240105"])
    result = vf.run_local(pipelines.clock, config, DATES, calendar=cal)
    assert result.skipped == ["20240103"]
    assert next(r for r in result.results if r.date == "20240103").reason == "not a trading day"


def test_regression_date_beyond_the_calendar_fails_instead_of_skipping(config):
    """B2: run._is_session swallowed CalendarError, so a date the calendar cannot know was skipped."""
    cal = vf.calendar.Calendar(days=("20240102", "20240103"), start="20240101", end="20240103", name="short")
    result = vf.run_local(pipelines.clock, config, DATES, calendar=cal)
    assert result.succeeded == ["20240102", "20240103"]
    assert result.skipped == []
    assert set(result.failed) == {"20240104", "20240105"}
    assert all(r.startswith("CalendarError: ") and "20240103" in r for r in result.failed.values())
    assert not config.get_output_path("20240104").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"retries": -1}, r"retries=-1; expected an integer >= 0"),
        ({"retries": 1.5}, r"retries=1.5; expected an integer >= 0"),
        ({"max_workers": 0}, r"max_workers=0; expected an integer >= 1"),
        ({"threads_per_worker": True}, r"threads_per_worker=True; expected an integer >= 1"),
        ({"executor": "dask"}, r"executor is str; expected a concurrent.futures.Executor"),
        ({"dates": "20240102"}, r"dates is str '20240102'; expected a list of dates, e.g. \['20240102'\]"),
        ({"dates": 20240102}, r"dates is int 20240102; expected a list of dates"),
        (
            {"pipeline_fn": "tests.pipelines:clock"},
            r"pipeline_fn is str 'tests.pipelines:clock'; expected fn",
        ),
        ({"config": {"input_dir": "in"}}, r"config is dict; expected a vizflow.Config"),
    ],
)
def test_regression_bad_arguments_are_clear_errors(config, kwargs, match):
    """B10: retries=-1 gave a bare AssertionError and dates='20240102' "malformed date '2'"."""
    arguments = {"pipeline_fn": pipelines.clock, "config": config, "dates": DATES} | kwargs
    with pytest.raises(VizflowError, match=f"^run_batch: {match}"):
        vf.run_batch(**arguments)
    assert not any(config.get_output_path(d).exists() for d in DATES)


def test_regression_thread_pool_takes_a_lambda_without_pickling(config):
    """B10: a ThreadPoolExecutor with a lambda pipeline was refused by a stdlib pickle check."""
    with ThreadPoolExecutor(2) as pool:
        result = vf.run_batch(lambda lf, ctx: lf.head(1), config, DATES, executor=pool)
    assert result.succeeded == DATES
    assert vf.load(config.get_output_path("20240105")).collect().height == 1


def test_unpicklable_pipeline_is_rejected_before_work(config):
    with pytest.raises(VizflowError, match="cannot be sent to worker processes"):
        vf.run_batch(lambda lf, ctx: lf, config, DATES)
    assert not config.output_dir.exists() or not any(config.output_dir.glob("*.parquet"))


@pytest.mark.slow
def test_killed_mid_write_leaves_nothing_that_would_be_skipped(config, tmp_path):
    script = (
        "import vizflow as vf, sys; from tests import pipelines;"
        f"cfg = vf.Config(input_dir={str(config.input_dir)!r}, output_dir={str(config.output_dir)!r},"
        " input_pattern='{date}.parquet');"
        "vf.run(pipelines.big, cfg, '20240102')"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:  # wait until the temporary file is being written
            if config.output_dir.exists() and list(config.output_dir.glob(".20240102.parquet.*.tmp")):
                break
            if proc.poll() is not None:
                pytest.fail("the writer finished before it could be killed")
            time.sleep(0.005)
        else:
            pytest.fail("no temporary file appeared")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert not config.get_output_path("20240102").exists()
    result = vf.run_local(pipelines.clock, config, ["20240102"])
    assert result.succeeded == ["20240102"]  # not skipped


def test_own_process_pool_still_refuses_a_lambda_before_work(config):
    """Only a stdlib ProcessPoolExecutor pickles with the standard pickle: its check stays."""
    with (
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool,
        pytest.raises(VizflowError, match="cannot be sent to worker processes"),
    ):
        vf.run_batch(lambda lf, ctx: lf, config, DATES, executor=pool)
    assert not any(config.get_output_path(d).exists() for d in DATES)
