"""Leaderboard rows and the result record: per-model counts, sorting, single-mode score rows, matrices, JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from arena.rating import bootstrap as bs
from arena.rating import matrices as mx
from arena.rating.encoding import Encoded
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.settings import RatingSettings


@dataclass
class LeaderboardResult:
    """Leaderboard rows (best first) and everything needed to explain them."""

    rows: list[dict[str, Any]]
    method: str
    settings: RatingSettings
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    samples: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    """The bootstrap ratings behind the intervals, one row per round, one column per model (None without a
    bootstrap); kept in memory for further statistics (e.g. ``arena compare``), not written to files."""

    def to_json(self) -> str:
        """All of it as one JSON document (``rows`` alone is what ``leaderboard.json`` holds)."""
        doc = {
            "method": self.method,
            "settings": self.settings.model_dump(mode="json"),
            "rows": self.rows,
            "warnings": self.warnings,
            "extras": self.extras,
        }
        return json.dumps(jsonable(doc), indent=2, ensure_ascii=False)


def jsonable(obj: Any) -> Any:
    """NaN/inf -> None, numpy scalars/arrays -> Python, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":  # whole arrays at once (win-rate matrices have 10^4-10^6 entries)
            out = obj.astype(object)
            out[~np.isfinite(obj)] = None
            return out.tolist()
        return obj.tolist() if obj.dtype.kind in "biu" else jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def model_stats(enc: Encoded) -> dict[str, np.ndarray]:
    """Battles, wins, losses and ties per model as sums of ``count * weight`` (so W + L + T = battles)."""
    n = enc.n_items
    c = enc.weight
    played = np.bincount(enc.a, c, n) + np.bincount(enc.b, c, n)
    wins = np.bincount(enc.a, c * (enc.outcome == A_WINS), n) + np.bincount(
        enc.b, c * (enc.outcome == B_WINS), n
    )
    losses = np.bincount(enc.a, c * (enc.outcome == B_WINS), n) + np.bincount(
        enc.b, c * (enc.outcome == A_WINS), n
    )
    ties = np.bincount(enc.a, c * (enc.outcome == TIE), n) + np.bincount(enc.b, c * (enc.outcome == TIE), n)
    return {"battles": played, "wins": wins, "losses": losses, "ties": ties}


def count_value(x: float) -> int | float:
    """An integer when ``x`` is whole (to 1e-9), else ``x`` to 3 decimals (weighted counts)."""
    return int(round(x)) if abs(x - round(x)) < 1e-9 else round(float(x), 3)


def matrices(enc: Encoded, point: np.ndarray, scale: float, base: float) -> dict[str, Any]:
    """Battle counts, observed and predicted win rates (ratings ``point`` on ``scale``/``base``), JSON-ready."""
    n = enc.n_items
    data = (enc.a, enc.b, enc.outcome)
    wins = mx.win_matrix(n, data, enc.weight, tie_weight=0.5)
    return {
        "models": enc.models,
        "battle_counts": mx.count_matrix(n, enc.a, enc.b, enc.weight),
        "observed_win_rate": mx.win_rate_matrix(wins),
        "predicted_win_rate": mx.predicted_win_rate(point, scale=scale, base=base),
    }


def sorted_rows(rows: list[dict[str, Any]], key: str = "rating") -> list[dict[str, Any]]:
    """Best first by ``key`` (missing values last), ties by model name."""

    def value(r: dict[str, Any]) -> float:
        v = r.get(key)
        return -math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    return sorted(rows, key=lambda r: (-value(r), r["model"]))


def weight_note(frame: pd.DataFrame) -> list[str]:
    """A note when frequency weights other than 1 make battles/wins/losses/ties weighted sums."""
    if frame.empty or bool((frame["weight"].to_numpy(dtype=float) == 1.0).all()):
        return []
    return [
        "weights other than 1 are present: battles, wins, losses and ties are weighted sums "
        "(count x weight), not numbers of judgments"
    ]


def add_scores(rows: list[dict[str, Any]], table: pd.DataFrame) -> None:
    """Single mode: add mean scores to ``rows`` (and rows for scored models without battles), and rank
    every row by its score interval; a model without a score ranks below every scored one."""
    by_model = {str(r["model"]): r for r in table.to_dict(orient="records")}
    have = {row["model"] for row in rows}
    for name in sorted(set(by_model) - have):
        rows.append({"model": name, "rating": None, "ci_low": None, "ci_high": None,
                     "battles": 0, "wins": 0, "losses": 0, "ties": 0})
    low, high = [], []
    for row in rows:
        s = by_model.get(row["model"])
        row.update(
            score=None if s is None else float(s["score"]),
            score_low=None if s is None else float(s["score_low"]),
            score_high=None if s is None else float(s["score_high"]),
        )
        low.append(-math.inf if s is None else float(s["score_low"]))
        high.append(-math.inf if s is None else float(s["score_high"]))
    best, worst = bs.rank_bounds(np.array(low), np.array(high))
    for k, row in enumerate(rows):
        row.update(rank=int(best[k]), rank_low=int(best[k]), rank_high=int(worst[k]))


def single_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Single mode without battles: the mean score is the rating, its interval the rating interval."""
    return [
        {
            "model": r["model"],
            "rating": float(r["score"]),
            "ci_low": float(r["score_low"]),
            "ci_high": float(r["score_high"]),
            "battles": 0,
            "wins": 0,
            "losses": 0,
            "ties": 0,
        }
        for r in table.to_dict(orient="records")
    ]
