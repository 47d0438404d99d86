"""Build a judge and the provider behind it from a :class:`~arena.config.JudgeConfig`.

The pipeline, ``arena validate`` and ``arena meta-eval`` all come here; the judge's provider spec decides
how it is built (:meth:`~arena.providers.specs.ProviderSpec.build_judge`), so nothing here tests a name.
"""

from __future__ import annotations

from typing import Any, Literal

from arena.config.schema import JudgeConfig
from arena.judging.judge import Judge
from arena.judging.prompts import load_prompt_set
from arena.providers.base import Provider
from arena.providers.specs import FakeSpec


def judge_spec(jc: JudgeConfig) -> dict[str, Any]:
    """What about the judge changes its verdicts (base URLs and keys do not): part of every judgment key."""
    return jc.spec.judge_key_part() | {"generation": jc.generation.model_dump(), "verdict": jc.verdict}


def as_fake(jc: JudgeConfig) -> JudgeConfig:
    """The same judge config with the seeded fake judge as its provider (``--dry-run``)."""
    if isinstance(jc.spec, FakeSpec):
        return jc
    return jc.model_copy(update={"spec": FakeSpec(concurrency=jc.spec.concurrency, batch_size=jc.spec.batch_size)})


def build_judge(jc: JudgeConfig) -> Judge:
    """The judge of ``jc``: its prompt set in its mode (fails early if the set lacks the mode)."""
    prompts = load_prompt_set(jc.prompts)
    kind: Literal["pairwise", "single"] = "single" if jc.mode == "single" else "pairwise"
    prompts.select(kind, multi_turn=False, reference=False)
    return Judge(prompts=prompts, mode=jc.mode, judge_id=jc.name or jc.spec.judge_id(), spec=judge_spec(jc),
                 max_answer_chars=jc.max_answer_chars)


def build_judge_provider(jc: JudgeConfig, judge: Judge, *, seed: int) -> Provider:
    """The provider that answers ``judge``'s prompts, wrapped to read label probabilities when asked.

    ``verdict: logprobs`` on a provider that can score labels is one forward pass per game; on any other
    (or with ``generation.logprobs``), the reply is generated and its label probabilities read.
    """
    from arena.judging.logprobs import LogprobJudgeProvider, VerdictProbabilities

    provider = jc.spec.build_judge(judge, seed=seed)
    if not jc.spec.has_label_probabilities:  # e.g. the fake judge: it writes verdicts, nothing to read
        return provider
    if jc.verdict == "logprobs" and jc.spec.scores_labels:
        return LogprobJudgeProvider(provider, judge)
    if jc.verdict == "logprobs" or jc.generation.logprobs:
        return VerdictProbabilities(provider, judge, top_logprobs=jc.generation.logprobs or 20)
    return provider
