"""FastChat import/export: the Vicuna 2023 totals, MT-Bench judgments, a dry run over MT-Bench answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.cli import main
from arena.errors import DataError
from arena.interop import export_run, import_run
from tests.interop.conftest import DATA, battle_rows, run_fake_arena, write_jsonl

# lm-sys blog, "Vicuna: An Open-Source Chatbot Impressing GPT-4" (published/vicuna_2023_gpt4_eval_totals.csv).
VICUNA_TOTALS = {"llama-13b": (513.0, 694.0), "alpaca-13b": (583.0, 704.0), "bard": (664.0, 655.5), "gpt35": (693.0, 638.0)}


def test_vicuna_2023_totals_reproduce_the_blog(tmp_path: Path) -> None:
    result = import_run("fastchat", DATA / "vicuna2023", tmp_path / "run", bootstrap=10)
    reviews = {r["model_1"]: r for r in result.imported.summary["reviews"]}
    for model, (total_model, total_vicuna) in VICUNA_TOTALS.items():
        assert reviews[model]["model_2"] == "vicuna-13b"
        assert (reviews[model]["total_1"], reviews[model]["total_2"]) == (total_model, total_vicuna)
    # vicuna-13b better or equal to gpt35 on 36 of 80 questions (45%).
    assert reviews["gpt35"]["model_2_better_or_equal"] == 36 and reviews["gpt35"]["questions"] == 80
    battles = [json.loads(x) for x in (tmp_path / "run" / "battles.jsonl").read_text().splitlines()]
    gpt35 = [b for b in battles if b["model_a"] == "gpt35"]
    assert sum(b["winner"] in ("model_b", "tie") for b in gpt35) == 36
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["imported"]["baseline"] == "vicuna-13b"
    judgments = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert any(n.startswith("scores ") for n in judgments[0]["notes"])
    for name in ("leaderboard.json", "leaderboard.csv", "leaderboard.md", "judge_report.json", "questions.jsonl"):
        assert (tmp_path / "run" / name).is_file()


def _mt_bench_with_judgments(tmp_path: Path) -> Path:
    """The copied MT-Bench slice plus synthetic FastChat judgment files."""
    import shutil

    src = tmp_path / "mt_bench"
    shutil.copytree(DATA / "fastchat" / "mt_bench", src)
    pair = [
        {"question_id": 81, "model_1": "alpaca-13b", "model_2": "dolly-v2-12b", "g1_winner": "model_1",
         "g2_winner": "model_1", "judge": ["gpt-4", "pair-v2"], "g1_judgment": "[[A]]", "g2_judgment": "[[B]]", "turn": 1},
        {"question_id": 82, "model_1": "alpaca-13b", "model_2": "dolly-v2-12b", "g1_winner": "model_2",
         "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "turn": 1},
        {"question_id": 81, "model_1": "alpaca-13b", "model_2": "mpt-30b-instruct", "g1_winner": "error",
         "g2_winner": "model_2", "judge": ["gpt-4", "pair-v2-multi-turn"], "turn": 2},
    ]
    single = [
        {"question_id": 81, "model": "alpaca-13b", "judge": ["gpt-4", "single-v1"], "score": 7, "turn": 1},
        {"question_id": 81, "model": "dolly-v2-12b", "judge": ["gpt-4", "single-v1"], "score": 4, "turn": 1},
        {"question_id": 82, "model": "dolly-v2-12b", "judge": ["gpt-4", "single-v1"], "score": -1, "turn": 1},
    ]
    write_jsonl(src / "model_judgment" / "gpt-4_pair.jsonl", pair)
    write_jsonl(src / "model_judgment" / "gpt-4_single.jsonl", single)
    return src


def test_mt_bench_pair_and_single_judgments(tmp_path: Path) -> None:
    result = import_run("fastchat", _mt_bench_with_judgments(tmp_path), tmp_path / "run", bootstrap=10)
    rows = battle_rows(tmp_path / "run")
    assert rows == sorted([
        ("81", 1, "alpaca-13b", "dolly-v2-12b", "model_a", 1.0),      # g1: model_1 in A won
        ("81", 1, "dolly-v2-12b", "alpaca-13b", "model_b", 1.0),      # g2: swapped, model_1 (now B) won
        ("82", 1, "alpaca-13b", "dolly-v2-12b", "model_b", 1.0),
        ("82", 1, "dolly-v2-12b", "alpaca-13b", "tie", 1.0),
        ("81", 2, "mpt-30b-instruct", "alpaca-13b", "model_a", 1.0),  # g1 was an error: no battle
    ])
    counts = result.imported.counts()
    assert counts["answers"] == 240 and counts["failed_judgments"] == 2 and counts["scores"] == 2
    assert result.report.pairs_both_orders == 2 and result.report.order_flips == 1
    questions = [json.loads(x) for x in (tmp_path / "run" / "questions.jsonl").read_text().splitlines()]
    assert any(q.get("reference") for q in questions)  # reference answers joined


def test_mt_bench_answers_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = DATA / "fastchat" / "mt_bench" / "model_answer"
    cfg = tmp_path / "mt.yaml"
    cfg.write_text(
        f"name: mt\nwork_dir: {tmp_path / 'work'}\n"
        f"questions: {{file: {DATA / 'fastchat' / 'mt_bench'}, limit: 6}}\nmodels:\n"
        + "".join(f"  {p.stem}: {{provider: answers, file: {p}, answer_model_id: {p.stem}}}\n" for p in sorted(answers.glob('*.jsonl')))
        + "judge: {provider: openai, model: gpt-4, mode: pairwise-all, prompts: mt-bench}\nrating: {bootstrap: 10}\n",
        encoding="utf-8",
    )
    main(["run", "-c", str(cfg), "--dry-run", "-q"])
    out = capsys.readouterr().out
    assert "a real run would make 72 judge calls" in out  # 6 questions x 2 turns x 3 pairs x 2 orders
    assert (tmp_path / "work" / "dry-run" / "leaderboard.json").is_file()
    board = json.loads((tmp_path / "work" / "dry-run" / "leaderboard.json").read_text())
    assert sorted(r["model"] for r in board) == ["alpaca-13b", "dolly-v2-12b", "mpt-30b-instruct"]
    assert all(r["battles"] == 48 for r in board)  # 6 questions x 2 turns x 2 opponents x 2 orders


def test_export_then_import_gives_the_same_battles(tmp_path: Path) -> None:
    run_dir = run_fake_arena(tmp_path)
    export_run("fastchat", run_dir, tmp_path / "fc")
    assert (tmp_path / "fc" / "model_judgment" / "fake-judge_pair.jsonl").is_file()
    import_run("fastchat", tmp_path / "fc", tmp_path / "back", bootstrap=10)
    assert battle_rows(tmp_path / "back") == battle_rows(run_dir)
    answers = sorted(p.name for p in (tmp_path / "back" / "answers").iterdir())
    assert answers == ["alpha.jsonl", "beta.jsonl", "gamma.jsonl"]


def test_export_single_mode_round_trip(tmp_path: Path) -> None:
    run_dir = run_fake_arena(tmp_path, mode="single")
    export_run("fastchat", run_dir, tmp_path / "fc")
    result = import_run("fastchat", tmp_path / "fc", tmp_path / "back", bootstrap=10)
    assert battle_rows(tmp_path / "back") == battle_rows(run_dir)
    assert result.imported.mode == "single"


def test_bad_pair_winner_names_file_and_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "model_judgment" / "gpt-4_pair.jsonl",
                [{"question_id": 1, "model_1": "a", "model_2": "b", "g1_winner": "A", "g2_winner": "tie"}])
    with pytest.raises(DataError, match=r"gpt-4_pair.jsonl:1: g1_winner 'A' is not one of"):
        import_run("fastchat", tmp_path / "d", tmp_path / "run")


def test_folder_without_judgments_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no model_judgment"):
        import_run("fastchat", DATA / "fastchat" / "mt_bench", tmp_path / "run")
