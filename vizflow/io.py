"""Reading and writing frames: ``load``, ``scan``, an atomic ``save`` and the checks a runner needs.

Every write goes to a temporary file named ``.{name}.vizflow-tmp-XXXXXXXX.tmp`` in the destination
folder, locked while it is written, then renamed over the destination: "the output exists" means
"the output is complete". A killed writer leaves its temporary file behind, unlocked;
:func:`clean_stale_temporaries` removes those and nothing a live writer holds (the lock is
``flock``: on a network filesystem it is as reliable as that filesystem's locking).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from vizflow.exceptions import DataError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "TEMP_MARKER",
    "WRITTEN_EXTENSIONS",
    "atomic_write",
    "check_complete",
    "clean_stale_temporaries",
    "is_complete",
    "load",
    "save",
    "scan",
]

_SCANNERS: dict[str, Callable[..., pl.LazyFrame]] = {
    ".parquet": pl.scan_parquet,
    ".feather": pl.scan_ipc,
    ".arrow": pl.scan_ipc,
    ".ipc": pl.scan_ipc,
    ".csv": pl.scan_csv,
}
SUPPORTED_EXTENSIONS = (*_SCANNERS, ".csv.gz")
"""File extensions ``load`` and ``scan`` read."""

_IPC = (".feather", ".arrow", ".ipc")
WRITTEN_EXTENSIONS = (".parquet", *_IPC)
"""File extensions ``save`` writes: parquet, or Arrow IPC (feather v2) for the other three."""

TEMP_MARKER = ".vizflow-tmp-"
"""Part of the name of every temporary file vizflow writes (``.{name}.vizflow-tmp-XXXXXXXX.tmp``)."""

_PARQUET_MAGIC = b"PAR1"
_IPC_MAGIC = b"ARROW1"


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


def check_complete(path: str | Path) -> int:
    """Check that ``path`` is a complete parquet or Arrow IPC (feather) file; return its row count.

    Only the file's two ends and its metadata are read: the magic bytes at both ends (a truncated
    file has lost its trailing magic) and the footer's row count.

    Parameters
    ----------
    path
        A ``.parquet``, ``.feather``, ``.arrow`` or ``.ipc`` file.

    Returns
    -------
    int
        The number of rows the footer records.

    Raises
    ------
    FileNotFoundError
        If nothing is at ``path``.
    VizflowError
        If ``path`` is a directory or another non-file, or has another extension.
    DataError
        If the file is empty, truncated or not of its extension's format; the message names the
        file and what is wrong.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> path = vf.save(pl.DataFrame({"a": [1, 2, 3]}), pathlib.Path(tempfile.mkdtemp()) / "x.parquet")
    >>> vf.io.check_complete(path)
    3
    >>> _ = path.write_bytes(path.read_bytes()[:-10])  # truncated
    >>> vf.io.check_complete(path)
    Traceback (most recent call last):
    ...
    vizflow.exceptions.DataError: check_complete: '.../x.parquet' is not a complete parquet file ...
    """
    path = Path(path)
    ext = _extension(path)
    if ext not in WRITTEN_EXTENSIONS:
        msg = f"check_complete: {str(path)!r}: can only check {list(WRITTEN_EXTENSIONS)} files"
        raise VizflowError(msg)
    if not path.exists():
        msg = f"check_complete: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    if not path.is_file():
        msg = f"check_complete: {str(path)!r} is a directory or another non-file, not a {ext} file"
        raise VizflowError(msg)
    kind = "parquet" if ext == ".parquet" else "Arrow IPC (feather)"
    magic = _PARQUET_MAGIC if ext == ".parquet" else _IPC_MAGIC
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(len(magic))
        f.seek(max(0, size - len(magic)))
        tail = f.read(len(magic))
    if size < 2 * len(magic) or head != magic or tail != magic:
        why = "empty (0 bytes)" if size == 0 else f"{size} bytes without the {kind} magic at both ends"
        msg = f"check_complete: {str(path)!r} is not a complete {kind} file ({why}; truncated or not {kind})"
        raise DataError(msg)
    try:
        return int(_SCANNERS[ext](path).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = f"check_complete: {str(path)!r} is not a readable {kind} file: {exc}"
        raise DataError(msg) from None


def is_complete(path: str | Path) -> bool:
    """Whether ``path`` holds a complete output, i.e. a date a batch can skip.

    ``False`` when nothing is there, or for an empty, truncated or foreign file (the date is
    recomputed). A directory at ``path`` is an error: no output can be written there.

    Raises
    ------
    VizflowError
        If ``path`` is a directory or another non-file.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = vf.save(pl.DataFrame({"a": [1]}), folder / "20240102.parquet")
    >>> _ = (folder / "20240103.parquet").write_bytes(b"")
    >>> [vf.io.is_complete(folder / f"2024010{d}.parquet") for d in (2, 3, 4)]
    [True, False, False]
    """
    try:
        check_complete(path)
    except (FileNotFoundError, DataError):
        return False
    return True


def load(path: str | Path) -> pl.LazyFrame:
    """Open one file as a LazyFrame: feather/arrow/ipc, parquet, csv or csv.gz by extension.

    A parquet or feather file is checked first (its ends and footer, see :func:`check_complete`),
    so a truncated or foreign file fails here with its path, not later without one.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    pl.LazyFrame
        Nothing else is read until the frame is collected (except ``.csv.gz``, which is
        decompressed).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist; the message gives the path.
    VizflowError
        For an unsupported extension (the message lists the supported ones), or a directory.
    DataError
        For a parquet or feather file that is truncated or not of that format, naming it.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "20240102.parquet"
    >>> _ = vf.save(pl.DataFrame({"qty": [100, 200]}), path)
    >>> vf.load(path).collect()["qty"].to_list()
    [100, 200]
    """
    ext = _extension(path)
    if not Path(path).exists():
        msg = f"load: no such file: {str(path)!r}"
        raise FileNotFoundError(msg)
    if ext in WRITTEN_EXTENSIONS:
        try:
            check_complete(path)
        except VizflowError as exc:
            msg = str(exc).replace("check_complete:", "load:", 1)
            raise type(exc)(msg) from None
    elif not Path(path).is_file():
        msg = f"load: {str(path)!r} is a directory or another non-file"
        raise VizflowError(msg)
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


def _umask() -> int:
    # Reading the umask through os.umask() sets it for a moment (racy with threads): prefer /proc.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_locked_temporary(path: Path) -> tuple[int, Path]:
    """Create a temporary file beside ``path``, opened and locked (a cleaner skips locked files)."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARKER}", suffix=".tmp", dir=path.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if Path(tmp).stat().st_ino == os.fstat(fd).st_ino:
                return fd, Path(tmp)
        os.close(fd)  # a cleaner removed it between its creation and our lock: take another


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: yield a binary file to fill; on success it replaces ``path``.

    The temporary file (see :data:`TEMP_MARKER`) is created in ``path``'s folder (made if
    missing), locked, given the mode the umask allows (``0o666 & ~umask``, not ``mkstemp``'s 0600),
    flushed and fsynced, then renamed over ``path``, and the folder is fsynced. If the block raises,
    the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        The destination.

    Yields
    ------
    BinaryIO
        The open temporary file.

    Raises
    ------
    VizflowError
        If ``path`` is a directory.

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with vf.io.atomic_write(path) as f:
    ...     _ = f.write(b"complete or absent")
    >>> path.read_text()
    'complete or absent'
    """
    path = Path(path)
    if path.is_dir():
        msg = f"atomic_write: {str(path)!r} is a directory; cannot write a file there"
        raise VizflowError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_locked_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp's 0600 would hide it from colleagues
            f.flush()
            os.fsync(f.fileno())
            tmp.replace(path)  # while still locked: a cleaner never sees it unlocked and complete
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some filesystems cannot fsync a folder
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save(frame: pl.DataFrame | pl.LazyFrame, path: str | Path) -> Path:
    """Write a frame to parquet or feather atomically (see :func:`atomic_write`).

    A crash, a full disk or a killed process never leaves a partial file under ``path``, so "the
    output exists" always means "the output is complete". Missing parent folders are created; the
    file gets the mode the umask allows, like any file the user creates.

    Parameters
    ----------
    frame
        A DataFrame, or a LazyFrame (collected here).
    path
        Destination: ``.parquet``, or ``.feather`` / ``.arrow`` / ``.ipc`` for Arrow IPC.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    VizflowError
        If ``frame`` is not a polars frame, or for another extension.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> out = vf.save(pl.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "x.feather")
    >>> vf.load(out).collect()["a"].to_list()
    [1]
    """
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        msg = f"save: expected a polars DataFrame or LazyFrame, got {type(frame).__name__} for {str(path)!r}"
        raise VizflowError(msg)
    path = Path(path)
    ext = next((e for e in WRITTEN_EXTENSIONS if path.name.lower().endswith(e)), None)
    if ext is None:
        msg = f"save: {str(path)!r} should end in one of {list(WRITTEN_EXTENSIONS)} (parquet or Arrow IPC)"
        raise VizflowError(msg)
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    with atomic_write(path) as f:
        if ext == ".parquet":
            df.write_parquet(f)
        else:
            df.write_ipc(f)
    return path


def clean_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files killed writers left in ``folder``; return what was removed.

    A run calls this on its output folder before it starts. Only vizflow's own temporary files
    (names holding :data:`TEMP_MARKER`) that no live process holds locked are removed, so a batch
    running at the same time on the same folder (other cluster jobs) loses nothing.

    Parameters
    ----------
    folder
        The output folder; a missing folder has nothing to clean.

    Returns
    -------
    list of Path
        The removed files, in name order.

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".20240102.parquet.vizflow-tmp-k1ll3d.tmp").write_bytes(b"PAR1 half")
    >>> [p.name for p in vf.io.clean_stale_temporaries(folder)]
    ['.20240102.parquet.vizflow-tmp-k1ll3d.tmp']
    """
    removed = []
    for candidate in sorted(Path(folder).glob(f".*{TEMP_MARKER}*")):
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone already, a symlink, or not ours to open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if candidate.is_file() and candidate.stat().st_ino == os.fstat(fd).st_ino:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            pass  # locked: a live writer holds it
        finally:
            os.close(fd)
    return removed
