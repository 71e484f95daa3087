"""Reading and writing frames: ``load``, ``scan`` and an atomic ``save``."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SUPPORTED_EXTENSIONS", "load", "save", "scan"]

_SCANNERS: dict[str, Callable[..., pl.LazyFrame]] = {
    ".parquet": pl.scan_parquet,
    ".feather": pl.scan_ipc,
    ".arrow": pl.scan_ipc,
    ".ipc": pl.scan_ipc,
    ".csv": pl.scan_csv,
}
SUPPORTED_EXTENSIONS = (*_SCANNERS, ".csv.gz")
"""File extensions ``load`` and ``scan`` read."""


def _extension(path: str | Path) -> str:
    name = str(path).lower()
    for ext in SUPPORTED_EXTENSIONS:
        if name.endswith(ext) and (ext != ".csv" or not name.endswith(".csv.gz")):
            return ext
    msg = f"unsupported file extension: {str(path)!r}; supported: {list(SUPPORTED_EXTENSIONS)}"
    raise VizflowError(msg)


def _scan(paths: str | Path | list[str], ext: str) -> pl.LazyFrame:
    if ext == ".csv.gz":  # Polars cannot scan compressed CSV lazily; decompress once
        files = paths if isinstance(paths, list) else [str(paths)]
        return pl.concat([pl.read_csv(f) for f in files], how="vertical").lazy()
    return _SCANNERS[ext](paths)


def load(path: str | Path) -> pl.LazyFrame:
    """Open one file as a LazyFrame: feather/arrow/ipc, parquet, csv or csv.gz by extension.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    pl.LazyFrame
        Nothing is read until the frame is collected (except ``.csv.gz``, which is decompressed).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist; the message gives the path.
    VizflowError
        For an unsupported extension; the message lists the supported ones.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "20240102.parquet"
    >>> _ = vf.save(pl.DataFrame({"qty": [100, 200]}), path)
    >>> vf.load(path).collect()["qty"].to_list()
    [100, 200]
    """
    ext = _extension(path)
    if not Path(path).is_file():
        msg = f"load: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    return _scan(path, ext)


def scan(pattern: str | Path) -> pl.LazyFrame:
    """Open every file matching a glob pattern as one LazyFrame (files in sorted name order).

    Parameters
    ----------
    pattern
        A glob such as ``"data/2024*.feather"``; all matches must share one extension.

    Returns
    -------
    pl.LazyFrame
        The files concatenated vertically.

    Raises
    ------
    FileNotFoundError
        If nothing matches.
    VizflowError
        For an unsupported or mixed extension.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for day in ("20240102", "20240103"):
    ...     _ = vf.save(pl.DataFrame({"date": [day]}), folder / f"{day}.parquet")
    >>> vf.scan(folder / "2024*.parquet").collect()["date"].to_list()
    ['20240102', '20240103']
    """
    files = sorted(glob.glob(str(pattern)))  # noqa: PTH207 (patterns may be absolute)
    if not files:
        msg = f"scan: no file matches {str(pattern)!r}"
        raise FileNotFoundError(msg)
    exts = {_extension(f) for f in files}
    if len(exts) > 1:
        msg = f"scan: {str(pattern)!r} matches files of several kinds {sorted(exts)}; use one"
        raise VizflowError(msg)
    return _scan(files, exts.pop())


def save(frame: pl.DataFrame | pl.LazyFrame, path: str | Path) -> Path:
    """Write a frame to parquet atomically: a temporary file in the same folder, then a rename.

    A crash or a killed process never leaves a partial file under ``path``, so "the output exists"
    always means "the output is complete". Missing parent folders are created.

    Parameters
    ----------
    frame
        A DataFrame, or a LazyFrame (collected here).
    path
        Destination; should end in ``.parquet``.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> out = vf.save(pl.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "x.parquet")
    >>> out.name
    'x.parquet'
    """
    path = Path(path)
    if not str(path).lower().endswith(".parquet"):
        msg = f"save: {str(path)!r} should end in '.parquet' (vizflow writes parquet)"
        raise VizflowError(msg)
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.write_parquet(tmp)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise
    return path
