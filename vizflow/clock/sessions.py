"""Clock primitives: session and phase times, the day axis, and reading a time of day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, get_args
from zoneinfo import ZoneInfo

from vizflow._typing import OutsidePolicy
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CLOSED",
    "DAY_NS",
    "NS_PER_S",
    "OUTSIDE_POLICIES",
    "Layout",
    "Phase",
    "Session",
    "clock_to_ns",
    "format_ns",
    "require_choice",
    "time_of_day_ns",
]

DAY_NS = 86_400 * 1_000_000_000
"""Nanoseconds in a day."""

NS_PER_S = 1_000_000_000
"""Nanoseconds in a second."""
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
    ns = (hours * 3600 + minutes * 60) * NS_PER_S + round(seconds * NS_PER_S)
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
        return self.length_ns / NS_PER_S

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


def time_of_day_ns(time: dt.datetime | dt.time | str, tz: str | None) -> int:
    """Return the nanoseconds since midnight of ``time`` (an aware datetime is first converted to ``tz``).

    Parameters
    ----------
    time
        A :class:`datetime.time`, a :class:`datetime.datetime` or ``"HH:MM[:SS[.fff]]"``.
    tz
        The market's time zone, or None.

    Returns
    -------
    int
        Nanoseconds since midnight.

    Raises
    ------
    VizflowError
        For anything else, or ``"24:00"``.

    Examples
    --------
    >>> time_of_day_ns("09:30", None) // NS_PER_S
    34200
    """
    if isinstance(time, str):
        ns = clock_to_ns(time, where="elapsed_seconds")
        if ns < DAY_NS:
            return ns
    elif isinstance(time, dt.datetime | dt.time):
        if isinstance(time, dt.datetime):
            if time.tzinfo is not None and tz is not None:
                time = time.astimezone(ZoneInfo(tz))
            time = time.time()
        return (time.hour * 3600 + time.minute * 60 + time.second) * NS_PER_S + time.microsecond * 1000
    msg = (
        f"elapsed_seconds: {time!r} is not a time of day; expected a datetime.time, a datetime.datetime "
        "or a string 'HH:MM[:SS[.fff]]' before 24:00"
    )
    raise VizflowError(msg)


def format_ns(ns: int) -> str:
    """Return nanoseconds since midnight as ``"HH:MM:SS.fff"``.

    Examples
    --------
    >>> format_ns(34_200 * NS_PER_S + 5_000_000)
    '09:30:00.005'
    """
    seconds, frac = divmod(ns, NS_PER_S)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{frac // 1_000_000:03d}"
