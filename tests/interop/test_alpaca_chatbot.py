"""alpaca_eval annotations (weighted preferences) and Chatbot Arena battle logs / pair counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arena.cli import main
from arena.errors import DataError, UserError
from arena.interop import import_run
from tests.interop.conftest import DATA, battle_rows, write_jsonl


def _annotations(path: Path, prefs: list[object]) -> Path:
    recs = [{"instruction": f"Task {i}", "output_1": f"ref {i}", "generator_1": "gpt4_turbo",
             "output_2": f"mine {i}", "generator_2": "mine", "preference": p, "annotator": "weighted_gpt4"}
            for i, p in enumerate(prefs)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recs), encoding="utf-8")
    return path


def test_alpaca_eval_preferences_become_weighted_battles(tmp_path: Path) -> None:
    src = _annotations(tmp_path / "results" / "mine" / "weighted" / "annotations.json", [1, 2, 0, 1.75, None])
    (tmp_path / "results" / "mine" / "model_outputs.json").write_text(json.dumps(
        [{"instruction": "Task 9", "output": "extra", "generator": "mine"}]), encoding="utf-8")
    result = import_run("alpaca-eval", tmp_path / "results", tmp_path / "run", bootstrap=10)
    rows = [(r[2], r[3], r[4], r[5]) for r in battle_rows(tmp_path / "run")]
    assert sorted(rows) == sorted([
        ("gpt4_turbo", "mine", "model_a", 1.0), ("gpt4_turbo", "mine", "model_b", 1.0),
        ("gpt4_turbo", "mine", "tie", 1.0),
        ("gpt4_turbo", "mine", "model_b", 0.75), ("gpt4_turbo", "mine", "model_a", 0.25),
    ])
    assert result.imported.baseline == "gpt4_turbo"
    assert result.imported.counts()["failed_judgments"] == 1
    board = {r["model"]: r for r in json.loads((tmp_path / "run" / "leaderboard.json").read_text())}
    # Weighted wins of "mine": 1 + 0.5 (tie) + 0.75 of 4 games.
    assert board["mine"]["win_rate"] == pytest.approx(2.25 / 4, abs=1e-3)
    assert src.is_file()


def test_alpaca_eval_bad_preference(tmp_path: Path) -> None:
    src = _annotations(tmp_path / "annotations.json", [3])
    with pytest.raises(DataError, match=r"annotations.json:\[0\]: preference 3 is outside"):
        import_run("alpaca-eval", src, tmp_path / "run")


def test_chatbot_arena_logs_and_counts(tmp_path: Path) -> None:
    log = tmp_path / "clean_battle.json"
    log.write_text(json.dumps([
        {"model_a": "x", "model_b": "y", "winner": "model_a", "question_id": "q1", "anony": True},
        {"model_a": "y", "model_b": "z", "winner": "tie (bothbad)", "question_id": "q2"},
    ]), encoding="utf-8")
    import_run("chatbot-arena", log, tmp_path / "run", bootstrap=10)
    assert battle_rows(tmp_path / "run") == [("q1", 1, "x", "y", "model_a", 1.0), ("q2", 1, "y", "z", "tie (bothbad)", 1.0)]
    counts = tmp_path / "pairs.csv"
    counts.write_text("model_a,model_b,winner,count\nx,y,model_a,30\nx,y,model_b,10\n", encoding="utf-8")
    import_run("chatbot-arena", counts, tmp_path / "run2", bootstrap=0)
    board = {r["model"]: r for r in json.loads((tmp_path / "run2" / "leaderboard.json").read_text())}
    assert board["x"]["rating"] > board["y"]["rating"]
    # BT on 30:10 gives a win probability of 0.75: 400*log10(3) points apart.
    assert board["x"]["rating"] - board["y"]["rating"] == pytest.approx(400 * 0.47712125472, abs=0.5)


def test_a_log_with_turn_0_imports_as_arena_rate_reads_it(tmp_path: Path) -> None:
    """A 0-based turn, which arena rate takes, crashed the import (a Battle record's turn had to be at least 1)."""
    log = tmp_path / "log.jsonl"
    write_jsonl(log, [{"model_a": "x", "model_b": "y", "winner": "model_a", "question_id": "q1", "turn": 0},
                      {"model_a": "y", "model_b": "x", "winner": "tie", "question_id": "q1", "turn": 1}])
    import_run("chatbot-arena", log, tmp_path / "run", bootstrap=0)
    assert battle_rows(tmp_path / "run") == [("q1", 0, "x", "y", "model_a", 1.0), ("q1", 1, "y", "x", "tie", 1.0)]


def test_chatbot_arena_bad_rows(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "b.jsonl", [{"model_a": "x", "model_b": "y", "winner": "left"}])
    with pytest.raises(DataError, match=r"b.jsonl: row 1: unknown winner 'left'.*--winner-labels"):
        import_run("chatbot-arena", bad, tmp_path / "run")
    bad = write_jsonl(tmp_path / "c.jsonl", [{"model_a": "x", "winner": "tie"}])
    with pytest.raises(DataError, match=r"c.jsonl: missing column\(s\) model_b;.*\(found: model_a, winner; name yours with --map\)"):
        import_run("chatbot-arena", bad, tmp_path / "run")


def test_cli_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["import", "fastchat", str(tmp_path / "nope"), str(tmp_path / "run")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not exist" in err


def test_import_refuses_a_used_run_dir(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "b.jsonl", [{"model_a": "x", "model_b": "y", "winner": "model_a"}])
    import_run("chatbot-arena", log, tmp_path / "run", bootstrap=0)
    with pytest.raises(UserError, match="already holds a run"):
        import_run("chatbot-arena", log, tmp_path / "run", bootstrap=0)


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="Did you mean 'fastchat'"):
        import_run("fastchats", tmp_path, tmp_path / "run")


def test_chatbot_arena_import_checks_rows_as_arena_rate_does(tmp_path: Path) -> None:
    """The importer validates with the raters' own check (one home): names keep their text, a row without a
    question id stays without one, style columns come along, and a row arena rate refuses is refused alike."""
    from arena.rating.read import read_battles

    log = tmp_path / "log.csv"
    log.write_text("model_a,model_b,winner,question_id,len_a,len_b,language\n"
                   "007,1.10,model_a,1,100,200,English\n1.1,007,tie,,50,60,\n", encoding="utf-8")
    run = import_run("chatbot-arena", log, tmp_path / "run", bootstrap=0).imported
    got = [(b.model_a, b.model_b, b.question_id, b.len_a, b.category, b.judge) for b in run.battles]
    assert got == [("007", "1.10", "1", 100.0, "English", "human"), ("1.1", "007", None, 50.0, "general", "human")]
    assert read_battles(log)["model_a"].tolist() == ["007", "1.1"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model_a": ["x"], "model_b": "y", "winner": "tie"}\n', encoding="utf-8")
    for call in (lambda: import_run("chatbot-arena", bad, tmp_path / "run2"), lambda: read_battles(bad)):
        with pytest.raises(DataError, match=r"bad\.jsonl: row 1: model_a is a list"):
            call()


@pytest.mark.parametrize(("key", "value", "shown"), [("instruction", None, "null"), ("generator_2", ["x"], "['x']"),
                                                     ("generator_1", "  ", "'  '")])
def test_alpaca_eval_names_and_prompts_must_be_text(tmp_path: Path, key: str, value: object, shown: str) -> None:
    """A null instruction became the question "None", a list the model "['x']": refused, naming the record."""
    rows = json.loads((DATA / "alpaca_eval" / "annotations.json").read_text(encoding="utf-8"))[:4]
    rows[2][key] = value
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(DataError, match=rf"annotations\.json:\[2\]: '{key}' is {re.escape(shown)}; expected text"):
        import_run("alpaca-eval", path, tmp_path / "run")
