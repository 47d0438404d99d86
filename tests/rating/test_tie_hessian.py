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
