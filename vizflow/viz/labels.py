"""Axis labels that show what a bin holds (``56-178 shares``), not its number (``4``)."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Literal

from vizflow.exceptions import VizflowError

_INVERSES: dict[str, Callable[[float], float]] = {"log10": lambda v: 10.0**v, "ln": math.exp}

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["bin_labels", "bin_labels_from_spec"]


def _short(value: float) -> str:
    """Three significant digits, thousands separated: ``1,780``, ``5.62``, ``0.0316``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{float(f'{value:.3g}'):,g}"


def bin_labels(
    width: float,
    *,
    how: Literal["round", "floor"] = "round",
    inverse: Callable[[float], float] | None = None,
    unit: str = "",
) -> Callable[[object], str]:
    """Return a labeller of :func:`vizflow.bin` numbers: bin ``k`` -> the range of values it holds.

    Parameters
    ----------
    width, how
        The ``width`` and ``how`` the bins were made with (``vf.bin(frame, {col: width}, how=how)``):
        ``"round"`` bin ``k`` holds ``[(k - 0.5) width, (k + 0.5) width]``, ``"floor"`` bin ``k``
        ``[k width, (k + 1) width)``.
    inverse
        Maps the binned column back to the quantity a reader knows, e.g. ``lambda v: 10**v`` for a
        bin of ``log10(qty)``.
    unit
        Appended to the range (``"shares"``).

    Returns
    -------
    callable
        ``label(k)``, e.g. for :func:`vizflow.viz.heatmap`'s ``y_labels``; ``None`` (a null bin)
        gives ``"null"``.

    Raises
    ------
    VizflowError
        For a ``width`` that is not a finite number > 0, or an unknown ``how``.

    Examples
    --------
    >>> from vizflow.viz.labels import bin_labels
    >>> shares = bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")
    >>> shares(2), shares(4), shares(None)
    ('5.62-17.8 shares', '56.2-178 shares', 'null')
    >>> bin_labels(1800, how="floor")(3)
    '5,400-7,200'
    """
    if (
        isinstance(width, bool)
        or not isinstance(width, numbers.Real)
        or not math.isfinite(width)
        or width <= 0
    ):
        msg = f"bin_labels: width={width!r}; expected a finite number > 0 (the width the bins were made with)"
        raise VizflowError(msg)
    if how not in ("round", "floor"):
        msg = f"bin_labels: how={how!r}; expected 'round' or 'floor', as given to vf.bin"
        raise VizflowError(msg)
    low = -0.5 if how == "round" else 0.0
    back = inverse or (lambda v: v)
    suffix = f" {unit}" if unit else ""

    def label(k: object) -> str:
        if k is None:
            return "null"
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            msg = f"bin_labels: bin {k!r} is not a bin number; expected the integers vf.bin gives"
            raise VizflowError(msg)
        a, b = back((float(k) + low) * width), back((float(k) + low + 1) * width)
        return f"{_short(a)}-{_short(b)}{suffix}"

    return label


def bin_labels_from_spec(spec: str) -> tuple[str, Callable[[object], str]]:
    """Parse ``COLUMN=WIDTH[,log10|ln][,floor][,UNIT]`` (CLI ``--bin-labels``): the column, its labeller.

    Examples
    --------
    >>> column, label = bin_labels_from_spec("log_qty_bin=0.5,log10,shares")
    >>> column, label(4)
    ('log_qty_bin', '56.2-178 shares')
    >>> bin_labels_from_spec("half_hour=1800,floor")[1](2)
    '3,600-5,400'
    """
    column, _, rest = spec.partition("=")
    parts = [p.strip() for p in rest.split(",")]
    try:
        width = float(parts[0])
    except ValueError:
        width = math.nan
    if not column or not math.isfinite(width):
        msg = (
            f"bin_labels: {spec!r} is not COLUMN=WIDTH[,log10|ln][,floor][,UNIT]; "
            "e.g. 'log_qty_bin=0.5,log10,shares'"
        )
        raise VizflowError(msg)
    inverse = next((_INVERSES[p] for p in parts[1:] if p in _INVERSES), None)
    how: Literal["round", "floor"] = "floor" if "floor" in parts[1:] else "round"
    unit = " ".join(p for p in parts[1:] if p and p not in _INVERSES and p != "floor")
    return column.strip(), bin_labels(width, how=how, inverse=inverse, unit=unit)
