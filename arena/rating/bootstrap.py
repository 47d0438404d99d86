"""Seeded bootstrap of Bradley-Terry ratings on aggregated counts, percentile intervals and rank bounds.

A bootstrap round never touches the battles themselves: it redraws the weight of each aggregated cell
(unique pair x outcome) and refits from the previous optimum. Counts and weights are frequencies (a row
of weight 2 is two battles), so rows, counts and weights of the same battles give the same draws with the
same seed. Resampling single battles is one multinomial draw over the cells (ordered by model index and
outcome, so row order does not matter); resampling whole questions draws question multiplicities (questions
numbered in sorted id order) and maps them to cells through a sparse question x cell matrix, so every
battle of a question (both orders, every turn) moves together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix

from arena.rating.bt import DEFAULT_RIDGE, PairDesign, fit_pairs
from arena.rating.newton import bt_hessian, win_probability


@dataclass(frozen=True)
class Resampler:
    """Draws bootstrap cell weights.

    Build it with :func:`make_resampler`; call :meth:`draw` once per round.
    """

    cell_weight: np.ndarray
    """Frequency per cell: summed ``weight * count`` of its battles."""
    groups: csr_matrix | None
    """``(n_cells, n_groups)`` summed frequencies, or None to resample single battles."""

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One bootstrap round: new weight per cell."""
        return self.draw_many(rng, 1)[0]

    def draw_many(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """``rounds`` bootstrap rounds at once: new weights, shape ``(rounds, n_cells)``.

        Single battles: one multinomial draw of ``N`` battles over the cells, each cell's probability its
        share of the total frequency ``N`` (rounded to whole battles, then scaled back to ``N`` so that a
        fractional total keeps its size). A row of weight ``w`` is ``w`` battles here, as it is in the fit.
        Questions: ``n_groups`` questions drawn with replacement, each adding its battles to their cells.
        """
        n_cells = len(self.cell_weight)
        if self.groups is None:
            total = float(self.cell_weight.sum())
            if total <= 0 or n_cells == 0:
                return np.zeros((rounds, n_cells))
            draws = max(1, int(round(total)))
            counts = rng.multinomial(draws, self.cell_weight / total, size=rounds)
            return counts * (total / draws)
        n_groups = self.groups.shape[1]
        mult = np.stack(
            [np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups) for _ in range(rounds)],
            axis=1,
        ).astype(float)
        return np.asarray(self.groups @ mult).T


def make_resampler(
    cell_of_battle: np.ndarray,
    battle_weight: np.ndarray,
    battle_count: np.ndarray,
    group: np.ndarray,
    n_cells: int,
    resample: Literal["question", "battle"] = "question",
) -> Resampler:
    """Prepare resampling by ``question`` (whole ``group``) or by single ``battle``.

    ``battle_weight`` is the frequency of each row (``weight * count``): the bootstrap treats counts and
    weights alike, so a row of weight 2, a row of count 2 and two plain rows resample the same way.

    When every question is a single row that is a single battle (``battle_count`` and frequency 1),
    resampling questions is resampling battles, and the faster multinomial path is taken (same
    distribution). Questions are whole ``group`` values: every battle of a question (both orders, every
    turn, each of a row's ``count``) moves together.
    """
    battle_weight = np.asarray(battle_weight, dtype=float)
    cell_weight = np.bincount(cell_of_battle, battle_weight, n_cells)
    # Questions with no battles (rows of count or weight 0) are not questions: number the others only,
    # keeping sorted order, so a count-0 row changes nothing, as no row would.
    live = battle_weight > 0
    cell_of_battle, battle_weight = np.asarray(cell_of_battle)[live], battle_weight[live]
    battle_count = np.asarray(battle_count)[live]
    group = np.unique(np.asarray(group)[live], return_inverse=True)[1].ravel()
    n_groups = int(group.max()) + 1 if len(group) else 0
    single = (
        n_groups == len(group)
        and bool(np.all(np.asarray(battle_count) == 1))
        and bool(np.all(battle_weight == 1))
    )
    if resample == "battle" or single:
        return Resampler(cell_weight, None)
    matrix = csr_matrix((battle_weight, (cell_of_battle, group)), shape=(n_cells, n_groups))
    matrix.sum_duplicates()
    return Resampler(cell_weight, matrix)


def bootstrap_strengths(
    design: PairDesign,
    resampler: Resampler,
    rounds: int,
    rng: np.random.Generator,
    *,
    init: np.ndarray,
    ridge: float = DEFAULT_RIDGE,
    chunk: int = 64,
    tol: float = 1e-6,
) -> np.ndarray:
    """Refit Bradley-Terry on ``rounds`` bootstrap reweightings, warm-started at the point estimate ``init``.

    Draws ``chunk`` rounds at a time and solves them with :func:`refit_strengths`.

    Returns:
        Natural-scale strengths, shape ``(rounds, n_items)``, each row mean zero.
    """
    refit = Refitter(design, resampler.cell_weight, init, ridge=ridge, tol=tol)
    out = np.empty((rounds, design.n_items))
    for start in range(0, rounds, chunk):
        size = min(chunk, rounds - start)
        out[start : start + size] = refit(resampler.draw_many(rng, size))
    return out


class Refitter:
    """Refits Bradley-Terry on many reweightings of the same cells, warm-started at ``init``.

    Rounds are solved together by Newton iterations that reuse the Hessian of the fit on ``base_weight``
    (a reweighting's Hessian differs from it only by sampling noise, so the iteration contracts fast and
    needs no linear solve per round; :func:`arena.rating.newton.bt_hessian`). A round that has not
    converged after a few iterations (sparse data, a model unbeaten in that resample) is refitted alone
    with :func:`fit_pairs`.
    """

    def __init__(
        self, design: PairDesign, base_weight: np.ndarray, init: np.ndarray, *, ridge: float = DEFAULT_RIDGE,
        tol: float = 1e-6,
    ) -> None:
        n, n_pairs = design.n_items, len(design.i)
        self.design, self.ridge, self.tol = design, ridge, tol
        self.init = np.asarray(init, dtype=float)
        _, total0 = design.totals(base_weight)
        self.h_inv = np.linalg.inv(bt_hessian(self.init, design.i, design.j, total0, ridge))
        keep = design.cell_keep.astype(float)
        cells = np.arange(len(design.cell_pair))
        # (n_cells, n_pairs) maps: cell weights -> pair totals and -> credit to the pair's first model.
        self.to_total = csr_matrix((keep, (cells, design.cell_pair)), shape=(len(cells), n_pairs)).T.tocsr()
        self.to_wins = csr_matrix(
            (keep * design.cell_credit, (cells, design.cell_pair)), shape=(len(cells), n_pairs)
        ).T.tocsr()
        pairs = np.arange(n_pairs)
        self.incidence_t = csr_matrix(
            (np.r_[np.ones(n_pairs), -np.ones(n_pairs)], (np.r_[pairs, pairs], np.r_[design.i, design.j])),
            shape=(n_pairs, n),
        ).T.tocsr()

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        """Strengths for each row of cell ``weights`` (``(rounds, n_cells)``), each row mean zero."""
        design, ridge, tol = self.design, self.ridge, self.tol
        weights = np.atleast_2d(np.asarray(weights, dtype=float))
        size = len(weights)
        wins = np.asarray(self.to_wins @ weights.T).T
        total = np.asarray(self.to_total @ weights.T).T
        s = np.tile(self.init, (size, 1))
        done = np.zeros(size, dtype=bool)
        last = np.full(size, np.inf)
        for _ in range(30):
            p = win_probability(s, design.i, design.j)
            gd = wins - total * p
            grad = np.asarray(self.incidence_t @ gd.T).T - ridge * s - s.sum(axis=1, keepdims=True)
            step = grad @ self.h_inv
            size_step = np.abs(step).max(axis=1)
            active = ~done & np.isfinite(size_step) & (size_step < 2 * last)
            s[active] += step[active]
            done |= active & (size_step < tol)
            last = np.where(active, size_step, -1.0)
            if (done | ~active).all():
                break
        for r in np.flatnonzero(~done):
            s[r] = fit_pairs(design.n_items, design.i, design.j, wins[r], total[r], ridge=ridge, init=self.init,
                             tol=tol)
        return s - s.mean(axis=1, keepdims=True)


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise percentile interval of bootstrap ``samples`` (``(rounds, n)``)."""
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(samples, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


def rank_bounds(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks from intervals, as Chatbot Arena.

    ``rank`` (the best rank the data allow) is 1 + the number of models whose lower bound exceeds this
    model's upper bound; the worst rank is 1 + the number of other models whose upper bound exceeds this
    model's lower bound.

    Returns:
        ``(best, worst)`` integer arrays.
    """
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    best = 1 + (low[None, :] > high[:, None]).sum(axis=1)
    above = high[None, :] > low[:, None]
    np.fill_diagonal(above, False)
    worst = 1 + above.sum(axis=1)
    return best.astype(int), np.maximum(worst, best).astype(int)
