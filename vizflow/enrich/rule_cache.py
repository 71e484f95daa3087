"""The on-disk cache of compiled rules: generated modules in a folder the user controls.

numba caches a function on disk only when it is defined in a source file (``cache=True``), and
never a function that receives another compiled function as an argument. A compiled rule is
therefore written as a small module of its own, the rule and the passes that call it, in
:func:`cache_dir`; numba keeps the machine code beside it (``__pycache__``, or under
``NUMBA_CACHE_DIR`` when set). A fresh process (a spawn worker) imports the module and loads the
compiled code from disk instead of compiling it.

The module's name is a hash of its whole text (the rule's source, the values baked into it,
the passes and the record dtype), so a changed rule is a new module; a module is written once
(an atomic hard link, never overwritten) so that workers starting together do not change the
file numba keys its cache on.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import types
    from collections.abc import Mapping

__all__ = ["CACHE_ENV", "cache_dir", "cached_module", "forget_module"]

CACHE_ENV = "VIZFLOW_CACHE_DIR"
"""Environment variable naming the cache folder; empty, ``0`` or ``off`` turns the disk cache off."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the folder of compiled rules: ``$VIZFLOW_CACHE_DIR``, else ``$XDG_CACHE_HOME/vizflow/rules``.

    Without ``XDG_CACHE_HOME`` the default is ``~/.cache/vizflow/rules``. None when the variable
    is set to an empty string, ``0``, ``off`` or ``none`` (rules then compile once per process),
    or when there is no home directory to default to.
    ``environ`` defaults to ``os.environ``.

    Examples
    --------
    >>> cache_dir({"VIZFLOW_CACHE_DIR": "/tmp/my-rules"})
    PosixPath('/tmp/my-rules')
    >>> cache_dir({"VIZFLOW_CACHE_DIR": "off"}) is None
    True
    >>> cache_dir({"XDG_CACHE_HOME": "/var/cache/me"})
    PosixPath('/var/cache/me/vizflow/rules')
    """
    env = os.environ if environ is None else environ
    value = env.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in {"", "0", "off", "none"} else Path(value).expanduser()
    base = env.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (HOME unset, no passwd entry): no disk cache
            return None
    return Path(base) / "vizflow" / "rules"


def cached_module(text: str) -> types.ModuleType | None:
    """Import the module ``text`` from the cache folder, writing it there first if new.

    Returns None when the disk cache is off or the folder cannot be written (the caller then
    compiles in memory).
    """
    folder = cache_dir()
    if folder is None:
        return None
    name = "vizflow_rule_" + hashlib.sha256(text.encode()).hexdigest()[:32]
    path = folder / f"{name}.py"
    try:
        if not path.exists():
            _write_once(folder, path, text)
        if path.read_text() != text:  # a foreign file under our name: do not run it
            return None
    except OSError:
        return None
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None) == str(path):
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # numba rebuilds a cached function's environment by module name
    try:
        spec.loader.exec_module(module)
    except (OSError, ImportError, SyntaxError):  # e.g. the file vanished: compile in memory
        sys.modules.pop(name, None)
        return None
    return module


def forget_module(name: str | None) -> None:
    """Drop a generated module from ``sys.modules`` (its functions live on while referenced)."""
    if name is not None and name.startswith("vizflow_rule_"):
        sys.modules.pop(name, None)


def _write_once(folder: Path, path: Path, text: str) -> None:
    """Write ``path`` atomically unless it exists (a hard link never replaces a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)
        with contextlib.suppress(FileExistsError):  # another process wrote it first: keep theirs
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
