"""The dashboard and the report in a real headless Chromium (Debian's chromium + chromium-driver, no download).

A real sweep runs on real Redis and workers while the browser watches: the sweep list, the five charts, the
decisions table and the best trial must be there, and the progress figure must change. A sweep name and a
parameter value holding <script> must show as text. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

from tests.integration.conftest import ROOT, SWEEPQ, Cluster, wait_until

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "test-artifacts"
EVIL = "<script>window.__pwned = 1</script>"
CHARTS = ("metrics", "parallel", "scatter2d", "scatter3d", "importance")


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (scripts/test installs them)")
    return browser, driver


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,2400",
                "--enable-unsafe-swiftshader"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(driver: Any, selector: str) -> str:
    """The element's text, or "" while the live view is re-rendering it (a stale or missing element)."""
    try:
        return str(driver.find_element("css selector", selector).text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def click_header(driver: Any, prefix: str) -> bool:
    """Click the trials table's column header whose text starts with prefix; False if the table re-rendered."""
    try:
        next(th for th in driver.find_elements("css selector", "#trials th") if th.text.startswith(prefix)).click()
    except (StaleElementReferenceException, StopIteration):
        return False
    return True


def rendered_charts(driver: Any) -> list[str]:
    """The charts whose plotly DOM (the main SVG) exists."""
    return [key for key in CHARTS if driver.find_elements("css selector", f"#chart-{key} .main-svg")]


def test_dashboard_shows_a_running_sweep_live_and_the_report_works_offline(cluster: Cluster, browser: Any, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(
        name=f"browser {EVIL}",
        trial={"function": "tests.integration.trials:labelled_curve"},
        parameters={"x": {"uniform": [0.1, 1.0]}, "kind": {"choice": ["plain", EVIL]}, "pause": {"choice": [0.25]}},
        early_termination={"policy": "median", "delay_evaluation": 2},
        limits={"max_total_runs": 14, "max_concurrent_runs": 2},
    )
    sweep = cluster.client.submit(spec)
    port = free_port()
    dashboard = cluster.spawn("dashboard", "--port", str(port), log="dashboard.log")
    base = f"http://127.0.0.1:{port}/"
    wait_until(lambda: _answers(base), 30, "the dashboard to answer")
    ARTIFACTS.mkdir(exist_ok=True)

    browser.get(base)
    wait_until(lambda: sweep.id in browser.find_element("id", "sweeps").text, 20, "the sweep in the sweep list")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-sweeps.png"))

    browser.get(f"{base}sweeps/{sweep.id}")
    wait_until(lambda: len(rendered_charts(browser)) == 5, 30, "the five charts")
    first = browser.find_element("id", "progress").text
    wait_until(lambda: browser.find_element("id", "progress").text != first, 30, "the progress figure to change")
    sweep.wait(timeout=120, progress=False)
    wait_until(lambda: browser.find_element("id", "progress").text.startswith("14 / 14"), 20, "the final progress")
    wait_until(lambda: browser.find_elements("css selector", "#decisions tbody tr"), 10, "decisions in the table")
    assert browser.find_element("id", "best-params").text.strip().startswith("{")
    assert EVIL in browser.find_element("id", "name").text  # shown as text
    assert browser.execute_script("return window.__pwned") is None  # and never run
    assert {t["status"] for t in sweep.trials()} <= {"completed", "stopped"}
    if any(t["params"]["kind"] == EVIL for t in sweep.trials()):
        assert EVIL in browser.find_element("id", "trials").text
    browser.save_screenshot(str(ARTIFACTS / "dashboard-sweep.png"))
    # the table is paged and sorted by the dashboard: a click on the metric's column twice puts the highest first
    top = max((t for t in sweep.trials() if t["value"] is not None), key=lambda t: t["value"])["number"]
    for _ in range(2):
        wait_until(lambda: click_header(browser, "score"), 10, "a click on the metric's column")
        wait_until(lambda: text_of(browser, "#trials th:nth-child(3)").startswith("score "), 10, "the sort mark")
    wait_until(lambda: text_of(browser, "#trials tbody td") == str(top), 10, "the best first")
    assert "trials 1\u201314 of 14" in browser.find_element("id", "trials-pager").text  # an en dash
    dashboard.terminate()

    report = tmp_path / "report.html"
    out = subprocess.run([*SWEEPQ, "report", sweep.id, "-o", str(report)], env=cluster.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    browser.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    browser.get(report.as_uri())
    wait_until(lambda: len(rendered_charts(browser)) == 5, 30, "the five charts in the offline report")
    assert browser.execute_script("return window.__pwned") is None
    assert EVIL in browser.find_element("id", "name").text
    assert browser.find_elements("css selector", "#decisions tbody tr")
    assert len(browser.find_elements("css selector", "#trials tbody tr")) == 14  # the embedded rows, paged locally
    assert "of 14" in browser.find_element("id", "trials-pager").text
    browser.save_screenshot(str(ARTIFACTS / "report.png"))


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
