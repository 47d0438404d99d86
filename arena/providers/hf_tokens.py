"""Token-level helpers of the transformers provider: stop strings, generated-token counts, top logprobs."""

from __future__ import annotations

import math
from typing import Any

import torch
from transformers import StoppingCriteria


class StopOnStrings(StoppingCriteria):
    """Stop a row once the text it generated contains a stop string.

    transformers' own ``stop_strings`` builds a token-to-string table that fails on some tokenizers (word-level,
    odd prefixes); decoding a short tail of each row works with any tokenizer.
    """

    def __init__(self, stop: list[str], tokenizer: Any, prompt_width: int) -> None:
        self.stop = [s for s in stop if s]
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        # A token decodes to at least one character, so a stop string lies within its length in tokens.
        self.window = max((len(s) for s in self.stop), default=1) + 2

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        tails = input_ids[:, self.prompt_width :][:, -self.window :].tolist()
        done = [
            any(s in self.tokenizer.decode(row, skip_special_tokens=True) for s in self.stop) for row in tails
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def count_generated(tokens: list[int], eos_ids: set[int], pad_id: int | None) -> tuple[int, bool]:
    """Generated tokens up to and including the first EOS (``True``), else without trailing padding."""
    for k, t in enumerate(tokens):
        if t in eos_ids:
            return k + 1, True
    n = len(tokens)
    # Rows that stopped on a stop string are padded to the batch's length afterwards.
    while n and pad_id is not None and tokens[n - 1] == pad_id:
        n -= 1
    return n, False


def tokens_to_stop(tokens: list[int], stop: list[str], tokenizer: Any) -> int:
    """The fewest leading tokens whose text contains a stop string (binary search; containment is monotone)."""
    lo, hi = 1, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if trim_stop(tokenizer.decode(tokens[:mid], skip_special_tokens=True), stop)[1]:
            hi = mid
        else:
            lo = mid + 1
    return hi


def trim_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    if not stop:
        return text, False
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def top_logprobs(
    logits: tuple[torch.Tensor, ...], row: int, tokens: list[int], top_n: int, tokenizer: Any
) -> tuple[list[dict[str, float]], list[float]]:
    """Top-``top_n`` log-probabilities per generated token, plus the chosen token's when outside the top.

    Uses the raw logits (the model's distribution), not the temperature/top-p warped scores.
    """
    per_token: list[dict[str, float]] = []
    chosen: list[float] = []
    for step, token in enumerate(tokens):
        logp = torch.log_softmax(logits[step][row].float(), dim=-1)
        entry: dict[str, float] = {}
        if top_n:
            values, ids = torch.topk(logp, top_n)
            for v, t in zip(values.tolist(), ids.tolist(), strict=True):
                entry.setdefault(tokenizer.decode([t]), v)
        entry.setdefault(tokenizer.decode([token]), float(logp[token]))
        per_token.append(entry)
        chosen.append(float(logp[token]))
    return per_token, chosen


def logsumexp(values: list[float]) -> float:
    """``log(sum(exp(v)))`` without overflow; ``-inf`` when every value is."""
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))
