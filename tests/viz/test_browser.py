"""End to end: `arena viz` serves the browser; headless Chromium shows the leaderboard and runs no model HTML."""

from __future__ import annotations

import json
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
        notes = vd.load_source(run_dir).leaderboard_notes  # arena run wrote them under its leaderboard
        assert notes and all(note in body for note in notes), (notes, body[:2000])
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


def _serve(source: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `arena viz SOURCE` on loopback in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", "from arena.cli import main; main()", "viz", str(source), "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env=env,
    )


def _settled(drv, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished running: no status widget, and the page text unchanged for 1 s."""
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        running = drv.execute_script(
            "return !!document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " || !!document.querySelector('[data-testid=\"stSkeleton\"]')")
        text = drv.find_element("tag name", "body").text
        if running or text != last:
            last, stable_since = text, time.monotonic()
        elif time.monotonic() - stable_since > 1.0:
            return
        time.sleep(0.25)
    raise AssertionError("the page kept running or changing")


def test_vote_twice_with_the_keyboard(run_dir: Path, tmp_path: Path, driver) -> None:  # type: ignore[no-untyped-def]
    import json

    from selenium.webdriver.common.keys import Keys

    run = Path(shutil.copytree(run_dir, tmp_path / "run"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("ARENA_VIZ_TOKEN", "ARENA_VIZ_PASSWORD")}
    proc = _serve(run, port, env)
    try:
        _wait_http(url, proc)
        driver.get(f"{url}/vote")
        _wait_for_text(driver, "Enter your name")
        _settled(driver)
        from selenium.webdriver.support.ui import WebDriverWait

        box = WebDriverWait(driver, 30).until(
            lambda d: d.find_element("css selector", "input[aria-label='Your name']"))
        box.send_keys("keyboard-ann", Keys.ENTER)
        _wait_for_text(driver, "Answer B")
        _settled(driver)
        body = driver.find_element("tag name", "body")
        assert not {"alpha", "beta", "gamma"} & set(body.text.replace("*", " ").split())  # blind
        driver.execute_script("document.activeElement.blur()")
        body.send_keys("a")
        _wait_for_text(driver, "Saved: you said A (left) is better")
        _settled(driver)
        driver.find_element("tag name", "body").send_keys("t")
        _wait_for_text(driver, "Saved: you said a tie")
        _settled(driver)
        driver.save_screenshot(str(tmp_path / "vote.png"))
        driver.refresh()
        _wait_for_text(driver, "2 of 18 games voted by you")
        lines = [json.loads(x) for x in (run / "human_votes.jsonl").read_text().splitlines()]
        assert [(v["label"], v["annotator"]) for v in lines] == [("A", "keyboard-ann"), ("tie", "keyboard-ann")]
        assert lines[0]["game_key"] != lines[1]["game_key"]
        assert lines[1]["winner"] == "tie"
        assert lines[0]["winner"] == ("model_a" if lines[0]["shown_left"] == lines[0]["model_a"] else "model_b")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)


def test_model_names_are_drawn_as_written(tmp_path: Path, driver) -> None:  # type: ignore[no-untyped-def]
    """A model named ``*star*`` was drawn in italics as ``star``, ``$1 and $2`` as maths, ``[x](http://y)`` as a
    link: the battle page's headings and the leaderboard's notes now draw every name as its text."""
    names = ["*star*", "$1 and $2", "[x](http://y)", "plain"]
    pairs = [(0, 1), (1, 2), (2, 3), (0, 3)]  # *star* never loses, plain never wins: notes name them
    rows = [{"model_a": names[a], "model_b": names[b], "winner": "model_a", "question_id": f"q_{k}_"}
            for k, (a, b) in enumerate(pairs)]
    source = tmp_path / "battles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    t = vd.load_source(source).table
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(source, port)
    try:
        _wait_http(url, proc)
        driver.get(url)
        _settled(driver)
        body = driver.find_element("tag name", "body").text
        assert "never lost a battle: *star*" in body, body[:2000]  # a note naming the model
        for name in names[:3]:
            bid = t[t["model_a"] == name]["bid"].iloc[0]
            driver.get(f"{url}/battles?battle={bid}")
            _settled(driver)
            body = driver.find_element("tag name", "body").text
            assert f"A: {name}" in body, (name, body[:2000])
        assert "Question q_2_" in body
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
