"""Rating engine: Bradley-Terry and Elo with seeded bootstrap intervals, style control, single-mode scores.

The pipeline and ``arena rate`` use :func:`battles_frame` and :func:`compute_leaderboard`; the array
functions are small, pure and usable alone (``(n_items, data) -> ndarray``, as in choix). Methods are
looked up by name in :mod:`arena.rating.registry`.

Names are resolved lazily (PEP 562): ``import arena.rating.settings`` (which the config schema does) loads
neither numpy, pandas nor scipy; the first access to, say, ``arena.rating.compute_leaderboard`` imports
its submodule.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_SUBMODULE: dict[str, str] = {
    "bootstrap_strengths": "bootstrap",
    "make_resampler": "bootstrap",
    "percentile_interval": "bootstrap",
    "rank_bounds": "bootstrap",
    "aggregate": "bt",
    "bradley_terry": "bt",
    "bradley_terry_mm": "bt",
    "canonical": "bt",
    "fit_pairs": "bt",
    "pair_design": "bt",
    "to_ratings": "bt",
    "elo": "online_elo",
    "elo_bootstrap": "online_elo",
    "elo_updates": "online_elo",
    "A_WINS": "frame",
    "B_WINS": "frame",
    "TIE": "frame",
    "battles_frame": "frame",
    "encode": "encoding",
    "frame_notes": "frame",
    "validate_frame": "frame",
    "LeaderboardResult": "leaderboard",
    "compute_leaderboard": "leaderboard",
    "average_win_rate": "matrices",
    "count_matrix": "matrices",
    "counting": "matrices",
    "predicted_win_rate": "matrices",
    "win_matrix": "matrices",
    "win_rate_matrix": "matrices",
    "Fit": "registry",
    "RatingMethod": "registry",
    "register": "registry",
    "Anchor": "settings",
    "EloSettings": "settings",
    "RatingSettings": "settings",
    "mean_scores": "single",
    "mean_scores_by": "single",
    "fit_style": "style",
    "style_features": "style",
}

__all__ = [
    "A_WINS",
    "Anchor",
    "B_WINS",
    "EloSettings",
    "Fit",
    "LeaderboardResult",
    "RatingMethod",
    "RatingSettings",
    "TIE",
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
    "fit_pairs",
    "fit_style",
    "frame_notes",
    "make_resampler",
    "mean_scores",
    "mean_scores_by",
    "pair_design",
    "percentile_interval",
    "predicted_win_rate",
    "rank_bounds",
    "register",
    "style_features",
    "to_ratings",
    "validate_frame",
    "win_matrix",
    "win_rate_matrix",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    module = _SUBMODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from arena.rating.bootstrap import bootstrap_strengths, make_resampler, percentile_interval, rank_bounds
    from arena.rating.bt import (
        aggregate,
        bradley_terry,
        bradley_terry_mm,
        canonical,
        fit_pairs,
        pair_design,
        to_ratings,
    )
    from arena.rating.encoding import encode
    from arena.rating.frame import A_WINS, B_WINS, TIE, battles_frame, frame_notes, validate_frame
    from arena.rating.leaderboard import LeaderboardResult, compute_leaderboard
    from arena.rating.matrices import (
        average_win_rate,
        count_matrix,
        counting,
        predicted_win_rate,
        win_matrix,
        win_rate_matrix,
    )
    from arena.rating.online_elo import elo, elo_bootstrap, elo_updates
    from arena.rating.registry import Fit, RatingMethod, register
    from arena.rating.settings import Anchor, EloSettings, RatingSettings
    from arena.rating.single import mean_scores, mean_scores_by
    from arena.rating.style import fit_style, style_features
