"""The vizflow error hierarchy.

Every error derives from :class:`VizflowError` (itself a :class:`ValueError`), and its message names
the operation, the offending column, value or row, what was expected and what was available.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["CalendarError", "ColumnNotFoundError", "CompileError", "DataError", "SchemaError", "VizflowError"]


class VizflowError(ValueError):
    """Base class of every error vizflow raises on bad input."""


class ColumnNotFoundError(VizflowError, KeyError):
    """A column the operation needs is not in the frame."""

    def __str__(self) -> str:
        # KeyError would repr() the message; keep it readable.
        return str(self.args[0]) if self.args else ""

    @classmethod
    def missing(cls, missing: Iterable[str], available: Iterable[str], *, where: str) -> ColumnNotFoundError:
        """Build the error for columns ``missing`` from a frame with columns ``available``.

        Parameters
        ----------
        missing
            The names that were asked for and not found.
        available
            The frame's columns.
        where
            The operation that needed them, e.g. ``"parse_time"``.

        Returns
        -------
        ColumnNotFoundError
            The error, ready to raise.

        Examples
        --------
        >>> str(ColumnNotFoundError.missing(["tick_time"], ["ticktime", "price"], where="parse_time"))
        "parse_time: column 'tick_time' not found; available: ['ticktime', 'price']. Did you mean 'ticktime'?"
        """
        missing = list(missing)
        available = list(available)
        names = ", ".join(repr(m) for m in missing)
        noun = "column" if len(missing) == 1 else "columns"
        msg = f"{where}: {noun} {names} not found; available: {available}."
        hints = [
            f"'{close[0]}'"
            for m in missing
            if (close := difflib.get_close_matches(m, available, n=1, cutoff=0.6))
        ]
        if hints:
            msg += f" Did you mean {', '.join(hints)}?"
        return cls(msg)


class SchemaError(VizflowError, TypeError):
    """A column has a dtype the operation cannot use."""


class DataError(VizflowError):
    """Values are bad: nulls where none are allowed, unsorted input, impossible values."""


class CalendarError(VizflowError):
    """A date is outside the calendar's range or is not a trading day."""


class CompileError(VizflowError):
    """A rule's function cannot run as a rule: wrong arity, an unsupported return type or code."""
