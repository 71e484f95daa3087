"""parse_time throughput on 10 million rows vs pandas (vectorised) and single-threaded numba loops.

Targets (issue 2, kept by issue 23): int HHMMSSmmm at least 3x pandas and at least 0.8x the numba
loop. Two numba loops: the plain one (decode by six divisions, clamp, no checks: less work than
ours) and the validating one, which does what ``parse_time`` does (decodes by two divisions,
refuses a value that is not a time of day: negative, HH >= 24, MM >= 60 or SS >= 60, and raises
naming it). Also the Datetime and string encodings, and peak memory. Cases run interleaved.
Run: ``python -m benchmarks parse_time``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numba
import numpy as np
import polars as pl

import vizflow as vf
from benchmarks._common import header, interleaved_medians, load_average, peak_memory_mib, save_results

if TYPE_CHECKING:
    import pandas as pd

N_SYMBOLS, PER_SYMBOL = 2000, 5000  # ~10M rows


def trades() -> pl.DataFrame:
    return vf.datasets.synthetic_trades(n_symbols=N_SYMBOLS, trades_per_symbol=PER_SYMBOL, seed=1)


@numba.njit(cache=True)
def cn_elapsed_numba(ticktime):
    out = np.empty(ticktime.size, np.float64)
    for i in range(ticktime.size):
        v = ticktime[i]
        ms = (v // 10_000_000 * 3600 + v // 100_000 % 100 * 60 + v // 1000 % 100) * 1000 + v % 1000
        e = min(max(ms - 34_200_000, 0), 7_200_000) + min(max(ms - 46_800_000, 0), 7_200_000)
        out[i] = e / 1000.0
    return out


@numba.njit(cache=True)
def cn_elapsed_validated_numba(ticktime, out):
    """The loop an expert writes for what parse_time does: decode, check, clamp; count the bad values."""
    bad = 0
    first = -1
    for i in range(ticktime.size):
        v = ticktime[i]
        hh = v // 10_000_000
        hhmm = v // 100_000
        mm = hhmm - hh * 100
        if v < 0 or hh >= 24 or mm >= 60 or v - hhmm * 100_000 >= 60_000:
            if bad == 0:
                first = i
            bad += 1
            continue
        ms = v - hh * 6_400_000 - mm * 40_000
        e = min(max(ms - 34_200_000, 0), 7_200_000) + min(max(ms - 46_800_000, 0), 7_200_000)
        out[i] = e / 1000.0
    return bad, first


def cn_elapsed_validated(ticktime: np.ndarray) -> np.ndarray:
    out = np.empty(ticktime.size, np.float64)
    bad, first = cn_elapsed_validated_numba(ticktime, out)
    if bad:
        msg = f"{bad} value(s) are not times of day, first: {ticktime[first]}"
        raise ValueError(msg)
    return out


def cn_elapsed_pandas(ticktime: pd.Series) -> pd.Series:
    ms = (
        ticktime // 10_000_000 * 3600 + ticktime // 100_000 % 100 * 60 + ticktime // 1000 % 100
    ) * 1000 + ticktime % 1000
    morning = (ms - 34_200_000).clip(0, 7_200_000)
    afternoon = (ms - 46_800_000).clip(0, 7_200_000)
    return (morning + afternoon) / 1000.0


def _polars_int():
    df = trades()
    return lambda: vf.parse_time(df, vf.CN, "ticktime")


def _pandas_int():
    s = trades().to_pandas()["ticktime"]
    return lambda: cn_elapsed_pandas(s)


def _numba_int():
    a = trades()["ticktime"].to_numpy()
    cn_elapsed_numba(a[:10])
    return lambda: cn_elapsed_numba(a)


def main() -> None:
    print(header())
    df = trades()
    n = df.height
    ticktime = df["ticktime"].to_numpy()
    pd_ticktime = df.to_pandas()["ticktime"]

    # Parity before timing.
    ours = vf.parse_time(df, vf.CN, "ticktime")["elapsed_seconds"].to_numpy()
    cn_elapsed_validated(ticktime[:10])
    assert np.allclose(ours, cn_elapsed_numba(ticktime), rtol=0, atol=1e-9)
    assert np.array_equal(ours, cn_elapsed_validated(ticktime))
    assert np.allclose(ours, cn_elapsed_pandas(pd_ticktime).to_numpy(), rtol=0, atol=1e-9)

    tod = pl.from_numpy(
        (
            (ticktime // 10_000_000 * 3600 + ticktime // 100_000 % 100 * 60 + ticktime // 1000 % 100) * 1000
            + ticktime % 1000
        )
        * 1_000_000,
        schema=["ns"],
    )["ns"]
    stamps = pl.DataFrame({"ts": tod.cast(pl.Time)}).select(
        ts=pl.lit(dt.date(2024, 1, 2)).dt.combine(pl.col("ts")).dt.cast_time_unit("ms"),
        text=pl.col("ts").dt.to_string("%H:%M:%S%.3f"),
    )
    assert np.allclose(vf.parse_time(stamps, vf.CN, "ts")["elapsed_seconds"].to_numpy(), ours)
    assert np.allclose(vf.parse_time(stamps, vf.CN, "text")["elapsed_seconds"].to_numpy(), ours)

    runs = {
        "polars parse_time, int HHMMSSmmm": lambda: vf.parse_time(df, vf.CN, "ticktime"),
        "polars parse_time, int, lazy select": lambda: (
            df.lazy().select(vf.elapsed_expr("ticktime", vf.CN)).collect()
        ),
        "pandas vectorised, int": lambda: cn_elapsed_pandas(pd_ticktime),
        "numba loop (1 thread), int": lambda: cn_elapsed_numba(ticktime),
        "numba loop, validating, int": lambda: cn_elapsed_validated(ticktime),
        "polars parse_time, Datetime[ms]": lambda: vf.parse_time(stamps, vf.CN, "ts"),
        "polars parse_time, string": lambda: vf.parse_time(stamps, vf.CN, "text"),
    }
    times = dict(zip(runs, interleaved_medians(list(runs.values()), repeats=15), strict=True))
    base = times["polars parse_time, int HHMMSSmmm"]
    print(f"\nrows: {n:,}; median of 15 interleaved runs")
    print(f"{'case':<40} {'seconds':>8} {'Mrows/s':>8} {'vs ours':>8}")
    for name, t in times.items():
        print(f"{name:<40} {t:8.3f} {n / t / 1e6:8.1f} {t / base:8.2f}x")
    print(
        f"\nours vs pandas: {times['pandas vectorised, int'] / base:.2f}x (target >= 3x); "
        f"ours vs numba loop: {times['numba loop (1 thread), int'] / base:.2f}x (target >= 0.8x); "
        f"ours vs the validating numba loop: {times['numba loop, validating, int'] / base:.2f}x"
    )
    rows = [{"case": name, "seconds": t, "vs_ours": t / base} for name, t in times.items()]
    for name, target in [("polars", _polars_int), ("pandas", _pandas_int), ("numba", _numba_int)]:
        peak = peak_memory_mib(target)
        print(f"peak memory growth, {name}, int: {peak:.0f} MiB")
        rows.append({"case": f"peak RSS growth, {name}, int", "mib": peak})
    save_results("parse_time", rows, rows_in=n, load_average_end=load_average())


if __name__ == "__main__":
    main()
