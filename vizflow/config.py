"""``Config``: where a pipeline reads its dates, where it writes, and what columns are called."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizflow.exceptions import VizflowError
from vizflow.market import Market, get_market

if TYPE_CHECKING:
    from collections.abc import Mapping

    from vizflow._typing import DateLike

__all__ = ["Config", "format_date"]


def format_date(date: DateLike) -> str:
    """Return ``date`` as a ``"YYYYMMDD"`` string; accepts that string or a :class:`datetime.date`.

    Raises
    ------
    VizflowError
        For anything else, naming the value.

    Examples
    --------
    >>> import datetime as dt
    >>> format_date(dt.date(2024, 1, 2)), format_date("20240102")
    ('20240102', '20240102')
    """
    if isinstance(date, dt.date):
        return date.strftime("%Y%m%d")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():  # noqa: PLR2004
        try:
            dt.datetime.strptime(date, "%Y%m%d")
        except ValueError:
            pass
        else:
            return date
    msg = f"malformed date {date!r}; expected a 'YYYYMMDD' string or a datetime.date"
    raise VizflowError(msg)


@dataclass(frozen=True)
class Config:
    """Paths, file naming, market and column names of a pipeline.

    Parameters
    ----------
    input_dir
        Folder of the daily input files.
    output_dir
        Folder for the daily outputs (``{date}.parquet``).
    input_pattern
        File name of one date's input; ``{date}`` is replaced by ``"YYYYMMDD"``.
    market
        A preset name (``"CN"``, ``"CRYPTO"``, ``"CN_FUTURES"``, ``"HK"``, ``"US"``) or a
        :class:`~vizflow.Market`.
    columns
        Semantic name to the column's real name, e.g. ``{"price": "mid"}``.

    Examples
    --------
    >>> cfg = Config(input_dir="data", output_dir="out", columns={"price": "mid"})
    >>> cfg.col("price"), cfg.col("qty")
    ('mid', 'qty')
    >>> cfg.get_file_path("20240102").as_posix()
    'data/20240102.feather'
    """

    input_dir: Path = Path()
    output_dir: Path = Path("output")
    input_pattern: str = "{date}.feather"
    market: str | Market = "CN"
    columns: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = field(default=None, compare=False, repr=False)
    """The TOML file this config was read from (set by :meth:`from_toml`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_dir", Path(self.input_dir))
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        object.__setattr__(self, "columns", dict(self.columns))
        if "{date}" not in self.input_pattern:
            msg = f"Config: input_pattern {self.input_pattern!r} must contain '{{date}}'"
            raise VizflowError(msg)
        get_market(self.market)  # fail early on an unknown market name

    def __hash__(self) -> int:
        columns = tuple(sorted(self.columns.items()))
        return hash((self.input_dir, self.output_dir, self.input_pattern, self.market, columns))

    @property
    def market_obj(self) -> Market:
        """The :class:`~vizflow.Market` named by ``market``."""
        return get_market(self.market)

    def col(self, semantic: str) -> str:
        """Real column name for a semantic name; an unmapped name is returned as is."""
        return self.columns.get(semantic, semantic)

    def get_file_path(self, date: DateLike) -> Path:
        """Input file of ``date``: ``input_dir / input_pattern.format(date="YYYYMMDD")``."""
        return self.input_dir / self.input_pattern.format(date=format_date(date))

    def get_output_path(self, date: DateLike) -> Path:
        """Output file of ``date``: ``output_dir / "YYYYMMDD.parquet"``."""
        return self.output_dir / f"{format_date(date)}.parquet"

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read a config from a TOML file; relative paths are relative to the file's folder.

        The file holds the fields as top-level keys and the column mapping as a ``[columns]``
        table::

            input_dir = "data"
            output_dir = "out"
            input_pattern = "{date}.parquet"
            market = "CN"

            [columns]
            price = "mid"

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        VizflowError
            For an unknown key (the message lists the valid ones) or bad TOML.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "cfg.toml"
        >>> _ = p.write_text(chr(10).join(['input_dir = "data"', "[columns]", 'price = "mid"']))
        >>> Config.from_toml(p).col("price")
        'mid'
        """
        path = Path(path)
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            msg = f"Config.from_toml: {str(path)!r} is not valid TOML: {exc}"
            raise VizflowError(msg) from None
        valid = {"input_dir", "output_dir", "input_pattern", "market", "columns"}
        unknown = sorted(set(data) - valid)
        if unknown:
            msg = f"Config.from_toml: unknown key(s) {unknown} in {str(path)!r}; valid: {sorted(valid)}"
            raise VizflowError(msg)
        for key in ("input_dir", "output_dir"):
            if key in data:
                data[key] = path.parent / data[key]
        return cls(**data, source=path)
