"""Generation stage: keys, multi-turn conversations, pre-generated answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.config import FakeOptions, ModelConfig, load_config
from arena.errors import DataError
from arena.generate import _conversation, answer_key, generate_answers, load_answers, model_spec
from arena.judging.plan import plan_games
from arena.pipeline import run
from arena.providers.answers import read_answer_file
from arena.providers.base import Conversation, GenerationSettings
from arena.providers.fake import FakeProvider
from arena.records import Answer, Question


def test_turn_two_sees_turn_one_answer(tmp_path: Path) -> None:
    seen: list[Conversation] = []

    def respond(conv: Conversation, rng: object) -> str:
        seen.append(conv)
        return f"answer to: {conv[-1]['content']}"

    q = Question(question_id="1", turns=["first?", "second?"])
    cfg = ModelConfig(provider="fake", system_prompt="Be brief.")
    stats = generate_answers([q], "m", cfg, tmp_path, seed=0, progress=False,
                             provider_factory=lambda c, s, n: FakeProvider(fn=respond))
    assert stats.generated == 1
    assert [m["role"] for m in seen[1]] == ["system", "user", "assistant", "user"]
    assert seen[1][2]["content"] == "answer to: first?"
    (answer,) = load_answers(tmp_path, "m", [q], cfg, 0).values()
    assert answer.turns == ["answer to: first?", "answer to: second?"]
    assert answer.spec["generation"]["seed"] == 0 and answer.spec["system_prompt"] == "Be brief."
    assert _conversation(None, q, [], 0) == [{"role": "user", "content": "first?"}]


def test_answers_from_two_files_never_share_keys(tmp_path: Path) -> None:
    qs = tmp_path / "q.jsonl"
    qs.write_text("".join(json.dumps({"question_id": i, "turns": [f"q{i}"]}) + "\n" for i in (1, 2)))
    for model in ("x", "y"):
        (tmp_path / f"{model}.jsonl").write_text("".join(
            json.dumps({"question_id": i, "model_id": model, "choices": [{"index": 0, "turns": [f"{model} says {i}"]}]}) + "\n"
            for i in (1, 2)))
    cfg_path = tmp_path / "a.yaml"
    cfg_path.write_text("""
questions: {file: q.jsonl}
work_dir: run
models:
  x: {provider: answers, file: x.jsonl}
  y: {provider: answers, file: y.jsonl}
judge: {provider: fake, mode: single}
rating: {bootstrap: 5}
""")
    result = run(load_config(cfg_path), progress=False)
    assert result.review is not None and result.review.judged == 4 and result.review.errors == 0
    keys = {json.loads(line)["key"] for m in "xy" for line in (tmp_path / "run" / "answers" / f"{m}.jsonl").read_text().splitlines()}
    assert len(keys) == 4
    # Editing one answer re-judges that answer only.
    (tmp_path / "x.jsonl").write_text((tmp_path / "x.jsonl").read_text().replace("x says 2", "x says two"))
    again = run(load_config(cfg_path), progress=False)
    assert again.review is not None and again.review.judged == 1 and again.review.done_before == 3


def test_llmuses_answer_lines_serve_the_answer_not_the_question(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"question_id": 1, "text": "the question", "category": "generic",
                             "model_id": "m", "answer": "the answer"}) + "\n")
    assert read_answer_file(f)["1"][0] == ["the answer"]


def test_fake_provider_is_deterministic_per_prompt() -> None:
    p = FakeProvider(seed=3)
    s = GenerationSettings()
    conv: Conversation = [{"role": "user", "content": "hi"}]
    other: Conversation = [{"role": "user", "content": "bye"}]
    assert p.generate([conv, other], s)[0].text == p.generate([conv], s)[0].text


FASTCHAT = Path(__file__).parent / "data" / "fastchat"
# Byte-identical answers in FastChat's MT-Bench files: alpaca-13b = llama-13b on question 118,
# gpt-3.5-turbo = gpt-4 on question 131 (tests/data/fastchat/collisions/).
COLLIDING = ("alpaca-13b", "gpt-3.5-turbo", "gpt-4", "llama-13b")


def _fastchat_config(tmp_path: Path, mode: str) -> Path:
    folder = FASTCHAT / "collisions" / "model_answer"
    cfg = tmp_path / f"{mode}.yaml"
    cfg.write_text(
        f"name: collisions\nwork_dir: run-{mode}\n"
        f"questions: {{file: {FASTCHAT / 'mt_bench'}}}\nmodels:\n"
        + "".join(f"  {m}: {{provider: answers, file: {folder / m}.jsonl}}\n" for m in COLLIDING)
        + f"judge: {{provider: fake, mode: {mode}}}\nrating: {{bootstrap: 5}}\n",
        encoding="utf-8",
    )
    return cfg


def test_identical_answer_files_really_collide() -> None:
    folder = FASTCHAT / "collisions" / "model_answer"
    texts = {m: read_answer_file(folder / f"{m}.jsonl") for m in COLLIDING}
    assert texts["alpaca-13b"]["118"][0] == texts["llama-13b"]["118"][0]
    assert texts["gpt-4"]["131"][0] == texts["gpt-3.5-turbo"]["131"][0]


def test_identical_answers_of_two_models_are_never_merged(tmp_path: Path) -> None:
    result = run(load_config(_fastchat_config(tmp_path, "pairwise-all")), progress=False)
    questions, turns = 80, 2
    pairs = len(COLLIDING) * (len(COLLIDING) - 1) // 2
    assert result.review is not None and result.review.judged == 2 * pairs * questions * turns
    assert result.battles == 2 * pairs * questions * turns
    battles = [json.loads(x) for x in (tmp_path / "run-pairwise-all" / "battles.jsonl").read_text().splitlines()]
    per_model = {m: sum(m in (b["model_a"], b["model_b"]) for b in battles) for m in COLLIDING}
    # every model meets 3 opponents on 80 questions x 2 turns, in both orders
    assert per_model == dict.fromkeys(COLLIDING, 2 * (len(COLLIDING) - 1) * questions * turns)
    keys = {json.loads(line)["key"] for m in COLLIDING
            for line in (tmp_path / "run-pairwise-all" / "answers" / f"{m}.jsonl").read_text().splitlines()}
    assert len(keys) == len(COLLIDING) * questions


def test_single_mode_finishes_with_identical_answers(tmp_path: Path) -> None:
    result = run(load_config(_fastchat_config(tmp_path, "single")), progress=False)
    assert result.review is not None and result.review.judged == len(COLLIDING) * 80 * 2
    rows = json.loads((tmp_path / "run-single" / "leaderboard.json").read_text())
    assert sorted(r["model"] for r in rows) == sorted(COLLIDING)
    judgments = [json.loads(x) for x in (tmp_path / "run-single" / "judgments.jsonl").read_text().splitlines()]
    on_118 = {j["model_a"] for j in judgments if j["question_id"] == "118" and j["turn"] == 1}
    assert on_118 == set(COLLIDING)  # alpaca-13b and llama-13b each judged on their own identical answer


def test_two_answers_sharing_a_key_stop_before_judging(tmp_path: Path) -> None:
    q = Question(question_id="1", turns=["hi?"])
    shared = Answer(key="k", question_id="1", model="a", turns=["same"])
    with pytest.raises(DataError, match="answer key k belongs to both 'a' .question 1. and 'b'"):
        plan_games([q], {"a": {"1": shared}, "b": {"1": shared.model_copy(update={"model": "b"})}}, "single")
    with pytest.raises(DataError, match="belongs to both"):
        plan_games([q], {"a": {"1": shared}, "b": {"1": shared}}, "pairwise-all")


def test_answer_keys_name_their_model(tmp_path: Path) -> None:
    q = Question(question_id="1", turns=["q"])
    cfg = ModelConfig(provider="fake", fake=FakeOptions(seed=5))
    assert answer_key(q, model_spec(cfg, 0, "a")) != answer_key(q, model_spec(cfg, 0, "b"))
    assert answer_key(q, model_spec(cfg, 0, "a")) == answer_key(q, model_spec(cfg, 0, "a"))


def test_fake_candidates_are_seeded_apart_by_name(tmp_path: Path) -> None:
    cfg_path = tmp_path / "a.yaml"
    cfg_path.write_text("""
questions: {set: mt_bench, limit: 5}
work_dir: run
models:
  x: {provider: fake}
  y: {provider: fake}
  z: {provider: fake}
  same-seed-1: {provider: fake, fake: {seed: 9}}
  same-seed-2: {provider: fake, fake: {seed: 9}}
judge: {provider: fake, mode: pairwise-all}
rating: {bootstrap: 20}
""")
    run(load_config(cfg_path), progress=False)

    def texts(model: str) -> list[list[str]]:
        lines = (tmp_path / "run" / "answers" / f"{model}.jsonl").read_text().splitlines()
        return [json.loads(line)["turns"] for line in lines]

    for a, b in [("x", "y"), ("x", "z"), ("y", "z")]:
        assert all(ta != tb for ta, tb in zip(texts(a), texts(b), strict=True)), (a, b)
    # An explicit fake.seed is honoured: equal seeds, equal texts (but still two models' answers).
    assert texts("same-seed-1") == texts("same-seed-2")
    rows = {r["model"]: r for r in json.loads((tmp_path / "run" / "leaderboard.json").read_text())}
    assert len({rows[m]["rating"] for m in "xyz"}) == 3
    assert all(rows[m]["ci_high"] > rows[m]["ci_low"] for m in "xyz")


@pytest.mark.parametrize("turn", [None, ["x"], {"text": "x"}])
def test_an_answer_turn_that_is_not_text_is_refused(tmp_path: Path, turn: object) -> None:
    """A null turn was served as the answer "None" and judged; an empty string stays an (empty) answer."""
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"question_id": 1, "model_id": "m", "choices": [{"turns": ["a", turn]}]}) + "\n")
    with pytest.raises(DataError, match=r"a\.jsonl:1: an answer turn is (null|list|dict); write the answer's text"):
        read_answer_file(f)
    f.write_text(json.dumps({"question_id": 1, "model_id": "m", "choices": [{"turns": ["a", ""]}]}) + "\n")
    assert read_answer_file(f)["1"][0] == ["a", ""]
