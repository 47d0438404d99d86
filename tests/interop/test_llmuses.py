"""llmuses / evalscope: battle.jsonl, review files, and the llmuses configs (validate, dry run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from arena.cli import main
from arena.config import load_config
from arena.config.llmuses import is_llmuses_config, translate_llmuses_config
from arena.errors import DataError
from arena.interop import import_run
from tests.interop.conftest import DATA, write_jsonl

CONFIGS = DATA / "llmuses_configs"


def test_evalscope_battles_222_of_317_consistent(tmp_path: Path) -> None:
    result = import_run("evalscope", DATA / "evalscope" / "battle_all.jsonl", tmp_path / "run", bootstrap=10)
    report = json.loads((tmp_path / "run" / "judge_report.json").read_text())
    assert report["pairs_both_orders"] == 317
    assert report["pairs_both_orders"] - report["order_flips"] == 222
    assert result.imported.counts()["battles"] == 634
    judgment = json.loads((tmp_path / "run" / "judgments.jsonl").read_text().splitlines()[1])
    assert judgment["notes"] == ["scores 7 9"]


def test_review_files_pairwise_swap_single(tmp_path: Path) -> None:
    src = tmp_path / "arena"
    write_jsonl(src / "question.jsonl", [{"question_id": 1, "text": "Hi?", "category": "generic"}])
    write_jsonl(src / "answers" / "answer_m1.jsonl",
                [{"question_id": 1, "text": "Hi?", "category": "generic", "model_id": "m1", "answer": "Hello"}])
    write_jsonl(src / "answers" / "answer_m2.jsonl",
                [{"question_id": 1, "text": "Hi?", "category": "generic", "model_id": "m2", "answer": "Hey"}])
    write_jsonl(src / "reviews" / "review_swap.jsonl", [
        {"model_a": "m1", "model_b": "m2", "win_1": "model_a", "win_2": "model_b", "question_id": 1,
         "category": "generic", "question": "Hi?", "review_text_1": "[[A]]", "review_text_2": "[[A]]"}])
    result = import_run("llmuses", src, tmp_path / "run", bootstrap=10)
    battles = [json.loads(x) for x in (tmp_path / "run" / "battles.jsonl").read_text().splitlines()]
    # win_2 is in the record's terms (m2 won); the swapped game showed m2 first, so position A won.
    assert [(b["model_a"], b["model_b"], b["winner"]) for b in battles] == [("m1", "m2", "model_a"), ("m2", "m1", "model_a")]
    assert result.report.order_flips == 1

    write_jsonl(src / "reviews" / "review_swap.jsonl", [])
    (src / "reviews" / "review_swap.jsonl").unlink()
    write_jsonl(src / "reviews" / "review_single.jsonl", [
        {"model": "m1", "score": 8, "question_id": 1, "question": "Hi?"},
        {"model": "m2", "score": 5, "question_id": 1, "question": "Hi?"}])
    result = import_run("llmuses", src, tmp_path / "run2", bootstrap=10)
    assert result.imported.mode == "single"
    board = json.loads((tmp_path / "run2" / "leaderboard.json").read_text())
    assert board[0]["model"] == "m1" and board[0]["score"] == 8


def test_bad_win_label(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "battle.jsonl", [{"model_a": "a", "model_b": "b", "win": "A", "question_id": 1}])
    with pytest.raises(DataError, match=r"battle.jsonl:1: win 'A' is not one of"):
        import_run("llmuses", tmp_path / "battle.jsonl", tmp_path / "run")


@pytest.mark.parametrize("name", ["cfg_arena", "cfg_pairwise_baseline", "cfg_single"])
def test_translate_llmuses_configs(name: str) -> None:
    path = CONFIGS / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    assert is_llmuses_config(data)
    out, notices = translate_llmuses_config(data, path)
    assert out["models"]["chatglm3-6b"] == {
        "provider": "transformers", "model": "ZhipuAI/chatglm3-6b", "enable": True,
        "generation": {"max_new_tokens": 256, "temperature": 0.3, "top_p": 0.75, "top_k": 20}, "dtype": "float16"}
    assert out["models"]["Qwen-7B"]["enable"] is False
    assert any("ZhipuAI/chatglm3-6b' is a ModelScope id" in n for n in notices)
    mode = {"cfg_arena": "pairwise-all", "cfg_pairwise_baseline": "pairwise-baseline", "cfg_single": "single"}[name]
    assert out["judge"]["mode"] == mode
    if name == "cfg_pairwise_baseline":
        assert out["judge"]["baseline"] == "text_davinci_003" and out["judge"]["both_orders"] is True


def _checkout(tmp_path: Path, name: str) -> Path:
    """A tmp llmuses checkout: the config under llmuses/registry/config/, its files at the paths it names."""
    root = tmp_path / "evalscope"
    cfg = root / "llmuses" / "registry" / "config" / f"{name}.yaml"
    cfg.parent.mkdir(parents=True)
    shutil.copy(CONFIGS / f"{name}.yaml", cfg)
    data = root / "llmuses" / "registry" / "data"
    write_jsonl(data / "question.jsonl", [{"question_id": i, "text": f"Question {i}?", "category": "generic"}
                                          for i in range(1, 4)])
    for model in ("chatglm3-6b", "Baichuan2-7B-Base", "text_davinci_003"):
        write_jsonl(data / "arena" / "answers" / f"answer_{model}.jsonl",
                    [{"question_id": i, "model_id": model, "choices": [{"turns": [f"{model} answers {i}"]}]}
                     for i in range(1, 4)])
    return cfg


@pytest.mark.parametrize("name", ["cfg_arena", "cfg_pairwise_baseline", "cfg_single"])
def test_llmuses_config_validate_and_dry_run(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg_path = _checkout(tmp_path, name)
    monkeypatch.chdir(tmp_path)
    cfg = load_config(cfg_path)
    # question_file is relative to the llmuses checkout, found from the config's folder upwards.
    assert cfg.questions.file == (tmp_path / "evalscope" / "llmuses" / "registry" / "data" / "question.jsonl").resolve()
    assert cfg.models["chatglm3-6b"].provider == "answers"
    main(["validate", "--dry-run", "-c", str(cfg_path)])  # the real judge (GPT-4) needs OPENAI_API_KEY
    main(["run", "-c", str(cfg_path), "--dry-run", "-q"])
    out = capsys.readouterr().out
    assert "dry run" in out
    assert (cfg.work_dir / "dry-run" / "leaderboard.json").is_file()


def test_llmuses_config_missing_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg.yaml"
    shutil.copy(CONFIGS / "cfg_single.yaml", cfg)
    write_jsonl(tmp_path / "llmuses" / "registry" / "data" / "question.jsonl", [{"question_id": 1, "text": "Q?"}])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["validate", "-c", str(cfg)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "ZhipuAI/chatglm3-6b" in err and "nothing is downloaded" in err
