"""Single-answer grading: mean judge score per model with a bootstrap interval over questions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.errors import DataError
from arena.rating.bootstrap import percentile_interval

SCORE_COLUMNS: tuple[str, ...] = ("question_id", "model", "score")


def mean_scores(
    scores: pd.DataFrame,
    rounds: int,
    rng: np.random.Generator,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean score per model, with a percentile interval from resampling whole questions.

    A question's turns stay together in a resample (questions numbered in sorted id order, so the
    intervals do not depend on row order). Rows with a missing score are ignored.

    Args:
        scores: columns ``question_id, model, score`` (``turn``, ``category`` optional).
        rounds: bootstrap rounds (0: the interval is the mean itself).
        rng: random generator.
        confidence: interval coverage.

    Returns:
        Columns ``model, score, score_low, score_high, n`` sorted by score, best first.
    """
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise DataError(f"scores: missing column(s) {', '.join(missing)}; need question_id, model, score")
    df = scores.dropna(subset=["score"])
    if df.empty:
        return pd.DataFrame(columns=["model", "score", "score_low", "score_high", "n"])
    # Sorted codes: the bootstrap draws questions by index, so row order must not number them.
    q_codes, _ = pd.factorize(df["question_id"].astype(str), sort=True)
    m_codes, models = pd.factorize(df["model"].astype(str), sort=True)
    n_q, n_m = int(q_codes.max()) + 1, len(models)
    flat = q_codes * n_m + m_codes
    sums = np.bincount(flat, df["score"].to_numpy(dtype=float), n_q * n_m).reshape(n_q, n_m)
    counts = np.bincount(flat, minlength=n_q * n_m).reshape(n_q, n_m).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(axis=0) / counts.sum(axis=0)
    if rounds > 0:
        mult = np.stack(
            [np.bincount(rng.integers(0, n_q, n_q), minlength=n_q) for _ in range(rounds)]
        ).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (mult @ sums) / (mult @ counts)
        # A resample that misses every question of a model: fall back to its mean.
        boot = np.where(np.isfinite(boot), boot, mean[None, :])
        low, high = percentile_interval(boot, confidence)
    else:
        low, high = mean.copy(), mean.copy()
    out = pd.DataFrame(
        {
            "model": list(models),
            "score": mean,
            "score_low": low,
            "score_high": high,
            "n": counts.sum(axis=0).astype(int),
        }
    )
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def mean_scores_by(
    scores: pd.DataFrame,
    column: str,
    rounds: int,
    rng: np.random.Generator,
    *,
    confidence: float = 0.95,
) -> dict[str, list[dict[str, object]]]:
    """:func:`mean_scores` for each value of ``column`` (``turn`` or ``category``), as JSON-ready rows."""
    if column not in scores.columns:
        return {}
    out: dict[str, list[dict[str, object]]] = {}
    for value, part in scores.groupby(column, sort=True):
        table = mean_scores(part, rounds, rng, confidence=confidence)
        out[str(value)] = table.to_dict(orient="records")
    return out
