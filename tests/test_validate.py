from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vizflow._validate import require_columns, require_no_nulls, require_numeric, require_sorted
from vizflow.exceptions import ColumnNotFoundError, DataError, SchemaError, VizflowError


def test_column_not_found_is_a_key_and_value_error():
    err = ColumnNotFoundError.missing(["a", "b"], ["x"], where="op")
    assert isinstance(err, KeyError)
    assert isinstance(err, VizflowError)
    assert str(err) == "op: columns 'a', 'b' not found; available: ['x']."


def test_require_columns_and_numeric():
    schema = pl.Schema({"price": pl.Float64, "sym": pl.String})
    require_columns(schema, ["price"], where="op")
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'price'"):
        require_columns(schema, ["prices"], where="op")
    with pytest.raises(SchemaError, match="op: column 'sym' has dtype String; expected a numeric"):
        require_numeric(schema, "sym", where="op")


def test_require_no_nulls_names_first_row():
    with pytest.raises(DataError, match="column 'q' has 2 null value.*first at row 1"):
        require_no_nulls(pl.DataFrame({"q": [1, None, None]}), ["q"], where="op")


@given(rows=st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 3)), max_size=20))
def test_require_sorted_agrees_with_python_sorted(rows):
    df = pl.DataFrame(rows, schema={"s": pl.String, "t": pl.Int64}, orient="row")
    if rows == sorted(rows):
        require_sorted(df, ["s", "t"], where="op")
    else:
        first_bad = next(i for i in range(1, len(rows)) if rows[i] < rows[i - 1])
        with pytest.raises(DataError, match=f"row {first_bad} comes before row {first_bad - 1}"):
            require_sorted(df, ["s", "t"], where="op")
