"""``bin``: integer bins of numeric signals, by exact division."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import polars as pl

from vizflow._frames import same_kind
from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import DataError, VizflowError

if TYPE_CHECKING:
    from vizflow._typing import FrameT

__all__ = ["BinHow", "bin"]

BinHow: TypeAlias = Literal["round", "floor"]
"""``"round"``: bin ``k`` centred on ``k * width``; ``"floor"``: bin ``k`` is ``[k*width, (k+1)*width)``."""

_HOWS = ("round", "floor")
_INT64_LIMIT = 2.0**63


def _check_width(column: str, width: object) -> int | float:
    if isinstance(width, bool) or not isinstance(width, numbers.Real):
        msg = f"bin: width for column {column!r} is {width!r}; expected a finite number > 0"
        raise VizflowError(msg)
    value = int(width) if isinstance(width, numbers.Integral) else float(width)
    if not math.isfinite(value) or value <= 0:
        msg = f"bin: width for column {column!r} is {width!r}; expected a finite number > 0"
        raise VizflowError(msg)
    return value


def _integer_bins(values: np.ndarray, width: int, how: BinHow) -> np.ndarray:
    # Exact in integers: no float rounding, whatever the magnitude.
    quotient, remainder = np.divmod(values, width)
    if how == "floor":
        return quotient
    above_half = remainder > width - remainder
    tie = remainder == width - remainder
    return quotient + (above_half | (tie & (quotient % 2 == 1)))


def _bin_series(series: pl.Series, width: int | float, how: BinHow) -> pl.Series:
    valid = series.is_not_null().to_numpy()
    if (
        isinstance(width, int)
        and width < _INT64_LIMIT
        and series.dtype.is_integer()
        and series.dtype != pl.UInt64
    ):
        bins = _integer_bins(series.fill_null(0).cast(pl.Int64).to_numpy(), width, how)
    else:
        # numpy divides element by element (IEEE ``value / width``, as Python does); Polars'
        # ``/`` multiplies by the reciprocal on long frames, which moves ties between bins.
        values = series.cast(pl.Float64).fill_null(math.nan).to_numpy()
        valid &= np.isfinite(values)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            ratio = values / float(width)
        rounded = np.floor(ratio) if how == "floor" else np.rint(ratio)  # rint: ties to even
        too_big = valid & ~(np.abs(rounded) < _INT64_LIMIT)
        if too_big.any():
            value = series[int(np.argmax(too_big))]
            msg = (
                f"bin: column {series.name!r} value {value!r} / width {width!r} is beyond the Int64 "
                "range of a bin number; expected a larger width"
            )
            raise DataError(msg)
        bins = np.where(valid, rounded, 0).astype(np.int64)
    out = pl.Series(series.name, bins, dtype=pl.Int64)
    return out.scatter(np.flatnonzero(~valid), None) if not valid.all() else out


def bin(frame: FrameT, widths: Mapping[str, float], *, how: BinHow = "round", suffix: str = "_bin") -> FrameT:
    """Add an Int64 bin number ``{col}{suffix}`` for each ``col: width`` in ``widths``.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    widths
        Column name to bin width: a finite number > 0 (Python or numpy, e.g. ``np.int64(2)``).
    how
        ``"round"`` (default): ``round(value / width)``, bin ``k`` centred on ``k * width``,
        holding ``[(k - 0.5) * width, (k + 0.5) * width]``. ``"floor"``: ``floor(value / width)``
        (kdb's ``xbar``), bin ``k`` holding ``[k * width, (k + 1) * width)``: use it for time
        buckets, so that ``{"elapsed_seconds": 1800}`` gives the half hours 09:30-10:00, ...,
        14:30-15:00 and none straddles the lunch break.
    suffix
        Appended to the column name to name the bin column.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame`` with one Int64 bin column per entry. Null, NaN and infinite
        values give a null bin.

    Raises
    ------
    ColumnNotFoundError
        For a column not in the frame.
    SchemaError
        For a non-numeric column.
    VizflowError
        For empty ``widths``, a width that is not a finite number > 0, an unknown ``how``, or an output column
        that already exists (e.g. ``alpha_bin``: drop it or pass another ``suffix``).
    DataError
        When collected, for a value whose bin number does not fit in Int64.

    Notes
    -----
    The quotient is IEEE ``value / width``, exactly as Python computes it, on every frame length
    (Polars' own ``/`` multiplies by the reciprocal on long frames, which moves values such as
    ``0.35 / 0.1`` from bin 3 to bin 4). So bins equal ``math.floor(value / width)`` or
    ``round(value / width)`` row by row. ``"round"`` sends ties (a quotient of exactly
    ``k + 0.5``) to the even ``k``, as Python's ``round`` does: ``round(2.5) == 2``,
    ``round(3.5) == 4`` (not half away from zero). An integer column with an integer width is
    divided exactly in integers. A value within one rounding of a bin edge goes where the
    quotient puts it: ``10263.58 / 0.02`` is ``513179.0``, so that bin, although the double
    ``0.02`` is slightly above 1/50. The division runs in numpy, a batch at a time, when the
    plan is collected (``map_batches``).

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> vf.bin(pl.DataFrame({"alpha": [0.00012, -0.00031, 0.0]}), {"alpha": 1e-4})
    shape: (3, 2)
    ┌──────────┬───────────┐
    │ alpha    ┆ alpha_bin │
    │ ---      ┆ ---       │
    │ f64      ┆ i64       │
    ╞══════════╪═══════════╡
    │ 0.00012  ┆ 1         │
    │ -0.00031 ┆ -3        │
    │ 0.0      ┆ 0         │
    └──────────┴───────────┘

    Half-hour buckets of the session clock: ``floor``, so bin 3 is 11:00-11:30 and bin 4 is
    13:00-13:30.

    >>> clock = pl.DataFrame({"elapsed_seconds": [0.0, 1799.999, 7199.5, 7200.0, 14399.0]})
    >>> vf.bin(clock, {"elapsed_seconds": 1800}, how="floor")["elapsed_seconds_bin"].to_list()
    [0, 0, 3, 4, 7]
    """
    if how not in _HOWS:
        msg = f"bin: how={how!r} is not one of {list(_HOWS)}"
        raise VizflowError(msg)
    if not isinstance(widths, Mapping) or not widths:
        msg = f"bin: widths is {widths!r}; expected a non-empty mapping of column to width, e.g. {{'a': 0.5}}"
        raise VizflowError(msg)
    schema = frame.collect_schema()
    require_columns(schema, widths, where="bin")
    exprs = []
    for column, width in widths.items():
        require_numeric(schema, column, where="bin")
        checked = _check_width(column, width)
        out = f"{column}{suffix}"
        if out in schema:
            msg = (
                f"bin: output column {out!r} (for {column!r}) already exists; expected a new name: "
                "drop it first or pass another suffix="
            )
            raise VizflowError(msg)
        exprs.append(
            pl.col(column)
            .map_batches(
                partial(_bin_series, width=checked, how=how), return_dtype=pl.Int64, is_elementwise=True
            )
            .alias(out)
        )
    result = frame.lazy().with_columns(exprs)
    return same_kind(frame, result)
