"""Trading sessions and the session-aware clock (:mod:`vizflow.market` re-exports all of it).

A :class:`Market` is an ordered tuple of :class:`Session` s. Its clock, *elapsed seconds*, counts only
time spent inside sessions: for the China A-share market (:data:`CN`) 09:30 is 0, 11:30 and 13:00 are
both 7200 (the lunch break takes no time) and 15:00 is 14400.

A session whose end is earlier than its start crosses midnight (a futures night session, 21:00-02:30)
and is counted continuously: 23:59 and 00:01 are two minutes apart.

Times outside every session follow an ``outside`` policy:

``"clamp"`` (default)
    Inside a break, the time maps to the end of the session before it (a lunch-break snapshot at
    12:00 reads 7200). Before the first session it maps to 0 and after the last to the total session
    length. The pre-open/post-close gap is split at its midpoint (for CN: at 00:15), so 09:15 is
    pre-open and 15:30 is post-close.
``"null"``
    Outside every session the result is null.
``"raise"``
    Outside every session is an error naming the first offending value.

A market may also declare its **phases** (:class:`Phase`): named stretches of the day such as the
opening call auction, the lunch break or after-hours trading, as data beside its sessions. A market
that declares none has the phases its sessions imply: ``continuous`` inside a session, ``break``
between two, ``closed`` elsewhere. :func:`vizflow.session_phase` names each print's phase.

``closed`` decides whether session edges are inside (``"both"``, the default, so the 15:00:00
closing-auction print is inside), only the start (``"left"``) or only the end (``"right"``). With
``"clamp"`` the number is the same either way; ``closed`` matters for ``"null"`` and ``"raise"``.
"""

from __future__ import annotations

from vizflow.clock.exchange import market_for
from vizflow.clock.market import Market
from vizflow.clock.presets import CN, CN_FUTURES, CRYPTO, HK, MARKETS, US, get_market
from vizflow.clock.sessions import (
    CLOSED,
    DAY_NS,
    OUTSIDE_POLICIES,
    Layout,
    Phase,
    Session,
    clock_to_ns,
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
