"""Naming a pipeline: ``"module:function"`` to a function and back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["resolve_pipeline"]


def resolve_pipeline(
    target: str | Callable[..., Any], path: str | Path | None = None
) -> tuple[str, Callable[..., Any]]:
    """``"module:function"`` for a pipeline, and the function (importing it if given by name).

    Parameters
    ----------
    target
        A function, or ``"module:function"`` to import.
    path
        The project folder to import ``module`` from (default: the current folder). It is
        searched *after* the installed packages, so a stray ``tqdm.py`` there shadows nothing.

    Returns
    -------
    tuple of (str, callable)
        The name and the function.

    Raises
    ------
    VizflowError
        For a name that is not ``"module:function"`` or cannot be imported; for a lambda, a
        nested function or one defined in ``__main__``: other machines cannot import those by name.

    Examples
    --------
    >>> from vizflow.runner import resolve_pipeline
    >>> name, fn = resolve_pipeline("vizflow.demo:daily_pipeline")
    >>> name, fn.__name__
    ('vizflow.demo:daily_pipeline', 'daily_pipeline')
    """
    if isinstance(target, str):
        module_name, _, name = target.partition(":")
        if not module_name or not name:
            msg = f"pipeline {target!r}: expected 'module:function', e.g. 'mypkg.jobs:daily'"
            raise VizflowError(msg)
        import importlib

        folder = str(Path(path if path is not None else Path.cwd()).resolve())
        if folder not in sys.path:
            sys.path.append(folder)
        try:
            fn = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError) as exc:
            msg = f"pipeline {target!r} cannot be imported (project folder {folder!r}): {exc}"
            raise VizflowError(msg) from None
        return target, fn
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", "")
    why = None
    if qualname == "<lambda>" or "<lambda>" in qualname:
        why = "it is a lambda"
    elif "<locals>" in qualname:
        why = "it is defined inside another function"
    elif module in (None, "__main__"):
        why = "it is defined in __main__ (a script or notebook), which other processes cannot import"
    if why:
        msg = (
            f"pipeline {qualname or target!r} cannot run on a cluster: {why}. Cluster jobs import "
            "the pipeline by name ('module:function'): move it to a module on the workers' path"
        )
        raise VizflowError(msg)
    return f"{module}:{qualname}", target
