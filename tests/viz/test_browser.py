"""End to end: `arena viz` serves the browser; headless Chromium shows the leaderboard and runs no model HTML."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from arena import browse as vd

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path("/tmp/arena_viz_battle.png")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"arena viz exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"arena viz did not answer on {url} within {timeout:.0f}s")


@pytest.fixture()
def driver(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("needs Debian chromium + chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: pip install selenium")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield drv
    drv.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def _wait_for_text(drv, text: str, timeout: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = drv.find_element("tag name", "body").text
        if text in body:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not on the page after {timeout:.0f}s; page text: {body[:500]!r}")


def test_arena_viz_in_chromium(run_dir: Path, driver) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from arena.cli import main; main()", "viz", str(run_dir), "--port", str(port),
         "--host", "127.0.0.1"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_http(url, proc)
        driver.get(url)  # the leaderboard is the default page
        _wait_for_text(driver, "Run facts")
        body = _wait_for_text(driver, "rating (95% interval)")  # the chart's axis title; tables are a canvas
        assert "gamma" in body and "Page not found" not in body

        t = vd.load_source(run_dir).table
        bid = t[(t["model_a"] == "beta") & (t["question_id"] == "q1") & (t["turn"] == 1)]["bid"].iloc[0]
        driver.get(f"{url}/battles?battle={bid}")
        body = _wait_for_text(driver, "What is 2+2?")
        _wait_for_text(driver, "Judge's explanation")
        assert "window.__pwned=1" in driver.find_element("tag name", "body").text  # shown as text
        assert driver.execute_script("return window.__pwned") is None  # and never run
        driver.save_screenshot(str(SCREENSHOT))
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
