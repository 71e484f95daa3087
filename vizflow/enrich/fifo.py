"""``FIFOMatch``: match a trader's fills into round trips, first in first out, with trade splitting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn

import numpy as np
import polars as pl

from vizflow.enrich.base import ExpandingRule, State
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.kernels.fifo import OK, fifo_match_nb, first_bad_fill_nb, first_time_back_nb

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["FIFOMatch"]


class FIFOMatch(ExpandingRule):
    """Match fills into round trips per symbol, oldest open lot first (a row-expanding rule).

    Use it in :class:`~vizflow.Enricher` / :func:`~vizflow.enrich` with ``by="symbol"`` and a
    ``sort_by`` time: fills are visited in time order (equal times keep their input order, so
    a buy listed before a sell at the same timestamp is matched as if it came first). Sort by
    ``time_col`` (or a finer key consistent with it): fills of a symbol whose ``time_col`` goes
    backwards in that order are refused, as they would give negative holding periods.

    Matching. A fill on ``entry_side`` opens a lot (or adds one to the queue); a fill on
    ``exit_side`` closes the oldest open lots first. One closing fill that spans several lots
    becomes several output rows (trade splitting), each carrying every column of the closing
    fill. In the default ``mode="position"`` matching follows the trader's position: a fill
    against the open lots closes them, and any excess opens a lot on its own side (a flip:
    buy 100 then sell 150 closes 100 long and opens 50 short; a later buy closes that short
    first). Either side may thus close: while short lots are open, an ``entry_side`` fill closes
    them before it opens anything, exactly as an ``exit_side`` fill closes long lots; the open
    lots of a symbol are therefore always all on one side. ``mode="strict"``: entry fills only
    open, exit fills only close, and an exit larger than the open position is an error naming
    the symbol and row.

    Output rows, per symbol in time order of the closing fill, followed by the symbol's lots
    still open at the end (``is_closed=False``, carrying the columns of their opening fill, with
    null exit fields). Added columns:

    ``matched_entry_idx``
        The opening fill's position (0-based row number) in the input frame, or its value of
        ``id_col`` when given, to join back.
    ``matched_qty``
        Quantity matched (or, for open lots, still open). Float64.
    ``lot_side``
        +1 for a lot opened on ``entry_side`` (long when entry is buy), -1 for a lot opened by a
        flip on ``exit_side``.
    ``entry_time``, ``entry_price``
        Time and price of the opening fill.
    ``exit_price``, ``holding_period``
        Price of the closing fill, and its time minus ``entry_time`` (null for open lots):
        Float64 for a float time, Int64 for an integer time, a Duration for Datetime/Duration
        times (computed in int64, so nanoseconds stay exact).
    ``realized_pnl``
        ``lot_side * (exit_price - entry_price) * matched_qty`` (null for open lots).
    ``is_closed``
        Whether the row is a match (True) or a lot still open (False).

    Parameters
    ----------
    side_col, qty_col, time_col, price_col
        Input columns. Quantities must be finite and > ``qty_tol`` (fractional is fine); sides
        must be one of ``entry_side`` / ``exit_side``; prices and float times finite; no nulls
        in side, quantity, price or time. Time may be numeric, Datetime or Duration.
    entry_side, exit_side
        The values of ``side_col`` that open and close (e.g. ``1``/``-1`` or ``"B"``/``"S"``).
    mode
        ``"position"`` (default) or ``"strict"``.
    id_col
        Report this column's value of the opening fill as ``matched_entry_idx``.
    qty_tol
        Tolerance relative to the quantities: the remainder of a fill after it closes lots
        counts as zero when it is at most ``qty_tol * max(1, qty)`` of that fill, and so does the
        remainder of a lot after a close, scaled by the fill that opened it, plus the float
        rounding (a few 1e-16 of its quantity) the closing fill's remainder carries. So ``0.1 +
        0.2`` closed by ``0.3`` leaves no 1e-17 dust lot,
        nor do buys of 33333333.33 + 33333333.33 + 33333333.34 closed by a sell of 1e8 (float
        rounding leaves 3.7e-9), nor buys of 1249999992.63 + 5.37 closed by a sell of 1249999998.
        Below a quantity of 1 it is absolute: fills must be larger than it. In ``[0, 1)``; use 0
        for exact arithmetic on integer-valued quantities, or a smaller value for tiny units.

    Raises
    ------
    DataError
        Bad values (naming the first offending input row, its symbol and values), or in strict
        mode an exit larger than the open position.
    SchemaError
        A quantity/price/time column of the wrong dtype, or a side column that cannot be
        compared with ``entry_side``/``exit_side``.

    Notes
    -----
    Runs inside ``enrich``, on the collected frame: the inputs are validated with one vectorised
    Polars pass, then one compiled call (``vizflow.kernels.fifo.fifo_match_nb``) matches every
    symbol and writes all added columns; the Enricher gathers the closing (or opening) rows'
    original columns once.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> fills = pl.DataFrame(
    ...     {
    ...         "symbol": ["A", "A", "A"],
    ...         "t": [1.0, 2.0, 5.0],
    ...         "side": [1, 1, -1],
    ...         "qty": [50, 50, 80],
    ...         "price": [10.0, 10.2, 10.5],
    ...     }
    ... )
    >>> out = vf.enrich(fills, [vf.FIFOMatch("side", "qty", "t", "price", 1, -1)], by="symbol", sort_by="t")
    >>> out.select("t", "matched_entry_idx", "matched_qty", "realized_pnl", "is_closed")
    shape: (3, 5)
    ┌─────┬───────────────────┬─────────────┬──────────────┬───────────┐
    │ t   ┆ matched_entry_idx ┆ matched_qty ┆ realized_pnl ┆ is_closed │
    │ --- ┆ ---               ┆ ---         ┆ ---          ┆ ---       │
    │ f64 ┆ i64               ┆ f64         ┆ f64          ┆ bool      │
    ╞═════╪═══════════════════╪═════════════╪══════════════╪═══════════╡
    │ 5.0 ┆ 0                 ┆ 50.0        ┆ 25.0         ┆ true      │
    │ 5.0 ┆ 1                 ┆ 30.0        ┆ 9.0          ┆ true      │
    │ 2.0 ┆ 1                 ┆ 20.0        ┆ null         ┆ false     │
    └─────┴───────────────────┴─────────────┴──────────────┴───────────┘
    """

    COLUMNS: ClassVar[list[str]] = [
        "matched_entry_idx",
        "matched_qty",
        "lot_side",
        "entry_time",
        "entry_price",
        "exit_price",
        "holding_period",
        "realized_pnl",
        "is_closed",
    ]

    def __init__(  # noqa: PLR0917 (the documented positional signature)
        self,
        side_col: str = "side",
        qty_col: str = "qty",
        time_col: str = "elapsed_seconds",
        price_col: str = "price",
        entry_side: Any = 1,
        exit_side: Any = -1,
        *,
        mode: Literal["position", "strict"] = "position",
        id_col: str | None = None,
        qty_tol: float = 1e-9,
    ) -> None:
        if mode not in ("position", "strict"):
            msg = f"FIFOMatch: mode={mode!r}; expected 'position' or 'strict'"
            raise VizflowError(msg)
        if entry_side == exit_side:
            msg = f"FIFOMatch: entry_side and exit_side are both {entry_side!r}"
            raise VizflowError(msg)
        if not (isinstance(qty_tol, int | float) and 0 <= qty_tol < 1):
            msg = f"FIFOMatch: qty_tol={qty_tol!r}; expected a number in [0, 1) (relative to the quantities)"
            raise VizflowError(msg)
        self.side_col, self.qty_col, self.time_col, self.price_col = (
            side_col, qty_col, time_col, price_col,
        )  # fmt: skip
        self.entry_side, self.exit_side = entry_side, exit_side
        self.mode, self.id_col, self.qty_tol = mode, id_col, float(qty_tol)

    @property
    def output_columns(self) -> list[str]:
        """The columns this rule adds."""
        return list(self.COLUMNS)

    @property
    def inputs(self) -> list[str]:
        """The columns this rule reads."""
        cols = [self.side_col, self.qty_col, self.time_col, self.price_col]
        return [*cols, self.id_col] if self.id_col else cols

    def process(self, row: dict[str, Any], state: State) -> dict[str, Any]:
        """FIFOMatch runs only as a compiled pass over the whole frame."""
        msg = "FIFOMatch has no row-by-row Python path; use it in vf.enrich / vf.Enricher"
        raise VizflowError(msg)

    def expand(
        self,
        sorted_frame: pl.DataFrame,
        offsets: NDArray[np.int64],
        row_index: NDArray[np.int64],
        by: list[str],
    ) -> tuple[NDArray[np.int64], dict[str, pl.Series]]:
        """Match all symbols in one kernel call; see the class docstring for the output."""
        direction, qty, price, time, time_dtype = self._arrays(sorted_frame, row_index, by)
        self._check_time_order(sorted_frame, offsets, row_index, by, time)
        n = qty.size
        # matched_entry_idx straight from the kernel: input positions, or sorted positions to
        # gather the id column by.
        row_id = np.arange(n, dtype=np.int64) if self.id_col else row_index.astype(np.int64, copy=False)
        # Capacity 2n bounds the output (each row uses up a lot or ends a fill); np.empty pages
        # that are never written cost no memory.
        out = (
            np.empty(2 * n, dtype=np.int64),  # carrier
            np.empty(2 * n, dtype=np.int64),  # entry
            np.empty(2 * n, dtype=np.float64),  # matched qty
            np.empty(2 * n, dtype=np.bool_),  # closed
            np.empty(2 * n, dtype=np.int8),  # lot side
            np.empty(2 * n, dtype=time.dtype),  # entry time
            np.empty(2 * n, dtype=time.dtype),  # holding period
            np.empty(2 * n, dtype=np.float64),  # entry price
            np.empty(2 * n, dtype=np.float64),  # exit price
            np.empty(2 * n, dtype=np.float64),  # realized pnl
        )
        rows, status = fifo_match_nb(
            offsets, direction, qty, price, time, row_id, self.mode == "strict", self.qty_tol,
            *out, np.empty(n, dtype=np.int64), np.empty(n, dtype=np.float64),
        )  # fmt: skip
        if status != OK:
            symbol = self._symbol_at(sorted_frame, by, status)
            msg = (
                f"FIFOMatch (strict): exit at row {int(row_index[status])} (symbol {symbol!r}, "
                f"{self.time_col}={sorted_frame[self.time_col][status]}) is larger than the open "
                f"position; use mode='position' to let the excess open a short lot"
            )
            raise DataError(msg)
        carrier = out[0][:rows]
        entry, matched, closed, lot_dir, entry_time, held, entry_price, exit_price, pnl = (
            a[:rows] for a in out[1:]
        )
        if self.id_col:
            idx = sorted_frame.get_column(self.id_col).gather(pl.Series(entry))
        else:
            idx = pl.Series(entry)
        if time_dtype.is_temporal():
            entry_time_s = pl.Series(entry_time).cast(time_dtype)
            unit = time_dtype.time_unit if isinstance(time_dtype, (pl.Datetime, pl.Duration)) else "ms"
            held_s = pl.Series(held).cast(pl.Duration(unit))
        else:
            entry_time_s = pl.Series(entry_time).cast(time_dtype)
            held_s = pl.Series(held)
        is_closed = pl.Series("is_closed", closed)
        exit_fields = pl.DataFrame(
            {"exit_price": exit_price, "holding_period": held_s, "realized_pnl": pnl}
        ).select(pl.when(is_closed).then(pl.all()).name.keep())  # null exit fields on open lots
        columns = {
            "matched_entry_idx": idx,
            "matched_qty": pl.Series(matched),
            "lot_side": pl.Series(lot_dir),
            "entry_time": entry_time_s,
            "entry_price": pl.Series(entry_price),
            "exit_price": exit_fields.get_column("exit_price"),
            "holding_period": exit_fields.get_column("holding_period"),
            "realized_pnl": exit_fields.get_column("realized_pnl"),
            "is_closed": is_closed,
        }
        return carrier, columns

    def _arrays(
        self, frame: pl.DataFrame, row_index: NDArray[np.int64], by: list[str]
    ) -> tuple[NDArray[np.int8], NDArray[np.float64], NDArray[np.float64], NDArray[Any], pl.DataType]:
        """Validate the inputs (naming the first offending row) and return the kernel's arrays.

        Time goes to the kernel as int64 (integer, Datetime and Duration columns: exact
        nanosecond differences) or float64 (float columns).
        """
        schema = frame.schema
        for col in (self.qty_col, self.price_col):
            if not schema[col].is_numeric():
                msg = f"FIFOMatch: column {col!r} has dtype {schema[col]}; expected numeric"
                raise SchemaError(msg)
        time_dtype = schema[self.time_col]
        int_time = time_dtype.is_integer() or isinstance(time_dtype, (pl.Datetime, pl.Duration))
        if not (int_time or time_dtype.is_float()):
            msg = (
                f"FIFOMatch: time column {self.time_col!r} has dtype {time_dtype}; "
                "expected numeric, Datetime or Duration"
            )
            raise SchemaError(msg)
        # Fast path: null counts are metadata, the value checks one compiled pass; only a frame
        # that fails them pays for the vectorised checks that name the first offending row.
        if any(frame.get_column(c).null_count() for c in self.inputs):
            self._raise_first_bad(frame, row_index, by, int_time=int_time)
        plain = type(self.entry_side) is int and type(self.exit_side) is int
        if plain and (self.entry_side, self.exit_side) == (1, -1) and schema[self.side_col] == pl.Int8:
            direction = frame.get_column(self.side_col).to_numpy()  # +1/-1 already (others are refused)
        else:
            direction = self._direction(frame, schema)
        qty_a = frame.get_column(self.qty_col).cast(pl.Float64).to_numpy()
        price = frame.get_column(self.price_col).cast(pl.Float64).to_numpy()
        time = frame.get_column(self.time_col).to_physical().cast(pl.Int64 if int_time else pl.Float64)
        time_a = time.to_numpy()
        if first_bad_fill_nb(direction, qty_a, price, time_a, row_index, self.qty_tol) != OK:
            self._raise_first_bad(frame, row_index, by, int_time=int_time)
        return direction, qty_a, price, time_a, time_dtype

    def _direction(self, frame: pl.DataFrame, schema: pl.Schema) -> NDArray[np.int8]:
        """+1 for ``entry_side``, -1 for ``exit_side``, 0 for anything else (refused later)."""
        side = pl.col(self.side_col)
        try:
            return (
                frame.select(
                    pl.when(side == self.entry_side)
                    .then(1)
                    .when(side == self.exit_side)
                    .then(-1)
                    .otherwise(0)
                    .cast(pl.Int8)
                )
                .to_series()
                .to_numpy()
            )
        except pl.exceptions.PolarsError as exc:
            raise self._side_error(schema, exc) from exc

    def _side_error(self, schema: pl.Schema, exc: Exception) -> SchemaError:
        return SchemaError(
            f"FIFOMatch: side column {self.side_col!r} has dtype {schema[self.side_col]}; cannot "
            f"compare it with entry_side {self.entry_side!r} / exit_side {self.exit_side!r} ({exc})"
        )

    def _raise_first_bad(
        self, frame: pl.DataFrame, row_index: NDArray[np.int64], by: list[str], *, int_time: bool
    ) -> NoReturn:
        """Raise the DataError naming the first offending row in input order and what it fails."""
        side = pl.col(self.side_col)
        qty = pl.col(self.qty_col).cast(pl.Float64)
        sides = f"entry_side {self.entry_side!r} nor exit_side {self.exit_side!r}"
        above = "0" if self.qty_tol == 0 else f"0 (above qty_tol={self.qty_tol:g})"
        checks = [
            (pl.any_horizontal(pl.col(c).is_null() for c in self.inputs), f"a null in {self.inputs}"),
            (~side.is_in([self.entry_side, self.exit_side]), f"{self.side_col!r} is neither {sides}"),
            (
                ~(qty > self.qty_tol) | ~qty.is_finite(),
                f"{self.qty_col!r} is not a finite quantity > {above}",
            ),
            (
                ~pl.col(self.price_col).cast(pl.Float64).is_finite(),
                f"{self.price_col!r} is not a finite price",
            ),
        ]
        if not int_time:
            checks.append((~pl.col(self.time_col).is_finite(), f"{self.time_col!r} is not a finite time"))
        try:
            # One fused pass that yields only the offending positions.
            any_bad = frame.select(
                pl.any_horizontal(e.fill_null(True) for e, _ in checks).arg_true()
            ).to_series()
        except pl.exceptions.PolarsError as exc:
            raise self._side_error(frame.schema, exc) from exc
        if not any_bad.len():  # the compiled check and these disagree: still refuse, say so
            msg = f"FIFOMatch: a fill fails the side, quantity, price or time checks ({self.inputs})"
            raise DataError(msg)
        # The first offending row in input order, and the first check it fails.
        pos = int(any_bad.gather(int(row_index[any_bad.to_numpy()].argmin())).item())
        failed = (
            frame.slice(pos, 1)
            .select(e.fill_null(True).alias(f"c{i}") for i, (e, _) in enumerate(checks))
            .row(0)
        )
        what = next(w for f, (_, w) in zip(failed, checks, strict=True) if f)
        values = {c: frame[c][pos] for c in self.inputs}
        msg = (
            f"FIFOMatch: row {int(row_index[pos])} (symbol "
            f"{self._symbol_at(frame, by, pos)!r}): {what}; row values: {values}"
        )
        raise DataError(msg)

    def _check_time_order(
        self,
        frame: pl.DataFrame,
        offsets: NDArray[np.int64],
        row_index: NDArray[np.int64],
        by: list[str],
        time: NDArray[Any],
    ) -> None:
        """Refuse a symbol whose fills go back in ``time_col`` in the matching order."""
        pos = first_time_back_nb(time, offsets)  # time decreasing within one symbol
        if pos != OK:
            msg = (
                f"FIFOMatch: the fills of symbol {self._symbol_at(frame, by, pos)!r} are not in "
                f"{self.time_col!r} order: row {int(row_index[pos])} ({self.time_col}="
                f"{frame[self.time_col][pos]}) comes after {self.time_col}="
                f"{frame[self.time_col][pos - 1]}; pass sort_by={self.time_col!r} (or a finer key "
                "consistent with it), or holding periods would be negative"
            )
            raise DataError(msg)

    @staticmethod
    def _symbol_at(frame: pl.DataFrame, by: list[str], pos: int) -> Any:
        """Return the group key of sorted row ``pos``."""
        key = tuple(frame.get_column(c)[pos] for c in by)
        return key[0] if len(key) == 1 else key or None

    def __repr__(self) -> str:
        return f"FIFOMatch({self.side_col!r}, {self.qty_col!r}, {self.time_col!r}, {self.price_col!r})"
