"""Plotly figures, a Dash dashboard and the explorer for vizflow frames (extra ``vizflow[viz]``).

``import vizflow.viz`` needs plotly (and dash for :func:`dashboard`); ``import vizflow`` does not.
"""

from __future__ import annotations

from vizflow.viz.axes import clock_axis
from vizflow.viz.dashboard import dashboard, sample_dashboard
from vizflow.viz.explorer import explorer
from vizflow.viz.figures import decay, holding_histogram, line, pnl_curve
from vizflow.viz.heatmap import heatmap
from vizflow.viz.labels import bin_labels
from vizflow.viz.report import write_report
from vizflow.viz.tables import Table

__all__ = [
    "Table",
    "bin_labels",
    "clock_axis",
    "dashboard",
    "decay",
    "explorer",
    "heatmap",
    "holding_histogram",
    "line",
    "pnl_curve",
    "sample_dashboard",
    "write_report",
]
