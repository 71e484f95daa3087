"""vizflow.student: Student's t quantiles without scipy, checked against scipy.stats.t.ppf."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vizflow.exceptions import VizflowError
from vizflow.student import ci_halfwidth, t_quantile

# scipy itself is off by up to ~4e-14 in places (checked against mpmath at 50 digits), and by a
# factor 2 at dof=3, p=1e-200, so the grid stays where scipy is right to ~1e-14.
RTOL = 1e-13
LEVELS = (0.51, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1 - 1e-6, 1 - 1e-9)


@pytest.mark.parametrize("dof", range(1, 201))
def test_t_quantile_matches_scipy_for_dof_1_to_200(dof: int) -> None:
    for p in (*LEVELS, 0.025, 1e-3, 1e-6, 1e-10, 1e-20):
        assert t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=RTOL), (p, dof)


@pytest.mark.parametrize(
    "dof", [201, 500, 999, 1000, 1001, 1999, 5000, 10**4, 99_999, 10**5, 10**6, 10**9, 10**15]
)
def test_t_quantile_matches_scipy_for_many_dof(dof: int) -> None:
    # Across the switch to the Cornish-Fisher expansion (from dof 1000, depending on p).
    for p in (*LEVELS, 0.025, 1e-6, 1e-20):
        assert t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=RTOL), (p, dof)


def test_t_quantile_known_values() -> None:
    # dof 1 is the Cauchy distribution: t = cot(pi (1 - p)); dof 2 has t = (2p - 1) / sqrt(2 p (1 - p)).
    for p in (0.6, 0.9, 0.975, 0.999):
        assert t_quantile(p, 1) == pytest.approx(1 / math.tan(math.pi * (1 - p)), rel=1e-14)
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-14)
    assert round(t_quantile(0.975, 2), 2) == 4.30  # three dates, as the issue says


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 30, 150, 5000])
def test_t_quantile_near_the_median_is_the_density_slope(dof: int) -> None:
    # t = (p - 1/2) / f(0) to ~1e-14 this close to the median (scipy is 4e-4 off at dof 4 here).
    f0 = math.exp(math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2)) / math.sqrt(dof * math.pi)
    for p in (0.5 + 1e-7, 0.5 - 1e-9):
        assert t_quantile(p, dof) == pytest.approx((p - 0.5) / f0, rel=1e-12), p


def test_t_quantile_infinite_dof_is_the_normal_quantile() -> None:
    for p in (0.5000001, 0.6, 0.975, 0.999, 1e-10, 1e-50, 1e-300):
        assert t_quantile(p, math.inf) == pytest.approx(stats.norm.ppf(p), rel=1e-14), p
    # ... and the limit of finite dof.
    assert t_quantile(0.975, 10**15) == pytest.approx(t_quantile(0.975, math.inf), rel=1e-14)


def test_t_quantile_far_tails_follow_the_power_law() -> None:
    # P(T > t) ~ K dof^((dof-1)/2) t^-dof / ... exactly enough this far out: q = 1e-200 at dof 3.
    k = math.gamma(2.0) / (math.sqrt(3 * math.pi) * math.gamma(1.5))
    assert t_quantile(1e-200, 3) == pytest.approx(-((k * 3 / 1e-200) ** (1 / 3)), rel=1e-12)
    assert t_quantile(1 - 1e-16, 1) == pytest.approx(1 / math.tan(math.pi * (1 - (1 - 1e-16))), rel=1e-12)


@given(st.floats(0.5, 1 - 1e-12), st.integers(1, 400))
def test_t_quantile_is_odd_and_above_the_normal(p: float, dof: int) -> None:
    t = t_quantile(p, dof)
    assert t_quantile(1 - p, dof) == -t  # 1 - p is exact for p >= 1/2, so the tails are the same number
    assert t_quantile(p, dof + 1) <= t  # the tails thin with dof ...
    assert t >= stats.norm.ppf(p) * (1 - 1e-14)  # ... down to the normal's


@pytest.mark.parametrize("dof", [0, -1, 2.5, 3.0, True, None, "3", math.nan, -math.inf])
def test_t_quantile_rejects_bad_dof(dof: object) -> None:
    with pytest.raises(VizflowError, match=r"dof=.*expected an integer >= 1"):
        t_quantile(0.975, dof)  # type: ignore[arg-type]


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, math.nan, 1e-301, True])
def test_t_quantile_rejects_bad_p(p: float) -> None:
    with pytest.raises(VizflowError, match=r"p="):
        t_quantile(p, 5)


def test_t_quantile_accepts_numpy_integers() -> None:
    assert t_quantile(0.975, np.int64(2)) == t_quantile(0.975, 2)


def test_ci_halfwidth() -> None:
    assert ci_halfwidth(2.0, 3) == pytest.approx(2.0 * stats.t.ppf(0.975, 2), rel=1e-14)
    assert ci_halfwidth(2.0, 3, level=0.9) == pytest.approx(2.0 * stats.t.ppf(0.95, 2), rel=1e-14)
    assert ci_halfwidth(0.0, 10) == 0.0
    for se, clusters in ((1.0, 1), (1.0, 0), (None, 5), (1.0, None), (math.nan, 5)):
        assert ci_halfwidth(se, clusters) is None


@pytest.mark.parametrize(
    ("se", "clusters", "level", "match"),
    [(1.0, 3, 1.0, "level="), (1.0, 3, 0.0, "level="), (1.0, 2.5, 0.95, "clusters="), (-1.0, 3, 0.95, "se=")],
)
def test_ci_halfwidth_rejects_bad_input(se: float, clusters: int, level: float, match: str) -> None:
    with pytest.raises(VizflowError, match=match):
        ci_halfwidth(se, clusters, level)
