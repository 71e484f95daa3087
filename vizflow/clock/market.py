"""The :class:`Market`: a venue's sessions and phases, and the session-aware clock they define."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vizflow.clock.sessions import (
    CLOSED,
    DAY_NS,
    NS_PER_S,
    OUTSIDE_POLICIES,
    Layout,
    Phase,
    Session,
    clock_to_ns,
    format_ns,
    require_choice,
    time_of_day_ns,
)
from vizflow.exceptions import DataError, VizflowError

if TYPE_CHECKING:
    import datetime as dt

    from vizflow._typing import Closed, OutsidePolicy

__all__ = ["Market"]


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
    >>> from vizflow.clock import CN, US
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
        >>> from vizflow.clock import CN, US
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
                f"(which starts at {format_ns(anchor)[:5]}); split it in two"
            )
            raise VizflowError(msg)
        return tuple(spans)

    @property
    def phase_names(self) -> tuple[str, ...]:
        """Phase names in order of first appearance, then ``"closed"``: the phase column's categories.

        Examples
        --------
        >>> from vizflow.clock import CN, US
        >>> CN.phase_names
        ('pre_open_auction', 'continuous', 'break', 'closing_auction', 'after_hours', 'closed')
        """
        return (*dict.fromkeys(name for name, _, _ in self.phase_layout), CLOSED)

    def phase_at(self, time: dt.datetime | dt.time | str) -> str:
        """Name the phase of one time (the scalar reference :func:`vizflow.session_phase` agrees with).

        Examples
        --------
        >>> from vizflow.clock import CN, US
        >>> CN.phase_at("09:25:00.940"), CN.phase_at("11:30"), CN.phase_at("14:59:59"), CN.phase_at("20:00")
        ('pre_open_auction', 'break', 'closing_auction', 'closed')
        """
        pos = (time_of_day_ns(time, self.tz) - self.layout.anchor_ns) % DAY_NS
        return next((name for name, lo, hi in self.phase_layout if lo <= pos < hi), CLOSED)

    @property
    def total_seconds(self) -> float:
        """Total session length of one trading day, in seconds."""
        return self.layout.total_ns / NS_PER_S

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
        >>> from vizflow.clock import CN, US
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
        return self._elapsed_ns_scalar(time_of_day_ns(time, self.tz), outside=outside)

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
                    f"elapsed_seconds: {format_ns(tod_ns)} is outside every session of {self.name} "
                    f"({self.describe()})"
                )
                raise DataError(msg)
        return elapsed / NS_PER_S

    def describe(self) -> str:
        """Sessions as text, e.g. ``"09:30-11:30, 13:00-15:00"``.

        Examples
        --------
        >>> from vizflow.clock import CN, US
        >>> CN.describe()
        '09:30-11:30, 13:00-15:00'
        """
        return ", ".join(f"{s.start}-{s.end}" for s in self.sessions)
