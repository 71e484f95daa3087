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

A market may also declare its **phases** (:class:`Phase`): named stretches of the day such as the
opening call auction, the lunch break or after-hours trading, as data beside its sessions. A market
that declares none has the phases its sessions imply: ``continuous`` inside a session, ``break``
between two, ``closed`` elsewhere. :func:`vizflow.session_phase` names each print's phase.

``closed`` decides whether session edges are inside (``"both"``, the default, so the 15:00:00
closing-auction print is inside), only the start (``"left"``) or only the end (``"right"``). With
``"clamp"`` the number is the same either way; ``closed`` matters for ``"null"`` and ``"raise"``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vizflow._optional import import_optional
from vizflow._typing import OutsidePolicy
from vizflow.dates import format_date, parse_date
from vizflow.exceptions import CalendarError, DataError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from vizflow._typing import Closed, DateLike

__all__ = [
    "CN",
    "CN_FUTURES",
    "CRYPTO",
    "HK",
    "MARKETS",
    "US",
    "Market",
    "Phase",
    "Session",
    "get_market",
    "market_for",
]

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


class Phase(NamedTuple):
    """A named stretch ``[start, end)`` of a market's day, in wall-clock times of its time zone.

    A plain tuple ``(name, start, end)`` works wherever a ``Phase`` does. ``end`` earlier than
    ``start`` crosses midnight. The name ``"closed"`` is reserved for the time outside every phase.

    Examples
    --------
    >>> Phase("closing_auction", "14:57", "15:05").name
    'closing_auction'
    """

    name: str
    start: str
    end: str


CLOSED = "closed"
"""The phase of a time outside every declared phase."""


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
    phases
        The day's named phases (:class:`Phase` or ``(name, start, end)`` tuples), each
        ``[start, end)``, in any order, not overlapping. Empty (default): the phases the sessions
        imply (see :attr:`phase_layout`). Phases do not change the clock.

    Raises
    ------
    VizflowError
        For no sessions, sessions out of order or overlapping, an unknown ``closed``, a ``tz``
        that is not an IANA time zone (checked here, not when the first frame is parsed), or
        phases that overlap, have no name, are called ``"closed"`` or are not clock times.

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
    phases: tuple[Phase, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(self.sessions))
        object.__setattr__(self, "phases", tuple(self._phase(p) for p in self.phases))
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
        _ = self.phase_layout

    def _phase(self, phase: object) -> Phase:
        where = f"Market {self.name!r} phase {phase!r}"
        if not isinstance(phase, tuple) or len(phase) != 3:  # noqa: PLR2004
            msg = f"{where}: expected a Phase or a tuple (name, start, end)"
            raise VizflowError(msg)
        name, start, end = phase
        if not isinstance(name, str) or not name or name == CLOSED:
            msg = f"{where}: the name must be a non-empty string other than {CLOSED!r}"
            raise VizflowError(msg)
        for text in (start, end):
            clock_to_ns(text, where=where)
        return Phase(name, start, end)

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

    @cached_property
    def phase_layout(self) -> tuple[tuple[str, int, int], ...]:
        """The phases as ``(name, start_ns, end_ns)`` on the market's day axis, in time order.

        The axis starts at :attr:`Layout.anchor_ns` (midnight unless a session crosses it). Without
        declared phases, each session is ``continuous`` and each gap between two sessions a
        ``break``.

        Examples
        --------
        >>> [name for name, _, _ in US.phase_layout]
        ['pre_market', 'continuous', 'after_hours']
        >>> [
        ...     name
        ...     for name, _, _ in Market(
        ...         "X", (Session("09:00", "10:00"), Session("11:00", "12:00"))
        ...     ).phase_layout
        ... ]
        ['continuous', 'break', 'continuous']
        """
        anchor = self.layout.anchor_ns
        if self.phases:
            spans = []
            for name, start, end in self.phases:
                lo = (clock_to_ns(start) - anchor) % DAY_NS
                length = (clock_to_ns(end) - clock_to_ns(start)) % DAY_NS or DAY_NS
                spans.append((name, lo, lo + length))
            spans.sort(key=lambda span: span[1])
        else:
            starts, lengths = self.layout.starts_ns, self.layout.lengths_ns
            spans = [("continuous", starts[0], starts[0] + lengths[0])]
            for lo, length in zip(starts[1:], lengths[1:], strict=True):
                if lo > spans[-1][2]:
                    spans.append(("break", spans[-1][2], lo))
                spans.append(("continuous", lo, lo + length))
        for (a, _, a_end), (b, b_lo, _) in itertools.pairwise(spans):
            if b_lo < a_end:
                msg = f"Market {self.name!r}: phase {b!r} starts before {a!r} ends; phases must not overlap"
                raise VizflowError(msg)
        if spans[-1][2] > DAY_NS:
            msg = (
                f"Market {self.name!r}: phase {spans[-1][0]!r} runs past the end of the market's day "
                f"(which starts at {_format_ns(anchor)[:5]}); split it in two"
            )
            raise VizflowError(msg)
        return tuple(spans)

    @property
    def phase_names(self) -> tuple[str, ...]:
        """Phase names in order of first appearance, then ``"closed"``: the phase column's categories.

        Examples
        --------
        >>> CN.phase_names
        ('pre_open_auction', 'continuous', 'break', 'closing_auction', 'after_hours', 'closed')
        """
        return (*dict.fromkeys(name for name, _, _ in self.phase_layout), CLOSED)

    def phase_at(self, time: dt.datetime | dt.time | str) -> str:
        """Name the phase of one time (the scalar reference :func:`vizflow.session_phase` agrees with).

        Examples
        --------
        >>> CN.phase_at("09:25:00.940"), CN.phase_at("11:30"), CN.phase_at("14:59:59"), CN.phase_at("20:00")
        ('pre_open_auction', 'break', 'closing_auction', 'closed')
        """
        pos = (_time_of_day_ns(time, self.tz) - self.layout.anchor_ns) % DAY_NS
        return next((name for name, lo, hi in self.phase_layout if lo <= pos < hi), CLOSED)

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


def market_for(exchange: str, date: DateLike) -> Market:
    """Build one day's :class:`Market` from the ``exchange_calendars`` schedule (extra ``calendars``).

    The day's open, lunch break and close become its sessions, so half days and irregular
    closes give the right clock: on 2026-11-27 (the day after Thanksgiving) XNYS closes at 13:00 New
    York time, and that day's :attr:`~Market.total_seconds` is 12,600, not 23,400. The market has
    no declared phases (:attr:`~Market.phase_layout` derives ``continuous`` and ``break`` from the
    sessions) and is named ``"<exchange> <YYYYMMDD>"``.

    Parameters
    ----------
    exchange
        An exchange_calendars code: ``"XNYS"``, ``"XHKG"``, ``"XSHG"``, ...
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.

    Returns
    -------
    Market
        That day's sessions in the exchange's time zone.

    Raises
    ------
    ImportError
        Without exchange_calendars (``pip install 'vizflow[calendars]'``).
    CalendarError
        For an unknown exchange, a date outside what exchange_calendars covers, or a date that is
        not a session of the exchange.

    Examples
    --------
    >>> day = market_for("XNYS", "20261127")
    >>> day.describe(), day.total_seconds, day.tz
    ('09:30:00-13:00:00', 12600.0, 'America/New_York')
    >>> market_for("XHKG", "20240102").describe()
    '09:30:00-12:00:00, 13:00:00-16:00:00'
    """
    xcals = import_optional("exchange_calendars", extra="calendars")
    where = "market_for"
    day = format_date(date)
    when = parse_date(day)
    try:
        with warnings.catch_warnings():
            # exchange_calendars' own use of deprecated pandas API is not the caller's concern.
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            cal = xcals.get_calendar(exchange, start=str(when - dt.timedelta(days=1)), end=str(when))
            schedule = cal.schedule
    except Exception as exc:  # exchange_calendars raises its own error types
        msg = f"{where}: {exchange!r} on {day}: {exc}"
        raise CalendarError(msg) from exc
    rows = schedule[schedule.index.strftime("%Y%m%d") == day]
    if rows.empty:
        msg = f"{where}: {day} is not a session of {exchange} (a weekend or a holiday)"
        raise CalendarError(msg)
    row = rows.iloc[0]
    tz = str(cal.tz)

    def local(column: str) -> str:
        return row[column].tz_convert(tz).strftime("%H:%M:%S")

    sessions: tuple[Session, ...]
    if row.notna()["break_start"]:
        sessions = (Session(local("open"), local("break_start")), Session(local("break_end"), local("close")))
    else:
        sessions = (Session(local("open"), local("close")),)
    return Market(f"{exchange} {day}", sessions, tz=tz)
