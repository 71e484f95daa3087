"""The explorer: its data layer against plain Python and Polars, then the page in headless Chromium.

The data-layer tests (no browser) check every statistic per cell and the decay curve of a
selection against a reference over the raw rows (exact fractions), for raw rows and for
``vf.summarize`` partials, with date ranges, weights and the minimum count, and the errors.

The browser tests serve ``vizflow explore`` on the real 600519 sample in a subprocess on a free
loopback port (stopped by its PID), change X, Y, the value and the weight, drag a box on the
heatmap (a real mouse selection in plotly's select mode), and check every number on the page
against plain Polars on the raw rows. They save explorer.png and explorer_selection.png into a
temporary folder, or into docs/img under ``make figures``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from fractions import Fraction
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as scipy_t

import vizflow as vf
import vizflow.viz as vz
from tests.viz import test_dashboard
from tests.viz.test_dashboard import CHROMIUM, DRIVER, _free_port, _wait
from vizflow.cli import build_parser
from vizflow.exceptions import ColumnNotFoundError, SchemaError, VizflowError
from vizflow.viz.cells import STATISTICS, ExplorerData
from vizflow.viz.explorer import decay_figure, heatmap_figure
from vizflow.viz.labels import bin_labels_from_spec

if TYPE_CHECKING:
    from pathlib import Path

browser = test_dashboard.browser  # the same module-scoped headless Chromium fixture
img = test_dashboard.img

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")
NO_BROWSER = "no chromium/chromedriver on this machine (apt-get install chromium chromium-driver)"

SIZE_LABELS = "log_qty_bin=0.5,log10,shares"  # the share range of each log10 size bin
HORIZONS = [1, 5, 30, 60, 300, "close"]  # forward_return's own output, return_close included
SECONDS = [h for h in HORIZONS if h != "close"]
TIME = "elapsed_seconds"


def sample_rows() -> pl.DataFrame:
    """Every aggressor trade of the real sample with its forward returns on the 600519 mid."""
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes().filter(pl.col("symbol") == "600519.SH"), vf.CN)
    trades = vf.parse_time(vf.datasets.cn_sample_trades(), vf.CN)
    parts = [
        vf.forward_return(
            trades.filter(pl.col("date") == day),
            HORIZONS,
            "price",
            reference=quotes.filter(pl.col("date") == day),
        )
        for day in vf.datasets.SAMPLE_DATES
    ]
    return (
        pl.concat(parts)
        .filter(pl.col("side") != 0)
        .with_columns(log_qty=pl.col("qty").log10())
        .pipe(vf.bin, {"log_qty": 0.5})
        .drop("log_qty")
    )


def _signed(rows: pl.DataFrame) -> pl.DataFrame:
    """Reference cells: half hours as math.floor(t / 1800), returns in bp in the direction of the trade."""
    return rows.with_columns(
        half_hour=pl.col(TIME).map_elements(lambda t: math.floor(t / 1800) * 1800.0, return_dtype=pl.Float64),
        **{f"bp_{h}": pl.col(f"return_{h}") * pl.col("side") * 1e4 for h in HORIZONS},
    )


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return _signed(sample_rows())


@pytest.fixture(scope="module")
def server(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("explore") / "trades_with_returns.parquet"
    rows.drop("half_hour", *(f"bp_{h}" for h in HORIZONS)).write_parquet(path)
    port = _free_port()
    command = [sys.executable, "-m", "vizflow", "explore", str(path), "--port", str(port), "--sign", "side",
               "--market", "CN", "--weight", "qty", "--bin-labels", SIZE_LABELS]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"vizflow explore did not start: {process.communicate()[0]}")
    yield f"http://127.0.0.1:{port}/"
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


_HEATMAP = """
const g = document.querySelector('#vf-heatmap .js-plotly-plot');
if (!g || !g.data || !g.layout || !g.layout.title) return null;
const t = g.data[0] || {};
return {view: g.layout.meta && g.layout.meta.vizflow_view, title: g.layout.title.text,
        yticks: g.layout.yaxis.ticktext || null,
        x: t.x, y: t.y, z: t.z, custom: t.customdata,
        cells: (g.data.find(t => t.name === 'cells') || {customdata: []}).customdata};
"""
_DECAY = """
const g = document.querySelector('#vf-decay .js-plotly-plot');
if (!g || !g.data || !g.layout || !g.layout.title) return null;
return {title: g.layout.title.text, meta: g.layout.meta || null,
        traces: g.data.map(t => ({x: t.x, y: t.y, bars: t.error_y ? t.error_y.array : null})),
        totals: document.getElementById('vf-totals').textContent};
"""


_DATES = """
const label = document.getElementById('vf-dates-label'), block = label.parentElement;
const texts = [...block.querySelectorAll('*')].filter(e => !e.children.length && e.textContent.trim())
  .map(e => { const r = e.getBoundingClientRect();
              return {text: e.textContent.trim(), left: r.left, right: r.right}; });
return {label: label.textContent, width: document.documentElement.clientWidth, texts: texts,
        inputs: block.querySelectorAll('input').length};
"""


def _screenshot(driver, path: Path) -> None:
    """Save the whole page to path: a viewport as tall as the page, no scroll bar, no blank band."""
    chrome, page = driver.execute_script(
        "document.documentElement.style.overflow = 'hidden';"
        "const bottom = document.getElementById('vf-decay').getBoundingClientRect().bottom;"
        "return [window.outerHeight - window.innerHeight, Math.ceil(bottom + window.scrollY) + 24];"
    )
    driver.set_window_size(1280, chrome + page)
    driver.save_screenshot(str(path))


def _heatmap(driver, view: list | None = None):
    return _wait(
        driver, lambda: (s := driver.execute_script(_HEATMAP)) and (view is None or s["view"] == view) and s
    )


def _decay(driver, predicate):
    return _wait(driver, lambda: (s := driver.execute_script(_DECAY)) and predicate(s) and s)


def _choose(driver, control: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, f"#{control} input[value='{value}']"))
    driver.find_element(By.CSS_SELECTOR, f"#{control} input[value='{value}']").click()


def _expected_cells(rows: pl.DataFrame, x: str, y: str, h: int, min_count: int = 10) -> dict:
    """(x, y) -> (mean bp, count) by plain Polars, for the cells of at least min_count values."""
    cells = rows.group_by(x, y).agg(
        pl.col(f"bp_{h}").mean().alias("mean"), pl.col(f"bp_{h}").count().alias("n")
    )
    return {(r[x], r[y]): (r["mean"], r["n"]) for r in cells.iter_rows(named=True)}


def _page_cells(state: dict) -> dict:
    """(x, y) -> (shown value, count) read from the heatmap in the page."""
    out = {}
    for r, row in enumerate(state["custom"]):
        for c, (_, _, n, *_) in enumerate(row):
            if n:
                out[(c, r)] = (state["z"][r][c], n)
    return out


def _assert_cells(state: dict, expected: dict, xs: list, ys: list, min_count: int = 10) -> None:
    page = _page_cells(state)
    want = {(xs.index(k[0]), ys.index(k[1])): v for k, v in expected.items()}
    assert {k: n for k, (_, n) in page.items()} == {k: n for k, (_, n) in want.items()}  # counts on hover
    for key, (mean, n) in want.items():
        shown = page[key][0]
        if n < min_count:
            assert shown is None  # hidden below the minimum count
        else:
            assert shown == pytest.approx(mean, rel=1e-9, abs=1e-12)


def _drag_box(driver, x0: float, x1: float, y0: float, y1: float) -> None:
    """Drag the mouse over the heatmap's plot area from data point (x0, y0) to (x1, y1)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    pixels = driver.execute_script(
        "const g = document.querySelector('#vf-heatmap .js-plotly-plot'), L = g._fullLayout;"
        "const r = g.querySelector('.nsewdrag').getBoundingClientRect();"
        "return {w: r.width, h: r.height,"
        " pts: arguments[0].map(p => [L.xaxis.d2p(p[0]), L.yaxis.d2p(p[1])])};",
        [[x0, y0], [x1, y1]],
    )
    area = driver.find_element(By.CSS_SELECTOR, "#vf-heatmap .nsewdrag")
    (ax, ay), (bx, by) = pixels["pts"]
    start = (int(ax - pixels["w"] / 2), int(ay - pixels["h"] / 2))
    chain = ActionChains(driver).move_to_element_with_offset(area, *start).click_and_hold()
    for _ in range(5):  # plotly's select needs several move events
        chain.move_by_offset(int((bx - ax) / 5), int((by - ay) / 5))
    chain.release().perform()


def _reference_decay(part: pl.DataFrame, weight: str | None = None) -> list[tuple[float, float]]:
    """(mean, 95% CI half-width) per horizon, in bp, clustered by date: plain sums over the rows, CR1
    (G / (G - 1) x the sandwich) and scipy's t quantile with G - 1 degrees of freedom."""
    out = []
    for h in HORIZONS:
        v = part.select("date", f"bp_{h}", weight or pl.lit(1.0).alias("w")).drop_nulls()
        x, w, d = v[f"bp_{h}"].to_list(), v[weight or "w"].to_list(), v["date"].to_list()
        big_w = sum(w)
        mean = sum(a * b for a, b in zip(w, x, strict=True)) / big_w
        sums: dict = {}
        for a, b, day in zip(w, x, d, strict=True):
            sums[day] = sums.get(day, 0.0) + a * (b - mean)
        g = len(sums)
        se = math.sqrt(g / (g - 1) * sum(s * s for s in sums.values())) / big_w
        out.append((mean, scipy_t.ppf(0.975, g - 1) * se))
    return out


def _assert_curve(state: dict, reference: list) -> None:
    """The page's curve (mean, band edges) and its close diamond equal the reference, band for band."""
    (mean, upper, lower), close = (t["y"] for t in state["traces"][:3]), state["traces"][3]
    assert state["traces"][0]["x"] == [float(h) for h in SECONDS]
    for k, (m, half) in enumerate(reference[: len(SECONDS)]):
        assert mean[k] == pytest.approx(m, rel=1e-9)
        assert upper[k] == pytest.approx(m + half, rel=1e-9)
        assert lower[k] == pytest.approx(m - half, rel=1e-9)
    m, half = reference[-1]
    assert close["y"] == [pytest.approx(m, rel=1e-9)]
    assert close["bars"] == [pytest.approx(half, rel=1e-9)]
    assert close["x"][0] > SECONDS[-1]


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)
def test_explorer_views_selection_and_numbers_match_polars(browser, server, rows, img):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1800)
    browser.get(server)
    first = _heatmap(browser)
    dates = browser.execute_script(_DATES)  # the date range names its dates, none cut off the page
    assert dates["label"] == "20230201 .. 20230203 (3 of 3 dates)"
    assert dates["inputs"] == 0  # no number boxes showing indices
    marks = [t for t in dates["texts"] if t["text"] in vf.datasets.SAMPLE_DATES]
    assert sorted(t["text"] for t in marks) == sorted(vf.datasets.SAMPLE_DATES)
    assert all(t["left"] >= 0 and t["right"] <= dates["width"] for t in dates["texts"])
    assert first["view"] == [TIME, "symbol", "return_1"]  # default: time on X, the first other column on Y
    whole = _decay(browser, lambda s: s["meta"] and s["meta"]["cells"] is None)
    assert whole["meta"]["rows"] == rows.height
    _assert_curve(whole, _reference_decay(rows))
    assert whole["meta"]["band"] == "95% CI, clustered by date, 3 dates"  # the band says what it is
    assert whole["totals"].endswith("; 95% CI, clustered by date, 3 dates")
    assert "by half hour of the session clock" in browser.find_element(By.ID, "vf-bands").text

    _choose(browser, "vf-x", "log_qty_bin")  # change X, Y and the horizon
    _choose(browser, "vf-y", "side")
    _choose(browser, "vf-value", "return_30")
    state = _heatmap(browser, ["log_qty_bin", "side", "return_30"])
    _assert_cells(state, _expected_cells(rows, "log_qty_bin", "side", 30), list(state["x"]), list(state["y"]))

    _choose(browser, "vf-x", TIME)
    _choose(browser, "vf-y", "log_qty_bin")
    _choose(browser, "vf-value", "return_60")
    state = _heatmap(browser, [TIME, "log_qty_bin", "return_60"])
    assert state["x"] == [1800.0 * k for k in range(9)]  # cells over exactly their half hours, no lunch gap
    shares = vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")
    assert state["yticks"] == [shares(k) for k in state["y"]]  # what each size bin holds, not its number
    assert "14:30-15:00" in state["custom"][0][-1][0]
    _assert_cells(
        state, _expected_cells(rows, "half_hour", "log_qty_bin", 60), state["x"][:-1], list(state["y"])
    )
    _screenshot(browser, img / "explorer.png")

    # A box over the centres of 10:00-10:30 and 10:30-11:00, size bins 3 and 4.
    _drag_box(browser, 1850.0, 5350.0, 2.6, 4.4)
    chosen = _decay(browser, lambda s: s["meta"] and s["meta"]["cells"])
    in_box = rows.filter(pl.col("half_hour").is_in([1800.0, 3600.0]), pl.col("log_qty_bin").is_in([3, 4]))
    counts = in_box.group_by("half_hour", "log_qty_bin").agg(pl.col("bp_60").count().alias("n"))
    selectable = counts.filter(pl.col("n") >= 10)
    assert chosen["meta"]["cells"] == selectable.height == 4
    picked = in_box.join(selectable.select("half_hour", "log_qty_bin"), on=["half_hour", "log_qty_bin"])
    assert chosen["meta"]["rows"] == picked.height
    assert chosen["meta"]["share"] == pytest.approx(picked.height / rows.height, rel=1e-12)
    assert f"{picked.height:,} rows" in chosen["totals"]
    _assert_curve(chosen, _reference_decay(picked))
    _screenshot(browser, img / "explorer_selection.png")
    assert (img / "explorer_selection.png").stat().st_size > 10_000

    _choose(browser, "vf-weight", "qty")  # weighted: the selection resets to the whole table
    weighted = _decay(browser, lambda s: s["meta"] and s["meta"]["cells"] is None and "qty" in s["totals"])
    assert weighted["meta"]["weight"] == pytest.approx(float(rows["qty"].sum()), rel=1e-12)
    _assert_curve(weighted, _reference_decay(rows.with_columns(pl.col("qty").cast(pl.Float64)), "qty"))


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)
def test_explorer_panel_error_shows_in_place(browser, server):
    """X equal to Y cannot be drawn: both panels say why, and the controls stay usable."""
    browser.get(server)
    _heatmap(browser)
    _choose(browser, "vf-y", TIME)
    failed = _wait(browser, lambda: (s := browser.execute_script(_HEATMAP)) and "failed" in s["title"] and s)
    assert "X and Y are both 'elapsed_seconds'" in failed["title"]
    decay = _decay(browser, lambda s: "failed" in s["title"])
    assert "decay failed" in decay["totals"]
    _choose(browser, "vf-y", "side")
    assert _heatmap(browser, [TIME, "side", "return_1"])["z"]


# The data layer without a browser: ExplorerData against exact sums over the raw rows.

DATES = ["20240102", "20240103", "20240104"]
DIMS = [TIME, "venue", "size", "book"]  # float clock, string, integer and Categorical keys, with nulls
VALUES = ["return_1", "return_30"]
SCALE = 1e4


@st.composite
def markout_rows(draw, max_rows: int = 40) -> pl.DataFrame:
    """Raw rows: several dates, shuffled, null keys, null and NaN returns, zero weights, ties."""
    n = draw(st.integers(1, max_rows))

    def column(strategy):
        return draw(st.lists(strategy, min_size=n, max_size=n))

    # returns on a grid of 0.1 bp, as prices on a tick grid give: equal returns are equal floats
    value = st.one_of(st.integers(-50, 50).map(lambda k: k * 1e-5), st.none(), st.just(math.nan))
    return pl.DataFrame(
        {
            "date": column(st.sampled_from(DATES)),
            TIME: column(st.integers(0, 14_399).map(float)),
            "venue": column(st.sampled_from(["a", "b", None])),
            "size": column(st.one_of(st.integers(0, 2), st.none())),
            "book": column(st.sampled_from(["x", "y"])),
            "qty": column(st.integers(0, 500).map(float)),
            **{v: column(value) for v in VALUES},
        },
        schema_overrides={"venue": pl.String, "size": pl.Int64, "book": pl.Categorical}
        | dict.fromkeys(VALUES, pl.Float64),
    )


def _floored(rows: pl.DataFrame) -> pl.DataFrame:
    """Half-hour left edges in the time column (the unfloored time kept as t_raw, for the clusters)."""
    return rows.with_columns(
        pl.col(TIME).map_elements(lambda t: math.floor(t / 1800) * 1800.0, return_dtype=pl.Float64),
        t_raw=pl.col(TIME),
    )


def _in_dates(rows: pl.DataFrame, dates: list[int] | None) -> pl.DataFrame:
    present = sorted(rows["date"].unique())
    lo, hi = (0, len(present) - 1) if dates is None else dates
    return rows.filter(pl.col("date").is_between(pl.lit(present[lo]), pl.lit(present[hi])))


def _exact(triples: list[tuple[float, float, object]]) -> dict:
    """Mean, clustered se, t and cluster count of (value, weight, cluster) triples in exact fractions.

    The cluster-robust standard error of a (weighted) mean, CR1: ``G / (G - 1)`` times the sandwich
    ``sum_g (sum_{i in g} w_i (x_i - mean))**2 / W**2``, over the ``G`` clusters holding a value.
    """
    pairs = [(Fraction(x), Fraction(w), g) for x, w, g in triples]
    big_w = sum(w for _, w, _ in pairs)
    if not pairs or big_w == 0:
        return {"mean": None, "se": None, "t": None, "zero_se": False, "clusters": 0}
    mean = sum(w * x for x, w, _ in pairs) / big_w
    sums: dict = {}
    for x, w, g in pairs:
        sums[g] = sums.get(g, Fraction(0)) + w * (x - mean)
    clusters = len(sums)
    q = sum(s * s for s in sums.values())
    if clusters < 2 or q == 0:
        return {"mean": float(mean), "se": None, "t": None, "zero_se": clusters > 1, "clusters": clusters}
    se = math.sqrt(Fraction(clusters, clusters - 1) * q) / float(big_w)
    return {"mean": float(mean), "se": se, "t": float(mean) / se, "zero_se": False, "clusters": clusters}


def _cluster_of(in_view: list[dict]):
    """The explorer's clusters: the date when the rows in view span several, else the half hour."""
    if len({r["date"] for r in in_view}) > 1:
        return lambda r: r["date"]
    return lambda r: math.floor(r["t_raw"] / 1800)


def _entered(rows: list[dict], value: str, weight: str | None, cluster) -> list[tuple[float, float, object]]:
    """The (value, weight, cluster) triples that enter a statistic: non-missing values of positive weight."""
    out = []
    for r in rows:
        x, w = r[value], 1.0 if weight is None else r[weight]
        if x is not None and not math.isnan(x) and w > 0:
            out.append((x, w, cluster(r)))
    return out


def _reference_cells(
    rows, view, weight, dates, *, counted_by: str | None = None, partial: bool = False
) -> dict:
    """(x, y) -> (stat, count, zero spread, clusters, has a se) over the raw rows of the date range.

    ``mean`` and ``count`` are unweighted (values counted by ``counted_by``: positive weights of a
    weighted partial table); the other statistics use ``weight``. Raw rows are clustered as the
    explorer says (:func:`_cluster_of`); partials by their dates.
    """
    x, y, value, statistic = view
    in_view = list(_floored(_in_dates(rows, dates)).iter_rows(named=True))
    cluster = (lambda r: r["date"]) if partial else _cluster_of(in_view)
    groups: dict = {}
    for r in in_view:
        groups.setdefault((r[x], r[y]), []).append(r)
    use = weight if statistic in ("weighted mean", "sum of weight", "t-stat") else counted_by
    out = {}
    for key, members in groups.items():
        triples = _entered(members, value, use, cluster)
        exact = _exact(triples)
        stat = {
            "mean": None if exact["mean"] is None else exact["mean"] * SCALE,
            "weighted mean": None if exact["mean"] is None else exact["mean"] * SCALE,
            "sum of weight": None if weight is None else sum(r[weight] for r in members),
            "count": float(len(triples)),
            "t-stat": exact["t"],
        }[statistic]
        out[key] = (stat, len(triples), exact["zero_se"], exact["clusters"], exact["se"] is not None)
    return out


def _assert_same(got: float | None, want: float | None, zero_se: bool = False) -> None:
    if zero_se:  # exactly zero spread: t is undefined, or a rounding residue's huge number
        assert got is None or abs(got) > 1e6
    elif want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-6, abs=1e-9)


def _partials(rows: pl.DataFrame, weight: str | None, dims: list[str] = DIMS) -> pl.DataFrame:
    """What a batch writes: vf.summarize per date by half-hour left edges and the keys, concatenated."""
    parts = [
        vf.summarize(_floored(rows.filter(pl.col("date") == day)), ["date", *dims], VALUES, weight=weight)
        for day in sorted(rows["date"].unique(), reverse=True)
    ]
    return pl.concat(parts)


views = st.tuples(
    st.permutations(DIMS).map(lambda d: d[:2]),
    st.sampled_from(VALUES),
    st.sampled_from(STATISTICS),
    st.booleans(),
)


@st.composite
def date_ranges(draw, rows: pl.DataFrame) -> list[int] | None:
    n = rows["date"].n_unique()
    if draw(st.booleans()):
        return None
    lo = draw(st.integers(0, n - 1))
    return [lo, draw(st.integers(lo, n - 1))]


def _needs_weight(statistic: str) -> bool:
    return statistic in ("weighted mean", "sum of weight")


@given(rows=markout_rows(), view=views, data=st.data())
def test_cells_of_raw_rows_equal_exact_sums(rows, view, data):
    """Every statistic per (X, Y) cell of raw rows, in a date range, equals the reference."""
    (x, y), value, statistic, weighted = view
    weight = "qty" if weighted or _needs_weight(statistic) else None
    dates = data.draw(date_ranges(rows))
    got = ExplorerData.from_table(rows, market=None).cells(x, y, value, statistic, weight=weight, dates=dates)
    want = _reference_cells(rows, (x, y, value, statistic), weight, dates)
    assert {(r[x], r[y]): r["count"] for r in got.iter_rows(named=True)} == {k: v[1] for k, v in want.items()}
    for r in got.iter_rows(named=True):
        stat, _, zero_se, clusters, has_se = want[(r[x], r[y])]
        _assert_same(r["stat"], stat, statistic == "t-stat" and zero_se)
        assert r["clusters"] == clusters
        if not zero_se:  # the band of the cell's mean on hover, or why there is none
            assert r["band"].startswith("no band") == (not has_se)


@given(rows=markout_rows(), view=views, data=st.data())
def test_cells_of_partials_equal_exact_sums(rows, view, data):
    """Partial tables of vf.summarize (one per date, keyed by half-hour left edges) give the same cells,
    with t-stats clustered by date when the partials are cut by (date, X, Y) only, and none (with the
    reason) when they are cut finer: rows of one date cut by other keys cannot be merged into one cluster."""
    (x, y), value, statistic, weighted = view
    weight = "qty" if weighted or _needs_weight(statistic) else None
    finer = data.draw(st.booleans())
    dims = DIMS if finer else [d for d in DIMS if d in (x, y)]
    explorer_data = ExplorerData.from_table(_partials(rows, weight, dims), market=None)
    assert explorer_data.weights == ["weight" if weight else None]  # the summed weight column
    assert explorer_data.dims == dims
    assert explorer_data.dates == sorted(rows["date"].unique())
    dates = data.draw(date_ranges(rows))
    named = weight and "weight"
    if weight is not None and statistic == "mean":
        with pytest.raises(VizflowError, match="weighted mean"):
            explorer_data.cells(x, y, value, statistic, weight=named, dates=dates)
        return
    got = explorer_data.cells(x, y, value, statistic, weight=named, dates=dates)
    want = _reference_cells(rows, (x, y, value, statistic), weight, dates, counted_by=weight, partial=True)
    assert {(r[x], r[y]): r["count"] for r in got.iter_rows(named=True)} == {k: v[1] for k, v in want.items()}
    for r in got.iter_rows(named=True):
        stat, _, zero_se, clusters, _ = want[(r[x], r[y])]
        if finer and statistic == "t-stat":
            assert r["stat"] is None
            assert "also cut by" in r["band"]
        else:
            _assert_same(r["stat"], stat, statistic == "t-stat" and zero_se)
        assert r["clusters"] == (None if finer else clusters)


def _as_json(cell: tuple) -> list:
    """A cell key as the page sends it back: JSON, where 1800.0 arrives as 1800."""
    return json.loads(json.dumps([int(k) if isinstance(k, float) and k.is_integer() else k for k in cell]))


@given(rows=markout_rows(), dims=st.permutations(DIMS), weighted=st.booleans(), partial=st.booleans(),
       data=st.data())  # fmt: skip
def test_decay_of_a_selection_equals_exact_sums(rows, dims, weighted, partial, data):
    """The markout curve, rows, weight and share of selected cells equal the reference over their rows."""
    x, y = dims[:2]
    weight = "qty" if weighted else None
    source = _partials(rows, weight) if partial else rows
    explorer_data = ExplorerData.from_table(source, market=None)
    dates = data.draw(date_ranges(rows))
    in_range = _floored(_in_dates(rows, dates))
    cells = sorted({(r[x], r[y]) for r in in_range.iter_rows(named=True)}, key=repr)
    chosen = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(cells), min_size=1, unique=True)))
    selection = None if chosen is None else [_as_json(c) for c in chosen]
    curve, totals = explorer_data.decay(x, y, selection, weight=weight and ("weight" if partial else weight),
                                        dates=dates)  # fmt: skip

    in_view = list(in_range.iter_rows(named=True))
    picked = [r for r in in_view if chosen is None or (r[x], r[y]) in chosen]
    total = sum(r["qty"] for r in in_range.iter_rows(named=True)) if weight else float(in_range.height)
    mine = sum(r["qty"] for r in picked) if weight else float(len(picked))
    assert totals["rows"] == len(picked)
    assert totals["weight"] == pytest.approx(mine, rel=1e-12)
    assert totals["share"] == (None if total == 0 else pytest.approx(mine / total, rel=1e-12))
    assert curve["horizon"].to_list() == [1.0, 30.0]
    cluster = _cluster_of(in_view)
    several = len({r["date"] for r in in_view}) > 1
    assert totals["clustered_by"] == ("date" if partial or several else "half hour")
    for value, row in zip(VALUES, curve.iter_rows(named=True), strict=True):
        triples = _entered(picked, value, weight, cluster)
        exact = _exact(triples)
        assert row["n"] == len(triples)
        _assert_same(row["mean"], None if exact["mean"] is None else exact["mean"] * SCALE)
        if partial:  # partials by (date, every dim) merged into one curve: no honest clustered se
            assert (row["se"], row["clusters"], row["half"]) == (None, None, None)
            assert "also cut by" in row["band"]
        elif exact["zero_se"]:
            assert row["se"] is None or row["se"] < 1e-9
        else:
            assert row["clusters"] == exact["clusters"]
            _assert_same(row["se"], None if exact["se"] is None else exact["se"] * SCALE)
            if exact["se"] is None:
                assert row["half"] is None
                assert row["band"].startswith("no band")
            else:
                half = scipy_t.ppf(0.975, exact["clusters"] - 1) * exact["se"] * SCALE
                assert row["half"] == pytest.approx(half, rel=1e-9)


@given(rows=markout_rows(), dims=st.permutations(DIMS), min_count=st.integers(1, 4))
def test_min_count_hides_cells_and_their_selection(rows, dims, min_count):
    """Cells of fewer than min_count values are hidden (the title counts them) and offer nothing to select."""
    x, y = dims[:2]
    fig = heatmap_figure(ExplorerData.from_table(rows, market=None), x, y, "return_1", "mean",
                         min_count=min_count)  # fmt: skip
    counts = {k: v[1] for k, v in _reference_cells(rows, (x, y, "return_1", "mean"), None, None).items()}
    placed = {k: n for k, n in counts.items() if None not in k}
    shown = {k for k, n in placed.items() if n >= min_count}
    markers = {tuple(c) for t in fig.data if t.name == "cells" for c in t.customdata}
    assert markers == shown
    hidden = sum(1 for n in placed.values() if 0 < n < min_count)
    assert (f"{hidden} cells with < {min_count} values hidden" in fig.layout.title.text) == (hidden > 0)


def test_explorer_dates_of_type_date_filter_by_value():
    """A date range over pl.Date dates selects the dates by value, as over string dates."""
    rows = pl.DataFrame(
        {"date": [dt.date(2024, 1, d) for d in (2, 3, 3, 4)], "side": [1, 1, -1, 1], "venue": ["a"] * 4,
         "return_5": [1e-4, 3e-4, 5e-4, 7e-4]}
    )  # fmt: skip
    data = ExplorerData.from_table(rows, market=None, scale=1)
    assert data.dates == [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    one_day = data.cells("side", "venue", "return_5", "mean", dates=[1, 1])
    assert one_day.select("side", "venue", "stat", "count").rows() == [(-1, "a", 5e-4, 1), (1, "a", 3e-4, 1)]
    curve, totals = data.decay("side", "venue", [[1, "a"]], dates=[1, 2])
    assert curve["mean"].to_list() == [pytest.approx(5e-4)]
    assert {k: totals[k] for k in ("rows", "weight", "share", "clustered_by")} == {
        "rows": 2, "weight": 2.0, "share": pytest.approx(2 / 3), "clustered_by": "date"
    }  # fmt: skip
    assert curve["clusters"].to_list() == [2]


def _tiny() -> pl.DataFrame:
    return pl.DataFrame(
        {"side": [1, -1, 1], "venue": ["a", "a", "b"], "qty": [1.0, 2.0, 3.0], "return_5": [1e-4, 2e-4, 3e-4]}
    )


def test_explorer_without_return_columns_names_them():
    with pytest.raises(ColumnNotFoundError, match=r"no return_<horizon> column in \['side', 'venue'\]"):
        ExplorerData.from_table(pl.DataFrame({"side": [1], "venue": ["a"]}))
    with pytest.raises(SchemaError, match="'return_fast' does not end in a horizon"):
        ExplorerData.from_table(_tiny().rename({"return_5": "return_fast"}))


def test_explorer_unknown_x_column_is_named():
    data = ExplorerData.from_table(_tiny(), market=None)
    expected = r"explorer: 'price' is not one of the X/Y columns \['side', 'venue'\]"
    with pytest.raises(ColumnNotFoundError, match=expected):
        data.cells("price", "venue", "return_5", "mean")
    with pytest.raises(ColumnNotFoundError, match=expected):
        data.decay("price", "venue", None)
    with pytest.raises(ColumnNotFoundError, match=expected):
        vz.explorer(_tiny(), x="price")
    with pytest.raises(VizflowError, match="X and Y are both 'side'"):
        data.cells("side", "side", "return_5", "mean")


def test_explorer_bad_statistic_value_or_weight_is_refused():
    data = ExplorerData.from_table(_tiny(), market=None)
    with pytest.raises(VizflowError, match=r"statistic 'median' is not one of \['mean'"):
        data.cells("side", "venue", "return_5", "median")
    with pytest.raises(VizflowError, match=r"'weighted mean' needs a weight column; pick one of \['qty'\]"):
        data.cells("side", "venue", "return_5", "weighted mean")
    with pytest.raises(ColumnNotFoundError, match=r"value 'return_60' is not one of .*\['return_5'\]"):
        data.cells("side", "venue", "return_60", "mean")
    with pytest.raises(ColumnNotFoundError, match="weight 'size' is not one of the weight columns"):
        data.cells("side", "venue", "return_5", "weighted mean", weight="size")


def test_regression_weighted_partial_asked_for_its_raw_weight_names_the_weight_column():
    """A weighted partial table asked for weight 'qty' said "unweighted statistics are not recoverable"."""
    partial = vf.summarize(_tiny(), ["side", "venue"], "return_5", weight="qty")
    data = ExplorerData.from_table(partial, market=None)
    with pytest.raises(ColumnNotFoundError, match="weight 'qty' is not a column of this partial table"):
        data.cells("side", "venue", "return_5", "weighted mean", weight="qty")
    with pytest.raises(VizflowError, match="not recoverable from it: pick 'weighted mean'"):
        data.cells("side", "venue", "return_5", "mean")
    with pytest.raises(VizflowError, match="sign='side' needs raw rows"):
        ExplorerData.from_table(partial, sign="side")


def test_explorer_selection_matching_nothing_is_an_error_in_place():
    """A box over no cell: the data layer refuses it, and the page shows why in the decay panel."""
    data = ExplorerData.from_table(_tiny(), market=None)
    with pytest.raises(VizflowError, match="the selection holds no cell of 'side' x 'venue' with rows"):
        data.decay("side", "venue", [[-1, "b"]])
    with pytest.raises(VizflowError, match="the selection holds no cell"):
        data.decay("side", "venue", [])
    app = vz.explorer(_tiny(), min_count=1)
    callbacks = {key: spec["callback"].__wrapped__ for key, spec in app.callback_map.items()}
    draw_decay = next(f for key, f in callbacks.items() if "vf-decay.figure" in key)
    empty_box = {"range": {"x": [5, 6], "y": [5, 6]}, "points": []}
    fig, totals = draw_decay(empty_box, "side", "venue", "", None)
    assert (
        "panel 'decay' failed: VizflowError: explorer: the selection holds no cell" in fig.layout.title.text
    )
    assert totals.startswith("decay failed: VizflowError")
    fig, totals = draw_decay(None, "side", "venue", "", None)  # no box: the whole table
    assert (
        totals
        == "markout of the whole table: 3 rows (100.0% of the total); 95% CI, 1 cluster (no band where < 2)"
    )
    draw_heatmap = next(f for key, f in callbacks.items() if "vf-heatmap.figure" in key)
    fig, _ = draw_heatmap("side", "side", "return_5", "mean", "", 1, None)
    assert "panel 'heatmap' failed" in fig.layout.title.text


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=NO_BROWSER)
def test_explorer_date_range_in_the_page_filters_by_date(browser, server, rows):
    """Moving the slider's upper handle one date left: the label names the dates, the numbers follow."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    _heatmap(browser)
    handles = _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#vf-dates [role='slider']"))
    handles[-1].send_keys(Keys.ARROW_LEFT)
    label = browser.find_element(By.ID, "vf-dates-label")
    assert _wait(browser, lambda: "2 of 3" in label.text and label.text) == (
        "20230201 .. 20230202 (2 of 3 dates)"
    )
    two_days = rows.filter(pl.col("date").is_in(["20230201", "20230202"]))
    shown = _decay(browser, lambda s: s["meta"] and s["meta"]["rows"] != rows.height and s)
    assert shown["meta"]["rows"] == two_days.height
    assert f"{two_days.height:,} rows (100.0% of the total)" in shown["totals"]
    _assert_curve(shown, _reference_decay(two_days))  # t(0.975, 1) = 12.71 se: two dates say little
    assert shown["meta"]["band"] == "95% CI, clustered by date, 2 dates"
    state = _wait(  # the heatmap redrawn over the two days: its counts add up to their rows
        browser,
        lambda: (
            (s := browser.execute_script(_HEATMAP))
            and sum(n for row in s["custom"] for (_, _, n, *_) in row) == two_days.height
            and s
        ),
    )
    cells = _expected_cells(two_days, "half_hour", "symbol", 1)
    _assert_cells(state, cells, state["x"][:-1], list(state["y"]))


def _component(layout, ident: str):
    """The component of the page with this id."""
    if getattr(layout, "id", None) == ident:
        return layout
    children = getattr(layout, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is None or isinstance(child, str):
            continue
        found = _component(child, ident)
        if found is not None:  # a component without children is falsy (its len() is 0)
            return found
    return None


def test_regression_explorer_opens_weighted_partials_on_the_weighted_mean():
    """vz.explorer (and `vizflow explore` on a batch's folder) of vf.summarize(..., weight=) partials
    raised "the unweighted statistics ('mean') are not recoverable" before showing anything."""
    partial = vf.summarize(_tiny(), ["side", "venue"], "return_5", weight="qty")
    app = vz.explorer(partial, min_count=1)
    assert _component(app.layout, "vf-stat").value == "weighted mean"
    assert _component(app.layout, "vf-weight").value == "weight"
    assert _component(vz.explorer(_tiny(), min_count=1).layout, "vf-stat").value == "mean"
    with pytest.raises(VizflowError, match="not recoverable"):  # asked for explicitly, still refused
        vz.explorer(partial, statistic="mean")


def test_regression_explorer_opens_forward_return_output_with_its_close():
    """vz.explorer (and `vizflow explore`) raised SchemaError on forward_return's own output, which has
    return_close; the close is now a value of its own and a diamond right of the decay curve."""
    quotes = pl.DataFrame({"sym": ["a"] * 4, "t": [0.0, 1.0, 2.0, 9.0], "mid": [10.0, 10.1, 10.2, 10.4]})
    trades = pl.DataFrame({"sym": ["a"] * 3, "t": [0.0, 1.0, 2.0], "price": [10.0, 10.0, 10.1],
                           "side": [1, -1, 1], "venue": ["x", "y", "x"], "kind": [0, 1, 1]})  # fmt: skip
    out = vf.forward_return(
        trades, [1, "close"], "price", "t", "sym", reference=quotes, reference_price_col="mid"
    )
    assert "return_close" in out.columns
    data = ExplorerData.from_table(out, market=None, sign="side", time="t", columns=["venue", "kind"])
    assert data.values == {"return_1": 1.0, "return_close": None}
    app = vz.explorer(out, sign="side", time="t", columns=["venue", "kind"], min_count=1)
    assert list(_component(app.layout, "vf-value").options) == ["return_1", "return_close"]
    fig = decay_figure(data, "venue", "kind", None)
    mean, _, _, close = fig.data
    assert list(mean.x) == [1.0]
    assert close.marker.symbol == "diamond"
    assert close.x[0] > 1.0
    assert fig.layout.xaxis.ticktext[-1] == "close"
    # (10.4 - 10) / 10, -(10.4 - 10) / 10, (10.4 - 10.1) / 10.1, in bp, in the trades' direction
    assert close.y[0] == pytest.approx((400 - 400 + 1e4 * 0.3 / 10.1) / 3, rel=1e-9)


def test_explorer_on_one_date_clusters_by_half_hour_and_says_so():
    """One date in view: the explorer clusters by half hour of the session clock (several dates: by
    date); a cell or horizon of one half hour has no band, and its hover says why."""
    rows = pl.DataFrame(
        {"date": ["d1"] * 4 + ["d2"] * 2, TIME: [0.0, 100.0, 1900.0, 4000.0, 10.0, 20.0],
         "venue": ["a", "a", "a", "b", "a", "b"], "side": [1] * 6,
         "return_1": [1e-4, 2e-4, 6e-4, 5e-4, 4e-4, 1e-4]}
    )  # fmt: skip
    data = ExplorerData.from_table(rows, market=None, scale=1e4)
    one_day = data.cells("venue", "side", "return_1", "mean", dates=[0, 0])
    assert one_day.select("venue", "clusters").rows() == [("a", 2), ("b", 1)]  # half hours 0, 1 | 2
    assert one_day["band"][1] == "no band: 1 half hour (a clustered CI needs 2 or more)"
    # cell a of d1: 1, 2, 6 bp in half hours [0, 0, 1]: sums of deviations -3, 3 around 3; CR1
    half = scipy_t.ppf(0.975, 1) * math.sqrt(2 / 1 * (9 + 9)) / 3
    assert one_day["band"][0] == f"+/- {half:.3g} (95% CI: t(1) 12.71 x se 2, 2 half hours)"
    curve, totals = data.decay("venue", "side", None, dates=[0, 0])
    assert (totals["clustered_by"], curve["clusters"].to_list()) == ("half hour", [3])
    assert "the rows in view hold one date" in totals["clustering"]
    both, totals = data.decay("venue", "side", None)
    assert (totals["clustered_by"], both["clusters"].to_list()) == ("date", [2])
    fig = decay_figure(data, "venue", "side", None, dates=[0, 0])
    assert fig.layout.meta["band"] == "95% CI, clustered by half hour, 3 half hours"
    assert "clustered by half hour of the session clock" in fig.layout.title.text
    heat = heatmap_figure(data, "venue", "side", "return_1", "t-stat", min_count=1, dates=[0, 0])
    assert (
        "<sup>95% CI, clustered by half hour, 1-2 half hours (no band where < 2)</sup>"
        in heat.layout.title.text
    )
    hover = {cell[0]: cell[4] for row in heat.data[0].customdata for cell in row if cell[2]}
    assert hover["b"] == "no band: 1 half hour (a clustered CI needs 2 or more)"
    app = vz.explorer(rows, min_count=1)
    assert (
        "by half hour of the session clock when they are one" in _component(app.layout, "vf-bands").children
    )


def test_explorer_labels_show_what_a_bin_holds():
    """`vizflow explore --bin-labels log_qty_bin=0.5,log10,shares` (vz.explorer(labels=...)): a binned
    column as Y reads as the share range of each bin; as X, or unlabelled, it is unchanged."""
    rows = pl.DataFrame({"log_qty_bin": [4, 4, 6], "side": [1, -1, 1], "return_1": [1e-4, 2e-4, 3e-4]})
    column, shares = bin_labels_from_spec("log_qty_bin=0.5,log10,shares")
    assert column == "log_qty_bin"
    data = ExplorerData.from_table(rows, market=None)
    fig = heatmap_figure(
        data, "side", "log_qty_bin", "return_1", "mean", min_count=1, labels={column: shares}
    )
    assert list(fig.layout.yaxis.ticktext) == ["56.2-178 shares", "178-562 shares", "562-1,780 shares"]
    assert fig.layout.yaxis.ticktext[0] == vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")(4)
    assert fig.data[0].customdata[0][0][1] == "56.2-178 shares"
    plain = heatmap_figure(
        data, "log_qty_bin", "side", "return_1", "mean", min_count=1, labels={column: shares}
    )
    assert plain.layout.yaxis.ticktext is None
    with pytest.raises(VizflowError, match="is not COLUMN=WIDTH"):
        bin_labels_from_spec("log_qty_bin")
    parser = build_parser()
    args = parser.parse_args(["explore", "x.parquet", "--bin-labels", "log_qty_bin=0.5,log10,shares"])
    assert args.bin_labels == ["log_qty_bin=0.5,log10,shares"]


def test_regression_heatmap_of_rows_whose_keys_are_all_null_is_an_empty_figure():
    """A view whose every row has a null X or Y key drew nothing and then failed naming its trace."""
    rows = pl.DataFrame({"date": ["d1"], TIME: [0.0], "size": pl.Series([None], dtype=pl.Int64), "side": [1],
                         "return_1": [0.0]})  # fmt: skip
    fig = heatmap_figure(
        ExplorerData.from_table(rows, market=None), TIME, "size", "return_1", "mean", min_count=1
    )
    assert len(fig.data) == 0
    assert "no rows to plot" in fig.layout.title.text
