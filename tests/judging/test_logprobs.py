"""Probability-weighted verdicts: label probabilities from top logprobs, and the scoring judge wrapper."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from arena.errors import UserError
from arena.judging.logprobs import (
    LogprobJudgeProvider,
    VerdictProbabilities,
    label_probabilities,
    verdict_conversation,
)
from arena.judging.parsers import get_format
from arena.providers.base import Completion, Conversation, GenerationSettings

ln = math.log


def test_abc_at_the_token_after_the_last_brackets() -> None:
    tokens = ["Format", " [[", "A", "]]", " verdict", " [[", "B", "]]"]
    per = [{t: 0.0} for t in tokens]
    per[2] = {"A": ln(0.9), "B": ln(0.1)}  # the quoted format: ignored
    per[6] = {"B": ln(0.6), "A": ln(0.3), "C": ln(0.05), "The": ln(0.05)}
    probs = label_probabilities(per, get_format("brackets-abc").labels, tokens=tokens)
    assert probs == pytest.approx({"A": 0.3 / 0.95, "B": 0.6 / 0.95, "C": 0.05 / 0.95})


def test_bracket_merged_into_the_label_token() -> None:
    tokens = ["Verdict:", " [[A", "]]"]
    per = [{"Verdict:": 0.0}, {" [[A": ln(0.5), " [[B": ln(0.25), " [[C": ln(0.25), " ": ln(0.1)}, {"]]": 0.0}]
    assert label_probabilities(per, ["A", "B", "C"], tokens=tokens) == pytest.approx({"A": 0.5, "B": 0.25, "C": 0.25})


def test_leading_space_alternatives_count() -> None:
    tokens = ["[[", " A", "]]"]
    per = [{"[[": 0.0}, {" A": ln(0.4), "A": ln(0.2), " B": ln(0.4)}, {"]]": 0.0}]
    assert label_probabilities(per, ["A", "B", "C"], tokens=tokens) == pytest.approx({"A": 0.6, "B": 0.4, "C": 0.0})


def test_rating_one_versus_ten_split_by_the_next_token() -> None:
    # "[[" "1" "0" "]]": P(first "1") = 0.8, then P("0" | "1") = 0.75 -> P(10) = 0.6, P(1) = 0.2
    tokens = ["[[", "1", "0", "]]"]
    per = [{"[[": 0.0}, {"1": ln(0.8), "9": ln(0.2)}, {"0": ln(0.75), "]]": ln(0.25)}, {"]]": 0.0}]
    probs = label_probabilities(per, get_format("brackets-rating").labels, tokens=tokens)
    assert probs is not None
    assert probs["10"] == pytest.approx(0.6) and probs["1"] == pytest.approx(0.2) and probs["9"] == pytest.approx(0.2)


def test_five_labels_two_steps() -> None:
    tokens = ["[[", "A", ">>", "B", "]]"]
    per = [{"[[": 0.0}, {"A": ln(0.8), "B": ln(0.2)}, {">>": ln(0.5), ">": ln(0.25), "=": ln(0.25)}, {"B": 0.0}, {"]]": 0.0}]
    probs = label_probabilities(per, get_format("brackets-five").labels, tokens=tokens)
    assert probs is not None
    # ">" may still become ">>" (two ">" tokens), so its mass is shared by A>B and A>>B
    assert probs["A>>B"] == pytest.approx(0.4 + 0.1) and probs["A>B"] == pytest.approx(0.1)
    assert probs["A=B"] == pytest.approx(0.2)
    # the unexplored side shares its mass equally
    assert probs["B>A"] == pytest.approx(0.1) and probs["B>>A"] == pytest.approx(0.1)
    assert sum(probs.values()) == pytest.approx(1.0)


def test_tokens_rebuilt_from_text() -> None:
    per = [{"My": 0.0, "The": -3.0}, {" verdict": 0.0}, {" [[": 0.0}, {"C": ln(0.7), "A": ln(0.3)}, {"]]": 0.0}]
    probs = label_probabilities(per, ["A", "B", "C"], text="My verdict [[C]]")
    assert probs == pytest.approx({"A": 0.3, "B": 0.0, "C": 0.7})


@pytest.mark.parametrize("tokens", [["no", " verdict"], ["[["], []])
def test_no_verdict_position(tokens: list[str]) -> None:
    assert label_probabilities([{t: 0.0} for t in tokens], ["A", "B", "C"], tokens=tokens) is None


class FakeScorer:
    """A local provider stand-in: ``score_next_token`` from a fixed table, recording the prompts."""

    name = "transformers"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.seen: list[Conversation] = []

    def score_next_token(self, conversations: Sequence[Conversation], candidates: list[str]) -> list[dict[str, float]]:
        self.seen.extend(conversations)
        return [{c: self.scores[c] for c in candidates} for _ in conversations]

    def encode(self, conversation: Conversation, max_new_tokens: int = 0) -> tuple[list[int], int]:
        return list(range(sum(len(m["content"].split()) for m in conversation))), 0


def test_verdict_conversation_prefills() -> None:
    conv = [{"role": "system", "content": "sys"}, {"role": "user", "content": "question"}]
    out = verdict_conversation(conv, "Output only your final verdict.")
    assert out[1]["content"] == "question\n\nOutput only your final verdict."
    assert out[-1] == {"role": "assistant", "content": "[["}
    assert conv[1]["content"] == "question"  # input untouched


def test_logprob_judge_writes_the_argmax_label(make_judge) -> None:
    judge = make_judge()
    scorer = FakeScorer({"A": ln(0.2), "B": ln(0.7), "C": ln(0.1)})
    conv = [{"role": "user", "content": "judge this"}]
    [c] = LogprobJudgeProvider(scorer, judge).generate([conv], GenerationSettings())
    assert c.text == "[[B]]" and judge.parse(c.text).verdict == "B>A"
    assert c.meta["probabilities"] == pytest.approx({"A": 0.2, "B": 0.7, "C": 0.1})
    assert c.completion_tokens == 0 and c.prompt_tokens > 0
    assert scorer.seen[0][-1] == {"role": "assistant", "content": "[["}


def test_logprob_judge_rating_and_five(make_judge) -> None:
    scores = {str(i): ln(0.05) for i in range(1, 11)} | {"7": ln(0.55)}
    [c] = LogprobJudgeProvider(FakeScorer(scores), make_judge(mode="single")).generate([[{"role": "user", "content": "x"}]], GenerationSettings())
    assert c.text == "[[7]]" and make_judge(mode="single").parse(c.text).score == 7
    five = {"A>>B": ln(0.1), "A>B": ln(0.1), "A=B": ln(0.1), "B>A": ln(0.2), "B>>A": ln(0.5)}
    judge5 = make_judge(prompts="arena-hard")
    [c5] = LogprobJudgeProvider(FakeScorer(five), judge5).generate([[{"role": "user", "content": "x"}]], GenerationSettings())
    assert judge5.parse(c5.text).verdict == "B>>A"


def test_logprob_judge_needs_a_scorer(make_judge) -> None:
    class NoScore:
        name = "openai"

    with pytest.raises(UserError, match="verdict: generate"):
        LogprobJudgeProvider(NoScore(), make_judge())


class WithLogprobs:
    name = "openai"

    def __init__(self) -> None:
        self.settings: list[GenerationSettings] = []

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        self.settings.append(settings)
        per = [{"[[": 0.0}, {"A": ln(0.75), "B": ln(0.25)}, {"]]": 0.0}]
        return [Completion(text="[[A]]", logprobs=per, meta={"tokens": ["[[", "A", "]]"]}) for _ in conversations]


def test_verdict_probabilities_wrapper(make_judge) -> None:
    inner = WithLogprobs()
    wrapped = VerdictProbabilities(inner, make_judge(), top_logprobs=5)
    out = wrapped.generate([[{"role": "user", "content": "x"}]] * 2, GenerationSettings())
    assert inner.settings[0].logprobs == 5
    assert all(c.meta["probabilities"] == {"A": 0.75, "B": 0.25, "C": 0.0} for c in out)
    assert list(wrapped.generate_iter([[{"role": "user", "content": "x"}]], GenerationSettings()))[0][0] == 0


def test_verdict_probabilities_over_http(stub_server, make_judge) -> None:
    from arena.providers.openai_api import OpenAIProvider
    from tests.helpers.openai_stub import chat_reply

    lp = [{"token": "[[", "logprob": 0.0, "top_logprobs": []},
          {"token": "C", "logprob": ln(0.5), "top_logprobs": [{"token": "C", "logprob": ln(0.5)}, {"token": "A", "logprob": ln(0.5)}]},
          {"token": "]]", "logprob": 0.0, "top_logprobs": []}]
    server = stub_server(lambda n, r: chat_reply("[[C]]", logprobs=lp))
    wrapped = VerdictProbabilities(OpenAIProvider("stub", base_url=server.url), make_judge())
    [(i, c)] = list(wrapped.generate_iter([[{"role": "user", "content": "x"}]], GenerationSettings()))
    assert server.requests[0]["top_logprobs"] == 20
    assert c.meta["probabilities"] == {"A": 0.5, "B": 0.0, "C": 0.5}


def test_pipeline_wires_the_wrappers(tmp_path, monkeypatch) -> None:
    from arena.config import config_from_dict
    from arena.judging.factory import build_judge, build_judge_provider

    def make_judge_provider(cfg: Any, judge: Any) -> Any:
        return build_judge_provider(cfg.judge, judge, seed=cfg.seed)

    def make_judge(cfg: Any) -> Any:
        return build_judge(cfg.judge)

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    base: dict[str, Any] = {"questions": {"set": "mt_bench", "limit": 1},
                            "models": {"a": {"provider": "fake"}, "b": {"provider": "fake"}}}
    cfg = config_from_dict(base | {"judge": {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:1/v1",
                                             "verdict": "logprobs"}}, tmp_path / "c.yaml")
    assert isinstance(make_judge_provider(cfg, make_judge(cfg)), VerdictProbabilities)
    cfg2 = config_from_dict(base | {"judge": {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:1/v1"}},
                            tmp_path / "c.yaml")
    assert make_judge_provider(cfg2, make_judge(cfg2)).name == "openai"
