"""The session clock's compiled pass inside a Polars expression, and the checks that run when collected.

:func:`vizflow.parse_time` and :func:`vizflow.elapsed_expr` decode, validate and map times to
elapsed seconds in one elementwise compiled pass (:func:`vizflow.kernels.clock.session_clock_nb`),
called through ``map_batches(..., is_elementwise=True)``: the plan stays lazy and the pass
streams batch by batch. The ``"raise"`` policies need every row before they can name the first
offender and count them, so they wrap the seconds in one more whole-column step that costs two
null counts when nothing is wrong; only then does it classify the rows again to build the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from vizflow.exceptions import DataError
from vizflow.kernels.clock import INVALID, OUTSIDE, SESSION_WIDTHS, session_clock_nb
from vizflow.market import DAY_NS
from vizflow.ops.time_of_day import encoding_hint, invalid_message, require_series_encoding, to_unit

if TYPE_CHECKING:
    from collections.abc import Callable

    from vizflow._typing import InvalidPolicy, OutsidePolicy
    from vizflow.market import Market
    from vizflow.ops.time_of_day import Encoding

__all__ = ["ClockPass", "outside_message"]

_NO_STATUS = np.empty(0, np.uint8)


@dataclass(frozen=True)
class ClockPass:
    """One market's clock over one time encoding: what the kernel reads and how to run it.

    Parameters
    ----------
    market
        The market whose sessions define the clock.
    encoding
        How the raw times are stored.
    unit
        Units per second of the kernel's input (1,000 for HHMMSSmmm, 10^9 for times of day in ns).
    to_input
        Builds the kernel's input from the raw time expression: the raw HHMMSSmmm integers
        themselves, or the Int64 time of day (null where a string is not a time).

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> clock = ClockPass(vf.CN, "hhmmssmmm", 1_000, lambda raw: raw)
    >>> pl.DataFrame({"t": [93000000, 120000000, 150000000]}).select(
    ...     clock.seconds(pl.col("t"), null_outside=True)
    ... )
    shape: (3, 1)
    ┌─────────┐
    │ t       │
    │ ---     │
    │ f64     │
    ╞═════════╡
    │ 0.0     │
    │ null    │
    │ 14400.0 │
    └─────────┘
    """

    market: Market
    encoding: Encoding
    unit: int
    to_input: Callable[[pl.Expr], pl.Expr]

    def seconds(self, raw: pl.Expr, *, null_outside: bool) -> pl.Expr:
        """Return ``raw``'s Float64 elapsed seconds, computed in one elementwise pass.

        Null for a null, for a value that is not a time of day and (``null_outside``) for a time
        outside every session.
        """
        run = partial(self.run, null_outside=null_outside)
        return self.to_input(raw).map_batches(run, return_dtype=pl.Float64, is_elementwise=True)

    def run(self, values: pl.Series, *, null_outside: bool) -> pl.Series:
        """Run the kernel over one batch of its input (see :meth:`seconds`)."""
        ints = self._ints(values)
        seconds = np.empty(ints.size, np.float64)
        n_nan = self._kernel(ints, null_outside, seconds, _NO_STATUS)
        # Integer times hold no NaN of their own, so a NaN is a null.
        return pl.Series(values.name, seconds, nan_to_null=n_nan > 0)

    def status(self, raw: pl.Series) -> np.ndarray:
        """Return each raw value's :data:`~vizflow.kernels.clock.INVALID` / ``OUTSIDE`` / ``VALID`` status.

        The slow path of the checks: it runs only when a check has found something to report.
        """
        frame = pl.DataFrame({"raw": raw})
        ints = self._ints(frame.select(self.to_input(pl.col("raw"))).to_series())
        status = np.empty(ints.size, np.uint8)
        self._kernel(ints, False, np.empty(ints.size, np.float64), status)
        return status

    def _ints(self, values: pl.Series) -> np.ndarray:
        if self.encoding == "hhmmssmmm":
            # A Datetime column read as HHMMSSmmm would decode garbage: refuse its dtype here,
            # before anything reports its values.
            require_series_encoding(values, self.encoding)
        # Not strict: a UInt64 beyond Int64 becomes null, which the kernel reads as -1 (not a
        # time of day), so it is reported as an invalid value naming it, not as a cast error.
        if values.dtype != pl.Int64:
            values = values.cast(pl.Int64, strict=False)
        if values.null_count():
            values = values.fill_null(-1)
        ints = values.to_numpy()
        # numba compiles read-only and writeable arrays apart; a zero-copy array is read-only,
        # a copy (several chunks) is made so too: one compiled kernel, warmed once.
        ints.setflags(write=False)
        return ints

    def _kernel(self, ints: np.ndarray, null_outside: bool, seconds: np.ndarray, status: np.ndarray) -> int:
        anchor, starts_ns, lengths_ns, split, _ = self.market.layout
        unit = self.unit
        starts, lengths = to_unit(starts_ns, unit), to_unit(lengths_ns, unit)
        # numba compiles one loop per number of sessions: pad to 2 or 4 with empty sessions at
        # the last close (they add no time, and hold no time the last session does not).
        width = next((w for w in SESSION_WIDTHS if w >= len(starts)), len(starts))
        last_end = starts[-1] + lengths[-1]
        starts += (last_end,) * (width - len(starts))
        lengths += (0,) * (width - len(lengths))
        return session_clock_nb(
            ints,
            self.encoding == "hhmmssmmm",
            to_unit(anchor, unit),
            starts,
            lengths,
            to_unit(split, unit),
            to_unit(DAY_NS, unit),
            float(unit),
            self.market.closed in ("left", "both"),
            self.market.closed in ("right", "both"),
            null_outside,
            seconds,
            status,
        )

    def checked(
        self,
        seconds: pl.Expr,
        raw: pl.Expr,
        *,
        invalid: InvalidPolicy,
        outside: OutsidePolicy,
        check_dtype: bool = False,
    ) -> pl.Expr:
        """Return ``seconds`` (from :meth:`seconds`), checked when collected.

        ``seconds`` must come from ``null_outside=outside != "clamp"``.
        :class:`~vizflow.exceptions.DataError` for a value that is not a time of day
        (``invalid="raise"``), then for a time outside every session (``outside="raise"``),
        naming the first raw value and the count; with ``check_dtype``, first
        :class:`~vizflow.exceptions.SchemaError` unless ``raw``'s dtype holds the encoding.
        """
        check = partial(self._check, invalid=invalid, outside=outside, check_dtype=check_dtype)
        both = pl.struct(seconds.alias("seconds"), raw.alias("raw"))
        return both.map_batches(check, return_dtype=pl.Float64)

    def _check(
        self, both: pl.Series, *, invalid: InvalidPolicy, outside: OutsidePolicy, check_dtype: bool
    ) -> pl.Series:
        seconds, raw = both.struct.field("seconds"), both.struct.field("raw")
        if check_dtype:
            require_series_encoding(raw, self.encoding)
        # Every null beyond the input's own is an invalid value or a time outside the sessions.
        if seconds.null_count() == raw.null_count() or (invalid == "null" and outside != "raise"):
            return seconds
        status = self.status(raw)
        present = raw.is_not_null().to_numpy()
        if invalid == "raise":
            self._raise_first(raw, (status == INVALID) & present, invalid_message(self.encoding))
        if outside == "raise":
            self._raise_first(raw, (status == OUTSIDE) & present, outside_message(self.market))
        return seconds

    def _raise_first(self, raw: pl.Series, bad: np.ndarray, message: str) -> None:
        count = int(bad.sum())
        if count:
            first = raw[int(bad.argmax())]
            hint = encoding_hint(raw.dtype, self.encoding)
            raise DataError(message.format(value=first, count=count, hint=hint))


def outside_message(market: Market) -> str:
    """Return the message for times outside every session (fill ``{count}`` and ``{value}``)."""
    return (
        f"parse_time: {{count}} time(s) outside every session of {market.name} "
        f"({market.describe()}), first: {{value!r}}; pass outside='clamp' or 'null' to keep them"
    )
