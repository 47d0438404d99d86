"""``arena repeat -c CONFIG N``: the noise floor of a config, measured by re-running its sampled parts.

Repeat ``i`` (1..N) is the config run again into ``WORK_DIR/repeats/<i>/`` with seeds derived from the
config seed and ``i`` for what samples: every candidate at temperature > 0, the judge at temperature > 0,
and the bootstrap. Greedy candidates keep their seeds, so an answer of theirs that still changes between
repeats is nondeterminism (batching, precision, engine) and is flagged with its first differing token
(word-level). The spread of each model's rating and rank across repeats is written to
``WORK_DIR/repeats/noise.json`` next to the bootstrap's standard error, for ``arena diff``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from arena.config import ArenaConfig
from arena.diff.diff import interval_z, rating_se, win_share
from arena.diff.noise import NOISE_FILE, GreedyVariation, ModelNoise, NoiseFloor
from arena.errors import UserError
from arena.keys import seed_from
from arena.records import LeaderboardRow
from arena.rundir.load import Run, load_run
from arena.store import write_json_atomic


def repeat_seed(seed: int, repeat: int, part: str) -> int:
    """The seed of one sampled ``part`` (``rating``, ``judge``, ``candidate:<name>``) in repeat ``repeat``."""
    return seed_from("repeat", seed, repeat, part)


def repeat_config(cfg: ArenaConfig, repeat: int) -> ArenaConfig:
    """``cfg`` for repeat ``repeat`` (1-based): its own work dir and freshly derived seeds for what samples."""
    if repeat < 1:
        raise UserError(f"repeat numbers start at 1, got {repeat}")
    out = cfg.model_copy(deep=True)
    out.work_dir = cfg.work_dir / "repeats" / str(repeat)
    for name, m in out.models.items():
        if not m.generation.greedy:
            m.generation = m.generation.model_copy(update={"seed": repeat_seed(cfg.seed, repeat, f"candidate:{name}")})
    if not out.judge.generation.greedy:
        out.judge.generation = out.judge.generation.model_copy(update={"seed": repeat_seed(cfg.seed, repeat, "judge")})
    out.rating = out.rating.model_copy(update={"seed": repeat_seed(cfg.seed, repeat, "rating")})
    return out


def first_difference(a: str, b: str) -> tuple[int, str | None, str | None] | None:
    """Index and tokens of the first whitespace-separated word where ``a`` and ``b`` differ; None if equal."""
    wa, wb = a.split(), b.split()
    for i in range(max(len(wa), len(wb))):
        ta, tb = (wa[i] if i < len(wa) else None), (wb[i] if i < len(wb) else None)
        if ta != tb:
            return i, ta, tb
    return None if a == b else (len(wa), None, None)


def greedy_variation(runs: Sequence[Run], greedy: set[str]) -> list[GreedyVariation]:
    """Answers of greedy candidates whose text differs from repeat 1's, with the first differing word."""
    if len(runs) < 2:
        return []

    def texts(run: Run) -> dict[tuple[str, str], list[str]]:
        return {(a.model, a.question_id): a.turns for a in run.answers.values() if a.model in greedy and a.error is None}

    first = texts(runs[0])
    out = []
    for (model, qid), turns in sorted(first.items()):
        for r, run in enumerate(runs[1:], start=2):
            other = texts(run).get((model, qid))
            if other is None or other == turns:
                continue
            turn = next(t for t in range(max(len(turns), len(other)))
                        if (turns[t] if t < len(turns) else None) != (other[t] if t < len(other) else None))
            diff = first_difference(turns[turn] if turn < len(turns) else "", other[turn] if turn < len(other) else "")
            pos, ta, tb = diff if diff is not None else (0, None, None)
            out.append(GreedyVariation(model=model, question_id=qid, turn=turn + 1, repeats=(1, r), position=pos,
                                       token_a=ta, token_b=tb))
            break
    return out


def _sd(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) >= 2 else None


def model_noise(runs: Sequence[Run]) -> list[ModelNoise]:
    """Per model: spread of rating, rank and win share across the repeats' leaderboards, and the mean
    bootstrap standard error; ``wider_than_bootstrap`` when the spread exceeds that standard error."""
    rows: dict[str, list[tuple[LeaderboardRow, float]]] = {}
    for run in runs:
        z = interval_z(run)  # the level its intervals were computed at
        for row in run.leaderboard:
            rows.setdefault(row.model, []).append((row, z))
    out = []
    for model, with_z in rows.items():
        rs = [r for r, _ in with_z]
        ratings = [r.rating if r.rating is not None else r.score for r in rs]
        vals = [float(v) for v in ratings if v is not None]
        ranks = [r.rank for r in rs if r.rank is not None]
        wins = [w for w in (win_share(r)[0] for r in rs) if w is not None]
        known = [e for e in (rating_se(r, z)[1] for r, z in with_z) if e is not None]
        se = statistics.fmean(known) if known else None
        sd = _sd(vals)
        out.append(ModelNoise(
            model=model, repeats=len(rs), rating_mean=statistics.fmean(vals) if vals else None, rating_sd=sd,
            rating_min=min(vals) if vals else None, rating_max=max(vals) if vals else None,
            rank_min=min(ranks) if ranks else None, rank_max=max(ranks) if ranks else None,
            win_rate_mean=statistics.fmean(wins) if wins else None, win_rate_sd=_sd(wins), bootstrap_se=se,
            wider_than_bootstrap=sd is not None and se is not None and sd > se))
    return sorted(out, key=lambda m: -(m.rating_mean or 0.0))


def noise_floor(runs: Sequence[Run], *, seed: int, greedy: set[str]) -> NoiseFloor:
    """The noise floor of repeated runs (see :func:`model_noise` and :func:`greedy_variation`)."""
    models = model_noise(runs)
    notes = [f"{m.model}: the run-to-run spread of its rating (sd {m.rating_sd:.2f} over {m.repeats} repeats) "
             f"is wider than its bootstrap interval says (se {m.bootstrap_se:.2f}); re-runs vary more than "
             "question resampling explains" for m in models if m.wider_than_bootstrap
             and m.rating_sd is not None and m.bootstrap_se is not None]
    flagged = greedy_variation(runs, greedy)
    if flagged:
        per = {v.model for v in flagged}
        notes.append(f"greedy candidates whose answers still vary across repeats: {', '.join(sorted(per))} "
                     f"({len(flagged)} answer(s)); look at batching, precision and the engine")
    return NoiseFloor(repeats=len(runs), seed=seed, models=models, greedy_variation=flagged, notes=notes)


def run_repeats(cfg: ArenaConfig, n: int, *, config_path: str = "", progress: bool = False) -> NoiseFloor:
    """Run ``cfg`` ``n`` times (see the module doc) and write ``WORK_DIR/repeats/noise.json``."""
    from arena.pipeline import run

    if n < 2:
        raise UserError(f"arena repeat needs N >= 2 repeats to measure a spread, got {n}")
    dirs: list[Path] = []
    for i in range(1, n + 1):
        rc = repeat_config(cfg, i)
        run(rc, config_path=config_path, progress=progress)
        dirs.append(rc.work_dir)
    greedy = {name for name, m in cfg.enabled_models.items() if m.generation.greedy}
    floor = noise_floor([load_run(d) for d in dirs], seed=cfg.seed, greedy=greedy)
    write_json_atomic(cfg.work_dir / NOISE_FILE, floor)
    return floor


def render_noise(floor: NoiseFloor) -> str:
    """A text table of the noise floor, then its notes and the flagged greedy answers."""
    head = ["model", "rating mean", "sd", "min", "max", "rank", "bootstrap se", "win sd", ""]
    rows = [[m.model, _f(m.rating_mean, 1), _f(m.rating_sd, 2), _f(m.rating_min, 1), _f(m.rating_max, 1),
             f"{m.rank_min}-{m.rank_max}" if m.rank_min != m.rank_max else str(m.rank_min), _f(m.bootstrap_se, 2),
             _f(m.win_rate_sd, 3), "wider than bootstrap" if m.wider_than_bootstrap else ""] for m in floor.models]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = [f"noise floor over {floor.repeats} repeats (seed {floor.seed})",
             "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines += [f"note: {n}" for n in floor.notes]
    lines += [f"  {v.model} / {v.question_id} turn {v.turn}: repeats {v.repeats[0]} and {v.repeats[1]} differ at "
              f"word {v.position}: {v.token_a!r} vs {v.token_b!r}" for v in floor.greedy_variation]
    return "\n".join(lines) + "\n"


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
