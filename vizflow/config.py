"""``Config``: where a pipeline reads each date (a main input and named sources), where it writes."""

from __future__ import annotations

import contextlib
import difflib
import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizflow.dates import format_date
from vizflow.exceptions import VizflowError
from vizflow.market import MARKETS, Market, get_market

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vizflow._typing import DateLike

__all__ = ["Config", "format_date"]


_FIELD_TYPES = {
    "input_dir": "a path (str or os.PathLike)",
    "output_dir": "a path (str or os.PathLike)",
    "input_pattern": "a string such as '{date}.parquet'",
    "market": "a preset name (str) or a vizflow.Market",
    "columns": "a table of semantic name -> column name strings",
    "sources": "a table of source name -> file pattern strings",
    "calendar": "a path to a sessions or holidays file (str or os.PathLike)",
}


def _wrong_type(where: str, what: str, value: object) -> str:
    return f"Config: {where} must be {what}, got {type(value).__name__} {value!r}"


def _check_pattern(where: str, pattern: object) -> str:
    """Return ``pattern`` if it is a string whose only placeholder is ``{date}`` (at least once)."""
    if not isinstance(pattern, str):
        msg = _wrong_type(where, _FIELD_TYPES["input_pattern"], pattern)
        raise VizflowError(msg)
    try:
        fields = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(pattern)
            if name is not None
        ]
    except ValueError as exc:
        msg = f"Config: {where} {pattern!r} is not a valid pattern ({exc}); literal braces are {{{{ and }}}}"
        raise VizflowError(msg) from None
    unknown = sorted(
        "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
        for name, spec, conv in fields
        if (name, spec, conv) != ("date", "", None)
    )
    if unknown:
        msg = (
            f"Config: {where} {pattern!r} has unknown placeholder(s) {unknown}; only '{{date}}' is "
            "filled in (with YYYYMMDD)"
        )
        raise VizflowError(msg)
    if not fields:
        msg = f"Config: {where} {pattern!r} must contain '{{date}}'"
        raise VizflowError(msg)
    return pattern


def _check_table(name: str, table: object, what: str) -> dict[str, str]:
    if not isinstance(table, Mapping):
        msg = _wrong_type(name, _FIELD_TYPES[name], table)
        raise VizflowError(msg)
    for key, value in table.items():
        if not isinstance(key, str) or not key:
            msg = _wrong_type(f"a key of {name}", "a non-empty string", key)
            raise VizflowError(msg)
        if not isinstance(value, str) or not value:
            msg = _wrong_type(f"{name}[{key!r}]", what, value)
            raise VizflowError(msg)
    return dict(table)


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:  # noqa: PLR2004 (TOML forbids them raw)
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _market_name(market: str | Market) -> str:
    if isinstance(market, str):
        return market
    msg = (
        f"Config.to_toml: market {market.name!r} is a custom vizflow.Market; a TOML file can only "
        f"name a preset ({sorted(MARKETS)})"
    )
    raise VizflowError(msg)


@dataclass(frozen=True)
class Config:
    """Paths, file naming, market, column names and extra inputs of a pipeline.

    Parameters
    ----------
    input_dir
        Folder of the daily input files.
    output_dir
        Folder for the daily outputs (``{date}.parquet``).
    input_pattern
        File name of one date's main input, relative to ``input_dir``; ``{date}`` is replaced by
        ``"YYYYMMDD"`` (the only placeholder; ``{{`` and ``}}`` are literal braces).
    market
        A preset name (``"CN"``, ``"CRYPTO"``, ``"CN_FUTURES"``, ``"HK"``, ``"US"``) or a
        :class:`~vizflow.Market`.
    columns
        Semantic name to the column's real name, e.g. ``{"price": "mid"}``.
    sources
        Further inputs of each date by name, as patterns like ``input_pattern`` (relative to
        ``input_dir``), e.g. ``{"quotes": "quotes/{date}.parquet"}``; a pipeline opens them with
        ``ctx.load("quotes")``.
    calendar
        A calendar file (sessions or holidays, see :func:`vizflow.calendar.load`) that extends
        the market's calendar for the run (:func:`vizflow.calendar.for_market` with ``file=``),
        e.g. next year's closures before vizflow ships them. With it, :func:`~vizflow.run_batch`
        skips non-trading days even without ``calendar=``. ``None`` (default): none.

    Raises
    ------
    VizflowError
        For a field of the wrong type (naming the field and the type expected), an unknown market,
        or a pattern without ``{date}`` or with another placeholder.

    Examples
    --------
    >>> cfg = Config(
    ...     input_dir="data", output_dir="out", input_pattern="trades/{date}.parquet",
    ...     columns={"price": "mid"}, sources={"quotes": "quotes/{date}.parquet"},
    ... )  # fmt: skip
    >>> cfg.col("price"), cfg.col("qty")
    ('mid', 'qty')
    >>> cfg.get_file_path("20240102").as_posix(), cfg.get_source_path("quotes", "20240102").as_posix()
    ('data/trades/20240102.parquet', 'data/quotes/20240102.parquet')
    """

    input_dir: Path = Path()
    output_dir: Path = Path("output")
    input_pattern: str = "{date}.feather"
    market: str | Market = "CN"
    columns: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = field(default=None, compare=False, repr=False)
    """The TOML file this config was read from (set by :meth:`from_toml`)."""
    calendar: Path | None = None

    def __post_init__(self) -> None:
        for name in ("input_dir", "output_dir"):
            value = getattr(self, name)
            if not isinstance(value, str | os.PathLike):
                msg = _wrong_type(name, _FIELD_TYPES[name], value)
                raise VizflowError(msg)
            object.__setattr__(self, name, Path(value))
        _check_pattern("input_pattern", self.input_pattern)
        if not isinstance(self.market, str | Market):
            msg = _wrong_type("market", _FIELD_TYPES["market"], self.market)
            raise VizflowError(msg)
        market = get_market(self.market)  # fail early on an unknown market name
        if (
            MARKETS.get(market.name) == market
        ):  # a preset by name, so Config(market=vf.US) == Config(market="US")
            object.__setattr__(self, "market", market.name)
        object.__setattr__(self, "columns", _check_table("columns", self.columns, "a column name (string)"))
        sources = _check_table("sources", self.sources, "a file pattern (string)")
        for name, pattern in sources.items():
            _check_pattern(f"sources[{name!r}]", pattern)
        object.__setattr__(self, "sources", sources)
        if self.calendar is not None:
            if not isinstance(self.calendar, str | os.PathLike) or not str(self.calendar):
                msg = _wrong_type("calendar", _FIELD_TYPES["calendar"], self.calendar)
                raise VizflowError(msg)
            object.__setattr__(self, "calendar", Path(self.calendar))

    def __hash__(self) -> int:
        tables = tuple(sorted(self.columns.items())), tuple(sorted(self.sources.items()))
        return hash((self.input_dir, self.output_dir, self.input_pattern, self.market, tables, self.calendar))

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

    def get_source_path(self, name: str, date: DateLike) -> Path:
        """File of source ``name`` for ``date``: ``input_dir / sources[name].format(date=...)``.

        Raises
        ------
        VizflowError
            For a name not in ``sources``; the message lists the known ones.
        """
        if name not in self.sources:
            close = difflib.get_close_matches(str(name), list(self.sources), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (
                f"Config: unknown source {name!r} for {format_date(date)}; known sources: "
                f"{sorted(self.sources)} (the [sources] table of the config).{hint}"
            )
            raise VizflowError(msg)
        return self.input_dir / self.sources[name].format(date=format_date(date))

    def get_output_path(self, date: DateLike) -> Path:
        """Output file of ``date``: ``output_dir / "YYYYMMDD.parquet"``."""
        return self.output_dir / f"{format_date(date)}.parquet"

    def check_no_input_overwrite(self, dates: Iterable[DateLike]) -> None:
        """Refuse a batch in which a date's output file would be an input file of any of its dates.

        The runner calls this for all its dates before any work starts. Paths are compared after
        resolving symbolic links and ``..``, and existing files by identity (hard links), so
        ``output_dir`` equal to ``input_dir`` with ``input_pattern="{date}.parquet"`` is caught
        however it is spelled.

        Raises
        ------
        VizflowError
            Naming the output's date and path, and the input (main input or source, and its
            date) it would overwrite.

        Examples
        --------
        >>> cfg = Config(input_dir="data", output_dir="data", input_pattern="{date}.parquet")
        >>> cfg.check_no_input_overwrite(["20240102"])
        Traceback (most recent call last):
        ...
        vizflow.exceptions.VizflowError: Config: the output of 20240102, '.../data/20240102.parquet', is ...
        """
        days = [format_date(d) for d in dates]
        by_path: dict[Path, tuple[str, str, Path]] = {}
        by_identity: dict[tuple[int, int], tuple[str, str, Path]] = {}
        for day in days:
            inputs = {"main input (input_pattern)": self.get_file_path(day)}
            inputs |= {f"source {name!r}": self.get_source_path(name, day) for name in self.sources}
            for label, path in inputs.items():
                resolved = path.resolve()
                by_path[resolved] = (label, day, resolved)
                with contextlib.suppress(OSError):
                    st = resolved.stat()
                    by_identity[st.st_dev, st.st_ino] = (label, day, resolved)
        for day in days:
            output = self.get_output_path(day).resolve()
            hit = by_path.get(output)
            if hit is None:
                with contextlib.suppress(OSError):
                    st = output.stat()
                    hit = by_identity.get((st.st_dev, st.st_ino))
            if hit is not None:
                label, in_day, path = hit
                msg = (
                    f"Config: the output of {day}, {str(output)!r}, is the {label} of {in_day} "
                    f"{str(path)!r}: writing it would overwrite the raw data; choose another output_dir"
                )
                raise VizflowError(msg)

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read a config from a TOML file; relative folders are relative to the file's folder.

        The file holds the fields as top-level keys and the column mapping and the further inputs
        as ``[columns]`` and ``[sources]`` tables::

            input_dir = "data"
            output_dir = "out"
            input_pattern = "trades/{date}.parquet"
            market = "CN"

            [columns]
            price = "mid"

            [sources]
            quotes = "quotes/{date}.parquet"

        A ``calendar = "xshg_2027.csv"`` key names a calendar file, relative to the TOML file's
        folder like the folders. Folders come back absolute: an omitted ``input_dir`` is the
        file's folder, an omitted ``output_dir`` its ``output`` subfolder (never the current
        directory).

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        VizflowError
            For an unknown key (the message lists the valid ones), a file that is not UTF-8 or
            not TOML, or a value of the wrong type (naming the key); each names the file.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "cfg.toml"
        >>> _ = p.write_text(chr(10).join(['input_dir = "data"', "[columns]", 'price = "mid"']))
        >>> cfg = Config.from_toml(p)
        >>> cfg.col("price"), cfg.input_dir == p.parent / "data", cfg.output_dir == p.parent / "output"
        ('mid', True, True)
        """
        path = Path(path)
        where = f"Config.from_toml: {str(path)!r}"
        try:
            data: dict[str, Any] = tomllib.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            msg = f"{where} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
            raise VizflowError(msg) from None
        except tomllib.TOMLDecodeError as exc:
            msg = f"{where} is not valid TOML: {exc}"
            raise VizflowError(msg) from None
        unknown = sorted(set(data) - set(_FIELD_TYPES))
        if unknown:
            msg = f"{where}: unknown key(s) {unknown}; valid: {sorted(_FIELD_TYPES)}"
            raise VizflowError(msg)
        data.setdefault("input_dir", ".")
        data.setdefault("output_dir", "output")
        for key in ("input_dir", "output_dir", "calendar"):
            if key not in data:
                continue
            if isinstance(data[key], str):
                data[key] = path.absolute().parent / data[key]
            else:  # os.PathLike is a Python type: in TOML only a string is a path
                msg = f"{where}: " + _wrong_type(key, "a string (a path)", data[key]).removeprefix("Config: ")
                raise VizflowError(msg)
        try:
            return cls(**data, source=path.absolute())
        except VizflowError as exc:
            msg = f"{where}: {str(exc).removeprefix('Config: ')}"
            raise VizflowError(msg) from None

    def as_toml(self) -> str:
        """Return this config as TOML text, as :meth:`to_toml` writes it (folders made absolute).

        Raises
        ------
        VizflowError
            If ``market`` is a custom :class:`~vizflow.Market` (TOML can only name a preset).

        Examples
        --------
        >>> print(Config(input_dir="/data", output_dir="/out", columns={"price": "mid"}).as_toml())
        # written by vizflow.Config.to_toml
        input_dir = "/data"
        output_dir = "/out"
        input_pattern = "{date}.feather"
        market = "CN"
        <BLANKLINE>
        [columns]
        "price" = "mid"
        <BLANKLINE>
        [sources]
        <BLANKLINE>
        """
        lines = [
            "# written by vizflow.Config.to_toml",
            f"input_dir = {_toml_string(str(self.input_dir.absolute()))}",
            f"output_dir = {_toml_string(str(self.output_dir.absolute()))}",
            f"input_pattern = {_toml_string(self.input_pattern)}",
            f"market = {_toml_string(_market_name(self.market))}",
        ]
        if self.calendar is not None:
            lines.append(f"calendar = {_toml_string(str(self.calendar.absolute()))}")
        for table in ("columns", "sources"):
            lines += ["", f"[{table}]"]
            lines += [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in getattr(self, table).items()]
        return "\n".join(lines) + "\n"

    def to_toml(self, path: str | Path) -> Path:
        """Write this config as a TOML file that :meth:`from_toml` reads back to an equal config.

        Folders are written as absolute paths (a relative one is taken from the current
        directory now), so the file means the same wherever it is read. The write is atomic.

        Parameters
        ----------
        path
            The TOML file to write.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        VizflowError
            If ``market`` is a custom :class:`~vizflow.Market` (TOML can only name a preset).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> cfg = Config(
        ...     input_dir=root / "in", output_dir=root / "out", sources={"quotes": "q/{date}.parquet"}
        ... )
        >>> Config.from_toml(cfg.to_toml(root / "cfg.toml")) == cfg
        True
        """
        from vizflow.io import atomic_write

        text = self.as_toml()
        path = Path(path)
        with atomic_write(path) as f:
            f.write(text.encode("utf-8"))
        return path
