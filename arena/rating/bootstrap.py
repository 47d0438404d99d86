"""Seeded bootstrap of Bradley-Terry ratings on aggregated counts, percentile intervals and rank bounds.

A bootstrap round never touches the battles themselves: it redraws the weight of each aggregated cell
(unique pair x outcome) and refits from the previous optimum. Counts and weights are frequencies (a row
of weight 2 is two battles), so rows, counts and weights of the same battles give the same draws with the
same seed.

Resampling single battles draws ``N`` battles with replacement: one Multinomial(``N``, ``p``) over the cells
(ordered by model index and outcome, so row order and representation do not matter), ``p`` each cell's
share of the battles. From ``VECTOR_MIN_CELLS`` cells on it is drawn exactly but vectorised
(:func:`multinomial_rounds`; below that ``Generator.multinomial`` is faster): independent Poisson
counts for all cells and rounds at once by inverse-CDF look-up (:class:`PoissonTable`), then each round
brought to exactly ``N`` battles by adding or removing about ``sqrt(N)`` single battles at random. The
distribution is the classic bootstrap's; only the random stream differs from ``Generator.multinomial``.

Resampling whole questions draws question multiplicities (``n_groups`` questions drawn with replacement,
questions numbered in sorted id order) and maps them to cells through a sparse question x cell matrix, so
every battle of a question (both orders, every turn) moves together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import pdtr

from arena.rating.bt import DEFAULT_RIDGE, PairDesign, fit_pairs
from arena.rating.newton import bt_hessian


class PoissonTable:
    """Inverse-CDF sampler of independent Poisson counts, one mean per cell, vectorised over rounds.

    Each distinct mean gets its cumulative distribution on ``mean -/+ 9-10 sd`` (plus a margin; the mass
    outside is below 1e-19, under the resolution of a float64 uniform) and a guide table of ``M`` entries
    (Chen & Asau 1974): entry ``m`` is the smallest count whose CDF exceeds ``m / M``. A draw is one
    float64 uniform per cell and round and a guide look-up; only where the guide slot holds a CDF jump
    is the CDF compared, with a short upward search (a step for a few percent of the draws). The result
    is the Poisson count exactly, up to float64 rounding of the CDF. Means over 1e9, or a table over
    ``MAX_TABLE`` entries, fall back to ``Generator.poisson``.
    """

    M = 512
    MAX_TABLE = 4_000_000
    """Largest table (CDF entries) built; beyond it, :meth:`draw` falls back to ``Generator.poisson``."""

    def __init__(self, mean: np.ndarray) -> None:
        self.mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
        values, inverse = np.unique(self.mean, return_inverse=True)
        sd = np.sqrt(values)
        lo = np.maximum(0.0, np.floor(values - 9.0 * sd - 5.0))
        width = (np.ceil(values + 10.0 * sd + 15.0) - lo + 1).astype(np.int64)
        self.table = int(width.sum())
        if values.max(initial=0.0) > 1e9:
            self.table = self.MAX_TABLE + 1  # counts would overflow int32
        if self.table > self.MAX_TABLE:
            return
        start = np.r_[0, np.cumsum(width)[:-1]]
        owner = np.repeat(np.arange(len(values)), width)
        cdf = pdtr(np.arange(self.table) - start[owner] + lo[owner], values[owner])
        cdf[start + width - 1] = np.inf  # the last entry of each mean stops every search
        grid = np.arange(self.M) / self.M
        guide = np.empty((len(values), self.M), dtype=np.int64)
        for d in range(len(values)):
            guide[d] = start[d] + np.searchsorted(cdf[start[d] : start[d] + width[d]], grid, side="right")
        # A guide slot whose count already has CDF >= (m + 1) / M is the answer for every u of the slot.
        self.check = cdf[guide.ravel()] < np.tile(np.arange(1, self.M + 1) / self.M, len(values))
        self.cdf = cdf
        self.guide = (guide - (start - lo)[:, None]).ravel().astype(np.int32)
        """Count per guide slot (the smallest count whose CDF exceeds the slot's start)."""
        self.base = (inverse.ravel() * self.M).astype(np.int32)
        self.offset = (start - lo)[inverse.ravel()].astype(np.int64)
        """CDF table index = count + offset."""

    def draw(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """Integer counts, shape ``(rounds, n_cells)``."""
        n = len(self.mean)
        if self.table > self.MAX_TABLE:
            return rng.poisson(self.mean, size=(rounds, n))
        u = rng.random((rounds, n))
        slot = self.base + (u * self.M).astype(np.int32)
        k = self.guide[slot]
        flat_k, flat_u = k.ravel(), u.ravel()
        todo = np.flatnonzero(self.check[slot.ravel()])
        at = flat_k[todo] + self.offset[todo % n]
        while todo.size:  # smallest count with CDF > u: step up from the guide's count
            up = self.cdf[at] <= flat_u[todo]
            todo, at = todo[up], at[up] + 1
            flat_k[todo] += 1
        return k


def multinomial_rounds(
    table: PoissonTable, draws: int, cum_p: np.ndarray, rng: np.random.Generator, rounds: int
) -> np.ndarray:
    """``rounds`` exact Multinomial(``draws``, ``p``) count vectors, shape ``(rounds, n_cells)``.

    Poissonisation: independent Poisson(``draws * p``) counts (``table``, one vectorised draw) are the
    cells of a Poisson(``draws``) number ``M`` of independent battles; given ``M`` they are
    Multinomial(``M``, ``p``). Each round is then brought to ``draws`` battles exactly: when ``M < draws``,
    ``draws - M`` more battles are drawn from ``p``; when ``M > draws``, ``M - draws`` of the ``M`` battles,
    chosen uniformly without replacement, are removed (a uniform subset of independent draws is
    independent draws). Either way the result is Multinomial(``draws``, ``p``); only about
    ``sqrt(draws)`` battles a round are drawn one by one.
    """
    counts = np.ascontiguousarray(table.draw(rng, rounds))
    n_cells = counts.shape[1]
    have = counts.sum(axis=1)
    flat = counts.reshape(-1)  # a view: fixes land in counts
    for r in range(rounds):
        m = int(have[r])
        if m < draws:
            extra = np.searchsorted(cum_p, np.sort(rng.random(draws - m)) * cum_p[-1], side="right")
            np.add.at(flat, r * n_cells + np.minimum(extra, n_cells - 1), 1)
        elif m > draws:
            gone = np.sort(rng.choice(m, m - draws, replace=False))
            np.subtract.at(flat, r * n_cells + np.searchsorted(np.cumsum(counts[r]), gone, side="right"), 1)
    return counts


VECTOR_MIN_CELLS = 512
"""From this many cells on, single battles are drawn by :func:`multinomial_rounds` (same law; measured
faster from about 300 cells: 1,000 rounds of 1,000 cells 0.07 s against 0.12 s, of 24,636 cells 0.35 s
against 1.7 s); below it by ``Generator.multinomial``, whose per-cell cost is then smaller than one
Python step per round."""


@dataclass(frozen=True)
class Resampler:
    """Draws bootstrap cell weights.

    Build it with :func:`make_resampler`; call :meth:`draw` once per round.
    """

    cell_weight: np.ndarray
    """Frequency per cell: summed ``weight * count`` of its battles."""
    groups: csr_matrix | None
    """``(n_cells, n_groups)`` summed frequencies, or None to resample single battles."""

    @cached_property
    def _poisson(self) -> tuple[PoissonTable, int, np.ndarray]:
        """The Poisson sampler at means ``draws * p``, the number of battles ``draws`` and ``cumsum(p)``."""
        total = float(self.cell_weight.sum())
        draws = max(1, int(round(total)))
        p = np.maximum(self.cell_weight, 0.0) / total
        return PoissonTable(p * draws), draws, np.cumsum(p)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One bootstrap round: new weight per cell."""
        return self.draw_many(rng, 1)[0]

    def draw_many(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """``rounds`` bootstrap rounds at once: new weights, shape ``(rounds, n_cells)``.

        Single battles: one multinomial draw of ``N`` battles over the cells, each cell's probability its
        share of the total frequency (``N`` rounded to whole battles, the counts then scaled back so that a
        fractional total keeps its size), for all rounds at once (``Generator.multinomial`` below
        ``VECTOR_MIN_CELLS`` cells, :func:`multinomial_rounds` from there on). A row of
        weight ``w`` is ``w`` battles here, as it is in the fit.
        Questions: ``n_groups`` questions drawn with replacement, each adding its battles to their cells.
        """
        n_cells = len(self.cell_weight)
        if self.groups is None:
            total = float(self.cell_weight.sum())
            if total <= 0 or n_cells == 0:
                return np.zeros((rounds, n_cells))
            draws = max(1, int(round(total)))
            if n_cells < VECTOR_MIN_CELLS:
                counts = rng.multinomial(draws, self.cell_weight / total, size=rounds)
            else:
                table, draws, cum_p = self._poisson
                counts = multinomial_rounds(table, draws, cum_p, rng, rounds)
            return counts.astype(float) if draws == total else counts * (total / draws)
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
        # Rounds are columns here ((n_cells, rounds), (n_pairs, rounds), (n_items, rounds)): the sparse
        # products then read and write contiguous blocks, with no transposed copies per iteration.
        weights_t = np.ascontiguousarray(weights.T)
        wins = self.to_wins @ weights_t
        total = self.to_total @ weights_t
        s = np.repeat(self.init[:, None], size, axis=1)
        done = np.zeros(size, dtype=bool)
        last = np.full(size, np.inf)
        buf = np.empty_like(total)
        for _ in range(30):
            expected = np.subtract(s[design.j], s[design.i], out=buf)  # total * sigma(s_i - s_j), in place
            np.exp(expected, out=expected)
            expected += 1.0
            gd = wins - np.divide(total, expected, out=expected)
            grad = self.incidence_t @ gd - ridge * s - s.sum(axis=0, keepdims=True)
            step = self.h_inv @ grad
            size_step = np.abs(step).max(axis=0)
            active = ~done & np.isfinite(size_step) & (size_step < 2 * last)
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
