"""Every ``vf`` namespace method forwards to the function of the same name with the same signature."""

from __future__ import annotations

import inspect

import polars as pl
import pytest

import vizflow as vf
from vizflow.namespace import VfDataFrameNamespace, VfExprNamespace, VfLazyFrameNamespace

FUNCTIONS = {"elapsed": vf.elapsed_expr}


def _methods(cls: type) -> list[str]:
    return [n for n, m in vars(cls).items() if callable(m) and not n.startswith("_")]


def _function(name: str):
    return FUNCTIONS.get(name) or getattr(vf, name)


def _params_without_first(fn) -> list[inspect.Parameter]:
    return list(inspect.signature(fn).parameters.values())[1:]


@pytest.mark.parametrize("cls", [VfLazyFrameNamespace, VfDataFrameNamespace, VfExprNamespace])
def test_namespace_signatures_match_functions(cls):
    methods = _methods(cls)
    assert methods
    for name in methods:
        method_params = _params_without_first(getattr(cls, name))
        function_params = _params_without_first(_function(name))
        assert [(p.name, p.kind, p.default) for p in method_params] == [
            (p.name, p.kind, p.default) for p in function_params
        ], name


def test_lazy_and_eager_namespaces_have_the_same_methods():
    assert _methods(VfLazyFrameNamespace) == _methods(VfDataFrameNamespace)


def test_chain_keeps_frame_kind():
    df = pl.DataFrame({"ticktime": [93000000, 130000500], "qty": [100, 300]})
    lazy = df.lazy().vf.parse_time(vf.CN).vf.bin({"qty": 100}).vf.aggregate("qty_bin", {"n": pl.len()})
    eager = df.vf.parse_time(vf.CN).vf.bin({"qty": 100}).vf.aggregate("qty_bin", {"n": pl.len()})
    assert isinstance(lazy, pl.LazyFrame)
    assert isinstance(eager, pl.DataFrame)
    assert lazy.collect().equals(eager)


def test_expr_namespace_matches_function():
    df = pl.DataFrame({"t": [93000000, 120000000, 145959999]})
    out = df.select(pl.col("t").vf.elapsed(vf.CN))
    assert out["t"].to_list() == vf.parse_time(df, vf.CN, "t")["elapsed_seconds"].to_list()
