"""The stages of an arena, each re-runnable alone, and ``run`` which chains them.

generate -> plan games -> judge -> battles -> rate. Each stage reads the files of the one before, so
``arena generate``, ``arena judge`` and ``arena rate`` can be run separately, and a re-run does only the
work whose content key is not on disk yet.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arena.config import ArenaConfig, Prices
from arena.generate import GenerateStats, generate_answers, load_answers
from arena.judging.battles import build_battles
from arena.judging.estimate import SpendEstimate, estimate_spend
from arena.judging.factory import as_fake, build_judge, build_judge_provider
from arena.judging.judge import Judge
from arena.judging.plan import Plan, plan_games
from arena.judging.prompts import load_prompt_set
from arena.judging.reviewer import ReviewStats, judgments_path, pending_games, review
from arena.questions import load_run_questions
from arena.records import Answer, JudgeReport, Judgment, Question, now_iso
from arena.rundir.outputs import rating_baseline, score_rows, write_outputs
from arena.store import JsonlStore, write_json_atomic

log = logging.getLogger(__name__)

DRY_RUN_DIR = "dry-run"


@dataclass
class RunResult:
    """What a pipeline call did, for the CLI summary and the manifest."""

    run_dir: Path
    questions: int = 0
    generation: list[GenerateStats] = field(default_factory=list)
    games: int = 0
    skipped_games: list[str] = field(default_factory=list)
    review: ReviewStats | None = None
    estimate: SpendEstimate | None = None
    """Dry run: what the real judge would spend on the games it has not judged yet."""
    leaderboard: Any = None
    report: JudgeReport | None = None
    battles: int = 0


def run_generate(cfg: ArenaConfig, *, progress: bool = True) -> tuple[list[Question], list[GenerateStats]]:
    """Stage 1 for every enabled model."""
    questions, all_ids = load_run_questions(cfg.questions)
    stats = [
        generate_answers(questions, name, mcfg, cfg.work_dir, seed=cfg.seed, all_question_ids=all_ids, progress=progress)
        for name, mcfg in cfg.enabled_models.items()
    ]
    return questions, stats


def write_questions(run_dir: Path, questions: list[Question]) -> None:
    """Keep the questions of the run beside its answers, so the run dir is self-contained."""
    JsonlStore(run_dir / "questions.jsonl", Question, key_field="question_id").rewrite(questions)


def plan_run(cfg: ArenaConfig, questions: list[Question]) -> tuple[Plan, dict[str, Answer]]:
    """Games of the config's mode over the answers on disk; also every answer by key.

    Raises:
        DataError: two models' answers share a key (checked before any judge call).
    """
    per_model = {name: load_answers(cfg.work_dir, name, questions, m, cfg.seed) for name, m in cfg.enabled_models.items()}
    plan = plan_games(questions, per_model, cfg.judge.mode, baseline=cfg.judge.baseline,
                      both_orders=cfg.judge.both_orders, seed=cfg.seed)
    by_key = {a.key: a for answers in per_model.values() for a in answers.values()}
    return plan, by_key


def _link_answers(run_dir: Path) -> None:
    link = run_dir / "answers"
    if not link.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(Path("..") / "answers", link)


def run_judge(cfg: ArenaConfig, questions: list[Question] | None = None, *, dry_run: bool = False,
              retry_errors: bool = False, progress: bool = True) -> RunResult:
    """Stage 2 and 3: plan, judge pending games, write battles, rate, report."""
    if questions is None:
        questions, _ = load_run_questions(cfg.questions)
    run_dir = cfg.work_dir / DRY_RUN_DIR if dry_run else cfg.work_dir
    if dry_run:
        _link_answers(run_dir)
        write_questions(run_dir, questions)
    plan, answers = plan_run(cfg, questions)
    result = RunResult(run_dir=run_dir, questions=len(questions), games=len(plan.games), skipped_games=plan.skipped)
    if dry_run:
        real_judge = build_judge(cfg.judge)
        store = JsonlStore(judgments_path(cfg.work_dir), Judgment)
        result.estimate = estimate_spend(pending_games(plan.games, real_judge, store, retry_errors), real_judge, cfg.judge)
    jc = as_fake(cfg.judge) if dry_run else cfg.judge
    judge = build_judge(jc)
    provider = build_judge_provider(jc, judge, seed=cfg.seed)
    result.review = review(plan.games, judge, provider, run_dir, jc.generation,
                           chunk_size=jc.chunk_size(), retry_errors=retry_errors, progress=progress)
    # Prices are the real judge's: the fake judge (a dry run's rehearsal) costs nothing.
    rate_run(cfg, run_dir, judge, plan, answers, result, prices=None if jc.spec.free else jc.prices)
    return result


def rate_run(cfg: ArenaConfig, run_dir: Path, judge: Judge, plan: Plan, answers: dict[str, Answer], result: RunResult,
             *, prices: Prices | None) -> None:
    """Battles, leaderboard and judge report from the judgments of the current plan (see :func:`write_outputs`)."""
    store = JsonlStore(judgments_path(run_dir), Judgment)
    judgments = [j for g in plan.games if (j := store.get(judge.key(g))) is not None]
    mode = cfg.judge.mode
    outputs = write_outputs(
        run_dir, battles=build_battles(judgments, answers, cfg.rating.strong_weight), judgments=judgments,
        answers=answers, settings=cfg.rating, baseline=rating_baseline(mode, cfg.judge.baseline),
        scores=score_rows(judgments) if mode == "single" else None,
        prices=(prices.input_per_1m, prices.output_per_1m) if prices else (0.0, 0.0))
    result.battles, result.report, result.leaderboard = outputs.battles, outputs.report, outputs.leaderboard


def write_manifest(cfg: ArenaConfig, result: RunResult, *, config_path: str, started: str, dry_run: bool) -> None:
    from arena.manifest import build_manifest

    prompts = load_prompt_set(cfg.judge.prompts)
    stages: dict[str, Any] = {
        "questions": result.questions,
        "generation": [asdict(s) for s in result.generation],
        "games": result.games,
        "skipped_games": len(result.skipped_games),
        "battles": result.battles,
    }
    if result.review is not None:
        stages["review"] = asdict(result.review) | {"error_kinds": dict(result.review.error_kinds),
                                                    "fault_kinds": dict(result.review.fault_kinds)}
    manifest = build_manifest(cfg, config_path=config_path, started=started, finished=now_iso(), dry_run=dry_run,
                              prompt_hashes={f"{prompts.name}@{prompts.version}/{n}": h for n, h in prompts.hashes.items()},
                              stages=stages, cost_usd=result.report.cost_usd if result.report is not None else None,
                              estimate=asdict(result.estimate) if result.estimate is not None else None)
    write_json_atomic(result.run_dir / "manifest.json", manifest)


def run(cfg: ArenaConfig, *, dry_run: bool = False, config_path: str = "", progress: bool = True) -> RunResult:
    """The whole arena: generate, judge, rate; writes every file of the run dir."""
    started = now_iso()
    questions, gen = run_generate(cfg, progress=progress)
    write_questions(cfg.work_dir, questions)
    result = run_judge(cfg, questions, dry_run=dry_run, progress=progress)
    result.generation = gen
    write_manifest(cfg, result, config_path=config_path, started=started, dry_run=dry_run)
    return result
