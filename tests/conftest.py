"""Shared test setup: Hypothesis profiles and common fixtures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from collections.abc import Iterator

# `dev` for local runs, `ci` in .ci/run, `deep` for a long hunt (VIZFLOW_HYPOTHESIS_PROFILE=deep).
# `ci` takes twice `dev`'s examples: with 200 the whole suite took 13 min on 2 cores (limit: 10).
_COMMON = {
    "deadline": None,  # the first call of a numba kernel compiles
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("VIZFLOW_HYPOTHESIS_PROFILE", "dev"))

REAL_DATA = Path(__file__).resolve().parent / "resources" / "real"
"""Real exchange files, copied unchanged with their provenance and licences (README.md there)."""


@pytest.fixture(scope="session", autouse=True)
def rule_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Compiled rules cached on disk go to a folder of the session, not the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("rule-cache")
    before = os.environ.get("VIZFLOW_CACHE_DIR")
    os.environ["VIZFLOW_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("VIZFLOW_CACHE_DIR", None)
    else:
        os.environ["VIZFLOW_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of the real exchange files; it ships with the tests, so no test skips for want of data."""
    return REAL_DATA
