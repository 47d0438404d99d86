"""Stage 1: candidates answer the questions. Writes ``answers/<model>.jsonl``.

Multi-turn questions are answered turn by turn: turn 2 is generated with turn 1's answer in the
conversation. Answers are written question by question as soon as all their turns are done, so a crash
loses at most the chunk in flight; a re-run skips answers already on disk (by content key).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from arena import __version__
from arena.config import ModelConfig
from arena.keys import content_key
from arena.providers.base import Conversation, Provider
from arena.records import Answer, Question
from arena.records.core import GeneratedWith
from arena.store import JsonlStore

log = logging.getLogger(__name__)


def model_spec(cfg: ModelConfig, seed: int, name: str) -> dict[str, Any]:
    """Everything about a candidate that determines its answers (and so their keys), and whose they are.

    The provider's part comes from its spec (:meth:`~arena.providers.specs.ProviderSpec.key_part`). The
    display ``name`` is part of the spec: two models never share an answer key (nor, through it, a
    judgment key), even when their settings are equal or their pre-generated texts are byte-identical
    (FastChat's MT-Bench files have 7 such collisions). Renaming a model therefore re-answers and
    re-judges it. ``seed`` stands in for ``generation.seed`` only for a model config built alone (a loaded
    config has every seed resolved).
    """
    generation = cfg.generation.model_copy(update={"seed": cfg.generation.seed if cfg.generation.seed is not None else seed})
    return {"name": name, **cfg.spec.key_part(), "system_prompt": cfg.system_prompt, "generation": generation.model_dump()}


def answer_key(question: Question, spec: dict[str, Any], turns: Sequence[str] | None = None) -> str:
    """Content key of one answer: the question's id and turns plus the model spec (which names the model).

    Pre-generated answers (``provider: answers``) are determined by their text, not by sampling settings, so
    their ``turns`` are part of the key: an edited answer is judged again while unchanged ones keep their
    judgments. The spec's ``name`` keeps two models apart even when their texts are identical.
    """
    # The file path of an `answers` provider is where the text comes from, not what it is; keep keys
    # stable when a run dir or answer file moves.
    stable = {k: v for k, v in spec.items() if k != "file"}
    parts: dict[str, Any] = {"question": question.content_key, "spec": stable}
    if turns is not None:
        parts["turns"] = list(turns)
    return content_key(parts)


def expected_keys(questions: Sequence[Question], spec: dict[str, Any], answers_source: Any = None) -> dict[str, str]:
    """Question id -> the key its answer has (pre-generated answers: read from their file)."""
    if answers_source is None:
        return {q.question_id: answer_key(q, spec) for q in questions}
    return {q.question_id: answer_key(q, spec, answers_source.lookup(q.question_id) or []) for q in questions}


def answers_path(run_dir: Path, model: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in model)
    return run_dir / "answers" / f"{safe}.jsonl"


def make_provider(cfg: ModelConfig, seed: int, name: str) -> Any:
    """Instantiate the provider a model config names (its spec imports the module now)."""
    return cfg.spec.build(seed=seed, name=name)


@dataclass
class GenerateStats:
    model: str
    total: int = 0
    done_before: int = 0
    generated: int = 0
    errors: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)


def _conversation(system_prompt: str | None, question: Question, previous: Sequence[str], turn: int) -> Conversation:
    conv: Conversation = []
    if system_prompt:
        conv.append({"role": "system", "content": system_prompt})
    for t in range(turn):
        conv.append({"role": "user", "content": question.turns[t]})
        conv.append({"role": "assistant", "content": previous[t]})
    conv.append({"role": "user", "content": question.turns[turn]})
    return conv


def runtime_of(provider: Provider, cfg: ModelConfig, reported: dict[str, Any] | None) -> GeneratedWith:
    """What generated an answer: the provider's own report (``Completion.meta["generated_with"]``) over
    what the config says (the provider's name, its batch size, and its device/dtype when its spec has them)."""
    base: dict[str, Any] = {"engine": getattr(provider, "name", None) or cfg.spec.provider,
                            "batch_size": cfg.spec.batch_size}
    for key in ("device", "dtype"):
        value = getattr(cfg.spec, key, None)
        if isinstance(value, str):
            base[key] = value
    return GeneratedWith.model_validate(base | {k: v for k, v in (reported or {}).items() if v is not None})


def _answer_chunk(
    provider: Provider, questions: Sequence[Question], name: str, cfg: ModelConfig, spec: dict[str, Any]
) -> list[Answer]:
    settings = cfg.generation.model_copy(update={"seed": spec["generation"]["seed"]})
    texts: list[list[str]] = [[] for _ in questions]
    ptoks: list[list[int]] = [[] for _ in questions]
    ctoks: list[list[int]] = [[] for _ in questions]
    lat: list[list[float]] = [[] for _ in questions]
    errors: list[str | None] = [None for _ in questions]
    runtime: list[GeneratedWith | None] = [None for _ in questions]
    for turn in range(max(len(q.turns) for q in questions)):
        idx = [i for i, q in enumerate(questions) if turn < len(q.turns) and errors[i] is None]
        if not idx:
            break
        convs = [_conversation(cfg.system_prompt, questions[i], texts[i], turn) for i in idx]
        completions = provider.generate(convs, settings)
        for i, c in zip(idx, completions, strict=True):
            texts[i].append(c.text)
            ptoks[i].append(c.prompt_tokens)
            ctoks[i].append(c.completion_tokens)
            lat[i].append(round(c.latency_s, 4))
            if runtime[i] is None:
                runtime[i] = runtime_of(provider, cfg, c.meta.get("generated_with"))
            if c.error:
                errors[i] = f"turn {turn + 1}: {c.error}"
    return [
        Answer(key=answer_key(q, spec), question_id=q.question_id, model=name, turns=texts[i], spec=spec | {"arena_version": __version__},
               prompt_tokens=ptoks[i], completion_tokens=ctoks[i], latency_s=lat[i], error=errors[i],
               generated_with=runtime[i])
        for i, q in enumerate(questions)
    ]


def unanswered(questions: Sequence[Question], store: JsonlStore[Answer], keys: Mapping[str, str]) -> list[Question]:
    """The questions generating asks a model for: those whose answer (under its key in ``keys``, by question id)
    is not in ``store`` yet, or is an error."""
    return [q for q in questions if (a := store.get(keys[q.question_id])) is None or a.error is not None]


def generate_answers(
    questions: Sequence[Question],
    name: str,
    cfg: ModelConfig,
    run_dir: Path,
    *,
    seed: int,
    provider_factory: Callable[[ModelConfig, int, str], Any] = make_provider,
    all_question_ids: set[str] | None = None,
    progress: bool = True,
) -> GenerateStats:
    """Answer every question not yet answered by this model spec; returns what was done."""
    spec = model_spec(cfg, seed, name)
    store = JsonlStore(answers_path(run_dir, name), Answer)
    stats = GenerateStats(model=name, total=len(questions))
    answers_source = provider_factory(cfg, seed, name) if cfg.spec.pregenerated else None
    todo = unanswered(questions, store, expected_keys(questions, spec, answers_source))
    stats.done_before = len(questions) - len(todo)
    if not todo:
        return stats
    start = time.perf_counter()
    provider = answers_source if answers_source is not None else provider_factory(cfg, seed, name)
    if answers_source is not None:
        stats.missing = provider.check_questions({q.question_id for q in todo}, all_question_ids)
        records = []
        for q in todo:
            turns = provider.lookup(q.question_id)
            error = None if turns is not None else f"no answer to question '{q.question_id}' in {provider.file}"
            records.append(Answer(key=answer_key(q, spec, turns or []), question_id=q.question_id, model=name,
                                  turns=turns or [], spec=spec | {"arena_version": __version__}, error=error))
        store.extend(records)
        stats.generated = sum(r.error is None for r in records)
        stats.errors = sum(r.error is not None for r in records)
        stats.seconds = time.perf_counter() - start
        return stats
    chunk = max(1, cfg.spec.batch_size) * 2
    bar = tqdm(total=len(todo), desc=f"generate {name}", unit="q", disable=not progress, leave=False)
    try:
        for i in range(0, len(todo), chunk):
            answers = _answer_chunk(provider, todo[i : i + chunk], name, cfg, spec)
            store.extend(answers)
            stats.generated += sum(a.error is None for a in answers)
            stats.errors += sum(a.error is not None for a in answers)
            stats.completion_tokens += sum(sum(a.completion_tokens) for a in answers)
            bar.update(len(answers))
    finally:
        bar.close()
        stats.seconds = time.perf_counter() - start
    return stats


def load_answers(run_dir: Path, name: str, questions: Sequence[Question], cfg: ModelConfig, seed: int) -> dict[str, Answer]:
    """This model's usable answers (no error) to ``questions``, by question id."""
    spec = model_spec(cfg, seed, name)
    store = JsonlStore(answers_path(run_dir, name), Answer)
    keys = expected_keys(questions, spec, make_provider(cfg, seed, name) if cfg.spec.pregenerated else None)
    out: dict[str, Answer] = {}
    for q in questions:
        a = store.get(keys[q.question_id])
        if a is not None and a.error is None:
            out[q.question_id] = a
    return out
