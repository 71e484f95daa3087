from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest

import vizflow as vf
from vizflow.config import format_date
from vizflow.exceptions import VizflowError


def test_col_exit_criterion_plan():
    assert vf.Config(columns={"price": "mid"}).col("price") == "mid"
    assert vf.Config().col("qty") == "qty"


def test_file_paths():
    cfg = vf.Config(input_dir="/data", output_dir="/out", input_pattern="{date}_trades.parquet")
    assert cfg.get_file_path("20240102") == Path("/data/20240102_trades.parquet")
    assert cfg.get_file_path(dt.date(2024, 1, 2)) == Path("/data/20240102_trades.parquet")
    assert cfg.get_output_path("20240102") == Path("/out/20240102.parquet")


def test_market_by_name_or_object():
    assert vf.Config(market="HK").market_obj is vf.HK
    assert vf.Config(market=vf.US).market_obj is vf.US
    with pytest.raises(VizflowError, match="unknown market 'NYSE'"):
        vf.Config(market="NYSE")


def test_pattern_needs_date():
    with pytest.raises(VizflowError, match="must contain"):
        vf.Config(input_pattern="trades.parquet")


def test_frozen_hashable_picklable():
    cfg = vf.Config(input_dir="d", columns={"price": "mid"})
    assert hash(cfg) == hash(pickle.loads(pickle.dumps(cfg)))
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    with pytest.raises(AttributeError):
        cfg.market = "US"  # type: ignore[misc]


def test_from_toml_resolves_relative_paths(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text(
        'input_dir = "data"\noutput_dir = "/abs/out"\ninput_pattern = "{date}.parquet"\n'
        'market = "CN"\n[columns]\nprice = "mid"\n'
    )
    cfg = vf.Config.from_toml(path)
    assert cfg.input_dir == tmp_path / "data"
    assert cfg.output_dir == Path("/abs/out")
    assert cfg.col("price") == "mid"


def test_from_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('input_dir = "data"\noutput = "x"\n')
    with pytest.raises(VizflowError, match=r"unknown key\(s\) \['output'\]"):
        vf.Config.from_toml(bad)
    bad.write_text("input_dir = ")
    with pytest.raises(VizflowError, match="not valid TOML"):
        vf.Config.from_toml(bad)
    with pytest.raises(FileNotFoundError):
        vf.Config.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize("bad", ["2024-01-02", "20241301", "2024010", 20240102, None])
def test_format_date_names_malformed_value(bad):
    with pytest.raises(VizflowError, match="malformed date"):
        format_date(bad)
