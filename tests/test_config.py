from __future__ import annotations

import datetime as dt
import os
import pickle
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"input_dir": 5}, r"input_dir must be a path \(str or os.PathLike\), got int 5"),
        ({"output_dir": None}, r"output_dir must be a path .* got NoneType None"),
        ({"input_pattern": 5}, r"input_pattern must be a string .* got int 5"),
        ({"market": 5}, r"market must be a preset name \(str\) or a vizflow.Market, got int 5"),
        ({"columns": ["price"]}, r"columns must be a table .* got list \['price'\]"),
        ({"columns": {"price": {"a": 1}}}, r"columns\['price'\] must be a column name \(string\), got dict"),
        ({"columns": {"price": ""}}, r"columns\['price'\] must be a column name"),
        ({"sources": "quotes/{date}.parquet"}, r"sources must be a table .* got str"),
        ({"sources": {"quotes": 5}}, r"sources\['quotes'\] must be a file pattern \(string\), got int 5"),
    ],
)
def test_regression_config_wrong_types_name_field_and_type(kwargs, expected):
    with pytest.raises(VizflowError, match=expected):
        vf.Config(**kwargs)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{date}_{sym}.parquet", r"unknown placeholder\(s\) \['\{sym\}'\]"),
        ("{date:%Y}.parquet", r"unknown placeholder\(s\) \['\{date:%Y\}'\]"),
        ("{}.parquet", r"unknown placeholder\(s\) \['\{\}'\]"),
        ("{date!r}.parquet", r"unknown placeholder\(s\) \['\{date!r\}'\]"),
        ("{date.year}.parquet", r"unknown placeholder"),
        ("{date.parquet", r"is not a valid pattern"),
        ("data}.parquet", r"is not a valid pattern"),
        ("{{date}}.parquet", r"must contain '\{date\}'"),
    ],
)
def test_regression_pattern_with_unknown_placeholder_refused_at_construction(pattern, expected):
    with pytest.raises(VizflowError, match=r"input_pattern .*" + expected):
        vf.Config(input_pattern=pattern)
    with pytest.raises(VizflowError, match=r"sources\['quotes'\] .*" + expected):
        vf.Config(sources={"quotes": pattern})


def test_pattern_placeholders_that_are_fine():
    cfg = vf.Config(input_pattern="{{raw}}/{date}/{date}.parquet", sources={"q": "/abs/q_{date}.csv"})
    assert cfg.get_file_path("20240102") == Path("{raw}/20240102/20240102.parquet")
    assert cfg.get_source_path("q", dt.date(2024, 1, 2)) == Path("/abs/q_20240102.csv")


def test_unknown_source_lists_known_ones():
    cfg = vf.Config(input_dir="d", sources={"quotes": "q/{date}.parquet", "universe": "u/{date}.csv"})
    with pytest.raises(VizflowError, match=r"unknown source 'quote' .* \['quotes', 'universe'\].*'quotes'\?"):
        cfg.get_source_path("quote", "20240102")
    with pytest.raises(VizflowError, match=r"unknown source 'quotes' for 20240102; known sources: \[\]"):
        vf.Config().get_source_path("quotes", "20240102")


def test_regression_toml_columns_inline_table_refused(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text("[columns]\nprice = {a = 1}\n")
    with pytest.raises(VizflowError, match=r"cfg.toml'.*columns\['price'\] must be a column name .*got dict"):
        vf.Config.from_toml(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("input_dir = 5", r"input_dir must be a string \(a path\), got int 5"),
        ("market = 1", r"market must be a preset name"),
        ('input_pattern = "{date}_{sym}"', r"input_pattern '\{date\}_\{sym\}' has unknown placeholder"),
        ('sources = ["q/{date}.parquet"]', r"sources must be a table"),
    ],
)
def test_regression_toml_wrong_types_name_file_and_key(tmp_path, line, expected):
    path = tmp_path / "cfg.toml"
    path.write_text(line + "\n")
    with pytest.raises(VizflowError, match=r"Config.from_toml: '.*cfg.toml': " + expected):
        vf.Config.from_toml(path)


def test_regression_non_utf8_toml_names_the_path(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('input_dir = "données"\n'.encode("latin-1"))
    with pytest.raises(VizflowError, match=r"'.*latin1.toml' is not UTF-8 text \(byte 17"):
        vf.Config.from_toml(path)


def test_regression_from_toml_omitted_dirs_are_the_files_folder_not_cwd(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "cfg.toml").write_text('market = "HK"\n[sources]\nquotes = "quotes/{date}.parquet"\n')
    monkeypatch.chdir(tmp_path)
    cfg = vf.Config.from_toml("project/cfg.toml")
    assert cfg.input_dir.resolve() == folder
    assert cfg.output_dir.resolve() == folder / "output"
    assert cfg.get_source_path("quotes", "20240102").resolve() == folder / "quotes" / "20240102.parquet"


_name = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00/{}"), min_size=1, max_size=8
)


@settings(max_examples=40)
@given(
    dirs=st.tuples(_name, _name),
    pattern=st.tuples(_name, _name),
    market=st.sampled_from(["CN", "HK", "US", vf.CRYPTO]),
    columns=st.dictionaries(_name, _name, max_size=3),
    sources=st.dictionaries(_name, st.builds("{}/{{date}}.parquet".format, _name), max_size=3),
)
def test_to_toml_round_trips_through_from_toml(dirs, pattern, market, columns, sources):
    with tempfile.TemporaryDirectory() as root:
        cfg = vf.Config(
            input_dir=Path(root) / dirs[0], output_dir=Path(root) / dirs[1],
            input_pattern=pattern[0] + "{date}" + pattern[1], market=market, columns=columns, sources=sources,
        )  # fmt: skip
        back = vf.Config.from_toml(cfg.to_toml(Path(root) / "cfg.toml"))
        assert back == cfg
        assert back.market_obj is cfg.market_obj
        assert back.source == Path(root) / "cfg.toml"


def test_to_toml_writes_absolute_folders_and_refuses_custom_markets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    back = vf.Config.from_toml(vf.Config(input_dir="in").to_toml(tmp_path / "sub" / "cfg.toml"))
    assert back.input_dir == tmp_path / "in"
    assert back.output_dir == tmp_path / "output"
    custom = vf.Market("MINE", (vf.market.Session("10:00", "11:00"),))
    with pytest.raises(VizflowError, match=r"market 'MINE' is a custom vizflow.Market"):
        vf.Config(market=custom).to_toml(tmp_path / "x.toml")
    assert not (tmp_path / "x.toml").exists()


def test_regression_output_dir_equal_to_input_dir_refused_naming_both_paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "link").symlink_to(data)
    for out in (data, tmp_path / "data" / ".." / "data", tmp_path / "link"):
        cfg = vf.Config(input_dir=data, output_dir=out, input_pattern="{date}.parquet")
        path = data / "20240103.parquet"
        expected = (
            f"the output of 20240103, '{path}', is the main input \\(input_pattern\\) of 20240103 '{path}'"
        )
        with pytest.raises(VizflowError, match=expected):
            cfg.check_no_input_overwrite(["20240102", "20240103"][-1:])
    vf.Config(input_dir=data, output_dir=data).check_no_input_overwrite(["20240102"])  # .feather in


def test_regression_output_equal_to_a_source_refused(tmp_path):
    cfg = vf.Config(
        input_dir=tmp_path, output_dir=tmp_path / "quotes", input_pattern="trades/{date}.parquet",
        sources={"quotes": "quotes/{date}.parquet"},
    )  # fmt: skip
    with pytest.raises(
        VizflowError, match=r"is the source 'quotes' of 20240102 '.*/quotes/20240102\.parquet'"
    ):
        cfg.check_no_input_overwrite(["20240102"])


def test_regression_hard_link_input_output_refused(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "in" / "20240102.parquet").write_bytes(b"raw")
    os.link(tmp_path / "in" / "20240102.parquet", tmp_path / "out" / "20240102.parquet")
    cfg = vf.Config(input_dir=tmp_path / "in", output_dir=tmp_path / "out", input_pattern="{date}.parquet")
    with pytest.raises(VizflowError, match="would overwrite the raw data"):
        cfg.check_no_input_overwrite(["20240102"])


def _echo(lf, ctx):
    return lf.with_columns(seen=pl.lit(True))


def test_regression_run_refuses_to_overwrite_its_input(tmp_path):
    raw = tmp_path / "20240102.parquet"
    vf.save(pl.DataFrame({"x": [1]}), raw)
    before = raw.read_bytes()
    cfg = vf.Config(input_dir=tmp_path, output_dir=tmp_path, input_pattern="{date}.parquet")
    with pytest.raises(VizflowError, match=rf"output of 20240102, '{raw}', is the main input"):
        vf.run(_echo, cfg, "20240102")
    assert vf.run(_echo, cfg, "20240102", save=False)["seen"].to_list() == [True]  # reading is fine
    for batch in (vf.run_local, vf.run_batch):
        with pytest.raises(VizflowError, match="would overwrite the raw data"):
            batch(_echo, cfg, ["20240102"], skip_existing=False)
        with pytest.raises(VizflowError, match="would overwrite the raw data"):
            batch(_echo, cfg, ["20240102"])  # not "skipped: output exists" either
    assert raw.read_bytes() == before


def test_regression_batch_refuses_a_colliding_source_before_any_work(tmp_path):
    for day in ("20240102", "20240103"):
        vf.save(pl.DataFrame({"x": [1]}), tmp_path / "trades" / f"{day}.parquet")
        vf.save(pl.DataFrame({"x": [2]}), tmp_path / "quotes" / f"{day}.parquet")
    cfg = vf.Config(
        input_dir=tmp_path, output_dir=tmp_path / "quotes", input_pattern="trades/{date}.parquet",
        sources={"quotes": "quotes/{date}.parquet"},
    )  # fmt: skip
    with pytest.raises(VizflowError, match=r"output of 20240102, .* is the source 'quotes' of 20240102"):
        vf.run_local(_echo, cfg, ["20240102", "20240103"], skip_existing=False)
    assert vf.load(tmp_path / "quotes" / "20240102.parquet").collect()["x"].to_list() == [2]


_DIRS = ["a", "a/b", "a/./b", "a/b/..", "a/b/../b", "c", "a/20240103", "c/../a/20241231"]
_PATTERNS = [
    "{date}.parquet", "b/{date}.parquet", "{date}.feather", "x{date}.parquet", "{date}/{date}.parquet",
    "{date}/20240102.parquet",  # the output of 20240102 in output_dir a/20240103 is the input of 20240103
]  # fmt: skip


@given(
    input_dir=st.sampled_from(_DIRS),
    output_dir=st.sampled_from(_DIRS),
    pattern=st.sampled_from(_PATTERNS),
    sources=st.lists(st.sampled_from(_PATTERNS), max_size=3),
    dates=st.lists(st.sampled_from(["20240102", "20240103", "20241231"]), min_size=1, max_size=3),
)
def test_check_no_input_overwrite_against_lexical_reference(input_dir, output_dir, pattern, sources, dates):
    cfg = vf.Config(
        input_dir=input_dir, output_dir=output_dir, input_pattern=pattern,
        sources={f"s{i}": p for i, p in enumerate(sources)},
    )  # fmt: skip

    def norm(path: str) -> str:
        return os.path.normpath(os.path.join(os.getcwd(), path))  # noqa: PTH109, PTH118

    collides = any(
        norm(f"{input_dir}/{p.format(date=d_in)}") == norm(f"{output_dir}/{d_out}.parquet")
        for d_in in dates
        for d_out in dates
        for p in [pattern, *sources]
    )
    if collides:
        with pytest.raises(VizflowError, match="would overwrite the raw data"):
            cfg.check_no_input_overwrite(dates)
    else:
        cfg.check_no_input_overwrite(dates)


def test_config_with_sources_pickles_for_workers():
    cfg = vf.Config(input_dir="d", sources={"quotes": "q/{date}.parquet"}, market=vf.HK)
    back = pickle.loads(pickle.dumps(cfg))
    assert back == cfg
    assert hash(back) == hash(cfg)
    assert back.get_source_path("quotes", "20240102") == Path("d/q/20240102.parquet")
    assert vf.Config(market=vf.HK) == vf.Config(market="HK")


def test_regression_output_of_one_date_over_the_input_of_another_refused(tmp_path):
    cfg = vf.Config(
        input_dir=tmp_path, output_dir=tmp_path / "20240103", input_pattern="{date}/20240102.parquet"
    )
    cfg.check_no_input_overwrite(["20240102"])  # alone, no collision
    with pytest.raises(
        VizflowError, match=r"output of 20240102, .* is the main input \(input_pattern\) of 20240103"
    ):
        cfg.check_no_input_overwrite(["20240102", "20240103"])


# --- issue 21: a calendar file beside the config -------------------------------------------------------

HOLIDAYS_2027 = "# span: 20270101..20271231\nholiday\n20270101\n20270208\n"
"""An illustrative closures file in the shape an exchange announces (not the real 2027 list)."""


def test_regression_config_calendar_key_is_relative_to_the_toml_file(tmp_path, monkeypatch):
    """Issue 21: a config could not name a calendar file."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "cfg.toml").write_text('market = "CN"\ncalendar = "xshg_2027.csv"\n')
    monkeypatch.chdir(tmp_path)  # the current folder must not matter
    cfg = vf.Config.from_toml(folder / "cfg.toml")
    assert cfg.calendar == folder / "xshg_2027.csv"
    assert vf.Config.from_toml(cfg.to_toml(tmp_path / "again.toml")) == cfg
    assert vf.Config(calendar="a.csv") != vf.Config(calendar="b.csv")
    assert hash(vf.Config(calendar="a.csv")) == hash(vf.Config(calendar=Path("a.csv")))
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert vf.Config().calendar is None
    assert "calendar" not in vf.Config().as_toml()


@pytest.mark.parametrize("bad", [3, ["a.csv"], ""])
def test_config_calendar_must_be_a_path(bad):
    with pytest.raises(VizflowError, match="calendar must be a path to a sessions or holidays file"):
        vf.Config(calendar=bad)


def test_toml_calendar_must_be_a_string(tmp_path):
    (tmp_path / "cfg.toml").write_text("calendar = 2027\n")
    with pytest.raises(VizflowError, match="cfg.toml'.*calendar must be a string"):
        vf.Config.from_toml(tmp_path / "cfg.toml")


def test_regression_run_batch_extends_the_market_calendar_with_the_config_calendar(tmp_path):
    """Issue 21: past 20261231 every CN date failed; a closures file in the config carries on."""
    (tmp_path / "xshg_2027.csv").write_text(HOLIDAYS_2027)
    days = ["20261231", "20270101", "20270104", "20270208"]
    for day in days:
        vf.save(pl.DataFrame({"x": [1]}), tmp_path / "in" / f"{day}.parquet")
    (tmp_path / "cfg.toml").write_text(
        'input_dir = "in"\noutput_dir = "out"\ninput_pattern = "{date}.parquet"\ncalendar = "xshg_2027.csv"\n'
    )
    cfg = vf.Config.from_toml(tmp_path / "cfg.toml")
    seen = []

    def pipeline(lf, ctx):
        seen.append((ctx.date, ctx.prev_date()))
        return lf

    result = vf.run_local(pipeline, cfg, days)
    assert result.succeeded == ["20261231", "20270104"]
    assert sorted(result.skipped) == ["20270101", "20270208"]  # holidays: not trading days
    assert dict(seen)["20270104"] == "20261231"  # the context's calendar is the extended one


def test_config_calendar_that_disagrees_with_the_market_names_the_date(tmp_path):
    # Christmas is no closure in Shanghai: the file disagrees with the shipped XSHG calendar
    (tmp_path / "bad.csv").write_text("# span: 20261201..20270131\nholiday\n20261225\n20270101\n")
    cfg = vf.Config(input_dir=tmp_path, output_dir=tmp_path / "out", calendar=tmp_path / "bad.csv")
    with pytest.raises(vf.CalendarError, match="bad.csv'.*disagree on 20261225: a session of 'XSHG'"):
        vf.run_local(lambda lf, ctx: lf, cfg, ["20270104"])
