"""Where the time goes: cProfile of vizflow's forward_return, enrich and FIFO next to their floors.

For each operation, on sorted Int64 keys (``--rows``, default 2M): the wall time of vizflow and
of the benchmarks' references (median of 5, interleaved), then a cProfile of 3 vizflow calls
with the functions that hold the time (``tottime`` per call, ms). Numba kernels show up as one
entry each (their time is the compiled loop); ``collect`` entries are Polars work (gathers,
casts, validation expressions, building frames). Not a ``bench_`` module, so ``make bench`` does
not run it. Run: ``python -m benchmarks.profile_time [--rows N] [forward_return enrich fifo]``.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
from typing import TYPE_CHECKING, Any

import polars as pl

import vizflow as vf
from benchmarks import bench_enrich, bench_fifo, bench_forward_return
from benchmarks._common import header, interleaved_medians, keyed, load_average, save_results

if TYPE_CHECKING:
    from collections.abc import Callable


def _frames(rows: int) -> dict[str, tuple[Callable[[], Any], dict[str, Callable[[], Any]]]]:
    per = max(5, rows // 2000)
    fr = keyed(
        vf.datasets.synthetic_trades(n_symbols=2000, trades_per_symbol=per // 2 + 1, seed=2), "int"
    )  # ~2x rows per symbol argument after auctions and clustering
    fr = vf.parse_time(fr, vf.CN).select(
        "symbol", ms=(pl.col("elapsed_seconds") * 1000).round().cast(pl.Int64), price="price"
    )
    fr = fr.unique(["symbol", "ms"], keep="first").sort("symbol", "ms")
    en = keyed(bench_enrich.data(), "int") if rows >= 10**7 else None
    if en is None:
        en = keyed(
            vf.parse_time(vf.datasets.synthetic_trades(n_symbols=2000, trades_per_symbol=per, seed=3), vf.CN),
            "int",
        ).select("symbol", "elapsed_seconds", "qty", "side", "price")
    fi = bench_fifo.fills(rows)
    return {
        "forward_return": (
            lambda: bench_forward_return.ours(fr),
            {
                "bare numba sweep": lambda: bench_forward_return.bare(fr),
                "Polars join_asof x3": lambda: bench_forward_return.polars_asof(fr, presorted=True),
            },
        ),
        "enrich": (lambda: bench_enrich.ours(en), {"bare fused loop": lambda: bench_enrich.bare(en)}),
        "fifo": (lambda: bench_fifo.ours(fi), {"bare kernel + gather": lambda: bench_fifo.bare(fi)}),
    }


def profile(name: str, ours: Callable[[], Any], refs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    fns = [ours, *refs.values()]
    times = interleaved_medians(fns, repeats=5)
    print(f"\n== {name}: vizflow {times[0] * 1e3:.0f} ms", end="")
    for (label, _), t in zip(refs.items(), times[1:], strict=True):
        print(f"; {label} {t * 1e3:.0f} ms ({t / times[0]:.2f}x)", end="")
    print()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        ours()
    prof.disable()
    stats = pstats.Stats(prof)
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    top = []
    print(f"{'ms/call':>8}  {'calls/call':>10}  function")
    for (file, line, func), (_, ncalls, tottime, _, _) in entries[:12]:
        where = f"{file.rsplit('/vizflow/', 1)[-1]}:{line}({func})" if file != "~" else func
        print(f"{tottime / 3 * 1e3:8.1f}  {ncalls / 3:10.1f}  {where}")
        top.append({"function": where, "ms_per_call": tottime / 3 * 1e3, "calls_per_call": ncalls / 3})
    print(f"{'ms/call':>8}  vizflow functions by cumulative time (callees included)")
    inner = [kv for kv in entries if "/vizflow/" in kv[0][0] and "/benchmarks/" not in kv[0][0]]
    cumulative = []
    for (file, line, func), (_, _, _, cumtime, _) in sorted(inner, key=lambda kv: -kv[1][3])[:12]:
        where = f"{file.rsplit('/vizflow/', 1)[-1]}:{line}({func})"
        print(f"{cumtime / 3 * 1e3:8.1f}  {where}")
        cumulative.append({"function": where, "cum_ms_per_call": cumtime / 3 * 1e3})
    ref_ms = dict(zip(refs, (t * 1e3 for t in times[1:]), strict=True))
    return {"op": name, "ours_ms": times[0] * 1e3, "refs_ms": ref_ms, "top": top, "cumulative": cumulative}


def main(argv: list[str]) -> None:
    rows = 2_000_000
    if "--rows" in argv:
        at = argv.index("--rows")
        rows = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    print(header(), f"load average {load_average()}, ~{rows:,} rows, Int64 keys, sorted input")
    cases = _frames(rows)
    results = []
    for name in argv or list(cases):
        ours, refs = cases[name]
        ours()  # compile
        for fn in refs.values():
            fn()
        results.append(profile(name, ours, refs))
    print(f"load average after: {load_average()}")
    save_results("profile_time", results, rows_asked=rows)


if __name__ == "__main__":
    main(sys.argv[1:])
