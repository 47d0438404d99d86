"""Style control as Chatbot Arena: answer length and markdown as covariates in a logistic Bradley-Terry.

For each battle the style features are the normalised differences ``(x_a - x_b) / (x_a + x_b)`` (after
adding one to every count, so two answers without headers compare as equal: ``(x_a - x_b) / (x_a + x_b + 2)``;
FastChat divides by ``x_a + x_b + 1``, arena-rank's example by ``x_a + x_b``, which differ only for small counts),
standardised over battles
(weighted by ``count * weight``, so rows, counts and weights of the same battles give the same features).
The model is ``logit P(a beats b) = s_a - s_b + beta . f``; ``beta`` says how much the judge rewards each
feature, and ``s`` are ratings with that effect removed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arena.rating import newton
from arena.rating.bootstrap import make_resampler, percentile_interval
from arena.rating.bt import DEFAULT_RIDGE, canonical, to_ratings
from arena.rating.encoding import Encoded, encode
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.newton import add_ridge, pair_hessian
from arena.rating.settings import RatingSettings
from arena.rating.style_refit import StyleRefitter, bootstrap_style

FEATURES: tuple[str, ...] = ("len", "header", "list", "bold")
CHUNK_CELLS = 4_000_000
"""Bootstrap rounds are drawn and refitted in chunks of about this many rounds x units (measured fastest
around 20 rounds of 200,000 units: the iteration's arrays then stay near the cache)."""


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

    The strength block of the Hessian is :func:`arena.rating.newton.pair_hessian` over the pairs' summed
    curvatures.

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
    pairs = PairSums(n, a, b)
    theta = np.zeros(n + d) if init is None else np.array(init, dtype=float)

    def objective(t: np.ndarray) -> float:
        z = t[a] - t[b] + features @ t[n:]
        # y log(1 + e^-z) + (1 - y) log(1 + e^z) = log(1 + e^z) - y z
        nll = w @ (np.logaddexp(0.0, z) - y * z)
        return float(nll + 0.5 * ridge * t @ t + 0.5 * t[:n].sum() ** 2)

    def derivatives(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = t[a] - t[b] + features @ t[n:]
        p = 1.0 / (1.0 + np.exp(-z))
        g = w * (y - p)
        grad = np.empty(n + d)
        grad[:n] = pairs.to_models(g) - t[:n].sum()
        grad[n:] = features.T @ g
        grad -= ridge * t
        return grad, style_hessian(n, a, b, features, w * p * (1.0 - p), ridge, pairs=pairs)

    theta = newton.minimize(theta, objective, derivatives, tol=tol, max_iter=max_iter)
    s = theta[:n] - theta[:n].mean()
    return np.nan_to_num(s), np.nan_to_num(theta[n:])


class PairSums:
    """Sums over battles by ordered pair ``(a, b)``: one sparse ``(n * n, n_battles)`` product per call."""

    def __init__(self, n: int, a: np.ndarray, b: np.ndarray) -> None:
        from scipy.sparse import csr_matrix

        self.n = n
        self.matrix = csr_matrix((np.ones(len(a)), (a * n + b, np.arange(len(a)))), shape=(n * n, len(a)))
        cells = np.arange(n * n)
        self.i, self.j = cells // n, cells % n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Per-pair sums of ``x`` (``(n_battles,)`` or ``(n_battles, k)``), shape ``(n * n,)`` or ``(n * n, k)``."""
        return np.asarray(self.matrix @ x)

    def to_models(self, x: np.ndarray) -> np.ndarray:
        """Per model: the sum of ``x`` over its battles as ``a`` minus the sum over its battles as ``b``."""
        by_pair = self(x).reshape(self.n, self.n, -1)
        out: np.ndarray = by_pair.sum(axis=1) - by_pair.sum(axis=0)
        return out.reshape((self.n,) + np.shape(x)[1:])


def style_hessian(
    n: int, a: np.ndarray, b: np.ndarray, features: np.ndarray, h: np.ndarray, ridge: float,
    *, pairs: PairSums | None = None,
) -> np.ndarray:
    """Hessian of the style model's penalised negative log-likelihood for battle curvatures ``h``.

    ``pairs``: :class:`PairSums` of ``(n, a, b)``, when the caller reuses one.
    """
    pairs = PairSums(n, a, b) if pairs is None else pairs
    d = features.shape[1]
    hess = np.zeros((n + d, n + d))
    hess[:n, :n] = pair_hessian(n, pairs.i, pairs.j, pairs(h), ridge)
    hf = features * h[:, None]
    cross = pairs.to_models(hf)
    hess[:n, n:] = cross
    hess[n:, :n] = cross.T
    hess[n:, n:] = features.T @ hf
    add_ridge(hess[n:, n:], ridge)
    return hess


def _units(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, feats: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Identical battles merged, seen from the lower model index (features negated when flipped).

    Returns:
        ``(a, b, outcome, features, unit_of_row)``, units in sorted order (by ``a``, ``b``, ``outcome``, then
        the features in turn), so that row order, identical rows versus counts, and which side a model sat
        on do not change the bootstrap draws.
    """
    ca, cb, co = canonical(a, b, outcome)
    cf = np.where((a > b)[:, None], -feats, feats) + 0.0  # + 0.0: no negative zeros
    if not len(ca):
        return ca, cb, co, cf, np.zeros(0, dtype=np.int64)
    n = int(max(ca.max(), cb.max())) + 1
    key = pd.DataFrame({"cell": (ca * n + cb) * 3 + co, **{f"f{k}": cf[:, k] for k in range(cf.shape[1])}})
    # Hash-based grouping, groups numbered in sorted key order (cell, then each feature in turn).
    inverse = key.groupby(list(key.columns), sort=True).ngroup().to_numpy().astype(np.int64)
    first = np.empty(int(inverse.max()) + 1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # each unit's first row
    return ca[first], cb[first], co[first], cf[first], inverse


def style_extras(
    frame: pd.DataFrame, settings: RatingSettings, rng: np.random.Generator, *, enc: Encoded | None = None
) -> dict[str, Any]:
    """Style-controlled ratings and coefficients with bootstrap intervals, JSON-ready.

    The fit runs on merged identical battles with frequencies ``count * weight``. The bootstrap draws
    single battles (a multinomial over the merged battles, in a canonical order) or whole questions, as
    the Bradley-Terry bootstrap does (its :class:`~arena.rating.bootstrap.Resampler`); battles without
    question ids are each their own question. Every round is refitted from the point estimate
    (:class:`~arena.rating.style_refit.StyleRefitter`, to 1e-6 on the natural scale).

    ``enc``: :func:`~arena.rating.encoding.encode` of ``frame`` (default models order), when the caller has it.

    Returns:
        ``{"features", "coefficients", "coef_low", "coef_high", "rows"}`` or ``{"warning": ...}`` when
        the battles carry no style features.
    """
    feats, names = style_features(frame)
    if not names:
        return {"warning": "style control needs len_a/len_b (and header/list/bold) columns; none found"}
    if enc is None:
        # The model list as encode() sorts it, from the distinct names only (cheaper than a set of every row).
        names_ab = pd.unique(pd.concat([frame["model_a"], frame["model_b"]], ignore_index=True))
        enc = encode(frame, models=sorted(set(names_ab)))
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
        unit = settings.resample if enc.has_questions else "battle"
        sampler = make_resampler(unit_of, enc.weight, enc.count, enc.group, n_units, unit)
        refit = StyleRefitter(enc.n_items, data, uf, freq, np.concatenate([s, beta]), ties=settings.ties)
        # Rounds drawn and refitted a chunk at a time (memory and cache: a few chunk x units arrays).
        chunk = max(1, min(settings.bootstrap, CHUNK_CELLS // max(n_units, 1)))
        boot_s, boot_b = bootstrap_style(refit, sampler, settings.bootstrap, rng, chunk)
        low, high = percentile_interval(to_ratings(boot_s, **kw), settings.confidence)
        b_low, b_high = percentile_interval(boot_b, settings.confidence)
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
