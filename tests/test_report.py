"""Leaderboard formatting and the run-dir files."""

from __future__ import annotations

import csv
import json

import pytest

from arena.rating import RatingSettings, battles_frame, compute_leaderboard
from arena.rating.report import format_leaderboard, print_leaderboard, read_notes, write_leaderboard_files


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


MARKDOWN_NAMES = ["*e*", "a|b", "$1 and $2", "[x](http://y)", "_u_", "Q4_K_M", "c\\d", "<b>", "`t`", "l1\nl2"]
"""Model names that Markdown would read as emphasis, a table cell break, maths, a link, HTML or code."""


def _rendered_cells(markdown: str) -> list[list[str]]:
    """The text of each table cell as a Markdown renderer draws it (GitHub-style tables)."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Cells()
    parser.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    return parser.rows


def test_markdown_tables_draw_every_model_name_as_written(tmp_path):
    """A model named ``*e*`` was drawn in italics, ``a|b`` escaped only its pipe, a newline broke the table:
    the rendered leaderboard (``arena rate --format md``, ``leaderboard.md``) and ``arena compare --format md``
    show each name as its text (a newline as the visible ``␤``; ``arena diff --format md`` escapes the same way)."""
    from arena.rating.compare import compare, format_comparison, load_side

    rows = []
    for k, a in enumerate(MARKDOWN_NAMES):
        for b in MARKDOWN_NAMES[k + 1:]:
            rows += [{"model_a": a, "model_b": b, "winner": "model_a", "question_id": f"q{k}"},
                     {"model_a": b, "model_b": a, "winner": "tie", "question_id": f"q{k}"}]
    result = compute_leaderboard(battles_frame(rows), RatingSettings(bootstrap=0))
    shown = [name.replace("\n", "\u2424") for name in MARKDOWN_NAMES]
    cells = _rendered_cells(format_leaderboard(result, "md"))
    assert cells[0][1] == "model" and sorted(r[1] for r in cells[1:]) == sorted(shown)
    assert {len(r) for r in cells} == {len(cells[0])}
    lopsided = compute_leaderboard(battles_frame([{"model_a": "*e*", "model_b": "$1 and $2", "winner": "model_a"}]),
                                   RatingSettings(bootstrap=0))
    text = format_leaderboard(lopsided, "md")
    assert read_notes(text) == lopsided.warnings and any("never lost a battle: *e*" in w for w in lopsided.warnings)
    from markdown_it import MarkdownIt

    drawn = MarkdownIt("commonmark").render(text)  # the notes, drawn as written
    assert "never lost a battle: *e*" in drawn and "never won a battle: $1 and $2" in drawn
    path = tmp_path / "battles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    board = tmp_path / "board.json"
    board.write_text(json.dumps([{"model": r["model"], "rating": -r["rating"]} for r in result.rows]), encoding="utf-8")
    comparison = compare(load_side(path), load_side(board), bootstrap=0)
    pair = comparison["quality"]["a"]["fragility"]["battles_to_change_top_pair"]
    assert pair and set(pair) <= set(MARKDOWN_NAMES)
    cells = {r[0]: r[2] for r in _rendered_cells(format_comparison(comparison, "md"))[1:]}
    assert cells["A: fewest battles to change #1"] == " vs ".join(p.replace("\n", "\u2424") for p in pair)
