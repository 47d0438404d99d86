"""Probability-weighted verdicts: label probabilities at the verdict position.

Two ways to get them:

- :class:`VerdictProbabilities` wraps a generating judge (OpenAI-compatible or local) that returns
  per-token top log-probabilities; :func:`label_probabilities` finds the verdict position (the token after
  the last ``[[``) and reads the labels' probabilities there.
- :class:`LogprobJudgeProvider` (``judge.verdict: logprobs`` with a local transformers judge) generates
  nothing: it asks for the verdict only, prefills the assistant turn with ``[[`` and scores every label as
  the continuation in one forward pass per batch (``score_next_token``). Its reply is the most probable
  label written as the parser expects (``[[A]]``), so the usual parser reads it.

Either way the probabilities land in ``Completion.meta["probabilities"]`` (label as the judge writes it ->
probability, summing to 1), which the reviewer copies into ``Judgment.probabilities``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

from arena.errors import UserError
from arena.judging.judge import Judge
from arena.judging.parsers import available_formats, get_format
from arena.providers.base import Completion, Conversation, GenerationSettings, StreamingProvider

VERDICT_OPEN = "[["

_LABEL_CHARS = set("<>=.")


def labels_for(judge: Judge) -> tuple[str, ...]:
    """The verdict labels of ``judge``'s verdict format (as written between ``[[`` and ``]]``).

    Raises:
        UserError: The format has no labels (or no instruction asking for them) to score.
    """
    fmt = judge.verdict_format
    if not fmt.labels or not fmt.instruction:
        scorable = [n for n in available_formats() if get_format(n).labels and get_format(n).instruction]
        raise UserError(
            f"judge.verdict: logprobs does not know the labels of parser '{judge.parser_name}'. "
            f"Supported: {', '.join(scorable)}; or use judge.verdict: generate"
        )
    return fmt.labels


# ---------------------------------------------------------------------------------------- from top logprobs


def _consistent(label: str, written: str) -> bool:
    """Can ``written`` (label text read so far) still be, or already be, ``label``?"""
    if label.startswith(written):
        return True
    if written.startswith(label):
        tail = written[len(label):]
        return not (tail[0].isalnum() or tail[0] in _LABEL_CHARS)
    return False


def _chosen_tokens(per_token: Sequence[dict[str, float]], text: str) -> list[str]:
    """Rebuild the sampled tokens from the text when the provider did not report them."""
    tokens, pos = [], 0
    for entry in per_token:
        fits = [t for t in entry if t and text.startswith(t, pos)]
        token = max(fits, key=len) if fits else max(entry, key=lambda t: entry[t])
        tokens.append(token)
        pos += len(token)
    return tokens


def label_probabilities(
    per_token: Sequence[dict[str, float]],
    labels: Sequence[str],
    *,
    tokens: Sequence[str] | None = None,
    text: str = "",
) -> dict[str, float] | None:
    """Probabilities of ``labels`` at the verdict position, from per-token top log-probabilities.

    The verdict position is right after the last ``[[`` in the generated tokens. Starting there, the walk
    follows the sampled tokens: at each step the probability of every alternative token goes to the labels
    it is consistent with, and the walk goes on only while the sampled path leaves several labels open (so
    ``1`` vs ``10`` and ``A>B`` vs ``A>>B`` are told apart where the tokens allow). Mass on an alternative
    that several labels share and no later step can split is divided equally among them; mass on tokens
    that are no label is dropped and the rest renormalised.

    Args:
        per_token: Per generated token ``{token: logprob}`` (top candidates plus the sampled token).
        labels: Label strings, e.g. ``["A", "B", "C"]``.
        tokens: The sampled tokens; rebuilt from ``text`` when missing.
        text: The generated text (used only to rebuild ``tokens``).

    Returns:
        ``{label: probability}`` summing to 1, or None when there is no ``[[`` or no label mass.
    """
    if not per_token:
        return None
    chosen = list(tokens) if tokens is not None else _chosen_tokens(per_token, text)
    joined = "".join(chosen)
    open_at = joined.rfind(VERDICT_OPEN)
    if open_at < 0:
        return None
    target = open_at + len(VERDICT_OPEN)
    starts = [0]
    for t in chosen:
        starts.append(starts[-1] + len(t))
    k = next((i for i in range(len(chosen)) if starts[i] <= target < starts[i + 1]), None)
    if k is None:
        return None
    mass = {label: 0.0 for label in labels}
    live = list(labels)
    path_p = 1.0
    written = ""
    prefix = joined[starts[k]:target]  # part of token k before the label ("[[" when it is one token)
    while k < len(chosen) and len(live) > 1:
        options: dict[str, float] = {}
        for token, lp in per_token[k].items():
            if not token.startswith(prefix):
                continue
            rest = token[len(prefix):]
            rest = rest.lstrip() if not written else rest
            if rest:
                options[rest] = options.get(rest, 0.0) + math.exp(lp)
        sampled = chosen[k][len(prefix):]
        sampled = sampled.lstrip() if not written else sampled
        next_written = written + sampled
        for rest, p in options.items():
            if rest == sampled:
                continue
            group = [label for label in live if _consistent(label, written + rest)]
            for label in group:
                mass[label] += path_p * p / len(group)
        p_sampled = options.get(sampled, 0.0)
        live = [label for label in live if _consistent(label, next_written)] if sampled else live
        if not live or p_sampled == 0.0:
            break
        path_p *= p_sampled
        written = next_written
        prefix = ""
        k += 1
    else:
        for label in live:
            mass[label] += path_p / len(live)
    total = sum(mass.values())
    if total <= 0:
        return None
    return {label: m / total for label, m in mass.items()}


class VerdictProbabilities(StreamingProvider):
    """Wrap a generating judge provider: ask for top logprobs, add ``meta["probabilities"]``.

    Args:
        inner: A provider whose completions carry ``logprobs`` (openai, transformers).
        judge: The judge whose parser's labels are read.
        top_logprobs: Ask for this many alternatives per token when the settings ask for none.
    """

    def __init__(self, inner: Any, judge: Judge, *, top_logprobs: int = 20) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "judge")
        self.labels = labels_for(judge)
        self.top_logprobs = top_logprobs

    def _settings(self, settings: GenerationSettings) -> GenerationSettings:
        if settings.logprobs:
            return settings
        return settings.model_copy(update={"logprobs": self.top_logprobs})

    def _annotate(self, c: Completion) -> Completion:
        if c.error is None and c.logprobs:
            probs = label_probabilities(c.logprobs, self.labels, tokens=c.meta.get("tokens"), text=c.text)
            if probs is not None:
                c.meta["probabilities"] = {k: round(v, 6) for k, v in probs.items()}
        return c

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """The inner provider's completions, with label probabilities where logprobs came back."""
        return [self._annotate(c) for c in self.inner.generate(conversations, self._settings(settings))]

    def generate_iter(
        self, conversations: Sequence[Conversation], settings: GenerationSettings
    ) -> Iterator[tuple[int, Completion]]:
        """As :meth:`generate`, yielding ``(index, completion)`` as each finishes (when the inner provider can)."""
        if isinstance(self.inner, StreamingProvider):
            for i, c in self.inner.generate_iter(conversations, self._settings(settings)):
                yield i, self._annotate(c)
        else:
            yield from enumerate(self.generate(conversations, settings))


# ---------------------------------------------------------------------------------------- scored locally


def verdict_conversation(conversation: Conversation, instruction: str) -> Conversation:
    """The judge conversation asking for the verdict only, with the assistant turn prefilled with ``[[``."""
    conv = [dict(m) for m in conversation]
    for m in reversed(conv):
        if m["role"] == "user":
            m["content"] = f"{m['content']}\n\n{instruction}"
            break
    conv.append({"role": "assistant", "content": VERDICT_OPEN})
    return conv


class LogprobJudgeProvider:
    """A local judge that scores the verdict labels instead of generating (``judge.verdict: logprobs``).

    Args:
        inner: A provider with ``score_next_token(conversations, candidates) -> list[{label: logprob}]``
            (the transformers provider), normalised over the candidates.
        judge: The judge whose parser fixes the labels and how the reply is written.

    The reply text is the most probable label in the parser's format (``[[A]]``, ``[[A>B]]``, ``[[7]]``),
    ``meta["probabilities"]`` holds every label's probability, ``completion_tokens`` is 0 (nothing is
    generated) and ``latency_s`` is the batch's time divided by its size.
    """

    def __init__(self, inner: Any, judge: Judge) -> None:
        if not hasattr(inner, "score_next_token"):
            raise UserError(
                f"judge.verdict: logprobs needs a local judge that can score labels (provider 'transformers'); "
                f"'{getattr(inner, 'name', inner)}' cannot; use judge.verdict: generate"
            )
        self.inner = inner
        self.name = getattr(inner, "name", "judge")
        self.labels = labels_for(judge)
        self.instruction = judge.verdict_format.instruction

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """One completion per conversation: the argmax label as text, all label probabilities in meta."""
        if not conversations:
            return []
        convs = [verdict_conversation(c, self.instruction) for c in conversations]
        start = time.perf_counter()
        scores = self.inner.score_next_token(convs, self.labels)
        latency = (time.perf_counter() - start) / len(convs)
        encode = getattr(self.inner, "encode", None)
        out = []
        for conv, logps in zip(convs, scores, strict=True):
            probs = {label: math.exp(lp) for label, lp in logps.items()}
            total = sum(probs.values()) or 1.0
            probs = {label: round(p / total, 6) for label, p in probs.items()}
            best = max(self.labels, key=lambda label: (probs.get(label, 0.0), -self.labels.index(label)))
            prompt_tokens = len(encode(conv, 1)[0]) if encode is not None else 0
            out.append(Completion(text=f"{VERDICT_OPEN}{best}]]", prompt_tokens=prompt_tokens, completion_tokens=0,
                                  latency_s=latency, finish_reason="scored", meta={"probabilities": probs}))
        return out
