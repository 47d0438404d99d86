"""The charts as pictures: headless Chromium opens each page on 3, 20 and 60 models and reads the SVG.

For each size a battles file is made (synthetic, seeded; some model names 50 characters long), `arena viz`
serves it, and each page is checked once Streamlit has finished running: every chart has a sane rendered
size that grows with the models, and every model's label is text in the chart. Screenshots are kept
under ``$ARENA_TEST_ARTIFACTS`` (else the test's tmp dir); the path is printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.viz.test_browser import _free_port, _serve, _settled, _wait_http, driver  # noqa: F401
from viz.charts import short_names

pytestmark = pytest.mark.browser

CHARTS_JS = """
const labels = new Set(arguments[0]);
function overlap(a, b) {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > 1 && h > 1;
}
return Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]')).map(el => {
  const r = el.getBoundingClientRect();
  const svg = el.querySelector('svg');
  const texts = svg ? Array.from(svg.querySelectorAll('text')) : [];
  // Vega hides overlapping axis labels with opacity 0: those do not count as shown
  const named = texts.filter(t => labels.has(t.textContent) && t.getBoundingClientRect().height > 0
                                  && getComputedStyle(t).opacity !== "0")
                     .map(t => ({text: t.textContent, box: t.getBoundingClientRect()}));
  const clashes = [];
  for (let i = 0; i < named.length; i++)
    for (let j = i + 1; j < named.length; j++)
      if (named[i].text !== named[j].text && overlap(named[i].box, named[j].box))
        clashes.push([named[i].text, named[j].text, JSON.stringify(named[i].box), JSON.stringify(named[j].box)]);
  return {w: r.width, h: r.height, svg: !!svg, texts: texts.map(t => t.textContent), clashes: clashes,
          shown: named.map(n => n.text)};
}).filter(c => c.w > 0 && c.h > 0);
"""


PROBLEMS_JS = """
const boxes = Array.from(document.querySelectorAll(
  '[data-testid="stException"], [data-testid="stDialog"], [role="dialog"], [role="alertdialog"]'));
const text = document.body.innerText;
const found = boxes.map(b => b.innerText.slice(0, 300));
if (text.includes("Page not found")) found.push("Page not found: " + text.substr(text.indexOf("Page not found"), 300));
return found;
"""
"""Streamlit's "Page not found" dialog and exception boxes on the page (their text, empty when none)."""
PAGE_PATHS = ["", "leaderboard", "matchups", "battles", "judge", "vote", "people", "single"]
"""Every page's URL path ("": the default page), as viz/app.py registers them."""


def problems(drv) -> list[str]:  # type: ignore[no-untyped-def]
    return list(drv.execute_script(PROBLEMS_JS))


def model_names(n: int) -> list[str]:
    """``n`` names; every fifth is a long one of the kind hub ids have (same prefix, different endings)."""
    return [f"some-research-lab/a-rather-long-model-name-instruct-v{i:02d}" if i % 5 == 0 else f"model-{i:02d}"
            for i in range(n)]


def battles_file(root: Path, n: int) -> tuple[Path, list[str]]:
    """Seeded battles between ``n`` models of spread strengths, each game judged in both orders."""
    rng = np.random.default_rng(n)
    names = model_names(n)
    strength = np.linspace(2.0, -2.0, n)
    lines = []
    for i in range(n):
        opponents = [j for j in range(n) if j != i] if n <= 20 else list(rng.choice([j for j in range(n) if j != i], 8, replace=False))
        for j in opponents:
            for q in range(2):
                p = 1 / (1 + np.exp(strength[j] - strength[i]))
                for swapped in (False, True):
                    a, b = (i, j) if not swapped else (j, i)
                    i_won = rng.random() < p
                    winner = ("model_a" if a == i else "model_b") if i_won else ("model_b" if a == i else "model_a")
                    lines.append({"question_id": f"q{q}", "model_a": names[a], "model_b": names[b], "winner": winner,
                                  "game_key": f"{q}|{min(i, j)}|{max(i, j)}", "swapped": swapped})
    path = root / f"battles_{n}.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path, names


def artifacts(tmp_path: Path) -> Path:
    out = Path(os.environ.get("ARENA_TEST_ARTIFACTS") or tmp_path / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


def screenshot(drv, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The whole page: the window is made as tall as Streamlit's scrolling main section."""
    height = drv.execute_script(
        "const m = document.querySelector('[data-testid=\"stMain\"]') || document.body; return m.scrollHeight;")
    drv.set_window_size(1400, min(12000, max(1000, int(height) + 200)))
    _settled(drv)
    drv.save_screenshot(str(path))


@pytest.mark.parametrize("n", [3, 20, 60])
def test_every_chart_labels_every_model(n: int, tmp_path: Path, driver) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    source, names = battles_file(tmp_path, n)
    labels = short_names(names)
    assert len(set(labels.values())) == n
    out = artifacts(tmp_path)
    print(f"\nscreenshots: {out}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(source, port)
    try:
        _wait_http(url, proc)
        for page, min_charts in (("leaderboard", 1), ("matchups", 1), ("judge", 2)):
            driver.set_window_size(1400, 1800)
            driver.get(f"{url}/{page}")
            _settled(driver, timeout=120)
            charts = driver.execute_script(CHARTS_JS, list(labels.values()))
            screenshot(driver, out / f"{page}_{n}.png")  # before the checks: a failure leaves its picture
            assert not problems(driver), f"/{page} at {n} models: {problems(driver)}"
            assert len(charts) >= min_charts, (page, charts)
            for c in charts:
                assert c["svg"], f"{page}: a chart drawn on canvas (labels unreadable by the test)"
                assert 200 <= c["w"] <= 1400 and c["h"] >= 80, (page, c["w"], c["h"])
            with_models = [c for c in charts if sum(lbl in c["texts"] for lbl in labels.values()) > 1]
            assert with_models, f"{page}: no chart shows the models"
            for c in with_models:
                missing = [m for m, lbl in labels.items() if lbl not in c["shown"]]
                assert not missing, f"{page} at {n} models: labels missing (or hidden) for {missing[:5]}"
                assert not c["clashes"], f"{page} at {n} models: labels drawn over each other: {c['clashes'][:3]}"
                assert c["h"] >= 12 * n, f"{page}: {c['h']:.0f} px is too short for {n} models (12 px a row at least)"
        if n == 3:  # every page's URL opens its page: no "Page not found" dialog, no exception
            for path in PAGE_PATHS:
                driver.get(f"{url}/{path}")
                _settled(driver, timeout=120)
                assert not problems(driver), f"/{path}: {problems(driver)}"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
