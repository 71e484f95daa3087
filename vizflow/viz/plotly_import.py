"""Plotly, imported when a figure is drawn (extra ``vizflow[viz]``), and the figure of no rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vizflow._optional import import_optional

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["empty_figure", "graph_objects"]


def graph_objects() -> Any:
    """Return ``plotly.graph_objects``, or raise an ImportError that names the ``viz`` extra.

    Examples
    --------
    >>> graph_objects().__name__
    'plotly.graph_objects'
    """
    return import_optional("plotly.graph_objects", extra="viz")


def empty_figure(title: str) -> go.Figure:
    """Return a figure without traces whose title says there are no rows to plot.

    Examples
    --------
    >>> empty_figure("decay").layout.title.text
    'decay: no rows to plot'
    """
    fig = graph_objects().Figure()
    fig.update_layout(title=f"{title}: no rows to plot" if title else "no rows to plot")
    return fig
