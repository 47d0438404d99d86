"""Leaderboard formatting and the run-dir files."""

from __future__ import annotations

import csv
import json

import pytest

from arena.rating import RatingSettings, battles_frame, compute_leaderboard
from arena.rating.report import format_leaderboard, print_leaderboard, write_leaderboard_files


def _result(baseline=None):
    rows = [
        {"question_id": str(q), "model_a": a, "model_b": b, "winner": w}
        for q in range(10)
        for a, b, w in (
            ("x", "y", "model_a"),
            ("y", "z", "model_a"),
            ("x", "z", "tie"),
            ("z", "x", "model_b"),
        )
    ]
    return compute_leaderboard(battles_frame(rows), RatingSettings(bootstrap=20), baseline=baseline)


def test_json_is_exactly_the_rows():
    res = _result()
    assert json.loads(format_leaderboard(res, "json")) == res.rows


def test_csv_and_md_and_table():
    res = _result(baseline="y")
    rows = list(csv.DictReader(format_leaderboard(res, "csv").splitlines()))
    assert [r["model"] for r in rows] == [r["model"] for r in res.rows]
    assert "win_rate" in rows[0]
    md = format_leaderboard(res, "md").splitlines()
    assert md[0].startswith("| rank | model |") and len([line for line in md if line.startswith("|")]) == 2 + len(res.rows)
    assert md[-1] == "ties: half; intervals: bootstrap"  # the rating settings that matter, under the table
    assert "/--" not in format_leaderboard(res, "md")  # no "(+0/--0)" from rounding noise
    table = format_leaderboard(res, "table")
    assert "win rate vs baseline" in table and "x" in table


def test_write_files(tmp_path):
    res = _result()
    paths = write_leaderboard_files(res, tmp_path / "run")
    assert sorted(p.name for p in paths) == ["leaderboard.csv", "leaderboard.json", "leaderboard.md"]
    assert json.loads((tmp_path / "run" / "leaderboard.json").read_text()) == res.rows
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_print_with_rich():
    rich = pytest.importorskip("rich.console")
    console = rich.Console(record=True, width=120)
    print_leaderboard(_result(), console)
    assert "Leaderboard" in console.export_text()


def _single(with_battles: bool):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    scores = pd.DataFrame(
        [
            {"question_id": f"q{q}", "model": m, "score": float(np.clip(mu + rng.normal(0, 1), 1, 10))}
            for q in range(20)
            for m, mu in (("good", 8.0), ("fair", 6.0), ("poor", 3.0))
        ]
    )
    battles = pd.DataFrame(
        [{"question_id": f"p{q}", "model_a": "poor", "model_b": "good", "winner": "model_a"} for q in range(5)]
        + [{"question_id": "p9", "model_a": "fair", "model_b": "good", "winner": "tie"}]
    )
    frame = battles if with_battles else pd.DataFrame()
    return compute_leaderboard(frame, RatingSettings(bootstrap=50), scores=scores)


@pytest.mark.parametrize("with_battles", [False, True])
def test_single_mode_shows_score_first(with_battles):
    res = _single(with_battles)
    assert [r["model"] for r in res.rows] == ["good", "fair", "poor"]
    header = list(csv.reader(format_leaderboard(res, "csv").splitlines()))[0]
    assert header[:5] == ["rank", "model", "score", "score_low", "score_high"]
    assert header.index("rating") > header.index("score_high")
    md = format_leaderboard(res, "md").splitlines()
    assert md[0].startswith("| rank | model | score (95% CI) |")
    assert ("implied rating" in md[0]) == with_battles and ("battles" in md[0]) == with_battles
    body = [line for line in md[2:] if line.startswith("|")]
    assert [line.split("|")[2].strip() for line in body] == ["good", "fair", "poor"]
    table = format_leaderboard(res, "table").splitlines()
    assert table[0].split()[:4] == ["rank", "model", "score", "(95%"]
    good = next(line for line in table if " good " in f" {line} ")
    assert f"{res.rows[0]['score']:.2f} ({res.rows[0]['score_low']:.2f} to" in good


def test_pairwise_table_keeps_rating_first():
    header = format_leaderboard(_result(), "table").splitlines()[0].split()
    assert header[:3] == ["rank", "model", "rating"]


def test_weighted_counts_are_shown_and_flagged():
    rows = [
        {"question_id": "g1", "model_a": "x", "model_b": "y", "winner": "model_a", "weight": 0.25},
        {"question_id": "g1", "model_a": "x", "model_b": "y", "winner": "model_b", "weight": 0.75},
        {"question_id": "g2", "model_a": "y", "model_b": "x", "winner": "model_a", "weight": 1.0},
    ]
    res = compute_leaderboard(battles_frame(rows), RatingSettings(bootstrap=0))
    table = format_leaderboard(res, "table")
    assert "note: weights other than 1" in table
    assert "0.25/1.75/0" in table  # x: 0.25 wins, 1.75 losses of 2 weighted battles
