"""The vectorised bootstrap draws: guide-table inverse CDFs, Poisson counts and the exact multinomial built on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from arena.rating.bootstrap import VECTOR_MIN_CELLS, make_resampler
from arena.rating.sampling import GuideTable, MultinomialTable, PoissonTable, uniform_bits


@pytest.mark.parametrize("steps", [GuideTable.STEPS, 0])
def test_poisson_table_is_the_inverse_cdf(steps, monkeypatch):
    """For given 32-bit uniforms the table returns scipy's Poisson quantile of (u + 1/2) / 2**32, for small,
    fractional and large means, in the guide's pure slots and at its CDF jumps alike (resolved by upward steps,
    or all by the binary search)."""
    monkeypatch.setattr(GuideTable, "STEPS", steps)
    mean = np.array([0.0, 0.3, 1.0, 2.5, 17.0, 333.3, 17349.0, 2e5, 0.3])
    u = np.random.default_rng(5).integers(0, 2**32, (4000, len(mean)), dtype=np.uint32)
    u[0], u[1] = 0, 2**32 - 1  # the far tails (the table covers all but < 1e-19 of the mass)
    u[2] = 2**23 * np.arange(len(mean))  # guide slot edges
    u[3] = u[2] - 1
    table = PoissonTable(mean)
    counts = table.counts(np.ascontiguousarray(u.T)).T  # cells x rounds
    np.testing.assert_array_equal(counts, stats.poisson.ppf((u + 0.5) / 2**32, mean))
    assert table.table is not None and 0 < (table.table.guide < 0).mean() < 1  # both paths are taken


def test_poisson_table_falls_back_for_huge_means():
    """A mean whose table would be too big is drawn by Generator.poisson (same law)."""
    table = PoissonTable(np.array([5e9, 3.0]))
    draws, total = table.draw(np.random.default_rng(0), 4000)
    assert draws.shape == (2, 4000) and table.table is None
    np.testing.assert_array_equal(total, draws.sum(axis=0))
    assert abs(draws[0].mean() - 5e9) < 5 * np.sqrt(5e9 / 4000)
    assert abs(draws[1].var() - 3.0) < 0.3


def test_poisson_draws_block_by_block_have_the_law_and_their_totals(monkeypatch):
    """Cells drawn a block at a time (a block of 3 cells here): each cell's counts have its Poisson mean and
    variance, and the returned totals are the column sums."""
    monkeypatch.setattr(PoissonTable, "BLOCK", 3 * 5000)
    mean = np.array([0.2, 4.0, 4.0, 50.0, 0.0, 900.0, 7.5])
    draws, total = PoissonTable(mean).draw(np.random.default_rng(4), 5000)
    assert draws.shape == (len(mean), 5000)
    np.testing.assert_array_equal(total, draws.sum(axis=0))
    se = np.sqrt(mean / 5000)
    assert np.all(np.abs(draws.mean(axis=1) - mean) <= 5 * se + 1e-12)
    np.testing.assert_allclose(draws.var(axis=1), mean, rtol=0.08)
    assert np.corrcoef(draws[1], draws[2])[0, 1] < 0.05  # cells of the same mean draw apart


def test_uniform_bits_are_uniform_32_bit_integers():
    """Halves of 64-bit draws: any shape (odd sizes too), every bit fair, top bytes uniform, no pairing between
    the two halves of one 64-bit draw."""
    u = uniform_bits(np.random.default_rng(6), (1001, 201))
    assert u.shape == (1001, 201) and u.dtype == np.uint32 and u.flags.c_contiguous
    flat = u.reshape(-1)
    bits = (flat[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 5 * 0.5 / np.sqrt(len(flat)))
    assert stats.chisquare(np.bincount(flat >> 24, minlength=256)).pvalue > 1e-4
    halves = flat[: len(flat) // 2 * 2].reshape(-1, 2).astype(float)
    assert abs(np.corrcoef(halves[:, 0], halves[:, 1])[0, 1]) < 5 / np.sqrt(len(halves))


def test_guide_table_picks_the_first_entry_above_the_uniform():
    """A single law (a categorical over cells, zero-probability cells included): the value of ``U`` is the first
    cell whose cumulative probability exceeds it, at slot edges, in the tails and in between, with few slots per
    cell (many jumps to resolve) as with many."""
    p = np.r_[0.0, np.random.default_rng(2).dirichlet(np.full(300, 0.3)), 0.0, 1e-9]
    p /= p.sum()
    u = np.r_[np.random.default_rng(3).integers(0, 2**32, 20000, dtype=np.uint32),
              np.uint32(0), np.uint32(2**32 - 1), (2**22 * np.arange(1024)).astype(np.uint32)]
    expected = np.minimum(np.searchsorted(np.cumsum(p), (u + 0.5) / 2**32, side="right"), len(p) - 1)
    for bits in (6, 12):
        table = GuideTable(np.cumsum(p), np.array([len(p)]), np.arange(len(p), dtype=np.int32), bits)
        np.testing.assert_array_equal(table.lookup(u), expected)
    assert 0 not in expected and len(p) - 2 not in expected  # zero-probability cells are never picked


@pytest.mark.parametrize("draws", [1, 7, 1000, 200_000])
def test_multinomial_rounds_has_the_multinomial_law(draws):
    """Every round has exactly ``draws`` battles; means and variances are those of Multinomial(draws, p)
    (small totals, where every battle is added one by one, and large ones, where some rounds are redrawn)."""
    p = np.array([0.5, 0.0, 0.3, 0.15, 0.05])
    rounds = 20000
    counts = MultinomialTable(p, draws).draw(np.random.default_rng(1), rounds).T
    np.testing.assert_array_equal(counts.sum(axis=1), draws)
    assert counts.min() >= 0 and counts[:, 1].max() == 0
    se_mean = np.sqrt(draws * p * (1 - p) / rounds)
    assert np.all(np.abs(counts.mean(axis=0) - draws * p) <= 5 * se_mean + 1e-12)
    np.testing.assert_allclose(counts.var(axis=0), draws * p * (1 - p), rtol=0.06, atol=1e-12)
    # Multinomial covariance -draws p_a p_b (the Poisson counts alone would be uncorrelated).
    cov = np.cov(counts[:, 0], counts[:, 2])[0, 1]
    assert abs(cov + draws * 0.5 * 0.3) < 0.08 * draws * 0.5 * 0.3 + 0.02


def test_battle_resampler_is_seeded_and_keeps_a_fractional_total():
    """Same seed, same draws; a total of 2.5 battles is drawn as 2 (or 3) battles and scaled back to 2.5."""
    cell_of = np.array([0, 1, 1, 2])
    weight = np.array([0.5, 0.5, 1.0, 0.5])
    sampler = make_resampler(cell_of, weight, np.ones(4), np.arange(4), 3, "battle")
    a = sampler.draw_many(np.random.default_rng(9), 500)
    b = sampler.draw_many(np.random.default_rng(9), 500)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.sum(axis=1), 2.5)
    assert not np.array_equal(a, sampler.draw_many(np.random.default_rng(10), 500))


def test_many_cells_take_the_vectorised_path_with_the_same_law():
    """From VECTOR_MIN_CELLS cells the draws come from MultinomialTable: seeded, N battles a round,
    and a frequency-2 row draws as two frequency-1 rows of the same cell."""
    n_cells = VECTOR_MIN_CELLS + 88
    cell_of = np.arange(n_cells)
    weight = np.where(cell_of % 3 == 0, 2.0, 1.0)
    sampler = make_resampler(cell_of, weight, np.ones(n_cells), cell_of, n_cells, "battle")
    split = np.r_[cell_of, cell_of[weight == 2.0]]
    twin = make_resampler(split, np.ones(len(split)), np.ones(len(split)), np.arange(len(split)), n_cells, "battle")
    a = sampler.draw_many(np.random.default_rng(4), 300)
    np.testing.assert_array_equal(a, twin.draw_many(np.random.default_rng(4), 300))
    np.testing.assert_allclose(a.sum(axis=1), weight.sum())
    p = weight / weight.sum()
    se = np.sqrt(weight.sum() * p * (1 - p) / 300)
    assert np.abs(a.mean(axis=0) - weight).max() < 6 * se.max()


def _random_battles(n: int, m: int, seed: int):
    """``m`` random battles of ``n`` models: their cells, the cell of each battle, the design and the point fit."""
    from arena.rating.bt import aggregate, canonical, fit_pairs, pair_design

    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    cells, cell_of = aggregate(n, *canonical(a, b, rng.integers(0, 3, m)), np.ones(m))
    design = pair_design(n, cells)
    return cells, cell_of, design, fit_pairs(n, design.i, design.j, *design.totals(cells.weight))


def test_a_round_without_a_models_battles_is_fitted_exactly():
    """A resample in which a model has no battles: the shared-Hessian iteration would barely move that model
    (its steps are tiny, not converged); the round is refitted alone and lands on the exact fit."""
    from arena.rating.bootstrap import Refitter
    from arena.rating.bt import fit_pairs

    n = 5
    cells, _, design, point = _random_battles(n, 400, 0)
    weights = np.stack([cells.weight, np.where((cells.a == 4) | (cells.b == 4), 0.0, cells.weight)])
    got = Refitter(design, cells.weight, point)(weights)
    for row, w in zip(got, weights, strict=True):
        exact = fit_pairs(n, design.i, design.j, *design.totals(w))
        np.testing.assert_allclose(row, exact - exact.mean(), atol=1e-6)
    assert abs(got[1, 4]) < 1e-6  # no battles: the ridge holds it at the mean


def test_bootstrap_does_not_depend_on_the_number_of_threads(monkeypatch):
    """Each chunk draws from its own spawned stream, so one thread or several give the same rounds."""
    from arena.rating import bootstrap

    m = 3000
    cells, cell_of, design, point = _random_battles(12, m, 3)
    sampler = make_resampler(cell_of, np.ones(m), np.ones(m), np.arange(m) // 3, len(cells.a), "question")
    runs = []
    for workers in (1, 3):
        monkeypatch.setattr(bootstrap, "WORKERS", workers)
        runs.append(bootstrap.bootstrap_strengths(design, sampler, 150, np.random.default_rng(8), init=point, chunk=16))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0].std(axis=0).min() > 0


@pytest.mark.parametrize("resample", ["battle", "question"])
def test_bootstrap_rounds_are_within_the_round_tolerance_of_their_exact_fits(resample, monkeypatch):
    """Each bootstrap round's strengths are within ``ROUND_TOL`` of the exact fit of that round's weights."""
    from arena.rating import bootstrap
    from arena.rating.bt import fit_pairs

    draws = []
    monkeypatch.setattr(bootstrap.Resampler, "draw_many",
                        lambda self, rng, rounds, real=bootstrap.Resampler.draw_many: draws.append(
                            real(self, rng, rounds)) or draws[-1])
    m = 4000
    cells, cell_of, design, point = _random_battles(15, m, 11)
    sampler = make_resampler(cell_of, np.ones(m), np.ones(m), np.arange(m) // 4, len(cells.a), resample)
    got = bootstrap.bootstrap_strengths(design, sampler, 40, np.random.default_rng(2), init=point, chunk=40)
    (weights,) = draws
    for row, w in zip(got, weights, strict=True):
        exact = fit_pairs(15, design.i, design.j, *design.totals(w), tol=1e-12)
        np.testing.assert_allclose(row, exact - exact.mean(), atol=bootstrap.ROUND_TOL)
    assert got.std(axis=0).min() > 10 * bootstrap.ROUND_TOL


def test_a_running_sum_of_shares_that_passes_one_before_its_end():
    """Shares whose running sum passes 1 by a rounding error before the last cell (zero cells at the end) draw
    as any others: every round has its battles, none in the empty cells (this used to crash building the table)."""
    p = np.random.default_rng(1).dirichlet(np.full(3000, 0.3))
    p[-100:] = 0.0
    p /= p.sum()
    assert np.cumsum(p).max() > 1.0  # the case itself
    counts = MultinomialTable(p, 10_000).draw(np.random.default_rng(0), 5)
    np.testing.assert_array_equal(counts.sum(axis=0), 10_000)
    assert counts[-100:].max() == 0
