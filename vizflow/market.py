"""Trading sessions and the session-aware clock.

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

``closed`` decides whether session edges are inside (``"both"``, the default, so the 15:00:00
closing-auction print is inside), only the start (``"left"``) or only the end (``"right"``). With
``"clamp"`` the number is the same either way; ``closed`` matters for ``"null"`` and ``"raise"``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vizflow._typing import OutsidePolicy
from vizflow.exceptions import DataError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import Closed

__all__ = ["CN", "CN_FUTURES", "CRYPTO", "HK", "MARKETS", "US", "Market", "Session", "get_market"]

DAY_NS = 86_400 * 1_000_000_000
_NS_PER_S = 1_000_000_000
OUTSIDE_POLICIES: tuple[str, ...] = get_args(OutsidePolicy)
"""The accepted ``outside`` policies (see the module docstring)."""


def require_choice(name: str, value: object, accepted: Sequence[str], *, where: str) -> None:
    """Raise :class:`VizflowError` naming ``accepted`` unless ``value`` is one of them.

    Policy strings are case-sensitive: ``"Raise"`` is refused, never read as another policy.

    Examples
    --------
    >>> require_choice("outside", "Raise", OUTSIDE_POLICIES, where="parse_time")
    Traceback (most recent call last):
    ...
    vizflow.exceptions.VizflowError: parse_time: outside='Raise' is not one of ['clamp', 'null', 'raise']
    """
    if not isinstance(value, str) or value not in accepted:
        msg = f"{where}: {name}={value!r} is not one of {list(accepted)}"
        raise VizflowError(msg)


def clock_to_ns(text: str, *, where: str = "Session") -> int:
    """Convert ``"HH:MM"``, ``"HH:MM:SS"`` or ``"HH:MM:SS.fff"`` (up to ``"24:00"``) to ns since midnight.

    Examples
    --------
    >>> clock_to_ns("09:30") // 1_000_000_000
    34200
    >>> clock_to_ns("24:00") == DAY_NS
    True
    """
    if not isinstance(text, str):
        hhmm = isinstance(text, int) and 0 <= text <= 2400 and text % 100 < 60  # noqa: PLR2004
        hint = f" (for HHMM {text} write '{text // 100:02d}:{text % 100:02d}')" if hhmm else ""
        msg = f"{where}: {text!r} is not a clock time; expected a string 'HH:MM' or 'HH:MM:SS[.fff]'{hint}"
        raise VizflowError(msg)
    try:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError
        hours, minutes = int(parts[0]), int(parts[1])
        seconds = float(parts[2]) if len(parts) == 3 else 0.0  # noqa: PLR2004
    except ValueError:
        msg = f"{where}: {text!r} is not a clock time; expected 'HH:MM' or 'HH:MM:SS[.fff]'"
        raise VizflowError(msg) from None
    ns = (hours * 3600 + minutes * 60) * _NS_PER_S + round(seconds * _NS_PER_S)
    if not (0 <= minutes < 60 and 0 <= seconds < 60 and 0 <= ns <= DAY_NS):  # noqa: PLR2004
        msg = f"{where}: {text!r} is not a clock time between 00:00 and 24:00"
        raise VizflowError(msg)
    return ns


@dataclass(frozen=True)
class Session:
    """One continuous trading session, given as wall-clock times in the market's time zone.

    Parameters
    ----------
    start, end
        ``"HH:MM"`` or ``"HH:MM:SS[.fff]"``. ``end`` may be ``"24:00"``. An ``end`` earlier than
        ``start`` means the session crosses midnight; ``end == start`` means a 24-hour session.
        Integers are refused rather than read as HHMM (``930`` could as well be HHMMSS or
        minutes); the message shows the string to write.

    Raises
    ------
    VizflowError
        For a value that is not a clock time string, naming it.

    Examples
    --------
    >>> Session("09:30", "11:30").length_seconds
    7200.0
    >>> Session("21:00", "02:30").crosses_midnight
    True
    """

    start: str
    end: str

    def __post_init__(self) -> None:
        clock_to_ns(self.start)
        clock_to_ns(self.end)

    @property
    def start_ns(self) -> int:
        """Start as nanoseconds since midnight."""
        return clock_to_ns(self.start) % DAY_NS

    @property
    def length_ns(self) -> int:
        """Length in nanoseconds (a full day when ``end == start``)."""
        length = (clock_to_ns(self.end) - clock_to_ns(self.start)) % DAY_NS
        return length or DAY_NS

    @property
    def length_seconds(self) -> float:
        """Length in seconds."""
        return self.length_ns / _NS_PER_S

    @property
    def crosses_midnight(self) -> bool:
        """Whether the session runs past 24:00 into the next calendar day."""
        return self.start_ns + self.length_ns > DAY_NS


class Layout(NamedTuple):
    """A market's sessions on its own day axis (used to build the clock expression).

    ``anchor_ns`` is the wall-clock time where the axis starts (0 unless a session crosses midnight,
    then the first session's start). ``starts_ns``/``lengths_ns`` are the sessions on that axis;
    positions at or after ``split_ns`` belong to the next trading day's pre-open.
    """

    anchor_ns: int
    starts_ns: tuple[int, ...]
    lengths_ns: tuple[int, ...]
    split_ns: int
    total_ns: int


@dataclass(frozen=True)
class Market:
    """A venue's trading sessions, in order, and the session-aware clock they define.

    Parameters
    ----------
    name
        Short name, e.g. ``"CN"``.
    sessions
        The sessions of one trading day in chronological order (a night session that belongs to
        the next trading day comes first).
    tz
        IANA time zone of the session times; timezone-aware datetimes are converted to it first.
    closed
        Which session edges count as inside: ``"both"`` (default), ``"left"`` or ``"right"``.

    Raises
    ------
    VizflowError
        For no sessions, sessions out of order or overlapping, an unknown ``closed`` or a ``tz``
        that is not an IANA time zone (checked here, not when the first frame is parsed).

    Examples
    --------
    >>> import datetime as dt
    >>> CN.elapsed_seconds(dt.time(13, 0))
    7200.0
    >>> CN.total_seconds
    14400.0
    """

    name: str
    sessions: tuple[Session, ...]
    tz: str | None = None
    closed: Closed = field(default="both")

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(self.sessions))
        if not self.sessions:
            msg = f"Market {self.name!r}: needs at least one session"
            raise VizflowError(msg)
        if self.closed not in ("left", "right", "both"):
            msg = f"Market {self.name!r}: closed={self.closed!r}; expected 'left', 'right' or 'both'"
            raise VizflowError(msg)
        if self.tz is not None:
            try:
                ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError, TypeError):
                msg = (
                    f"Market {self.name!r}: tz={self.tz!r} is not an IANA time zone; "
                    "expected e.g. 'Asia/Shanghai', 'America/New_York' or 'UTC'"
                )
                raise VizflowError(msg) from None
        _ = self.layout  # validates order and overlap

    @cached_property
    def layout(self) -> Layout:
        """The sessions on the market's day axis (see :class:`Layout`)."""
        wraps = any(s.crosses_midnight for s in self.sessions)
        anchor = self.sessions[0].start_ns if wraps else 0
        starts = tuple((s.start_ns - anchor) % DAY_NS for s in self.sessions)
        lengths = tuple(s.length_ns for s in self.sessions)
        for i in range(1, len(starts)):
            if starts[i] < starts[i - 1] + lengths[i - 1]:
                msg = (
                    f"Market {self.name!r}: session {self.sessions[i]} starts before "
                    f"{self.sessions[i - 1]} ends; sessions must be in order and must not overlap"
                )
                raise VizflowError(msg)
        last_end = starts[-1] + lengths[-1]
        if last_end > DAY_NS:
            msg = f"Market {self.name!r}: sessions span more than 24 hours"
            raise VizflowError(msg)
        # The gap from the last close to the next first open is split at its midpoint.
        split = (last_end + DAY_NS + starts[0]) // 2
        return Layout(anchor, starts, lengths, split, sum(lengths))

    @property
    def total_seconds(self) -> float:
        """Total session length of one trading day, in seconds."""
        return self.layout.total_ns / _NS_PER_S

    def elapsed_seconds(
        self, time: dt.datetime | dt.time | str, *, outside: OutsidePolicy = "clamp"
    ) -> float | None:
        """Session-aware seconds since the first session's open, for one time.

        This scalar method is the reference the vectorised :func:`vizflow.parse_time` must agree with.

        Parameters
        ----------
        time
            A wall-clock time (:class:`datetime.time` or ``"HH:MM[:SS[.fff]]"``), or a datetime
            (timezone-aware datetimes are converted to ``tz``).
        outside
            ``"clamp"``, ``"null"`` (returns ``None``) or ``"raise"``; see the module docstring.

        Returns
        -------
        float or None
            Elapsed seconds, between 0 and :attr:`total_seconds`.

        Raises
        ------
        DataError
            With ``outside="raise"`` for a time outside every session.
        VizflowError
            For an unknown ``outside`` policy, or a ``time`` that is not a time of day.

        Examples
        --------
        >>> import datetime as dt
        >>> CN.elapsed_seconds(dt.datetime(2024, 1, 1, 9, 30, 0))
        0.0
        >>> CN.elapsed_seconds(dt.datetime(2024, 1, 1, 13, 0, 0))
        7200.0
        >>> CN.elapsed_seconds(dt.time(12, 0))  # lunch break: end of the morning
        7200.0
        >>> print(CN.elapsed_seconds(dt.time(12, 0), outside="null"))
        None
        >>> CN.elapsed_seconds("13:00:00.5")
        7200.5
        """
        require_choice("outside", outside, OUTSIDE_POLICIES, where="elapsed_seconds")
        return self._elapsed_ns_scalar(_time_of_day_ns(time, self.tz), outside=outside)

    def _elapsed_ns_scalar(self, tod_ns: int, *, outside: OutsidePolicy) -> float | None:
        """Elapsed seconds for ``tod_ns`` nanoseconds since midnight, by walking the sessions."""
        anchor, starts, lengths, split, _total = self.layout
        pos = (tod_ns - anchor) % DAY_NS
        if pos >= split:
            pos -= DAY_NS
        elapsed = 0
        inside = False
        for start, length in zip(starts, lengths, strict=True):
            end = start + length
            lo_ok = pos >= start if self.closed in ("left", "both") else pos > start
            hi_ok = pos <= end if self.closed in ("right", "both") else pos < end
            if lo_ok and hi_ok:
                inside = True
            if pos >= end:
                elapsed += length
            elif pos > start:
                elapsed += pos - start
        if not inside:
            if outside == "null":
                return None
            if outside == "raise":
                msg = (
                    f"elapsed_seconds: {_format_ns(tod_ns)} is outside every session of {self.name} "
                    f"({self.describe()})"
                )
                raise DataError(msg)
        return elapsed / _NS_PER_S

    def describe(self) -> str:
        """Sessions as text, e.g. ``"09:30-11:30, 13:00-15:00"``.

        Examples
        --------
        >>> CN.describe()
        '09:30-11:30, 13:00-15:00'
        """
        return ", ".join(f"{s.start}-{s.end}" for s in self.sessions)


def _time_of_day_ns(time: dt.datetime | dt.time | str, tz: str | None) -> int:
    """Nanoseconds since midnight of ``time`` (a datetime is first converted to ``tz`` if aware)."""
    if isinstance(time, str):
        ns = clock_to_ns(time, where="elapsed_seconds")
        if ns < DAY_NS:
            return ns
    elif isinstance(time, dt.datetime | dt.time):
        if isinstance(time, dt.datetime):
            if time.tzinfo is not None and tz is not None:
                time = time.astimezone(ZoneInfo(tz))
            time = time.time()
        return (time.hour * 3600 + time.minute * 60 + time.second) * _NS_PER_S + time.microsecond * 1000
    msg = (
        f"elapsed_seconds: {time!r} is not a time of day; expected a datetime.time, a datetime.datetime "
        "or a string 'HH:MM[:SS[.fff]]' before 24:00"
    )
    raise VizflowError(msg)


def _format_ns(ns: int) -> str:
    seconds, frac = divmod(ns, _NS_PER_S)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{frac // 1_000_000:03d}"


CN = Market("CN", (Session("09:30", "11:30"), Session("13:00", "15:00")), tz="Asia/Shanghai")
"""China A-shares (SSE/SZSE) continuous trading: 09:30-11:30 and 13:00-15:00, Asia/Shanghai."""

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
)
"""China commodity futures with the longest night session (21:00-02:30, e.g. SHFE gold/silver).

The night session opens the trading day: 21:00 is 0 and the clock runs through midnight."""

HK = Market("HK", (Session("09:30", "12:00"), Session("13:00", "16:00")), tz="Asia/Hong_Kong")
"""Hong Kong (HKEX) continuous trading: 09:30-12:00 and 13:00-16:00."""

US = Market("US", (Session("09:30", "16:00"),), tz="America/New_York")
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
