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

from arena.config import ArenaConfig, JudgeConfig, Prices
from arena.generate import GenerateStats, generate_answers, load_answers
from arena.judging.adaptive import AdaptiveOutcome, adaptive_review, adaptive_settings, asked_games
from arena.judging.battles import build_battles
from arena.judging.estimate import SpendEstimate, estimate_spend, total_estimate
from arena.judging.factory import as_fake, build_judge, build_judge_provider
from arena.judging.judge import Judge
from arena.judging.jury import jury_battles, model_family
from arena.judging.jury_report import jury_report
from arena.judging.plan import Plan, plan_games
from arena.judging.prompts import load_prompt_set
from arena.judging.reviewer import ReviewStats, judgments_path, pending_games, review
from arena.judging.votes import judge_vs_people
from arena.pipeline.checks import check_calls, config_key
from arena.questions import load_run_questions
from arena.records import Answer, Battle, HumanVote, JudgeReport, Judgment, Question, now_iso
from arena.rundir.outputs import rating_baseline, score_rows, write_outputs
from arena.store import JsonlStore, folder_error, read_jsonl, write_json_atomic

log = logging.getLogger(__name__)

DRY_RUN_DIR = "dry-run"
VOTES_FILE = "human_votes.jsonl"
JURY_BATTLES_FILE = "jury_battles.jsonl"
"""A jury's battles, every judge's, each carrying its judge (``battles.jsonl`` holds the rated ones)."""
PEOPLE_BOOTSTRAP = 200


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
    """Dry run: what the real judge would spend on the games it has not judged yet (a jury: all judges)."""
    estimates: list[SpendEstimate] = field(default_factory=list)
    """Dry run: the estimate of each judge (one for a single judge)."""
    reviews: dict[str, ReviewStats] = field(default_factory=dict)
    """Each judge's review counts, by judge name; :attr:`review` sums them."""
    leaderboard: Any = None
    report: JudgeReport | None = None
    battles: int = 0
    adaptive: AdaptiveOutcome | None = None
    """Adaptive judging (``judge.budget``/``target_ci``/``both_orders: auto``): rounds and why it stopped."""


def make_work_dir(cfg: ArenaConfig) -> None:
    """Make the work dir (and the folders above it) and check it can be written, before any work.

    Raises:
        UserError: one line naming ``work_dir``, the folder and the reason (``/proc/nope``: no such file or
            directory; a path under a file: not a directory; a read-only folder).
    """
    where = config_key(cfg, "work_dir")
    try:
        cfg.work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise folder_error(where, cfg.work_dir, exc) from None
    if not os.access(cfg.work_dir, os.W_OK | os.X_OK):
        raise folder_error(where, cfg.work_dir)


def run_generate(cfg: ArenaConfig, *, progress: bool = True) -> tuple[list[Question], list[GenerateStats]]:
    """Stage 1 for every enabled model (each is first checked to answer every call, :func:`check_calls`)."""
    questions, all_ids = load_run_questions(cfg.questions)
    check_calls(cfg, questions)
    make_work_dir(cfg)
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
                      both_orders=cfg.judge.adaptive or bool(cfg.judge.both_orders), seed=cfg.seed)
    by_key = {a.key: a for answers in per_model.values() for a in answers.values()}
    return plan, by_key


def _link_answers(run_dir: Path) -> None:
    link = run_dir / "answers"
    if not link.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(Path("..") / "answers", link)


def run_judge(cfg: ArenaConfig, questions: list[Question] | None = None, *, dry_run: bool = False,
              retry_errors: bool = False, progress: bool = True) -> RunResult:
    """Stage 2 and 3: plan, judge pending games (each judge of a jury in turn), write battles, rate, report."""
    if questions is None:
        questions, _ = load_run_questions(cfg.questions)
    make_work_dir(cfg)
    run_dir = cfg.work_dir / DRY_RUN_DIR if dry_run else cfg.work_dir
    if dry_run:
        _link_answers(run_dir)
        write_questions(run_dir, questions)
    plan, answers = plan_run(cfg, questions)
    result = RunResult(run_dir=run_dir, questions=len(questions), games=len(plan.games), skipped_games=plan.skipped)
    if dry_run:
        store = JsonlStore(judgments_path(cfg.work_dir), Judgment)
        for jc in cfg.judges:
            real_judge = build_judge(jc)
            result.estimates.append(
                estimate_spend(pending_games(plan.games, real_judge, store, retry_errors), real_judge, jc))
        result.estimate = total_estimate(result.estimates)
    jurors: list[tuple[Judge, Prices | None]] = []
    total = ReviewStats()
    for jc_real in cfg.judges:
        jc = as_fake(jc_real) if dry_run else jc_real
        judge = build_judge(jc)
        provider = build_judge_provider(jc, judge, seed=cfg.seed)
        if jc.adaptive:  # one judge (a jury is refused): rounds of the games that shrink the intervals most
            stats, result.adaptive = adaptive_review(plan.games, judge, provider, run_dir, jc.generation,
                                                     adaptive_settings(cfg), chunk_size=jc.chunk_size(),
                                                     retry_errors=retry_errors, progress=progress)
            if dry_run:  # the rehearsal chose the calls: estimate those a real run would still pay for
                real = build_judge(jc_real)
                asked = asked_games(plan.games, judge, result.adaptive)
                result.estimates = [estimate_spend(pending_games(asked, real, store, retry_errors), real, jc_real)]
                result.estimate = total_estimate(result.estimates)
        else:
            stats = review(plan.games, judge, provider, run_dir, jc.generation,
                           chunk_size=jc.chunk_size(), retry_errors=retry_errors, progress=progress)
        result.reviews[judge.judge_id] = stats
        total = total + stats
        # Prices are the real judge's: the fake judge (a dry run's rehearsal) costs nothing; a half-price batch
        # API pays its share (as the dry-run estimate does).
        jurors.append((judge, None if jc.spec.free else _paid(jc.prices, jc.spec.price_factor())))
    result.review = total
    rate_run(cfg, run_dir, jurors, plan, answers, result)
    return result


def read_votes(run_dir: Path) -> list[HumanVote]:
    """The human votes of a run dir (``human_votes.jsonl``; a torn last line is skipped), or none."""
    path = run_dir / VOTES_FILE
    if not path.is_file():
        return []
    return [HumanVote.model_validate(obj) for _, obj in read_jsonl(path)]


def rate_run(cfg: ArenaConfig, run_dir: Path, jurors: list[tuple[Judge, Prices | None]], plan: Plan,
             answers: dict[str, Answer], result: RunResult) -> None:
    """Battles, leaderboard and judge report from the judgments of the current plan (see :func:`write_outputs`).

    ``jurors``: each judge with its prices (None for a free one). One judge: its battles are rated. A jury:
    every juror's battles carry its name and are kept in ``jury_battles.jsonl``; ``battles.jsonl`` and the
    leaderboard hold :func:`~arena.judging.jury.jury_battles` of them as ``rating.jury`` says, and the report
    gets a ``jury`` section (:func:`~arena.judging.jury_report.jury_report`). When ``human_votes.jsonl``
    exists, the report gets a ``people`` section: the lead judge against the votes.
    """
    store = JsonlStore(judgments_path(run_dir), Judgment)
    mode = cfg.judge.mode
    per_judge: dict[str, list[Judgment]] = {}
    battles: list[Battle] = []
    for judge, _ in jurors:
        judgments = [j for g in plan.games if (j := store.get(judge.key(g))) is not None]
        per_judge[judge.judge_id] = judgments
        # A reused judgment keeps the name it was written under: its battle carries the juror's.
        battles += [b.model_copy(update={"judge": judge.judge_id}) if cfg.jurors else b
                    for b in build_battles(judgments, answers, cfg.rating.strong_weight)]
    lead = jurors[0][0].judge_id
    all_judgments = [j for js in per_judge.values() for j in js]
    extras: dict[str, Any] = {}
    rated = battles
    if cfg.jurors:
        JsonlStore(run_dir / JURY_BATTLES_FILE, Battle).rewrite(battles)
        rated = jury_battles(battles, cfg.jury, lead)
        own = {judge.judge_id: own_models(cfg, jc) for (judge, _), jc in zip(jurors, cfg.judges, strict=True)}
        extras["jury"] = jury_report(per_judge, battles, answers, how=cfg.jury, own=own, settings=cfg.rating,
                                     prices={judge.judge_id: p for judge, p in jurors})
    votes = read_votes(run_dir)
    if votes and mode != "single":
        extras["people"] = judge_vs_people(per_judge[lead], votes, answers, bootstrap=PEOPLE_BOOTSTRAP,
                                           seed=cfg.rating.seed or 0) | {"judge": lead}
    if cfg.jurors:  # jurors differ in price: the cost is summed judge by judge
        extras["cost_usd"] = round(sum(_tokens_cost(per_judge[j.judge_id], p) for j, p in jurors), 6)
    outputs = write_outputs(
        run_dir, battles=rated, judgments=all_judgments if cfg.jurors else per_judge[lead],
        answers=answers, settings=cfg.rating, baseline=rating_baseline(mode, cfg.judge.baseline),
        scores=score_rows(per_judge[lead]) if mode == "single" else None,
        prices=_prices(jurors[0][1]) if not cfg.jurors else (0.0, 0.0), report_extras=extras or None,
        notes=_noise_notes(cfg))
    result.battles, result.report, result.leaderboard = outputs.battles, outputs.report, outputs.leaderboard


def _noise_notes(cfg: ArenaConfig) -> list[str]:
    """What ``arena repeat`` measured for this config (``WORK_DIR/repeats/noise.json``), for the leaderboard."""
    from arena.diff.noise import load_noise

    floor = load_noise(cfg.work_dir)
    if floor is None:
        return []
    return [f"arena repeat ({floor.repeats} repeats): {n}" for n in floor.notes]


def _paid(prices: Prices | None, factor: float) -> Prices | None:
    """``prices`` times the share of them a call pays (``price_factor``: 0.5 through the OpenAI Batch API)."""
    if prices is None or factor == 1.0:
        return prices
    return prices.model_copy(update={"input_per_1m": prices.input_per_1m * factor,
                                     "output_per_1m": prices.output_per_1m * factor})


def _prices(prices: Prices | None) -> tuple[float, float]:
    return (prices.input_per_1m, prices.output_per_1m) if prices else (0.0, 0.0)


def _tokens_cost(judgments: list[Judgment], prices: Prices | None) -> float:
    pin, pout = _prices(prices)
    return sum(j.prompt_tokens * pin / 1e6 + j.completion_tokens * pout / 1e6 for j in judgments)


def own_models(cfg: ArenaConfig, jc: JudgeConfig) -> set[str]:
    """The candidates that are ``jc``'s own: the same model, or the same family (``judge.family`` or its
    model's, see :func:`~arena.judging.jury.model_family`)."""
    model = jc.spec.model or ""
    family = jc.family or model_family(model)
    return {name for name, m in cfg.enabled_models.items()
            if (m.spec.model or name) == model or model_family(m.spec.model or name) == family
            or model_family(name) == family}


def write_manifest(cfg: ArenaConfig, result: RunResult, *, config_path: str, started: str, dry_run: bool) -> None:
    from arena.rundir.manifest import build_manifest

    prompt_sets = {jc.prompts: load_prompt_set(jc.prompts) for jc in cfg.judges}
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
    if result.adaptive is not None:
        stages["adaptive"] = result.adaptive.manifest()
    if len(result.reviews) > 1:
        stages["review_per_judge"] = {name: asdict(r) | {"error_kinds": dict(r.error_kinds),
                                                         "fault_kinds": dict(r.fault_kinds)}
                                      for name, r in result.reviews.items()}
    manifest = build_manifest(cfg, config_path=config_path, started=started, finished=now_iso(), dry_run=dry_run,
                              prompt_hashes={f"{p.name}@{p.version}/{n}": h for p in prompt_sets.values()
                                             for n, h in p.hashes.items()},
                              stages=stages, cost_usd=result.report.cost_usd if result.report is not None else None,
                              estimate=_estimate_dict(result))
    write_json_atomic(result.run_dir / "manifest.json", manifest)


def _estimate_dict(result: RunResult) -> dict[str, Any] | None:
    if result.estimate is None:
        return None
    out = asdict(result.estimate)
    if len(result.estimates) > 1:
        out["per_judge"] = [asdict(e) for e in result.estimates]
    return out


def run(cfg: ArenaConfig, *, dry_run: bool = False, config_path: str = "", progress: bool = True) -> RunResult:
    """The whole arena: generate, judge, rate; writes every file of the run dir."""
    started = now_iso()
    questions, gen = run_generate(cfg, progress=progress)
    write_questions(cfg.work_dir, questions)
    result = run_judge(cfg, questions, dry_run=dry_run, progress=progress)
    result.generation = gen
    write_manifest(cfg, result, config_path=config_path, started=started, dry_run=dry_run)
    return result
