"""The one "rate and write the run's outputs" step: ``battles.jsonl``, ``judge_report.json``,
``leaderboard.{json,csv,md}``.

Used by the pipeline (after judging), by ``arena import`` (after reading the other tool's files) and by
the Python API, so a run dir looks the same however it was made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.records import Answer, Battle, JudgeReport, Judgment, Mode
from arena.store import JsonlStore, write_json_atomic

if TYPE_CHECKING:
    import pandas as pd

    from arena.rating import LeaderboardResult, RatingSettings

log = logging.getLogger(__name__)


@dataclass
class RunOutputs:
    """What :func:`write_outputs` wrote."""

    leaderboard: LeaderboardResult | None
    """None when there was nothing to rate (no battle and no score yet)."""
    report: JudgeReport
    battles: int
    """Battle rows written to ``battles.jsonl``."""


def resolve_settings(settings: RatingSettings, seed: int | None) -> RatingSettings:
    """``settings`` with its seed resolved: its own ``seed`` when set, else ``seed`` (the run's)."""
    if settings.seed is not None or seed is None:
        return settings
    return settings.model_copy(update={"seed": seed})


def rating_baseline(mode: Mode | str | None, baseline: str | None) -> str | None:
    """The model to anchor the ratings on: the baseline in pairwise-baseline mode, else None."""
    return baseline if mode == "pairwise-baseline" else None


def score_rows(judgments: Sequence[Judgment]) -> list[dict[str, Any]]:
    """Single-mode score rows (``question_id, model, turn, category, score``) of the scored judgments."""
    return [{"question_id": j.question_id, "model": j.model_a, "turn": j.turn, "category": j.category,
             "score": j.score} for j in judgments if j.model_b is None and j.score is not None]


def write_outputs(
    run_dir: Path | str,
    *,
    battles: Sequence[Battle],
    judgments: Sequence[Judgment],
    answers: Mapping[str, Answer],
    settings: RatingSettings,
    baseline: str | None,
    scores: Sequence[Mapping[str, Any]] | pd.DataFrame | None,
    prices: tuple[float, float] = (0.0, 0.0),
    report_extras: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> RunOutputs:
    """Write the battles, the judge report and the leaderboard files of a run.

    Args:
        run_dir: the run dir (exists).
        battles: the battle rows, written in this order (a row may carry ``count``).
        judgments: the judgments the report describes (those of the current plan).
        answers: every answer by key (for the report's length bias).
        settings: rating settings with the seed resolved (see :func:`resolve_settings`).
        baseline: the model to anchor on and report win rates against (see :func:`rating_baseline`).
        scores: single-mode score rows (see :func:`score_rows`), or None.
        prices: the judge's USD price per million input and output tokens (0 for a fake judge).
        report_extras: sections merged into ``judge_report.json`` at its top level (a key already in
            the report is replaced); :class:`JudgeReport` keeps them as extra fields. With battles the
            report also gets a ``quality`` section (:func:`arena.rating.quality.benchmark_quality` with
            ``settings``) unless ``report_extras`` brings its own.
        notes: lines added to the leaderboard's warnings (e.g. the run-to-run noise measured by
            ``arena repeat``), so they are printed and written under the leaderboard.

    Returns:
        The leaderboard (None when there is nothing to rate: nothing else is written then but the
        battles and the report), the report and the number of battle rows.
    """
    import pandas as pd

    from arena.judging.report import judge_report
    from arena.rating import battles_frame, compute_leaderboard
    from arena.rating.quality import benchmark_quality
    from arena.rating.report import write_leaderboard_files
    from arena.rating.rows import jsonable

    root = Path(run_dir)
    JsonlStore(root / "battles.jsonl", Battle).rewrite(battles)
    report = judge_report(judgments, answers, price_in_per_1m=prices[0], price_out_per_1m=prices[1])
    frame = battles_frame(battles) if battles else None
    extras = dict(report_extras or {})
    if frame is not None and "quality" not in extras:
        quality = benchmark_quality(frame, settings)
        if quality is not None:
            extras["quality"] = jsonable(quality)
    if extras:
        report = JudgeReport.model_validate({**report.model_dump(), **extras})
    write_json_atomic(root / "judge_report.json", report)
    table = scores if isinstance(scores, pd.DataFrame) or scores is None else pd.DataFrame(list(scores))
    if table is not None and table.empty:
        table = None
    if not battles and table is None:
        log.warning("no battles yet: nothing to rate")
        return RunOutputs(leaderboard=None, report=report, battles=0)
    leaderboard = compute_leaderboard(frame if frame is not None else battles_frame([]), settings, baseline=baseline,
                                      scores=table)
    leaderboard.warnings.extend(notes)
    write_leaderboard_files(leaderboard, root)
    return RunOutputs(leaderboard=leaderboard, report=report, battles=len(battles))
