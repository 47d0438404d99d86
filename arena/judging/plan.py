"""Plan the judge calls: a pure function from questions and answers to games.

``pairwise-all`` judges every unordered pair of models, ``pairwise-baseline`` every model against the
baseline (baseline shown first in the canonical order, as arena-hard), ``single`` every answer alone.
With ``both_orders`` each pair is judged in both positions; otherwise one order is drawn with a seed taken
from the game's content, so the choice does not depend on run order and is balanced across games.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arena.errors import DataError
from arena.keys import content_key, seed_from
from arena.records import Answer, Mode, Question


@dataclass(frozen=True)
class Game:
    """One judge call to make: a question turn and one answer (single) or two in positions A and B."""

    game_key: str
    mode: Mode
    question: Question
    turn: int
    model_a: str
    answer_a: Answer
    model_b: str | None = None
    answer_b: Answer | None = None
    swapped: bool = False

    @property
    def pairwise(self) -> bool:
        return self.model_b is not None


@dataclass(frozen=True)
class Plan:
    games: list[Game]
    skipped: list[str]
    """Human-readable reasons for games that could not be planned (a missing answer, say)."""


def check_distinct_answers(answers: Mapping[str, Mapping[str, Answer]]) -> None:
    """Refuse answers of two models (or two questions) that share a key.

    Judgments are keyed by answer keys: two answers with one key would share one judgment, so one model's
    games would be credited to the other (or, in single mode, a model would play itself).

    Raises:
        DataError: naming both models, the questions and the key, before any judge call is made.
    """
    owner: dict[str, tuple[str, str]] = {}
    for model, by_question in answers.items():
        for qid, answer in by_question.items():
            seen = owner.setdefault(answer.key, (model, qid))
            if seen != (model, qid):
                raise DataError(
                    f"answer key {answer.key} belongs to both '{seen[0]}' (question {seen[1]}) and '{model}' "
                    f"(question {qid}); an answer's key must name its model: regenerate these answers "
                    "(`arena generate`) instead of copying answer files between models"
                )


def _pairs(models: Sequence[str], mode: Mode, baseline: str | None) -> list[tuple[str, str]]:
    if mode == "pairwise-all":
        return list(itertools.combinations(sorted(models), 2))
    if mode == "pairwise-baseline":
        if baseline is None:
            raise ValueError("pairwise-baseline needs a baseline")
        return [(baseline, m) for m in sorted(models) if m != baseline]
    return []


def plan_games(
    questions: Sequence[Question],
    answers: Mapping[str, Mapping[str, Answer]],
    mode: Mode,
    *,
    baseline: str | None = None,
    both_orders: bool = True,
    seed: int = 0,
) -> Plan:
    """All games of a mode.

    Args:
        questions: the question set, in order.
        answers: model name -> question id -> answer (models without an answer to a question skip it).
        mode: ``single``, ``pairwise-baseline`` or ``pairwise-all``.
        baseline: the reference model of ``pairwise-baseline``.
        both_orders: judge each pair in both positions.
        seed: mixed into the content seed of the one-order draw.

    Raises:
        DataError: two answers share a key (see :func:`check_distinct_answers`).
    """
    check_distinct_answers(answers)
    models = list(answers)
    games: list[Game] = []
    skipped: list[str] = []
    for q in questions:
        for turn in range(1, len(q.turns) + 1):
            if mode == "single":
                for m in sorted(models):
                    a = answers[m].get(q.question_id)
                    if a is None or len(a.turns) < turn:
                        skipped.append(f"{m} has no answer to question {q.question_id} turn {turn}")
                        continue
                    key = content_key(["single", a.key, turn])
                    games.append(Game(key, mode, q, turn, m, a))
                continue
            for m1, m2 in _pairs(models, mode, baseline):
                a1, a2 = answers[m1].get(q.question_id), answers[m2].get(q.question_id)
                if a1 is None or a2 is None or len(a1.turns) < turn or len(a2.turns) < turn:
                    skipped.append(f"{m1} vs {m2}: missing answer to question {q.question_id} turn {turn}")
                    continue
                key = content_key(["pair", a1.key, a2.key, turn])
                orders = [False, True] if both_orders else [random.Random(seed_from(seed, key)).random() < 0.5]
                for swapped in orders:
                    if swapped:
                        games.append(Game(key, mode, q, turn, m2, a2, m1, a1, True))
                    else:
                        games.append(Game(key, mode, q, turn, m1, a1, m2, a2, False))
    return Plan(games, skipped)
