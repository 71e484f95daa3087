"""Run every benchmark module: ``python -m benchmarks [--scale X] [name ...]`` (e.g. ``parse_time``).

``--scale 0.01`` (or ``VIZFLOW_BENCH_SCALE=0.01``) runs the forward_return, enrich, fifo, window
and market_day benchmarks on 1% of their data: a quick check that they run, not a measurement.
The full-market day (~29M trades, ~10 min) runs only when named (``python -m benchmarks
market_day``) or with ``--market-day`` (everything plus the day). Each benchmark prints its table
and writes its figures as JSON into ``benchmarks/out/`` (or ``$VIZFLOW_BENCH_OUT``).
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
    everything = "--market-day" in argv
    argv = [a for a in argv if a != "--market-day"]
    default = [n for n in names if everything or n != "bench_market_day"]
    wanted = [f"bench_{a.removeprefix('bench_')}" for a in argv] or default
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
