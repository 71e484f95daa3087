from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vizflow as vf
from vizflow.exceptions import DataError, VizflowError


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
    with pytest.raises(VizflowError, match=r"should end in one of \['.parquet', '.feather'"):
        vf.save(pl.DataFrame({"a": [1]}), tmp_path / "x.csv")


def test_scan_rejects_mixed_kinds(tmp_path):
    vf.save(pl.DataFrame({"a": [1]}), tmp_path / "a.parquet")
    pl.DataFrame({"a": [1]}).write_ipc(tmp_path / "b.feather")
    with pytest.raises(VizflowError, match="several kinds"):
        vf.scan(tmp_path / "*")


class _Boom(pl.DataFrame):
    def write_parquet(self, file, *args, **kwargs):  # type: ignore[override]
        file.write(b"PAR1 half written")
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


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_regression_save_honours_umask_not_mkstemp_0600(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        for name in ("x.parquet", "x.feather"):
            vf.save(pl.DataFrame({"a": [1]}), tmp_path / name)
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode
    finally:
        os.umask(old)


def test_regression_save_fsyncs_file_before_rename_and_folder_after(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, Path.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(self, target):
        events.append("rename")
        return real_replace(self, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Path, "replace", replace)
    vf.save(pl.DataFrame({"a": [1]}), tmp_path / "x.parquet")
    assert events == ["fsync file", "rename", "fsync folder"]


@pytest.mark.parametrize("thing", [{"a": [1]}, [1, 2], None, pl.Series("a", [1])])
def test_regression_save_refuses_non_frame_clearly(tmp_path, thing):
    with pytest.raises(VizflowError, match=r"save: expected a polars DataFrame or LazyFrame, got \w+"):
        vf.save(thing, tmp_path / "x.parquet")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_regression_save_feather_as_the_config_default_pattern(tmp_path, frame):
    cfg = vf.Config(input_dir=tmp_path)
    path = vf.save(frame, cfg.get_file_path("20240102"))
    assert path.name == "20240102.feather"
    assert path.read_bytes()[:6] == b"ARROW1"
    assert vf.load(path).collect().equals(frame)


def _corrupt_footer(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-40:-8] = b"\xff" * 32  # the ends keep their magic; the metadata is garbage
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["g.feather", "g.parquet", "g.arrow"])
@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "footer"])
def test_regression_load_names_garbage_or_corrupt_file(tmp_path, name, damage):
    path = tmp_path / name
    if damage == "garbage":
        path.write_bytes(b"not a frame at all " * 20)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        vf.save(pl.DataFrame({"a": list(range(100)), "b": ["x"] * 100}), path)
        if damage == "truncated":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        else:
            _corrupt_footer(path)
    with pytest.raises(DataError, match=rf"load: '.*{name}' is not a (complete|readable)"):
        vf.load(path)
    assert not vf.io.is_complete(path)


@settings(max_examples=30)
@given(
    rows=st.integers(0, 40),
    cut=st.floats(0, 1, exclude_max=True),
    ext=st.sampled_from([".parquet", ".feather"]),
)
def test_any_strict_prefix_of_an_output_is_incomplete(rows, cut, ext):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x{ext}"
        vf.save(pl.DataFrame({"a": list(range(rows)), "s": [str(i) for i in range(rows)]}), path)
        assert vf.io.check_complete(path) == rows
        data = path.read_bytes()
        path.write_bytes(data[: int(cut * len(data))])
        assert not vf.io.is_complete(path)


def test_is_complete_refuses_a_directory_and_other_kinds(tmp_path):
    (tmp_path / "20240102.parquet").mkdir()
    with pytest.raises(VizflowError, match=r"'.*20240102.parquet' is a directory"):
        vf.io.is_complete(tmp_path / "20240102.parquet")
    with pytest.raises(VizflowError, match="can only check"):
        vf.io.is_complete(tmp_path / "x.csv")
    assert not vf.io.is_complete(tmp_path / "missing.parquet")


def test_regression_clean_stale_temporaries_spares_a_live_writer(tmp_path):
    stale = tmp_path / f".20240102.parquet{vf.io.TEMP_MARKER}dead.tmp"
    stale.write_bytes(b"PAR1 half")
    other = tmp_path / ".notes.tmp"  # not vizflow's: never touched
    other.write_bytes(b"x")
    target = tmp_path / "20240103.parquet"
    with vf.io.atomic_write(target) as f:  # a writer still running (same folder, e.g. another job)
        f.write(b"in progress")
        assert vf.io.clean_stale_temporaries(tmp_path) == [stale]
        live = [p for p in tmp_path.iterdir() if vf.io.TEMP_MARKER in p.name]
        assert len(live) == 1
    assert target.read_bytes() == b"in progress"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.tmp", "20240103.parquet"]
    assert vf.io.clean_stale_temporaries(tmp_path / "missing") == []


@pytest.fixture
def batch_config(tmp_path) -> vf.Config:
    for day in ("20240102", "20240103", "20240104"):
        vf.save(pl.DataFrame({"x": [1, 2, 3]}), tmp_path / "in" / f"{day}.parquet")
    return vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")


def _count(lf: pl.LazyFrame, ctx: vf.Context) -> pl.DataFrame:
    return lf.select(pl.len().alias("n"), pl.lit(ctx.date).alias("date")).collect()


def test_regression_skip_existing_recomputes_empty_truncated_or_foreign_outputs(batch_config):
    out = batch_config.output_dir
    assert vf.run_local(_count, batch_config, ["20240102"]).succeeded == ["20240102"]
    good = batch_config.get_output_path("20240102")
    whole = good.read_bytes()
    batch_config.get_output_path("20240103").write_bytes(whole[: len(whole) // 2])  # truncated
    batch_config.get_output_path("20240104").write_bytes(b"")  # zero bytes
    result = vf.run_local(_count, batch_config, ["20240102", "20240103", "20240104"])
    assert (result.skipped, result.succeeded) == (["20240102"], ["20240103", "20240104"])
    for day in ("20240103", "20240104"):
        assert vf.load(out / f"{day}.parquet").collect().to_dicts() == [{"n": 3, "date": day}]


def test_regression_directory_at_output_path_is_a_clear_error(batch_config):
    batch_config.get_output_path("20240103").mkdir(parents=True)
    with pytest.raises(VizflowError, match=r"'.*out/20240103.parquet' is a directory"):
        vf.run_local(_count, batch_config, ["20240102", "20240103"])
    assert not batch_config.get_output_path("20240102").exists()  # refused before any work


def test_regression_next_run_removes_killed_runs_temporaries(batch_config):
    out = batch_config.output_dir
    out.mkdir()
    stale = [out / f".2024010{d}.parquet{vf.io.TEMP_MARKER}{d}abc.tmp" for d in (2, 3)]
    for path in stale:
        path.write_bytes(b"PAR1 half written by a killed run")
    assert vf.run_local(_count, batch_config, ["20240104"]).ok
    assert sorted(p.name for p in out.iterdir()) == ["20240104.parquet"]


@pytest.mark.slow
def test_regression_sigkilled_writers_temporary_is_removed_by_the_next_run(tmp_path):
    target = tmp_path / "out" / "20240102.parquet"
    script = (
        "import polars as pl, vizflow as vf, sys; n = 30_000_000;"
        "vf.save(pl.select(a=pl.int_range(n), b=pl.int_range(n) * 1.5, c=pl.lit('x' * 20)), sys.argv[1])"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)])
    try:
        deadline = time.time() + 120
        while not list(target.parent.glob(f".*{vf.io.TEMP_MARKER}*")):
            assert proc.poll() is None, "the writer finished before it could be killed"
            assert time.time() < deadline, "no temporary file appeared"
            time.sleep(0.005)
        assert vf.io.clean_stale_temporaries(target.parent) == []  # alive: its file is locked
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    (stale,) = target.parent.glob(f".*{vf.io.TEMP_MARKER}*")
    assert vf.io.clean_stale_temporaries(target.parent) == [stale]
    assert list(target.parent.iterdir()) == []
