"""vizflow: Polars for tick-level market data research.

Put a day of trades on a session-aware clock, bin signals and aggregate, as functions or as one
``vf`` chain on any LazyFrame or DataFrame:

>>> import polars as pl, vizflow as vf
>>> trades = vf.datasets.synthetic_trades(n_symbols=5, seed=0)
>>> out = (
...     trades.lazy()
...     .vf.parse_time(vf.CN, "ticktime")
...     .vf.bin({"elapsed_seconds": 1800}, how="floor")  # half hours: [1800 k, 1800 (k + 1))
...     .vf.aggregate(["elapsed_seconds_bin"], {"n": pl.len(), "qty": pl.col("qty").sum()})
...     .collect()
... )
>>> out.columns
['elapsed_seconds_bin', 'n', 'qty']
"""

from __future__ import annotations

import vizflow.namespace  # noqa: F401  (registers lf.vf, df.vf and pl.col(...).vf)
from vizflow import book, calendar, datasets, student
from vizflow.config import Config
from vizflow.context import Context
from vizflow.data_quality import quality, quality_totals, worst_dates
from vizflow.enrich import (
    Enricher,
    ExpandingRule,
    FIFOMatch,
    State,
    TagCondition,
    TagRule,
    TagRunning,
    enrich,
)
from vizflow.exceptions import (
    CalendarError,
    ColumnNotFoundError,
    CompileError,
    DataError,
    SchemaError,
    VizflowError,
)
from vizflow.io import load, save, scan
from vizflow.market import CN, CN_FUTURES, CRYPTO, HK, US, Market, Phase, Session, get_market, market_for
from vizflow.ops import (
    aggregate,
    bin,
    elapsed_expr,
    forward_return,
    forward_window,
    parse_time,
    session_phase,
    trading_date,
)
from vizflow.ops.ic import ic_summary, rank_ic
from vizflow.ops.quantile import quantile_bin
from vizflow.ops.spread import spread_decomposition
from vizflow.ops.summary import combine, finalize, summarize
from vizflow.ops.time_weighted import TimeWeighted, time_weighted
from vizflow.runner import BatchResult, run, run_batch, run_cluster, run_local

__version__ = "0.8.0"

__all__ = [
    "CN",
    "CN_FUTURES",
    "CRYPTO",
    "HK",
    "US",
    "BatchResult",
    "CalendarError",
    "ColumnNotFoundError",
    "CompileError",
    "Config",
    "Context",
    "DataError",
    "Enricher",
    "ExpandingRule",
    "FIFOMatch",
    "Market",
    "Phase",
    "SchemaError",
    "Session",
    "TimeWeighted",
    "State",
    "TagCondition",
    "TagRule",
    "TagRunning",
    "VizflowError",
    "__version__",
    "aggregate",
    "bin",
    "book",
    "calendar",
    "combine",
    "datasets",
    "elapsed_expr",
    "enrich",
    "finalize",
    "forward_return",
    "forward_window",
    "get_market",
    "ic_summary",
    "load",
    "market_for",
    "parse_time",
    "quality",
    "quality_totals",
    "quantile_bin",
    "rank_ic",
    "run",
    "run_batch",
    "run_cluster",
    "run_local",
    "save",
    "scan",
    "session_phase",
    "spread_decomposition",
    "student",
    "summarize",
    "time_weighted",
    "trading_date",
    "worst_dates",
]


def __getattr__(name: str) -> object:
    """Import ``vizflow.viz`` on first access of ``vf.viz`` (extra ``vizflow[viz]``)."""
    if name == "viz":
        import importlib
        import importlib.util

        missing = [m for m in ("plotly", "dash") if importlib.util.find_spec(m) is None]
        if missing:
            msg = f"vf.viz needs {' and '.join(missing)}, which are not installed: pip install 'vizflow[viz]'"
            raise ImportError(msg)
        return importlib.import_module("vizflow.viz")
    msg = f"module 'vizflow' has no attribute {name!r}"
    raise AttributeError(msg)
