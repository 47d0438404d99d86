"""Style control with sandwich intervals (``rating.ci: sandwich``): the fit of :mod:`arena.rating.style`,
the covariance of :mod:`arena.rating.sandwich` over strengths and style coefficients together."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from arena.rating.bt import DEFAULT_RIDGE, to_ratings
from arena.rating.encoding import encode
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.newton import add_ridge, pair_hessian
from arena.rating.reweight import inverse_pair_factor
from arena.rating.sandwich import clusters, meat, normal_interval, rating_covariance, sandwich
from arena.rating.settings import RatingSettings
from arena.rating.style import _units, fit_style, style_features


def style_hessian(
    n: int, a: np.ndarray, b: np.ndarray, feats: np.ndarray, w: np.ndarray, theta: np.ndarray, ridge: float
) -> np.ndarray:
    """Hessian of :func:`~arena.rating.style.fit_style`'s penalised objective at ``theta`` (strengths, coefficients)."""
    d = feats.shape[1]
    z = theta[a] - theta[b] + feats @ theta[n:]
    p = 1.0 / (1.0 + np.exp(-z))
    h = w * p * (1.0 - p)
    hess = np.zeros((n + d, n + d))
    hess[:n, :n] = pair_hessian(n, a, b, h, ridge)
    hf = feats * h[:, None]
    cross = np.stack([np.bincount(a, hf[:, k], n) - np.bincount(b, hf[:, k], n) for k in range(d)], axis=1)
    hess[:n, n:], hess[n:, :n] = cross, cross.T
    hess[n:, n:] = feats.T @ hf
    add_ridge(hess[n:, n:], ridge)
    return hess


def style_scores(
    n: int, a: np.ndarray, b: np.ndarray, outcome: np.ndarray, feats: np.ndarray, theta: np.ndarray, keep: np.ndarray
) -> csr_matrix:
    """One battle's score per unit: ``(y - p) (e_a - e_b, f)``."""
    y = np.where(outcome == A_WINS, 1.0, np.where(outcome == B_WINS, 0.0, 0.5))
    p = 1.0 / (1.0 + np.exp(-(theta[a] - theta[b] + feats @ theta[n:])))
    g = np.where(keep, y - p, 0.0)
    m, d = len(a), feats.shape[1]
    rows = np.arange(m)
    return csr_matrix(
        (np.r_[g, -g, (feats * g[:, None]).ravel()], (np.r_[rows, rows, np.repeat(rows, d)],
                                                     np.r_[a, b, np.tile(n + np.arange(d), m)])),
        shape=(m, n + d),
    )


def style_sandwich_extras(frame: pd.DataFrame, settings: RatingSettings, rng: np.random.Generator) -> dict[str, Any]:
    """As :func:`arena.rating.style.style_extras` (same keys), intervals from the clustered sandwich covariance
    (``settings.resample`` picks question clusters or single battles); ``settings.reweight`` applies. ``rng``
    is unused (kept for the same call shape)."""
    feats, names = style_features(frame)
    if not names:
        return {"warning": "style control needs len_a/len_b (and header/list/bold) columns; none found"}
    enc = encode(frame)
    n = enc.n_items
    ua, ub, uo, uf, unit_of = _units(enc.a, enc.b, enc.outcome, feats)
    freq = np.bincount(unit_of, enc.weight, len(ua))
    factor = np.ones(len(ua))
    if settings.reweight == "inverse-pair":
        factor[unit_of] = inverse_pair_factor(n, enc.a, enc.b, enc.weight)
    w = freq * factor
    s, beta = fit_style(n, (ua, ub, uo), uf, w, ties=settings.ties)
    theta = np.r_[s, beta]
    keep = uo != TIE if settings.ties == "drop" else np.ones(len(ua), dtype=bool)
    hess = style_hessian(n, ua, ub, uf, np.where(keep, w, 0.0), theta, DEFAULT_RIDGE)
    by_question = settings.resample == "question" and enc.has_questions
    groups = clusters(unit_of, enc.weight, enc.group, len(ua), by_question)
    scores = csr_matrix(style_scores(n, ua, ub, uo, uf, theta, keep).multiply(factor[:, None]))
    cov = sandwich(hess, meat(scores, freq, groups))
    anchor = None
    if settings.anchor is not None and settings.anchor.model in enc.models:
        anchor = (enc.models.index(settings.anchor.model), settings.anchor.rating)
    ratings = to_ratings(s, scale=settings.scale, base=settings.elo.base, initial=settings.initial, anchor=anchor)
    rcov = rating_covariance(cov[:n, :n], settings.scale / np.log(settings.elo.base), anchor and anchor[0])
    low, high = normal_interval(ratings, np.diag(rcov), settings.confidence)
    b_low, b_high = normal_interval(beta, np.diag(cov)[n:], settings.confidence)
    rows: list[dict[str, Any]] = [{"model": m, "rating": float(ratings[k]), "ci_low": float(low[k]), "ci_high": float(high[k])}
            for k, m in enumerate(enc.models)]
    rows.sort(key=lambda r: -float(r["rating"]))
    return {"features": names, "coefficients": beta.tolist(), "coef_low": np.atleast_1d(b_low).tolist(),
            "coef_high": np.atleast_1d(b_high).tolist(), "rows": rows}
