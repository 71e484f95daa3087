"""Book prices as Polars expressions: microprice, imbalance, spread and half spread in bp.

Each function takes the names of the level-1 columns (or expressions) and returns a ``pl.Expr``
aliased by its own name, usable in ``with_columns``/``select`` on a DataFrame or a LazyFrame, and
as the reference price of a lookup.

A book that cannot answer gives null, never a number: a null, NaN, infinite, zero or negative
price; a null, NaN, zero or negative size (a one-sided or empty book: the microprice of a book with
no size on one side would be that side's price, a number made from a zero); and a crossed book
(bid > ask). A locked book (bid == ask, e.g. the indicative match the CN call auctions publish on
both sides) is a book: its spread is 0 and its microprice the common price.
"""

from __future__ import annotations

import polars as pl

from vizflow._numbers import positive

__all__ = ["half_spread_bp", "imbalance", "microprice", "spread"]


def _col(column: str | pl.Expr) -> pl.Expr:
    return (pl.col(column) if isinstance(column, str) else column).cast(pl.Float64)


def _two_sided(bid: pl.Expr, ask: pl.Expr) -> pl.Expr:
    return positive(bid) & positive(ask) & (bid <= ask)


def _sized(bid_size: pl.Expr, ask_size: pl.Expr) -> pl.Expr:
    return positive(bid_size) & positive(ask_size)


def microprice(
    bid: str | pl.Expr = "bid",
    ask: str | pl.Expr = "ask",
    bid_size: str | pl.Expr = "bid_size",
    ask_size: str | pl.Expr = "ask_size",
) -> pl.Expr:
    """Compute the size-weighted mid ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``.

    The price leans towards the side with less size (the side more likely to be taken next).

    Parameters
    ----------
    bid, ask, bid_size, ask_size
        Columns (names or expressions) of the best bid, best ask and the sizes there.

    Returns
    -------
    pl.Expr
        Float64 named ``microprice``; null for a one-sided, empty or crossed book (see the module).

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> book = pl.DataFrame(
    ...     {"bid": [10.0, 10.0, 10.0, 10.2], "ask": [10.1, 10.1, 10.1, 10.1],
    ...      "bid_size": [300, 100, 0, 100], "ask_size": [100, 100, 100, 100]}
    ... )  # fmt: skip
    >>> book.select(vf.book.microprice())["microprice"].round(4).to_list()  # empty bid, crossed: null
    [10.075, 10.05, None, None]
    """
    b, a, bs, as_ = _col(bid), _col(ask), _col(bid_size), _col(ask_size)
    value = (b * as_ + a * bs) / (bs + as_)
    return pl.when(_two_sided(b, a) & _sized(bs, as_)).then(value).alias("microprice")


def imbalance(
    bid: str | pl.Expr = "bid",
    ask: str | pl.Expr = "ask",
    bid_size: str | pl.Expr = "bid_size",
    ask_size: str | pl.Expr = "ask_size",
) -> pl.Expr:
    """Compute the level-1 size imbalance ``(bid_size - ask_size) / (bid_size + ask_size)``, in (-1, 1).

    Positive: more size waiting to buy than to sell.

    Parameters
    ----------
    bid, ask, bid_size, ask_size
        Columns (names or expressions); the prices only decide whether the book is two-sided and
        uncrossed.

    Returns
    -------
    pl.Expr
        Float64 named ``imbalance``; null for a one-sided, empty or crossed book.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> book = pl.DataFrame(
    ...     {"bid": [10.0, 10.0, None], "ask": [10.1, 10.1, 10.1],
    ...      "bid_size": [300, 100, 100], "ask_size": [100, 100, 100]}
    ... )  # fmt: skip
    >>> book.select(vf.book.imbalance())["imbalance"].to_list()
    [0.5, 0.0, None]
    """
    b, a, bs, as_ = _col(bid), _col(ask), _col(bid_size), _col(ask_size)
    value = (bs - as_) / (bs + as_)
    return pl.when(_two_sided(b, a) & _sized(bs, as_)).then(value).alias("imbalance")


def _valid(
    bid: pl.Expr, ask: pl.Expr, bid_size: str | pl.Expr | None, ask_size: str | pl.Expr | None
) -> pl.Expr:
    ok = _two_sided(bid, ask)
    if bid_size is not None:
        ok = ok & positive(_col(bid_size))
    if ask_size is not None:
        ok = ok & positive(_col(ask_size))
    return ok


def spread(
    bid: str | pl.Expr = "bid",
    ask: str | pl.Expr = "ask",
    bid_size: str | pl.Expr | None = None,
    ask_size: str | pl.Expr | None = None,
) -> pl.Expr:
    """Compute the quoted spread ``ask - bid``, in price units.

    Parameters
    ----------
    bid, ask
        Columns (names or expressions) of the best bid and ask.
    bid_size, ask_size
        Optional size columns: when given, a side with no size counts as empty (null spread).
        Without them only the prices decide, so frames without sizes work.

    Returns
    -------
    pl.Expr
        Float64 named ``spread``; null for a one-sided, empty or crossed book, 0 for a locked one.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> book = pl.DataFrame({"bid": [10.0, 10.1, 10.2, None], "ask": [10.1, 10.1, 10.1, 10.1]})
    >>> book.select(vf.book.spread().round(6))["spread"].to_list()
    [0.1, 0.0, None, None]
    """
    b, a = _col(bid), _col(ask)
    return pl.when(_valid(b, a, bid_size, ask_size)).then(a - b).alias("spread")


def half_spread_bp(
    bid: str | pl.Expr = "bid",
    ask: str | pl.Expr = "ask",
    bid_size: str | pl.Expr | None = None,
    ask_size: str | pl.Expr | None = None,
) -> pl.Expr:
    """Compute the quoted half spread over the mid, in basis points: ``1e4 (ask - bid) / (ask + bid)``.

    It is the cost, relative to the mid, of crossing to the touch: a buy at the ask pays it.

    Parameters
    ----------
    bid, ask
        Columns (names or expressions) of the best bid and ask.
    bid_size, ask_size
        Optional size columns, as in :func:`spread`.

    Returns
    -------
    pl.Expr
        Float64 named ``half_spread_bp``; null for a one-sided, empty or crossed book.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> book = pl.DataFrame({"bid": [99.0, 100.0], "ask": [101.0, 99.0]})
    >>> book.select(vf.book.half_spread_bp())["half_spread_bp"].to_list()
    [100.0, None]
    """
    b, a = _col(bid), _col(ask)
    return pl.when(_valid(b, a, bid_size, ask_size)).then((a - b) / (a + b) * 1e4).alias("half_spread_bp")
