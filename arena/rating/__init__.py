"""Rating engine: Bradley-Terry and Elo with seeded bootstrap intervals, style control, single-mode scores.

The pipeline and ``arena rate`` use :func:`battles_frame` and :func:`compute_leaderboard`; the array
functions below are small, pure and usable alone (``(n_items, data) -> ndarray``, as in choix).
"""

from arena.rating.bootstrap import bootstrap_strengths, make_resampler, percentile_interval, rank_bounds
from arena.rating.bradley_terry import (
    aggregate,
    bradley_terry,
    bradley_terry_mm,
    canonical,
    fit_pairs,
    pair_design,
    to_ratings,
)
from arena.rating.elo import elo, elo_bootstrap, elo_updates
from arena.rating.frame import A_WINS, B_WINS, TIE, battles_frame, encode, frame_notes, validate_frame
from arena.rating.leaderboard import LeaderboardResult, compute_leaderboard
from arena.rating.matrices import (
    average_win_rate,
    count_matrix,
    counting,
    predicted_win_rate,
    win_matrix,
    win_rate_matrix,
)
from arena.rating.settings import Anchor, EloSettings, RatingSettings
from arena.rating.single import mean_scores, mean_scores_by
from arena.rating.style import fit_style, style_features

__all__ = [
    "A_WINS",
    "B_WINS",
    "TIE",
    "Anchor",
    "EloSettings",
    "LeaderboardResult",
    "RatingSettings",
    "aggregate",
    "average_win_rate",
    "battles_frame",
    "bootstrap_strengths",
    "bradley_terry",
    "bradley_terry_mm",
    "canonical",
    "compute_leaderboard",
    "count_matrix",
    "counting",
    "elo",
    "elo_bootstrap",
    "elo_updates",
    "encode",
    "fit_style",
    "fit_pairs",
    "frame_notes",
    "make_resampler",
    "mean_scores",
    "mean_scores_by",
    "pair_design",
    "percentile_interval",
    "predicted_win_rate",
    "rank_bounds",
    "style_features",
    "to_ratings",
    "validate_frame",
    "win_matrix",
    "win_rate_matrix",
]
