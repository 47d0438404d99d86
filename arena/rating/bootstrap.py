"""Seeded bootstrap of Bradley-Terry ratings on aggregated counts, percentile intervals and rank bounds.

A bootstrap round never touches the battles themselves: it redraws the weight of each aggregated cell
(unique pair x outcome) and refits from the previous optimum. Counts and weights are frequencies (a row
of weight 2 is two battles), so rows, counts and weights of the same battles give the same draws with the
same seed.

Resampling single battles draws ``N`` battles with replacement: one Multinomial(``N``, ``p``) over the cells
(ordered by model index and outcome, so row order and representation do not matter), ``p`` each cell's
share of the battles. From ``VECTOR_MIN_CELLS`` cells on it is drawn exactly but vectorised
(:class:`arena.rating.sampling.MultinomialTable`; below that ``Generator.multinomial`` is faster): independent
Poisson counts for all cells and rounds at once by inverse-CDF look-up, then each round brought to exactly ``N``
battles by adding a few ``sqrt(N)`` single battles drawn from ``p``. The distribution is the classic bootstrap's;
only the random stream differs from ``Generator.multinomial``.

Resampling whole questions draws question multiplicities (``n_groups`` questions drawn with replacement,
questions numbered in sorted id order) and maps them to cells through a sparse question x cell matrix, so
every battle of a question (both orders, every turn) moves together.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix

from arena.rating.bt import DEFAULT_RIDGE, PairDesign, compact_codes, fit_pairs
from arena.rating.newton import bt_hessian, win_probability
from arena.rating.sampling import MultinomialTable

VECTOR_MIN_CELLS = 512
"""From this many cells on, single battles are drawn by :class:`MultinomialTable` (same law); below it by
``Generator.multinomial``. Measured for 1,000 rounds: 300 cells 0.014 s against 0.028 s, 512 cells 0.019 s
against 0.048 s, 1,000 cells 0.024 s against 0.095 s (the table is now faster from about 128 cells; the
threshold, set for an earlier sampler, is kept so that small data draw the same rounds as before)."""


ROUND_TOL = 1e-4
"""A bootstrap round's refit stops when its last step moves no strength more than this (natural scale: 0.017
rating points). The shared-Hessian iteration contracts at least twofold a step (:data:`MAX_CURVATURE_CHANGE`),
so a round lands within about this of its exact fit: measured within 0.0003 points of it on the Chatbot Arena
shape (129 models), a thousand times under the rounds' own spread, for 25% less refit time than 1e-6."""


@dataclass(frozen=True)
class Resampler:
    """Draws bootstrap cell weights.

    Build it with :func:`make_resampler`; call :meth:`draw` once per round.
    """

    cell_weight: np.ndarray
    """Frequency per cell: summed ``weight * count`` of its battles."""
    groups: csr_matrix | None
    """``(n_cells, n_groups)`` summed frequencies, or None to resample single battles."""
    battle_cells: np.ndarray | None = None
    """Resampling single battles: the cells that hold battles, where some hold none (rows of weight or count 0);
    only they are drawn, so such rows change no draw, as no row would. None: every cell."""

    @cached_property
    def _drawn_weight(self) -> np.ndarray:
        return self.cell_weight if self.battle_cells is None else self.cell_weight[self.battle_cells]

    @cached_property
    def _multinomial(self) -> MultinomialTable:
        """The vectorised sampler of Multinomial(``draws``, ``p``), ``p`` each cell's share of the battles."""
        return MultinomialTable(self._drawn_weight, max(1, int(round(float(self._drawn_weight.sum())))))

    def prepare(self) -> None:
        """Build the lazy sampling tables now (before threads share this resampler)."""
        if self.groups is None and len(self._drawn_weight) >= VECTOR_MIN_CELLS and self._drawn_weight.sum() > 0:
            _ = self._multinomial

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One bootstrap round: new weight per cell."""
        return self.draw_many(rng, 1)[0]

    def draw_many(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """``rounds`` bootstrap rounds at once: new weights, shape ``(rounds, n_cells)``.

        Single battles: one multinomial draw of ``N`` battles over the cells, each cell's probability its
        share of the total frequency (``N`` rounded to whole battles, the counts then scaled back so that a
        fractional total keeps its size), for all rounds at once (``Generator.multinomial`` below
        ``VECTOR_MIN_CELLS`` cells, :class:`MultinomialTable` from there on). A row of
        weight ``w`` is ``w`` battles here, as it is in the fit.
        Questions: ``n_groups`` questions drawn with replacement, each adding its battles to their cells.
        """
        n_cells = len(self.cell_weight)
        if self.groups is None:
            cell_weight = self._drawn_weight
            total = float(cell_weight.sum())
            if total <= 0 or n_cells == 0:
                return np.zeros((rounds, n_cells))
            draws = max(1, int(round(total)))
            # In the cells x rounds layout the refit reads (a transposed view of it is returned).
            if len(cell_weight) < VECTOR_MIN_CELLS:
                weights = rng.multinomial(draws, cell_weight / total, size=rounds).T.astype(float, order="C")
            else:
                weights = self._multinomial.draw(rng, rounds).astype(float)
            if draws != total:
                weights *= total / draws
            if self.battle_cells is not None:
                every = np.zeros((n_cells, rounds))
                every[self.battle_cells] = weights
                weights = every
            return weights.T
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
    if resample == "battle":  # questions do not matter (numbering them took 11 ms of a 0.3 s bootstrap of 1.67M)
        return _battle_resampler(cell_weight)
    # Questions with no battles (rows of count or weight 0) are not questions: number the others only,
    # keeping sorted order, so a count-0 row changes nothing, as no row would.
    live = battle_weight > 0
    cell_of_battle, battle_weight = np.asarray(cell_of_battle)[live], battle_weight[live]
    battle_count = np.asarray(battle_count)[live]
    group = compact_codes(np.asarray(group)[live])[1]
    n_groups = int(group.max()) + 1 if len(group) else 0
    single = (
        n_groups == len(group)
        and bool(np.all(np.asarray(battle_count) == 1))
        and bool(np.all(battle_weight == 1))
    )
    if single:
        return _battle_resampler(cell_weight)
    matrix = csr_matrix((battle_weight, (cell_of_battle, group)), shape=(n_cells, n_groups))
    matrix.sum_duplicates()
    return Resampler(cell_weight, matrix)


def _battle_resampler(cell_weight: np.ndarray) -> Resampler:
    """Resampling single battles: only the cells that hold battles are drawn."""
    held = cell_weight > 0
    return Resampler(cell_weight, None, None if held.all() else np.flatnonzero(held))


def bootstrap_strengths(
    design: PairDesign,
    resampler: Resampler,
    rounds: int,
    rng: np.random.Generator,
    *,
    init: np.ndarray,
    ridge: float = DEFAULT_RIDGE,
    chunk: int = 64,
    tol: float = ROUND_TOL,
) -> np.ndarray:
    """Refit Bradley-Terry on ``rounds`` bootstrap reweightings, warm-started at the point estimate ``init``.

    The rounds come in chunks of ``chunk`` (:func:`in_chunks`: each its own spawned stream, in a thread pool),
    each solved by :class:`Refitter` to ``tol``.

    Returns:
        Natural-scale strengths, shape ``(rounds, n_items)``, each row mean zero.
    """
    refit = Refitter(design, resampler.cell_weight, init, ridge=ridge, tol=tol)
    out = np.empty((rounds, design.n_items))

    def solve(start: int, weights: np.ndarray) -> None:
        out[start : start + len(weights)] = refit(weights)

    in_chunks(resampler, rounds, chunk, rng, solve)
    return out


def in_chunks(
    resampler: Resampler, rounds: int, chunk: int, rng: np.random.Generator,
    solve: Callable[[int, np.ndarray], None],
) -> None:
    """Draw ``rounds`` bootstrap rounds in chunks of ``chunk`` and hand each to ``solve(start, weights)``.

    Chunk ``k`` draws from its own generator, spawned from ``rng`` (:class:`numpy.random.SeedSequence`).
    Chunks run in a small thread pool (numpy releases the GIL in the draws and the solves, so the cores work
    at once); since no chunk depends on another, the result does not depend on the number of threads or
    their timing.
    """
    resampler.prepare()
    starts = range(0, rounds, chunk)
    streams = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist()).spawn(len(starts))

    def work(start: int, stream: np.random.SeedSequence) -> None:
        solve(start, resampler.draw_many(np.random.default_rng(stream), min(chunk, rounds - start)))

    workers = min(len(starts), WORKERS)
    if workers <= 1:
        for start, stream in zip(starts, streams, strict=True):
            work(start, stream)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done in [pool.submit(work, start, stream) for start, stream in zip(starts, streams, strict=True)]:
            done.result()


MAX_CURVATURE_CHANGE = 0.5
"""The shared-Hessian refits (:class:`Refitter`, the tie models', the style refit) fit a round alone when some
model's curvature (or battle weight) in it differs from the full data's by more than this share: the shared
Hessian then makes that model's steps tiny without its fit being converged."""


WORKERS = min(4, os.cpu_count() or 1)
"""Threads of :func:`in_chunks` (the result is the same with any number)."""


class Refitter:
    """Refits Bradley-Terry on many reweightings of the same cells, warm-started at ``init``.

    Rounds are solved together by Newton iterations that reuse the Hessian of the fit on ``base_weight``
    (a reweighting's Hessian differs from it only by sampling noise, so the iteration contracts fast and
    needs no linear solve per round; :func:`arena.rating.newton.bt_hessian`). A round whose curvature
    for some model is far from the full data's (sparse data: a model with few or no battles in that
    resample, where a small step would not mean convergence), or that has not converged after a few
    iterations (a model unbeaten in that resample), is refitted alone with :func:`fit_pairs`.
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
        incidence = csr_matrix(
            (np.r_[np.ones(n_pairs), -np.ones(n_pairs)], (np.r_[pairs, pairs], np.r_[design.i, design.j])),
            shape=(n_pairs, n),
        )
        self.incidence_t = incidence.T.tocsr()
        # ``s_j - s_i`` per pair for all rounds at once: a sparse product is several times faster than gathering
        # ``s[j]`` and ``s[i]`` row by row (measured 0.27 ms against 2.7 ms for 8,256 pairs x 64 rounds).
        self.against = (-incidence).tocsr()
        # Each model's curvature per unit of pair weight at ``init``: a round's curvature is this times its
        # totals, comparable with the full data's.
        p = win_probability(self.init, design.i, design.j)
        self.curvature = abs(self.incidence_t).multiply(p * (1.0 - p)).tocsr()
        self.base_curvature = np.maximum(self.curvature @ total0, 1e-300)

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        """Strengths for each row of cell ``weights`` (``(rounds, n_cells)``), each row mean zero."""
        design, ridge, tol = self.design, self.ridge, self.tol
        weights = np.atleast_2d(np.asarray(weights, dtype=float))
        size = len(weights)
        # Rounds are columns here ((n_cells, rounds), (n_pairs, rounds), (n_items, rounds)): the sparse
        # products then read and write contiguous blocks, with no transposed copies per iteration.
        weights_t = np.ascontiguousarray(weights.T)
        wins = self.to_wins @ weights_t
        total = self.to_total @ weights_t
        s = np.repeat(self.init[:, None], size, axis=1)
        # A round where some model's curvature is far from the full data's (e.g. a model without battles in the
        # resample) would contract so slowly that a small step is not convergence: it is fitted alone.
        ratio = (self.curvature @ total) / self.base_curvature[:, None]
        alone = (np.abs(ratio - 1.0) > MAX_CURVATURE_CHANGE).any(axis=0)
        done = np.zeros(size, dtype=bool)
        last = np.full(size, np.inf)
        for _ in range(30):
            expected = self.against @ s  # then total * sigma(s_i - s_j), in place
            np.exp(expected, out=expected)
            expected += 1.0
            gd = wins - np.divide(total, expected, out=expected)
            grad = self.incidence_t @ gd - ridge * s - s.sum(axis=0, keepdims=True)
            step = self.h_inv @ grad
            size_step = np.abs(step).max(axis=0)
            active = ~done & ~alone & np.isfinite(size_step) & (size_step < 2 * last)
            if active.all():  # the usual case: no copy of the steps
                s += step
            else:
                s[:, active] += step[:, active]
            done |= active & (size_step < tol)
            last = np.where(active, size_step, -1.0)
            if (done | ~active).all():
                break
        s, wins, total = s.T.copy(), wins.T, total.T
        for r in np.flatnonzero(~done):
            s[r] = fit_pairs(design.n_items, design.i, design.j, wins[r], total[r], ridge=ridge, init=self.init,
                             tol=tol)
        return s - s.mean(axis=1, keepdims=True)


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise percentile interval of bootstrap ``samples`` (``(rounds, n)``)."""
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(samples, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


RANK_TOL = 1e-9
"""Relative tolerance under which two interval bounds compare as equal in :func:`rank_bounds`."""


def rank_bounds(low: np.ndarray, high: np.ndarray, tol: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Ranks from intervals, as Chatbot Arena.

    ``rank`` (the best rank the data allow) is 1 + the number of models whose lower bound exceeds this
    model's upper bound; the worst rank is 1 + the number of other models whose upper bound reaches this
    model's lower bound (touching intervals overlap). Bounds closer than ``tol`` (the precision they were computed
    to, e.g. a bootstrap refit's), or than :data:`RANK_TOL` of their size, compare as equal.

    Returns:
        ``(best, worst)`` integer arrays.
    """
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    # Bounds equal up to rounding (an anchored model's bound sits exactly on the anchor; another's, computed from
    # rows, counts or weights, lands a rounding error either side of it) compare as equal, and intervals that touch
    # overlap: neither is surely above the other, and either may be.
    finite = np.abs(np.r_[low, high][np.isfinite(np.r_[low, high])])
    tol = max(tol, RANK_TOL * max(1.0, float(finite.max(initial=0.0))))
    best = 1 + (low[None, :] > high[:, None] + tol).sum(axis=1)
    above = high[None, :] > low[:, None] - tol
    np.fill_diagonal(above, False)
    worst = 1 + above.sum(axis=1)
    return best.astype(int), np.maximum(worst, best).astype(int)
