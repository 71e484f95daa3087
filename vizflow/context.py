"""``Context``: what a pipeline function knows about the date it is processing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizflow import calendar as cal_mod
from vizflow import io as vf_io
from vizflow.exceptions import CalendarError

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

    from vizflow.calendar import Calendar
    from vizflow.config import Config
    from vizflow.market import Market

__all__ = ["Context"]


@dataclass(frozen=True, eq=False)
class Context:
    """The configuration, market, calendar, date and further inputs handed to a pipeline.

    Parameters
    ----------
    config
        The run's :class:`~vizflow.Config`.
    date
        The date being processed, ``"YYYYMMDD"``.
    calendar
        A :class:`~vizflow.calendar.Calendar` (or a frame with a ``date`` column, see
        :mod:`vizflow.calendar`), or ``None``.

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
    calendar: Calendar | pl.DataFrame | None = None

    @property
    def market(self) -> Market:
        """The config's market."""
        return self.config.market_obj

    def col(self, semantic: str) -> str:
        """Real column name of a semantic name (``config.col``)."""
        return self.config.col(semantic)

    def source_path(self, name: str) -> Path:
        """Return the file of source ``name`` for this date (``config.get_source_path(name, date)``)."""
        return self.config.get_source_path(name, self.date)

    def load(self, name: str) -> pl.LazyFrame:
        """Open this date's file of the config's source ``name`` (its ``[sources]`` table) lazily.

        Parameters
        ----------
        name
            A key of ``config.sources``, e.g. ``"quotes"``.

        Returns
        -------
        pl.LazyFrame
            As :func:`vizflow.load` opens it.

        Raises
        ------
        VizflowError
            For a name the config does not know (the message lists the known ones), or a
            truncated or foreign file.
        FileNotFoundError
            If this date's file is missing; the message names the source, the date and the path.

        Examples
        --------
        >>> import tempfile, pathlib, polars as pl, vizflow as vf
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = vf.save(pl.DataFrame({"mid": [10.0]}), root / "quotes" / "20240102.parquet")
        >>> cfg = vf.Config(input_dir=root, sources={"quotes": "quotes/{date}.parquet"})
        >>> vf.Context(cfg, "20240102").load("quotes").collect()["mid"].to_list()
        [10.0]
        """
        path = self.source_path(name)
        try:
            return vf_io.load(path)
        except FileNotFoundError:
            msg = f"Context.load: source {name!r} of {self.date}: no such file {str(path)!r}"
            raise FileNotFoundError(msg) from None

    def prev_date(self, n: int = 1) -> str:
        """Return the ``n``-th trading day before this date (needs a calendar that covers it)."""
        return cal_mod.prev_day(self._calendar(), self.date, n)

    def next_date(self, n: int = 1) -> str:
        """Return the ``n``-th trading day after this date (needs a calendar that covers it)."""
        return cal_mod.next_day(self._calendar(), self.date, n)

    def _calendar(self) -> Calendar | pl.DataFrame:
        if self.calendar is None:
            msg = f"Context({self.date}): no calendar was given to the run"
            raise CalendarError(msg)
        return self.calendar
