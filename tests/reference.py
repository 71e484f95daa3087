"""Slow, obviously correct row-loop references, one per algorithm.

A reference never imports the code it checks (only plain Python, numpy and the standard library).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt


def cn_elapsed_seconds(t: dt.time) -> float:
    """CN A-share clock by hand: 09:30-11:30 then 13:00-15:00, clamped outside the sessions."""
    ms = ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000
    morning_open, morning_close = 34_200_000, 41_400_000
    afternoon_open, afternoon_close = 46_800_000, 54_000_000
    if ms <= morning_open:
        return 0.0
    if ms <= morning_close:
        return (ms - morning_open) / 1000
    if ms <= afternoon_open:
        return 7200.0
    if ms <= afternoon_close:
        return (7_200_000 + ms - afternoon_open) / 1000
    return 14400.0


def forward_return_reference(
    rows: list[tuple],
    horizons: list[float],
    source: list[tuple] | None = None,
    *,
    tolerance: float | None = None,
    current_from_source: bool = False,
    log: bool = False,
) -> dict[float, list[float | None]]:
    """Forward returns by hand: per symbol, ``numpy.searchsorted`` on the source's sorted times.

    ``rows`` and ``source`` hold ``(symbol, time, price)``; ``source`` defaults to ``rows``.
    Source rows with a null symbol or time are never matched; ties: the last row of equal times.
    """
    import math

    import numpy as np

    source = rows if source is None else source
    by_symbol: dict = {}
    for sym, t, p in source:  # input order; a stable sort keeps it within equal times
        if sym is not None and t is not None:
            by_symbol.setdefault(sym, []).append((t, p))
    for sym in by_symbol:
        by_symbol[sym].sort(key=lambda tp: tp[0])
    times_of = {sym: np.array([t for t, _ in obs], dtype=float) for sym, obs in by_symbol.items()}

    def asof(sym, target, beyond_last_is_null):
        obs = by_symbol.get(sym)
        if not obs:
            return None
        times = times_of[sym]
        j = int(np.searchsorted(times, target, side="right")) - 1
        if j < 0 or (beyond_last_is_null and target > times[-1]):
            return None
        if tolerance is not None and target - times[j] > tolerance:
            return None
        return obs[j][1]

    out: dict[float, list[float | None]] = {h: [] for h in horizons}
    for sym, t, p in rows:
        now = p
        if t is not None and current_from_source:
            now = asof(sym, t, beyond_last_is_null=False)
        for h in horizons:
            future = None if t is None else asof(sym, t + h, beyond_last_is_null=True)
            if future is None or now is None or now == 0 or math.isnan(future):
                out[h].append(None)
            elif log:
                ratio = future / now
                out[h].append(math.log(ratio) if ratio > 0 else None)
            else:
                out[h].append((future - now) / now)
    return out


def enrich_reference(
    rows: list[dict],
    by: str | list[str],
    sort_by: str,
    conditions: dict | None = None,
    running: dict | None = None,
) -> dict[str, list]:
    """The plan's row-by-row Enricher: sort by (by, sort_by, input order), reset state per symbol.

    ``by`` is one key column or several (a list; ``[]`` makes the whole frame one group); a
    null key is a value of its own. ``conditions`` maps name -> fn(row); ``running`` maps
    name -> (fn(prev, row), initial). Returns each output column in input row order.
    """
    conditions = conditions or {}
    running = running or {}
    keys = [by] if isinstance(by, str) else list(by)

    def key(row: dict) -> tuple:
        return tuple((row[c] is not None, row[c]) for c in keys)

    order = sorted(range(len(rows)), key=lambda i: (key(rows[i]), rows[i][sort_by], i))
    out: dict[str, list] = {name: [None] * len(rows) for name in [*conditions, *running]}
    current = object()
    state: dict = {}
    for i in order:
        row = rows[i]
        if key(row) != current:
            current = key(row)
            state = {name: initial for name, (_, initial) in running.items()}
        for name, fn in conditions.items():
            out[name][i] = fn(row)
        for name, (fn, _) in running.items():
            state[name] = fn(state[name], row)
            out[name][i] = state[name]
    return out


def fifo_reference(fills: list[tuple], *, mode: str = "position", qty_tol: float = 1e-9) -> list[tuple]:
    """FIFO matching with a ``collections.deque`` of open lots per symbol.

    ``fills`` holds ``(symbol, time, direction, qty, price)`` in input order (direction +1 on the
    entry side, -1 on the exit side). Symbols are visited in sorted order, fills by (time, input
    order). Returns ``(carrier row, entry row, qty, closed, lot direction)`` tuples: each symbol's
    matches in order, then its open lots. Strict mode raises ``ValueError(row)`` on an exit
    larger than the open position. A remainder counts as zero up to ``qty_tol * max(1, q)``, with
    ``q`` the quantity of the fill it is left from; a lot's, plus two machine epsilons of the
    closing fill's quantity per subtraction its remainder has been through.
    """
    from collections import deque

    out: list[tuple] = []
    for symbol in sorted({f[0] for f in fills}):
        rows = sorted((i for i, f in enumerate(fills) if f[0] == symbol), key=lambda i: (fills[i][1], i))
        lots: deque = deque()
        lots_dir = 0
        for i in rows:
            direction, remaining = fills[i][2], fills[i][3]
            tol = qty_tol * max(1.0, remaining)
            rounding = 2 * sys.float_info.epsilon * remaining  # of remaining, one more per subtraction
            if lots and direction != lots_dir:
                while remaining > tol and lots:
                    entry, open_qty = lots[0]
                    take = min(remaining, open_qty)
                    out.append((i, entry, take, True, lots_dir))
                    remaining -= take
                    open_qty -= take
                    rounding += 2 * sys.float_info.epsilon * fills[i][3]
                    if open_qty <= qty_tol * max(1.0, fills[entry][3]) + rounding:
                        lots.popleft()
                    else:
                        lots[0] = (entry, open_qty)
            if remaining > tol:
                if mode == "strict" and direction < 0:
                    raise ValueError(i)
                if not lots:
                    lots_dir = direction
                lots.append((i, remaining))
        out.extend((entry, entry, open_qty, False, lots_dir) for entry, open_qty in lots)
    return out
