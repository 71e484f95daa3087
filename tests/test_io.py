from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import vizflow as vf
from vizflow.exceptions import VizflowError


@pytest.fixture
def frame() -> pl.DataFrame:
    return vf.datasets.synthetic_trades(n_symbols=3, trades_per_symbol=20)


def test_save_load_roundtrip(tmp_path, frame):
    path = vf.save(frame, tmp_path / "sub" / "20240102.parquet")
    assert path.exists()
    loaded = vf.load(path)
    assert isinstance(loaded, pl.LazyFrame)
    assert loaded.collect().equals(frame)


@pytest.mark.parametrize("ext", [".feather", ".arrow", ".ipc", ".csv", ".csv.gz"])
def test_load_other_formats(tmp_path, frame, ext):
    path = tmp_path / f"x{ext}"
    if ext == ".csv":
        frame.write_csv(path)
    elif ext == ".csv.gz":
        import gzip

        path.write_bytes(gzip.compress(frame.write_csv().encode()))
    else:
        frame.write_ipc(path)
    loaded = vf.load(path).collect()
    assert loaded.select("symbol", "ticktime", "qty").equals(frame.select("symbol", "ticktime", "qty"))


def test_save_lazyframe(tmp_path, frame):
    vf.save(frame.lazy(), tmp_path / "x.parquet")
    assert vf.load(tmp_path / "x.parquet").collect().height == frame.height


def test_scan_glob_in_name_order(tmp_path):
    for day in ("20240103", "20240102", "20231229"):
        vf.save(pl.DataFrame({"d": [day]}), tmp_path / f"{day}.parquet")
    assert vf.scan(tmp_path / "2024*.parquet").collect()["d"].to_list() == ["20240102", "20240103"]


def test_missing_file_and_no_match(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        vf.load(tmp_path / "nope.parquet")
    with pytest.raises(FileNotFoundError, match=r"no file matches"):
        vf.scan(tmp_path / "*.feather")


def test_unknown_extension_lists_supported(tmp_path):
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(VizflowError, match=r"unsupported file extension.*'\.parquet'"):
        vf.load(tmp_path / "x.xlsx")
    with pytest.raises(VizflowError, match="should end in '.parquet'"):
        vf.save(pl.DataFrame({"a": [1]}), tmp_path / "x.csv")


def test_scan_rejects_mixed_kinds(tmp_path):
    vf.save(pl.DataFrame({"a": [1]}), tmp_path / "a.parquet")
    pl.DataFrame({"a": [1]}).write_ipc(tmp_path / "b.feather")
    with pytest.raises(VizflowError, match="several kinds"):
        vf.scan(tmp_path / "*")


class _Boom(pl.DataFrame):
    def write_parquet(self, file, *args, **kwargs):  # type: ignore[override]
        Path(file).write_bytes(b"PAR1 half written")
        msg = "disk full"
        raise OSError(msg)


def test_failed_save_leaves_no_file(tmp_path):
    target = tmp_path / "20240102.parquet"
    with pytest.raises(OSError, match="disk full"):
        vf.save(_Boom({"a": [1]}), target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_existing_file(tmp_path):
    target = tmp_path / "x.parquet"
    vf.save(pl.DataFrame({"a": [1]}), target)
    vf.save(pl.DataFrame({"a": [2, 3]}), target)
    assert vf.load(target).collect()["a"].to_list() == [2, 3]
