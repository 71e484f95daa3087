"""Every ``vf`` namespace method forwards to the function of the same name with the same signature."""

from __future__ import annotations

import inspect
import typing

import polars as pl
import pytest

import vizflow as vf
from vizflow.namespace import VfDataFrameNamespace, VfExprNamespace, VfLazyFrameNamespace, _VfNamespace

FUNCTIONS = {"elapsed": vf.elapsed_expr}
FRAME_CLASSES = {VfLazyFrameNamespace: pl.LazyFrame, VfDataFrameNamespace: pl.DataFrame}


def _methods(cls: type) -> list[str]:
    """Public methods, inherited ones included."""
    return [n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")]


def _function(name: str):
    return FUNCTIONS.get(name) or getattr(vf, name)


def _params_without_first(fn) -> list[tuple[str, object, object, object]]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, p.kind, p.default, p.annotation) for p in params]


@pytest.mark.parametrize("cls", [VfLazyFrameNamespace, VfDataFrameNamespace, VfExprNamespace])
def test_namespace_signatures_match_functions(cls):
    """Names, kinds, defaults, annotations and return annotation, parameter by parameter."""
    methods = _methods(cls)
    assert methods
    for name in methods:
        method, function = getattr(cls, name), _function(name)
        assert _params_without_first(method) == _params_without_first(function), name
        returns = inspect.signature(method).return_annotation
        assert returns == inspect.signature(function).return_annotation, name


def test_lazy_and_eager_namespaces_have_the_same_methods():
    assert _methods(VfLazyFrameNamespace) == _methods(VfDataFrameNamespace)
    assert _methods(VfLazyFrameNamespace) == [
        "aggregate",
        "bin",
        "enrich",
        "forward_return",
        "forward_window",
        "parse_time",
        "quality",
        "quality_totals",
        "quantile_bin",
        "rank_ic",
        "session_phase",
        "spread_decomposition",
        "summarize",
        "trading_date",
        "worst_dates",
    ]


@pytest.mark.parametrize(("cls", "frame_type"), FRAME_CLASSES.items())
def test_registered_classes_only_bind_the_frame_type(cls, frame_type):
    """The two registered classes add no method of their own: the base is written once."""
    assert [n for n in vars(cls) if not n.startswith("__")] == []
    assert cls.__orig_bases__ == (_VfNamespace[frame_type],)
    assert typing.get_args(cls.__orig_bases__[0]) == (frame_type,)


@pytest.mark.parametrize("frame_type", [pl.LazyFrame, pl.DataFrame])
def test_namespace_is_registered_on_each_frame_kind(frame_type):
    frame = frame_type({"a": [1]})
    assert isinstance(
        frame.vf, {pl.LazyFrame: VfLazyFrameNamespace, pl.DataFrame: VfDataFrameNamespace}[frame_type]
    )


def test_chain_keeps_frame_kind():
    df = pl.DataFrame({"ticktime": [93000000, 130000500], "qty": [100, 300]})
    lazy = df.lazy().vf.parse_time(vf.CN).vf.bin({"qty": 100}).vf.aggregate("qty_bin", {"n": pl.len()})
    eager = df.vf.parse_time(vf.CN).vf.bin({"qty": 100}).vf.aggregate("qty_bin", {"n": pl.len()})
    assert isinstance(lazy, pl.LazyFrame)
    assert isinstance(eager, pl.DataFrame)
    assert lazy.collect().equals(eager)


@pytest.mark.parametrize("lazy", [True, False])
def test_pipe_chain_equals_namespace_chain(lazy):
    """The typed form documented for type checkers (``frame.pipe(vf.op, ...)``) gives the same frame."""
    df = pl.DataFrame(
        {
            "symbol": [2, 1, 2, 1],
            "ticktime": [93000000, 93000500, 93001000, 93002000],
            "mid": [10.0, 20.0, 10.5, 19.0],
        }
    )
    frame = df.lazy() if lazy else df
    piped = frame.pipe(vf.parse_time, vf.CN).pipe(vf.forward_return, [1, 2])
    chained = frame.vf.parse_time(vf.CN).vf.forward_return([1, 2])
    assert type(piped) is type(chained) is type(frame)
    if lazy:
        piped, chained = piped.collect(), chained.collect()
    assert piped.equals(chained)


def test_expr_namespace_matches_function():
    df = pl.DataFrame({"t": [93000000, 120000000, 145959999]})
    out = df.select(pl.col("t").vf.elapsed(vf.CN))
    assert out["t"].to_list() == vf.parse_time(df, vf.CN, "t")["elapsed_seconds"].to_list()


STATS_FRAME = {
    "date": ["d1", "d1", "d1", "d2", "d2", "d2"],
    "side": [1, -1, 1, -1, 1, 1],
    "qty": [5.0, 1.0, 3.0, 2.0, 9.0, 4.0],
    "return_60": [1.0, -2.0, None, 3.0, 0.5, 2.0],
}


@pytest.mark.parametrize("lazy", [True, False])
@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("summarize", (["date", "side"], "return_60"), {}),
        ("summarize", ("side", ["return_60"]), {"weight": "qty"}),
        ("quantile_bin", ("qty", 2, "date"), {"out": "size_half"}),
        ("quantile_bin", ("qty", 3, ["date", "side"]), {}),
        ("rank_ic", ("qty", "return_60", "date"), {}),
        ("rank_ic", ("qty", ["return_60"]), {"by": ["date"]}),
    ],
)
def test_statistics_forwarders_equal_their_functions(lazy, name, args, kwargs):
    """lf.vf.summarize / quantile_bin / rank_ic give the function's frame, of the frame's kind."""
    df = pl.DataFrame(STATS_FRAME)
    frame = df.lazy() if lazy else df
    forwarded = getattr(frame.vf, name)(*args, **kwargs)
    direct = getattr(vf, name)(frame, *args, **kwargs)
    assert type(forwarded) is type(frame)
    if lazy:
        forwarded, direct = forwarded.collect(), direct.collect()
    assert forwarded.equals(direct)


SAMPLE_DAY = "20230201"


@pytest.fixture(scope="module")
def sample_day() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The real sample's first date: trades and quotes, both on the session clock."""
    trades = vf.parse_time(vf.datasets.cn_sample_trades(SAMPLE_DAY), vf.CN)
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes(SAMPLE_DAY), vf.CN)
    return trades, quotes


def _same(forwarded, direct, frame) -> None:
    assert type(forwarded) is type(direct) is type(frame)
    if isinstance(frame, pl.LazyFrame):
        forwarded, direct = forwarded.collect(), direct.collect()
    assert forwarded.height > 0
    assert forwarded.equals(direct)


@pytest.mark.parametrize("lazy", [True, False])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"bid_size_col": "bid_size", "ask_size_col": "ask_size", "stale_after": 5.0, "time_col": "ticktime"},
    ],
)
def test_quality_forwarder_equals_the_function(sample_day, lazy, kwargs):
    trades, quotes = sample_day
    frame = trades.lazy() if lazy else trades
    _same(frame.vf.quality(quotes, vf.CN, **kwargs), vf.quality(frame, quotes, "CN", **kwargs), frame)


@pytest.mark.parametrize("lazy", [True, False])
def test_quality_table_forwarders_equal_their_functions(lazy):
    table = vf.quality(vf.datasets.cn_sample_trades(), vf.datasets.cn_sample_quotes(), vf.CN)
    frame = table.lazy() if lazy else table
    for by in ("symbol", None, ["date"]):
        _same(frame.vf.quality_totals(by), vf.quality_totals(frame, by=by), frame)
    _same(frame.vf.quality_totals(), vf.quality_totals(frame), frame)
    _same(frame.vf.worst_dates(2), vf.worst_dates(frame, n=2), frame)
    _same(frame.vf.worst_dates(date_col="date"), vf.worst_dates(frame), frame)


@pytest.mark.parametrize("lazy", [True, False])
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([60],), {}),
        (([5, 60, "close"], "price", "side", "mid", "elapsed_seconds", ["date", "symbol"]),
         {"quoted": False}),
        (([30],), {"symbol_col": ["date", "symbol"], "tolerance": 10.0, "returns_within": "session",
                   "market": vf.CN}),
    ],
)  # fmt: skip
def test_spread_decomposition_forwarder_equals_the_function(sample_day, lazy, args, kwargs):
    trades, quotes = sample_day
    trades = trades.filter(pl.col("side") != 0).select("date", "symbol", "elapsed_seconds", "price", "side")
    frame = trades.lazy() if lazy else trades
    horizons, *rest = args
    forwarded = frame.vf.spread_decomposition(horizons, quotes, *rest, **kwargs)
    _same(forwarded, vf.spread_decomposition(frame, horizons, quotes, *rest, **kwargs), frame)
