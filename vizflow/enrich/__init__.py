"""Enrichment: per-symbol, time-ordered tagging rules (compiled with numba where possible)."""

from __future__ import annotations

from vizflow.enrich.base import ExpandingRule, State, TagRule
from vizflow.enrich.enricher import Enricher, enrich
from vizflow.enrich.fifo import FIFOMatch
from vizflow.enrich.rules import TagCondition, TagRunning

__all__ = [
    "Enricher",
    "ExpandingRule",
    "FIFOMatch",
    "State",
    "TagCondition",
    "TagRule",
    "TagRunning",
    "enrich",
]
