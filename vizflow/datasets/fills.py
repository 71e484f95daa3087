"""A deterministic synthetic stream of a trader's fills, for FIFO tests and benchmarks."""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["synthetic_fills"]


def synthetic_fills(
    n_fills: int = 10_000, n_symbols: int = 20, *, seed: int = 0, fractional: bool = False
) -> pl.DataFrame:
    """Generate the fills of one trader across symbols over a CN session day.

    Parameters
    ----------
    n_fills
        Number of fills in total.
    n_symbols
        Symbols (``S0000``, ``S0001``, ...); fills are spread evenly at random.
    seed
        Random seed.
    fractional
        Fractional quantities (crypto-like, 3 decimals) instead of board lots of 100.

    Returns
    -------
    pl.DataFrame
        ``symbol, elapsed_seconds (Float64, ms resolution), side (Int8: +1 buy, -1 sell),
        qty (Float64), price (Float64)``, sorted by symbol then time.

    Examples
    --------
    >>> fills = synthetic_fills(1000, 5)
    >>> fills.columns
    ['symbol', 'elapsed_seconds', 'side', 'qty', 'price']
    >>> fills["symbol"].n_unique()
    5
    """
    rng = np.random.default_rng([seed, n_fills, n_symbols])
    symbol = np.sort(rng.integers(0, n_symbols, n_fills))
    t_ms = rng.integers(0, 14_400_000, n_fills)
    t_ms = np.sort(symbol.astype(np.int64) * 2**32 + t_ms) - symbol.astype(np.int64) * 2**32
    side = np.where(rng.random(n_fills) < 0.5, 1, -1).astype(np.int8)  # noqa: PLR2004
    if fractional:
        qty = np.round(rng.lognormal(-1.0, 1.0, n_fills), 3) + 0.001
    else:
        qty = np.ceil(rng.lognormal(np.log(5), 0.8, n_fills)) * 100
    steps = rng.choice(np.array([-0.01, 0.0, 0.01]), n_fills)
    price = np.round(
        20.0
        + np.cumsum(steps)
        - np.repeat(
            np.cumsum(steps)[np.searchsorted(symbol, np.arange(n_symbols)).clip(0, max(n_fills - 1, 0))]
            if n_fills
            else np.zeros(n_symbols),
            np.bincount(symbol, minlength=n_symbols),
        ),
        2,
    )
    names = pl.Series([f"S{i:04d}" for i in range(n_symbols)])
    return pl.DataFrame(
        {
            "symbol": names.gather(symbol),
            "elapsed_seconds": t_ms / 1000.0,
            "side": side,
            "qty": qty.astype(np.float64),
            "price": np.maximum(price, 0.01),
        }
    )
