"""Frame operations: the session clock, binning, aggregation and forward returns."""

from __future__ import annotations

from vizflow.ops.aggregate import aggregate
from vizflow.ops.binning import bin
from vizflow.ops.forward import forward_return
from vizflow.ops.summary import combine, finalize, summarize
from vizflow.ops.time import elapsed_expr, parse_time

__all__ = [
    "aggregate",
    "bin",
    "combine",
    "elapsed_expr",
    "finalize",
    "forward_return",
    "parse_time",
    "summarize",
]
