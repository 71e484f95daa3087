"""The vizflow command line, through subprocess."""

from __future__ import annotations

import os
import signal
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


def test_regression_current_folder_does_not_shadow_installed_packages(tmp_path):
    """B9: `vizflow run` put the current folder first on sys.path, so a tqdm.py there ran."""
    cfg = _project(tmp_path, ["20240102"])
    (tmp_path / "tqdm.py").write_text(
        "open('SHADOWED', 'w').close()\nraise SystemExit('shadowed tqdm ran')\n"
    )
    (tmp_path / "jobs.py").write_text("import tqdm\nfrom tests.pipelines import clock\n")
    env_root = str(ROOT)  # tests.pipelines comes from the repository, the project folder adds jobs.py
    done = subprocess.run(
        [str(Path(sys.executable).parent / "vizflow"), "run", "jobs:clock", "--config", str(cfg),
         "--date", "20240102"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": env_root},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "SHADOWED").exists()
    assert "1 succeeded" in done.stdout


def test_path_names_the_project_folder(tmp_path):
    cfg = _project(tmp_path, ["20240102"])
    project = tmp_path / "project"
    project.mkdir()
    (project / "myjobs.py").write_text("from tests.pipelines import clock as daily\n")
    done = vizflow("run", "myjobs:daily", "--config", str(cfg), "--date", "20240102", "--path", str(project))
    assert done.returncode == 0, done.stderr
    missing = vizflow("run", "myjobs:daily", "--config", str(cfg), "--date", "20240102")
    assert missing.returncode == 2
    assert "myjobs:daily' cannot be imported (project folder" in missing.stderr


def test_regression_date_beyond_the_calendar_is_a_failure_not_a_skip(tmp_path):
    """B2: on CN a date past the shipped calendar printed '0 succeeded, 1 skipped' and exited 0."""
    cfg = _project(tmp_path, ["20270104"])
    done = vizflow("run", "tests.pipelines:clock", "--config", str(cfg), "--date", "20270104")
    assert done.returncode == 1
    assert "0 succeeded, 0 skipped, 1 failed" in done.stdout
    assert "20270104 is outside the XSHG calendar, which covers 19910101..20261231" in done.stdout
    ranged = vizflow("run", "tests.pipelines:clock", "--config", str(cfg), "--dates", "20261228:20270108")
    assert ranged.returncode == 2
    assert "20270108 is outside the XSHG calendar" in ranged.stderr


def test_regression_calendar_file_carries_cn_runs_past_the_shipped_year(tmp_path):
    """Issue 21: past 20261231 every CN run failed; --calendar (or the config's key) extends XSHG."""
    cfg = _project(tmp_path, ["20261231", "20270104", "20270105"])
    closures = tmp_path / "xshg_2027.csv"  # illustrative, in the shape an exchange announces
    closures.write_text("# span: 20270101..20271231\nholiday\n20270101\n")
    done = vizflow(
        "run", "tests.pipelines:clock", "--config", str(cfg), "--dates", "20261231:20270105",
        "--calendar", str(closures), "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 succeeded, 0 skipped, 0 failed" in done.stdout
    cfg.write_text(cfg.read_text() + 'calendar = "xshg_2027.csv"\n')  # relative to the TOML file
    listed = tmp_path / "dates.txt"
    listed.write_text("20261231\n20270101\n20270104\n")
    again = vizflow(
        "run", "tests.pipelines:clock", "--config", str(cfg), "--dates-file", str(listed),
        "--workers", "1", "--overwrite",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "2 succeeded, 1 skipped, 0 failed" in again.stdout  # 20270101 is a closure


def test_crypto_date_range_is_every_calendar_day(tmp_path):
    days = ["20240105", "20240106", "20240107", "20240108"]  # Friday to Monday
    cfg = _project(tmp_path, days)
    cfg.write_text(cfg.read_text().replace('market = "CN"', 'market = "CRYPTO"'))
    done = vizflow(
        "run", "tests.pipelines:clock", "--config", str(cfg), "--dates", "20240105:20240108", "--workers", "1"
    )
    assert done.returncode == 0, done.stderr
    assert "4 succeeded, 0 skipped, 0 failed" in done.stdout
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.parquet")) == days


def test_regression_failure_summary_is_printed_once(tmp_path):
    """B10: each failure was printed twice, on stdout and (through logging) on stderr."""
    cfg = _project(tmp_path, ["20240102", "20240103"])
    done = vizflow(
        "run", "tests.pipelines:fails_on_0103", "--config", str(cfg), "--dates", "20240102:20240103",
        "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 1
    assert (done.stdout + done.stderr).count("boom on purpose") == 1
    verbose = vizflow(
        "run", "tests.pipelines:fails_on_0103", "--config", str(cfg), "--dates", "20240102:20240103",
        "--workers", "1", "--overwrite", "-v",
    )  # fmt: skip
    assert "Traceback" in verbose.stderr
    assert "fails_on_0103" in verbose.stderr


def test_bad_numbers_are_usage_errors_and_handlers_are_restored(tmp_path, capsys):
    from vizflow.cli import main

    cfg = _project(tmp_path, ["20240102", "20240103"])
    before = signal.getsignal(signal.SIGTERM)
    code = main(["run", "tests.pipelines:clock", "--config", str(cfg), "--dates", "20240102:20240103",
                 "--retries", "-1"])  # fmt: skip
    assert code == 2
    assert "run_batch: retries=-1; expected an integer >= 0" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before
