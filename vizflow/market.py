"""Trading sessions and the session-aware clock: the names of :mod:`vizflow.clock`, importable here.

:mod:`vizflow.clock` holds the clock (its docstring describes elapsed seconds, the ``outside``
policies, phases and ``closed``): :mod:`~vizflow.clock.sessions` (primitives),
:mod:`~vizflow.clock.market` (:class:`Market`), :mod:`~vizflow.clock.presets` (``CN``, ``US``,
...) and :mod:`~vizflow.clock.exchange` (:func:`market_for`). Every name this module had is
still importable from it.
"""

from __future__ import annotations

from vizflow.clock import (
    CLOSED,
    CN,
    CN_FUTURES,
    CRYPTO,
    DAY_NS,
    HK,
    MARKETS,
    OUTSIDE_POLICIES,
    US,
    Layout,
    Market,
    Phase,
    Session,
    clock_to_ns,
    get_market,
    market_for,
    require_choice,
)

__all__ = [
    "CLOSED",
    "CN",
    "CN_FUTURES",
    "CRYPTO",
    "DAY_NS",
    "HK",
    "MARKETS",
    "OUTSIDE_POLICIES",
    "US",
    "Layout",
    "Market",
    "Phase",
    "Session",
    "clock_to_ns",
    "get_market",
    "market_for",
    "require_choice",
]
