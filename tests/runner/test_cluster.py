"""run_cluster: job commands are data, never code (run under bash and sh with fake schedulers)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import vizflow as vf
from tests import pipelines
from vizflow.exceptions import VizflowError

DAYS = ["20240102", "20240103", "20240104"]
HOSTILE = [
    "cfg$(touch X).toml",
    "cfg`touch X`.toml",
    'a" ; touch X ; echo "',
    "$HOME",
    "it's",
    "semi;touch X&&touch X|touch X",
    "new\nline touch X",
    "back\\slash \\$(touch X)",
    "glob*?[x] ~",
    "-dash",
    "ünïcödé {date}",
]
HOSTILE_TARGETS = [
    "jobs.daily:pipe$(touch X)",
    "jobs.daily:`touch X`",
    'jobs.daily:a" ; touch X ; echo "',
    "jobs.daily:it's $HOME",
]


class Shell:
    """Fake ``sbatch`` / ``vizflow`` / ``mysubmit`` on PATH that record the arguments they receive."""

    def __init__(self, root: Path) -> None:
        self.bin, self.log, self.cwd = root / "bin", root / "calls.jsonl", root / "cwd"
        self.bin.mkdir()
        self.cwd.mkdir()
        for name in ("sbatch", "vizflow", "mysubmit"):
            fake = self.bin / name
            fake.write_text(
                f"#!{sys.executable}\nimport json, os, sys\n"
                "with open(os.environ['FAKE_LOG'], 'a') as f:\n"
                "    f.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + '\\n')\n"
            )
            fake.chmod(0o755)

    def run(self, shell: str, line: str, **env: str) -> list[list[str]]:
        """Run ``line`` under ``shell``; return the calls the fakes recorded (then forget them)."""
        environ = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(self.log),
        }
        subprocess.run([shell, "-c", line], cwd=self.cwd, env=environ | env, check=True, timeout=60)
        assert not (self.cwd / "X").exists(), f"{line!r} ran a command"
        calls = [json.loads(c) for c in self.log.read_text().splitlines()] if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return calls


@pytest.fixture
def shell(tmp_path) -> Shell:
    return Shell(tmp_path)


def _toml(root: Path, folder: str, name: str) -> Path:
    cfg = vf.Config(input_dir=root / "in", output_dir=root / "out", input_pattern="{date}.parquet")
    return cfg.to_toml(root / folder / name)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_regression_hostile_config_path_reaches_sbatch_and_the_job_literally(tmp_path, shell, hostile):
    toml = _toml(tmp_path, hostile, hostile + ".toml")
    job_argv = ["vizflow", "run", "tests.pipelines:clock", "--config", str(toml), "--date", "20240102"]
    (line,) = vf.run_cluster("tests.pipelines:clock", str(toml), ["20240102"], template="slurm")
    ((name, *argv),) = shell.run("bash", line)
    assert (name, argv[:2]) == ("sbatch", ["--job-name=vf_20240102", "--wrap"])
    assert shell.run("sh", argv[2]) == [job_argv]  # the job script Slurm runs under sh
    (line,) = vf.run_cluster("tests.pipelines:clock", toml, ["20240102"])  # plain shell line
    assert shell.run("bash", line) == [job_argv]
    assert shell.run("sh", line) == [job_argv]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_regression_hostile_target_is_one_literal_argument(tmp_path, shell, target):
    toml = _toml(tmp_path, "cfg", "cfg.toml")
    for template in ("shell", "slurm", "mysubmit --target {target} --config {config} -- {line}"):
        (line,) = vf.run_cluster(target, toml, ["20240102"], template=template)
        ((name, *argv),) = shell.run("bash", line)
        if name == "sbatch":
            ((name, *argv),) = shell.run("sh", argv[-1])
        if name == "mysubmit":
            assert argv[:4] == ["--target", target, "--config", str(toml)]
            argv = argv[6:]  # after "--", "vizflow"
        assert argv == ["run", target, "--config", str(toml), "--date", "20240102"]


def test_regression_user_template_every_placeholder_is_quoted(tmp_path, shell):
    toml = _toml(tmp_path, HOSTILE[0], HOSTILE[2] + ".toml")
    template = "mysubmit --name vf_{date} --config {config} --out {output} --target {target} --cmd {command}"
    lines = vf.run_cluster(HOSTILE_TARGETS[0], toml, DAYS, template=template)
    assert len(lines) == len(DAYS)
    for day, line in zip(DAYS, lines, strict=True):
        ((name, *argv),) = shell.run("bash", line)
        assert name == "mysubmit"
        out = str(tmp_path / "out" / f"{day}.parquet")
        assert argv[:9] == [
            "--name",
            f"vf_{day}",
            "--config",
            str(toml),
            "--out",
            out,
            "--target",
            HOSTILE_TARGETS[0],
            "--cmd",
        ]
        job = ["vizflow", "run", HOSTILE_TARGETS[0], "--config", str(toml), "--date", day]
        assert shell.run("sh", argv[9]) == [job]


@pytest.mark.parametrize(
    "template",
    [
        'ailab create job --name=vf_{date} --command "{command}"',  # the old default
        "sbatch --wrap '{command}'",
        'mysubmit "--config={config}"',
        "mysubmit \\{target}",
        "mysubmit '{{' {date} \"x {output}\"",
    ],
)
def test_regression_placeholder_inside_quotes_refused(tmp_path, template):
    with pytest.raises(VizflowError, match=r"inside quotes, which would undo its quoting"):
        vf.run_cluster("jobs.daily:pipe", _toml(tmp_path, "c", "cfg.toml"), DAYS, template=template)


@pytest.mark.parametrize("template", ["sbatch {cfg}", "x {date:>10}", "x {date!r}", "x {0}", "x {date"])
def test_unknown_or_malformed_placeholder_refused(tmp_path, template):
    with pytest.raises(VizflowError, match=r"unknown placeholder|not a valid template"):
        vf.run_cluster("jobs.daily:pipe", _toml(tmp_path, "c", "cfg.toml"), DAYS, template=template)


def test_quotes_around_literal_text_are_fine(tmp_path, shell):
    toml = _toml(tmp_path, "c", "cfg.toml")
    (line,) = vf.run_cluster("jobs.d:p", toml, ["20240102"], template="mysubmit 'a {{b}}' \"$X\" {date}")
    assert shell.run("bash", line, X="x y") == [["mysubmit", "a {b}", "x y", "20240102"]]


def test_slurm_array_one_job_runs_each_date_once(tmp_path, shell):
    toml = _toml(tmp_path, HOSTILE[1], HOSTILE[4] + ".toml")
    (line,) = vf.run_cluster(HOSTILE_TARGETS[2], toml, [*reversed(DAYS), DAYS[0]], template="slurm-array")
    ((name, *argv),) = shell.run("bash", line)
    assert name == "sbatch"
    assert argv[:3] == ["--job-name=vf_20240102-20240104", "--array=0-2", "--wrap"]
    for index, day in enumerate(DAYS):
        job = ["vizflow", "run", HOSTILE_TARGETS[2], "--config", str(toml), "--date", day]
        assert shell.run("sh", argv[3], SLURM_ARRAY_TASK_ID=str(index)) == [job]


def test_slurm_array_is_split_at_slurms_default_max_array_size(tmp_path, shell):
    start = dt.date(2010, 1, 1)
    days = [(start + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(2345)]
    lines = vf.run_cluster("jobs.d:p", _toml(tmp_path, "c", "cfg.toml"), days, template="slurm-array")
    arrays = [shlex.split(line) for line in lines]
    assert [a[2] for a in arrays] == ["--array=0-999", "--array=0-999", "--array=0-344"]
    seen = []
    for argv in arrays:
        size = int(argv[2].rpartition("-")[2]) + 1
        for index in (0, size - 1):
            ((_, *job),) = shell.run("sh", argv[-1], SLURM_ARRAY_TASK_ID=str(index))
            seen.append(job[-1])
    assert seen == [days[0], days[999], days[1000], days[1999], days[2000], days[2344]]


def test_regression_in_memory_config_is_written_once_beside_the_outputs(tmp_path, shell):
    cfg = vf.Config(
        input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="trades/{date}.parquet",
        columns={"price": "mid"}, sources={"quotes": "quotes/{date}.parquet"},
    )  # fmt: skip
    first = vf.run_cluster(pipelines.clock, cfg, DAYS)
    written = list((tmp_path / "out").glob("vizflow-config-*.toml"))
    assert len(written) == 1
    assert vf.Config.from_toml(written[0]) == cfg
    for day, line in zip(DAYS, first, strict=True):
        assert shell.run("bash", line) == [
            ["vizflow", "run", "tests.pipelines:clock", "--config", str(written[0]), "--date", day]
        ]
    assert vf.run_cluster(pipelines.clock, cfg, DAYS) == first
    assert list((tmp_path / "out").glob("vizflow-config-*.toml")) == written


def test_config_read_from_toml_uses_its_file_unless_changed_since(tmp_path):
    toml = _toml(tmp_path, "c", "cfg.toml")
    cfg = vf.Config.from_toml(toml)
    assert vf.run_cluster("jobs.d:p", cfg, ["20240102"]) == [
        f"vizflow run jobs.d:p --config {toml} --date 20240102"
    ]
    changed = dataclasses.replace(cfg, columns={"price": "mid"})  # keeps .source: now stale
    (line,) = vf.run_cluster("jobs.d:p", changed, ["20240102"])
    used = Path(shlex.split(line)[4])
    assert used != toml
    assert vf.Config.from_toml(used) == changed


def test_regression_cluster_refuses_output_over_input(tmp_path):
    cfg = vf.Config(input_dir=tmp_path, output_dir=tmp_path, input_pattern="{date}.parquet")
    with pytest.raises(VizflowError, match="would overwrite the raw data"):
        vf.run_cluster("jobs.d:p", cfg, DAYS)


def _nested():
    def inner(lf, ctx):
        return lf

    return inner


def test_run_cluster_needs_importable_pipelines_and_a_list_of_dates(tmp_path):
    toml = _toml(tmp_path, "c", "cfg.toml")
    with pytest.raises(VizflowError, match="it is a lambda"):
        vf.run_cluster(lambda lf, ctx: lf, toml, DAYS)
    with pytest.raises(VizflowError, match="defined inside another function"):
        vf.run_cluster(_nested(), toml, DAYS)
    with pytest.raises(VizflowError, match="expected 'module:function'"):
        vf.run_cluster("nocolon", toml, DAYS)
    with pytest.raises(VizflowError, match="dates must be a list of dates, got the string '20240102'"):
        vf.run_cluster("jobs.d:p", toml, "20240102")
    with pytest.raises(FileNotFoundError):
        vf.run_cluster("jobs.d:p", tmp_path / "missing.toml", DAYS)
    assert vf.run_cluster("jobs.d:p", toml, [], template="slurm-array") == []


@pytest.mark.slow
def test_shell_lines_run_the_real_cli_under_hostile_paths(tmp_path):
    root = tmp_path / HOSTILE[0] / HOSTILE[2]
    for day in DAYS[:2]:
        trades = vf.datasets.synthetic_trades(day, n_symbols=2, trades_per_symbol=10)
        vf.save(trades, root / HOSTILE[3] / f"{day}.parquet")
    cfg = vf.Config(input_dir=root / HOSTILE[3], output_dir=root / HOSTILE[4], input_pattern="{date}.parquet")
    bin_dir = Path(sys.executable).parent  # the environment's own `vizflow` script
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for line in vf.run_cluster(pipelines.clock, cfg, DAYS[:2]):
        subprocess.run(
            ["bash", "-c", line], cwd=Path(__file__).resolve().parents[2], env=env, check=True, timeout=300
        )
    assert not list(tmp_path.rglob("X"))
    for day in DAYS[:2]:
        assert vf.load(cfg.get_output_path(day)).collect()["date"].to_list() == [day, day]


def test_config_whose_file_was_since_broken_or_removed_is_written_anew(tmp_path):
    toml = _toml(tmp_path, "c", "cfg.toml")
    cfg = vf.Config.from_toml(toml)
    for damage in ("input_dir = ", None):
        if damage is None:
            toml.unlink()
        else:
            toml.write_text(damage)
        (line,) = vf.run_cluster("jobs.d:p", cfg, ["20240102"])
        used = Path(shlex.split(line)[4])
        assert used.parent == cfg.output_dir
        assert vf.Config.from_toml(used) == cfg
