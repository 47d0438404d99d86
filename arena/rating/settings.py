"""Rater settings (the ``rating:`` block of a config, and the flags of ``arena rate``).

Imported by the config schema: it loads pydantic and the method registry only (no numpy, pandas, scipy).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arena.rating import registry

MAX_BOOTSTRAP = 1_000_000
"""The most bootstrap rounds a rating takes (each round keeps one rating per model in memory; 1,000 is usual)."""


class Anchor(BaseModel):
    """Pin one model's rating; every other rating moves with it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str
    rating: float = 1000.0


class EloSettings(BaseModel):
    """Online Elo, Chatbot Arena defaults: K 4, start 1000, scale 400, battles in file order."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    k: float = Field(4.0, gt=0)
    initial: float = 1000.0
    scale: float = Field(400.0, gt=0)
    base: float = Field(10.0, gt=1)
    order: Literal["auto", "file", "shuffle", "time"] = "auto"
    """Battle sequence. ``file``: rows in file order, a row of count ``n`` as ``n`` consecutive battles;
    ``time``: rows in the order of their ``tstamp`` (equal times in file order), then as ``file``; ``shuffle``:
    the file sequence permuted with the rating seed; ``auto``: when every row is a single update (count and
    weight at most 1), ``time`` if every row has a ``tstamp`` (as FastChat orders Chatbot Arena's battles),
    else ``file``; otherwise ``shuffle`` (an aggregated file keeps no battle order, and consecutive blocks of
    one pair would bias online Elo)."""


class RatingSettings(BaseModel):
    """How battles become a leaderboard. Numbers must be finite (a NaN anchor or scale is refused)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    method: str = "bt"
    """A method of :mod:`arena.rating.registry`: ``bt``: Bradley-Terry maximum likelihood (order-free);
    ``elo``: online Elo (order: ``elo.order``); or one registered there."""
    ci: str = "bootstrap"
    """Interval type (:data:`arena.rating.registry.INTERVALS`): ``bootstrap``: percentile intervals of
    ``bootstrap`` resampled refits; ``sandwich``: closed-form robust (M-estimator) normal intervals
    ``H^-1 M H^-1`` (Bradley-Terry and style control; ``bootstrap`` is then not used). The sandwich's
    ``M`` sums score products within a question (clustered) when ``resample`` is ``question``, else
    per battle; a row of count or weight ``n`` is ``n`` battles of its question."""
    bootstrap: int = Field(1000, ge=0, le=MAX_BOOTSTRAP)
    """Bootstrap rounds for confidence intervals (0 = none) when ``ci`` is ``bootstrap``."""
    resample: Literal["question", "battle"] = "question"
    """Resample (bootstrap) or cluster (sandwich) whole questions (both orders of a pair stay together) or
    single battles. Battles without question ids are each their own question; counts and weights resample
    as that many battles."""
    confidence: float = Field(0.95, gt=0, lt=1)
    anchor: Anchor | None = None
    """Pin a model's rating; default: the baseline at 1000 in pairwise-baseline mode, else mean 1000."""
    ties: str = "half"
    """Tie model (:data:`arena.rating.registry.TIE_MODELS`): ``half``: a tie is half a win to each side;
    ``drop``: ties are left out of the fit; ``davidson``: ties are their own outcome with probability
    ``nu sqrt(pi_i pi_j) / Z``, ``tie`` and ``tie (bothbad)`` each with its own ``nu`` (the strengths are
    those of the pooled fit; the split is what the two ``nu`` say); ``rao-kupper``: ``P(i beats j) =
    pi_i / (pi_i + theta pi_j)``, a tie is what ``theta`` leaves over (one tie outcome: ``tie (bothbad)``
    pooled with ``tie``). Elo and style control take ``half`` and ``drop`` only."""
    reweight: Literal["none", "inverse-pair"] = "none"
    """``inverse-pair``: LMArena's reweighting for unbalanced logs: each battle of a model pair weighs
    ``1 / max(pair battles, 50)`` in the fit (rescaled so that the weights sum to the number of battles), so
    heavily sampled pairs stop dominating; counts in the table stay unweighted. Bradley-Terry only."""
    strong_weight: float = Field(3.0, ge=1)
    """How many battles a strong verdict (A>>B) counts for, as arena-hard."""
    style_control: bool = False
    """Fit length and markdown style as covariates (Chatbot Arena style control)."""
    scale: float = Field(400.0, gt=0)
    initial: float = 1000.0
    elo: EloSettings = Field(default_factory=EloSettings)
    seed: int | None = Field(None, ge=0)
    """Bootstrap (and Elo shuffle) seed; defaults to the config's ``seed``."""

    @field_validator("method")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in registry.names():
            raise ValueError(registry.unknown_method(value))
        return value

    @field_validator("ci")
    @classmethod
    def _interval(cls, value: str) -> str:
        if value not in registry.INTERVALS:
            raise ValueError(registry.unknown_interval(value))
        return value

    @model_validator(mode="after")
    def _style_is_bradley_terry(self) -> RatingSettings:
        if self.style_control and self.method != "bt":
            raise ValueError(f"style_control fits style as covariates of Bradley-Terry; method {self.method!r} "
                             "would print its own ratings beside Bradley-Terry style-controlled ones: use method bt")
        return self

    @field_validator("ties")
    @classmethod
    def _tie_model(cls, value: str) -> str:
        if value not in registry.TIE_MODELS:
            raise ValueError(registry.unknown_ties(value))
        return value
