"""The ``vizflow`` command line: ``vizflow demo`` (and the runner's commands)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from vizflow.demo import main as demo_main

    demo_main(args.output)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="vizflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job on the built-in sample day")
    demo.add_argument("--output", default="demo-output", help="output folder (demo-output)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vizflow`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
