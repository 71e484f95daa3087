"""Shared test setup: Hypothesis profiles and common fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# `dev` for local runs, `ci` in .ci/run, `deep` for a long hunt (VIZFLOW_HYPOTHESIS_PROFILE=deep).
_COMMON = {
    "deadline": None,  # the first call of a numba kernel compiles
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("VIZFLOW_HYPOTHESIS_PROFILE", "dev"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The real exchange data (``../shared/data`` beside the checkout)."""


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; tests using it skip, saying why, when the folder is absent."""
    path = Path(os.environ.get("VIZFLOW_SHARED_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"real exchange data not found at {path} (set VIZFLOW_SHARED_DATA)")
    return path
