"""A deterministic synthetic China A-share day: Level-1 quotes and trades for many symbols.

Everything is generated with numpy from one seed, so a given ``(date, n_symbols, seed)`` always gives
the same frames. Times are integer HHMMSSmmm (``93000123`` = 09:30:00.123) in both continuous sessions
(09:30-11:30, 13:00-15:00, nothing in the lunch break); the opening call auction prints at 09:25:00.000
and the closing call auction (quotes 14:57-15:00) prints at 15:00:00.000. Mid prices are random walks
on the 0.01 tick, sizes are lognormal in board lots of 100 shares, the side is the aggressor
(+1 buy, -1 sell).
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

__all__ = ["synthetic_day", "synthetic_quotes", "synthetic_trades"]

_TICK = 0.01
_SESSION_MS = 7_200_000  # each CN session is two hours
_OPEN_AUCTION = 92_500_000
_CLOSE_AUCTION = 150_000_000
_WIDE_SPREAD_SHARE = 0.2  # a few symbols trade on a two-tick spread
_KEY = 1 << 32  # symbol index * _KEY + time sorts by (symbol, time) in one int64 key


def _rng(date: str, seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(date), zlib.crc32(stream.encode())])


def _symbols(n_symbols: int) -> np.ndarray:
    half = (n_symbols + 1) // 2
    sh = [f"{600000 + i:06d}.SH" for i in range(half)]
    sz = [f"{1 + i:06d}.SZ" for i in range(n_symbols - half)]
    return np.array(sz + sh)  # sorted: index order is name order


def _clock(elapsed_ms: np.ndarray) -> np.ndarray:
    """Elapsed CN session milliseconds -> wall-clock HHMMSSmmm integers."""
    afternoon = elapsed_ms >= _SESSION_MS
    tod_ms = np.where(afternoon, 13 * 3_600_000 + elapsed_ms - _SESSION_MS, 34_200_000 + elapsed_ms)
    hh, rest = np.divmod(tod_ms, 3_600_000)
    mm, rest = np.divmod(rest, 60_000)
    ss, ms = np.divmod(rest, 1000)
    return hh * 10_000_000 + mm * 100_000 + ss * 1000 + ms


def _start_prices(date: str, n_symbols: int, seed: int) -> np.ndarray:
    rng = _rng(date, seed, "start")
    return np.round(np.exp(rng.normal(np.log(20.0), 0.8, n_symbols)), 2).clip(1.0, 2000.0)


def synthetic_quotes(
    date: str = "20240102", n_symbols: int = 300, *, seed: int = 0, interval_ms: int = 3000
) -> pl.DataFrame:
    """Level-1 snapshots every ``interval_ms`` (3 s, as SSE/SZSE) per symbol over both sessions.

    Parameters
    ----------
    date
        ``"YYYYMMDD"``; part of the seed and of the ``date`` column.
    n_symbols
        Number of symbols (half Shanghai ``6xxxxx.SH``, half Shenzhen ``0xxxxx.SZ``).
    seed
        Random seed.
    interval_ms
        Snapshot spacing.

    Returns
    -------
    pl.DataFrame
        ``date, symbol, ticktime (Int64 HHMMSSmmm), bid, ask, mid, bid_size, ask_size``, sorted by
        symbol then time.

    Examples
    --------
    >>> q = synthetic_quotes(n_symbols=2)
    >>> q.columns
    ['date', 'symbol', 'ticktime', 'bid', 'ask', 'mid', 'bid_size', 'ask_size']
    >>> q["ticktime"].min(), q["ticktime"].max()
    (93000000, 150000000)
    """
    rng = _rng(date, seed, "quotes")
    grid = np.arange(0, 2 * _SESSION_MS + 1, interval_ms, dtype=np.int64)
    n_per = grid.size
    n = n_per * n_symbols
    steps = rng.choice(np.array([-1, 0, 0, 0, 1], dtype=np.int64), size=(n_symbols, n_per))
    steps[:, 0] = 0
    start_ticks = np.round(_start_prices(date, n_symbols, seed) / _TICK).astype(np.int64)
    mid_ticks = np.maximum(start_ticks[:, None] + np.cumsum(steps, axis=1), 5)
    spread_ticks = 1 + (rng.random(n_symbols) < _WIDE_SPREAD_SHARE)
    bid = (mid_ticks - spread_ticks[:, None] // 2 - (spread_ticks[:, None] % 2) * 0) * _TICK
    ask = bid + spread_ticks[:, None] * _TICK
    elapsed = np.broadcast_to(grid, (n_symbols, n_per)).copy()
    elapsed[:, 1:-1] -= rng.integers(0, min(interval_ms, 1000), size=(n_symbols, n_per - 2))
    sizes = (np.ceil(rng.lognormal(np.log(20), 1.0, size=(2, n)))).astype(np.int64) * 100
    return pl.DataFrame(
        {
            "date": pl.repeat(date, n, eager=True),
            "symbol": pl.Series(_symbols(n_symbols)).gather(np.repeat(np.arange(n_symbols), n_per)),
            "ticktime": _clock(elapsed.ravel()),
            "bid": np.round(bid.ravel(), 2),
            "ask": np.round(ask.ravel(), 2),
            "mid": np.round((bid + ask).ravel() / 2, 3),
            "bid_size": sizes[0],
            "ask_size": sizes[1],
        }
    )


def synthetic_trades(
    date: str = "20240102",
    n_symbols: int = 300,
    *,
    seed: int = 0,
    trades_per_symbol: int = 1000,
    quotes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Trade prints per symbol: two call-auction prints and Poisson continuous-session trades.

    Parameters
    ----------
    date, n_symbols, seed
        As for :func:`synthetic_quotes`.
    trades_per_symbol
        Mean number of continuous-session trades of a symbol (each symbol's own rate varies).
    quotes
        Quotes from :func:`synthetic_quotes` with the same ``date``, ``n_symbols`` and ``seed``;
        when given, trades print at the prevailing bid (sells) or ask (buys). Without them, each
        symbol's price follows its own random walk.

    Returns
    -------
    pl.DataFrame
        ``date, symbol, ticktime (Int64 HHMMSSmmm), price, qty (Int64 shares), side (Int8 +1 buy /
        -1 sell)``, sorted by symbol then time.

    Examples
    --------
    >>> t = synthetic_trades(n_symbols=3, trades_per_symbol=50)
    >>> t.columns
    ['date', 'symbol', 'ticktime', 'price', 'qty', 'side']
    >>> t.filter(pl.col("ticktime") == 92500000).height  # one opening-auction print per symbol
    3
    """
    rng = _rng(date, seed, "trades")
    rates = trades_per_symbol * rng.lognormal(0.0, 0.5, n_symbols) / np.exp(0.125)
    counts = rng.poisson(rates).astype(np.int64)
    symbol_idx = np.repeat(np.arange(n_symbols), counts)
    n = int(counts.sum())
    elapsed = rng.integers(1, 2 * _SESSION_MS, size=n, dtype=np.int64)
    elapsed = np.sort(symbol_idx * _KEY + elapsed) - symbol_idx * _KEY
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)  # noqa: PLR2004 (fair coin)
    qty = np.ceil(rng.lognormal(np.log(8), 1.1, n)).astype(np.int64) * 100

    if quotes is not None:
        names = _symbols(n_symbols).tolist()
        q = quotes.select(
            pl.col("symbol").replace_strict(names, range(n_symbols), return_dtype=pl.Int64),
            "ticktime",
            "bid",
            "ask",
        ).sort("symbol", "ticktime")
        q_key = q["symbol"].to_numpy() * _KEY + _elapsed_ms(q["ticktime"].to_numpy())
        pos = np.searchsorted(q_key, symbol_idx * _KEY + elapsed, side="right") - 1
        pos = np.maximum(pos, 0)
        price = np.where(side > 0, q["ask"].to_numpy()[pos], q["bid"].to_numpy()[pos])
        first = q.group_by("symbol", maintain_order=True).agg(pl.col("bid").first(), pl.col("ask").last())
        open_px = first["bid"].to_numpy()
        close_px = first["ask"].to_numpy()
    else:
        start = _start_prices(date, n_symbols, seed)
        steps = rng.choice(np.array([-1, 0, 0, 1]), size=n) * _TICK
        walk = np.cumsum(steps)
        seg_start = np.repeat(np.cumsum(counts) - counts, counts)
        price = np.maximum(start[symbol_idx] + walk - walk[seg_start] + steps[seg_start], _TICK)
        open_px = start
        last = (np.cumsum(counts) - 1).clip(0)
        close_px = np.where(counts > 0, price[last], start) if n else start

    auction_qty = np.ceil(rng.lognormal(np.log(60), 1.0, size=(2, n_symbols))).astype(np.int64) * 100
    syms = np.arange(n_symbols)
    all_sym = np.concatenate([syms, symbol_idx, syms])
    all_time = np.concatenate(
        [np.full(n_symbols, _OPEN_AUCTION), _clock(elapsed), np.full(n_symbols, _CLOSE_AUCTION)]
    )
    all_price = np.concatenate([open_px, price, close_px])
    all_qty = np.concatenate([auction_qty[0], qty, auction_qty[1]])
    all_side = np.concatenate([np.ones(n_symbols, np.int8), side, -np.ones(n_symbols, np.int8)])
    order = np.argsort(all_sym * _KEY + all_time, kind="stable")
    return pl.DataFrame(
        {
            "date": pl.repeat(date, all_sym.size, eager=True),
            "symbol": pl.Series(_symbols(n_symbols)).gather(all_sym[order]),
            "ticktime": all_time[order].astype(np.int64),
            "price": np.round(all_price[order], 2),
            "qty": all_qty[order],
            "side": all_side[order],
        }
    )


def _elapsed_ms(ticktime: np.ndarray) -> np.ndarray:
    hh, rest = np.divmod(ticktime, 10_000_000)
    mm, rest = np.divmod(rest, 100_000)
    tod = hh * 3_600_000 + mm * 60_000 + rest
    return np.where(tod >= 13 * 3_600_000, tod - 13 * 3_600_000 + _SESSION_MS, tod - 34_200_000)


def synthetic_day(
    date: str = "20240102", n_symbols: int = 300, *, seed: int = 0, trades_per_symbol: int = 1000
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Quotes and trades of one synthetic day, the trades printing at the quoted bid/ask.

    Returns
    -------
    tuple of pl.DataFrame
        ``(quotes, trades)`` as :func:`synthetic_quotes` and :func:`synthetic_trades` describe.

    Examples
    --------
    >>> quotes, trades = synthetic_day(n_symbols=4, trades_per_symbol=20)
    >>> sorted(set(trades["symbol"])) == sorted(set(quotes["symbol"]))
    True
    """
    quotes = synthetic_quotes(date, n_symbols, seed=seed)
    trades = synthetic_trades(date, n_symbols, seed=seed, trades_per_symbol=trades_per_symbol, quotes=quotes)
    return quotes, trades
