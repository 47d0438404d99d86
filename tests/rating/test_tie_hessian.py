"""The tie models' analytic Hessian agrees with central differences of their analytic gradient."""

from __future__ import annotations

import numpy as np
import pytest

from arena.rating import ties


def _central_difference(model: ties.TieLikelihood, cells: ties.TieCells, x: np.ndarray, ridge: float) -> np.ndarray:
    h, cols = 1e-5, []
    for k in range(len(x)):
        e = np.zeros(len(x))
        e[k] = h
        plus = ties.gradient(model, cells, cells.weight, x + e, ridge)
        cols.append((plus - ties.gradient(model, cells, cells.weight, x - e, ridge)) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("likelihood", [ties.Davidson, ties.RaoKupper])
@pytest.mark.parametrize("kinds", [[0, 1, 2, 3], [0, 1, 2], [0, 1]])
def test_analytic_hessian_matches_differences(likelihood: type, kinds: list[int]) -> None:
    rng = np.random.default_rng(3)
    n, m = 6, 200
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    cells = ties.TieCells(n, lo, hi, rng.choice(kinds, m), rng.random(m) * 3)
    model = likelihood(cells)
    x = np.r_[rng.normal(size=n), 0.5 * rng.normal(size=model.n_extra)]
    analytic = ties.hessian(model, cells, cells.weight, x, 0.01)
    np.testing.assert_allclose(analytic, analytic.T)
    np.testing.assert_allclose(analytic, _central_difference(model, cells, x, 0.01), atol=1e-6)


@pytest.mark.parametrize("likelihood", [ties.Davidson, ties.RaoKupper])
@pytest.mark.parametrize("kinds", [[0, 1, 2, 3], [0, 1]])
def test_batched_bootstrap_is_one_fit_per_round(likelihood: type, kinds: list[int]) -> None:
    """The bootstrap's batched Newton steps (all rounds of a chunk at once, the full-data Hessian) land where a
    separate maximum-likelihood fit of each round lands; chunk boundaries change nothing beyond rounding."""
    rng = np.random.default_rng(5)
    n, m = 5, 120
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    cells, _ = ties.tie_cells(_encoded(np.minimum(i, j), np.maximum(i, j), rng.choice(kinds, m), n), np.ones(m),
                              bothbad_apart=True)
    model = likelihood(cells)
    x = ties.fit(model, cells, cells.weight)
    hess = ties.hessian(model, cells, cells.weight, x, ties.DEFAULT_RIDGE)
    draws = rng.multinomial(int(cells.weight.sum()), cells.weight / cells.weight.sum(), size=7).astype(float)
    boot = ties.bootstrap(model, cells, draws, x, hess, chunk=3)
    for r, w in enumerate(draws):
        alone = ties.fit(model, cells, w, init=x)[:n]
        np.testing.assert_allclose(boot[r], alone - alone.mean(), atol=1e-5)
    np.testing.assert_allclose(boot, ties.bootstrap(model, cells, draws, x, hess, chunk=64), atol=1e-12)


def _encoded(a: np.ndarray, b: np.ndarray, kind: np.ndarray, n: int):
    from arena.rating.encoding import Encoded
    from arena.rating.frame import A_WINS, B_WINS, TIE

    outcome = np.select([kind == 0, kind == 1], [A_WINS, B_WINS], TIE)
    ones = np.ones(len(a))
    return Encoded([f"m{k}" for k in range(n)], a, b, outcome, ones, ones, np.arange(len(a)), bothbad=kind == 3)


@pytest.mark.parametrize("likelihood", [ties.Davidson, ties.RaoKupper])
def test_a_round_without_a_models_battles_is_fitted_exactly(likelihood: type) -> None:
    rng = np.random.default_rng(2)
    n, m = 5, 300
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    cells, _ = ties.tie_cells(_encoded(np.minimum(i, j), np.maximum(i, j), rng.choice([0, 1, 2], m), n),
                              np.ones(m), bothbad_apart=True)
    model = likelihood(cells)
    x = ties.fit(model, cells, cells.weight)
    hess = ties.hessian(model, cells, cells.weight, x, ties.DEFAULT_RIDGE)
    w = np.where((cells.i == 4) | (cells.j == 4), 0.0, cells.weight)
    boot = ties.bootstrap(model, cells, w[None], x, hess)
    alone = ties.fit(model, cells, w, init=x)[:n]
    np.testing.assert_allclose(boot[0], alone - alone.mean(), atol=1e-6)
