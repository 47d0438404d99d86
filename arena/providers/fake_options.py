"""Options of the ``fake`` provider (offline, deterministic): scripted or seeded-random replies, and as a judge
seeded verdicts in the prompt set's format. Config-side only (pydantic): no provider code is imported."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_FAKE_WORDS = 100_000
"""Longest random reply of the fake provider, in words (about 600 KB of text): far past any ``max_new_tokens``,
which cuts every reply anyway; more only fills memory (``max_words: 1e30`` never finished)."""
MAX_FAKE_LATENCY_S = 3600.0
"""Longest pause per fake reply: an hour rehearses any progress bar; more reads as a hang."""


FAKE_JUDGE_SCRIPT = ("fake.script scripts a fake candidate's answers; a fake judge draws its verdicts from tie_rate, "
                     "position_bias and failure_rate: drop script")
"""Why a fake judge refuses ``fake.script`` (it would be ignored)."""


class FakeOptions(BaseModel):
    """Options of the ``fake`` provider (offline, deterministic)."""

    model_config = ConfigDict(extra="forbid")

    script: list[str] | None = None
    """Replies returned in call order (one per turn of each question). ``arena run`` and ``arena generate``
    refuse a script shorter than the calls they will make, before any model answers; called past its end,
    the provider raises :class:`~arena.errors.ProviderError`. Without a script: seeded random text."""
    seed: int | None = None
    min_words: int = Field(8, ge=1, le=MAX_FAKE_WORDS)
    max_words: int = Field(60, ge=1, le=MAX_FAKE_WORDS)
    """Random replies have ``min_words`` to ``max_words`` words (at most :data:`MAX_FAKE_WORDS`)."""
    latency_s: float = Field(0.0, ge=0, le=MAX_FAKE_LATENCY_S)
    """Seconds each reply takes (to rehearse progress bars, interrupts and crashes), at most an hour."""
    # Judge-only knobs: the fake judge emits verdicts in the prompt set's format.
    tie_rate: float = Field(0.1, ge=0, le=1)
    position_bias: float = Field(0.0, ge=-1, le=1)
    """Extra probability that position A wins (negative favours B)."""
    failure_rate: float = Field(0.0, ge=0, le=1)
    """Share of replies with no parsable verdict."""

    @field_validator("script")
    @classmethod
    def _script_answers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("fake.script is empty, so it answers no call; give at least 1 reply, or drop script "
                             "for seeded random text")
        return value

    @model_validator(mode="after")
    def _word_range(self) -> FakeOptions:
        if self.min_words > self.max_words:
            raise ValueError(f"fake.min_words {self.min_words} is above fake.max_words {self.max_words}; lower "
                             "min_words or raise max_words")
        return self
