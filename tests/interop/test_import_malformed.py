"""Malformed records found by fuzzing ``arena import`` on the real test data: each is refused in one line naming
the file and line (exit 2), never a traceback (exit 1) nor a silently changed import (exit 0)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arena.cli import main
from tests.interop.conftest import DATA, write_jsonl

Record = dict[str, Any]


def _lines(path: Path, n: int) -> list[Record]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()[:n]]


def _mt_bench(tmp_path: Path, pair: list[Record] | None = None, single: list[Record] | None = None) -> Path:
    """Three real MT-Bench questions and answers of two models, with the given judgment lines."""
    src = tmp_path / "mt_bench"
    write_jsonl(src / "question.jsonl", _lines(DATA / "fastchat" / "mt_bench" / "question.jsonl", 3))
    for model in ("alpaca-13b", "dolly-v2-12b"):
        write_jsonl(src / "model_answer" / f"{model}.jsonl",
                    _lines(DATA / "fastchat" / "mt_bench" / "model_answer" / f"{model}.jsonl", 3))
    if pair is not None:
        write_jsonl(src / "model_judgment" / "gpt-4_pair.jsonl", pair)
    if single is not None:
        write_jsonl(src / "model_judgment" / "gpt-4_single.jsonl", single)
    return src


def _pair(**changes: Any) -> list[Record]:
    good = {"question_id": 81, "model_1": "alpaca-13b", "model_2": "dolly-v2-12b", "g1_winner": "model_1",
            "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "turn": 1}
    return [good, {**good, "question_id": 82, **changes}]


def _single(**changes: Any) -> list[Record]:
    good = {"question_id": 81, "model": "alpaca-13b", "judge": ["gpt-4", "single-v1"], "score": 7, "turn": 1}
    return [good, {**good, "model": "dolly-v2-12b", **changes}]


def _arena_hard(tmp_path: Path, edit: Callable[[list[Record]], None]) -> Path:
    src = tmp_path / "arena-hard"
    shutil.copytree(DATA / "arena_hard", src)
    answers = src / "model_answer" / "gpt-4-0613.jsonl"
    records = _lines(answers, 8)
    edit(records)
    write_jsonl(answers, records)
    uids = [r["uid"] for r in _lines(src / "question.jsonl", 8)]
    write_jsonl(src / "model_judgment" / "judge" / "gpt-4-0613.jsonl", [
        {"uid": uid, "model": "gpt-4-0613", "games": [{"score": "A>B"}, {"score": "A>B"}]} for uid in uids])
    return src


def _drop_assistant_role(records: list[Record]) -> None:
    del records[1]["messages"][1]["role"]


def _evalscope(tmp_path: Path, line: int, **changes: Any) -> Path:
    records = _lines(DATA / "evalscope" / "battle.jsonl", 6)
    records[line - 1].update(changes)
    for key, value in changes.items():
        if value is _DELETE:
            del records[line - 1][key]
    return write_jsonl(tmp_path / "battle.jsonl", records)


_DELETE: Any = object()


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["import", *args, "--bootstrap", "0"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2, err
    assert err.count("\n") == 0 and err.startswith("arena: error: "), err
    return err


@pytest.mark.parametrize(("turn", "shown"), [("x", "'x'"), ([1], "[1]"), ({"a": 1}, "{'a': 1}"), (0, "0"),
                                             (1.5, "1.5"), (2**63, str(2**63)), (True, "True")])
def test_fastchat_judgment_turn_must_be_a_turn_number(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      turn: Any, shown: str) -> None:
    """A turn that is not a whole number >= 1 crashed (int() of a list: exit 1) or was read silently (turn 0
    indexed the answer's last turn)."""
    err = _refused(["fastchat", str(_mt_bench(tmp_path, pair=_pair(turn=turn))), str(tmp_path / "run")], capsys)
    assert f"gpt-4_pair.jsonl:2: turn {shown} is not a whole number" in err
    err = _refused(["fastchat", str(_mt_bench(tmp_path / "s", single=_single(turn=turn))), str(tmp_path / "s" / "run")],
                   capsys)
    assert f"gpt-4_single.jsonl:2: turn {shown} is not a whole number" in err


@pytest.mark.parametrize("winner", [{"a": 1}, ["model_1"], 1])
def test_fastchat_winner_that_is_not_a_label(tmp_path: Path, capsys: pytest.CaptureFixture[str], winner: Any) -> None:
    """A g2_winner that is an object crashed (unhashable type: 'dict', exit 1)."""
    err = _refused(["fastchat", str(_mt_bench(tmp_path, pair=_pair(g2_winner=winner))), str(tmp_path / "run")], capsys)
    assert f"gpt-4_pair.jsonl:2: g2_winner {winner!r} is not one of error, model_1, model_2, tie" in err


@pytest.mark.parametrize("kind", ["pair", "single"])
def test_fastchat_judgment_of_a_turn_the_answer_lacks(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      kind: str) -> None:
    """A turn-2 judgment of an answer with one turn crashed the judge report (IndexError, exit 1)."""
    src = _mt_bench(tmp_path, **{kind: _pair(turn=2) if kind == "pair" else _single(turn=2)})
    answers = src / "model_answer" / "dolly-v2-12b.jsonl"
    records = _lines(answers, 3)
    for r in records:
        r["choices"][0]["turns"] = r["choices"][0]["turns"][:1]
    write_jsonl(answers, records)
    err = _refused(["fastchat", str(src), str(tmp_path / "run")], capsys)
    line = 2 if kind == "pair" else 1  # the pair line judges question 82, the single line question 81
    assert f"gpt-4_{kind}.jsonl:2: judges turn 2" in err and f"dolly-v2-12b.jsonl:{line} holds 1 turn;" in err


@pytest.mark.parametrize(("turns", "message"), [([["a", "b"], "x"], "an answer turn is list"), ([], "no turns"),
                                                ([None, "x"], "an answer turn is null")])
def test_fastchat_answer_turns_must_be_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], turns: list[Any],
                                            message: str) -> None:
    """A list as an answer turn was imported as the text "['a', 'b']"; an empty turn list crashed later."""
    src = _mt_bench(tmp_path, pair=_pair())
    answers = src / "model_answer" / "alpaca-13b.jsonl"
    records = _lines(answers, 3)
    records[1]["choices"][0]["turns"] = turns
    write_jsonl(answers, records)
    err = _refused(["fastchat", str(src), str(tmp_path / "run")], capsys)
    assert "alpaca-13b.jsonl:2: " in err and message in err


@pytest.mark.parametrize("edit", [_drop_assistant_role, lambda rs: rs[1].update(messages=rs[1]["messages"][:1])])
def test_arena_hard_answer_without_assistant_text(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  edit: Callable[[list[Record]], None]) -> None:
    """An answer with no assistant message became an answer with no turns and crashed the judge report."""
    err = _refused(["arena-hard", str(_arena_hard(tmp_path, edit)), str(tmp_path / "run")], capsys)
    assert "gpt-4-0613.jsonl:2: " in err and "no turns" in err


@pytest.mark.parametrize(("changes", "message"), [
    ({"win": _DELETE}, "battle.jsonl:3: missing 'win'"),
    ({"question": 2**63}, None),
    ({"question": ["a"]}, "battle.jsonl:3: 'question' is ['a']; expected text"),
    ({"category": ["a"]}, "battle.jsonl:3: 'category' is ['a']; expected text"),
    ({"category": {"a": 1}}, "battle.jsonl:3: 'category' is {'a': 1}; expected text"),
    ({"question_id": None}, "battle.jsonl:3: 'question_id' is null; expected text"),
    ({"question_id": [5]}, "battle.jsonl:3: 'question_id' is [5]; expected text"),
])
def test_evalscope_bad_record_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: Record,
                                     message: str | None) -> None:
    """A battle line without 'win' (KeyError), with a question text or category that is not text (pydantic
    ValidationError) or a null question id (AssertionError) crashed with exit 1 (a list as id was the id
    "[5]"); a number as question text is that text."""
    src = _evalscope(tmp_path, 3, **changes)
    if message is None:
        main(["import", "evalscope", str(src), str(tmp_path / "run"), "--bootstrap", "0"])
        questions = [json.loads(x) for x in (tmp_path / "run" / "questions.jsonl").read_text().splitlines()]
        assert [str(2**63)] in [q["turns"] for q in questions]
        return
    assert message in _refused(["evalscope", str(src), str(tmp_path / "run")], capsys)


def _vicuna(tmp_path: Path, scores: list[Any]) -> Path:
    """Two real Vicuna reviews files (12 lines each); the first lines of alpaca-13b's get ``scores``."""
    src = tmp_path / "vicuna"
    for model in ("alpaca-13b", "bard"):
        name = f"review_{model}_vicuna-13b.jsonl"
        records = _lines(DATA / "vicuna2023" / name, 12)
        if model == "alpaca-13b":
            for record, score in zip(records, scores, strict=False):
                record["score"] = score
        write_jsonl(src / name, records)
    return src


def test_vicuna_unparsed_review_is_a_failed_judgment_not_a_tie(tmp_path: Path) -> None:
    """FastChat's eval writes [-1, -1] for a review it could not parse; it was imported as a tie and summed."""
    from arena.interop import import_run

    result = import_run("fastchat", _vicuna(tmp_path, [[-1, -1], [-1, -1]]), tmp_path / "run", bootstrap=0)
    review = next(r for r in result.imported.summary["reviews"] if r["model_1"] == "alpaca-13b")
    clean = [r["score"] for r in _lines(DATA / "vicuna2023" / "review_alpaca-13b_vicuna-13b.jsonl", 12)[2:]]
    assert review["questions"] == 10 and review["failed"] == 2
    assert (review["total_1"], review["total_2"]) == (sum(s[0] for s in clean), sum(s[1] for s in clean))
    assert result.imported.counts()["failed_judgments"] == 2
    battles = [json.loads(x) for x in (tmp_path / "run" / "battles.jsonl").read_text().splitlines()]
    assert sum(b["model_a"] == "alpaca-13b" for b in battles) == 10
    assert any("2 reviews with a negative score" in n for n in result.imported.notes)


@pytest.mark.parametrize("score", [[float("nan"), 8], [True, 8], [7, float("inf")], ["7", 8]])
def test_vicuna_scores_must_be_finite_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              score: list[Any]) -> None:
    """A NaN score compared as neither higher nor lower and made a tie (and a NaN total); True counted as 1."""
    err = _refused(["fastchat", str(_vicuna(tmp_path, [[8, 9], score])), str(tmp_path / "run")], capsys)
    assert "review_alpaca-13b_vicuna-13b.jsonl:2: 'score' must be a list of two finite numbers" in err


@pytest.mark.parametrize("score", [float("nan"), float("inf"), True, [7]])
def test_fastchat_single_score_must_be_a_finite_number(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       score: Any) -> None:
    """A NaN or infinite score was imported as that score; True as 1."""
    err = _refused(["fastchat", str(_mt_bench(tmp_path, single=_single(score=score))), str(tmp_path / "run")], capsys)
    assert "gpt-4_single.jsonl:2: score" in err and "is not a finite number" in err


def _annotations(tmp_path: Path, **changes: Any) -> Path:
    rows = json.loads((DATA / "alpaca_eval" / "annotations.json").read_text(encoding="utf-8"))[:6]
    rows[2].update(changes)
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({"output_1": None}, "annotations.json:[2]: 'output_1' is null; expected the answer's text"),
    ({"output_2": ["a"]}, "annotations.json:[2]: 'output_2' is list ['a']; expected the answer's text"),
    ({"preference": True}, "annotations.json:[2]: preference True is not a number"),
    ({"preference": float("inf")}, "annotations.json:[2]: preference inf is not a number"),
])
def test_alpaca_eval_outputs_and_preferences(tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: Record,
                                             message: str) -> None:
    """A null output was imported as the answer text "None"; a boolean preference as 1 (a baseline win)."""
    assert message in _refused(["alpaca-eval", str(_annotations(tmp_path, **changes)), str(tmp_path / "run")], capsys)


@pytest.mark.parametrize("key", ["output_a", "output_b"])
def test_evalscope_output_null_is_not_the_text_none(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    key: str) -> None:
    err = _refused(["evalscope", str(_evalscope(tmp_path, 2, **{key: None})), str(tmp_path / "run")], capsys)
    assert f"battle.jsonl:2: '{key}' is null; expected the answer's text" in err


@pytest.mark.parametrize("fmt", ["fastchat", "evalscope", "arena-hard"])
def test_a_repeated_record_is_one_judgment_in_the_run_dir_too(tmp_path: Path, fmt: str) -> None:
    """A record repeated (a line twice) became two battles but one judgment in judgments.jsonl as the run dir
    reads it back (a later line with the same key supersedes the earlier): the judge report and the battles
    disagreed. Each record is now its own judge call everywhere, with a note."""
    from arena.interop import import_run
    from arena.rundir.load import load_run

    if fmt == "fastchat":
        src = _mt_bench(tmp_path, pair=_pair())
        path = src / "model_judgment" / "gpt-4_pair.jsonl"
    elif fmt == "evalscope":
        src = path = _evalscope(tmp_path, 1)
    else:
        src = _arena_hard(tmp_path, lambda records: None)
        path = src / "model_judgment" / "judge" / "gpt-4-0613.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    once = import_run(fmt, src, tmp_path / "once", bootstrap=0)
    path.write_text("\n".join([*lines, lines[0]]) + "\n", encoding="utf-8")
    twice = import_run(fmt, src, tmp_path / "twice", bootstrap=0)
    per_record = len(once.imported.judgments) // len(lines)
    assert len(twice.imported.judgments) == len(once.imported.judgments) + per_record
    assert len(load_run(tmp_path / "twice", require=True).judgments) == len(twice.imported.judgments)
    battles = (tmp_path / "twice" / "battles.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(battles) == len(once.imported.battles) + per_record
    assert any(f"{per_record} judgments repeat an earlier record" in n for n in twice.imported.notes)
    keys = [j.key for j in twice.imported.judgments]
    assert len(set(keys)) == len(keys)
    again = import_run(fmt, src, tmp_path / "again", bootstrap=0)
    assert [j.key for j in again.imported.judgments] == keys


@pytest.mark.parametrize("uid", [["x"], {"a": 1}, " "])
def test_arena_hard_question_id_must_be_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], uid: Any) -> None:
    """A list or object as an answer's uid became the question id "['x']" (a question of its own)."""
    src = _arena_hard(tmp_path, lambda records: records[1].update(uid=uid))
    err = _refused(["arena-hard", str(src), str(tmp_path / "run")], capsys)
    assert f"gpt-4-0613.jsonl:2: 'uid' is {uid!r}; expected text" in err


@pytest.mark.parametrize(("fmt", "key", "value"), [("fastchat", "model_id", ["a", "b"]), ("fastchat", "model_id", {"a": 1}),
                                                   ("arena-hard", "model", ["a"]), ("arena-hard", "model", " ")])
def test_answer_model_name_must_be_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, key: str,
                                        value: Any) -> None:
    """A list or object as an answer's model became the model "['a', 'b']" (a model of its own)."""
    if fmt == "fastchat":
        src = _mt_bench(tmp_path, pair=_pair())
        answers = src / "model_answer" / "alpaca-13b.jsonl"
        records = _lines(answers, 3)
        records[1][key] = value
        write_jsonl(answers, records)
        name = "alpaca-13b.jsonl"
    else:
        src = _arena_hard(tmp_path, lambda records: records[1].update({key: value}))
        name = "gpt-4-0613.jsonl"
    err = _refused([fmt, str(src), str(tmp_path / "run")], capsys)
    assert f"{name}:2: '{key}' is {value!r}; expected text" in err


def test_alpaca_eval_tied_reference_needs_a_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With generator_1 equally often A and B, the baseline was whichever came first in the file, so the same
    annotations in another order gave another leaderboard (win rates against another model)."""
    rows = json.loads((DATA / "alpaca_eval" / "annotations.json").read_text(encoding="utf-8"))
    rows = [r for r in rows if r["generator_2"] == "bard"][:4]
    for r in rows[:2]:  # the same games written with bard as output 1
        r["generator_1"], r["generator_2"], r["output_1"], r["output_2"] = "bard", "vicuna-13b", r["output_2"], r["output_1"]
        r["preference"] = 3 - r["preference"]
    for order in (rows, rows[::-1]):
        path = tmp_path / "annotations.json"
        path.write_text(json.dumps(order), encoding="utf-8")
        err = _refused(["alpaca-eval", str(path), str(tmp_path / "run")], capsys)
        assert "generator_1 is 'bard' and 'vicuna-13b' equally often (2 annotations each); name the baseline" in err
