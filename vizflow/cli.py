"""The ``vizflow`` command line: ``vizflow run``, ``vizflow demo``, ``vizflow quality``."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from vizflow.config import Config
from vizflow.data_quality import quality_pipeline, quality_totals, worst_dates
from vizflow.runner import run_batch

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

    from vizflow.calendar import Calendar

__all__ = ["build_parser", "main"]


def _demo(args: argparse.Namespace) -> int:
    from vizflow.demo import main as demo_main

    demo_main(args.output, synthetic=args.synthetic)
    return 0


def _calendar(args: argparse.Namespace, config: Config) -> Calendar:
    import vizflow as vf

    # --calendar beats the config's calendar key; either extends the market's calendar
    return vf.calendar.for_market(config.market, file=args.calendar or config.calendar)


def _dates(args: argparse.Namespace, calendar: Calendar) -> list[str]:
    import vizflow as vf
    from vizflow.dates import format_date

    if args.date:
        return [format_date(args.date)]
    if args.dates_file:
        lines = Path(args.dates_file).read_text().split()
        return [format_date(d) for d in lines if d.strip()]
    start, sep, end = args.dates.partition(":")
    if not sep:
        msg = f"--dates {args.dates!r}: expected START:END, e.g. 20240101:20240131"
        raise vf.VizflowError(msg)
    return vf.calendar.sessions(calendar, start, end)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Do what Ctrl-C does: the batch stops, its workers end, no temporary file is left."""
    on_ctrl_c = signal.getsignal(signal.SIGINT)
    if callable(on_ctrl_c):
        on_ctrl_c(signum, frame)
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    import vizflow as vf
    from vizflow.runner import resolve_pipeline

    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = vf.Config.from_toml(args.config)
    calendar = _calendar(args, config)
    _, pipeline = resolve_pipeline(args.pipeline, path=args.path)
    dates = _dates(args, calendar)
    on_sigterm = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        result = vf.run_batch(
            pipeline, config, dates, parallel=args.workers != 1 and len(dates) > 1,
            skip_existing=not args.overwrite, max_workers=args.workers or None,
            retries=args.retries, calendar=calendar,
            progress=False if args.no_progress else None,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("vizflow: interrupted; finished dates keep their outputs, rerun for the rest", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, on_sigterm)
    print(result)
    for failure in result.results:
        if failure.status == "failed" and args.verbose and failure.traceback:
            print(f"--- {failure.date}\n{failure.traceback}", file=sys.stderr)
    return 0 if result.ok else 1


def _quality(args: argparse.Namespace) -> int:
    config = Config.from_toml(args.config)
    config = dataclasses.replace(config, output_dir=config.output_dir / "quality")
    calendar = _calendar(args, config)
    dates = _dates(args, calendar)
    pipeline = functools.partial(quality_pipeline, quotes=args.quotes, stale_after=args.stale_after)
    result = run_batch(
        pipeline, config, dates, parallel=args.workers != 1 and len(dates) > 1, skip_existing=False,
        max_workers=args.workers or None, calendar=calendar, progress=False,
    )  # fmt: skip
    print(result)
    for day, reason in result.failed.items():
        print(f"vizflow quality: {day} failed: {reason}", file=sys.stderr)
    if not result.succeeded:
        return 1
    table = pl.concat([pl.read_parquet(config.get_output_path(d)) for d in result.succeeded])
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, tbl_hide_dataframe_shape=True):
        print(f"\nper symbol, {len(result.succeeded)} dates (tables in {config.output_dir}):")
        print(quality_totals(table))
        print(f"\nthe {args.top} worst dates (by issues):")
        print(worst_dates(table, args.top))
    return 0 if result.ok else 1


def _dashboard(args: argparse.Namespace) -> int:
    from vizflow.viz import sample_dashboard

    app = sample_dashboard()
    print(f"vizflow dashboard on http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def _explore(args: argparse.Namespace) -> int:
    from vizflow.viz import explorer
    from vizflow.viz.labels import bin_labels_from_spec

    labels = dict(bin_labels_from_spec(spec) for spec in args.bin_labels or [])
    app = explorer(
        args.path, sign=args.sign, market=args.market, x_width=args.x_width,
        weights=args.weight or None, min_count=args.min_count, labels=labels,
    )  # fmt: skip
    print(f"vizflow explore on http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="vizflow", description="vizflow: tick data research")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in sample")
    demo.add_argument("--output", default="demo-output", help="output folder (demo-output)")
    demo.add_argument(
        "--synthetic", action="store_true", help="use the synthetic day instead of the real sample"
    )
    demo.set_defaults(func=_demo)

    run = sub.add_parser(
        "run",
        help="run a pipeline over dates",
        description="Run module:function over one or many dates; exit code 1 if any date failed.",
    )
    run.add_argument("pipeline", help="the pipeline, as module:function")
    run.add_argument("--config", required=True, help="config TOML (see vizflow.Config.from_toml)")
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", help="one date, YYYYMMDD")
    when.add_argument("--dates", help="START:END, the trading days between (inclusive)")
    when.add_argument("--dates-file", help="a file with one YYYYMMDD per line")
    run.add_argument(
        "--calendar",
        help="a sessions or holidays file (e.g. next year's closures) that extends the market's "
        "calendar, for --dates and skipping non-trading days; instead of the config's 'calendar' key "
        "(see docs/calendar.md and vizflow.calendar.for_market)",
    )
    run.add_argument(
        "--path",
        default=".",
        help="project folder the pipeline module is imported from, searched after the installed "
        "packages (default: the current folder)",
    )
    run.add_argument("--workers", type=int, default=0, help="processes (default: cores; 1: none)")
    run.add_argument("--retries", type=int, default=0, help="retry a failing date N times")
    run.add_argument("--overwrite", action="store_true", help="redo dates whose output exists")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("-v", "--verbose", action="store_true", help="log each date and tracebacks")
    run.set_defaults(func=_run)

    check = sub.add_parser(
        "quality",
        help="count data defects per date and symbol (vf.quality) and print the worst dates",
        description="Run vf.quality over dates through the runner: the config's main input "
        "is the trades, its source 'quotes' the quotes; one table per date goes to "
        "<output_dir>/quality/. Exit code 1 if any date failed.",
    )
    check.add_argument("--config", required=True, help="config TOML (see vizflow.Config.from_toml)")
    check_when = check.add_mutually_exclusive_group(required=True)
    check_when.add_argument("--date", help="one date, YYYYMMDD")
    check_when.add_argument("--dates", help="START:END, the trading days between (inclusive)")
    check_when.add_argument("--dates-file", help="a file with one YYYYMMDD per line")
    check.add_argument("--calendar", help="calendar file (as for vizflow run)")
    check.add_argument("--quotes", default="quotes", help="the config source holding the quotes (quotes)")
    check.add_argument(
        "--stale-after", type=float, default=30.0, help="seconds: a longer quote gap is stale (30)"
    )
    check.add_argument("--top", type=int, default=5, help="how many worst dates to print (5)")
    check.add_argument("--workers", type=int, default=0, help="processes (default: cores; 1: none)")
    check.set_defaults(func=_quality)

    board = sub.add_parser("dashboard", help="serve the sample dashboard (extra vizflow[viz])")
    board.add_argument("--host", default="127.0.0.1", help="interface (127.0.0.1)")
    board.add_argument("--port", type=int, default=8050, help="port (8050)")
    board.set_defaults(func=_dashboard)

    explore = sub.add_parser(
        "explore", help="serve the explorer over a parquet file or folder (extra vizflow[viz])"
    )
    explore.add_argument("path", help="raw rows with return_* columns, or vf.summarize partial tables")
    explore.add_argument("--host", default="127.0.0.1", help="interface (127.0.0.1)")
    explore.add_argument("--port", type=int, default=8050, help="port (8050)")
    explore.add_argument("--sign", help="raw rows: multiply returns by this column (e.g. side)")
    explore.add_argument("--market", help="label the elapsed_seconds axis with this market's clock (e.g. CN)")
    explore.add_argument("--x-width", type=float, default=1800, help="time bin width in seconds (1800)")
    explore.add_argument("--weight", action="append", help="a weight column to offer (repeatable)")
    explore.add_argument("--min-count", type=int, default=10, help="hide cells with fewer values (10)")
    explore.add_argument(
        "--bin-labels", action="append", metavar="COL=WIDTH[,log10][,UNIT]",
        help="show what a vf.bin column's bins hold, e.g. log_qty_bin=0.5,log10,shares (repeatable)",
    )  # fmt: skip
    explore.set_defaults(func=_explore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vizflow`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError) as exc:  # VizflowError is a ValueError
        print(f"vizflow: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
