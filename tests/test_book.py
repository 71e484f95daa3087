"""vizflow.book: book prices as expressions, against plain Python on the same rows."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vizflow as vf

PRICES = st.one_of(
    st.none(),
    st.sampled_from([0.0, -1.0, math.nan, math.inf]),
    st.floats(1.0, 200.0).map(lambda x: round(x, 2)),
)
SIZES = st.one_of(st.none(), st.sampled_from([0, -100, math.nan]), st.integers(1, 10_000).map(float))


def book_ok(bid, ask, bid_size=1.0, ask_size=1.0) -> bool:
    def positive(x):
        return x is not None and math.isfinite(x) and x > 0

    return positive(bid) and positive(ask) and bid <= ask and positive(bid_size) and positive(ask_size)


def reference(bid, ask, bid_size, ask_size) -> dict[str, float | None]:
    two_sided = book_ok(bid, ask)
    sized = book_ok(bid, ask, bid_size, ask_size)
    return {
        "microprice": (bid * ask_size + ask * bid_size) / (bid_size + ask_size) if sized else None,
        "imbalance": (bid_size - ask_size) / (bid_size + ask_size) if sized else None,
        "spread": ask - bid if two_sided else None,
        "half_spread_bp": (ask - bid) / 2 / ((ask + bid) / 2) * 1e4 if two_sided else None,
    }


def close(a, b) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    )


@given(st.lists(st.tuples(PRICES, PRICES, SIZES, SIZES), min_size=0, max_size=30), st.booleans())
def test_book_prices_equal_plain_python(rows, lazy):
    frame = pl.DataFrame(rows, schema=["bid", "ask", "bid_size", "ask_size"], orient="row")
    frame = frame.with_columns(pl.all().cast(pl.Float64))
    exprs = [vf.book.microprice(), vf.book.imbalance(), vf.book.spread(), vf.book.half_spread_bp()]
    out = frame.lazy().select(exprs).collect() if lazy else frame.select(exprs)
    assert out.columns == ["microprice", "imbalance", "spread", "half_spread_bp"]
    for row, got in zip(rows, out.iter_rows(named=True), strict=True):
        expected = reference(*row)
        for name, value in expected.items():
            assert close(got[name], value), (row, name, got[name], value)


def test_a_zero_size_never_gives_the_other_sides_price():
    """The classic wrong answer: with ask_size 0 the formula returns the ask itself."""
    frame = pl.DataFrame(
        {"bid": [10.0, 10.0], "ask": [10.1, 10.1], "bid_size": [100, 0], "ask_size": [0, 100]}
    )
    out = frame.select(vf.book.microprice(), vf.book.imbalance())
    assert out["microprice"].to_list() == [None, None]
    assert out["imbalance"].to_list() == [None, None]


def test_integer_sizes_other_names_and_expressions():
    frame = pl.DataFrame(
        {"b": [10.0], "a": [10.2], "bs": [300], "as": [100]}, schema_overrides={"bs": pl.Int32}
    )
    named = frame.select(vf.book.microprice("b", "a", "bs", "as"))
    as_exprs = frame.select(vf.book.microprice(pl.col("b"), pl.col("a"), pl.col("bs"), pl.col("as") * 1))
    assert named["microprice"].item() == pytest.approx((10.0 * 100 + 10.2 * 300) / 400)
    assert named.equals(as_exprs)


def test_spread_with_sizes_treats_a_side_without_size_as_empty():
    frame = pl.DataFrame({"bid": [10.0, 10.0], "ask": [10.1, 10.1], "bid_size": [100, 0], "ask_size": [5, 5]})
    assert frame.select(vf.book.spread().round(6))["spread"].to_list() == [0.1, 0.1]
    assert frame.select(vf.book.spread(bid_size="bid_size", ask_size="ask_size").round(6))[
        "spread"
    ].to_list() == [
        0.1,
        None,
    ]


def test_locked_book_is_a_book_and_crossed_is_not():
    frame = pl.DataFrame({"bid": [10.0, 10.2], "ask": [10.0, 10.1], "bid_size": [1, 1], "ask_size": [3, 1]})
    out = frame.select(vf.book.microprice(), vf.book.spread(), vf.book.half_spread_bp())
    assert out.row(0) == (10.0, 0.0, 0.0)
    assert out.row(1) == (None, None, None)


def test_on_the_real_sample_the_microprice_lies_within_the_touch():
    quotes = vf.datasets.cn_sample_quotes().with_columns(
        vf.book.microprice(), vf.book.imbalance(), vf.book.half_spread_bp()
    )
    two_sided = quotes.filter(pl.col("bid_size").is_not_null() & pl.col("ask_size").is_not_null())
    assert (
        quotes["microprice"].null_count() == quotes.height - two_sided.height
    )  # no crossed book in the sample
    inside = two_sided.filter(
        (pl.col("microprice") < pl.col("bid") - 1e-9) | (pl.col("microprice") > pl.col("ask") + 1e-9)
    )
    assert inside.height == 0
    assert two_sided["imbalance"].min() > -1
    assert two_sided["imbalance"].max() < 1
    # microprice - mid = half spread * imbalance (an identity of the two formulas)
    gap = two_sided.select(
        (pl.col("microprice") - pl.col("mid")) - (pl.col("ask") - pl.col("bid")) / 2 * pl.col("imbalance")
    ).to_series()
    assert gap.abs().max() < 1e-3  # mid is rounded to 0.001 in the sample
