"""The one Newton step of every Bradley-Terry fit: the pair Hessian, the solve and the damped iteration.

Bradley-Terry is logistic: a pair ``(i, j)`` with win probability ``p = sigma(s_i - s_j)`` and weight
``total`` adds ``h = total * p * (1 - p)`` to ``H[i, i]`` and ``H[j, j]`` and subtracts it from
``H[i, j]`` and ``H[j, i]``. Every fit here also carries the gauge term ``(sum s)^2 / 2`` (which adds 1
to every entry of the strength block and fixes the free shift without moving the optimum) and a ridge
(``ridge + 1e-12`` on the diagonal), so the matrix is definite even on disconnected data.

Used by :func:`~arena.rating.bt.fit_pairs` (pair totals), the bootstrap
(:func:`~arena.rating.bootstrap.bootstrap_strengths`, which reuses the full-data Hessian) and style
control (:func:`~arena.rating.style.fit_style`, where this is the strength block of a larger Hessian).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_JITTER = 1e-12
"""Added to the ridge on the diagonal, so ``ridge=0`` still gives a non-singular matrix."""


def win_probability(s: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``sigma(s_i - s_j)`` per pair; ``s`` may be ``(n,)`` or ``(rounds, n)``."""
    return 1.0 / (1.0 + np.exp(-(s[..., i] - s[..., j])))


def pair_hessian(n_items: int, i: np.ndarray, j: np.ndarray, h: np.ndarray, ridge: float) -> np.ndarray:
    """The ``(n_items, n_items)`` Hessian of the penalised negative log-likelihood in the strengths.

    Args:
        n_items: number of models.
        i, j: pair (or battle) endpoints.
        h: curvature per pair, ``weight * p * (1 - p)``.
        ridge: L2 penalty; ``ridge + 1e-12`` goes on the diagonal, after the gauge term's 1 everywhere.
    """
    flat = np.concatenate([i * n_items + i, j * n_items + j, i * n_items + j, j * n_items + i])
    hess: np.ndarray = np.bincount(flat, np.concatenate([h, h, -h, -h]), n_items * n_items).reshape(
        n_items, n_items
    )
    hess += 1.0
    add_ridge(hess, ridge)
    return hess


def bt_hessian(s: np.ndarray, i: np.ndarray, j: np.ndarray, total: np.ndarray, ridge: float) -> np.ndarray:
    """:func:`pair_hessian` of Bradley-Terry at strengths ``s`` with weight ``total`` per pair."""
    p = win_probability(s, i, j)
    return pair_hessian(len(s), i, j, total * p * (1.0 - p), ridge)


def add_ridge(hess: np.ndarray, ridge: float) -> None:
    """Add ``ridge + 1e-12`` to the diagonal of ``hess`` in place."""
    hess[np.diag_indices(len(hess))] += ridge + _JITTER


def solve(hess: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The Newton step ``hess^-1 grad``; least squares when ``hess`` is not finite or is singular."""
    if not np.isfinite(hess).all():
        return np.asarray(np.linalg.lstsq(hess, grad, rcond=None)[0])
    try:
        return np.asarray(np.linalg.solve(hess, grad))
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(hess, grad, rcond=None)[0])


def minimize(
    x0: np.ndarray,
    objective: Callable[[np.ndarray], float],
    derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    *,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """Damped Newton's method on a convex ``objective``.

    Each iteration takes the step ``solve(hess, grad)`` from ``derivatives(x) -> (grad, hess)``, where
    ``grad`` is the descent direction (minus the objective's gradient) and ``hess`` the objective's
    Hessian, and halves it while the objective rises (saturated, near-separable data overshoot the
    quadratic model), down to 1e-6 of the step. Stops when the largest move is below ``tol``.
    """
    x = x0
    f = objective(x)
    for _ in range(max_iter):
        grad, hess = derivatives(x)
        step = solve(hess, grad)
        t = 1.0
        while True:
            cand = x + t * step
            f_new = objective(cand)
            if f_new <= f + 1e-12 * abs(f) or t < 1e-6:
                break
            t *= 0.5
        x, f = cand, f_new
        if np.max(np.abs(t * step)) < tol:
            break
    return x
