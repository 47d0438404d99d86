"""arena reproduce: a fake run re-run from its manifest gives identical numbers and an empty diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.diff.reproduce import plan_reproduction, reproduce
from arena.errors import UserError
from tests.diff.helpers import fake_config, run_config
from tests.diff.test_diff import exit_code


def test_reproduce_a_fake_run_gives_identical_numbers_and_an_empty_diff(tmp_path: Path) -> None:
    original = run_config(tmp_path, "a", fake_config("a", models={"beta": {"generation": {"temperature": 0.9}}}))
    plan, d = reproduce(original, tmp_path / "again")
    assert plan.run_dir == (tmp_path / "again").resolve()
    assert d.changes == []
    assert all(m.rating.delta == 0.0 and m.win_rate.delta == 0.0 and m.rank_a == m.rank_b for m in d.models)
    board = [json.loads((p / "leaderboard.json").read_text()) for p in (original, plan.run_dir)]
    assert board[0] == board[1]


def test_cli_reproduce_ends_with_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = run_config(tmp_path, "a", fake_config("a"))
    assert exit_code(["reproduce", str(original), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["changes"] == [] and doc["run_b"].endswith("a-reproduce")


def test_reproduce_uses_the_runs_questions_when_the_file_is_gone(tmp_path: Path) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"question_id": "1", "turns": ["Name a prime."]}\n{"question_id": "2", "turns": ["Hi?"]}\n')
    original = run_config(tmp_path, "a", fake_config("a", questions={"set": None, "limit": None, "file": str(qfile)}))
    qfile.unlink()
    plan, d = reproduce(original, tmp_path / "again")
    assert any("questions.jsonl" in n for n in plan.notes)
    assert [c.setting for c in d.changes] == ["file"]  # the file, and nothing else (same ids, same content)
    assert all(m.rating.delta == 0.0 for m in d.models)


def test_refuses_with_the_list_of_what_is_missing(tmp_path: Path) -> None:
    answers = tmp_path / "pre.jsonl"
    answers.write_text("".join(json.dumps({"question_id": q, "model_id": "m", "choices": [{"turns": ["x", "y"]}]})
                               + "\n" for q in ["81", "82", "83", "84", "85", "86"]))
    cfg = fake_config("a", models={"gamma": {"provider": "answers", "file": str(answers)}})
    original = run_config(tmp_path, "a", cfg)
    manifest = json.loads((original / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "0.0.1"
    manifest["config"]["models"]["delta"] = {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                                             "api_key_env": "F16_NO_SUCH_KEY"}
    manifest["config"]["models"]["epsilon"] = {"provider": "transformers", "model": str(tmp_path / "no-model")}
    (original / "manifest.json").write_text(json.dumps(manifest))
    answers.unlink()
    with pytest.raises(UserError) as exc:
        plan_reproduction(original)
    msg = str(exc.value)
    assert "models.gamma.file" in msg and "pre.jsonl does not exist" in msg
    assert "models.delta" in msg and "127.0.0.1:9" in msg and "no connection" in msg
    assert "models.epsilon" in msg
    assert "library numpy: the run used 0.0.1" in msg
    assert "\n" not in msg


def test_refuses_an_imported_run_and_the_original_dir(tmp_path: Path) -> None:
    original = run_config(tmp_path, "a", fake_config("a"))
    with pytest.raises(UserError, match="the original run"):
        plan_reproduction(original, original)
    manifest = json.loads((original / "manifest.json").read_text())
    manifest["imported"] = {"format": "fastchat", "source": "x"}
    (original / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="imported run"):
        plan_reproduction(original)
