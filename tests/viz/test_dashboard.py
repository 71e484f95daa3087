"""The Dash dashboard in a real headless Chromium: render, change the control, see the update.

Needs Debian's chromium and chromium-driver (``.ci/run`` installs them); skips, saying so, only
when they are truly absent. Draws dashboard.png, heatmap.png, mid_600519.png and decay_600519.png
into a temporary folder; ``make figures`` runs these tests with ``VIZFLOW_FIGURES=docs/img`` to
refresh the committed images (``make test`` never writes into the checkout).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import vizflow as vf
import vizflow.viz as vz
from vizflow.viz.heatmap import MIN_COUNT

FIGURES = "VIZFLOW_FIGURES"
"""The environment variable naming the folder the browser tests draw their images into (`make figures`)."""
SHARES = vz.bin_labels(0.5, inverse=lambda v: 10**v, unit="shares")
"""The share range a log10 size bin of width 0.5 holds, for the heatmaps' y axis."""
HALF_HOURS = (pl.col("elapsed_seconds") // 1800).alias("half hour")
"""Clusters of one day's markouts: half hours of the session clock."""
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="no chromium/chromedriver on this machine (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning"),
]


@pytest.fixture(scope="session")
def img(tmp_path_factory) -> Path:
    """The folder browser tests save images to: $VIZFLOW_FIGURES (`make figures`), else a temporary one."""
    folder = Path(os.environ[FIGURES]) if os.environ.get(FIGURES) else tmp_path_factory.mktemp("img")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1800",
        f"--user-data-dir={tempfile.mkdtemp(prefix='vizflow-chromium-')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server():
    app = vz.sample_dashboard()
    port = _free_port()
    thread = threading.Thread(
        target=lambda: app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False), daemon=True
    )
    thread.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}/"


def _figure_state(driver, index: int):
    return driver.execute_script(
        f"const g = document.querySelector('#vf-panel-{index} .js-plotly-plot');"
        "if (!g || !g.data || !g.layout) return null;"
        "return {traces: g.data.length, title: g.layout.title && g.layout.title.text,"
        " control: g.layout.meta && g.layout.meta.vizflow_control,"
        " n: g.data.length ? (g.data[0].x || []).length : 0};"
    )


def _assert_heatmap_covers_the_session(driver, index: int) -> None:
    """In the page, the heatmap's x holds the 9 half-hour edges and the last column is drawn."""
    trace = driver.execute_script(
        f"const g = document.querySelector('#vf-panel-{index} .js-plotly-plot');"
        "return {x: g.data[0].x, z: g.data[0].z, n: g.data[0].customdata};"
    )
    assert trace["x"] == [1800.0 * k for k in range(9)]
    last = [row[-1] for row in trace["z"]]
    assert any(v is not None for v in last)  # 14:30-15:00 has cells (it was blank)
    assert trace["n"][0][-1][0] == "14:30-15:00"


def _wait(driver, predicate, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("the dashboard did not reach the expected state in time")


def test_dashboard_renders_and_updates(browser, server, img):
    from selenium.webdriver.common.by import By

    browser.get(server)

    def all_drawn():
        states = [_figure_state(browser, i) for i in range(3)]
        return states if all(s and s["control"] for s in states) else None

    states = _wait(browser, all_drawn)
    assert [s["control"] for s in states] == [vf.datasets.SAMPLE_DATES[0]] * 3
    assert states[0]["n"] > 100  # the mid path has points
    _assert_heatmap_covers_the_session(browser, 2)
    assert "20230201" in states[0]["title"]
    assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")

    browser.find_element(By.ID, "vf-control").click()  # Dash 4: a button opening a listbox
    option = _wait(
        browser,
        lambda: next(
            (
                o
                for o in browser.find_elements(By.CSS_SELECTOR, "[role=option]")
                if o.text.strip() == "20230203"
            ),
            None,
        ),
    )
    option.click()
    updated = _wait(browser, lambda: (s := _figure_state(browser, 0)) and s["control"] == "20230203" and s)
    assert "20230203" in updated["title"]
    time.sleep(1.0)  # let the heatmap finish drawing before the screenshot
    browser.save_screenshot(str(img / "dashboard.png"))
    assert (img / "dashboard.png").stat().st_size > 10_000


def _render(browser, fig, path: Path, tmp_path: Path) -> None:
    page = tmp_path / f"{path.stem}.html"
    fig.write_html(page, include_plotlyjs="inline", default_width=900, default_height=480)
    browser.set_window_size(960, 720)
    browser.get(page.as_uri())
    _wait(browser, lambda: browser.execute_script("return document.querySelectorAll('.main-svg').length > 0"))
    time.sleep(0.5)
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def _hover_text(browser, x_fraction: float, y_fraction: float) -> str:
    """Move the mouse to a point of the plot area (fractions from its left and bottom); the hover text."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    area = browser.find_element(By.CSS_SELECTOR, ".nsewdrag")
    width, height = area.rect["width"], area.rect["height"]
    dx, dy = int(width * (x_fraction - 0.5)), int(height * (0.5 - y_fraction))
    ActionChains(browser).move_to_element_with_offset(area, dx, dy).perform()
    return _wait(browser, lambda: browser.execute_script(
        "const t = document.querySelector('.hovertext'); return t ? t.textContent : null;"
    ), timeout=10)  # fmt: skip


def test_real_sample_figures_render_to_png(browser, tmp_path, img):
    """The figures of docs/real-data.md and the README, drawn by Chromium from the real sample."""
    day = "20230201"
    trades = vf.parse_time(vf.datasets.cn_sample_trades(day), vf.CN)
    quotes = vf.parse_time(vf.datasets.cn_sample_quotes(day).filter(pl.col("symbol") == "600519.SH"), vf.CN)
    out = vf.forward_return(trades, [1, 5, 30, 60, 300], "price", reference=quotes).filter(
        pl.col("side") != 0
    )
    out = out.with_columns(
        log_qty=pl.col("qty").log10(), signed_60=pl.col("return_60") * pl.col("side") * 1e4
    ).pipe(vf.bin, {"log_qty": 0.5})
    continuous = quotes.filter(pl.col("ticktime").is_between(93000000, 145700000))
    figures = {
        "heatmap.png": vz.heatmap(
            out, "elapsed_seconds", "log_qty_bin", "signed_60", x_width=1800, min_count=MIN_COUNT,
            market=vf.CN, unit="bp", y_labels=SHARES,
            title="600519.SH 2023-02-01: mean 60 s markout (aggressor's direction) by half hour and size",
        ),
        "mid_600519.png": vz.line(
            continuous, "elapsed_seconds", "mid", market=vf.CN, title="600519.SH mid, 2023-02-01"
        ),
        "decay_600519.png": vz.decay(  # one day: clustered by half hour of the session clock
            out, sign="side", cluster=HALF_HOURS, title="600519.SH 2023-02-01: alpha decay"
        ),
    }  # fmt: skip
    heat = figures["heatmap.png"].data[0]
    assert list(heat.x) == [1800.0 * k for k in range(9)]  # cells over 09:30-10:00 ... 14:30-15:00
    assert any(row[-1] is not None for row in heat.z)  # the last afternoon half hour is drawn
    for name, fig in figures.items():
        _render(browser, fig, img / name, tmp_path)
        if name == "heatmap.png":  # the last column, on the row of the most common size (bin 4)
            rows = len(heat.y)
            text = _hover_text(browser, 7.5 / 8, (list(heat.y).index(4) + 0.5) / rows)
            n = heat.customdata[list(heat.y).index(4)][-1][2]
            assert text.startswith(
                f"elapsed_seconds: 14:30-15:00log_qty_bin: {SHARES(4)}mean signed_60 (bp): "
            )
            assert text.endswith(f"n: {n}")
            assert n > 0
    browser.set_window_size(1280, 1800)


def test_write_image_works_with_the_viz_extra(tmp_path):
    """fig.write_image needed kaleido, which no extra installed; the viz extra has it now."""
    pytest.importorskip("kaleido")
    df = pl.DataFrame({"elapsed_seconds": [10.0, 14399.0], "s": [1, 1], "z": [1.0, -1.0]})
    fig = vz.heatmap(df, "elapsed_seconds", "s", "z", x_width=1800, market=vf.CN)
    fig.write_image(tmp_path / "h.png", width=600, height=300)
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
