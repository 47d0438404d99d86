"""The leaderboard the browser shows: the run's own, or rated here with the run's settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from arena.browse.data import RunData
from arena.records import LeaderboardRow, Manifest

log = logging.getLogger(__name__)


def settings_from_manifest(manifest: Manifest | None) -> tuple[Any, str, str | None]:
    """The rating settings a run was rated with, as the pipeline or ``arena import`` used them.

    A pipeline run keeps them under ``config.rating`` (seed: ``config.seed`` when unset, as the pipeline
    seeds them; a jury's ``rating.jury`` is not a rater setting and is left out), an imported run under
    ``rating``. With neither, they are ``arena rate``'s defaults
    (:class:`~arena.rating.RatingSettings`: Bradley-Terry, 1000 bootstrap rounds, seed 0), so the browser
    gives the same numbers as ``arena rate`` on the same file.

    Returns:
        ``(settings, where, problem)``: the settings, where they came from, and a line saying why the
        manifest's settings could not be used (None when they could).
    """
    from pydantic import ValidationError

    from arena.rating import RatingSettings

    cfg = (manifest.config if manifest is not None else None) or {}
    if manifest is not None and cfg.get("rating") is not None:
        raw, where, seed = cfg.get("rating"), "manifest.json config.rating", cfg.get("seed", manifest.seed)
        if isinstance(raw, dict):  # rating.jury chooses a jury's battles, not how they are rated
            raw = {k: v for k, v in raw.items() if k != "jury"}
    elif manifest is not None and manifest.rating is not None:
        raw, where, seed = manifest.rating, "manifest.json rating", manifest.seed
    else:
        return RatingSettings(seed=0), "arena rate's defaults", None
    try:
        settings = RatingSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        problem = (f"{where}: {loc or 'rating'}: {err['msg']} (written by another arena version?); the ratings "
                   "computed here use arena rate's defaults instead (bt, 1000 bootstrap rounds, seed 0)")
        return RatingSettings(seed=0), "arena rate's defaults (the manifest's settings do not validate)", problem
    from arena.rundir.outputs import resolve_settings

    try:
        run_seed = int(seed or 0)
    except (TypeError, ValueError):
        run_seed = 0
    return resolve_settings(settings, run_seed), where, None


def rating_settings(data: RunData, bootstrap: int | None = None) -> Any:
    """The source's rating settings (see :func:`settings_from_manifest`); ``bootstrap`` overrides the rounds."""
    settings, _, _ = settings_from_manifest(data.manifest)
    if bootstrap is not None:
        settings = settings.model_copy(update={"bootstrap": bootstrap})
    return settings


def describe_settings(settings: Any) -> str:
    """One line naming the settings a leaderboard was computed with."""
    text = f"{settings.method}, {settings.bootstrap} bootstrap rounds, resample {settings.resample}, " \
           f"ties {settings.ties}, seed {settings.seed}"
    if settings.style_control:
        text += ", style control"
    if settings.anchor is not None:
        text += f", anchor {settings.anchor.model}={settings.anchor.rating:g}"
    return text


def _scores_frame(data: RunData) -> pd.DataFrame | None:
    j = data.judgments
    if j.empty or "score" not in j.columns:
        return None
    s = j[j["score"].notna() & j["model_b"].isna()] if "model_b" in j.columns else j[j["score"].notna()]
    if s.empty:
        return None
    out = s[["question_id", "model_a", "turn", "category", "score"]].rename(columns={"model_a": "model"})
    out["question_id"] = out["question_id"].astype(str)
    out["score"] = out["score"].astype(float)
    return out.reset_index(drop=True)


def leaderboard_rows(data: RunData, category: str | None = None, bootstrap: int | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Leaderboard rows for the whole source or one category.

    ``leaderboard.json`` is used as written when it exists (whole source), with the notes the run wrote under
    it (:attr:`RunData.leaderboard_notes`, read back from ``leaderboard.md``, not rated again); otherwise the
    rows are computed from the battles with :func:`arena.rating.compute_leaderboard` and the source's settings
    (:func:`rating_settings`: the run's own, else ``arena rate``'s defaults), so they equal what the pipeline
    or ``arena rate`` writes for the same battles. ``bootstrap`` overrides the number of rounds.

    Returns:
        ``(rows, warnings, how)``: rows best first, the rater's warnings, and a line saying where they came from.
    """
    written = _written_rows(data, category)
    if written is not None:
        return written
    return rated_rows(data, data.battles, category, bootstrap, scores=_scores_frame(data))


def _written_rows(data: RunData, category: str | None) -> tuple[pd.DataFrame, list[str], str] | None:
    """``leaderboard.json``'s rows for the whole source or one category, the notes written with them, and where
    they came from (None: not written).

    The whole source's notes are all of :attr:`RunData.leaderboard_notes`; a category's (rows from a full
    document's ``extras``) are those the rater wrote about that category (``category 'name': ...``)."""
    if category is None and data.leaderboard:
        return _rows_frame(data.leaderboard), list(data.leaderboard_notes), "leaderboard.json as written by the run"
    if category is not None and data.leaderboard_extras.get("categories", {}).get(category):
        from arena.rating.leaderboard import category_note

        notes = [n for n in data.leaderboard_notes if n.startswith(category_note(category))]
        return pd.DataFrame(data.leaderboard_extras["categories"][category]), notes, "leaderboard.json (per category)"
    return None


def rated_rows(data: RunData, battles: pd.DataFrame, category: str | None = None, bootstrap: int | None = None,
               scores: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Rate ``battles`` (and single-answer ``scores``) of ``data``'s source as the run rates them.

    :func:`arena.rating.compute_leaderboard` with the source's settings (:func:`rating_settings`) and its
    baseline (when it played), on one category's rows when ``category`` is given.

    Returns:
        ``(rows, warnings, how)`` as :func:`leaderboard_rows`.
    """
    result, how = _rated(data, battles, category, bootstrap, scores)
    if result is None:
        return pd.DataFrame(), [], how
    return pd.DataFrame(result.rows), list(result.warnings), how


def _rated(data: RunData, battles: pd.DataFrame, category: str | None, bootstrap: int | None,
           scores: pd.DataFrame | None) -> tuple[Any, str]:
    """:func:`rated_rows`'s rating as the whole :class:`~arena.rating.LeaderboardResult` (None: nothing to rate),
    and the line saying how it was computed."""
    from arena.rating import compute_leaderboard

    if category is not None:
        battles = battles[battles["category"] == category]
        if scores is not None:
            scores = scores[scores["category"] == category]
            scores = None if scores.empty else scores
    if battles.empty and scores is None:
        return None, "no battles"
    settings = rating_settings(data, bootstrap)
    baseline = data.baseline
    if baseline is not None and not battles.empty and baseline not in set(battles["model_a"]) | set(battles["model_b"]):
        baseline = None
    result = compute_leaderboard(battles, settings, baseline=baseline, scores=scores)
    _, where, _ = settings_from_manifest(data.manifest)
    what = f"{len(battles):,} battles" + (f" and {len(scores):,} single-answer scores" if scores is not None else "")
    return result, f"computed here from {what} ({describe_settings(settings)}; settings: {where})"


JURY_MAJORITY = "majority"
JURY_ALL = "all"
JUDGE_PREFIX = "judge:"
"""Jury choices: ``judge:NAME`` (one juror's battles), ``majority`` or ``all`` (every juror's pooled)."""


def jury_choices(data: RunData) -> list[str]:
    """The leaderboards a jury run can show: each juror (``judge:NAME``, in the config's order), ``majority``
    and ``all``; ``[]`` for a source that is not a pairwise jury run (no ``jury_battles.jsonl`` with two judges)."""
    from arena.judging.jury import judges_of

    if data.run is None or data.mode == "single":
        return []
    names = judges_of(data.run.jury_battles)
    return [*(JUDGE_PREFIX + n for n in names), JURY_MAJORITY, JURY_ALL] if len(names) >= 2 else []


def jury_default(data: RunData) -> str | None:
    """The choice the run's leaderboard was rated with: ``rating.jury`` of the manifest's config (else the
    report's ``jury.how``; ``per-judge`` rates the lead, i.e. first, judge); None when not a jury run."""
    choices = jury_choices(data)
    if not choices:
        return None
    cfg = (data.manifest.config if data.manifest is not None else None) or {}
    report_jury = getattr(data.judge_report, "jury", None) if data.judge_report is not None else None
    how = (cfg.get("rating") or {}).get("jury") or (report_jury or {}).get("how") or "per-judge"
    if how == "majority":
        return JURY_MAJORITY
    if how == "all":
        return JURY_ALL
    return choices[0]


def jury_label(choice: str) -> str:
    """What the page shows for a jury choice: the juror's name, ``majority`` or ``all pooled``."""
    if choice.startswith(JUDGE_PREFIX):
        return choice[len(JUDGE_PREFIX):]
    return {JURY_MAJORITY: "majority", JURY_ALL: "all pooled"}.get(choice, choice)


def jury_frame(data: RunData, choice: str) -> pd.DataFrame:
    """The battles a jury choice rates (:func:`arena.judging.jury.jury_battles` of ``jury_battles.jsonl``), as a
    validated frame.

    Raises:
        UserError: ``choice`` is not one of :func:`jury_choices`.
    """
    from arena.errors import UserError
    from arena.judging.jury import jury_battles
    from arena.rating import battles_frame

    choices = jury_choices(data)
    if choice not in choices:
        raise UserError(f"jury choice {choice!r}: use one of {', '.join(choices) or '(none: not a jury run)'}")
    assert data.run is not None  # jury_choices is empty without a run
    if choice.startswith(JUDGE_PREFIX):
        picked = jury_battles(data.run.jury_battles, "per-judge", choice[len(JUDGE_PREFIX):])
    else:
        picked = jury_battles(data.run.jury_battles, choice)
    return battles_frame(picked)


def jury_leaderboard_rows(data: RunData, choice: str, category: str | None = None,
                          bootstrap: int | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """A jury run's leaderboard for one juror, the majority vote or all battles pooled.

    The run's own choice (:func:`jury_default`) is :func:`leaderboard_rows` (``leaderboard.json`` as written);
    any other is :func:`rated_rows` of :func:`jury_frame` with the run's settings, as the pipeline rates
    ``battles.jsonl`` when ``rating.jury`` names that choice.

    Raises:
        UserError: ``choice`` is not one of :func:`jury_choices`.
    """
    if choice == jury_default(data):
        return leaderboard_rows(data, category, bootstrap)
    rows, warnings, how = rated_rows(data, jury_frame(data, choice), category, bootstrap)
    return rows, warnings, f"{jury_label(choice)}: {how}"


@dataclass(frozen=True)
class StyleBoard:
    """The style-controlled leaderboard of a rating (``extras["style"]`` of
    :func:`~arena.rating.compute_leaderboard`), as ``arena rate --style-control`` prints it beside the main one."""

    rows: pd.DataFrame
    """``rank, rank_high, model, rating, ci_low, ci_high``, best first, as the CLI's style-controlled table has them
    (:func:`arena.rating.report.style_rows`)."""
    coefficients: pd.DataFrame
    """``feature, coefficient, ci_low, ci_high``: how much the judge rewards each style feature (log-odds per
    sd of the normalised difference)."""
    how: str
    """Where the fit came from."""
    title: str = ""
    """The CLI's name for this leaderboard (:data:`arena.rating.report.STYLE_TITLE`)."""


def style_board(extras: Mapping[str, Any], how: str) -> StyleBoard | None:
    """The style-controlled leaderboard in a rating's ``extras`` (None when style control was not fitted): the rows
    the CLI prints (:func:`arena.rating.report.style_rows`)."""
    from arena.rating.report import STYLE_TITLE, style_rows

    style = extras.get("style") or {}
    rows = style_rows(extras)
    if not rows:
        return None
    frame = pd.DataFrame({k: [r[k] for r in rows] for k in ("rank", "rank_high", "model", "rating", "ci_low", "ci_high")})
    for col in ("rating", "ci_low", "ci_high"):
        frame[col] = frame[col].astype(float)
    names = list(style.get("features") or [])
    coefs = pd.DataFrame({"feature": names, "coefficient": style.get("coefficients") or [],
                          "ci_low": style.get("coef_low") or [], "ci_high": style.get("coef_high") or []})
    return StyleBoard(rows=frame, coefficients=coefs, how=how, title=STYLE_TITLE)


def style_controlled(data: RunData) -> bool:
    """Whether the source's leaderboard is rated with style control: its settings (:func:`rating_settings`)
    say so, or ``leaderboard.json`` is a full result whose extras hold a style fit."""
    return bool(rating_settings(data).style_control or (data.leaderboard_extras.get("style") or {}).get("rows"))


def leaderboard_with_style(data: RunData, category: str | None = None, bootstrap: int | None = None,
                           choice: str | None = None) -> tuple[pd.DataFrame, list[str], str, StyleBoard | None]:
    """:func:`leaderboard_rows` (with a jury ``choice``: :func:`jury_leaderboard_rows`) and the style-controlled
    leaderboard of the same rating, the two tables ``arena rate --style-control`` prints.

    Rows computed here come with their rating's style fit (one :func:`~arena.rating.compute_leaderboard` call).
    Rows read from ``leaderboard.json`` come with the notes the run wrote under them (see :func:`leaderboard_rows`)
    and the style fit its extras hold; a run that wrote the rows alone
    (as the pipeline does) is rated again from the same battles with the same settings and seed for it, which
    gives the numbers its ``leaderboard.md`` printed. Without style control the style board is None.

    Returns:
        ``(rows, warnings, how, style)``: as :func:`leaderboard_rows`, and the :class:`StyleBoard` or None.

    Raises:
        UserError: ``choice`` is not one of :func:`jury_choices`.
    """
    settings = rating_settings(data, bootstrap)
    if choice is not None and choice != jury_default(data):
        result, how = _rated(data, jury_frame(data, choice), category, bootstrap, None)
        how = f"{jury_label(choice)}: {how}"
    else:
        written = _written_rows(data, category)
        if written is not None:
            rows, notes, how = written
            in_file = style_board(data.leaderboard_extras, how) if category is None else None
            if in_file is not None or not settings.style_control:
                return rows, notes, how, in_file
            result, again = _rated(data, data.battles, category, bootstrap, _scores_frame(data))
            if result is None:
                return rows, notes, how, None
            style_note = (result.extras.get("style") or {}).get("warning")  # written too, unless settings changed
            notes = [*notes, style_note] if style_note and style_note not in notes else notes
            return rows, notes, how, style_board(result.extras, f"{again}; {how} holds no style fit")
        result, how = _rated(data, data.battles, category, bootstrap, _scores_frame(data))
    if result is None:
        return pd.DataFrame(), [], how, None
    return pd.DataFrame(result.rows), list(result.warnings), how, style_board(result.extras, how)


def style_coefficients_view(board: StyleBoard) -> pd.DataFrame:
    """Display columns of the style coefficients, as the CLI's coefficient line writes them."""
    c = board.coefficients
    return pd.DataFrame({"feature": c["feature"], "coefficient": [f"{v:+.3f}" for v in c["coefficient"]],
                         "interval": [f"{lo:+.3f} to {hi:+.3f}" if hi > lo else "none"  # none computed: no spread
                                      for lo, hi in zip(c["ci_low"], c["ci_high"], strict=True)]})


def _rows_frame(rows: list[LeaderboardRow]) -> pd.DataFrame:
    """Leaderboard records as the frame of the rows they were written from (absent columns stay absent)."""
    return pd.DataFrame([r.model_dump() for r in rows])


def leaderboard_view(rows: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Display columns: rank bounds, rating with interval (named by its ``confidence`` level), battles, W/L/T and
    win rate or score when present."""
    from arena.rating.report import ci_label

    if rows.empty:
        return rows
    out = pd.DataFrame({"rank": rows["rank"], "model": rows["model"]})
    # A leaderboard rated without intervals (0 bootstrap rounds, or one question resampled) has bounds equal to the
    # rating: no interval and no rank range to show, rather than "[1681, 1681]"; the notes say why.
    known = bool(rows["ci_low"].notna().all() and rows["ci_high"].notna().all())
    bounds = known and bool((rows["ci_high"] > rows["ci_low"]).any())
    if "rank_high" in rows.columns and bounds:
        out["rank range"] = rows["rank"].astype(str) + "-" + rows["rank_high"].astype(str)
    out["rating"] = rows["rating"].round(1)
    out[ci_label(confidence)] = "[" + rows["ci_low"].round(0).astype(int).astype(str) + ", " + rows["ci_high"].round(0).astype(int).astype(str) + "]" \
        if bounds else ("none" if known else "")
    for c in ("battles", "wins", "losses", "ties"):
        if c in rows.columns:
            out[c] = rows[c]
    if "win_rate" in rows.columns and rows["win_rate"].notna().any():
        out["win rate vs baseline"] = (100 * rows["win_rate"]).round(1)
    elif "battles" in rows.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["win rate"] = (100 * (rows["wins"] + 0.5 * rows["ties"]) / rows["battles"].replace(0, np.nan)).round(1)
    if "score" in rows.columns and rows["score"].notna().any():
        out["mean score"] = rows["score"].round(2)
    return out.reset_index(drop=True)


def categories(data: RunData) -> list[str]:
    """Categories that have battles (or scores), sorted."""
    cats = set(pd.unique(data.battles["category"])) if not data.battles.empty else set()
    j = data.judgments
    if "score" in j.columns and "category" in j.columns:
        cats |= set(pd.unique(j.loc[j["score"].notna(), "category"].astype(str)))
    return sorted(str(c) for c in cats)


def run_facts(data: RunData) -> dict[str, str]:
    """Judge, prompt set, question set, mode, seeds, dates, cost, counts: the run's key facts as text."""
    m = data.manifest
    facts: dict[str, str] = {"source": data.source, "kind": data.kind}
    if m is not None:
        cfg = m.config or {}
        judge = cfg.get("judge") or {}
        facts["name"] = m.name
        facts["judge"] = f"{judge.get('provider', '?')}:{judge.get('model') or '(default)'}"
        facts["mode"] = str(judge.get("mode", ""))
        if judge.get("baseline"):
            facts["baseline"] = str(judge["baseline"])
        facts["prompt set"] = str((m.prompts or {}).get("set") or judge.get("prompts", ""))
        q = cfg.get("questions") or {}
        facts["questions"] = str(q.get("set") or q.get("file") or "") + (f" (limit {q['limit']})" if q.get("limit") else "")
        facts["seeds"] = ", ".join(f"{k} {v}" for k, v in (m.seeds or {"config": m.seed}).items())
        facts["started"] = m.started or ""
        facts["finished"] = m.finished or ""
        facts["judge cost"] = "n/a" if m.cost_usd is None else f"${m.cost_usd:,.4f}"
        if m.dry_run:
            facts["dry run"] = "yes (seeded fake judge)"
        if m.versions.get("arena"):
            facts["arena version"] = str(m.versions["arena"])
    facts["battles"] = f"{len(data.battles):,}"
    if not data.judgments.empty:
        facts["judge calls"] = f"{len(data.judgments):,}"
    facts["models"] = ", ".join(data.models)
    return facts


def ratings_chart_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """``model, rating, ci_low, ci_high`` best first, for the ratings-with-intervals chart."""
    if rows.empty:
        return pd.DataFrame(columns=["model", "rating", "ci_low", "ci_high"])
    return rows[["model", "rating", "ci_low", "ci_high"]].reset_index(drop=True)
