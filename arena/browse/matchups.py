"""Matchup matrices: battle counts, observed and predicted win rates."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from arena.browse.data import RunData
from arena.browse.leaderboard import leaderboard_rows, rating_settings

log = logging.getLogger(__name__)


def matchup_frames(data: RunData, ratings: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Battle counts, observed and predicted win rates as long frames ``model, opponent, value``.

    Counts and observed win rates (a tie is half a win) are the rater's own matrices
    (:func:`arena.rating.compute_leaderboard` extras, without a bootstrap), so they count battles exactly as
    the leaderboard's ``battles`` column does; predicted ones are Bradley-Terry probabilities from the
    leaderboard ratings (``ratings``: rows with ``model, rating``; default: :func:`leaderboard_rows`).
    """
    from arena.rating import compute_leaderboard, predicted_win_rate

    if data.battles.empty:
        return {}
    settings = rating_settings(data, bootstrap=0)
    extras = compute_leaderboard(data.battles, settings.model_copy(update={"style_control": False})).extras
    models = [str(m) for m in extras["models"]]
    if ratings is None:
        ratings, _, _ = leaderboard_rows(data)
    by_model = dict(zip(ratings["model"], ratings["rating"], strict=False)) if not ratings.empty else {}
    r = np.array([by_model.get(m, np.nan) for m in models], dtype=float)
    scale = settings.elo.scale if settings.method == "elo" else settings.scale
    mats = {
        "battles": extras["battle_counts"],
        "observed win rate": extras["observed_win_rate"],
        "predicted win rate": predicted_win_rate(r, scale=scale, base=settings.elo.base),
    }
    order = [m for m in ratings["model"] if m in models] if not ratings.empty else list(models)
    order += [m for m in models if m not in order]
    out = {}
    for name, mat in mats.items():
        mat = np.array(mat, dtype=float)
        if name != "battles":
            np.fill_diagonal(mat, np.nan)
        wide = pd.DataFrame(mat, index=models, columns=models).loc[order, order]
        long = wide.rename_axis(index="model", columns="opponent").stack(future_stack=True).rename("value").reset_index()
        out[name] = long
    return out
