"""From a battles frame to leaderboard rows: the API the pipeline and ``arena rate`` call."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from arena.errors import DataError, UserError, unknown_name
from arena.rating import bootstrap as bs
from arena.rating import matrices as mx
from arena.rating.bradley_terry import (
    aggregate,
    canonical,
    fit_pairs,
    graph_warnings,
    pair_design,
    to_ratings,
)
from arena.rating.elo import elo, elo_bootstrap, elo_updates, is_shuffled
from arena.rating.frame import A_WINS, B_WINS, TIE, Encoded, encode, frame_notes, validate_frame
from arena.rating.settings import RatingSettings
from arena.rating.single import mean_scores, mean_scores_by


@dataclass
class LeaderboardResult:
    """Leaderboard rows (best first) and everything needed to explain them."""

    rows: list[dict[str, Any]]
    method: str
    settings: RatingSettings
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """All of it as one JSON document (``rows`` alone is what ``leaderboard.json`` holds)."""
        doc = {
            "method": self.method,
            "settings": self.settings.model_dump(mode="json"),
            "rows": self.rows,
            "warnings": self.warnings,
            "extras": self.extras,
        }
        return json.dumps(_jsonable(doc), indent=2, ensure_ascii=False)


def _jsonable(obj: Any) -> Any:
    """NaN/inf -> None, numpy scalars/arrays -> Python, recursively."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def _rng(settings: RatingSettings, stream: int = 0) -> np.random.Generator:
    """The seeded generator of one stream: 0 rates battles, 1 bootstraps single-mode scores, so the
    battles' intervals are the same whether or not scores come with them."""
    seed = 0 if settings.seed is None else settings.seed
    return np.random.default_rng(seed if stream == 0 else [seed, stream])


def _anchor(models: list[str], settings: RatingSettings, baseline: str | None) -> tuple[int, float] | None:
    if settings.anchor is not None:
        if settings.anchor.model not in models:
            raise UserError("rating.anchor: " + unknown_name("model", settings.anchor.model, models))
        return models.index(settings.anchor.model), settings.anchor.rating
    if baseline is not None:
        return models.index(baseline), settings.initial
    return None


def _model_stats(enc: Encoded) -> dict[str, np.ndarray]:
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


def _num(x: float) -> int | float:
    """An integer when ``x`` is whole (to 1e-9), else ``x`` to 3 decimals (weighted counts)."""
    return int(round(x)) if abs(x - round(x)) < 1e-9 else round(float(x), 3)


def _resample(enc: Encoded, settings: RatingSettings) -> str:
    """Battles without question ids: every battle is its own question, so questions are battles."""
    return settings.resample if enc.has_questions else "battle"


def _fit_bt(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Point strengths, bootstrap strengths ``(rounds, n)`` and warnings."""
    n = enc.n_items
    cells, cell_of_battle = aggregate(n, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
    design = pair_design(n, cells, settings.ties)
    wins, total = design.totals(cells.weight)
    point = fit_pairs(n, design.i, design.j, wins, total)
    notes = []
    for kind, idx in graph_warnings(n, design.i, design.j, wins, total):
        names = ", ".join(enc.models[k] for k in idx[:10]) + (" ..." if len(idx) > 10 else "")
        notes.append(
            {
                "unplayed": f"no usable battles for: {names}; their ratings are the prior (mean)",
                "components": f"battles form disconnected groups; these models never meet the largest group: {names}; "
                "ratings across groups are not comparable",
                "unbeaten": f"never lost a battle: {names}; ratings are held finite by a small ridge and are lower bounds",
                "winless": f"never won a battle: {names}; ratings are held finite by a small ridge and are upper bounds",
            }[kind]
        )
    boot = np.empty((0, n))
    if settings.bootstrap > 0:
        sampler = bs.make_resampler(
            cell_of_battle, enc.weight, enc.count, enc.group, len(cells.a), _resample(enc, settings)  # type: ignore[arg-type]
        )
        boot = bs.bootstrap_strengths(design, sampler, settings.bootstrap, rng, init=point)
    return point, boot, notes


MAX_ELO_UPDATES = 50_000_000
"""Longest Elo sequence :func:`compute_leaderboard` will run (counts expand to one update per battle)."""


def _fit_elo(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Online Elo over the update sequence of :func:`~arena.rating.elo.elo_updates`, and its bootstrap.

    Raises:
        DataError: a non-integer count (Elo runs whole battles), or a sequence too long to run.
    """
    e = settings.elo
    whole = np.isclose(enc.count, np.rint(enc.count), rtol=0, atol=1e-9)
    if not whole.all():
        bad = float(enc.count[np.flatnonzero(~whole)[0]])
        raise DataError(
            f"elo runs whole battles one by one, but a row has count {bad:g}; "
            "use --method bt (Bradley-Terry takes fractional counts)"
        )
    row_weight = enc.row_weight if enc.row_weight is not None else np.ones(len(enc.a))
    total = float((np.rint(enc.count) * np.where(row_weight > 0, np.ceil(row_weight), 0)).sum())
    if total > MAX_ELO_UPDATES:
        raise DataError(
            f"elo would run {total:,.0f} sequential updates (over {MAX_ELO_UPDATES:,}); "
            "use --method bt, which fits aggregated counts directly"
        )
    rows, step = elo_updates(enc.count, row_weight, e.order, rng)
    notes = []
    if is_shuffled(enc.count, row_weight, e.order):
        seed = 0 if settings.seed is None else settings.seed
        notes.append(
            f"elo: {len(enc.a):,} rows expanded to {len(rows):,} updates (counts, and weights above 1) "
            f"and run in an order shuffled with seed {seed}; online Elo depends on battle order"
        )
    kw: dict[str, Any] = {
        "k": e.k,
        "initial": e.initial,
        "scale": e.scale,
        "base": e.base,
        "ties": settings.ties,
    }
    data = (enc.a[rows], enc.b[rows], enc.outcome[rows])
    point = elo(enc.n_items, data, step=step, **kw)
    boot = np.empty((0, enc.n_items))
    if settings.bootstrap > 0:
        groups = enc.group[rows] if _resample(enc, settings) == "question" else None
        boot = elo_bootstrap(enc.n_items, data, settings.bootstrap, rng, groups=groups, step=step, **kw)
    return point, boot, notes


def _rate(
    frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any], Encoded, np.ndarray]:
    enc = encode(frame)
    models = enc.models
    anchor = _anchor(models, settings, baseline) if models else None
    warnings: list[str] = []
    if settings.method == "elo":
        point, boot, warnings = _fit_elo(enc, settings, rng)
        scale, base = settings.elo.scale, settings.elo.base
        if anchor is not None:
            point = point - point[anchor[0]] + anchor[1]
            boot = boot - boot[:, anchor[0] : anchor[0] + 1] + anchor[1]
    else:
        strengths, boot_s, warnings = _fit_bt(enc, settings, rng)
        scale, base = settings.scale, settings.elo.base
        kw: dict[str, Any] = {"scale": scale, "base": base, "initial": settings.initial, "anchor": anchor}
        point = to_ratings(strengths, **kw)
        boot = to_ratings(boot_s, **kw) if len(boot_s) else boot_s
    if len(boot):
        low, high = bs.percentile_interval(boot, settings.confidence)
    else:
        low, high = point.copy(), point.copy()
    best, worst = bs.rank_bounds(low, high)
    stats = _model_stats(enc)
    rows: list[dict[str, Any]] = []
    for k, name in enumerate(models):
        row: dict[str, Any] = {
            "model": name,
            "rating": float(point[k]),
            "ci_low": float(low[k]),
            "ci_high": float(high[k]),
            "rank": int(best[k]),
            "rank_low": int(best[k]),
            "rank_high": int(worst[k]),
        }
        row.update({key: _num(float(v[k])) for key, v in stats.items()})
        rows.append(row)
    extras: dict[str, Any] = {}
    if baseline is not None:
        b = models.index(baseline)
        wr = mx.predicted_win_rate(point, scale=scale, base=base)[:, b]
        if len(boot):
            wr_boot = 1.0 / (1.0 + np.power(base, (boot[:, [b]] - boot) / scale))
            wr_low, wr_high = bs.percentile_interval(wr_boot, settings.confidence)
        else:
            wr_low, wr_high = wr, wr
        for k, row in enumerate(rows):
            row.update(win_rate=float(wr[k]), win_rate_low=float(wr_low[k]), win_rate_high=float(wr_high[k]))
    return rows, warnings, extras, enc, point


def _matrices(enc: Encoded, point: np.ndarray, settings: RatingSettings) -> dict[str, Any]:
    n = enc.n_items
    data = (enc.a, enc.b, enc.outcome)
    wins = mx.win_matrix(n, data, enc.weight, tie_weight=0.5)
    scale = settings.elo.scale if settings.method == "elo" else settings.scale
    return {
        "models": enc.models,
        "battle_counts": mx.count_matrix(n, enc.a, enc.b, enc.weight),
        "observed_win_rate": mx.win_rate_matrix(wins),
        "predicted_win_rate": mx.predicted_win_rate(point, scale=scale, base=settings.elo.base),
    }


def _sorted(rows: list[dict[str, Any]], key: str = "rating") -> list[dict[str, Any]]:
    """Best first by ``key`` (missing values last), ties by model name."""

    def value(r: dict[str, Any]) -> float:
        v = r.get(key)
        return -math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    return sorted(rows, key=lambda r: (-value(r), r["model"]))


def _weight_note(frame: pd.DataFrame) -> list[str]:
    """A note when frequency weights other than 1 make battles/wins/losses/ties weighted sums."""
    if frame.empty or bool((frame["weight"].to_numpy(dtype=float) == 1.0).all()):
        return []
    return [
        "weights other than 1 are present: battles, wins, losses and ties are weighted sums "
        "(count x weight), not numbers of judgments"
    ]


def compute_leaderboard(
    battles: pd.DataFrame,
    settings: RatingSettings,
    *,
    baseline: str | None = None,
    scores: pd.DataFrame | None = None,
) -> LeaderboardResult:
    """Rate models from battles (and/or single-mode scores) with bootstrap intervals.

    Counts and weights (see :func:`~arena.rating.validate_frame`) are frequencies: a row of weight 2, a
    row of count 2 and two identical rows give the same ratings, intervals (same seed), ranks and
    counts. ``battles``/``wins``/``losses``/``ties`` are sums of ``count * weight`` (a warning says so
    when weights other than 1 are present); self-pairs dropped by validation are reported in
    ``warnings``.

    Args:
        battles: a frame as :func:`~arena.rating.battles_frame` returns (validated again here).
        settings: method, bootstrap, resampling, anchoring, ties, style control, seed.
        baseline: pairwise-baseline mode: anchor it at ``settings.initial`` (unless ``settings.anchor``
            says otherwise) and add the win rate against it, with its interval, to every row.
        scores: single mode: columns ``question_id, model, score`` (``turn``, ``category`` optional).
            Rows are then ordered by mean score (MT-Bench's convention), and ``rank``, ``rank_low``,
            ``rank_high`` come from the score intervals; ``score, score_low, score_high`` are added. The
            rating beside the score is the one the battles imply (``settings.method``), or, with no
            battles, the mean score itself. ``method`` is ``single``.

    Returns:
        The rows best first, warnings and JSON-ready extras (matrices, per-category rows, style
        coefficients, per-turn/per-category scores).
    """
    frame = validate_frame(battles) if len(battles) or len(battles.columns) else battles
    rng = _rng(settings)
    if frame.empty and scores is None:
        raise DataError("no battles to rate; judge some pairs first or pass single-mode scores")
    if baseline is not None and not frame.empty:
        present = set(frame["model_a"]) | set(frame["model_b"])
        if baseline not in present:
            raise DataError("baseline: " + unknown_name("model", baseline, present))
    extras: dict[str, Any] = {}
    warnings: list[str] = frame_notes(frame)
    method: str = settings.method
    table = None
    score_rng = _rng(settings, stream=1)
    if scores is not None:
        table = mean_scores(scores, settings.bootstrap, score_rng, confidence=settings.confidence)
    if frame.empty:
        assert table is not None  # no battles and no scores was rejected above
        rows = _single_rows(table)
    else:
        rows, notes, extras, enc, point = _rate(frame, settings, baseline, rng)
        warnings += notes + _weight_note(frame)
        extras.update(_matrices(enc, point, settings))
        extras["categories"] = _categories(frame, settings, baseline, warnings)
        if settings.style_control:
            from arena.rating.style import style_extras

            extras["style"] = style_extras(frame, settings, rng)
            if "warning" in extras["style"]:
                warnings.append(extras["style"]["warning"])
    order_key = "rating"
    if scores is not None and table is not None:
        method, order_key = "single", "score"
        if not frame.empty:
            extras["rating_method"] = settings.method
        _add_scores(rows, table)
        extras["scores_by_turn"] = mean_scores_by(
            scores, "turn", settings.bootstrap, score_rng, confidence=settings.confidence
        )
        extras["scores_by_category"] = mean_scores_by(
            scores, "category", settings.bootstrap, score_rng, confidence=settings.confidence
        )
    return LeaderboardResult(
        rows=_jsonable(_sorted(rows, order_key)),
        method=method,
        settings=settings,
        warnings=list(dict.fromkeys(warnings)),
        extras=_jsonable(extras),
    )


def _add_scores(rows: list[dict[str, Any]], table: pd.DataFrame) -> None:
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


def _single_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
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


def _categories(
    frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, warnings: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """One leaderboard per category (only when there is more than one), each from its own battles only."""
    cats = sorted(frame["category"].unique())
    if len(cats) < 2:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for cat in cats:
        part = frame[frame["category"] == cat]
        present = set(part["model_a"]) | set(part["model_b"])
        sub = settings
        if settings.anchor is not None and settings.anchor.model not in present:
            sub = settings.model_copy(update={"anchor": None})
            warnings.append(
                f"category {cat!r}: anchor model {settings.anchor.model!r} has no battles; mean-anchored"
            )
        base = baseline if baseline in present else None
        rows, _, _, _, _ = _rate(part.reset_index(drop=True), sub, base, _rng(settings))
        out[str(cat)] = _sorted(rows)
    return out
