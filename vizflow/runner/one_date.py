"""One date: load its input, call the pipeline, collect, save atomically."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from vizflow import calendar as cal_mod
from vizflow import io as vf_io
from vizflow.config import Config, format_date
from vizflow.context import Context
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

    from vizflow._typing import DateLike
    from vizflow.calendar import Calendar

__all__ = ["DateResult", "Job", "ctrl_c_stops_the_batch", "run", "run_calendar"]

log = logging.getLogger("vizflow.run")


def run(
    pipeline_fn: Callable[..., Any],
    config: Config,
    date: DateLike,
    save: bool = True,
    *,
    calendar: Calendar | pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Run ``pipeline_fn`` on one date: load, call, collect, save atomically, return.

    Parameters
    ----------
    pipeline_fn
        ``fn(lf: pl.LazyFrame, ctx: Context) -> LazyFrame | DataFrame``.
    config
        Where the date's input is (``config.get_file_path(date)``) and where its output goes
        (``config.get_output_path(date)``, written atomically: temporary file, then rename).
    date
        ``"YYYYMMDD"`` or :class:`datetime.date`.
    save
        Write the output file.
    calendar
        The calendar for the :class:`Context` (a :class:`~vizflow.calendar.Calendar` or a frame
        with a ``date`` column); by default the one :func:`run_calendar` chooses.

    Returns
    -------
    pl.DataFrame
        The collected result.

    Raises
    ------
    FileNotFoundError
        If the date's input file is missing (the message gives the path).
    VizflowError
        If the pipeline returns something other than a DataFrame or LazyFrame.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl, vizflow as vf
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = vf.save(pl.DataFrame({"ticktime": [93000000, 130000000]}), root / "in" / "20240102.parquet")
    >>> cfg = vf.Config(input_dir=root / "in", output_dir=root / "out", input_pattern="{date}.parquet")
    >>> def pipeline(lf, ctx):
    ...     return lf.vf.parse_time(ctx.market, "ticktime")
    >>> vf.run(pipeline, cfg, "20240102")["elapsed_seconds"].to_list()
    [0.0, 7200.0]
    >>> (root / "out" / "20240102.parquet").exists()
    True
    """
    day = format_date(date)
    if save:
        config.check_no_input_overwrite([day])
    lf = vf_io.load(config.get_file_path(day))
    result = pipeline_fn(lf, Context(config, day, run_calendar(config, calendar)))
    if isinstance(result, pl.LazyFrame):
        result = result.collect()
    if not isinstance(result, pl.DataFrame):
        msg = (
            f"run: pipeline {getattr(pipeline_fn, '__name__', pipeline_fn)!r} returned "
            f"{type(result).__name__} for {day}; expected a polars DataFrame or LazyFrame"
        )
        raise VizflowError(msg)
    if save:
        vf_io.save(result, config.get_output_path(day))
    return result


def run_calendar(config: Config, calendar: Calendar | pl.DataFrame | None) -> Calendar | pl.DataFrame | None:
    r"""Return the calendar a run uses: ``calendar`` if given, else the one ``config.calendar`` implies.

    With a ``config.calendar`` file, that is the market's calendar extended with it
    (:func:`vizflow.calendar.for_market` with ``file=``); without either, None (no calendar:
    no date is skipped as a non-trading day).

    Parameters
    ----------
    config
        The run's config.
    calendar
        The calendar given to the run, or None.

    Returns
    -------
    Calendar, DataFrame or None
        The calendar.

    Raises
    ------
    CalendarError
        If the file leaves a gap after the market's calendar or disagrees with it.

    Examples
    --------
    >>> import tempfile, pathlib, vizflow as vf
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "xshg_2027.csv"
    >>> _ = path.write_text("# span: 20270101..20271231\nholiday\n20270101\n")
    >>> run_calendar(vf.Config(calendar=path), None)
    Calendar('XSHG', 19910101..20271231, 9048 sessions)
    >>> print(run_calendar(vf.Config(), None))
    None
    """
    if calendar is not None or config.calendar is None:
        return calendar
    return cal_mod.for_market(config.market, file=config.calendar)


@dataclass(frozen=True)
class DateResult:
    """What happened to one date."""

    date: str
    status: Literal["succeeded", "skipped", "failed"]
    seconds: float = 0.0
    rows: int | None = None
    reason: str = ""
    traceback: str = ""


@dataclass(frozen=True)
class Job:
    """What each date of a batch runs: the pipeline, its config, the calendar and the retries."""

    pipeline_fn: Callable[..., Any]
    config: Config
    calendar: Calendar | pl.DataFrame | None
    retries: int

    def __call__(self, day: str) -> DateResult:
        """Run ``day`` (see :func:`run_date`)."""
        return run_date(self.pipeline_fn, self.config, day, self.calendar, self.retries)


_CTRL_C = threading.Event()
"""Set while the user's Ctrl-C is unwinding this process (see :func:`ctrl_c_stops_the_batch`)."""


@contextlib.contextmanager
def ctrl_c_stops_the_batch() -> Iterator[None]:
    """Tell a user's Ctrl-C apart from a ``KeyboardInterrupt`` a pipeline raises by itself.

    Only the first stops the batch; the second fails its date like any other exception. Signal
    handlers live in the main thread only; elsewhere no Ctrl-C can arrive, so nothing is needed.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return

    def on_ctrl_c(signum: int, frame: FrameType | None) -> None:
        _CTRL_C.set()
        previous(signum, frame)

    _CTRL_C.clear()
    signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_date(
    pipeline_fn: Callable[..., Any],
    config: Config,
    date: str,
    calendar: Calendar | pl.DataFrame | None,
    retries: int,
) -> DateResult:
    """One date with retries; never raises, except for the user's Ctrl-C.

    Any other ``BaseException`` (``SystemExit``, pyo3's ``PanicException`` from a Polars panic, a
    ``KeyboardInterrupt`` the pipeline raises) becomes a failed :class:`DateResult` holding its
    type name, message and traceback as text: the exception object may not pickle back from a
    worker (``PanicException`` does not).
    """
    start = time.perf_counter()
    for attempt in range(retries + 1):
        try:
            out = run(pipeline_fn, config, date, calendar=calendar)
            return DateResult(date, "succeeded", time.perf_counter() - start, out.height)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and _CTRL_C.is_set():
                raise
            reason = f"{type(exc).__name__}: {exc}"
            if attempt < retries:
                log.warning("vizflow: %s failed (%s), retrying", date, reason)
                continue
            text = traceback.format_exc()
            return DateResult(date, "failed", time.perf_counter() - start, None, reason, text)
    raise AssertionError  # pragma: no cover
