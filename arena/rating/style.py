"""Style control as Chatbot Arena: answer length and markdown as covariates in a logistic Bradley-Terry.

For each battle the style features are the normalised differences ``(x_a - x_b) / (x_a + x_b)`` (after
adding one to every count, so two answers without headers compare as equal), standardised over battles
(weighted by ``count * weight``, so rows, counts and weights of the same battles give the same features).
The model is ``logit P(a beats b) = s_a - s_b + beta . f``; ``beta`` says how much the judge rewards each
feature, and ``s`` are ratings with that effect removed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arena.rating import newton
from arena.rating.bootstrap import percentile_interval
from arena.rating.bt import DEFAULT_RIDGE, canonical, to_ratings
from arena.rating.frame import A_WINS, B_WINS, TIE, encode
from arena.rating.newton import add_ridge, pair_hessian
from arena.rating.settings import RatingSettings

FEATURES: tuple[str, ...] = ("len", "header", "list", "bold")


def style_features(frame: pd.DataFrame, features: tuple[str, ...] = FEATURES) -> tuple[np.ndarray, list[str]]:
    """Standardised normalised-difference features, one column per feature present in ``frame``.

    Missing values (a battle without that feature) give a zero difference. Mean and standard deviation
    are over battles: each row counts ``count * weight`` times when those columns are present.

    Returns:
        ``(matrix (n_battles, d), feature_names)``.
    """
    cols, names = [], []
    freq = np.ones(len(frame))
    for col in ("count", "weight"):
        if col in frame.columns:
            freq = freq * pd.to_numeric(frame[col], errors="coerce").fillna(1.0).to_numpy(dtype=float)
    total = freq.sum()
    for feat in features:
        ca, cb = f"{feat}_a", f"{feat}_b"
        if ca not in frame.columns or cb not in frame.columns:
            continue
        xa = pd.to_numeric(frame[ca], errors="coerce").to_numpy(dtype=float) + 1.0
        xb = pd.to_numeric(frame[cb], errors="coerce").to_numpy(dtype=float) + 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = np.nan_to_num((xa - xb) / (xa + xb))
        if not diff.any() or total <= 0:
            continue
        mean = float(freq @ diff) / total
        std = float(np.sqrt(freq @ (diff - mean) ** 2 / total))
        cols.append((diff - mean) / (std if std > 0 else 1.0))
        names.append(feat)
    matrix = np.stack(cols, axis=1) if cols else np.zeros((len(frame), 0))
    return matrix, names


def fit_style(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    features: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    ties: str = "half",
    ridge: float = DEFAULT_RIDGE,
    init: np.ndarray | None = None,
    tol: float = 1e-8,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic Bradley-Terry with covariates, by damped Newton's method (:func:`arena.rating.newton.minimize`).

    The strength block of the Hessian is :func:`arena.rating.newton.pair_hessian` over battles.

    Args:
        n_items: number of models.
        data: ``(a, b, outcome)`` arrays.
        features: ``(n_battles, d)`` covariates (e.g. from :func:`style_features`).
        weight: per-battle weight.
        ties: ``half`` (target 0.5) or ``drop``.
        ridge: L2 penalty on strengths and coefficients.
        init: warm start, ``n_items + d`` values.

    Returns:
        ``(strengths (mean zero, natural scale), coefficients)``.
    """
    a, b, outcome = (np.asarray(x) for x in data)
    w = np.ones(len(a)) if weight is None else np.asarray(weight, dtype=float).copy()
    if ties == "drop":
        w = w * (outcome != TIE)
    y = np.where(outcome == A_WINS, 1.0, np.where(outcome == B_WINS, 0.0, 0.5))
    d = features.shape[1]
    n = n_items
    theta = np.zeros(n + d) if init is None else np.array(init, dtype=float)

    def objective(t: np.ndarray) -> float:
        z = t[a] - t[b] + features @ t[n:]
        nll = (w * (y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z))).sum()
        return float(nll + 0.5 * ridge * t @ t + 0.5 * t[:n].sum() ** 2)

    def derivatives(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = t[a] - t[b] + features @ t[n:]
        p = 1.0 / (1.0 + np.exp(-z))
        g = w * (y - p)
        h = w * p * (1.0 - p)
        grad = np.empty(n + d)
        grad[:n] = np.bincount(a, g, n) - np.bincount(b, g, n) - t[:n].sum()
        grad[n:] = features.T @ g
        grad -= ridge * t
        return grad, style_hessian(n, a, b, features, h, ridge)

    theta = newton.minimize(theta, objective, derivatives, tol=tol, max_iter=max_iter)
    s = theta[:n] - theta[:n].mean()
    return np.nan_to_num(s), np.nan_to_num(theta[n:])


def style_hessian(
    n: int, a: np.ndarray, b: np.ndarray, features: np.ndarray, h: np.ndarray, ridge: float
) -> np.ndarray:
    """Hessian of the style model's penalised negative log-likelihood for battle curvatures ``h``."""
    d = features.shape[1]
    hess = np.zeros((n + d, n + d))
    hess[:n, :n] = pair_hessian(n, a, b, h, ridge)
    hf = features * h[:, None]
    cross = np.stack([np.bincount(a, hf[:, k], n) - np.bincount(b, hf[:, k], n) for k in range(d)], axis=1)
    hess[:n, n:] = cross.reshape(n, d)
    hess[n:, :n] = cross.reshape(n, d).T
    hess[n:, n:] = features.T @ hf
    add_ridge(hess[n:, n:], ridge)
    return hess


def refit_style(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    features: np.ndarray,
    weights: np.ndarray,
    init: np.ndarray,
    *,
    ties: str = "half",
    ridge: float = DEFAULT_RIDGE,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_style` on each row of ``weights`` (``(rounds, n_battles)``), solved together.

    Newton iterations reuse the Hessian at ``init`` with the mean weights (a resample's Hessian differs
    from it by sampling noise only, so the iteration contracts fast); a round not converged after 30
    iterations is refitted alone by :func:`fit_style`. Returns ``(strengths, coefficients)`` per round.
    """
    from scipy.sparse import csr_matrix

    a, b, outcome = (np.asarray(x) for x in data)
    n, units = n_items, len(a)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    if ties == "drop":
        weights = weights * (outcome != TIE)
    y = np.where(outcome == A_WINS, 1.0, np.where(outcome == B_WINS, 0.0, 0.5))
    z0 = init[a] - init[b] + features @ init[n:]
    p0 = 1.0 / (1.0 + np.exp(-z0))
    h_inv = np.linalg.inv(style_hessian(n, a, b, features, weights.mean(axis=0) * p0 * (1.0 - p0), ridge))
    rows = np.arange(units)
    incidence = csr_matrix((np.r_[np.ones(units), -np.ones(units)], (np.r_[rows, rows], np.r_[a, b])),
                           shape=(units, n)).T.tocsr()
    theta = np.tile(np.asarray(init, dtype=float), (len(weights), 1))
    done = np.zeros(len(weights), dtype=bool)
    last = np.full(len(weights), np.inf)
    for _ in range(30):
        z = theta[:, a] - theta[:, b] + theta[:, n:] @ features.T
        g = weights * (y - 1.0 / (1.0 + np.exp(-z)))
        grad = np.empty_like(theta)
        grad[:, :n] = np.asarray(incidence @ g.T).T - theta[:, :n].sum(axis=1, keepdims=True)
        grad[:, n:] = g @ features
        grad -= ridge * theta
        step = grad @ h_inv
        size = np.abs(step).max(axis=1)
        active = ~done & np.isfinite(size) & (size < 2 * last)
        theta[active] += step[active]
        done |= active & (size < tol)
        last = np.where(active, size, -1.0)
        if (done | ~active).all():
            break
    for r in np.flatnonzero(~done):
        s_r, b_r = fit_style(n, data, features, weights[r], ties="half", ridge=ridge, init=init, tol=tol)
        theta[r, :n], theta[r, n:] = s_r, b_r
    s = theta[:, :n] - theta[:, :n].mean(axis=1, keepdims=True)
    return np.nan_to_num(s), np.nan_to_num(theta[:, n:])


def _units(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, feats: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Identical battles merged, seen from the lower model index (features negated when flipped).

    Returns:
        ``(a, b, outcome, features, unit_of_row)``, units in sorted order, so that row order, identical
        rows versus counts, and which side a model sat on do not change the bootstrap draws.
    """
    ca, cb, co = canonical(a, b, outcome)
    cf = np.where((a > b)[:, None], -feats, feats)
    key = np.column_stack([ca, cb, co, cf]) if len(a) else np.zeros((0, 3 + feats.shape[1]))
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    ua, ub, uo = (uniq[:, k].astype(np.int64) for k in range(3))
    return ua, ub, uo, uniq[:, 3:], inverse.ravel()


def style_extras(frame: pd.DataFrame, settings: RatingSettings, rng: np.random.Generator) -> dict[str, Any]:
    """Style-controlled ratings and coefficients with bootstrap intervals, JSON-ready.

    The fit runs on merged identical battles with frequencies ``count * weight``. The bootstrap draws
    single battles (a multinomial over the merged battles, in a canonical order) or whole questions, as
    the Bradley-Terry bootstrap does; battles without question ids are each their own question.

    Returns:
        ``{"features", "coefficients", "coef_low", "coef_high", "rows"}`` or ``{"warning": ...}`` when
        the battles carry no style features.
    """
    feats, names = style_features(frame)
    if not names:
        return {"warning": "style control needs len_a/len_b (and header/list/bold) columns; none found"}
    enc = encode(frame)
    ua, ub, uo, uf, unit_of = _units(enc.a, enc.b, enc.outcome, feats)
    n_units = len(ua)
    data = (ua, ub, uo)
    freq = np.bincount(unit_of, enc.weight, n_units)
    s, beta = fit_style(enc.n_items, data, uf, freq, ties=settings.ties)
    anchor = None
    if settings.anchor is not None and settings.anchor.model in enc.models:
        anchor = (enc.models.index(settings.anchor.model), settings.anchor.rating)
    kw: dict[str, Any] = {
        "scale": settings.scale,
        "base": settings.elo.base,
        "initial": settings.initial,
        "anchor": anchor,
    }
    ratings = to_ratings(s, **kw)
    low, high = ratings.copy(), ratings.copy()
    b_low, b_high = beta.copy(), beta.copy()
    if settings.bootstrap > 0:
        init = np.concatenate([s, beta])
        by_question = settings.resample == "question" and enc.has_questions
        live = enc.weight > 0
        group = np.unique(enc.group[live], return_inverse=True)[1].ravel()
        n_groups = int(group.max()) + 1 if len(group) else 0
        total = float(freq.sum())
        draws = max(1, int(round(total)))
        boot_s: list[np.ndarray] = []
        boot_b: list[np.ndarray] = []
        # Rounds drawn in order, as before, then refitted together a chunk at a time (memory: chunk x units).
        chunk = max(1, min(64, 2_000_000 // max(n_units, 1)))
        for start in range(0, settings.bootstrap, chunk):
            batch: list[np.ndarray] = []
            for _ in range(min(chunk, settings.bootstrap - start)):
                if by_question:
                    mult = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[group]
                    batch.append(np.bincount(unit_of[live], enc.weight[live] * mult, n_units).astype(float))
                else:
                    batch.append(rng.multinomial(draws, freq / total) * (total / draws))
            bs_s, bs_b = refit_style(enc.n_items, data, uf, np.stack(batch), init, ties=settings.ties, tol=1e-6)
            boot_s.extend(bs_s)
            boot_b.extend(bs_b)
        low, high = percentile_interval(to_ratings(np.stack(boot_s), **kw), settings.confidence)
        b_low, b_high = percentile_interval(np.stack(boot_b), settings.confidence)
    rows: list[dict[str, Any]] = [
        {"model": m, "rating": float(ratings[k]), "ci_low": float(low[k]), "ci_high": float(high[k])}
        for k, m in enumerate(enc.models)
    ]
    rows.sort(key=lambda r: -float(r["rating"]))
    return {
        "features": names,
        "coefficients": beta.tolist(),
        "coef_low": np.atleast_1d(b_low).tolist(),
        "coef_high": np.atleast_1d(b_high).tolist(),
        "rows": rows,
    }
