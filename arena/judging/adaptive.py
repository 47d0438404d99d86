"""Adaptive judging: rounds of the games expected to shrink the rating intervals most, within a budget.

``judge.budget`` (judge calls) and/or ``judge.target_ci`` (95% half-width in rating points, the larger of
the Fisher and the question-clustered sandwich estimate, for every model) turn judging into rounds. Before each round the ratings are refitted with a position term
(:func:`arena.rating.position.fit_home`) and :func:`choose_games` picks the next games greedily by the
expected drop in the summed variance of the strengths (the A-optimal rule on the Fisher information): a game
of the pair ``(i, j)`` adds ``p (1 - p)`` along ``x = e_i - e_j`` at ``p = sigma(s_i - s_j)``, which lowers
the trace of the covariance ``S`` by ``h |S x|^2 / (1 + h x'S x)``; after each pick ``S`` takes the rank-one
update, so one round spreads over pairs. Within a pair the question judged least so far is taken (seeded
tie-break), so the games spread across questions too.

``both_orders``: ``true`` judges both orders of a chosen game; ``false`` the seeded one order of
:func:`~arena.judging.plan.plan_games`; ``auto`` that one order first, and the second order of a judged game
only while the position term's interval excludes 0, ranked by how likely the position decided the first
verdict (the share of the winner's probability that ``h`` added), and only once the pair has no unjudged
question left (a new question tells more than the same one again).

Every round is recorded in ``adaptive_plan.jsonl`` (round, judgment keys, why) before its calls are made,
so a killed run first finishes the recorded round and then goes on as an uninterrupted run would: the
choice is a pure function of the candidate games, the verdicts on disk, the seed and the round number.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from arena.config import ArenaConfig
from arena.judging.judge import Judge
from arena.judging.plan import Game
from arena.judging.reviewer import ReviewStats, judgments_path, review
from arena.keys import seed_from
from arena.providers.base import GenerationSettings, Provider
from arena.rating.frame import A_WINS, B_WINS, TIE, Encoded
from arena.rating.position import clustered_meat, fit_home, home_covariance, position_cells
from arena.records import Judgment
from arena.store import JsonlStore

PLAN_FILE = "adaptive_plan.jsonl"
Z95 = 1.959963984540054
CREDIT = {"A>>B": 1.0, "A>B": 1.0, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}
Stop = Literal["budget", "target_ci", "nothing_left"]
Orders = bool | Literal["auto"]


@dataclass(frozen=True)
class Played:
    """One judged call as the planner sees it: who sat in position A, and the credit to A (None: errored)."""

    game_key: str
    question_id: str
    model_a: str
    model_b: str
    credit: float | None


@dataclass(frozen=True)
class Choice:
    """A game the planner chose and why."""

    game: Game
    kind: Literal["fresh", "both-orders", "second-order"]
    gain: float
    """Expected drop in the summed strength variance (natural scale), scaled for a second order."""


@dataclass(frozen=True)
class State:
    """The refit the planner works from."""

    models: list[str]
    x: np.ndarray
    """Strengths (natural scale, mean zero), then the position term ``h``."""
    cov: np.ndarray
    """Inverse Fisher information of ``x``, ``(n + 1, n + 1)``, strength block centred (picks the games)."""
    robust: np.ndarray | None = None
    """The sandwich covariance clustered by question (the stopping rule takes the larger variance of the two,
    as the leaderboard's intervals resample whole questions)."""

    def half_widths(self, points: float, baseline: str | None = None) -> np.ndarray:
        """95% half-widths in rating points (``points`` per natural unit), against ``baseline`` if given."""
        n = len(self.models)
        b = self.models.index(baseline) if baseline in self.models else None
        var = np.zeros(n)
        for cov in (c for c in (self.cov, self.robust) if c is not None):
            var = np.maximum(var, np.diag(cov)[:n] + (0.0 if b is None else cov[b, b] - 2 * cov[:n, b]))
        if b is not None:
            var = np.delete(var, b)
        return np.asarray(Z95 * np.sqrt(np.clip(var, 0, None)) * points)

    @property
    def home_significant(self) -> bool:
        n = len(self.models)
        return bool(abs(self.x[n]) > Z95 * math.sqrt(max(self.cov[n, n], 0.0)))


def fit_state(models: Sequence[str], played: Sequence[Played]) -> State:
    """Refit strengths and the position term on the verdicts so far (errored calls left out)."""
    index = {m: k for k, m in enumerate(models)}
    ok = [p for p in played if p.credit is not None]
    n = len(models)
    a = np.array([index[p.model_a] for p in ok], dtype=np.int64)
    b = np.array([index[p.model_b] for p in ok], dtype=np.int64)
    credit = np.array([p.credit for p in ok], dtype=float)
    ones = np.ones(len(ok))
    cells = position_cells(n, a, b, credit, ones)
    x = fit_home(n, cells)
    robust = None
    if ok:
        group = np.unique([p.question_id for p in ok], return_inverse=True)[1].ravel()
        outcome = np.where(credit == 1.0, A_WINS, np.where(credit == 0.0, B_WINS, TIE))
        enc = Encoded(list(models), a, b, outcome, ones, ones, group)
        robust = home_covariance(n, cells, x, meat=clustered_meat(n, enc, credit, ones, x, True))
    return State(list(models), x, home_covariance(n, cells, x), robust)


def _position_share(state: State, p: Played, index: dict[str, int]) -> float:
    """How much of the observed winner's probability the position term added (0 when it worked against it)."""
    n = len(state.models)
    d = state.x[index[p.model_a]] - state.x[index[p.model_b]]
    h = state.x[n]
    with_h, without = 1 / (1 + math.exp(-(d + h))), 1 / (1 + math.exp(-d))
    if p.credit == 1.0 and h > 0:
        return (with_h - without) / with_h
    if p.credit == 0.0 and h < 0:
        return (without - with_h) / (1 - with_h)
    return 0.0


def choose_games(
    candidates: Sequence[Game],
    played: Sequence[Played],
    *,
    models: Sequence[str],
    k: int,
    seed: int,
    round_no: int,
    both_orders: Orders,
) -> list[Choice]:
    """The next ``k`` judge calls: a pure, seeded function of its inputs.

    Args:
        candidates: every game not judged yet, in both orders (a plan of ``plan_games(both_orders=True)``
            less the calls on disk).
        played: the calls on disk (positions and credit).
        models: the models of the plan, in a fixed order.
        k: calls to choose (fewer when fewer are worth making).
        seed: the run's seed (tie-breaks, and the one order of a fresh game with ``false``/``auto``).
        round_no: the round, mixed into the tie-break seed.
        both_orders: ``true``, ``false`` or ``auto`` (see the module docstring).
    """
    state = fit_state(models, played)
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    played_keys = {p.game_key for p in played}
    per_question = Counter(p.question_id for p in played)
    by_key: dict[str, list[Game]] = {}
    for g in candidates:
        by_key.setdefault(g.game_key, []).append(g)
    fresh: dict[tuple[int, int], list[str]] = {}
    second: dict[tuple[int, int], list[tuple[float, str]]] = {}
    home_on = both_orders == "auto" and state.home_significant
    by_played = {p.game_key: p for p in played}
    for key, games in by_key.items():
        g = games[0]
        assert g.model_b is not None
        pair = tuple(sorted((index[g.model_a], index[g.model_b])))
        if key not in played_keys:
            fresh.setdefault(pair, []).append(key)  # type: ignore[arg-type]
        elif both_orders == "auto" and home_on:
            share = _position_share(state, by_played[key], index)
            if share > 0:
                second.setdefault(pair, []).append((share, key))  # type: ignore[arg-type]
        elif both_orders is True:
            fresh.setdefault(pair, []).append(key)  # type: ignore[arg-type]  # the other order is still owed
    pairs = sorted(set(fresh) | set(second))
    if not pairs or k <= 0:
        return []
    for lst in second.values():
        lst.sort(key=lambda t: (-t[0], t[1]))
    i = np.array([p[0] for p in pairs])
    j = np.array([p[1] for p in pairs])
    cov = state.cov[:n, :n].copy()
    s = state.x[:n]
    pq = 1 / (1 + np.exp(-(s[i] - s[j])))
    info = pq * (1 - pq)
    sx = cov[:, i] - cov[:, j]  # (n, P): S x for every pair
    chosen: list[Choice] = []
    tie = random.Random(seed_from(seed, "adaptive", round_no))
    salt = tie.random()
    def weight(p: tuple[int, int]) -> float:  # a fresh game counts whole, a second order by its position share
        return 1.0 if fresh.get(p) else (second[p][0][0] if second.get(p) else -1.0)

    scale = np.array([weight(p) for p in pairs])
    cols = np.arange(len(pairs))
    while len(chosen) < k:
        q = sx[i, cols] - sx[j, cols]
        gain = info * np.einsum("ij,ij->j", sx, sx) / (1 + info * q)
        value = np.where(scale > 0, gain * scale, -np.inf)
        best = int(np.argmax(value))
        if not np.isfinite(value[best]):
            break
        pair = pairs[best]
        if fresh.get(pair):
            keys = fresh[pair]
            key = min(keys, key=lambda gk: (per_question[by_key[gk][0].question.question_id],
                                            seed_from(salt, gk)))
            keys.remove(key)
            games = _orders(by_key[key], key, seed, both_orders, key in played_keys)
            kind: Literal["fresh", "both-orders", "second-order"] = "both-orders" if len(games) > 1 else "fresh"
        else:
            _, key = second[pair].pop(0)
            games, kind = by_key[key][:1], "second-order"
        scale[best] = weight(pair)
        per_question[games[0].question.question_id] += len(games)
        chosen.extend(Choice(g, kind, float(value[best])) for g in games)
        # Rank-one update of S by the information the pick adds (as many calls as orders chosen).
        h = info[best] * len(games)
        col = sx[:, best].copy()
        c = h / (1 + h * q[best])
        dot = col[i] - col[j]
        sx -= c * np.outer(col, dot)
    return chosen[:k]


def _orders(games: list[Game], key: str, seed: int, both_orders: Orders, half_done: bool) -> list[Game]:
    """The calls of a chosen fresh game: both pending orders (``true``), else the seeded one order."""
    ordered = sorted(games, key=lambda g: g.swapped)
    if both_orders is True or half_done:
        return ordered
    swapped = random.Random(seed_from(seed, key)).random() < 0.5  # the order plan_games draws for one order
    pick = [g for g in ordered if g.swapped == swapped]
    return pick or ordered[:1]


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
