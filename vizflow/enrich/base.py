"""The extension points of the enrichment engine: ``State``, ``TagRule`` and ``ExpandingRule``.

Contract between :class:`~vizflow.enrich.enricher.Enricher` and its rules (the lead fixed this so the
enrichment engine and FIFOMatch can be built in parallel; refine, but keep it compatible):

* The Enricher stable-sorts the input by ``(by, sort_by)``, computes CSR group offsets
  ``offsets: int64[n_groups + 1]`` (group ``g`` is rows ``offsets[g]:offsets[g + 1]`` of the sorted
  frame) and ``row_index: int64[n]`` (each sorted row's position in the input frame).
* Ordinary rules produce one value per row for each of their ``output_columns``.
* An :class:`ExpandingRule` (e.g. FIFOMatch) instead returns ``(source, columns)`` from
  :meth:`ExpandingRule.expand`: ``source: int64[m]`` are positions in the *sorted* frame whose original
  columns output row ``k`` carries, and ``columns`` maps each name in ``output_columns`` to a
  ``pl.Series`` of length ``m``. The Enricher gathers the sorted frame (with the ordinary rules' tags)
  by ``source`` once and attaches ``columns``. At most one expanding rule per Enricher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    from numpy.typing import NDArray

__all__ = ["ExpandingRule", "State", "TagRule"]


class State:
    """Per-symbol state of the Python rule path; :meth:`reset` runs at each new symbol.

    ``running`` holds the values of :class:`~vizflow.TagRunning` rules on the Python path; the
    Enricher empties it at each new symbol, before calling :meth:`reset`.
    """

    running: dict[str, Any]

    def reset(self, symbol: Any) -> None:
        """Forget everything carried over from the previous symbol (override in subclasses)."""


class TagRule:
    """Base class of enrichment rules.

    Subclasses declare ``output_columns`` and ``inputs`` (the columns they read) and implement
    :meth:`process` for the Python path (one row as a dict, the symbol's :class:`State`).
    """

    expands_rows: ClassVar[bool] = False

    @property
    def output_columns(self) -> list[str]:
        """Names of the columns this rule adds."""
        raise NotImplementedError

    @property
    def inputs(self) -> list[str]:
        """Names of the columns this rule reads."""
        raise NotImplementedError

    def process(self, row: dict[str, Any], state: State) -> dict[str, Any] | list[dict[str, Any]]:
        """Tag one row (Python path): return ``{column: value}`` (or a list of them to expand)."""
        raise NotImplementedError


class ExpandingRule(TagRule):
    """A rule that may turn one input row into several output rows, e.g. FIFOMatch."""

    expands_rows: ClassVar[bool] = True

    def expand(
        self,
        sorted_frame: pl.DataFrame,
        offsets: NDArray[np.int64],
        row_index: NDArray[np.int64],
        by: list[str],
    ) -> tuple[NDArray[np.int64], dict[str, pl.Series]]:
        """Compute the expanded rows for the whole sorted frame in one compiled pass.

        Parameters
        ----------
        sorted_frame
            The input, stable-sorted by ``(by, sort_by)``.
        offsets
            CSR group boundaries, ``int64[n_groups + 1]``.
        row_index
            Each sorted row's position in the input frame, ``int64[n]``.
        by
            The group columns (to name a group in error messages).

        Returns
        -------
        tuple
            ``(source, columns)``: positions in ``sorted_frame`` carried by each output row, and
            the new output columns (each of length ``len(source)``).
        """
        raise NotImplementedError
