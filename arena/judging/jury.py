"""A jury of judges: pooled battles (majority vote per game, or all), inter-judge agreement, self-preference.

Pure functions over battles (each carrying its ``judge``), used by the pipeline's report and by the
browser's leaderboard switch (:func:`jury_battles`). A *game* here is one judge call's game in one order
(``game_key`` and ``swapped``): every juror judges the same planned games, so their verdicts line up item
by item. Outcomes are compared in the pair's sorted order (``first``, ``second``, ``tie``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from arena.errors import UserError
from arena.judging.agreement import agreement_rate, canonical_outcome, cohen_kappa, fleiss_kappa, pair_of
from arena.records import Battle

JuryHow = Literal["per-judge", "majority", "all"]
JURY_HOWS: tuple[str, ...] = ("per-judge", "majority", "all")
MAJORITY_JUDGE = "jury-majority"
"""The ``judge`` of a majority-vote battle."""


def judges_of(battles: Sequence[Battle]) -> list[str]:
    """The judges of ``battles`` in order of first appearance."""
    return list(dict.fromkeys(b.judge for b in battles))


def _item(b: Battle) -> tuple[str, bool]:
    return (b.game_key or f"{b.question_id}|{b.turn}|{'|'.join(pair_of(b.model_a, b.model_b))}", b.swapped)


def _outcome(b: Battle) -> str:
    return canonical_outcome(b.model_a, b.model_b, b.winner)


def majority_battles(battles: Sequence[Battle]) -> list[Battle]:
    """One battle per game and order: the outcome most jurors gave (a tie when no outcome has a strict majority).

    The battle keeps the positions, question and style features of the first juror's battle; its judge is
    :data:`MAJORITY_JUDGE`, its weight 1 (a strong verdict's weight is a single judge's, not the jury's).
    """
    groups: dict[tuple[str, bool], list[Battle]] = defaultdict(list)
    for b in battles:
        groups[_item(b)].append(b)
    out = []
    for group in groups.values():
        votes = Counter(_outcome(b) for b in group)
        top, n = votes.most_common(1)[0]
        outcome = top if n * 2 > len(group) else "tie"
        first = group[0]
        low = min(first.model_a, first.model_b)
        winner = "tie" if outcome == "tie" else (
            "model_a" if (first.model_a == low) == (outcome == "first") else "model_b")
        out.append(first.model_copy(update={"winner": winner, "judge": MAJORITY_JUDGE, "weight": 1.0,
                                            "key": f"majority|{first.game_key}|{first.swapped}"}))
    return out


def jury_battles(battles: Sequence[Battle], how: str, judge: str | None = None) -> list[Battle]:
    """The battles a jury's leaderboard rates.

    Args:
        battles: every juror's battles, each carrying its ``judge``.
        how: ``per-judge`` (the battles of ``judge``, default the first judge), ``majority`` (one battle per
            game and order, see :func:`majority_battles`) or ``all`` (every juror's battles pooled).
        judge: the judge for ``per-judge``.

    Raises:
        UserError: an unknown ``how`` or ``judge``.
    """
    if how == "all":
        return list(battles)
    if how == "majority":
        return majority_battles(battles)
    if how == "per-judge":
        names = judges_of(battles)
        pick = judge if judge is not None else (names[0] if names else None)
        if pick is not None and names and pick not in names:
            raise UserError(f"judge {pick!r} has no battles; judges: {', '.join(names)}")
        return [b for b in battles if b.judge == pick]
    raise UserError(f"jury {how!r}: use one of {', '.join(JURY_HOWS)}")


def inter_judge_agreement(battles: Sequence[Battle]) -> dict[str, Any]:
    """Pairwise Cohen's kappa (and raw agreement) of every two judges, and Fleiss' kappa of all of them.

    Pairwise statistics use the games both judges judged; Fleiss' kappa the games every judge judged.
    """
    by_judge: dict[str, dict[tuple[str, bool], str]] = defaultdict(dict)
    for b in battles:
        by_judge[b.judge][_item(b)] = _outcome(b)
    names = list(by_judge)
    pairwise = {}
    for x, y in itertools.combinations(names, 2):
        common = sorted(by_judge[x].keys() & by_judge[y].keys())
        ox, oy = [by_judge[x][i] for i in common], [by_judge[y][i] for i in common]
        pairwise[f"{x} | {y}"] = {"judges": [x, y], "games": len(common), "agreement": agreement_rate(ox, oy),
                                  "cohen_kappa": cohen_kappa(ox, oy)}
    shared = set.intersection(*(set(v) for v in by_judge.values())) if names else set()
    items = [[by_judge[n][i] for n in names] for i in sorted(shared)]
    return {"judges": names, "pairwise": pairwise,
            "fleiss_kappa": {"games": len(items), "value": fleiss_kappa(items) if len(names) >= 2 else None}}


def model_family(model: str) -> str:
    """A model's family: the leading letters of its base name (``gpt-4o`` -> ``gpt``, ``Llama-3-8B`` -> ``llama``)."""
    found = re.match(r"[a-z]+", model.rsplit("/", 1)[-1].lower())
    return found.group(0) if found else model.lower()


def _win_rates(battles: Sequence[Battle]) -> dict[str, tuple[float, float]]:
    """Model -> (weighted wins with ties as half, weighted battles)."""
    score: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for b in battles:
        n = b.weight * b.count
        for side, model in (("model_a", b.model_a), ("model_b", b.model_b)):
            won = 1.0 if b.winner == side else 0.0 if b.winner in ("model_a", "model_b") else 0.5
            score[model][0] += won * n
            score[model][1] += n
    return {m: (w, t) for m, (w, t) in score.items()}


def self_preference(battles: Sequence[Battle], own: Mapping[str, set[str]]) -> dict[str, Any]:
    """How much more a judge favours its own models than the other judges do.

    Args:
        battles: every juror's battles.
        own: judge -> the candidate models that are its own (same model or same family).

    Returns:
        Per judge with own models among the candidates: ``own_models`` and, per own model, its win rate
        (ties half) under this judge, its mean win rate under the other judges, and the difference;
        ``mean_difference`` over the own models (positive: the judge prefers its own).
    """
    by_judge: dict[str, list[Battle]] = defaultdict(list)
    for b in battles:
        by_judge[b.judge].append(b)
    rates = {j: _win_rates(bs) for j, bs in by_judge.items()}
    out: dict[str, Any] = {}
    for judge, models in own.items():
        per_model = {}
        for m in sorted(models):
            mine = rates.get(judge, {}).get(m)
            others = [r[m][0] / r[m][1] for j, r in rates.items() if j != judge and m in r and r[m][1] > 0]
            if mine is None or mine[1] == 0 or not others:
                continue
            own_rate, other_rate = mine[0] / mine[1], sum(others) / len(others)
            per_model[m] = {"win_rate": own_rate, "others_win_rate": other_rate, "difference": own_rate - other_rate,
                            "battles": mine[1]}
        if per_model:
            diffs = [v["difference"] for v in per_model.values()]
            out[judge] = {"own_models": sorted(per_model), "per_model": per_model,
                          "mean_difference": sum(diffs) / len(diffs)}
    return out
