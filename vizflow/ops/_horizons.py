"""Horizons and tolerances of the lookups: numbers, ``"close"``, Polars duration strings and timedeltas.

``forward_return`` and ``forward_window`` take the same horizons, read by :func:`parse_horizons`:

- a finite number, in the unit of a numeric time column (seconds for ``elapsed_seconds``;
  negative: the past; ``0``: the row's own time);
- a Polars duration string of fixed length (``"500ms"``, ``"5s"``, ``"1m"``, ``"1h30m"``, ``"-5s"``;
  units ``ns us ms s m h d w``), or a ``datetime.timedelta``: seconds on a numeric time column (on
  the session clock ``"1m"`` is 60 session seconds), wall-clock time on a Datetime, Date or
  Duration column;
- ``"close"``: up to the key's last observation.

A horizon's column suffix is the horizon as given (``return_1m``, ``return_0.5``, ``return_close``);
:func:`seconds_of` reads such a suffix back (``"1m"`` -> 60.0).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

from vizflow.exceptions import VizflowError

__all__ = [
    "CLOSE",
    "Horizon",
    "HorizonPair",
    "horizon_name",
    "parse_duration",
    "parse_horizons",
    "parse_windows",
    "seconds_of",
]

CLOSE = "close"  # the horizon of the markout to the key group's last price

_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3_600 * 10**9}
_NS |= {"d": 86_400 * 10**9, "w": 7 * 86_400 * 10**9}
_DURATION = re.compile(r"-?(?:\d+(?:ns|us|µs|ms|s|m|h|d|w))+")
_PART = re.compile(r"(\d+)(ns|us|µs|ms|s|m|h|d|w)")
_HELP = "a finite number, a duration ('500ms', '5s', '1m', '1h30m', a datetime.timedelta) or 'close'"


def parse_duration(text: str) -> int | None:
    """Return the nanoseconds of a fixed-length Polars duration string, or None if it is not one.

    Calendar units (``mo``, ``q``, ``y``) and the index count ``i`` have no fixed length.

    Examples
    --------
    >>> parse_duration("1h30m"), parse_duration("-500ms"), parse_duration("1mo"), parse_duration("60")
    (5400000000000, -500000000, None, None)
    """
    text = text.strip()
    if not _DURATION.fullmatch(text):
        return None
    total = sum(int(n) * _NS[unit] for n, unit in _PART.findall(text))
    return -total if text.startswith("-") else total


def _timedelta_text(value: dt.timedelta) -> str:
    """Write a timedelta as a Polars duration string: ``1m30s``, ``-5s``, ``500ms``."""
    us = abs(value) // dt.timedelta(microseconds=1)
    parts = []
    for unit, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000)):
        count, us = divmod(us, size)
        parts.append(f"{count}{unit}" if count else "")
    ms, us = divmod(us, 1_000)
    parts += [f"{ms}ms" if ms else "", f"{us}us" if us else ""]
    text = "".join(parts) or "0s"
    return f"-{text}" if value < dt.timedelta(0) else text


@dataclass(frozen=True)
class Horizon:
    """One horizon as given: its name suffix and either a number, a duration or the close."""

    text: str
    number: float | None = None
    ns: int | None = None

    @property
    def is_close(self) -> bool:
        """Tell whether this is the horizon to the key's last observation."""
        return self.number is None and self.ns is None

    def in_unit(
        self, ns_per_unit: float | None, *, where: str, time_col: str, what: str = "horizon"
    ) -> float:
        """Return the horizon in the time column's unit (``ns_per_unit`` None: numbers, seconds).

        A number on a temporal column (Datetime, Date, Duration) has no unit and is refused,
        except 0; the close is ``inf`` (a window up to the key's last observation).
        """
        if self.is_close:
            return math.inf
        if self.ns is not None:
            return self.ns / (1e9 if ns_per_unit is None else ns_per_unit)
        assert self.number is not None
        if ns_per_unit is not None and self.number != 0:
            msg = (
                f"{where}: {what} {self.text} is a number, but time column {time_col!r} is a "
                f"date or time, which has no unit for it; give a duration such as '{self.text}s', "
                f"'{self.text}m' or a datetime.timedelta"
            )
            raise VizflowError(msg)
        return self.number


def _parse_one(value: object, *, where: str, what: str) -> Horizon:
    if isinstance(value, str):
        if value == CLOSE:
            return Horizon(CLOSE)
        ns = parse_duration(value)
        if ns is not None:
            return Horizon(value.strip(), ns=ns)
    elif isinstance(value, dt.timedelta):
        return Horizon(_timedelta_text(value), ns=value // dt.timedelta(microseconds=1) * 1_000)
    elif isinstance(value, np.timedelta64):
        return _parse_one(value.astype("timedelta64[us]").item(), where=where, what=what)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_) and math.isfinite(value):
        number = float(value)
        text = str(int(number)) if number.is_integer() else repr(number)
        return Horizon(text, number=number)
    msg = f"{where}: {what} {value!r} is not {_HELP}"
    raise VizflowError(msg)


@dataclass(frozen=True)
class HorizonPair:
    """A window ``(t + start, t + end]`` given as a pair of horizons; named ``{start}_{end}``."""

    start: Horizon
    end: Horizon

    @property
    def text(self) -> str:
        """The column suffix: both ends as given, ``-5_5``, ``1s_5s``, ``-1m_0``."""
        return f"{self.start.text}_{self.end.text}"


def _given(horizons: object, *, where: str) -> list[object]:
    # numbers.Real admits numpy scalars (np.int64 is no int); a timedelta or a string is one horizon.
    scalar = isinstance(horizons, str | dt.timedelta | np.timedelta64 | numbers.Real | np.bool_)
    iterable = not scalar and hasattr(horizons, "__iter__")
    given = list(horizons) if iterable else [horizons]  # type: ignore[call-overload]
    if not given:
        msg = f"{where}: horizons is empty; expected e.g. [1, 5, 60] or ['5s', '1m']"
        raise VizflowError(msg)
    return given


def _unique(parsed: list[Horizon] | list[Horizon | HorizonPair], *, where: str) -> None:
    names = [h.text for h in parsed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"{where}: duplicate horizons {duplicates}; give each horizon once"
        raise VizflowError(msg)


def parse_horizons(horizons: object, *, where: str) -> list[Horizon]:
    """Read one horizon or several, each given once (by name), refusing anything else with one message.

    Examples
    --------
    >>> [h.text for h in parse_horizons([60, 0.5, "1m", "close"], where="demo")]
    ['60', '0.5', '1m', 'close']
    """
    parsed = [_parse_one(h, where=where, what="horizon") for h in _given(horizons, where=where)]
    _unique(parsed, where=where)
    return parsed


def _parse_pair(value: tuple[object, ...] | list[object], *, where: str) -> HorizonPair:
    if len(value) != 2:  # noqa: PLR2004
        msg = f"{where}: window {value!r} is not a pair (start, end) of horizons"
        raise VizflowError(msg)
    start, end = (_parse_one(v, where=where, what="window end") for v in value)
    if start.is_close or end.is_close:
        msg = f"{where}: window {value!r}: 'close' is a horizon of its own, not an end of a pair"
        raise VizflowError(msg)
    return HorizonPair(start, end)


def parse_windows(horizons: object, *, where: str) -> list[Horizon | HorizonPair]:
    """Read horizons as :func:`parse_horizons` does, and pairs ``(start, end)`` among them.

    A pair is an element of the list (``[(-5, 5)]``); a bare tuple ``(-5, 5)`` stays two horizons.

    Examples
    --------
    >>> [h.text for h in parse_windows([60, (-5, 5), ("1s", "5s")], where="demo")]
    ['60', '-5_5', '1s_5s']
    """
    parsed = [
        _parse_pair(h, where=where)
        if isinstance(h, tuple | list)
        else _parse_one(h, where=where, what="horizon")
        for h in _given(horizons, where=where)
    ]
    _unique(parsed, where=where)
    return parsed


def parse_tolerance(tolerance: object, *, where: str) -> Horizon | None:
    """Read a tolerance: None (unlimited), or a number or a duration ``>= 0``."""
    if tolerance is None:
        return None
    found = _maybe(tolerance, where=where)
    if found is None or found.is_close or (found.number or 0) < 0 or (found.ns or 0) < 0:
        msg = (
            f"{where}: tolerance {tolerance!r} is not a finite number >= 0 or a duration "
            "('500ms', '5s', a datetime.timedelta) of staleness"
        )
        raise VizflowError(msg)
    return found


def _maybe(value: object, *, where: str) -> Horizon | None:
    try:
        return _parse_one(value, where=where, what="tolerance")
    except VizflowError:
        return None


def horizon_name(horizon: float | str | dt.timedelta, prefix: str = "return_") -> str:
    """Column name of a horizon: ``return_60`` for 60, ``return_0.5``, ``return_-5``, ``return_1m``.

    Whole-number horizons print without a decimal point, others with Python's shortest repr;
    duration strings as given, timedeltas as Polars duration strings, and ``"close"``.

    Examples
    --------
    >>> horizon_name(60), horizon_name(60.0), horizon_name(0.5), horizon_name(-5), horizon_name("close")
    ('return_60', 'return_60', 'return_0.5', 'return_-5', 'return_close')
    >>> import datetime as dt
    >>> horizon_name("1m"), horizon_name(dt.timedelta(seconds=90), "volume_")
    ('return_1m', 'volume_1m30s')
    """
    return f"{prefix}{_parse_one(horizon, where='horizon_name', what='horizon').text}"


def seconds_of(text: str) -> float:
    """Read a horizon suffix back in seconds (``"60"``, ``"0.5"``, ``"1m"``); NaN if it is none.

    Examples
    --------
    >>> seconds_of("60"), seconds_of("1m"), seconds_of("1h30m"), seconds_of("-500ms"), seconds_of("x")
    (60.0, 60.0, 5400.0, -0.5, nan)
    """
    ns = parse_duration(text)
    if ns is not None:
        return ns / 1e9
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan
