"""Import helpers for the optional extras (``viz``, ``dask``, ``calendars``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType


def import_optional(module: str, *, extra: str) -> ModuleType:
    """Import ``module``, or explain which vizflow extra provides it.

    Parameters
    ----------
    module
        Dotted module name, e.g. ``"plotly.graph_objects"``.
    extra
        The vizflow extra that installs it, e.g. ``"viz"``.

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    ImportError
        If the module is not installed; the message gives the ``pip install`` command.

    Examples
    --------
    >>> import_optional("math", extra="dev").sqrt(4.0)
    2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = f"{module!r} is required for this feature: pip install 'vizflow[{extra}]'"
        raise ImportError(msg) from exc
