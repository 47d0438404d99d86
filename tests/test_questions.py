"""Question loading: shipped sets, file formats, filters, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.config import QuestionsConfig
from arena.errors import DataError, UserError
from arena.questions import available_sets, load_questions, read_question_file


def test_shipped_sets() -> None:
    assert {"mt_bench", "vicuna_bench"} <= set(available_sets())
    mt = load_questions(QuestionsConfig(set="mt_bench"))
    assert len(mt) == 80 and all(len(q.turns) == 2 for q in mt)
    refs = {q.question_id: q.reference for q in mt}
    assert all(refs[str(i)] for i in range(101, 131))  # GPT-4 reference answers
    assert len(load_questions(QuestionsConfig(set="vicuna_bench"))) == 80


def test_filters() -> None:
    qs = load_questions(QuestionsConfig(set="mt_bench", categories=["math", "coding"], limit=12))
    assert len(qs) == 12 and {q.category for q in qs} <= {"math", "coding"}
    assert [q.question_id for q in load_questions(QuestionsConfig(set="mt_bench", ids=["81", "160"]))] == ["81", "160"]
    with pytest.raises(UserError, match="unknown category 'maths'"):
        load_questions(QuestionsConfig(set="mt_bench", categories=["maths"]))


def test_unknown_set_suggests() -> None:
    with pytest.raises(UserError, match="Did you mean 'mt_bench'"):
        load_questions(QuestionsConfig(set="mt-bench"))


@pytest.mark.parametrize(
    ("line", "turns"),
    [
        ({"question_id": 1, "category": "x", "turns": ["a", "b"]}, ["a", "b"]),
        ({"question_id": 1, "text": "a", "category": "generic"}, ["a"]),  # llmuses
        ({"uid": "u1", "category": "arena-hard-v0.1", "cluster": "c", "prompt": "a"}, ["a"]),  # arena-hard
        ({"uid": "u1", "turns": [{"content": "a"}]}, ["a"]),
    ],
)
def test_formats(tmp_path: Path, line: dict, turns: list[str]) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(line) + "\n")
    (q,) = read_question_file(path)
    assert q.turns == turns


def test_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question_id": 1, "turns": ["a"]}\n{"question_id": 1, "turns": ["b"]}\n')
    with pytest.raises(DataError, match=r"q\.jsonl:2: duplicate question_id '1' \(first on line 1\)"):
        read_question_file(path)
    path.write_text("")
    with pytest.raises(DataError, match="no questions"):
        read_question_file(path)
    path.write_text('{"question_id": 1}\n')
    with pytest.raises(DataError, match=r"q\.jsonl:1: no question text"):
        read_question_file(path)
    path.write_text('{"question_id": "", "turns": ["a"]}\n')  # an id nothing could refer to
    with pytest.raises(DataError, match=r"q\.jsonl:1: field 'question_id': String should have at least 1 char"):
        read_question_file(path)
    path.write_text('{"question_id": "  ", "turns": ["a"]}\n')
    with pytest.raises(DataError, match=r"q\.jsonl:1: question_id '  ' is blank"):
        read_question_file(path)
    path.write_text('{"question_id": "q1", "turns": ["a"]}\n{"question_id": "q2", "turns": ["b", " \\n "]}\n')
    with pytest.raises(DataError, match=r"q\.jsonl:2: turn 2 is empty; every turn is a user message"):
        read_question_file(path)
