"""Style control in the browser: the leaderboard page shows the style-controlled leaderboard (rows, intervals,
coefficients, chart) beside the unadjusted one, with the numbers and names ``arena rate --style-control`` and
the pipeline's ``leaderboard.md`` print; without style control the page is unchanged."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from arena import browse as vd
from arena.browse import leaderboard as lb
from arena.rating.report import STYLE_TITLE, UNADJUSTED_TITLE
from tests.invariance.conftest import cli, synthetic_battles
from tests.viz.test_app import DEFAULT, open_page, texts
from tests.viz.test_browser import _free_port, _serve, _settled, _wait_http, driver  # noqa: F401
from tests.viz.test_pictures import problems, screenshot

ROUNDS = 40
"""Bootstrap rounds: enough for distinct intervals, few enough for a quick test."""

CONFIG: dict[str, Any] = {
    "name": "style-viz",
    "seed": 3,
    "questions": {"set": "mt_bench", "limit": 20},
    "models": {
        "alpha": {"provider": "fake", "fake": {"seed": 1, "max_words": 20}},
        "beta": {"provider": "fake", "fake": {"seed": 2, "max_words": 200}},
        "gamma": {"provider": "fake", "fake": {"seed": 3, "max_words": 80}},
        "delta": {"provider": "fake", "fake": {"seed": 4, "max_words": 140}},
    },
    "judge": {"provider": "fake", "mode": "pairwise-all", "prompts": "mt-bench", "fake": {"seed": 7, "tie_rate": 0.1}},
    "rating": {"bootstrap": ROUNDS, "style_control": True},
}


def make_style_run(root: Path) -> Path:
    """The fake pipeline (20 MT-Bench questions, 480 battles) with ``rating.style_control: true`` into ``root/run`` (leaderboard.json: rows only)."""
    from tests.diff.helpers import run_config

    root.mkdir(parents=True, exist_ok=True)
    return run_config(root, "config", {**CONFIG, "work_dir": str(root / "run")})


@pytest.fixture(scope="module")
def style_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_style_run(tmp_path_factory.mktemp("style"))


def cli_cell(rating: float, low: float, high: float) -> str:
    """A rating cell as the CLI's tables write it (``arena.rating.report._ci``)."""
    return f"{rating:.0f} (+{max(0.0, high - rating):.0f}/-{max(0.0, rating - low):.0f})"


def printed_style_rows(text: str) -> list[tuple[str, str, str]]:
    """``(rank, model, rating cell)`` of the style-controlled table in the CLI's table or Markdown output."""
    after = text.split(STYLE_TITLE, 1)[1]
    out = []
    for line in after.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
        else:
            cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 3 and re.fullmatch(r"\d+(-\d+)?", cells[0]):
            out.append((cells[0], cells[1], cells[2]))
        elif out:
            break
    return out


def board_rows(board: lb.StyleBoard) -> list[tuple[str, str, str]]:
    r = board.rows
    return [(str(a) if a == b else f"{a}-{b}", str(m), cli_cell(x, lo, hi))
            for a, b, m, x, lo, hi in zip(r["rank"], r["rank_high"], r["model"], r["rating"], r["ci_low"], r["ci_high"],
                                          strict=True)]


def battles_run(root: Path, frame: pd.DataFrame, rating: dict[str, Any]) -> Path:
    """A run dir holding only ``battles.jsonl`` and a manifest with these rating settings (as an imported run)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "battles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict(orient="records")),
                                        encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps({"name": "style", "seed": 0, "rating": rating}), encoding="utf-8")
    return root


def test_style_rows_equal_compute_leaderboard_and_arena_rate(tmp_path: Path) -> None:
    """Battles with len_a/len_b rated with style control: the browser's style-controlled rows and coefficients
    are compute_leaderboard's extras["style"], and print as arena rate --style-control prints them."""
    from arena.rating import RatingSettings, compute_leaderboard

    frame = synthetic_battles(seed=5, style=True)
    run = battles_run(tmp_path / "run", frame, {"style_control": True, "bootstrap": ROUNDS, "seed": 0})
    data = vd.load_source(run)
    assert data.kind == "run" and lb.style_controlled(data)
    rows, warnings, how, board = lb.leaderboard_with_style(data)
    assert board is not None and board.title == STYLE_TITLE and "computed here" in how

    expected = compute_leaderboard(frame, RatingSettings(style_control=True, bootstrap=ROUNDS, seed=0))
    style = expected.extras["style"]
    want = sorted(style["rows"], key=lambda r: -r["rating"])
    assert list(board.rows["model"]) == [r["model"] for r in want]
    for col in ("rating", "ci_low", "ci_high"):
        assert board.rows[col].tolist() == pytest.approx([r[col] for r in want], abs=1e-9)
    assert board.coefficients["feature"].tolist() == style["features"] == ["len"]
    for col, key in (("coefficient", "coefficients"), ("ci_low", "coef_low"), ("ci_high", "coef_high")):
        assert board.coefficients[col].tolist() == pytest.approx(style[key], abs=1e-12)
    assert style["coefficients"][0] > 0  # the synthetic judge favours the longer answer
    # the main rows are the unadjusted ones: different numbers from the style-controlled ones
    assert rows["rating"].tolist() == pytest.approx([r["rating"] for r in expected.rows], abs=1e-9)
    assert rows.set_index("model")["rating"].to_dict() != board.rows.set_index("model")["rating"].to_dict()

    battles = tmp_path / "battles.jsonl"
    battles.write_bytes((run / "battles.jsonl").read_bytes())
    args = ["rate", str(battles), "--style-control", "--bootstrap", str(ROUNDS), "--seed", "0"]
    for fmt in ("table", "md"):
        code, out = cli([*args, "--format", fmt])
        assert code == 0, out
        assert printed_style_rows(out) == board_rows(board)
        assert f"len {style['coefficients'][0]:+.3f}" in out
        assert lb.style_coefficients_view(board)["coefficient"].tolist() == [f"{style['coefficients'][0]:+.3f}"]
    code, out = cli([*args, "--format", "json"])
    assert code == 0
    assert [r["model"] for r in json.loads(out)] == rows["model"].tolist()


def test_pipeline_run_shows_the_style_table_of_its_leaderboard_md(style_run: Path) -> None:
    """The pipeline writes leaderboard.json as rows only; the browser rates the battles again for the style fit,
    and gets the style-controlled table the run's leaderboard.md printed."""
    data = vd.load_source(style_run)
    assert isinstance(json.loads((style_run / "leaderboard.json").read_text()), list)
    rows, warnings, how, board = lb.leaderboard_with_style(data)
    assert how == "leaderboard.json as written by the run" and warnings == []
    assert rows.equals(lb.leaderboard_rows(data)[0])
    assert board is not None and "leaderboard.json as written by the run holds no style fit" in board.how
    md = (style_run / "leaderboard.md").read_text(encoding="utf-8")
    assert printed_style_rows(md) == board_rows(board) and len(board.rows) == 4
    feature_line = next(x for x in md.splitlines() if x.startswith("style control coefficients"))
    for name, coef in zip(board.coefficients["feature"], board.coefficients["coefficient"], strict=True):
        assert f"{name} {coef:+.3f}" in feature_line


def test_without_style_control_nothing_changes(run_dir: Path, tmp_path: Path) -> None:
    data = vd.load_source(run_dir)
    assert not lb.style_controlled(data)
    rows, warnings, how, board = lb.leaderboard_with_style(data)
    assert board is None and (rows, warnings, how)[2] == lb.leaderboard_rows(data)[2]
    assert rows.equals(lb.leaderboard_rows(data)[0])
    plain = vd.load_source(battles_run(tmp_path / "plain", synthetic_battles(seed=5, style=True), {"bootstrap": 10}))
    assert lb.leaderboard_with_style(plain)[3] is None


def test_category_style_fit_is_that_categorys(tmp_path: Path) -> None:
    """A category is rated from its own battles: its style fit too, as arena rate on those battles."""
    from arena.rating import RatingSettings, compute_leaderboard

    frame = synthetic_battles(seed=8, style=True)
    frame["category"] = ["coding" if i % 3 else "writing" for i in range(len(frame))]
    data = vd.load_source(battles_run(tmp_path / "run", frame, {"style_control": True, "bootstrap": 10, "seed": 0}))
    _, _, _, board = lb.leaderboard_with_style(data, "writing")
    assert board is not None
    part = frame[frame["category"] == "writing"]
    want = compute_leaderboard(part, RatingSettings(style_control=True, bootstrap=10, seed=0)).extras["style"]
    assert board.rows["rating"].tolist() == pytest.approx(sorted((r["rating"] for r in want["rows"]), reverse=True))


def test_page_shows_both_leaderboards(style_run: Path, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(style_run, DEFAULT, monkeypatch)
    words = texts(at)
    assert UNADJUSTED_TITLE in words and STYLE_TITLE in words
    assert "Style control coefficients" in words
    shown = [d.value for d in at.dataframe]
    board = lb.leaderboard_with_style(vd.load_source(style_run))[3]
    assert board is not None
    style_table = shown[1]
    assert style_table["model"].tolist() == board.rows["model"].tolist()
    assert style_table["rating"].tolist() == board.rows["rating"].round(1).tolist()
    assert shown[2]["feature"].tolist() == board.coefficients["feature"].tolist()
    plain = texts(open_page(run_dir, DEFAULT, monkeypatch))
    assert STYLE_TITLE not in plain and UNADJUSTED_TITLE not in plain


# ------------------------------------------------------------------------------------------------ picture

MARKS_JS = """
return Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]')).map(el => {
  const svg = el.querySelector('svg');
  const r = el.getBoundingClientRect();
  return {w: r.width, h: r.height, svg: !!svg,
          points: svg ? svg.querySelectorAll('g.mark-symbol.role-mark path').length : 0,
          rules: svg ? svg.querySelectorAll('g.mark-rule.role-mark line').length : 0,
          texts: svg ? Array.from(svg.querySelectorAll('text')).map(t => t.textContent) : []};
}).filter(c => c.w > 0 && c.h > 0);
"""
"""Each drawn chart: its size and its SVG marks (interval rules, rating points, texts)."""
HEADINGS_JS = "return Array.from(document.querySelectorAll('h1, h2, h3')).map(h => h.innerText.trim());"
TABLES_JS = "return document.querySelectorAll('[data-testid=\"stDataFrame\"]').length;"


@pytest.mark.browser
def test_style_page_in_chromium(style_run: Path, run_dir: Path, tmp_path: Path, driver) -> None:  # noqa: F811
    """Headless Chromium: with style control both leaderboards are named, tabled and charted (the style
    chart draws one interval and one point per model); without it the page has one leaderboard and chart."""
    models = ["alpha", "beta", "gamma", "delta"]
    shot = Path(os.environ.get("ARENA_TEST_ARTIFACTS") or tmp_path)
    for source, styled in ((style_run, True), (run_dir, False)):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = _serve(source, port)
        try:
            _wait_http(url, proc)
            driver.set_window_size(1400, 1800)
            driver.get(f"{url}/leaderboard")
            _settled(driver, timeout=120)
            screenshot(driver, shot / ("style_page.png" if styled else "plain_page.png"))
            assert not problems(driver)
            heads = driver.execute_script(HEADINGS_JS)
            charts = driver.execute_script(MARKS_JS)
            tables = driver.execute_script(TABLES_JS)
            assert all(c["svg"] for c in charts), charts
            if styled:
                assert UNADJUSTED_TITLE in heads and STYLE_TITLE in heads, heads
                assert tables == 4  # unadjusted, style-controlled, coefficients, run facts
                assert len(charts) == 2, charts
                style_chart = charts[1]
                assert style_chart["points"] == len(models) and style_chart["rules"] == len(models)
                assert set(models) <= set(style_chart["texts"]) and "rating (95% interval)" in style_chart["texts"]
                assert style_chart["h"] >= 12 * len(models)
            else:
                assert STYLE_TITLE not in heads and UNADJUSTED_TITLE not in heads, heads
                assert tables == 2 and len(charts) == 1  # the leaderboard and run facts; one chart
                assert charts[0]["points"] == 3
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)
