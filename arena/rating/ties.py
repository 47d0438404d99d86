"""Tie models for Bradley-Terry: Davidson (1970) and Rao-Kupper (1967), on aggregated cells.

Battles are reduced to cells: unordered pair ``i < j`` x outcome kind (0: ``i`` wins, 1: ``j`` wins, 2: tie,
3: ``tie (bothbad)``), with summed frequencies ``count * weight``. With ``d = s_i - s_j`` (natural scale):

- Davidson: ``P(i) = e^{d/2} / Z``, ``P(j) = e^{-d/2} / Z``, ``P(tie kind k) = nu_k / Z``, ``Z = e^{d/2} +
  e^{-d/2} + sum_k nu_k``. ``tie`` and ``tie (bothbad)`` are separate outcomes, each with its own ``nu``
  (a kind never observed has none); since both share the ``sqrt(pi_i pi_j)`` form, the strengths equal those
  of the pooled fit and the two ``nu`` say how ties split.
- Rao-Kupper: ``P(i) = sigma(d - a)``, ``P(j) = sigma(-d - a)``, tie the rest, ``theta = e^a >= 1``
  (parametrised ``a = softplus(b)``). One tie outcome: ``tie (bothbad)`` is pooled with ``tie``.

Both keep ``P(i beats j | not a tie) = sigma(d)``, so strengths live on the Bradley-Terry scale. The fit is
damped Newton (:func:`arena.rating.newton.minimize`) on the penalised negative log-likelihood with the same
ridge and gauge term as :func:`~arena.rating.bt.fit_pairs`, with the analytic gradient and Hessian
(each model's :meth:`~TieLikelihood.curvature` gives the per-cell second derivatives).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix

from arena.rating import newton
from arena.rating.bootstrap import MAX_CURVATURE_CHANGE
from arena.rating.bt import DEFAULT_RIDGE, compact_codes
from arena.rating.encoding import Encoded
from arena.rating.frame import A_WINS, B_WINS

I_WINS, J_WINS, TIE_KIND, BOTHBAD_KIND = 0, 1, 2, 3


@dataclass(frozen=True)
class TieCells:
    """Unique ``(i < j, kind)`` cells with summed battle frequencies."""

    n_items: int
    i: np.ndarray
    j: np.ndarray
    kind: np.ndarray
    weight: np.ndarray


def tie_cells(enc: Encoded, weight: np.ndarray, *, bothbad_apart: bool) -> tuple[TieCells, np.ndarray]:
    """Aggregate battles into cells; ``weight`` per row. Returns ``(cells, cell_of_row)``."""
    n = enc.n_items
    swap = enc.a > enc.b
    i, j = np.where(swap, enc.b, enc.a), np.where(swap, enc.a, enc.b)
    kind = np.full(len(i), TIE_KIND, dtype=np.int64)
    kind[(enc.outcome == A_WINS) & ~swap] = I_WINS
    kind[(enc.outcome == B_WINS) & swap] = I_WINS
    kind[(enc.outcome == A_WINS) & swap] = J_WINS
    kind[(enc.outcome == B_WINS) & ~swap] = J_WINS
    if bothbad_apart and enc.bothbad is not None:
        kind[enc.bothbad] = BOTHBAD_KIND
    code = (i * n + j) * 4 + kind
    uniq, inverse = compact_codes(code, n * n * 4)
    cells = TieCells(n, uniq // 4 // n, uniq // 4 % n, uniq % 4, np.bincount(inverse, weight, len(uniq)))
    return cells, inverse


class TieLikelihood(Protocol):
    """A tie model: per-cell log-probabilities and their derivatives in ``d`` and the extra parameters."""

    name: str
    n_extra: int

    def initial(self) -> np.ndarray: ...

    def logp(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(log p, d log p / dd, d log p / d extra (n_cells, n_extra))`` for each cell's kind."""
        ...

    def derivatives(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(d log p / dd (n_cells, R), d log p / d extra (n_cells, n_extra, R))`` for ``R`` parameter sets at
        once: ``d`` is ``(n_cells, R)``, ``extra`` ``(n_extra, R)``."""
        ...

    def curvature(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Second derivatives of each cell's log p: ``(in d d (n_cells,), in d extra (n_cells, n_extra),
        in extra extra (n_cells, n_extra, n_extra))``."""
        ...

    def params(self, extra: np.ndarray) -> dict[str, float]: ...


def _shares(cells: TieCells) -> tuple[float, dict[int, float]]:
    total = float(cells.weight.sum()) or 1.0
    by_kind = {k: float(cells.weight[cells.kind == k].sum()) / total for k in (TIE_KIND, BOTHBAD_KIND)}
    return total, by_kind


class Davidson:
    """Davidson's tie model, one ``nu`` per observed tie kind (``nu_tie``, ``nu_bothbad``)."""

    name = "davidson"

    def __init__(self, cells: TieCells) -> None:
        self.kind = cells.kind
        self.kinds = [k for k in (TIE_KIND, BOTHBAD_KIND) if cells.weight[cells.kind == k].sum() > 0]
        self.n_extra = len(self.kinds)
        _, self.share = _shares(cells)
        col = np.full(len(cells.kind), -1)
        col[self.kind == I_WINS], col[self.kind == J_WINS] = 0, 1
        for m, k in enumerate(self.kinds):
            col[self.kind == k] = 2 + m
        self.col = col
        """Each cell's outcome among ``(i wins, j wins, one per nu)``; -1: a kind with no parameter."""

    def initial(self) -> np.ndarray:
        rest = max(1.0 - sum(self.share.values()), 1e-6)
        return np.log([max(2.0 * self.share[k] / rest, 1e-6) for k in self.kinds])

    def _terms(self, d: np.ndarray, extra: np.ndarray) -> np.ndarray:
        """The outcomes' log-weights ``(d/2, -d/2, log nu...)``, ``(2 + n_extra, n_cells, R)`` for ``d``
        ``(n_cells, R)`` and ``extra`` ``(n_extra, R)``."""
        return np.concatenate([d[None] / 2, -d[None] / 2, np.broadcast_to(extra[:, None, :], (self.n_extra, *d.shape))])

    @staticmethod
    def _prob(terms: np.ndarray) -> np.ndarray:
        """The outcomes' probabilities (a softmax over the first axis of :meth:`_terms`)."""
        prob = np.exp(terms - terms.max(axis=0))
        prob /= prob.sum(axis=0)
        return prob

    def logp(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        terms = self._terms(d[:, None], extra[:, None])[..., 0]
        live = self.col >= 0
        lp = np.where(live, terms[np.where(live, self.col, 0), np.arange(len(d))] - np.logaddexp.reduce(terms, axis=0),
                      0.0)
        dd, de = self.derivatives(d[:, None], extra[:, None])
        return lp, dd[:, 0], de[:, :, 0]

    def derivatives(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # log p = t_col - logsumexp(t), t = (d/2, -d/2, extra...): d/dt_c = [c = col] - p_c.
        prob = self._prob(self._terms(d, extra))
        col, live = self.col[:, None], (self.col >= 0)[:, None]
        dd = np.where(live, 0.5 * (col == 0) - 0.5 * (col == 1) - (prob[0] - prob[1]) / 2, 0.0)
        de = np.stack([np.where(live, (col == 2 + m) - prob[2 + m], 0.0) for m in range(self.n_extra)], axis=1) \
            if self.n_extra else np.zeros((d.shape[0], 0, d.shape[1]))
        return dd, de

    def curvature(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # log p = t_col - logsumexp(t), t = (d/2, -d/2, extra...): minus the covariance of dt under p.
        prob = self._prob(self._terms(d[:, None], extra[:, None])[..., 0]).T
        live = self.col >= 0
        mean = (prob[:, 0] - prob[:, 1]) / 2
        ddd = np.where(live, mean**2 - (prob[:, 0] + prob[:, 1]) / 4, 0.0)
        pe = prob[:, 2:] * live[:, None]
        dde = mean[:, None] * pe
        dee = pe[:, :, None] * prob[:, None, 2:] - pe[:, :, None] * np.eye(self.n_extra)[None]
        return ddd, dde, dee

    def params(self, extra: np.ndarray) -> dict[str, float]:
        label = {TIE_KIND: "nu_tie", BOTHBAD_KIND: "nu_bothbad"}
        return {label[k]: float(np.exp(e)) for k, e in zip(self.kinds, extra, strict=True)}


class RaoKupper:
    """Rao-Kupper's tie model: ``theta = e^a``, ``a = softplus(b)``; ties (both kinds) are one outcome."""

    name = "rao-kupper"

    def __init__(self, cells: TieCells) -> None:
        self.kind = np.minimum(cells.kind, TIE_KIND)
        self.n_extra = 1 if cells.weight[self.kind == TIE_KIND].sum() > 0 else 0

    def initial(self) -> np.ndarray:
        return np.zeros(self.n_extra)

    def logp(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = float(np.logaddexp(0.0, extra[0])) if self.n_extra else 0.0
        win, loss, tie = self.kind == I_WINS, self.kind == J_WINS, self.kind == TIE_KIND
        lp = np.where(win, -np.logaddexp(0.0, a - d), 0.0) + np.where(loss, -np.logaddexp(0.0, a + d), 0.0)
        if self.n_extra:
            log_gap = np.log(np.expm1(2 * a))  # log(theta^2 - 1)
            lp = lp + np.where(tie, log_gap - np.logaddexp(d / 2, a - d / 2) - np.logaddexp(-d / 2, a + d / 2), 0.0)
        dd, de = self.derivatives(d[:, None], extra[:, None])
        return lp, dd[:, 0], de[:, :, 0]

    def derivatives(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = extra[0] if self.n_extra else np.full(d.shape[1], -np.inf)
        a = np.logaddexp(0.0, b) if self.n_extra else np.zeros(d.shape[1])
        sig_lo, sig_hi = 1 / (1 + np.exp(d - a)), 1 / (1 + np.exp(-(a + d)))  # sigma(a - d), sigma(a + d)
        win, loss, tie = ((self.kind == k)[:, None] for k in (I_WINS, J_WINS, TIE_KIND))
        dd = np.where(win, sig_lo, 0.0) - np.where(loss, sig_hi, 0.0)
        if not self.n_extra:
            return dd, np.zeros((d.shape[0], 0, d.shape[1]))
        dd = dd + np.where(tie, sig_lo - sig_hi, 0.0)
        da = -np.where(win, sig_lo, 0.0) - np.where(loss, sig_hi, 0.0)
        da = da + np.where(tie, 2.0 / -np.expm1(-2 * a) - sig_lo - sig_hi, 0.0)
        return dd, (da / (1 + np.exp(-b)))[:, None, :]

    def curvature(self, d: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = float(extra[0]) if self.n_extra else -np.inf
        a = float(np.logaddexp(0.0, b)) if self.n_extra else 0.0
        sig_lo, sig_hi = 1 / (1 + np.exp(d - a)), 1 / (1 + np.exp(-(a + d)))
        v_lo, v_hi = sig_lo * (1 - sig_lo), sig_hi * (1 - sig_hi)
        win, loss, tie = self.kind == I_WINS, self.kind == J_WINS, self.kind == TIE_KIND
        ddd = -np.where(win, v_lo, 0.0) - np.where(loss, v_hi, 0.0)
        if not self.n_extra:
            return ddd, np.zeros((len(d), 0)), np.zeros((len(d), 0, 0))
        ddd = ddd - np.where(tie, v_lo + v_hi, 0.0)
        dda = np.where(win, v_lo, 0.0) - np.where(loss, v_hi, 0.0) + np.where(tie, v_lo - v_hi, 0.0)
        daa = -np.where(win, v_lo, 0.0) - np.where(loss, v_hi, 0.0)
        daa = daa + np.where(tie, -4 * np.exp(-2 * a) / np.expm1(-2 * a) ** 2 - v_lo - v_hi, 0.0)
        da = -np.where(win, sig_lo, 0.0) - np.where(loss, sig_hi, 0.0)
        da = da + np.where(tie, 2.0 / -np.expm1(-2 * a) - sig_lo - sig_hi, 0.0)
        slope = 1 / (1 + np.exp(-b))  # da/db; d2a/db2 = slope * (1 - slope)
        dbb = daa * slope**2 + da * slope * (1 - slope)
        return ddd, (dda * slope)[:, None], dbb[:, None, None]

    def params(self, extra: np.ndarray) -> dict[str, float]:
        return {"theta": float(np.exp(np.logaddexp(0.0, extra[0])))} if self.n_extra else {"theta": 1.0}


def _objective(model: TieLikelihood, cells: TieCells, w: np.ndarray, x: np.ndarray, ridge: float) -> float:
    n = cells.n_items
    lp, _, _ = model.logp(x[cells.i] - x[cells.j], x[n:])
    return float(-(w * lp).sum() + 0.5 * ridge * x[:n] @ x[:n] + 0.5 * x[:n].sum() ** 2)


def gradient(model: TieLikelihood, cells: TieCells, w: np.ndarray, x: np.ndarray, ridge: float) -> np.ndarray:
    """Gradient of the penalised negative log-likelihood in ``(strengths, extra)``."""
    return gradients(model, cells, _incidence(cells), w[:, None], x[:, None], ridge)[:, 0]


def _incidence(cells: TieCells) -> csr_matrix:
    """``(n_items, n_cells)``: +1 at ``(i, cell)``, -1 at ``(j, cell)``."""
    m = len(cells.i)
    cols = np.r_[np.arange(m), np.arange(m)]
    return csr_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[cells.i, cells.j], cols)), shape=(cells.n_items, m))


def gradients(
    model: TieLikelihood, cells: TieCells, incidence: csr_matrix, w: np.ndarray, x: np.ndarray, ridge: float
) -> np.ndarray:
    """:func:`gradient` for ``R`` cell weightings and parameter sets at once: ``w`` is ``(n_cells, R)``, ``x``
    ``(n_items + n_extra, R)``; ``incidence`` is :func:`_incidence` of ``cells``."""
    n = cells.n_items
    # x_i - x_j per cell as a sparse product: gathering rows of x for every cell is ~10x slower at 64 rounds.
    dd, de = model.derivatives(np.asarray(incidence.T @ x[:n]), x[n:])
    g = np.empty_like(x)
    g[:n] = -(incidence @ (w * dd)) + ridge * x[:n] + x[:n].sum(axis=0)
    g[n:] = -(w[:, None, :] * de).sum(axis=0)
    return g


def hessian(model: TieLikelihood, cells: TieCells, w: np.ndarray, x: np.ndarray, ridge: float) -> np.ndarray:
    """Analytic Hessian of the penalised negative log-likelihood in ``(strengths, extra)``: the strength block
    is :func:`~arena.rating.newton.pair_hessian` of the per-cell curvature (with the gauge term and ridge)."""
    n = cells.n_items
    ddd, dde, dee = model.curvature(x[cells.i] - x[cells.j], x[n:])
    k = dde.shape[1]
    hess = np.zeros((n + k, n + k))
    hess[:n, :n] = newton.pair_hessian(n, cells.i, cells.j, -w * ddd, ridge)
    for m in range(k):
        cross = -(np.bincount(cells.i, w * dde[:, m], n) - np.bincount(cells.j, w * dde[:, m], n))
        hess[:n, n + m] = hess[n + m, :n] = cross
    hess[n:, n:] = -np.einsum("c,ckl->kl", w, dee)
    return hess


def fit(
    model: TieLikelihood,
    cells: TieCells,
    w: np.ndarray,
    *,
    init: np.ndarray | None = None,
    ridge: float = DEFAULT_RIDGE,
    tol: float = 1e-9,
) -> np.ndarray:
    """Maximum likelihood ``(strengths (mean zero), extra)`` for cell weights ``w``."""
    n = cells.n_items
    x = np.r_[np.zeros(n), model.initial()] if init is None else np.array(init, dtype=float)
    x = newton.minimize(
        x,
        lambda t: _objective(model, cells, w, t, ridge),
        lambda t: (-gradient(model, cells, w, t, ridge), hessian(model, cells, w, t, ridge)),
        tol=tol,
        max_iter=200,
    )
    x[:n] -= x[:n].mean()
    return x


def scores(model: TieLikelihood, cells: TieCells, x: np.ndarray, factor: np.ndarray | None = None) -> csr_matrix:
    """One battle's score (gradient of its log-likelihood) per cell, ``(n_cells, n_items + n_extra)``."""
    n, m = cells.n_items, len(cells.i)
    _, dd, de = model.logp(x[cells.i] - x[cells.j], x[n:])
    f = np.ones(m) if factor is None else factor
    rows = np.arange(m)
    k = de.shape[1]
    data = np.r_[dd * f, -dd * f, (de * f[:, None]).ravel()]
    r = np.r_[rows, rows, np.repeat(rows, k)]
    c = np.r_[cells.i, cells.j, np.tile(n + np.arange(k), m)]
    return csr_matrix((data, (r, c)), shape=(m, n + k))


def bootstrap(
    model: TieLikelihood,
    cells: TieCells,
    draws: np.ndarray,
    x0: np.ndarray,
    hess: np.ndarray,
    *,
    ridge: float = DEFAULT_RIDGE,
    tol: float = 1e-6,
    chunk: int = 64,
    base_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Refit every row of cell weights ``draws`` from the point estimate ``x0``, reusing the full-data
    Hessian ``hess`` (fitted on ``base_weight``, default ``cells.weight``), as the Bradley-Terry bootstrap
    does, ``chunk`` rounds at a time as one batch of Newton steps. A round where some model's battle weight
    differs from its full-data weight by more than :data:`~arena.rating.bootstrap.MAX_CURVATURE_CHANGE` (its
    steps would be tiny without being converged), that does not contract, or that has not converged after
    50 steps, is refitted alone by :func:`fit`. Returns strengths, ``(rounds, n_items)``, each row mean zero."""
    n = cells.n_items
    inv = np.linalg.inv(hess)
    incidence = _incidence(cells)
    plays = abs(incidence)
    base_plays = np.maximum(plays @ (cells.weight if base_weight is None else base_weight), 1e-300)
    out = np.empty((len(draws), n))
    for start in range(0, len(draws), chunk):
        w = np.ascontiguousarray(np.asarray(draws[start : start + chunk], dtype=float).T)
        rounds = w.shape[1]
        x = np.repeat(np.asarray(x0, dtype=float)[:, None], rounds, axis=1)
        done, last = np.zeros(rounds, bool), np.full(rounds, np.inf)
        failed = (np.abs((plays @ w) / base_plays[:, None] - 1.0) > MAX_CURVATURE_CHANGE).any(axis=0)
        for _ in range(50):
            step = inv @ gradients(model, cells, incidence, w, x, ridge)
            size = np.abs(step).max(axis=0)
            failed |= ~done & ~(np.isfinite(size) & (size <= 2 * last))
            move = ~done & ~failed
            x[:, move] -= step[:, move]
            last = np.where(move, size, last)
            done |= move & (size < tol)
            if (done | failed).all():
                break
        for r in np.flatnonzero(~done):
            x[:, r] = fit(model, cells, w[:, r], init=x0, ridge=ridge, tol=tol)
        out[start : start + rounds] = (x[:n] - x[:n].mean(axis=0)).T
    return out
