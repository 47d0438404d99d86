"""The provider interface: one batch-first method. Which provider a config means, and how it is built,
is its spec's business (:mod:`arena.providers.specs`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Message = dict[str, str]
"""``{"role": "system" | "user" | "assistant", "content": str}``."""
Conversation = list[Message]


class GenerationSettings(BaseModel):
    """Sampling settings for one call. Recorded with every answer and part of its key."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(512, ge=1)
    """Upper bound on generated tokens per turn."""
    temperature: float = Field(0.0, ge=0.0)
    """0 means greedy decoding."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int | None = Field(None, ge=1)
    seed: int | None = None
    """Sampling seed; defaults to the config's ``seed``."""
    stop: list[str] | None = None
    logprobs: int | None = Field(None, ge=0, le=20)
    """Ask for the top-N log-probabilities of each generated token (judges use this)."""

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


CHARS_PER_TOKEN = 4
"""Characters per token assumed where no tokenizer is at hand (English text with GPT-style BPE tokenizers)."""


def approx_tokens(text: str) -> int:
    """Token count of ``text`` estimated from its length (``CHARS_PER_TOKEN`` characters a token, rounded up).

    The one estimator of the package: the dry-run cost estimate and the fake provider's counts use it, so a
    rehearsal with the fake judge and the estimate for the real judge count the same prompts the same way.
    """
    return -(-len(text) // CHARS_PER_TOKEN)


def approx_conversation_tokens(conversation: Conversation) -> int:
    """:func:`approx_tokens` summed over the messages of a conversation."""
    return sum(approx_tokens(m["content"]) for m in conversation)


@dataclass
class Completion:
    """One generated reply."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    logprobs: list[dict[str, float]] | None = None
    """Per generated token: ``{token_text: logprob}`` of the top candidates, when asked for."""
    error: str | None = None
    """Set when this one item failed after retries; the rest of the batch still counts."""
    finish_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """A model backend. Implementations take their options as keyword arguments."""

    name: str

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """Return one completion per conversation, in order."""
        ...


class StreamingProvider(ABC):
    """A provider that can also yield each completion as it returns (the reviewer writes it at once).

    Subclass it (or register a class with ``StreamingProvider.register``) to declare the capability.
    """

    name: str

    @abstractmethod
    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """Return one completion per conversation, in order."""

    @abstractmethod
    def generate_iter(self, conversations: Sequence[Conversation],
                      settings: GenerationSettings) -> Iterator[tuple[int, Completion]]:
        """Yield ``(index, completion)`` as each call returns, in any order."""


def completion_batches(provider: StreamingProvider, conversations: Sequence[Conversation],
                       settings: GenerationSettings) -> Iterator[list[tuple[int, Completion]]]:
    """``provider.generate_iter`` a list at a time: the provider's own ``generate_batches`` (the replies
    that returned together) where it has one, else one reply per list."""
    batches = getattr(provider, "generate_batches", None)
    if callable(batches):
        yield from batches(conversations, settings)
        return
    for item in provider.generate_iter(conversations, settings):
        yield [item]
