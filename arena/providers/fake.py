"""The ``fake`` provider: offline and deterministic. Powers ``--dry-run`` and the tests.

Three ways to answer, in order of precedence:

- ``script``: a list of replies returned in call order; running out raises :class:`ProviderError`.
- ``fn``: a function ``(conversation, rng) -> str``.
- otherwise seeded random text whose content depends only on the seed and the conversation, so the
  same prompt gets the same reply whatever the batch or the order.

Token counts are estimated from text length (:func:`~arena.providers.base.approx_tokens`), the same way the
dry-run estimate counts a real judge's prompts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from arena.errors import ProviderError
from arena.keys import seed_from
from arena.providers.base import (
    CHARS_PER_TOKEN,
    Completion,
    Conversation,
    GenerationSettings,
    approx_conversation_tokens,
    approx_tokens,
)

_WORDS = (
    "the answer depends on context and a careful reading of the question shows that several factors matter "
    "first consider the main point then weigh the evidence for each option because clear reasoning helps "
    "in practice most people find that simple steps work best while details vary by case example result"
).split()

Responder = Callable[[Conversation, random.Random], str]


def random_text(rng: random.Random, min_words: int, max_words: int) -> str:
    """Plausible-looking filler text, sometimes with markdown (so style features vary)."""
    n = rng.randint(min_words, max(min_words, max_words))
    words = [rng.choice(_WORDS) for _ in range(n)]
    text = " ".join(words).capitalize() + "."
    style = rng.random()
    if style < 0.2:
        text = "## Answer\n\n" + text
    elif style < 0.4:
        text = text + "\n\n- **first** point\n- second point"
    return text


class FakeProvider:
    """Scripted, functional or seeded-random replies; never touches the network."""

    name = "fake"

    def __init__(
        self,
        *,
        script: Sequence[str] | None = None,
        fn: Responder | None = None,
        seed: int = 0,
        min_words: int = 8,
        max_words: int = 60,
        latency_s: float = 0.0,
    ) -> None:
        self.script = list(script) if script is not None else None
        self.fn = fn
        self.seed = seed
        self.min_words = min_words
        self.max_words = max_words
        self.latency_s = latency_s
        self.calls = 0
        self._next = 0

    def _reply(self, conversation: Conversation, settings: GenerationSettings) -> str:
        if self.script is not None:
            if self._next >= len(self.script):
                raise ProviderError(
                    f"fake provider: the script ran out after {len(self.script)} replies; "
                    "add replies to 'script' or drop it for random text"
                )
            reply = self.script[self._next]
            self._next += 1
            return reply
        rng = random.Random(seed_from(self.seed, settings.seed, settings.temperature, conversation))
        if self.fn is not None:
            return self.fn(conversation, rng)
        return random_text(rng, self.min_words, self.max_words)

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        out = []
        for conv in conversations:
            start = time.perf_counter()
            if self.latency_s:
                time.sleep(self.latency_s)
            text = self._reply(conv, settings)
            finish = "stop"
            if approx_tokens(text) > settings.max_new_tokens:  # as a real model stops at its token budget
                text, finish = text[: settings.max_new_tokens * CHARS_PER_TOKEN], "length"
            self.calls += 1
            out.append(
                Completion(
                    text=text,
                    prompt_tokens=approx_conversation_tokens(conv),
                    completion_tokens=approx_tokens(text),
                    latency_s=time.perf_counter() - start,
                    finish_reason=finish,
                )
            )
        return out
