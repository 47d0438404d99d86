"""Adaptive judging: rounds of the games expected to shrink the rating intervals most, within a budget.

``judge.budget`` (judge calls) and/or ``judge.target_ci`` (95% half-width in rating points, the larger of
the Fisher and the question-clustered sandwich estimate, for every model) turn judging into rounds; the
planner (:mod:`arena.judging.allocation`) chooses each round's calls, ``both_orders`` (``true``, ``false``,
``auto``) says which orders it may ask.

Every round is recorded in ``adaptive_plan.jsonl`` (round, judgment keys, why) before its calls are made,
so a killed run first finishes the recorded round and then goes on as an uninterrupted run would: the
choice is a pure function of the candidate games, the verdicts on disk, the seed and the round number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from arena.config import ArenaConfig
from arena.judging.allocation import Z95, Choice, Orders, Played, State, choose_games, fit_state
from arena.judging.judge import Judge
from arena.judging.plan import Game
from arena.judging.reviewer import ReviewStats, judgments_path, review
from arena.providers.base import GenerationSettings, Provider
from arena.records import Judgment
from arena.store import JsonlStore

__all__ = ["PLAN_FILE", "AdaptiveOutcome", "AdaptiveRound", "AdaptiveSettings", "Choice", "Played", "State",
           "adaptive_review", "adaptive_settings", "asked_games", "choose_games", "default_round_size", "fit_state"]

PLAN_FILE = "adaptive_plan.jsonl"
CREDIT = {"A>>B": 1.0, "A>B": 1.0, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}
Stop = Literal["budget", "target_ci", "nothing_left"]

class AdaptiveRound(BaseModel):
    """One line of ``adaptive_plan.jsonl``: a round's calls, recorded before they are made."""

    round_id: str
    round: int
    seed: int
    calls: list[str]
    """Judgment keys of the round's calls."""
    why: list[str]
    """Per call: ``kind model_a|model_b question turn gain``."""
    judged_before: int
    """Calls on disk (of this plan) when the round was planned."""


@dataclass
class AdaptiveOutcome:
    """What the adaptive loop did: for the CLI summary and the manifest (``stages.adaptive``)."""

    stopped: Stop
    rounds: int = 0
    calls: int = 0
    """Judge calls of this plan on disk at the end (errored ones included: they were paid)."""
    budget: int | None = None
    target_ci: float | None = None
    max_ci_half_width: float | None = None
    mean_ci_half_width: float | None = None
    """From the planner's refit (inverse Fisher information), in rating points."""
    home: float | None = None
    home_ci: list[float] = field(default_factory=list)
    """Position-A advantage in rating points and its 95% interval (planner's refit)."""
    second_orders: int = 0
    """Games judged in both orders."""
    retried: int = 0
    """Errored judgments asked again (``--retry-errors``), before the rounds; not counted in ``calls``."""
    chosen: list[str] = field(default_factory=list)
    """Judgment keys of every call the loop asked for (a dry run estimates these)."""

    def manifest(self) -> dict[str, object]:
        """The manifest's ``stages.adaptive``: why judging stopped and the figures, without the key list."""
        out = asdict(self)
        out["asked"] = len(out.pop("chosen"))
        out["plan_file"] = PLAN_FILE
        return out


@dataclass(frozen=True)
class AdaptiveSettings:
    budget: int | None
    target_ci: float | None
    both_orders: Orders
    seed: int
    points: float
    """Rating points per natural (log-odds) unit."""
    baseline: str | None = None
    round_size: int | None = None
    """Calls per round; default :func:`default_round_size`."""


def default_round_size(total_calls: int, n_models: int, chunk_size: int) -> int:
    """A round: at least a chunk of the reviewer and a call per model, at most 40 rounds of the whole plan."""
    return max(chunk_size, n_models, math.ceil(total_calls / 40))


def _played(games: Sequence[Game], judge: Judge, store: JsonlStore[Judgment]) -> tuple[list[Played], list[Game]]:
    played, todo = [], []
    for g in games:
        j = store.get(judge.key(g))
        if j is None:
            todo.append(g)
            continue
        assert g.model_b is not None
        credit = CREDIT.get(j.verdict) if j.error is None and j.verdict is not None else None
        played.append(Played(g.game_key, g.question.question_id, g.model_a, g.model_b, credit))
    return played, todo


def _errored(games: Sequence[Game], judge: Judge, store: JsonlStore[Judgment]) -> list[Game]:
    """The games whose latest judgment on disk is an error."""
    return [g for g in games if (j := store.get(judge.key(g))) is not None and j.error is not None]


def adaptive_review(
    games: Sequence[Game],
    judge: Judge,
    provider: Provider,
    run_dir: Path,
    generation: GenerationSettings,
    adaptive: AdaptiveSettings,
    *,
    chunk_size: int = 32,
    retry_errors: bool = False,
    progress: bool = True,
) -> tuple[ReviewStats, AdaptiveOutcome]:
    """Judge ``games`` (a plan with both orders) in adaptive rounds until a stopping rule holds.

    Stops when the calls on disk reach ``budget``, when the largest 95% half-width (against the baseline
    when there is one) is at most ``target_ci``, or when no game is left to ask for. With ``retry_errors``
    the calls on disk that errored are asked again first (only those; ``AdaptiveOutcome.retried``); the
    budget counts calls on disk, so a retry replaces a paid call and takes no new game's place.
    """
    models = sorted({m for g in games for m in (g.model_a, g.model_b) if m is not None})
    plan_store: JsonlStore[AdaptiveRound] = JsonlStore(run_dir / PLAN_FILE, AdaptiveRound, key_field="round_id")
    rounds = sorted(plan_store, key=lambda r: r.round)
    by_call = {judge.key(g): g for g in games}
    size = adaptive.round_size or default_round_size(len(games), len(models), chunk_size)
    stats = ReviewStats(planned=len(games))
    outcome = AdaptiveOutcome(stopped="nothing_left", budget=adaptive.budget, target_ci=adaptive.target_ci)
    # A killed run: finish the last recorded round first (its calls on disk are skipped by review()).
    if rounds:
        pending = [by_call[c] for c in rounds[-1].calls if c in by_call]
        stats.add_calls(review(pending, judge, provider, run_dir, generation, chunk_size=chunk_size, progress=progress))
        outcome.chosen.extend(c for r in rounds for c in r.calls)
    if retry_errors:
        errored = _errored(games, judge, JsonlStore(judgments_path(run_dir), Judgment))
        outcome.retried = len(errored)
        stats.add_calls(review(errored, judge, provider, run_dir, generation, chunk_size=chunk_size,
                               retry_errors=True, progress=progress))
    round_no = rounds[-1].round + 1 if rounds else 0
    first = True
    while True:
        store: JsonlStore[Judgment] = JsonlStore(judgments_path(run_dir), Judgment)
        played, todo = _played(games, judge, store)
        if first:
            stats.done_before, first = len(played) - (stats.judged - outcome.retried), False
        state = fit_state(models, played)
        outcome.calls = len(played)
        widths = state.half_widths(adaptive.points, adaptive.baseline)
        if adaptive.budget is not None and len(played) >= adaptive.budget:
            outcome.stopped = "budget"
            break
        if adaptive.target_ci is not None and len(widths) and float(widths.max()) <= adaptive.target_ci:
            outcome.stopped = "target_ci"
            break
        k = size if adaptive.budget is None else min(size, adaptive.budget - len(played))
        chosen = choose_games(todo, played, models=models, k=k, seed=adaptive.seed, round_no=round_no,
                              both_orders=adaptive.both_orders)
        if not chosen:
            outcome.stopped = "nothing_left"
            break
        calls = [judge.key(c.game) for c in chosen]
        plan_store.append(AdaptiveRound(
            round_id=str(round_no), round=round_no, seed=adaptive.seed, calls=calls, judged_before=len(played),
            why=[f"{c.kind} {c.game.model_a}|{c.game.model_b} q{c.game.question.question_id} t{c.game.turn} "
                 f"gain {c.gain:.4g}" for c in chosen]))
        outcome.chosen.extend(calls)
        stats.add_calls(review([c.game for c in chosen], judge, provider, run_dir, generation,
                           chunk_size=chunk_size, progress=progress))
        round_no += 1
    n = len(models)
    outcome.rounds = round_no
    if len(widths):
        outcome.max_ci_half_width = round(float(widths.max()), 3)
        outcome.mean_ci_half_width = round(float(widths.mean()), 3)
    sd = math.sqrt(max(state.cov[n, n], 0.0))
    outcome.home = round(float(state.x[n]) * adaptive.points, 3)
    outcome.home_ci = [round(float(state.x[n] - Z95 * sd) * adaptive.points, 3),
                       round(float(state.x[n] + Z95 * sd) * adaptive.points, 3)]
    orders = Counter(p.game_key for p in played)
    outcome.second_orders = sum(1 for v in orders.values() if v > 1)
    return stats, outcome


def adaptive_settings(cfg: ArenaConfig) -> AdaptiveSettings:
    """The loop's settings from a config (``judge.budget``, ``judge.target_ci``, ``judge.both_orders``)."""
    jc = cfg.judge
    return AdaptiveSettings(budget=jc.budget, target_ci=jc.target_ci, both_orders=jc.both_orders, seed=cfg.seed,
                            points=cfg.rating.scale / math.log(cfg.rating.elo.base),
                            baseline=jc.baseline if jc.mode == "pairwise-baseline" else None)


def asked_games(games: Sequence[Game], judge: Judge, outcome: AdaptiveOutcome) -> list[Game]:
    """The games of ``games`` the loop asked ``judge`` for (a dry run estimates a real run from these)."""
    asked = set(outcome.chosen)
    return [g for g in games if judge.key(g) in asked]
