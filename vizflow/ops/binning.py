"""``bin``: integer bins of numeric signals."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

from vizflow._validate import require_columns, require_numeric
from vizflow.exceptions import VizflowError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from vizflow._typing import FrameT

__all__ = ["bin"]


def bin(frame: FrameT, widths: Mapping[str, float], *, suffix: str = "_bin") -> FrameT:
    """Add ``{col}_bin = round(col / width)`` as Int64 for each ``col: width`` in ``widths``.

    Parameters
    ----------
    frame
        A DataFrame or LazyFrame.
    widths
        Column name to bin width (> 0).
    suffix
        Appended to the column name to name the bin column.

    Returns
    -------
    DataFrame or LazyFrame
        The same kind as ``frame`` with one Int64 bin column per entry. Bin ``k`` holds values
        in ``[(k - 0.5) * width, (k + 0.5) * width]``; ties round half to even (as Python's
        ``round``), computed in Float64. Null, NaN and infinite values give a null bin.

    Raises
    ------
    ColumnNotFoundError
        For a column not in the frame.
    SchemaError
        For a non-numeric column.
    VizflowError
        For a width that is not a finite number > 0.

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
    """
    schema = frame.collect_schema()
    require_columns(schema, widths, where="bin")
    exprs = []
    for column, width in widths.items():
        require_numeric(schema, column, where="bin")
        if not isinstance(width, int | float) or not math.isfinite(width) or width <= 0:
            msg = f"bin: width for column {column!r} is {width!r}; expected a finite number > 0"
            raise VizflowError(msg)
        ratio = pl.col(column).cast(pl.Float64) / float(width)
        binned = pl.when(ratio.is_finite()).then(ratio.round(0)).cast(pl.Int64)
        exprs.append(binned.alias(f"{column}{suffix}"))
    result = frame.lazy().with_columns(exprs)
    return result.collect() if isinstance(frame, pl.DataFrame) else result
