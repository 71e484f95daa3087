"""Confidence bands on clustered means: their half-width, their label and why a point has none.

Every band vizflow draws is ``t_quantile(0.975, G - 1) x se``: ``se`` the cluster-robust standard
error of :func:`vizflow.finalize` (``{v}_se``) and ``G`` its cluster count (``{v}_clusters``), so
three dates give 4.30 se, not 1.96. A band says what it is ("95% CI, clustered by date,
3 dates"), and a point with fewer than two clusters has none and says why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vizflow.student import ci_halfwidth, t_quantile

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ANY", "LEVEL", "MIN_CLUSTERS", "band_hover", "band_label", "halfwidth", "plural"]

LEVEL = 0.95
"""The confidence level of every band drawn."""

ANY = "cluster"
"""The noun of clusters that are nothing in particular (rows without a date or clock column: one)."""

MIN_CLUSTERS = 2
"""A clustered standard error needs at least this many clusters (``G - 1`` degrees of freedom)."""

_IRREGULAR = {"half hour": "half hours", "date": "dates", "day": "days"}


def plural(noun: str, count: int) -> str:
    """Return ``"3 dates"``, ``"1 date"``: a count of clusters with its noun.

    Examples
    --------
    >>> plural("date", 3), plural("half hour", 1), plural("symbol", 0)
    ('3 dates', '1 half hour', '0 symbols')
    """
    return f"{count:,} {noun if count == 1 else _IRREGULAR.get(noun, noun + 's')}"


def halfwidth(se: float | None, clusters: int | None) -> float | None:
    """Return the band's half-width ``t(0.975, G - 1) x se``; ``None`` without ``se`` or with ``G < 2``.

    Examples
    --------
    >>> round(halfwidth(1.0, 3), 4), halfwidth(1.0, 1), halfwidth(None, 5)
    (4.3027, None, None)
    """
    if se is None or (isinstance(se, float) and math.isnan(se)):
        return None
    return ci_halfwidth(se, None if clusters is None else int(clusters), LEVEL)


def _span(counts: Iterable[int | None]) -> tuple[int, int] | None:
    seen = [int(c) for c in counts if c is not None]
    return (min(seen), max(seen)) if seen else None


def band_label(clustered_by: str, counts: Iterable[int | None]) -> str:
    """Return what a band is: ``"95% CI, clustered by date, 3 dates"`` (a range when points differ).

    Examples
    --------
    >>> band_label("date", [3, 3])
    '95% CI, clustered by date, 3 dates'
    >>> band_label("half hour", [1, 8, 5])
    '95% CI, clustered by half hour, 1-8 half hours (no band where < 2)'
    >>> band_label("cluster", [1])
    '95% CI, 1 cluster (no band where < 2)'
    """
    span = _span(counts)
    by = "" if clustered_by == ANY else f", clustered by {clustered_by}"
    if span is None:
        return f"{LEVEL:.0%} CI{by}: no cluster counts"
    lo, hi = span
    many = plural(clustered_by, hi) if lo == hi else f"{lo:,}-{plural(clustered_by, hi)}"
    none = f" (no band where < {MIN_CLUSTERS})" if lo < MIN_CLUSTERS else ""
    return f"{LEVEL:.0%} CI{by}, {many}{none}"


def band_hover(se: float | None, clusters: int | None, clustered_by: str, *, fmt: str = ".3g") -> str:
    """Return a point's band on hover, or why it has none.

    Examples
    --------
    >>> band_hover(0.5, 3, "date")
    '+/- 2.15 (95% CI: t(2) 4.303 x se 0.5, 3 dates)'
    >>> band_hover(0.5, 1, "date")
    'no band: 1 date (a clustered CI needs 2 or more)'
    >>> band_hover(None, 4, "date")
    'no band: no standard error (fewer than 2 values, or no spread)'
    """
    if clusters is None:
        return f"no band: the table has no cluster count (clustered by {clustered_by}?)"
    if clusters < MIN_CLUSTERS:
        return f"no band: {plural(clustered_by, clusters)} (a clustered CI needs {MIN_CLUSTERS} or more)"
    half = halfwidth(se, clusters)
    if half is None or se is None:
        return "no band: no standard error (fewer than 2 values, or no spread)"
    q = t_quantile((1 + LEVEL) / 2, clusters - 1)
    return (
        f"+/- {half:{fmt}} ({LEVEL:.0%} CI: t({clusters - 1}) {q:.4g} x se {se:{fmt}}, "
        f"{plural(clustered_by, clusters)})"
    )
