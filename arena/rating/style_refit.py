"""Bootstrap refits of the style-control model (:func:`arena.rating.style.fit_style`), many rounds at once.

Every round reweights the same units (merged identical battles); :class:`StyleRefitter` solves all rounds of a
chunk together by Newton iterations from the point estimate that reuse one Hessian (the full-data one), as
:class:`arena.rating.bootstrap.Refitter` does for plain Bradley-Terry. The model is
``P(a beats b) = sigma(z)``, ``z = s_a - s_b + beta . f``, written as ``p = (1 + tanh(z / 2)) / 2``, so the
gradient of a round with unit weights ``w`` is ``X^T (w (c - tanh(z / 2) / 2))`` with ``c = y - 1/2``:

- the part ``X^T (w c)`` is linear in the weights and computed once per round;
- ``tanh(z / 2)`` is evaluated in float32 (units x rounds: the only per-iteration transcendental), then
  multiplied by the float64 weights and summed in float64: per cell (pair and outcome, the units being sorted
  so that each cell is one contiguous block) for the strengths, against the features for the coefficients.

float32 rounding moves each ``p`` by about 3e-8 with no systematic sign; measured, the refitted strengths and
coefficients stay within 7e-8 of exact per-round fits (20 models x 200,000 battles; 2 models x 600,000 battles),
far below the tolerance (1e-6 on the natural scale). The sums stay float64: float32 BLAS sums over 600,000
battles were off by over 1e-6.
"""

from __future__ import annotations

import numpy as np

from arena.rating.bootstrap import MAX_CURVATURE_CHANGE, Resampler, in_chunks
from arena.rating.bt import DEFAULT_RIDGE
from arena.rating.frame import A_WINS, B_WINS, TIE

MAX_ITER = 30
"""Newton iterations before a round still moving is refitted alone by :func:`arena.rating.style.fit_style`."""


class StyleRefitter:
    """Refits the style model on many reweightings of the same units, warm-started at ``init``.

    Iterations reuse the Hessian at ``init`` with ``base_weight`` (a resample's Hessian differs from it by
    sampling noise only, so the iteration contracts fast, by a factor of about 30 per step on 200,000 battles,
    and needs no linear solve per round). A round stops after a step below ``tol`` (the largest change of a
    strength or coefficient; its distance to its optimum is then about that step times the contraction factor).
    A round is refitted alone by :func:`arena.rating.style.fit_style` when some model's curvature in it is far
    from the full data's (:data:`~arena.rating.bootstrap.MAX_CURVATURE_CHANGE`: few or none of its battles drawn), when its steps stop
    shrinking, or when it has not converged after :data:`MAX_ITER` iterations.

    Args:
        n_items: number of models.
        data: ``(a, b, outcome)`` per unit.
        features: ``(n_units, d)`` covariates.
        base_weight: frequency per unit in the full data (the Hessian's weights).
        init: ``n_items + d`` values, the point estimate (strengths, then coefficients).
        ties: ``half`` (target 0.5) or ``drop`` (tie units take no part).
    """

    def __init__(
        self,
        n_items: int,
        data: tuple[np.ndarray, np.ndarray, np.ndarray],
        features: np.ndarray,
        base_weight: np.ndarray,
        init: np.ndarray,
        *,
        ties: str = "half",
        ridge: float = DEFAULT_RIDGE,
        tol: float = 1e-6,
    ) -> None:
        from arena.rating.style import style_hessian

        a, b, outcome = (np.asarray(x) for x in data)
        features = np.asarray(features, dtype=float).reshape(len(a), -1)
        self.n, self.d = n_items, features.shape[1]
        self.data, self.features, self.ties, self.ridge, self.tol = data, features, ties, ridge, tol
        self.init = np.asarray(init, dtype=float)
        base_weight = np.asarray(base_weight, dtype=float)
        n = n_items
        z0 = self.init[a] - self.init[b] + features @ self.init[n:]
        p0 = 1.0 / (1.0 + np.exp(-z0))
        w0 = base_weight * (outcome != TIE) if ties == "drop" else base_weight
        self.h_inv = np.linalg.inv(style_hessian(n, a, b, features, w0 * p0 * (1.0 - p0), ridge))
        # Units in cell order (stable, so the given order within a cell stays), tie units left out for ``drop``.
        cell = (a * n + b) * 3 + outcome
        order = np.arange(len(cell)) if (np.diff(cell) >= 0).all() else np.argsort(cell, kind="stable")
        if ties == "drop":
            order = order[outcome[order] != TIE]
        self.columns = None if np.array_equal(order, np.arange(len(a))) else order
        a, b, outcome, cell, f = a[order], b[order], outcome[order], cell[order], features[order]
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.zeros(0, dtype=np.int64)
        self.starts = first
        self.cell_a, self.cell_b = a[first], b[first]
        self.cell_c = np.where(outcome[first] == A_WINS, 0.5, np.where(outcome[first] == B_WINS, -0.5, 0.0))
        # (n_cells, n): a cell's summed gradient goes to its first model and, negated, to its second.
        self.to_models = np.zeros((len(first), n))
        self.to_models[np.arange(len(first)), self.cell_a] += 1.0
        self.to_models[np.arange(len(first)), self.cell_b] -= 1.0
        self.f64 = np.ascontiguousarray(f)
        self.half_f32t = np.ascontiguousarray(0.5 * f.T, dtype=np.float32)
        self.sizes = np.diff(np.r_[first, len(cell)])
        self.c_f = self.f64 * np.repeat(self.cell_c, self.sizes)[:, None]
        self.t0 = np.tanh(0.5 * (z0[order]))
        # Each model's curvature (its diagonal Hessian entry, less ridge and gauge) in the full data, and the mean
        # curvature per battle of each cell, to compare a round's against (see __call__).
        cell_w = self._cell_sums(w0[order][None, :])[0]
        cell_h = self._cell_sums((w0 * p0 * (1.0 - p0))[order][None, :])[0]
        self.cell_mean_h = np.divide(cell_h, cell_w, out=np.zeros_like(cell_h), where=cell_w > 0)
        self.model_h = cell_h @ np.abs(self.to_models)

    def __call__(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(strengths, coefficients)`` for each row of unit ``weights`` (``(rounds, n_units)``).

        Strengths are mean zero per round.
        """
        n = self.n
        weights = np.ascontiguousarray(np.atleast_2d(np.asarray(weights, dtype=float)))  # rows: rounds
        w = weights if self.columns is None else weights[:, self.columns]
        rounds = len(w)
        theta = np.tile(self.init, (rounds, 1))
        cell_w = self._cell_sums(w)
        linear = np.empty((rounds, n + self.d))
        linear[:, :n] = (cell_w * self.cell_c) @ self.to_models
        linear[:, n:] = w @ self.c_f
        # A model whose curvature in a round is far from the full data's (few or none of its battles drawn) makes
        # the shared Hessian a poor guide, and a small gradient can then hide a large error: refit those alone.
        ratio = (cell_w * self.cell_mean_h) @ np.abs(self.to_models) / np.where(self.model_h > 0, self.model_h, 1.0)
        far = ((ratio < 1.0 - MAX_CURVATURE_CHANGE) | (ratio > 1.0 + MAX_CURVATURE_CHANGE))[:, self.model_h > 0]
        fallback: list[int] = np.flatnonzero(far.any(axis=1)).tolist()
        live = np.flatnonzero(~far.any(axis=1))  # rounds still iterating; w, linear and t hold only these rows
        if len(live) < rounds:
            w, linear = w[live], linear[live]
        last = np.full(rounds, np.inf)
        t: np.ndarray = self.t0
        for it in range(MAX_ITER):
            if not len(live):
                break
            if it:
                t = self._half_tanh(theta[live])
            grad = linear - 0.5 * self._moments(w, t)
            grad[:, :n] -= theta[live, :n].sum(axis=1, keepdims=True)
            grad -= self.ridge * theta[live]
            step = grad @ self.h_inv
            size = np.abs(step).max(axis=1)
            ok = np.isfinite(size) & (size < 2.0 * last[live])
            theta[live[ok]] += step[ok]
            done = ok & (size < self.tol)
            fallback.extend(live[~ok].tolist())
            last[live] = size
            keep = ok & ~done
            if not keep.any():
                live = live[:0]
                break
            if not keep.all():
                live, w, linear = live[keep], w[keep], linear[keep]
        fallback.extend(live.tolist())
        s, beta = theta[:, :n], theta[:, n:]
        if fallback:
            from arena.rating.style import fit_style

            for r in sorted(fallback):
                s[r], beta[r] = fit_style(n, self.data, self.features, weights[r], ties=self.ties,
                                          ridge=self.ridge, init=self.init, tol=self.tol)
        s = s - s.mean(axis=1, keepdims=True)
        return np.nan_to_num(s), np.nan_to_num(beta)

    def _moments(self, w: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``X^T (w t)`` per round, ``t`` per unit and round (or per unit), summed in float64."""
        g = np.multiply(w, t, dtype=float)
        out = np.empty((len(w), self.n + self.d))
        out[:, : self.n] = self._cell_sums(g) @ self.to_models
        out[:, self.n :] = g @ self.f64
        return out

    def _cell_sums(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] == 0:
            return np.zeros((len(x), 0))
        return np.add.reduceat(x, self.starts, axis=1)

    def _half_tanh(self, theta: np.ndarray) -> np.ndarray:
        """``tanh(z / 2)`` per round and unit, float32: ``z`` from the features' product and one offset per cell."""
        n = self.n
        s = theta[:, :n]
        half = np.matmul(theta[:, n:].astype(np.float32), self.half_f32t)
        offset = (0.5 * (s[:, self.cell_a] - s[:, self.cell_b])).astype(np.float32)
        half += np.repeat(offset, self.sizes, axis=1)
        return np.tanh(half, out=half)


def bootstrap_style(
    refit: StyleRefitter, sampler: Resampler, rounds: int, rng: np.random.Generator, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """``rounds`` bootstrap refits, drawn ``chunk`` rounds at a time by ``sampler`` and solved by ``refit``.

    Chunks as :func:`arena.rating.bootstrap.in_chunks` runs them (each its own spawned stream, in a thread
    pool: the same result with any number of threads).

    Returns:
        ``(strengths (rounds, n_items), coefficients (rounds, d))``.
    """
    out_s = np.empty((rounds, refit.n))
    out_b = np.empty((rounds, refit.d))

    def solve(start: int, weights: np.ndarray) -> None:
        out_s[start : start + len(weights)], out_b[start : start + len(weights)] = refit(weights)

    in_chunks(sampler, rounds, chunk, rng, solve)
    return out_s, out_b
