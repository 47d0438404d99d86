"""Stage 2: the reviewer makes the judge calls of a plan and appends ``judgments.jsonl``.

It skips games whose judgment key is already on disk (so nothing is paid twice), writes each chunk as
soon as it returns, and keeps unparsable replies as judgments with ``error`` (counted, never a verdict).
``retry_errors`` re-asks only those.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from arena.judging.judge import Judge
from arena.judging.plan import Game
from arena.providers.base import Completion, GenerationSettings, Provider, StreamingProvider
from arena.records import Judgment
from arena.store import JsonlStore

log = logging.getLogger(__name__)


@dataclass
class ReviewStats:
    planned: int = 0
    done_before: int = 0
    judged: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error_kinds: Counter[str] = field(default_factory=Counter)
    fault_kinds: Counter[str] = field(default_factory=Counter)
    """Every failed attempt, including those a retry recovered from, by kind."""


def judgments_path(run_dir: Path) -> Path:
    return run_dir / "judgments.jsonl"


def _error_kind(error: str) -> str:
    return error.split(":", 1)[0].strip()[:60]


def make_judgment(judge: Judge, game: Game, completion: Completion, prompt_name: str, notes: list[str]) -> Judgment:
    """Turn a judge reply into a judgment record (parsing failures become ``error``)."""
    parsed = judge.parse(completion.text) if completion.error is None else None
    error = completion.error if completion.error is not None else (parsed.error if parsed else None)
    probabilities = completion.meta.get("probabilities") if completion.meta else None
    return Judgment(
        key=judge.key(game),
        game_key=game.game_key,
        mode=game.mode,
        question_id=game.question.question_id,
        category=game.question.category,
        turn=game.turn,
        model_a=game.model_a,
        model_b=game.model_b,
        answer_a=game.answer_a.key,
        answer_b=game.answer_b.key if game.answer_b else None,
        swapped=game.swapped,
        judge=judge.judge_id,
        prompt_set=judge.prompts.name,
        prompt_name=prompt_name,
        prompt_version=judge.prompts.version,
        output=completion.text,
        verdict=parsed.verdict if parsed and error is None else None,
        score=parsed.score if parsed and error is None else None,
        probabilities=probabilities,
        error=error,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=round(completion.latency_s, 4),
        notes=notes,
        faults=list(completion.meta.get("faults", [])) if completion.meta else [],
    )


def pending_games(games: Sequence[Game], judge: Judge, store: JsonlStore[Judgment], retry_errors: bool) -> list[Game]:
    """Games with no judgment on disk (or, with ``retry_errors``, only an errored one)."""
    todo = []
    for g in games:
        done = store.get(judge.key(g))
        if done is None or (retry_errors and done.error is not None):
            todo.append(g)
    return todo


def review(
    games: Sequence[Game],
    judge: Judge,
    provider: Provider,
    run_dir: Path,
    settings: GenerationSettings,
    *,
    chunk_size: int = 32,
    retry_errors: bool = False,
    progress: bool = True,
) -> ReviewStats:
    """Judge every pending game; returns counts, tokens and error kinds of this call."""
    store: JsonlStore[Judgment] = JsonlStore(judgments_path(run_dir), Judgment)
    stats = ReviewStats(planned=len(games))
    todo = pending_games(games, judge, store, retry_errors)
    stats.done_before = len(games) - len(todo)
    if not todo:
        return stats
    start = time.perf_counter()
    bar = tqdm(total=len(todo), desc=f"judge {judge.judge_id}", unit="call", disable=not progress, leave=False)
    try:
        for i in range(0, len(todo), chunk_size):
            chunk = todo[i : i + chunk_size]
            rendered = [judge.render(g) for g in chunk]
            convs = [r.conversation for r in rendered]
            records: list[Judgment] = []
            if isinstance(provider, StreamingProvider):
                # Write each judgment as its call returns: a crash loses only the calls in flight.
                for k, c in provider.generate_iter(convs, settings):
                    rec = make_judgment(judge, chunk[k], c, rendered[k].prompt.name, rendered[k].notes)
                    store.append(rec)
                    records.append(rec)
                    bar.update(1)
            else:
                completions = provider.generate(convs, settings)
                records = [make_judgment(judge, g, c, r.prompt.name, r.notes)
                           for g, c, r in zip(chunk, completions, rendered, strict=True)]
                store.extend(records)
                bar.update(len(chunk))
            for rec in records:
                stats.judged += 1
                stats.prompt_tokens += rec.prompt_tokens
                stats.completion_tokens += rec.completion_tokens
                stats.fault_kinds.update(rec.faults)
                if rec.error is not None:
                    stats.errors += 1
                    stats.error_kinds[_error_kind(rec.error)] += 1
    finally:
        bar.close()
        stats.seconds = time.perf_counter() - start
    return stats

