"""Meta-evaluation: LLMBar Natural's published GPT-4 statistics, and a fake judge run in both orders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.cli import main
from arena.config import JudgeConfig
from arena.errors import DataError
from arena.judging.meta_eval import (
    llmbar_statistics,
    read_pairs,
    read_verdicts,
    run_meta_eval,
    score_verdicts,
)

LLMBAR = Path(__file__).resolve().parent / "data" / "llmbar"
AUTOJ = Path(__file__).resolve().parent / "data" / "autoj" / "testdata_pairwise.jsonl"


def test_llmbar_gpt4_vanilla_statistics_reproduce() -> None:
    published = json.loads((LLMBAR / "GPT-4_Vanilla_statistics.json").read_text())
    pairs, first, second = read_verdicts(LLMBAR / "GPT-4_Vanilla_result.json")
    stats = score_verdicts(pairs, first, second)
    mine = llmbar_statistics(stats)
    for key in ("correct_False", "correct_True", "correct_average", "correct_both", "equal"):
        assert mine[key] == published[key], key
    for key in ("kappa_agreement", "kappa_False", "kappa_True", "kappa_average"):
        assert stats[key] == pytest.approx(published[key], abs=1e-12), key
    # The plain verdict-vs-label kappa is what 95% accuracy on balanced labels looks like.
    assert stats["kappa_label_False"] == pytest.approx(0.8977, abs=1e-4)
    assert stats["failures"] == {"False": 0, "True": 0}


def test_fake_judge_both_orders(tmp_path: Path) -> None:
    pairs = read_pairs(LLMBAR / "dataset_first10.json")
    jc = JudgeConfig(provider="fake", prompts="mt-bench")
    stats, first, second = run_meta_eval(pairs, jc, tmp_path / "me", seed=1)
    assert stats["n"] == 10 and len(first) == len(second) == 10
    assert all(w in ("1", "2", "tie") for w in first + second)
    assert 0 <= stats["correct_both"] <= min(stats["correct_False"], stats["correct_True"])
    assert stats["judge"] == "fake-judge"
    # A second run reuses the cached judgments and gives the same numbers.
    again, _, _ = run_meta_eval(pairs, jc, tmp_path / "me", seed=1)
    assert again == stats
    assert len((tmp_path / "me" / "judgments.jsonl").read_text().splitlines()) == 20


def test_scripted_judge_that_always_picks_position_a(tmp_path: Path) -> None:
    pairs = read_pairs(LLMBAR / "dataset_first10.json")
    jc = JudgeConfig(provider="fake", prompts="mt-bench", fake={"position_bias": 1.0, "tie_rate": 0.0})
    stats, first, second = run_meta_eval(pairs, jc, tmp_path / "me")
    assert first == ["1"] * 10 and second == ["2"] * 10
    assert stats["equal"] == 0.0 and stats["correct_both"] == 0.0
    assert stats["correct_average"] == 0.5


def test_cli_verdicts_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["meta-eval", str(LLMBAR / "GPT-4_Vanilla_result.json"), "--verdicts", "--out", str(tmp_path / "s.json")])
    assert "95/100" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["counts"]["correct_both"] == 93
    cfg = tmp_path / "judge.yaml"
    cfg.write_text("seed: 0\njudge: {provider: fake, prompts: mt-bench}\n", encoding="utf-8")
    main(["meta-eval", str(LLMBAR / "dataset_first10.json"), "-c", str(cfg), "--work-dir", str(tmp_path / "w"), "-q"])
    assert "pairs 10" in capsys.readouterr().out


def test_bad_label_names_the_item(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.json"
    bad.write_text(json.dumps([{"input": "x", "output_1": "a", "output_2": "b", "label": 3}]), encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.json:\[0\]: label 3 must be 1 or 2"):
        read_pairs(bad)


def _autoj_raw() -> list[dict[str, object]]:
    return [json.loads(line) for line in AUTOJ.read_text(encoding="utf-8").splitlines()]


def test_autoj_labels_with_ties_read() -> None:
    raw = _autoj_raw()
    pairs = read_pairs(AUTOJ)
    assert len(pairs) == len(raw) == 20
    assert [p.label for p in pairs] == [{0: "1", 1: "2", 2: "tie"}[int(r["label"])] for r in raw]  # type: ignore[call-overload]
    assert sum(p.label == "tie" for p in pairs) == 5
    assert pairs[0].input == raw[0]["prompt"] and pairs[0].output_2 == raw[0]["response 2"]
    assert pairs[0].category == raw[0]["scenario"]


def test_tie_verdict_on_tie_label_is_correct_and_failures_are_wrong() -> None:
    pairs = read_pairs(AUTOJ)
    labels = [p.label for p in pairs]
    oracle = score_verdicts(pairs, labels, labels)
    assert oracle["correct_both"] == 1.0 and oracle["kappa_label_average"] == pytest.approx(1.0)
    assert oracle["kappa_False"] is None  # LLMBar's encoding has no tie: not computed on tie labels
    ties = ["tie"] * len(pairs)
    always_tie = score_verdicts(pairs, ties, ties)
    assert always_tie["counts"]["correct_False"] == 5 and always_tie["correct_False"] == 0.25
    # A failed verdict is wrong, even on a tie label, and stays in the denominator (LLMBar's convention).
    failed = [None if lab == "tie" else lab for lab in labels]
    stats = score_verdicts(pairs, failed, labels)
    assert stats["counts"]["correct_False"] == 15 and stats["correct_False"] == 0.75
    assert stats["failures"] == {"False": 5, "True": 0}
    assert stats["equal"] == 0.75 and stats["correct_both"] == 0.75
    assert any("failed verdicts count as wrong" in c for c in stats["conventions"])


def test_fake_judge_on_autoj_pairs_scores_ties(tmp_path: Path) -> None:
    pairs = read_pairs(AUTOJ)
    jc = JudgeConfig(provider="fake", prompts="mt-bench", fake={"tie_rate": 1.0})
    stats, first, second = run_meta_eval(pairs, jc, tmp_path / "me")
    assert first == second == ["tie"] * 20
    assert stats["correct_both"] == 0.25 and stats["equal"] == 1.0


def test_cli_autoj_names_the_conventions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "judge.yaml"
    cfg.write_text("seed: 0\njudge: {provider: fake, prompts: mt-bench}\n", encoding="utf-8")
    main(["meta-eval", str(AUTOJ), "-c", str(cfg), "--work-dir", str(tmp_path / "w"), "-q", "--out", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert "pairs 20 (labels: 11 first better, 4 second better, 5 ties)" in out
    assert "convention: failed verdicts count as wrong" in out and "kappa verdict vs label" in out
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["labels"] == {"1": 11, "2": 4, "tie": 5} and saved["conventions"]


def test_bad_autoj_label(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(json.dumps({"prompt": "x", "response 1": "a", "response 2": "b", "label": 3}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.jsonl:1: label 3 must be 0, 1 or 2"):
        read_pairs(bad)


@pytest.mark.parametrize(("fields", "message"), [
    ({"input": ["a"]}, r"'input' is \['a'\]; expected text"),
    ({"output_1": None}, r"'output_1' is null; expected text"),
    ({"input": "  "}, r"'input' is '  '; expected text"),
])
def test_a_pair_whose_texts_are_not_text_is_refused(tmp_path: Path, fields: dict, message: str) -> None:
    """A null output was judged as the answer "None", a list input as the prompt "['a']"; an empty output is an
    answer (kept)."""
    pair = {"input": "Say hi.", "output_1": "hi", "output_2": "", "label": 1}
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([pair, {**pair, **fields}]), encoding="utf-8")
    with pytest.raises(DataError, match=rf"pairs\.json:\[1\]: {message}"):
        read_pairs(path)
    path.write_text(json.dumps([pair]), encoding="utf-8")
    assert read_pairs(path)[0].output_2 == ""
