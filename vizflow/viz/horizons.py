"""Where a decay curve's points go on its horizon axis: ticks, the ``close`` spot, and group offsets."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["close_position", "dodged", "horizon_ticks"]

_LABELLED = 10  # a log axis labels every horizon up to this many, else 1-2-5 per decade
_AXIS_STEP = 0.012  # at most this fraction of the axis between two groups' points
_AXIS_SPREAD = 0.1  # all groups' points of one horizon within this fraction of the axis
_ROOM = 0.8  # all groups' points of one horizon within this fraction of the gap to its nearest neighbour


def horizon_ticks(horizons: list[float], *, log_x: bool) -> list[float]:
    """Tick positions: the horizons on a log axis (1-2-5 per decade past 10 of them), else a 1-2-5 grid.

    Examples
    --------
    >>> horizon_ticks([1.0, 30.0, 300.0], log_x=True), horizon_ticks([1.0, 30.0, 300.0], log_x=False)
    ([1.0, 30.0, 300.0], [0.0, 100.0, 200.0, 300.0])
    """
    if not horizons:
        return []
    lo, hi = horizons[0], horizons[-1]
    if log_x:
        if len(horizons) <= _LABELLED:
            return horizons
        decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        return [m * 10.0**k for k in decades for m in (1, 2, 5) if lo <= m * 10.0**k <= hi]
    if hi == lo:
        return [lo]
    raw = (hi - lo) / 5
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [k * step for k in range(math.floor(lo / step), math.floor(hi / step) + 1)]


def close_position(ticks: list[float], horizons: list[float], *, log_x: bool) -> float:
    """Where ``close`` is drawn: right of every horizon and tick, a gap apart.

    Examples
    --------
    >>> (
    ...     close_position([0.0, 100.0], [1.0, 60.0], log_x=False),
    ...     close_position([1.0, 60.0], [1.0, 60.0], log_x=True),
    ... )
    (114.85, 180.0)
    """
    if not horizons:
        return 1.0
    right = max(horizons[-1], *ticks)
    if log_x:
        return right * 3
    return right + max((right - horizons[0]) * 0.15, 1.0)


def dodged(spots: Sequence[float], group: int, groups: int, *, log_x: bool) -> list[float]:
    """Return where group ``group`` of ``groups`` draws its points at the sorted positions ``spots``.

    The groups' points at one spot are spread evenly around it, so that their bars do not hide
    each other, by at most 1.2% of the axis between neighbours and 10% in all, and always within
    40% of the gap to the nearest other spot on either side (on a log axis, in log space): a
    point never moves past another horizon, and the order of the horizons is kept.

    Examples
    --------
    >>> [round(x, 3) for x in dodged([1.0, 5.0, 300.0], 0, 2, log_x=False)]  # 1 s and 5 s: 4 s apart
    [0.2, 4.2, 298.206]
    >>> [round(x, 3) for x in dodged([1.0, 5.0, 300.0], 1, 2, log_x=False)]
    [1.8, 5.8, 301.794]
    """
    if groups <= 1 or not spots:
        return list(spots)
    coords = [math.log10(s) for s in spots] if log_x else [float(s) for s in spots]
    span = (coords[-1] - coords[0]) or 1.0
    centred = group - (groups - 1) / 2
    out = []
    for k, c in enumerate(coords):
        gaps = ([c - coords[k - 1]] if k else []) + ([coords[k + 1] - c] if k + 1 < len(coords) else [])
        room = min(gaps) if gaps else span
        step = min(_AXIS_STEP * span, _AXIS_SPREAD * span / groups, _ROOM * room / groups)
        x = c + centred * step
        out.append(10.0**x if log_x else x)
    return out
