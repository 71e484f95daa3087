"""Session-clock axes: plot on elapsed seconds, label with wall-clock times (no lunch gap)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizflow.market import DAY_NS, get_market

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from vizflow.market import Market

__all__ = ["clock_at", "clock_axis", "clock_label", "label_time_axis"]

_NS = 1_000_000_000


def clock_label(ns: int) -> str:
    """``34_200 * 10**9`` -> ``"09:30"``."""
    minutes = (ns % DAY_NS) // (60 * _NS)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clock_axis(market: Market | str, every: float = 1800) -> dict:
    """Return plotly axis settings for an ``elapsed_seconds`` axis, labelled with clock times.

    Ticks fall at each session's open and close and every ``every`` seconds inside sessions; a
    session boundary that joins two sessions is labelled with both times (``"11:30|13:00"``). The
    elapsed axis has no gap, so the lunch break takes no room (plotly's ``rangebreaks`` misbehave
    on such patterns).

    Examples
    --------
    >>> import vizflow as vf
    >>> axis = clock_axis(vf.CN, every=3600)
    >>> list(zip(axis["tickvals"], axis["ticktext"]))
    [(0.0, '09:30'), (3600.0, '10:30'), (7200.0, '11:30|13:00'), (10800.0, '14:00'), (14400.0, '15:00')]
    """
    market = get_market(market)
    ticks: dict[float, list[str]] = {}
    offset = 0.0
    for session in market.sessions:
        start_ns = session.start_ns
        length = session.length_seconds
        k = 0.0
        while k <= length + 1e-9:
            label = clock_label(start_ns + round(k * _NS))
            labels = ticks.setdefault(offset + k, [])
            if label not in labels:
                labels.append(label)
            k += every
        end_label = clock_label(start_ns + round(length * _NS))
        end = ticks.setdefault(offset + length, [])
        if end_label not in end:
            end.append(end_label)
        offset += length
    values = sorted(ticks)
    return {
        "tickmode": "array",
        "tickvals": values,
        "ticktext": ["|".join(ticks[v]) for v in values],
        "range": [0, offset],
    }


def label_time_axis(fig: go.Figure, column: str, market: Market | str | None, axis: str = "x") -> None:
    """Label ``fig``'s ``axis``, an ``elapsed_seconds`` ``column``, with ``market``'s clock times.

    Without a ``market`` the axis is left as it is.

    Examples
    --------
    >>> import plotly.graph_objects as go, vizflow as vf
    >>> fig = go.Figure()
    >>> label_time_axis(fig, "elapsed_seconds", vf.CN)
    >>> fig.layout.xaxis.title.text, fig.layout.xaxis.ticktext[0]
    ('elapsed_seconds (clock time)', '09:30')
    """
    if market is not None:
        settings = clock_axis(market)
        fig.update_layout({f"{axis}axis": {**settings, "title": {"text": f"{column} (clock time)"}}})


def clock_at(market: Market | str, elapsed: float, *, end: bool = False) -> str:
    """Return the wall-clock time of ``elapsed`` session seconds (``HH:MM``, or ``HH:MM:SS``).

    A session boundary is the next session's open, or with ``end=True`` the previous session's
    close, so the bin ``[5400, 7200)`` of CN reads 11:00-11:30 and ``[7200, 9000)`` 13:00-13:30.

    Examples
    --------
    >>> import vizflow as vf
    >>> clock_at(vf.CN, 7200), clock_at(vf.CN, 7200, end=True), clock_at(vf.CN, 7230.5)
    ('13:00', '11:30', '13:00:30')
    """
    market = get_market(market)
    start = 0.0
    session = market.sessions[-1]  # a Market has at least one session
    for candidate in market.sessions:
        close = start + candidate.length_seconds
        if elapsed < close or (end and elapsed == close):
            session = candidate
            break
        start = close
    else:  # past the last close: the close
        start -= session.length_seconds
    seconds = min(max(elapsed - start, 0.0), session.length_seconds)
    ns = (session.start_ns + round(seconds * _NS)) % DAY_NS
    text = clock_label(ns)
    return f"{text}:{(ns // _NS) % 60:02d}" if ns % (60 * _NS) else text
