"""The explorer in a real headless Chromium, served by ``vizflow explore`` on the real 600519 sample.

The server is the CLI in a subprocess on a free loopback port (stopped by its PID). The test
changes X, Y, the value and the weight, drags a box on the heatmap (a real mouse selection in
plotly's select mode), and checks every number on the page against plain Polars on the raw rows.
Saves docs/img/explorer.png and docs/img/explorer_selection.png.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time

import polars as pl
import pytest

import vizflow as vf
from tests import test_dashboard
from tests.test_dashboard import CHROMIUM, DRIVER, IMG, _free_port, _wait

browser = test_dashboard.browser  # the same module-scoped headless Chromium fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="no chromium/chromedriver on this machine (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning"),
]

HORIZONS = [1, 5, 30, 60, 300]
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
               "--market", "CN", "--weight", "qty"]  # fmt: skip
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
        x: t.x, y: t.y, z: t.z, custom: t.customdata,
        cells: g.data.length > 1 ? g.data[1].customdata : []};
"""
_DECAY = """
const g = document.querySelector('#vf-decay .js-plotly-plot');
if (!g || !g.data || !g.layout || !g.layout.title) return null;
return {title: g.layout.title.text, meta: g.layout.meta || null,
        traces: g.data.map(t => ({x: t.x, y: t.y})),
        totals: document.getElementById('vf-totals').textContent};
"""


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
        for c, (_, _, n, _) in enumerate(row):
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
    """(mean, se) per horizon, in bp: plain sums over the rows."""
    out = []
    for h in HORIZONS:
        v = part.select(f"bp_{h}", weight or pl.lit(1.0).alias("w")).drop_nulls()
        x, w = v[f"bp_{h}"].to_list(), v[weight or "w"].to_list()
        big_w, big_w2 = sum(w), sum(a * a for a in w)
        mean = sum(a * b for a, b in zip(w, x, strict=True)) / big_w
        m2 = sum(a * (b - mean) ** 2 for a, b in zip(w, x, strict=True))
        std = math.sqrt(m2 / (big_w - big_w2 / big_w))
        out.append((mean, std / math.sqrt(big_w**2 / big_w2)))
    return out


def _assert_curve(state: dict, reference: list) -> None:
    mean, upper, lower = (t["y"] for t in state["traces"])
    assert state["traces"][0]["x"] == [float(h) for h in HORIZONS]
    for k, (m, se) in enumerate(reference):
        assert mean[k] == pytest.approx(m, rel=1e-9)
        assert upper[k] == pytest.approx(m + 1.96 * se, rel=1e-9)
        assert lower[k] == pytest.approx(m - 1.96 * se, rel=1e-9)


def test_explorer_views_selection_and_numbers_match_polars(browser, server, rows):
    browser.set_window_size(1280, 1800)
    browser.get(server)
    first = _heatmap(browser)
    assert first["view"] == [TIME, "symbol", "return_1"]  # default: time on X, the first other column on Y
    whole = _decay(browser, lambda s: s["meta"] and s["meta"]["cells"] is None)
    assert whole["meta"]["rows"] == rows.height
    _assert_curve(whole, _reference_decay(rows))

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
    assert "14:30-15:00" in state["custom"][0][-1][0]
    _assert_cells(
        state, _expected_cells(rows, "half_hour", "log_qty_bin", 60), state["x"][:-1], list(state["y"])
    )
    IMG.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(IMG / "explorer.png"))

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
    browser.save_screenshot(str(IMG / "explorer_selection.png"))
    assert (IMG / "explorer_selection.png").stat().st_size > 10_000

    _choose(browser, "vf-weight", "qty")  # weighted: the selection resets to the whole table
    weighted = _decay(browser, lambda s: s["meta"] and s["meta"]["cells"] is None and "qty" in s["totals"])
    assert weighted["meta"]["weight"] == pytest.approx(float(rows["qty"].sum()), rel=1e-12)
    _assert_curve(weighted, _reference_decay(rows.with_columns(pl.col("qty").cast(pl.Float64)), "qty"))


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
