"""Sandwich (M-estimator, robust) covariance of a maximum-likelihood fit, clustered by question.

For a fit that maximises ``sum_k w_k log p_k(theta)``, ``cov = H^-1 M H^-1`` with ``H`` the Hessian of the
penalised negative log-likelihood (the "bread") and ``M`` the "meat": the sum over clusters of the outer
product of the cluster's score ``sum_{k in cluster} w_k grad log p_k``. The clusters are questions (every
battle of a question, both orders, every turn, each of a row's ``count``, moves together, as in the question
bootstrap) or single battles, as ``rating.resample`` says. Counts and weights are frequencies: a row of count
or weight ``n`` is ``n`` battles of its question, so within a question it adds ``n`` times its score and, as
its own question, ``n`` outer products.

The Bradley-Terry strengths carry the gauge term ``(sum s)^2 / 2`` in ``H``; the scores sum to zero over the
strengths, so ``H^-1 M H^-1`` is the covariance of the mean-zero estimate (the same as LMArena's
arena-rank, which regularises the diagonal instead). Intervals are ``point +- z sd`` on the rating scale.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from scipy.sparse import csr_matrix

from arena.rating.bt import DEFAULT_RIDGE, PairDesign, compact_codes
from arena.rating.newton import bt_hessian, win_probability


def clusters(
    cell_of_row: np.ndarray, freq: np.ndarray, group: np.ndarray, n_cells: int, by_question: bool
) -> csr_matrix | None:
    """``(n_groups, n_cells)`` battle frequency of each cell within each question, or None for single battles."""
    if not by_question:
        return None
    group = compact_codes(group)[1]
    n_groups = int(group.max()) + 1 if len(group) else 0
    matrix = csr_matrix((np.asarray(freq, float), (group, np.asarray(cell_of_row))), shape=(n_groups, n_cells))
    matrix.sum_duplicates()
    return matrix


def meat(scores: csr_matrix, cell_freq: np.ndarray, groups: csr_matrix | None) -> np.ndarray:
    """``M``: ``scores`` holds one battle's score per cell (``(n_cells, p)``); ``groups`` from :func:`clusters`."""
    if groups is None:
        weighted = csr_matrix(scores.multiply(np.asarray(cell_freq, float)[:, None]))
        return np.asarray((scores.T @ weighted).toarray())
    per_group = groups @ scores
    return np.asarray((per_group.T @ per_group).toarray())


def sandwich(hess: np.ndarray, middle: np.ndarray) -> np.ndarray:
    """``H^-1 M H^-1`` (symmetrised)."""
    bread = np.linalg.inv(hess)
    cov = bread @ middle @ bread
    return (cov + cov.T) / 2.0


def pair_scores(design: PairDesign, s: np.ndarray, factor: np.ndarray | None = None) -> csr_matrix:
    """One battle's Bradley-Terry score per cell, ``(y - p)(e_i - e_j)`` (zero for dropped ties), times the
    cell's reweighting ``factor``."""
    p = win_probability(s, design.i, design.j)[design.cell_pair]
    value = np.where(design.cell_keep, design.cell_credit - p, 0.0)
    if factor is not None:
        value = value * factor
    rows = np.arange(len(value))
    return csr_matrix(
        (np.r_[value, -value], (np.r_[rows, rows], np.r_[design.i[design.cell_pair], design.j[design.cell_pair]])),
        shape=(len(value), design.n_items),
    )


def bt_covariance(
    design: PairDesign,
    s: np.ndarray,
    cell_freq: np.ndarray,
    groups: csr_matrix | None,
    factor: np.ndarray | None = None,
    *,
    ridge: float = DEFAULT_RIDGE,
) -> np.ndarray:
    """Sandwich covariance of Bradley-Terry strengths ``s`` (natural scale).

    Args:
        design: the pair design of the fit.
        s: the fitted strengths.
        cell_freq: battles per cell (``count * weight`` summed).
        groups: question clusters (:func:`clusters`), or None for single battles.
        factor: per-cell multiplier of the fit weight (reweighting), or None.
        ridge: the fit's ridge.
    """
    fit_weight = cell_freq if factor is None else cell_freq * factor
    _, total = design.totals(fit_weight)
    hess = bt_hessian(s, design.i, design.j, total, ridge)
    return sandwich(hess, meat(pair_scores(design, s, factor), cell_freq, groups))


def rating_covariance(cov: np.ndarray, per_unit: float, anchor: int | None) -> np.ndarray:
    """Covariance of ratings ``per_unit * s`` centred on the mean (``anchor`` None) or on model ``anchor``."""
    n = len(cov)
    centre = np.full((n, n), 1.0 / n) if anchor is None else np.outer(np.ones(n), np.eye(n)[anchor])
    jac = per_unit * (np.eye(n) - centre)
    out: np.ndarray = jac @ cov @ jac.T
    return out


def normal_interval(point: np.ndarray, var: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """``point -+ z sd`` with ``z`` the two-sided normal quantile of ``confidence``."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    half = z * np.sqrt(np.clip(var, 0.0, None))
    return point - half, point + half
