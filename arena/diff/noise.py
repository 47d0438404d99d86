"""``repeats/noise.json``: how much a run's numbers move when only its sampled parts are re-drawn.

Written by :func:`arena.diff.repeat.run_repeats` (``arena repeat``), read by ``arena diff`` to tell a
difference between two runs from run-to-run noise.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NOISE_FILE = Path("repeats") / "noise.json"
"""Where ``arena repeat`` writes the noise floor, relative to the work dir."""


class ModelNoise(BaseModel):
    """One model's spread across repeats, next to what its bootstrap interval says."""

    model_config = ConfigDict(extra="ignore")

    model: str
    repeats: int
    rating_mean: float | None = None
    rating_sd: float | None = None
    """Sample standard deviation of the rating across repeats (ddof 1)."""
    rating_min: float | None = None
    rating_max: float | None = None
    rank_min: int | None = None
    rank_max: int | None = None
    win_rate_mean: float | None = None
    win_rate_sd: float | None = None
    """Spread of the win share ``(wins + ties / 2) / battles`` (or ``win_rate`` vs the baseline)."""
    bootstrap_se: float | None = None
    """The bootstrap's standard error of the rating: mean 95% interval width / (2 * 1.96) over repeats."""
    wider_than_bootstrap: bool = False
    """The run-to-run spread (sd) exceeds the bootstrap's standard error."""


class GreedyVariation(BaseModel):
    """An answer of a greedy (temperature 0) candidate that differs between two repeats."""

    model_config = ConfigDict(extra="ignore")

    model: str
    question_id: str
    turn: int
    repeats: tuple[int, int]
    """The two repeats (1-based) compared: the first whose text differs from repeat 1's."""
    position: int
    """Index of the first differing token (word-level: whitespace-separated words)."""
    token_a: str | None
    token_b: str | None
    """The differing tokens (None: that answer ended there)."""


class NoiseFloor(BaseModel):
    """``repeats/noise.json``."""

    model_config = ConfigDict(extra="ignore")

    repeats: int
    seed: int
    models: list[ModelNoise] = Field(default_factory=list)
    greedy_variation: list[GreedyVariation] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def by_model(self) -> dict[str, ModelNoise]:
        return {m.model: m for m in self.models}


def load_noise(work_dir: Path) -> NoiseFloor | None:
    """The noise floor ``arena repeat`` wrote for this work dir, or None (absent or unreadable)."""
    path = work_dir / NOISE_FILE
    if not path.is_file():
        return None
    try:
        return NoiseFloor.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
