"""llmuses/evalscope configs whose blocks have the wrong shape: one line naming the key (found by fuzzing; each
ended in 'arena: failed: AttributeError' or 'TypeError', exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.config import load_config
from arena.errors import ConfigError

HEAD = "question_file: q.jsonl\nanswers_gen:\n  x: {model_id_or_path: m, output_file: x.jsonl}\n  y: {output_file: y.jsonl}\n"

CASES = [
    ("rating_gen a list", HEAD + "rating_gen: [elo]\n", "key 'rating_gen' must be a mapping (metrics, baseline_model, ...), not list"),
    ("reviewer args a list", HEAD + "reviews_gen: {reviewer: {args: [pairwise]}}\n",
     "key 'reviews_gen.reviewer.args' must be a mapping (model, mode, temperature, ...), not list"),
    ("reviewer a string", HEAD + "reviews_gen: {reviewer: gpt-4}\n", "key 'reviews_gen.reviewer' must be a mapping (ref, args), not str"),
    ("generation_config a number", HEAD.replace("model_id_or_path: m,", "model_id_or_path: m, generation_config: 5,")
     .replace("output_file: x.jsonl", "output_file: gone.jsonl"),
     "key 'answers_gen.x.generation_config' must be a mapping (max_new_tokens, temperature, ...), not int"),
]


@pytest.mark.parametrize(("label", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_misshapen_llmuses_blocks_name_the_key(tmp_path: Path, label: str, text: str, expected: str) -> None:
    (tmp_path / "q.jsonl").write_text(json.dumps({"question_id": 1, "turns": ["hi?"]}) + "\n")
    for m in "xy":
        (tmp_path / f"{m}.jsonl").write_text(json.dumps({"question_id": 1, "model_id": m, "choices": [{"turns": ["a"]}]}) + "\n")
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {expected}", label


def test_a_well_formed_llmuses_config_still_loads(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text(json.dumps({"question_id": 1, "turns": ["hi?"]}) + "\n")
    for m in "xy":
        (tmp_path / f"{m}.jsonl").write_text(json.dumps({"question_id": 1, "model_id": m, "choices": [{"turns": ["a"]}]}) + "\n")
    path = tmp_path / "cfg.yaml"
    path.write_text(HEAD + "reviews_gen: {reviewer: {args: {mode: single, max_tokens: 64}}}\nrating_gen: {metrics: [elo]}\n")
    cfg = load_config(path)
    assert cfg.judge.mode == "single" and cfg.rating.method == "elo" and cfg.judge.generation.max_new_tokens == 64
