"""The adaptive planner: which judge calls shrink the question-clustered rating intervals most.

A pure, seeded function of the candidate games, the verdicts so far, the seed and the round number
(:func:`choose_games`); :mod:`arena.judging.adaptive` runs it in rounds and records each round first.

The ratings are refitted with a position term (:func:`arena.rating.position.fit_home`) and the next games
are picked greedily by the expected drop in the summed variance of the strengths, each model's weighted by
its question inflation ``f_m`` (question-clustered over Fisher variance, :func:`question_inflation`: a
weighted A-optimal rule on the Fisher information, aimed at the intervals the leaderboard reports, which
resample whole questions): a game of the pair ``(i, j)`` adds ``p (1 - p)`` along ``x = e_i - e_j`` at
``p = sigma(s_i - s_j)``, which lowers ``sum_m f_m S_mm`` by ``h sum_m f_m (S x)_m^2 / (1 + h x'S x)``
(``S`` the covariance); after each pick ``S`` takes the rank-one update, so one round spreads over pairs.
Within a pair the question judged least so far is taken (seeded tie-break), so the games spread across
questions too.

``both_orders``: ``true`` judges both orders of a chosen game; ``false`` the seeded one order of
:func:`~arena.judging.plan.plan_games`; ``auto`` that one order first, and the second order of a judged game
only while the position term's interval excludes 0, ranked by how likely the position decided the first
verdict (the share of the winner's probability that ``h`` added), and only once the pair has no unjudged
question left (a new question tells more than the same one again: both orders share the question's effect
on the two answers, which the clustered intervals count once).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from arena.judging.plan import Game
from arena.keys import seed_from
from arena.rating.encoding import Encoded
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.position import clustered_meat, fit_home, home_covariance, position_cells

Z95 = 1.959963984540054
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
    """Expected drop in the inflation-weighted summed strength variance (natural scale), scaled for a second
    order."""


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


def question_inflation(state: State) -> np.ndarray:
    """Per model, how much wider the question-clustered variance is than the Fisher one (at least 1).

    :func:`choose_games` weights each model's Fisher variance drop by this factor (a weighted A-optimal
    design). It is not the rate at which a call shrinks the clustered variance: on the replayed oracle of
    ``benchmarks/adaptive.py`` (20 models) most of that variance is the questions' own effect on each model,
    which more calls on the same questions leave in place, and the rest falls with the Fisher variance at a
    rate unrelated to this factor. The factor is largest in the middle of the field, so the weighting spends
    more calls on close pairs; at 40% of full's calls its narrower rating-point intervals there come from the
    narrower rating scale such designs fit (``scale_vs_full``), not from more precision per rating sd
    (``rel_ci_vs_full``, the same as unweighted). 1 before any verdict.
    """
    n = len(state.models)
    if state.robust is None:
        return np.ones(n)
    fisher = np.diag(state.cov)[:n]
    return np.asarray(np.clip(np.diag(state.robust)[:n] / np.maximum(fisher, 1e-12), 1.0, None))


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
    inflation = question_inflation(state)
    chosen: list[Choice] = []
    tie = random.Random(seed_from(seed, "adaptive", round_no))
    salt = tie.random()
    def weight(p: tuple[int, int]) -> float:  # a fresh game counts whole, a second order by its position share
        return 1.0 if fresh.get(p) else (second[p][0][0] if second.get(p) else -1.0)

    scale = np.array([weight(p) for p in pairs])
    cols = np.arange(len(pairs))
    while len(chosen) < k:
        q = sx[i, cols] - sx[j, cols]
        gain = info * np.einsum("ij,ij,i->j", sx, sx, inflation) / (1 + info * q)
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
