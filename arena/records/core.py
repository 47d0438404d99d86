"""Typed records that flow between stages (questions, answers, judgments, battles), one JSON object per line on disk.

Every record that costs something to make carries a ``key``: the content hash of everything that
determines it (see :mod:`arena.keys`). Stages skip keys already on disk.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from arena.keys import content_key

Verdict = Literal["A>>B", "A>B", "A=B", "B>A", "B>>A"]
"""Pairwise verdict labels, from the point of view of the positions shown to the judge."""

VERDICTS: tuple[str, ...] = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
Winner = Literal["model_a", "model_b", "tie", "tie (bothbad)"]
WINNERS: tuple[str, ...] = ("model_a", "model_b", "tie", "tie (bothbad)")
Mode = Literal["single", "pairwise-baseline", "pairwise-all"]


def now_iso() -> str:
    """UTC timestamp in ISO 8601, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class _Record(BaseModel):
    # Unknown fields from newer versions are dropped, never an error: old readers keep working. Validators are
    # built on first use (defer_build), so a command that validates no record does not build them at import
    # (importing the records took 0.26 s instead of 0.12 s on a busy 2-core machine).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Question(_Record):
    """One question: one or more user turns, optional reference answers (one per turn)."""

    question_id: str = Field(min_length=1)
    category: str = "general"
    turns: list[str] = Field(min_length=1)
    reference: list[str] | None = None

    @field_validator("question_id", mode="before")
    @classmethod
    def _id_to_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @property
    def content_key(self) -> str:
        """Key of what a candidate sees: id and turns (not the reference)."""
        return _question_key(self.question_id, tuple(self.turns))


@lru_cache(maxsize=65536)
def _question_key(question_id: str, turns: tuple[str, ...]) -> str:
    """:attr:`Question.content_key`, computed once per question (every judgment key of its games holds it)."""
    return content_key({"question_id": question_id, "turns": list(turns)})


class GeneratedWith(_Record):
    """What produced an answer beyond its config: the runtime, as the provider reports it.

    Recorded with every generated answer (None for answers written before this record existed and for
    pre-generated answers), so ``arena diff`` can name a runtime change that no config key shows: a new
    chat template, another batch size, dtype, device, library version, or a different model behind an
    endpoint. Values are those of the answer's first turn.
    """

    engine: str | None = None
    """The provider that generated it (``transformers``, ``openai``, ``fake``, ...)."""
    batch_size: int | None = None
    """The provider's batch size setting (conversations per forward batch for a local model)."""
    padding_side: str | None = None
    """Side the prompts of a batch were padded on (local models)."""
    chat_template_hash: str | None = None
    """Short SHA-256 of the tokenizer's chat template (``"none"`` when the tokenizer has none)."""
    device: str | None = None
    dtype: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    """Versions of the libraries that generated it (e.g. torch, transformers)."""
    served_model: str | None = None
    """The model name the endpoint reported in its reply (OpenAI-compatible servers)."""
    system_fingerprint: str | None = None
    """The endpoint's ``system_fingerprint``, where it sends one."""
    endpoint: str | None = None
    """The base URL that answered (credentials removed), when several share the load."""


class Answer(_Record):
    """A candidate's answer to every turn of one question."""

    key: str
    question_id: str
    model: str
    turns: list[str]
    spec: dict[str, Any] = Field(default_factory=dict)
    """Provider, model, system prompt and generation settings that produced the answer."""
    prompt_tokens: list[int] = Field(default_factory=list)
    completion_tokens: list[int] = Field(default_factory=list)
    latency_s: list[float] = Field(default_factory=list)
    created: str = Field(default_factory=now_iso)
    error: str | None = None
    generated_with: GeneratedWith | None = None
    """The runtime that generated it (see :class:`GeneratedWith`); None when unknown."""


class Judgment(_Record):
    """One judge call: the game it judged, the raw reply and what was parsed from it."""

    key: str
    game_key: str
    """Same for both orders of a pair: joins the two calls when measuring order flips."""
    mode: Mode
    question_id: str
    category: str = "general"
    turn: int = Field(1, ge=1)
    model_a: str
    model_b: str | None = None
    answer_a: str
    answer_b: str | None = None
    swapped: bool = False
    """True when the pair is shown in the reverse of its canonical order."""
    judge: str
    prompt_set: str
    prompt_name: str
    prompt_version: str
    output: str = ""
    verdict: Verdict | None = None
    score: float | None = None
    probabilities: dict[str, float] | None = None
    """Label probabilities when the judge exposes logprobs."""
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    notes: list[str] = Field(default_factory=list)
    faults: list[str] = Field(default_factory=list)
    """Kinds of the failed attempts behind this result (``rate_limited``, ``timeout``, ...), retried or final."""
    created: str = Field(default_factory=now_iso)

    @property
    def ok(self) -> bool:
        return self.error is None


class Battle(_Record):
    """One judged pairwise game in Chatbot Arena / FastChat columns.

    ``count`` is what ``n`` identical rows mean for every rater (fit, bootstrap and the battles/wins
    columns); aggregated sources (pair counts) write one row of count ``n``. ``weight`` stays a
    per-battle weight. ``question_id`` may be None when the source had none: every battle (a row of
    count n: n battles) is then its own resampling unit, as ``arena rate`` treats such a file.
    """

    question_id: str | None = None
    model_a: str
    model_b: str
    winner: Winner
    judge: str = ""
    turn: int = Field(1, ge=0)  # as battle tables may hold it (0-based turns); a judgment's is at least 1
    category: str = "general"
    weight: float = 1.0
    count: float = 1.0
    key: str = ""
    game_key: str = ""
    swapped: bool = False
    # Answer features for style control (Chatbot Arena's): answer length in characters and counts of
    # markdown headers, list items and bold spans, for the answer shown in each position.
    len_a: float | None = None
    len_b: float | None = None
    header_a: float | None = None
    header_b: float | None = None
    list_a: float | None = None
    list_b: float | None = None
    bold_a: float | None = None
    bold_b: float | None = None

    @field_validator("question_id", mode="before")
    @classmethod
    def _id_to_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v
