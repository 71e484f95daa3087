"""Job commands for a cluster scheduler: ``vizflow run`` lines in which every value is data.

Each value put into a command (pipeline, config path, date, output path) is quoted once for the
POSIX shell (sh, bash, zsh) that runs the command, with :func:`shlex.quote`. A value that travels
one shell deeper (the job script Slurm's ``--wrap`` runs under ``sh``) is quoted for that shell
first, and the quoted script is then quoted again, as one word, for the outer shell.
"""

from __future__ import annotations

import hashlib
import shlex
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizflow.config import Config, format_date
from vizflow.exceptions import VizflowError
from vizflow.runner.pipeline import resolve_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from vizflow._typing import DateLike

__all__ = ["PLACEHOLDERS", "SLURM_MAX_ARRAY", "TEMPLATES", "run_cluster"]

TEMPLATES = {
    "shell": "{line}",
    "slurm": "sbatch --job-name=vf_{date} --wrap {command}",
}
"""The named per-date templates: ``"shell"`` is the ``vizflow run`` line itself (run it, or feed
it to GNU parallel); ``"slurm"`` one ``sbatch`` job per date. ``"slurm-array"`` (one array job
for all dates) is built by :func:`run_cluster` itself."""

PLACEHOLDERS = ("command", "config", "date", "line", "output", "target")
"""What a template may contain: ``{line}`` (the ``vizflow run`` line, as separate words: ``srun
{line}``), ``{command}`` (the same line as one word, for options such as ``--wrap {command}``),
``{config}`` (the TOML path), ``{date}``, ``{output}`` (the date's output file) and ``{target}``
(``module:function``)."""

SLURM_MAX_ARRAY = 1000
"""Dates per Slurm array job: Slurm's default ``MaxArraySize`` (1001) allows indices 0-1000."""


def _check_template(template: str) -> None:
    """Refuse unknown placeholders, and placeholders inside quotes (which would undo the quoting)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        msg = f"run_cluster: template {template!r} is not a valid template ({exc}); braces are {{{{ }}}}"
        raise VizflowError(msg) from None
    quote, escaped = "", False
    for literal, name, spec, conv in parts:
        for ch in literal:
            if escaped:
                escaped = False
            elif quote == "'":
                quote = "" if ch == "'" else quote
            elif ch == "\\":
                escaped = True
            elif quote == '"':
                quote = "" if ch == '"' else quote
            elif ch in "'\"":
                quote = ch
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conv:
            msg = (
                f"run_cluster: template {template!r} has an unknown placeholder {{{name}}}; "
                f"known: {['{' + p + '}' for p in PLACEHOLDERS]}"
            )
            raise VizflowError(msg)
        if quote or escaped:
            msg = (
                f"run_cluster: template {template!r} puts {{{name}}} inside quotes, which would undo "
                f"its quoting: write {{{name}}} bare (vizflow quotes every value for the shell)"
            )
            raise VizflowError(msg)


def _target(pipeline_fn: str | Callable[..., Any]) -> str:
    if not isinstance(pipeline_fn, str):
        return resolve_pipeline(pipeline_fn)[0]
    module, _, name = pipeline_fn.partition(":")
    if not module or not name:
        msg = f"run_cluster: pipeline {pipeline_fn!r}: expected 'module:function', e.g. 'mypkg.jobs:daily'"
        raise VizflowError(msg)
    return pipeline_fn  # imported on the cluster, not here


def _read_back(path: Path) -> Config | None:
    """Return the config in ``path`` as it is now, or None (no file, or no longer a valid config)."""
    try:
        return Config.from_toml(path)
    except (OSError, VizflowError):
        return None


def _config_file(config: Config | str | Path) -> tuple[Config, Path]:
    """Return the config and the TOML file the jobs read: its own file, or one written for it."""
    if not isinstance(config, Config):
        path = Path(config).absolute()
        return Config.from_toml(path), path
    if config.source is not None and _read_back(config.source) == config:
        return config, config.source.absolute()
    text = config.as_toml()  # in memory, or changed since it was read: write it beside the outputs
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    path = (config.output_dir / f"vizflow-config-{digest}.toml").absolute()
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        config.to_toml(path)
    return config, path


def _slurm_arrays(vizflow_run: list[str], days: list[str]) -> list[str]:
    commands = []
    for start in range(0, len(days), SLURM_MAX_ARRAY):
        chunk = days[start : start + SLURM_MAX_ARRAY]
        # dates are 8 digits (format_date) and "$1" is the job shell's own variable: code, not data
        script = (
            f'set -- {" ".join(chunk)}; shift "$SLURM_ARRAY_TASK_ID"; '
            f'exec {shlex.join(vizflow_run)} --date "$1"'
        )
        name = f"vf_{chunk[0]}-{chunk[-1]}"
        commands.append(f"sbatch --job-name={name} --array=0-{len(chunk) - 1} --wrap {shlex.quote(script)}")
    return commands


def run_cluster(
    pipeline_fn: str | Callable[..., Any],
    config: Config | str | Path,
    dates: Iterable[DateLike],
    template: str = "shell",
) -> list[str]:
    """Job commands that run ``pipeline_fn`` over ``dates`` on a cluster, one ``vizflow run`` per date.

    Each job runs ``vizflow run module:function --config <toml> --date <YYYYMMDD>``. vizflow
    submits nothing: print the commands, or run them in a shell.

    Parameters
    ----------
    pipeline_fn
        An importable function, or ``"module:function"``.
    config
        A config TOML path, or a :class:`Config`. A config not read from a TOML file (or changed
        since) is written once to ``output_dir/vizflow-config-<hash>.toml``, the file the jobs read.
    dates
        The dates, one job each (duplicates ignored, in date order).
    template
        ``"shell"`` (default: the ``vizflow run`` lines themselves), ``"slurm"`` (one ``sbatch
        --wrap`` job per date), ``"slurm-array"`` (one ``sbatch --array`` job for all dates, in
        chunks of :data:`SLURM_MAX_ARRAY`), or your own line with the :data:`PLACEHOLDERS`, e.g.
        ``"qsub -N vf_{date} -- {command}"``. Every value is quoted for a POSIX shell: write the
        placeholders bare, never inside quotes (refused, since quotes would undo the quoting).

    Returns
    -------
    list of str
        The commands, in date order.

    Raises
    ------
    VizflowError
        For a pipeline other machines cannot import by name, an unknown or quoted placeholder,
        or a date whose output would overwrite one of its inputs (see
        :meth:`Config.check_no_input_overwrite`).

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> cfg = vf.Config(input_dir=root / "in", output_dir=root / "out").to_toml(root / "my cfg.toml")
    >>> for line in vf.run_cluster("jobs.daily:pipeline", cfg, ["20240102", "20240103"]):
    ...     print(line.replace(str(root), "/r"))
    vizflow run jobs.daily:pipeline --config '/r/my cfg.toml' --date 20240102
    vizflow run jobs.daily:pipeline --config '/r/my cfg.toml' --date 20240103
    >>> for line in vf.run_cluster("jobs.daily:pipeline", cfg, ["20240102"], "slurm"):
    ...     print(line.replace(str(root), "/r"))
    sbatch --job-name=vf_20240102 --wrap 'vizflow run jobs.daily:pipeline --config '"'"'/r/my cfg.toml'"'"'
    --date 20240102'
    """
    target = _target(pipeline_fn)
    if isinstance(dates, str):
        msg = f"run_cluster: dates must be a list of dates, got the string {dates!r}; write [{dates!r}]"
        raise VizflowError(msg)
    days = sorted(dict.fromkeys(format_date(d) for d in dates))
    if template not in (*TEMPLATES, "slurm-array"):
        _check_template(template)
    cfg, toml = _config_file(config)
    cfg.check_no_input_overwrite(days)
    vizflow_run = ["vizflow", "run", target, "--config", str(toml)]
    if template == "slurm-array":
        return _slurm_arrays(vizflow_run, days) if days else []
    line = TEMPLATES.get(template, template)
    commands = []
    for day in days:
        words = shlex.join([*vizflow_run, "--date", day])
        values = {
            "command": shlex.quote(words),
            "config": shlex.quote(str(toml)),
            "date": shlex.quote(day),
            "line": words,
            "output": shlex.quote(str(cfg.get_output_path(day).absolute())),
            "target": shlex.quote(target),
        }
        commands.append(line.format(**values))
    return commands
