"""Typed records of a run's outputs: leaderboard rows, the judge report and the manifest.

One shape each, for native and imported runs. Reading is tolerant: files written by earlier versions
(the dict shapes of ``leaderboard.json``, ``judge_report.json`` and both ``manifest.json`` shapes) load
into these records; unknown keys of a leaderboard row or judge report are kept, unknown manifest keys
are dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)


class LeaderboardRow(BaseModel):
    """One row of ``leaderboard.json`` (best first).

    ``win_rate`` (with its interval) is the win rate against the baseline in pairwise-baseline mode;
    ``score`` (with its interval) the mean score in single mode. Further columns (e.g. from newer
    versions) are kept as extra fields. Counts stay integers when whole, as the rater writes them
    (weighted counts are floats), so a row reads back as written.
    """

    model_config = ConfigDict(extra="allow", defer_build=True)

    model: str
    rating: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    battles: int | float = 0
    wins: int | float = 0
    losses: int | float = 0
    ties: int | float = 0
    win_rate: float | None = None
    win_rate_low: float | None = None
    win_rate_high: float | None = None
    score: float | None = None
    score_low: float | None = None
    score_high: float | None = None

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A column the rater did not produce (win rate without a baseline, score outside single mode)
        # is absent from the file, as the rater writes it, not null.
        out: dict[str, Any] = handler(self)
        return {k: v for k, v in out.items() if k in self.model_fields_set or k in _ROW_REQUIRED}


_ROW_REQUIRED = ("model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "losses", "ties")


def leaderboard_rows(rows: list[dict[str, Any]]) -> list[LeaderboardRow]:
    """Rows of ``leaderboard.json`` (or :attr:`LeaderboardResult.rows`) as records."""
    return [LeaderboardRow.model_validate(r) for r in rows]


_PAIRWISE_FIELDS = ("verdicts", "tie_rate", "first_position_win_rate", "strong_verdict_rate", "pairs_both_orders",
                    "order_flips", "flip_rate", "consistent_rate", "decisive_with_length_difference",
                    "longer_answer_win_rate")
_SINGLE_FIELDS = ("score_distribution", "mean_score")


class JudgeReport(BaseModel):
    """``judge_report.json``: how far the judge can be trusted (see :func:`arena.judging.report.judge_report`).

    The pairwise section (``verdicts`` ... ``longer_answer_win_rate``) is present when there are pairwise
    judgments, the single section (``score_distribution``, ``mean_score``) when there are scores; an
    absent section is absent from the file, as before. ``mode`` is ``pairwise``, ``single`` (scores
    win when both are present) or None (no successful judgment).
    """

    model_config = ConfigDict(extra="allow", defer_build=True)

    judgments: int = 0
    parse_failures: int = 0
    failure_kinds: dict[str, int] = Field(default_factory=dict)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    judges: list[str] = Field(default_factory=list)
    prompt_sets: list[str] = Field(default_factory=list)
    endpoint_faults: dict[str, int] = Field(default_factory=dict)
    truncated_answers: int = 0
    mode: str | None = None
    # pairwise section
    verdicts: dict[str, int] | None = None
    tie_rate: float | None = None
    first_position_win_rate: float | None = None
    strong_verdict_rate: float | None = None
    pairs_both_orders: int | None = None
    order_flips: int | None = None
    flip_rate: float | None = None
    consistent_rate: float | None = None
    decisive_with_length_difference: int | None = None
    longer_answer_win_rate: float | None = None
    # single section
    score_distribution: dict[str, int] | None = None
    mean_score: float | None = None

    @property
    def pairwise(self) -> bool:
        """True when the report has its pairwise section."""
        return self.verdicts is not None

    @model_serializer(mode="wrap")
    def _sections(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        drop: set[str] = set()
        if self.verdicts is None:
            drop.update(_PAIRWISE_FIELDS)
        if self.score_distribution is None:
            drop.update(_SINGLE_FIELDS)
        if self.mode is None:
            drop.add("mode")
        return {k: v for k, v in out.items() if k not in drop}


class ImportedSource(BaseModel):
    """Where an imported run came from (``manifest.imported``)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    format: str
    source: str
    files: list[str] = Field(default_factory=list)
    mode: str | None = None
    baseline: str | None = None


class Manifest(BaseModel):
    """``manifest.json``: what a reader needs to reproduce every number of a run, native or imported.

    Both kinds fill ``name``, ``rating`` (the rating settings used, seed resolved), ``seed``, ``versions``
    and ``created``; a native run adds its validated ``config``, prompts, hardware, stages and cost; an
    imported run adds ``imported`` (format, source, files), ``counts``, ``summary`` and ``notes``.
    Manifests written by earlier versions load: a native one without ``rating`` gets the config's
    rating settings with the rating seed; ``created`` falls back to ``finished``.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)

    name: str = ""
    created: str | None = None
    config: dict[str, Any] | None = None
    config_path: str | None = None
    rating: dict[str, Any] | None = None
    seed: int | None = None
    seeds: dict[str, int | None] = Field(default_factory=dict)
    versions: dict[str, str | None] = Field(default_factory=dict)
    dry_run: bool = False
    hardware: dict[str, Any] | None = None
    prompts: dict[str, Any] | None = None
    started: str | None = None
    finished: str | None = None
    stages: dict[str, Any] | None = None
    cost_usd: float | None = None
    estimate: dict[str, Any] | None = None
    imported: ImportedSource | None = None
    counts: dict[str, int | float] | None = None
    summary: dict[str, Any] | None = None
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        config = data.get("config")
        if data.get("rating") is None and isinstance(config, dict) and isinstance(config.get("rating"), dict):
            rating = dict(config["rating"])
            if rating.get("seed") is None:
                seeds = data.get("seeds") or {}
                rating["seed"] = seeds.get("rating", data.get("seed", config.get("seed")))
            data["rating"] = rating
        if data.get("created") is None:
            data["created"] = data.get("finished")
        if data.get("notes") is None:
            data["notes"] = []
        return data

    @property
    def mode(self) -> str | None:
        """The judge mode: the config's ``judge.mode`` or the imported run's."""
        if self.imported is not None:
            return self.imported.mode
        judge = (self.config or {}).get("judge")
        return judge.get("mode") if isinstance(judge, dict) else None

    @property
    def baseline(self) -> str | None:
        """The baseline of a pairwise-baseline run, else None."""
        if self.imported is not None:
            return self.imported.baseline
        judge = (self.config or {}).get("judge")
        return judge.get("baseline") if isinstance(judge, dict) else None
