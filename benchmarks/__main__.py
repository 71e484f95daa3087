"""Run every benchmark module: ``python -m benchmarks [--scale X] [name ...]`` (e.g. ``parse_time``).

``--scale 0.01`` (or ``VIZFLOW_BENCH_SCALE=0.01``) runs the forward_return, enrich and fifo
benchmarks on 1% of their data: a quick check that they run, not a measurement.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if "-h" in argv or "--help" in argv:
        print(__doc__, "\nbenchmarks:", " ".join(n.removeprefix("bench_") for n in names))
        return 0
    if "--scale" in argv:  # read by benchmarks._common when the modules are imported
        at = argv.index("--scale")
        os.environ["VIZFLOW_BENCH_SCALE"] = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    wanted = [f"bench_{a.removeprefix('bench_')}" for a in argv] or names
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
