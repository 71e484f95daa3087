"""The vizflow command line, through subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import vizflow as vf

ROOT = Path(__file__).resolve().parents[1]


def vizflow(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vizflow", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _project(tmp_path: Path, dates: list[str]) -> Path:
    for i, day in enumerate(dates):
        vf.save(
            vf.datasets.synthetic_trades(day, 2, trades_per_symbol=10, seed=i),
            tmp_path / "in" / f"{day}.parquet",
        )
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('input_dir = "in"\noutput_dir = "out"\ninput_pattern = "{date}.parquet"\nmarket = "CN"\n')
    return cfg


def test_run_one_date(tmp_path):
    cfg = _project(tmp_path, ["20240102"])
    done = vizflow("run", "tests.pipelines:clock", "--config", str(cfg), "--date", "20240102")
    assert done.returncode == 0, done.stderr
    assert "1 succeeded, 0 skipped, 0 failed" in done.stdout
    assert (tmp_path / "out" / "20240102.parquet").exists()


def test_run_date_range_uses_the_trading_calendar(tmp_path):
    # 2024-02-08 .. 2024-02-19 spans the Spring Festival: only 08 and 19 trade (shipped XSHG).
    cfg = _project(tmp_path, ["20240208", "20240219"])
    done = vizflow(
        "run", "tests.pipelines:clock", "--config", str(cfg), "--dates", "20240208:20240219", "--workers", "1"
    )
    assert done.returncode == 0, done.stderr
    assert "2 succeeded" in done.stdout


def test_failed_date_gives_nonzero_exit(tmp_path):
    cfg = _project(tmp_path, ["20240102", "20240103"])
    dates = tmp_path / "dates.txt"
    dates.write_text("20240102\n20240103\n20240104\n")
    done = vizflow(
        "run",
        "tests.pipelines:fails_on_0103",
        "--config",
        str(cfg),
        "--dates-file",
        str(dates),
        "--workers",
        "1",
    )
    assert done.returncode == 1
    assert "1 succeeded, 0 skipped, 2 failed" in done.stdout
    assert "boom on purpose" in done.stdout


def test_bad_pipeline_name(tmp_path):
    cfg = _project(tmp_path, ["20240102"])
    done = vizflow("run", "tests.pipelines:nope", "--config", str(cfg), "--date", "20240102")
    assert done.returncode == 2
    assert "cannot be imported" in done.stderr


def test_help_lists_commands():
    done = vizflow("--help")
    assert done.returncode == 0
    assert "run" in done.stdout
    assert "demo" in done.stdout
