"""Student's t quantiles for confidence bands, without scipy.

A cluster-robust standard error from ``G`` clusters has ``G - 1`` degrees of freedom, so a 95%
band is ``t_quantile(0.975, G - 1) x se`` (12.71 for two clusters, 4.30 for three, 1.96 only in
the limit). :func:`ci_halfwidth` is that product, or ``None`` when there are too few clusters.

The upper tail of Student's t with ``dof`` degrees of freedom is
``P(T > t) = I_x(dof / 2, 1 / 2) / 2`` with ``x = dof / (dof + t**2)``, the regularized incomplete
beta function, evaluated here by its continued fraction (modified Lentz) directly in the tail, so
small tail probabilities keep their relative precision. :func:`t_quantile` inverts it by Newton
steps on ``log P(T > t)`` (or on ``log P(0 < T < t)`` near the middle, where that is better
conditioned) inside a bracket that always holds the root: the normal quantile below (t's tails
are heavier) and the quantile of the tail's power-law bound above. Where the Cornish-Fisher
expansion in ``1 / dof`` (Abramowitz and Stegun 26.7.5, four terms) is exact to double precision
(many dof, not too far into the tail) it is used instead; ``dof = math.inf`` is the normal
quantile. Measured against mpmath at 50 digits (dof 1 .. 10**10): within 2e-14 relative for
``1e-20 <= p <= 1 - 1e-20``, within 1e-13 out to ``p = 1e-300``.
"""

from __future__ import annotations

import functools
import math
import numbers
from statistics import NormalDist

from vizflow.exceptions import VizflowError

__all__ = ["ci_halfwidth", "t_quantile"]

_NORMAL = NormalDist()
# The Cornish-Fisher expansion's first omitted term is about 1e-5 z**11 / dof**5 relative: used where
# that is below 1e-16 (every q >= 1e-300 from dof = 300 000 on; q >= 1e-20 from 20 000).
_CORNISH_FISHER_BOUND = 1e-11
_CENTRAL_DOF = 100  # above it, solve P(0 < T < t) = 1/2 - q down to q = _CENTRAL_Q
_CENTRAL_Q = 0.01
_LOG_SQRT_PI = 0.5 * math.log(math.pi)
_EPS = 2.0**-52
_TINY = 1e-300
_HALF, _QUARTER = 0.5, 0.25
_MIN_CLUSTERS = 2  # a band needs G - 1 >= 1 degrees of freedom
_STIRLING_FROM = 10.0  # log Gamma ratios from the Stirling series from here on, shifted up below
_HUGE_RATIO = 1e150  # t / sqrt(dof) above which r**2 would overflow
_NORMAL_REFINE_BELOW = 1e-15  # normal tails below which NormalDist.inv_cdf gets Newton steps
_CORNISH_FISHER_DOF = 1000  # below it the expansion's low-order omitted terms matter near the middle
_SMALLEST_TAIL = 1e-300  # the normal tail's Newton refinement needs erfc above the subnormals
# Stirling series coefficients B_2k / (2k (2k - 1)) of log Gamma, k = 1 .. 8.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)


def _log_gamma_ratio(a: float) -> float:
    """``log(Gamma(a + 1/2) / Gamma(a))`` to a few ulps of its absolute value, for ``a >= 1/2``."""
    if a < _STIRLING_FROM:
        # Gamma(a + 1/2) / Gamma(a) = (a / (a + 1/2)) Gamma(a + 3/2) / Gamma(a + 1): shift up to 10.
        return _log_gamma_ratio(a + 1.0) - math.log1p(0.5 / a)
    # The difference of the two Stirling series, taken term by term so no large lgamma cancels
    # (the next term, B_18, is below 1e-18 from a = 10 on).
    b = a + 0.5
    series = sum(c * (b ** -(2 * k + 1) - a ** -(2 * k + 1)) for k, c in enumerate(_STIRLING))
    return 0.5 * math.log(a) + (a * math.log1p(0.5 / a) - 0.5) + series


def _log1p_square(r: float) -> float:
    """``log(1 + r**2)`` for ``r >= 0`` without overflow."""
    return 2.0 * math.log(r) + math.log1p((1.0 / r) ** 2) if r > _HUGE_RATIO else math.log1p(r * r)


def _betacf(a: float, b: float, x: float, y: float) -> float:
    """Continued fraction of ``I_x(a, b)`` (modified Lentz); ``y = 1 - x``, computed apart by the caller."""
    c = 1.0
    # 1 - (a + b) x / (a + 1), written so that it does not cancel near x = 1 when b < 1.
    d = ((a + 1.0) * y - (b - 1.0) * x) / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        for aa in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) <= _EPS:
            return h
    msg = f"student: the continued fraction of I_x({a}, {b}) at x={x} did not converge"  # pragma: no cover
    raise VizflowError(msg)  # pragma: no cover


def _log_parts(t: float, dof: int) -> tuple[float, float, float, float]:
    """``x = dof / (dof + t**2)``, ``y = 1 - x`` and ``log(x**a y**(1/2) / B(a, 1/2))``, ``a = dof / 2``."""
    a = dof / 2.0
    r = t / math.sqrt(dof)
    log_x = -_log1p_square(r)
    log_y = -_log1p_square(1.0 / r)
    log_front = a * log_x + 0.5 * log_y - (_LOG_SQRT_PI - _log_gamma_ratio(a))
    return a, math.exp(log_x), math.exp(log_y), log_front


def _log_tail(t: float, dof: int) -> float:
    """``log P(T > t)`` for ``t > 0``: ``log(I_x(a, 1/2) / 2)``, accurate far into the tail."""
    a, x, y, log_front = _log_parts(t, dof)
    return math.log(0.5) + log_front + math.log(_betacf(a, 0.5, x, y) / a)


def _log_central(t: float, dof: int) -> float:
    """``log P(0 < T < t)`` for ``t > 0``: ``log(I_y(1/2, a) / 2)``, accurate for small ``t``."""
    a, x, y, log_front = _log_parts(t, dof)
    return math.log(0.5) + log_front + math.log(_betacf(0.5, a, y, x) / 0.5)


def _log_density(t: float, dof: int) -> float:
    """``log`` of Student's t density at ``t >= 0``."""
    a = dof / 2.0
    return (
        _log_gamma_ratio(a)
        - _LOG_SQRT_PI
        - 0.5 * math.log(dof)
        - (a + 0.5) * _log1p_square(t / math.sqrt(dof))
    )


def _cornish_fisher(z: float, dof: float) -> float:
    """Return the t quantile from the normal quantile ``z`` (Abramowitz and Stegun 26.7.5)."""
    z2 = z * z
    g1 = z * (z2 + 1.0) / 4.0
    g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0
    g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0
    g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0
    return z + (g1 + (g2 + (g3 + g4 / dof) / dof) / dof) / dof


def _normal_upper(q: float) -> float:
    """Return the ``z > 0`` with ``P(Z > z) = q``, for ``1e-300 <= q < 1/2``."""
    z = -_NORMAL.inv_cdf(q)
    if q < _NORMAL_REFINE_BELOW:
        # statistics.NormalDist loses digits far out (1e-5 relative at q = 1e-50): Newton steps on
        # log P(Z > z) = log(erfc(z / sqrt 2) / 2), whose derivative is -density / tail.
        for _ in range(8):
            tail = 0.5 * math.erfc(z / math.sqrt(2.0))
            step = (math.log(tail) - math.log(q)) * tail / _NORMAL.pdf(z)
            z += step
            if abs(step) <= _EPS * z:
                break
    return z


def _upper_quantile(q: float, dof: int) -> float:
    """Return the ``t > 0`` with ``P(T > t) = q``, for ``0 < q < 1/2``."""
    z = _normal_upper(q)
    if dof >= _CORNISH_FISHER_DOF and z**11 < _CORNISH_FISHER_BOUND * float(dof) ** 5:
        return _cornish_fisher(z, dof)
    # Solve in the better-conditioned form: the central part P(0 < T < t) = 1/2 - q near the
    # middle (and, for many dof, down to q = 1e-3, where the tail's continued fraction is
    # sensitive to the last bit of x), else the tail itself.
    central = q >= _QUARTER or (dof > _CENTRAL_DOF and q >= _CENTRAL_Q)
    log_of = _log_central if central else _log_tail
    target = math.log(0.5 - q) if central else math.log(q)  # 0.5 - q is exact for q >= 0.25
    sign = 1.0 if central else -1.0  # the central part grows with t, the tail shrinks
    # Bracket: t's quantile is above the normal one; the density is below its power-law bound
    # K dof^((dof+1)/2) t^-(dof+1), so the tail is below K dof^((dof-1)/2) t^-dof, whose
    # q-quantile is above t.
    log_k = _log_gamma_ratio(dof / 2.0) - _LOG_SQRT_PI - 0.5 * math.log(dof)
    lo = z
    hi = max(math.exp((log_k + 0.5 * (dof - 1) * math.log(dof) - math.log(q)) / dof), lo)
    t = min(max(_cornish_fisher(z, dof), lo), hi)
    for _ in range(400):
        value = log_of(t, dof)
        g = value - target
        if g == 0.0:
            return t
        if sign * g < 0.0:
            lo = t
        else:
            hi = t
        # Newton on the log: its derivative is sign * density / probability.
        new = t - sign * g * math.exp(value - _log_density(t, dof))
        if not lo < new < hi:
            new = math.sqrt(lo * hi) if hi > 4.0 * lo > 0.0 else 0.5 * (lo + hi)
        if abs(new - t) <= 2.0 * _EPS * t or hi - lo <= 2.0 * _EPS * hi:
            return new
        t = new
    return t  # pragma: no cover


def _check_dof(dof: object, *, where: str) -> int | float:
    if isinstance(dof, float) and math.isinf(dof) and dof > 0:
        return dof
    if isinstance(dof, bool) or not isinstance(dof, numbers.Integral) or int(dof) < 1:
        msg = f"{where}: dof={dof!r}; expected an integer >= 1 (clusters - 1) or math.inf"
        raise VizflowError(msg)
    return int(dof)


def t_quantile(p: float, dof: int | float) -> float:
    """Return the ``p`` quantile of Student's t distribution with ``dof`` degrees of freedom.

    Parameters
    ----------
    p
        The probability, ``0 < p < 1`` (``0.975`` for a two-sided 95% band).
    dof
        Degrees of freedom: an integer ``>= 1`` (``G - 1`` for ``G`` clusters), or ``math.inf``
        for the normal distribution.

    Returns
    -------
    float
        ``t`` with ``P(T <= t) = p``; negative for ``p < 0.5``, ``0.0`` at ``p = 0.5``.

    Raises
    ------
    VizflowError
        For ``p`` outside ``(0, 1)`` (or NaN), or ``dof`` that is not an integer ``>= 1`` or
        ``math.inf``.

    Notes
    -----
    Pure Python (no scipy): the incomplete beta function's continued fraction inverted by
    bracketed Newton steps, to about 1e-14 relative (see :mod:`vizflow.student`); tested
    against ``scipy.stats.t.ppf``.

    Examples
    --------
    >>> from vizflow.student import t_quantile
    >>> round(t_quantile(0.975, 2), 4), round(t_quantile(0.975, 30), 4)
    (4.3027, 2.0423)
    >>> t_quantile(1 - 0.975, 1) == -t_quantile(0.975, 1)
    True
    >>> round(t_quantile(0.975, float("inf")), 6)
    1.959964
    """
    checked = _check_dof(dof, where="t_quantile")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 < float(p) < 1.0:
        msg = f"t_quantile: p={p!r}; expected a probability strictly between 0 and 1 (0.975 for a 95% band)"
        raise VizflowError(msg)
    p = float(p)
    if p == _HALF:
        return 0.0
    q = 1.0 - p if p > _HALF else p  # exact for p >= 0.5 (Sterbenz), so the tail keeps its digits
    if q < _SMALLEST_TAIL:
        msg = f"t_quantile: p={p!r} is further than 1e-300 into a tail; expected 1e-300 <= p <= 1 - 1e-300"
        raise VizflowError(msg)
    t = _quantile_of_tail(q, checked)
    return t if p > _HALF else -t


@functools.lru_cache(maxsize=1024)
def _quantile_of_tail(q: float, dof: int | float) -> float:
    # Figures ask for the same few (level, clusters) pairs over and over.
    return _normal_upper(q) if math.isinf(dof) else _upper_quantile(q, int(dof))


def ci_halfwidth(se: float | None, clusters: int | None, level: float = 0.95) -> float | None:
    """Half the width of the two-sided ``level`` confidence interval of a clustered mean.

    Parameters
    ----------
    se
        The cluster-robust standard error (``{v}_se`` of :func:`vizflow.finalize`), or ``None``.
    clusters
        The number of clusters behind it (``{v}_clusters``), or ``None``.
    level
        The confidence level, ``0 < level < 1``.

    Returns
    -------
    float or None
        ``t_quantile((1 + level) / 2, clusters - 1) * se``; ``None`` when ``se`` or ``clusters``
        is missing (``None`` or NaN) or there are fewer than 2 clusters: no band is honest then.

    Raises
    ------
    VizflowError
        For a ``level`` outside ``(0, 1)``, a negative ``se``, or a ``clusters`` that is not an
        integer.

    Examples
    --------
    >>> from vizflow.student import ci_halfwidth
    >>> round(ci_halfwidth(0.5, 3), 4)  # 3 dates: t(0.975, 2) = 4.3027
    2.1513
    >>> ci_halfwidth(0.5, 1) is None
    True
    """
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < float(level) < 1.0:
        msg = f"ci_halfwidth: level={level!r}; expected a confidence level strictly between 0 and 1 (0.95)"
        raise VizflowError(msg)
    if clusters is not None and (isinstance(clusters, bool) or not isinstance(clusters, numbers.Integral)):
        msg = f"ci_halfwidth: clusters={clusters!r}; expected an integer count of clusters (or None)"
        raise VizflowError(msg)
    if se is None or clusters is None or math.isnan(se) or clusters < _MIN_CLUSTERS:
        return None
    if se < 0:
        msg = f"ci_halfwidth: se={se!r}; expected a standard error >= 0"
        raise VizflowError(msg)
    return t_quantile((1.0 + float(level)) / 2.0, int(clusters) - 1) * float(se)
