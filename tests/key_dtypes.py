"""Key columns of every dtype Polars groups by, for the lookup tests (forward_return, forward_window)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import strategies as st

# name -> (dtype, three distinct values). UInt64 reaches above 2**63 and Int8 both its ends.
KEY_DTYPES: dict[str, tuple[pl.DataType, list]] = {
    "Float64": (pl.Float64(), [0.5, -1.25, 3.0]),
    "Float32": (pl.Float32(), [0.5, -1.25, 3.0]),
    "UInt64": (pl.UInt64(), [2**63 + 1, 2**64 - 1, 127]),
    "Int8": (pl.Int8(), [-128, 0, 127]),
    "Boolean": (pl.Boolean(), [True, False, True]),
    "Date": (pl.Date(), [dt.date(2024, 1, 2), dt.date(2023, 12, 29), dt.date(2024, 1, 3)]),
    "String": (pl.String(), ["b", "a", "c"]),
    "Categorical": (pl.Categorical(), ["b", "a", "c"]),
    "Enum": (pl.Enum(["c", "b", "a"]), ["b", "a", "c"]),
    "Decimal": (pl.Decimal(10, 2), [1.5, -2.25, 3.0]),
}
# Frame dtype, reference dtype and the dtype both are compared in: different dtypes, same values.
MIXED_PAIRS = [("Float32", "Float64", pl.Float64()), ("Int8", "UInt64", pl.Int128())]
SAME_PAIRS = [(name, name, dtype) for name, (dtype, _) in KEY_DTYPES.items()]

picks = st.one_of(st.none(), st.integers(0, 2))


def key_series(name: str, picks: list[int | None], dtype_name: str) -> pl.Series:
    """A key column of dtype ``KEY_DTYPES[dtype_name]`` holding its values at ``picks`` (None: null)."""
    dtype, values = KEY_DTYPES[dtype_name]
    return pl.Series(name, [None if p is None else values[p] for p in picks], dtype=dtype)
