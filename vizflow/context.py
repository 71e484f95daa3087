"""``Context``: what a pipeline function knows about the date it is processing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizflow import calendar as cal_mod
from vizflow.exceptions import CalendarError

if TYPE_CHECKING:
    import polars as pl

    from vizflow.config import Config
    from vizflow.market import Market

__all__ = ["Context"]


@dataclass(frozen=True, eq=False)
class Context:
    """The configuration, market, calendar and date handed to a pipeline with its input.

    Parameters
    ----------
    config
        The run's :class:`~vizflow.Config`.
    date
        The date being processed, ``"YYYYMMDD"``.
    calendar
        A calendar frame (see :mod:`vizflow.calendar`), or ``None``.

    Examples
    --------
    >>> import vizflow as vf
    >>> ctx = vf.Context(
    ...     vf.Config(columns={"price": "mid"}), "20240103", vf.calendar.generate(["20240102", "20240103"])
    ... )
    >>> ctx.col("price"), ctx.market.name, ctx.prev_date()
    ('mid', 'CN', '20240102')
    """

    config: Config
    date: str
    calendar: pl.DataFrame | None = None

    @property
    def market(self) -> Market:
        """The config's market."""
        return self.config.market_obj

    def col(self, semantic: str) -> str:
        """Real column name of a semantic name (``config.col``)."""
        return self.config.col(semantic)

    def prev_date(self, n: int = 1) -> str:
        """Return the ``n``-th trading day before this date (needs a calendar)."""
        return cal_mod.prev_day(self._calendar(), self.date, n)

    def next_date(self, n: int = 1) -> str:
        """Return the ``n``-th trading day after this date (needs a calendar)."""
        return cal_mod.next_day(self._calendar(), self.date, n)

    def _calendar(self) -> pl.DataFrame:
        if self.calendar is None:
            msg = f"Context({self.date}): no calendar was given to the run"
            raise CalendarError(msg)
        return self.calendar
