"""A one-line note when the top of the leaderboard depends on the tie model (point fits only)."""

from __future__ import annotations

import numpy as np

from arena.rating import registry
from arena.rating.encoding import Encoded
from arena.rating.frame import TIE
from arena.rating.registry import TIE_MODELS
from arena.rating.settings import RatingSettings

TOP = 3
"""How many leading ranks the note compares."""


def top_order(models: list[str], point: np.ndarray, top: int = TOP) -> list[str]:
    """The ``top`` best models by point rating, best first (ties broken by name, as the leaderboard does)."""
    order = sorted(range(len(models)), key=lambda k: (-float(point[k]), models[k]))
    return [models[k] for k in order[:top]]


def tie_sensitivity(enc: Encoded, settings: RatingSettings, point: np.ndarray, top: int = TOP) -> list[str]:
    """``["tie sensitivity: ..."]`` when another tie model puts different models, or another order, in the top
    ``top`` ranks than ``settings.ties`` does; else ``[]``. Bradley-Terry only (the tie models are its
    variants); nothing to check without ties. Each alternative is a point fit (no intervals, analytic
    Hessian), warm-started at ``point`` (the leaderboard's ratings, brought back to the natural scale), so the check costs a few Newton steps per tie model."""
    live = enc.weight > 0
    if settings.method != "bt" or not bool(((enc.outcome == TIE) & live).any()) or bool((enc.outcome[live] == TIE).all()):
        return []  # no ties, or nothing but ties (the tie models have no finite estimate): nothing to compare
    from arena.rating.fits import fit_bt

    here = top_order(enc.models, point, top)
    method = registry.get(settings.method)
    start = (point - point.mean()) * np.log(settings.elo.base) / method.scale(settings)  # natural scale
    differ = []
    rng = np.random.default_rng(0)
    for name in TIE_MODELS:
        if name == settings.ties:
            continue
        other = settings.model_copy(update={"ties": name, "bootstrap": 0, "ci": "bootstrap"})
        alt = top_order(enc.models, fit_bt(enc, other, rng, interval="bootstrap", init=start).point, top)
        if alt != here:
            differ.append(f"{name}: {' > '.join(alt)}")
    if not differ:
        return []
    return [f"tie sensitivity: the top {len(here)} under ties {settings.ties} ({' > '.join(here)}) differ under "
            + "; ".join(differ)]
