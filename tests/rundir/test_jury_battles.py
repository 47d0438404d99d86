"""load_run reads a jury's jury_battles.jsonl: every juror's battles with their judge, tolerant of torn or bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from arena.rundir import load_run

ROWS = [
    {"question_id": "q1", "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "left", "game_key": "g1"},
    {"question_id": "q1", "model_a": "a", "model_b": "b", "winner": "model_b", "judge": "right", "game_key": "g1"},
]


def _write(run_dir: Path, text: str) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "jury_battles.jsonl").write_text(text, encoding="utf-8")


def test_jury_battles_read_with_their_judges(tmp_path: Path) -> None:
    _write(tmp_path, "".join(json.dumps(r) + "\n" for r in ROWS))
    run = load_run(tmp_path)
    assert [(b.judge, b.winner) for b in run.jury_battles] == [("left", "model_a"), ("right", "model_b")]
    assert not run.notes


def test_no_jury_battles_for_one_judge(tmp_path: Path) -> None:
    (tmp_path / "battles.jsonl").write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    assert load_run(tmp_path).jury_battles == []


def test_torn_and_bad_lines_are_notes(tmp_path: Path) -> None:
    bad = {**ROWS[1], "winner": "left wins"}
    _write(tmp_path, json.dumps(ROWS[0]) + "\n" + json.dumps(bad) + "\n" + '{"model_a": "a", "mod')
    run = load_run(tmp_path)
    assert [b.judge for b in run.jury_battles] == ["left"]
    assert any("jury_battles.jsonl: the last line is incomplete" in n for n in run.notes)
    assert any("jury_battles.jsonl:2" in n for n in run.notes)
