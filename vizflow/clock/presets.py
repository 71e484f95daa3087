"""The preset markets (CN, CRYPTO, CN_FUTURES, HK, US) and looking one up by name."""

from __future__ import annotations

from vizflow.clock.market import Market
from vizflow.clock.sessions import Phase, Session
from vizflow.exceptions import VizflowError

__all__ = ["CN", "CN_FUTURES", "CRYPTO", "HK", "MARKETS", "US", "get_market"]


CN = Market(
    "CN",
    (Session("09:30", "11:30"), Session("13:00", "15:00")),
    tz="Asia/Shanghai",
    phases=(
        # The call auction runs 09:15-09:25 and matches at 09:25; until 09:30 orders queue but
        # nothing matches, so a trade stamped before 09:30 is the opening match, disseminated
        # late (09:25:00.940 on the shipped sample).
        Phase("pre_open_auction", "09:15", "09:30"),
        Phase("continuous", "09:30", "11:30"),
        Phase("break", "11:30", "13:00"),
        Phase("continuous", "13:00", "14:57"),
        # The closing call auction runs 14:57-15:00; its match prints up to a second after 15:00
        # (15:00:01.060 on the sample) and nothing else trades before after-hours opens at 15:05.
        Phase("closing_auction", "14:57", "15:05"),
        # Fixed-price after-hours trading of STAR Market and ChiNext shares; main-board shares
        # print nothing here.
        Phase("after_hours", "15:05", "15:30"),
    ),
)
"""China A-shares (SSE/SZSE) continuous trading: 09:30-11:30 and 13:00-15:00, Asia/Shanghai.

Phases: ``pre_open_auction`` 09:15-09:30 (the 09:25 match included), ``continuous``, ``break``
11:30-13:00, ``closing_auction`` 14:57-15:05 (the 15:00 match included), ``after_hours``
15:05-15:30 (STAR Market fixed-price trading), ``closed`` otherwise."""

CRYPTO = Market("CRYPTO", (Session("00:00", "24:00"),), tz="UTC")
"""A 24/7 venue: one session per UTC day, 00:00-24:00."""

CN_FUTURES = Market(
    "CN_FUTURES",
    (
        Session("21:00", "02:30"),
        Session("09:00", "10:15"),
        Session("10:30", "11:30"),
        Session("13:30", "15:00"),
    ),
    tz="Asia/Shanghai",
    phases=(
        Phase("pre_open_auction", "20:55", "21:00"),  # call auction before the night open
        Phase("continuous", "21:00", "02:30"),
        Phase("pre_open_auction", "08:55", "09:00"),  # for contracts without a night session
        Phase("continuous", "09:00", "10:15"),
        Phase("break", "10:15", "10:30"),
        Phase("continuous", "10:30", "11:30"),
        Phase("break", "11:30", "13:30"),
        Phase("continuous", "13:30", "15:00"),
    ),
)
"""China commodity futures with the longest night session (21:00-02:30, e.g. SHFE gold/silver).

The night session opens the trading day: 21:00 is 0 and the clock runs through midnight."""

HK = Market(
    "HK",
    (Session("09:30", "12:00"), Session("13:00", "16:00")),
    tz="Asia/Hong_Kong",
    phases=(
        Phase("pre_open_auction", "09:00", "09:30"),  # HKEX pre-opening session, match at 09:20
        Phase("continuous", "09:30", "12:00"),
        Phase("break", "12:00", "13:00"),
        Phase("continuous", "13:00", "16:00"),
        Phase("closing_auction", "16:00", "16:10"),  # closing auction session, random close
    ),
)
"""Hong Kong (HKEX) continuous trading: 09:30-12:00 and 13:00-16:00."""

US = Market(
    "US",
    (Session("09:30", "16:00"),),
    tz="America/New_York",
    phases=(
        Phase("pre_market", "04:00", "09:30"),
        Phase("continuous", "09:30", "16:00"),
        Phase("after_hours", "16:00", "20:00"),
    ),
)
"""US equities regular trading hours: 09:30-16:00 New York time."""

MARKETS: dict[str, Market] = {m.name: m for m in (CN, CRYPTO, CN_FUTURES, HK, US)}
"""The presets by name (used by :class:`vizflow.Config`)."""


def get_market(market: str | Market) -> Market:
    """Return the preset called ``market`` (or ``market`` itself if it is a :class:`Market`).

    Raises
    ------
    VizflowError
        For an unknown name; the message lists the presets.

    Examples
    --------
    >>> get_market("HK").describe()
    '09:30-12:00, 13:00-16:00'
    """
    if isinstance(market, Market):
        return market
    try:
        return MARKETS[market]
    except KeyError:
        msg = f"unknown market {market!r}; available: {sorted(MARKETS)} (or pass a vizflow.Market)"
        raise VizflowError(msg) from None
