"""Data quality: counts of what is wrong with a day of trades and quotes, per date and symbol.

The functions are ``vf.quality``, ``vf.quality_totals`` and ``vf.worst_dates``; the module is named
``data_quality`` so that ``vizflow.quality`` is only ever the function, never a module it shadows.

Each count is a number of rows, so tables of many dates add up (:func:`quality_totals`), and the
worst dates come first in :func:`worst_dates`. The rules are in :func:`quality` and in
``docs/data-quality.md``.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import polars as pl

from vizflow._frames import same_kind
from vizflow._numbers import positive
from vizflow._validate import require_columns
from vizflow.exceptions import SchemaError, VizflowError
from vizflow.market import get_market
from vizflow.ops.phase import session_phase
from vizflow.ops.time import parse_time

if TYPE_CHECKING:
    from vizflow._typing import FrameT
    from vizflow.context import Context
    from vizflow.market import Market

__all__ = ["COUNTS", "ISSUES", "RULES", "quality", "quality_pipeline", "quality_totals", "worst_dates"]

TRADE_COUNTS = (
    "trades",
    "bad_prices",
    "bad_times",
    "duplicate_trades",
    "out_of_order",
    "outside_quote",
    "unquoted_trades",
    "auction_trades",
    "outside_session",
)
QUOTE_COUNTS = (
    "quotes",
    "crossed_quotes",
    "locked_quotes",
    "one_sided_quotes",
    "bad_quotes",
    "quotes_out_of_order",
    "stale_quotes",
)
COUNTS = (*TRADE_COUNTS, *QUOTE_COUNTS)
"""The count columns of :func:`quality`, in order (each followed by ``issues`` in the output)."""

ISSUES = tuple(c for c in COUNTS if c not in {"trades", "quotes", "auction_trades"})
"""The counts that are defects; ``issues`` is their sum (auction prints are counted apart, not as defects)."""

RULES = {
    "trades": "prints (rows)",
    "bad_prices": "prints with a null, NaN, infinite, zero or negative price or size",
    "bad_times": "prints with a null time or one that is no time of day",
    "duplicate_trades": "prints identical in every column to an earlier one (the copies)",
    "out_of_order": "prints earlier than the previous print of the date and symbol, in file order",
    "outside_quote": "continuous-session prints below the bid or above the ask of the quote in force",
    "unquoted_trades": "continuous-session prints with no two-sided, uncrossed quote in force",
    "auction_trades": "prints in a call auction (not a defect)",
    "outside_session": "prints in no continuous session and no auction",
    "quotes": "quotes (rows)",
    "crossed_quotes": "continuous-session quotes with bid > ask",
    "locked_quotes": "continuous-session quotes with bid == ask",
    "one_sided_quotes": "continuous-session quotes with a null bid or ask",
    "bad_quotes": "quotes with a NaN, infinite, zero or negative bid, ask or size",
    "quotes_out_of_order": "quotes earlier than the previous quote of the date and symbol, in file order",
    "stale_quotes": "gaps longer than stale_after seconds of the session clock between continuous quotes",
    "issues": "the sum of the defect counts",
}
"""Each count of :func:`quality` (and ``issues``) in one line, for captions (the rules: its docstring)."""

_PHASE, _ROW, _CLOCK = "_vf_quality_phase", "_vf_quality_row", "_vf_quality_clock"
_CONTINUOUS = "continuous"


def _check_stale_after(stale_after: float) -> float:
    if (
        isinstance(stale_after, bool)
        or not isinstance(stale_after, numbers.Real)
        or not math.isfinite(stale_after)
        or stale_after <= 0
    ):
        msg = f"quality: stale_after={stale_after!r}; expected a finite number of seconds > 0"
        raise VizflowError(msg)
    return float(stale_after)


def _check_time(schema: pl.Schema, column: str, what: str) -> None:
    dtype = schema[column]
    if not (dtype.is_numeric() or dtype.is_temporal()):
        msg = (
            f"quality ({what}): time column {column!r} has dtype {dtype}; expected an orderable time "
            "(integer HHMMSSmmm, seconds, Time or Datetime) to find the quote in force"
        )
        raise SchemaError(msg)


def _check_keys(trades: pl.Schema, quotes: pl.Schema, keys: list[str]) -> None:
    for key in keys:
        if trades[key] != quotes[key]:
            msg = (
                f"quality: key column {key!r} is {trades[key]} in trades but {quotes[key]} in quotes; "
                "cast one to the other's dtype so the same symbol and date match"
            )
            raise SchemaError(msg)


def _earlier(time: str, keys: list[str]) -> pl.Expr:
    """Rows whose time is before the last time of an earlier row of the same keys, in file order.

    A null time in between hides nothing: the comparison is with the last row that has a time.
    """
    before = pl.col(time).shift(1).forward_fill()
    return (pl.col(time) < before).over(keys).fill_null(False)


def _count(condition: pl.Expr, name: str) -> pl.Expr:
    return condition.fill_null(False).sum().cast(pl.Int64).alias(name)


def quality(
    trades: FrameT,
    quotes: pl.DataFrame | pl.LazyFrame,
    market: Market | str,
    *,
    time_col: str = "ticktime",
    price_col: str = "price",
    size_col: str = "qty",
    bid_col: str = "bid",
    ask_col: str = "ask",
    bid_size_col: str | None = None,
    ask_size_col: str | None = None,
    symbol_col: str = "symbol",
    date_col: str = "date",
    quote_time_col: str | None = None,
    stale_after: float = 30.0,
) -> FrameT:
    """Count the defects of trades and quotes: one row per date and symbol.

    Trades (every row counted once in ``trades``):

    - ``bad_prices``: a null, NaN, infinite, zero or negative price or size;
    - ``bad_times``: a null time or one that is no time of day;
    - ``duplicate_trades``: a row identical in every column to an earlier one (the copies beyond
      the first);
    - ``out_of_order``: a time earlier than the previous trade's of the same date and symbol, in
      file order (the previous with a time: a null time hides no step back);
    - ``outside_quote``: a continuous-session print (with a good price) below the bid or above the
      ask of the quote in force (the last quote of the date and symbol at or before its time, any phase);
    - ``unquoted_trades``: a continuous-session print with no two-sided, uncrossed quote with good
      prices in force;
    - ``auction_trades``: prints in a call auction (a phase whose name ends in ``auction``): not a
      defect, counted apart;
    - ``outside_session``: prints in no continuous session and no auction (the break, after-hours,
      closed).

    Quotes (every row counted once in ``quotes``); the book rules apply in the continuous session,
    where an auction's indicative match (bid == ask in CN snapshots) is no defect:

    - ``crossed_quotes`` (bid > ask), ``locked_quotes`` (bid == ask), both among good prices,
      ``one_sided_quotes`` (a null bid or ask), each in the continuous session;
    - ``bad_quotes``: a bid, ask or size (when given) that is present but NaN, infinite, zero or
      negative (null sides are ``one_sided_quotes``), any phase;
    - ``quotes_out_of_order``: as ``out_of_order``, for quotes;
    - ``stale_quotes``: gaps longer than ``stale_after`` seconds of the session clock
      (:func:`vizflow.parse_time`, the break takes no time) between consecutive continuous-session
      quotes of the date and symbol, in time order.

    ``issues`` is the sum of the defect counts (:data:`ISSUES`: all but ``trades``, ``quotes`` and
    ``auction_trades``).

    Parameters
    ----------
    trades, quotes
        The prints and the quotes (Level-1 snapshots), any row order; several dates and symbols.
    market
        The market whose phases (:func:`vizflow.session_phase`) and clock apply.
    time_col, price_col, size_col
        The trades' time, price and size columns.
    bid_col, ask_col, bid_size_col, ask_size_col
        The quotes' best bid and ask, and optionally their sizes.
    symbol_col, date_col
        Keys, in both frames (same dtypes).
    quote_time_col
        The quotes' time column (default: ``time_col``), in the same encoding as the trades'.
    stale_after
        Seconds of the session clock beyond which a gap between quotes counts.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``trades``: ``date_col``, ``symbol_col``, the :data:`COUNTS` (Int64,
        0 for a symbol with only quotes or only trades that day) and ``issues``, sorted by date
        and symbol.

    Raises
    ------
    ColumnNotFoundError
        For a missing column.
    SchemaError
        For a time that is not orderable (a string), or keys of different dtypes in the two frames.
    VizflowError
        For a ``stale_after`` that is not a finite number > 0.

    Notes
    -----
    Lazy: a LazyFrame in gives a plan, read at ``collect()``. The quote in force is found by an
    as-of join on the time as stored, after sorting both sides by (date, symbol, time), so a
    session crossing midnight needs a Datetime time.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> trades = pl.DataFrame(
    ...     {"date": "20240102", "symbol": "A", "ticktime": [93000500, 93001000, 93000900, 113500000],
    ...      "price": [10.05, 10.2, 0.0, 10.1], "qty": [100, 100, 100, 100]}
    ... )  # fmt: skip
    >>> quotes = pl.DataFrame(
    ...     {"date": "20240102", "symbol": "A", "ticktime": [93000000, 93100000],
    ...      "bid": [10.0, 10.1], "ask": [10.1, 10.1]}
    ... )  # fmt: skip
    >>> out = vf.quality(trades, quotes, vf.CN, stale_after=30)
    >>> out.select("trades", "bad_prices", "out_of_order", "outside_quote", "outside_session").row(0)
    (4, 1, 1, 1, 1)
    >>> out.select("quotes", "locked_quotes", "stale_quotes", "issues").row(0)
    (2, 1, 1, 6)
    """
    where = "quality"
    stale = _check_stale_after(stale_after)
    market = get_market(market)
    q_time = quote_time_col or time_col
    keys: list[str] = [date_col, symbol_col]
    t_schema, q_schema = trades.collect_schema(), quotes.collect_schema()
    require_columns(t_schema, [*keys, time_col, price_col, size_col], where=f"{where} (trades)")
    sizes: list[str] = [c for c in (bid_size_col, ask_size_col) if c is not None]
    require_columns(q_schema, [*keys, q_time, bid_col, ask_col, *sizes], where=f"{where} (quotes)")
    _check_time(t_schema, time_col, "trades")
    _check_time(q_schema, q_time, "quotes")
    _check_keys(t_schema, q_schema, keys)

    t = trades.lazy().with_columns((~pl.struct(pl.all()).is_first_distinct()).alias(_ROW))
    t = session_phase(t, market, time_col, out=_PHASE, invalid="null")
    phase = pl.col(_PHASE).cast(pl.String)
    continuous = phase == _CONTINUOUS
    auction = phase.str.ends_with("auction")
    trade_counts = t.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("trades"),
        _count(~(positive(pl.col(price_col)) & positive(pl.col(size_col))).fill_null(False), "bad_prices"),
        _count(pl.col(_PHASE).is_null(), "bad_times"),
        _count(pl.col(_ROW), "duplicate_trades"),
        _count(_earlier(time_col, keys), "out_of_order"),
        _count(auction, "auction_trades"),
        _count(pl.col(_PHASE).is_not_null() & ~continuous & ~auction, "outside_session"),
    )

    bid, ask = pl.col(bid_col), pl.col(ask_col)
    book = positive(bid) & positive(ask) & (bid <= ask)  # a NaN or zero price is no quote
    priced = positive(pl.col(price_col))  # a bad price is counted once, in bad_prices
    in_force = (
        t.filter(continuous, pl.col(time_col).is_not_null())
        .select(*keys, time_col, price_col)
        .sort(*keys, time_col, maintain_order=True)
        .join_asof(
            quotes.lazy()
            .select(*keys, pl.col(q_time).alias(time_col), bid, ask)
            .filter(pl.col(time_col).is_not_null())
            .sort(*keys, time_col, maintain_order=True),
            on=time_col,
            by=keys,
            strategy="backward",
            check_sortedness=False,  # both sides sorted by (keys, time) just above
        )
        .group_by(keys)
        .agg(
            _count(book & priced & ((pl.col(price_col) < bid) | (pl.col(price_col) > ask)), "outside_quote"),
            _count(~book.fill_null(False), "unquoted_trades"),
        )
    )

    q = session_phase(quotes.lazy(), market, q_time, out=_PHASE, invalid="null")
    q = parse_time(q, market, q_time, out=_CLOCK, invalid="null")
    q_continuous = pl.col(_PHASE).cast(pl.String) == _CONTINUOUS
    present_bad = [~positive(pl.col(c)) for c in (bid_col, ask_col, *sizes)]
    priced_book = positive(bid) & positive(ask)  # a NaN, zero or negative price is a bad quote
    gaps = (
        q.filter(q_continuous, pl.col(_CLOCK).is_not_null())
        .select(*keys, _CLOCK)
        .sort(*keys, _CLOCK, maintain_order=True)
        .group_by(keys)
        .agg(_count(pl.col(_CLOCK).diff() > stale, "stale_quotes"))
    )
    quote_counts = q.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("quotes"),
        _count(q_continuous & priced_book & (bid > ask), "crossed_quotes"),
        _count(q_continuous & priced_book & (bid == ask), "locked_quotes"),
        _count(q_continuous & (bid.is_null() | ask.is_null()), "one_sided_quotes"),
        _count(pl.any_horizontal(present_bad), "bad_quotes"),
        _count(_earlier(q_time, keys), "quotes_out_of_order"),
    )

    table = (
        trade_counts.join(in_force, on=keys, how="left", nulls_equal=True)
        .join(quote_counts, on=keys, how="full", coalesce=True, nulls_equal=True)
        .join(gaps, on=keys, how="left", nulls_equal=True)
        .select(*keys, *(pl.col(c).fill_null(0) for c in COUNTS))
        .with_columns(issues=pl.sum_horizontal(ISSUES))
        .sort(keys, nulls_last=True)
    )
    return same_kind(trades, table)


def quality_totals(table: FrameT, by: str | list[str] | None = "symbol") -> FrameT:
    """Add up :func:`quality` tables over dates: one row per ``by`` (or one row for all).

    Parameters
    ----------
    table
        One or more :func:`quality` outputs, concatenated.
    by
        Key column(s) kept apart, or ``None`` for one row.

    Returns
    -------
    DataFrame or LazyFrame
        ``by``, ``dates`` (how many rows were added) and every count column summed.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> table = pl.DataFrame({"date": ["1", "2"], "symbol": "A", "trades": [3, 4], "issues": [1, 0]})
    >>> vf.quality_totals(table).row(0)
    ('A', 2, 7, 1)
    """
    schema = table.collect_schema()
    counts: list[str] = [c for c in (*COUNTS, "issues") if c in schema]
    sums = [pl.len().cast(pl.Int64).alias("dates"), *(pl.col(c).sum() for c in counts)]
    lazy = table.lazy()
    if by is None:
        return same_kind(table, lazy.select(sums))
    return same_kind(table, lazy.group_by(by).agg(sums).sort(by))


def worst_dates(table: FrameT, n: int = 5, date_col: str = "date") -> FrameT:
    """Pick the ``n`` dates with the most ``issues`` (all symbols added), most first, then by date.

    Parameters
    ----------
    table
        :func:`quality` output of many dates.
    n
        How many dates.
    date_col
        The date column.

    Returns
    -------
    DataFrame or LazyFrame
        ``date_col`` and the count columns summed over symbols, ``n`` rows at most.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> table = pl.DataFrame({"date": ["1", "2", "2"], "symbol": ["A", "A", "B"], "issues": [5, 1, 3]})
    >>> vf.worst_dates(table, 1).rows()
    [('1', 1, 5)]
    """
    totals = quality_totals(table.lazy(), date_col)
    worst = totals.rename({"dates": "symbols"}).sort(["issues", date_col], descending=[True, False]).head(n)
    return same_kind(table, worst)


def quality_pipeline(
    lf: pl.LazyFrame, ctx: Context, *, quotes: str = "quotes", stale_after: float = 30.0
) -> pl.LazyFrame:
    """Run :func:`quality` as a runner pipeline: the date's trades, and its quotes from a source.

    ``lf`` is the date's main input (trades); the quotes are the config's source ``quotes``
    (``[sources]`` table); column names go through the config's ``[columns]`` table (semantic
    names ``ticktime``, ``price``, ``qty``, ``bid``, ``ask``, ``symbol``, ``date``). A frame
    without the date column gets the run's date.

    Parameters
    ----------
    lf
        The date's trades.
    ctx
        The run's context.
    quotes
        The name of the quotes source.
    stale_after
        As in :func:`quality`.

    Returns
    -------
    pl.LazyFrame
        The date's :func:`quality` table.
    """
    date = ctx.col("date")
    frames = []
    for frame in (lf, ctx.load(quotes)):
        has_date = date in frame.collect_schema()
        frames.append(frame if has_date else frame.with_columns(pl.lit(ctx.date).alias(date)))
    return quality(
        frames[0], frames[1], ctx.market, time_col=ctx.col("ticktime"), price_col=ctx.col("price"),
        size_col=ctx.col("qty"), bid_col=ctx.col("bid"), ask_col=ctx.col("ask"),
        symbol_col=ctx.col("symbol"), date_col=date, stale_after=stale_after,
    )  # fmt: skip
