"""Frame operations: the session clock, binning, aggregation and forward returns."""

from __future__ import annotations

from vizflow.ops.aggregate import aggregate
from vizflow.ops.binning import bin
from vizflow.ops.forward import forward_return
from vizflow.ops.ic import ic_summary, rank_ic
from vizflow.ops.phase import session_phase, trading_date
from vizflow.ops.quantile import quantile_bin
from vizflow.ops.summary import combine, finalize, summarize
from vizflow.ops.time import elapsed_expr, parse_time
from vizflow.ops.window import forward_window

__all__ = [
    "aggregate",
    "bin",
    "combine",
    "elapsed_expr",
    "finalize",
    "forward_return",
    "forward_window",
    "ic_summary",
    "parse_time",
    "quantile_bin",
    "rank_ic",
    "session_phase",
    "summarize",
    "trading_date",
]
