"""Job commands for a cluster scheduler: one ``vizflow run`` line per date."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from vizflow.config import Config, format_date
from vizflow.exceptions import VizflowError
from vizflow.runner.pipeline import resolve_pipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from vizflow._typing import DateLike

__all__ = ["DEFAULT_TEMPLATE", "run_cluster"]

DEFAULT_TEMPLATE = 'ailab create job --name=vf_{date} --command "{command}"'
"""The plan's cluster job command; ``{command}`` is the ``vizflow run`` line for one date."""


def run_cluster(
    pipeline_fn: str | Callable[..., Any],
    config: Config | str | Path,
    dates: Iterable[DateLike],
    template: str = DEFAULT_TEMPLATE,
) -> list[str]:
    """One job command per date for a cluster scheduler's command line.

    Each job runs ``vizflow run module:function --config <toml> --date <date>``.

    Parameters
    ----------
    pipeline_fn
        An importable function, or ``"module:function"``.
    config
        The config TOML path the jobs read (or a :class:`Config` loaded with
        :meth:`Config.from_toml`, which remembers its file).
    dates
        The dates, one job each.
    template
        The job line; ``{date}``, ``{command}`` (the ``vizflow run`` line), ``{target}`` and
        ``{config}`` are filled in. Default: the plan's ``ailab create job --name=vf_{date} ...``.
        Slurm: ``'sbatch --job-name=vf_{date} --wrap "{command}"'``.

    Returns
    -------
    list of str
        The commands, in date order; vizflow submits nothing itself.

    Examples
    --------
    >>> import vizflow as vf
    >>> for line in vf.run_cluster("jobs.daily:pipeline", "cfg.toml", ["20240102"]):
    ...     print(line)
    ailab create job --name=vf_20240102 --command "vizflow run jobs.daily:pipeline --config cfg.toml
    --date 20240102"
    >>> slurm = 'sbatch --job-name=vf_{date} --wrap "{command}"'
    >>> for line in vf.run_cluster("jobs.daily:pipeline", "cfg.toml", ["20240102"], template=slurm):
    ...     print(line)
    sbatch --job-name=vf_20240102 --wrap "vizflow run jobs.daily:pipeline --config cfg.toml
    --date 20240102"
    """
    if isinstance(pipeline_fn, str):
        target = pipeline_fn  # imported on the cluster, not here
        module, _, name = target.partition(":")
        if not module or not name:
            msg = f"pipeline {target!r}: expected 'module:function', e.g. 'mypkg.jobs:daily'"
            raise VizflowError(msg)
    else:
        target, _ = resolve_pipeline(pipeline_fn)
    if isinstance(config, Config):
        if config.source is None:
            msg = (
                "run_cluster: the jobs need the config as a TOML file; load it with "
                "Config.from_toml(path) or pass the path"
            )
            raise VizflowError(msg)
        config = config.source
    cfg = shlex.quote(str(config))
    commands = []
    for day in sorted(dict.fromkeys(format_date(d) for d in dates)):
        command = f"vizflow run {shlex.quote(target)} --config {cfg} --date {day}"
        commands.append(template.format(date=day, command=command, target=target, config=cfg))
    return commands
