"""From a battles frame to leaderboard rows: the API the pipeline and ``arena rate`` call.

The method is looked up in :mod:`arena.rating.registry` by ``settings.method``; its fit gives point
estimates and interval samples, and everything after (ratings scale, anchor, intervals, ranks, win rates
against the baseline, matrices, categories) is the same for every method.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arena.errors import DataError, UserError, unknown_name
from arena.rating import bootstrap as bs
from arena.rating import matrices as mx
from arena.rating import registry
from arena.rating.bt import to_ratings
from arena.rating.encoding import Encoded, encode
from arena.rating.fits import resampling_units
from arena.rating.frame import frame_notes, name_notes, validate_frame
from arena.rating.registry import DEFAULT_INTERVAL
from arena.rating.rows import (
    LeaderboardResult,
    add_scores,
    count_value,
    jsonable,
    matrices,
    model_stats,
    single_rows,
    sorted_rows,
    weight_note,
)
from arena.rating.sandwich import normal_interval, rating_covariance
from arena.rating.settings import RatingSettings
from arena.rating.single import mean_scores, mean_scores_by
from arena.rating.tie_sensitivity import tie_sensitivity

__all__ = ["LeaderboardResult", "compute_leaderboard"]


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


SOLE_QUESTION_NOTE = ("every battle shares one question: intervals that resample questions cannot be measured "
                      "(each resample is that question again), so none is shown; rate with --resample battle "
                      "(rating.resample: battle) for the battles' own noise, or judge more questions")
SOLE_BATTLE_NOTE = ("every battle is the same pair with the same outcome: resampling them cannot vary anything, so "
                    "no interval is shown; it takes more battles, with other outcomes or pairs")
NO_SPREAD_NOTES = (SOLE_QUESTION_NOTE, SOLE_BATTLE_NOTE)
"""The notes of a rating whose resamples are all alike (one question, or one kind of battle): no interval."""


def _rate(
    frame: pd.DataFrame,
    settings: RatingSettings,
    baseline: str | None,
    rng: np.random.Generator,
    interval: str = DEFAULT_INTERVAL,
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any], Encoded, np.ndarray, np.ndarray]:
    """Rows, warnings, extras, the encoding, point ratings and bootstrap rating samples (``(rounds, n_models)``
    in the encoding's model order; no rows without a bootstrap)."""
    if settings.style_control and settings.ties not in ("half", "drop"):
        raise UserError(f"rating.ties {settings.ties!r}: style control takes half or drop")
    method = registry.get(settings.method)
    registry.check_interval(method, interval)
    enc = encode(frame)
    models = enc.models
    anchor = _anchor(models, settings, baseline) if models else None
    fit = method.fitter()(enc, settings, rng, interval=interval)
    point, boot, warnings = fit.point, fit.samples, list(fit.warnings)
    intervals = len(boot) > 0 or fit.cov is not None
    unit, units = resampling_units(enc, settings)
    unmeasured = intervals and units == 1
    if unmeasured:  # every resample is the same: no interval, rather than a zero-width one
        boot, warnings = boot[:0], [*warnings, SOLE_QUESTION_NOTE if unit == "question" else SOLE_BATTLE_NOTE]
    elif intervals and unit == "question" and 1 < units < enc.n_items:
        questions = units
        warnings.append(f"only {questions} questions for {enc.n_items} models: intervals that resample questions "
                        f"vary in at most {questions - 1} direction{'' if questions == 2 else 's'}, so some are too "
                        "narrow; judge more questions, "
                        "or rate with --resample battle (rating.resample: battle)")
    scale, base = method.scale(settings), settings.elo.base
    if method.output == "strengths":
        kw: dict[str, Any] = {"scale": scale, "base": base, "initial": settings.initial, "anchor": anchor}
        point = to_ratings(point, **kw)
        boot = to_ratings(boot, **kw) if len(boot) else boot
    elif anchor is not None:
        point = point - point[anchor[0]] + anchor[1]
        boot = boot - boot[:, anchor[0] : anchor[0] + 1] + anchor[1]
    rcov = None
    if fit.cov is not None and method.output == "strengths" and not unmeasured:
        rcov = rating_covariance(fit.cov, scale / np.log(base), None if anchor is None else anchor[0])
        low, high = normal_interval(point, np.diag(rcov), settings.confidence)
    elif len(boot):
        low, high = bs.percentile_interval(boot, settings.confidence)
    else:  # no interval (0 bootstrap rounds, or resamples all alike): the bounds are the point, and "ci": "none"
        low, high = point.copy(), point.copy()
        interval = "none"
    # Bootstrap refits stop within ROUND_TOL (natural scale) of their optimum: bounds closer than that, in rating
    # points, are equal as far as the refits can tell (many resamples can land on one configuration, e.g. all
    # models level at 1000, whose bounds then differ by refit noise alone).
    refit = bs.ROUND_TOL * scale / np.log(base) if len(boot) and method.output == "strengths" else 0.0
    best, worst = bs.rank_bounds(low, high, refit)
    stats = model_stats(enc)
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
        row.update({key: count_value(float(v[k])) for key, v in stats.items()})
        rows.append(row)
    extras: dict[str, Any] = {"ci": interval, "ties": {"model": settings.ties, **fit.params}}
    if interval == "none":
        extras["ci_none"] = ("0 bootstrap rounds" if not unmeasured else "one question" if unit == "question"
                             else "one kind of battle")
    if baseline is not None:
        b = models.index(baseline)
        wr = mx.predicted_win_rate(point, scale=scale, base=base)[:, b]
        if rcov is not None:
            var = np.diag(rcov) + rcov[b, b] - 2 * rcov[:, b]
            d_low, d_high = normal_interval(point - point[b], var, settings.confidence)
            wr_low, wr_high = (1.0 / (1.0 + np.power(base, -d / scale)) for d in (d_low, d_high))
        elif len(boot):
            wr_boot = 1.0 / (1.0 + np.power(base, (boot[:, [b]] - boot) / scale))
            wr_low, wr_high = bs.percentile_interval(wr_boot, settings.confidence)
        else:
            wr_low, wr_high = wr, wr
        for k, row in enumerate(rows):
            row.update(win_rate=float(wr[k]), win_rate_low=float(wr_low[k]), win_rate_high=float(wr_high[k]))
    return rows, warnings, extras, enc, point, boot


def compute_leaderboard(
    battles: pd.DataFrame,
    settings: RatingSettings,
    *,
    baseline: str | None = None,
    scores: pd.DataFrame | None = None,
    interval: str | None = None,
) -> LeaderboardResult:
    """Rate models from battles (and/or single-mode scores) with intervals.

    The rating method is ``settings.method`` as :mod:`arena.rating.registry` holds it.

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
        interval: the interval type (one of the method's ``intervals``), default ``settings.ci``:
            ``bootstrap``: ``settings.bootstrap`` resampled refits, percentile intervals; ``sandwich``:
            normal intervals from the clustered sandwich covariance.

    Raises:
        UserError: a method or interval type the registry does not hold; DataError: no battles or scores,
            an unknown baseline, or data the method refuses.

    Returns:
        The rows best first, warnings and JSON-ready extras (matrices, per-category rows, style
        coefficients, per-turn/per-category scores).
    """
    frame = validate_frame(battles) if len(battles) or len(battles.columns) else battles
    interval = settings.ci if interval is None else interval
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
    samples: pd.DataFrame | None = None
    score_rng = _rng(settings, stream=1)
    if scores is not None:
        table = mean_scores(scores, settings.bootstrap, score_rng, confidence=settings.confidence)
    if frame.empty:
        assert table is not None  # no battles and no scores was rejected above
        rows = single_rows(table)
    else:
        rows, notes, extras, enc, point, boot = _rate(frame, settings, baseline, rng, interval)
        if len(boot):
            samples = pd.DataFrame(boot, columns=enc.models)
        warnings += notes + name_notes(enc.models) + weight_note(frame) + tie_sensitivity(enc, settings, point)
        extras.update(matrices(enc, point, registry.rating_scale(settings), settings.elo.base))
        extras["categories"] = _categories(frame, settings, baseline, warnings, interval)
        if settings.style_control:
            if extras.get("ci_none") in ("one question", "one kind of battle"):  # the style fit's would be too
                from arena.rating.style import style_extras

                extras["style"] = style_extras(frame, settings.model_copy(update={"bootstrap": 0}), rng, enc=enc)
            elif interval == "sandwich":
                from arena.rating.style_sandwich import style_sandwich_extras

                extras["style"] = style_sandwich_extras(frame, settings, rng)
            else:
                if settings.reweight != "none":
                    raise UserError("rating.reweight inverse-pair with style control needs rating.ci sandwich")
                from arena.rating.style import style_extras

                extras["style"] = style_extras(frame, settings, rng, enc=enc)
            if "warning" in extras["style"]:
                warnings.append(extras["style"]["warning"])
    order_key = "rating"
    if scores is not None and table is not None:
        method, order_key = "single", "score"
        if not frame.empty:
            extras["rating_method"] = settings.method
        add_scores(rows, table)
        extras["scores_by_turn"] = mean_scores_by(
            scores, "turn", settings.bootstrap, score_rng, confidence=settings.confidence
        )
        extras["scores_by_category"] = mean_scores_by(
            scores, "category", settings.bootstrap, score_rng, confidence=settings.confidence
        )
    return LeaderboardResult(
        rows=jsonable(sorted_rows(rows, order_key)),
        method=method,
        settings=settings,
        warnings=list(dict.fromkeys(warnings)),
        extras=jsonable(extras),
        samples=samples,
    )


def category_note(category: str) -> str:
    """How a warning about one category's leaderboard starts (``category 'math':``); the browser picks a
    category's notes by it."""
    return f"category {category!r}:"


def _categories(
    frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, warnings: list[str], interval: str
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
                f"{category_note(cat)} anchor model {settings.anchor.model!r} has no battles; mean-anchored"
            )
        base = baseline if baseline in present else None
        rows, notes = _rate(part.reset_index(drop=True), sub, base, _rng(settings), interval)[:2]
        if any(note in notes for note in NO_SPREAD_NOTES):
            warnings.append(f"{category_note(cat)} its resamples are all alike (one question, or one kind of battle): "
                            "no interval is shown for it")
        out[str(cat)] = sorted_rows(rows)
    return out
