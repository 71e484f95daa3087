"""Real exchange data: readers for the source layouts and the small sample shipped with vizflow.

The shipped sample (``data/cn_l2_600519_202302_*.parquet``, provenance in ``data/PROVENANCE.md``)
is a trimmed, typed copy of the DataYes Level-2 files of 600519.SH (Kweichow Moutai) and
000333.SZ (Midea) for the sessions 2023-02-01..03, made by ``dev/convert_real_data.py`` with the
readers below.

vizflow conventions the readers produce:

trades
    ``date`` (str YYYYMMDD), ``symbol`` ("600519.SH"), ``ticktime`` (Int64 HHMMSSmmm), ``price``
    (Float64, CNY rounded to 0.01), ``qty`` (Int64 shares), ``side`` (Int8: +1 buyer-initiated,
    -1 seller-initiated, 0 call auction/undetermined), ``trade_id`` (Int64, exchange index).
quotes (Level-2 snapshots)
    ``date``, ``symbol``, ``ticktime``, ``bid``, ``ask`` (best levels; null when that side is
    empty, e.g. before the open), ``mid`` (null unless both sides are there), ``last``,
    ``volume`` (cumulative shares), ``phase`` (the exchange's trading-phase code as given: SSE
    START/OCALL/TRADE/CCALL/CLOSE/ENDTR, SZSE S0/O0/T0/B0/C0/E0), ``bid_size``, ``ask_size``
    (Int64 shares at the best bid and ask, ``BidVolume1``/``AskVolume1``; null when that side is
    empty). During the call auctions the exchange shows the indicative match on both sides (bid ==
    ask, equal sizes): see :func:`vizflow.quality`.

SSE keeps publishing snapshots through the lunch break flagged ``TRADE``: the readers keep them;
the session clock (:func:`vizflow.parse_time`) maps them to the morning close.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import polars as pl

from vizflow.config import format_date
from vizflow.exceptions import DataError

if TYPE_CHECKING:
    from pathlib import Path

    from vizflow._typing import DateLike

__all__ = [
    "SAMPLE_DATES",
    "cn_sample_quotes",
    "cn_sample_trades",
    "read_datayes_sh_snapshots",
    "read_datayes_sz_snapshots",
    "read_datayes_trades",
]

SAMPLE_DATES = ("20230201", "20230202", "20230203")
"""The sessions in the shipped sample."""


def _hhmmssmmm(column: str) -> pl.Expr:
    """``"09:25:00.940"`` -> ``92500940``."""
    digits = pl.col(column).str.replace_all(r"[:.]", "")
    return digits.str.pad_end(9, "0").cast(pl.Int64)


def _price(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).round(2)


def _size(price: str, size: str) -> pl.Expr:
    """Read the shares at a level; null when the level is empty (its price 0)."""
    return pl.when(_price(price) > 0).then(pl.col(size).cast(pl.Float64).cast(pl.Int64))


def read_datayes_trades(path: str | Path, date: DateLike, *, exchange: str = "SH") -> pl.DataFrame:
    """Read a DataYes SSE trade-by-trade file (``*_Transaction.csv``) into vizflow's columns.

    ``TradeBSFlag`` B/S/N becomes ``side`` +1/-1/0.
    """
    raw = pl.read_csv(path, infer_schema=False)
    return raw.select(
        date=pl.lit(format_date(date)),
        symbol=pl.col("SecurityID").str.zfill(6) + f".{exchange}",
        ticktime=_hhmmssmmm("TradTime"),
        price=_price("TradPrice"),
        qty=pl.col("TradVolume").cast(pl.Int64),
        side=pl.col("TradeBSFlag").replace_strict({"B": 1, "S": -1, "N": 0}, return_dtype=pl.Int8),
        trade_id=pl.col("TradeIndex").cast(pl.Int64),
    )


def _quotes(
    raw: pl.DataFrame, date: DateLike, *, symbol: pl.Expr, phase: pl.Expr, volume: str
) -> pl.DataFrame:
    bid = pl.when(_price("BidPrice1") > 0).then(_price("BidPrice1"))
    ask = pl.when(_price("AskPrice1") > 0).then(_price("AskPrice1"))
    return raw.select(
        date=pl.lit(format_date(date)),
        symbol=symbol,
        ticktime=_hhmmssmmm("UpdateTime"),
        bid=bid,
        ask=ask,
        mid=((bid + ask) / 2).round(3),
        last=pl.when(_price("LastPrice") > 0).then(_price("LastPrice")),
        volume=pl.col(volume).cast(pl.Int64),
        phase=phase,
        bid_size=_size("BidPrice1", "BidVolume1"),
        ask_size=_size("AskPrice1", "AskVolume1"),
    )


def read_datayes_sh_snapshots(path: str | Path, date: DateLike) -> pl.DataFrame:
    """Read a DataYes SSE Level-2 snapshot file (``*_MarketData.csv``) into quote columns."""
    raw = pl.read_csv(path, infer_schema=False)
    return _quotes(
        raw, date, symbol=pl.col("SecurityID").str.zfill(6) + ".SH",
        phase=pl.col("InstruStatus").str.strip_chars(), volume="TradVolume",
    )  # fmt: skip


def read_datayes_sz_snapshots(path: str | Path, date: DateLike) -> pl.DataFrame:
    """Read a DataYes SZSE Level-2 snapshot file (``mdl_6_28_0.csv``) into quote columns."""
    raw = pl.read_csv(path, infer_schema=False)
    return _quotes(
        raw, date, symbol=pl.col("SecurityID").str.zfill(6) + ".SZ",
        phase=pl.col("TradingPhaseCode").str.strip_chars(), volume="Volume",
    )  # fmt: skip


def _sample(name: str, date: DateLike | None) -> pl.DataFrame:
    path = resources.files("vizflow.datasets") / "data" / name
    with resources.as_file(path) as file:
        frame = pl.read_parquet(file)
    if date is not None:
        day = format_date(date)
        if day not in SAMPLE_DATES:
            msg = f"vf.datasets: date {day!r} is not in the real sample; expected one of {list(SAMPLE_DATES)}"
            raise DataError(msg)
        frame = frame.filter(pl.col("date") == day)
    return frame


def cn_sample_trades(date: DateLike | None = None) -> pl.DataFrame:
    """Real SSE trade-by-trade prints of 600519.SH, 2023-02-01..03 (or one of those dates).

    Examples
    --------
    >>> import vizflow as vf
    >>> trades = vf.datasets.cn_sample_trades("20230201")
    >>> trades.height, trades["qty"].sum()  # equals the day's final cumulative snapshot volume
    (27135, 3397389)
    """
    return _sample("cn_l2_600519_202302_trades.parquet", date)


def cn_sample_quotes(date: DateLike | None = None) -> pl.DataFrame:
    """Real Level-2 best bid/ask snapshots (prices and sizes) of 600519.SH and 000333.SZ, 2023-02-01..03.

    Examples
    --------
    >>> import vizflow as vf
    >>> quotes = vf.datasets.cn_sample_quotes("20230201")
    >>> sorted(quotes["symbol"].unique())
    ['000333.SZ', '600519.SH']
    """
    return _sample("cn_l2_600519_202302_quotes.parquet", date)
