"""The judge page: the judge report, position bias per model, single-mode scores, and a jury's section."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from arena.browse.battles import _answer
from arena.browse.data import RunData
from arena.browse.leaderboard import _scores_frame, rating_settings
from arena.records import WINNERS, JudgeReport

log = logging.getLogger(__name__)


def judge_summary(data: RunData) -> tuple[JudgeReport, str]:
    """The judge report: ``judge_report.json``, else recomputed from judgments, else estimated from battles.

    The recomputed report is what :func:`arena.rundir.outputs.write_outputs` writes for the same files: the
    judgments' report plus, with battles, the ``quality`` section (:func:`quality_section` with the run's
    rating settings). Sections the run adds from elsewhere (a jury, people's votes) are not recomputed.

    Returns:
        ``(report, how)``: the report record (:func:`arena.judging.report.judge_report`) and where it came from.
    """
    if data.judge_report is not None:
        return data.judge_report, "judge_report.json as written by the run"
    if data.run is not None and not data.judgments.empty:
        from arena.judging.report import judge_report

        judgments = data.run.judgments  # validated here, on first use
        if data.run.judgment_problems:  # judgments of another version: do not report on a subset
            return battles_bias(data.table), f"estimated from the battles (judgments.jsonl unreadable: " \
                                             f"{data.run.judgment_problems[0]})"
        report = judge_report(judgments, data.run.answers)
        quality = quality_section(data)
        if quality is not None:
            report = JudgeReport.model_validate({**report.model_dump(), "quality": quality})
        return report, "recomputed here from judgments.jsonl and battles.jsonl (judge_report.json is missing)"
    return battles_bias(data.table), "estimated from the battles (no judgments in this source)"


def quality_section(data: RunData) -> dict[str, Any] | None:
    """The report's ``quality`` section as the run writes it: :func:`arena.rating.quality.benchmark_quality`
    of the battles with the run's rating settings (:func:`~arena.browse.leaderboard.rating_settings`).

    None without battles or with fewer than two models.
    """
    if data.battles.empty:
        return None
    from arena.rating.quality import benchmark_quality
    from arena.rating.rows import jsonable

    quality = benchmark_quality(data.battles, rating_settings(data))
    return None if quality is None else dict(jsonable(quality))


def battles_bias(table: pd.DataFrame) -> JudgeReport:
    """Position bias, order flips, ties and length bias from a battle table alone."""
    t = table[table["error"].isna()] if not table.empty else table
    if t.empty:
        return JudgeReport()
    decisive = t[t["winner"].isin(["model_a", "model_b"])]
    pairs = t[t["game_key"].astype(bool)].groupby("game_key")["swapped"].nunique()
    both = set(pairs.index[pairs > 1])
    flips = t.loc[t["flip"], "game_key"].nunique()
    longer = decisive.dropna(subset=["len_a", "len_b"])
    longer = longer[longer["len_a"] != longer["len_b"]]
    longer_wins = ((longer["winner"] == "model_a") == (longer["len_a"] > longer["len_b"])).sum()

    def share(a: float, b: float) -> float | None:
        return round(float(a) / float(b), 4) if b else None

    return JudgeReport.model_validate({
        "judgments": len(table),
        "parse_failures": int(table["error"].notna().sum()),
        "calls": len(table),
        "mode": "pairwise",
        "verdicts": {str(k): int(v) for k, v in t["verdict"].value_counts().items()},
        "tie_rate": share(len(t) - len(decisive), len(t)),
        "first_position_win_rate": share((decisive["winner"] == "model_a").sum(), len(decisive)),
        "pairs_both_orders": len(both),
        "order_flips": int(flips),
        "flip_rate": share(flips, len(both)),
        "consistent_rate": share(len(both) - flips, len(both)),
        "decisive_with_length_difference": len(longer),
        "longer_answer_win_rate": share(longer_wins, len(longer)),
    })


def position_bias_by_model(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: decisive battles in first and second position and the share won in each."""
    t = table[table["winner"].isin(["model_a", "model_b"])]
    if t.empty:
        return pd.DataFrame(columns=["model", "position", "battles", "win_rate"])
    first = t.groupby("model_a")["winner"].agg(battles="size", win_rate=lambda w: (w == "model_a").mean())
    second = t.groupby("model_b")["winner"].agg(battles="size", win_rate=lambda w: (w == "model_b").mean())
    first = first.rename_axis("model").reset_index().assign(position="shown first")
    second = second.rename_axis("model").reset_index().assign(position="shown second")
    return pd.concat([first, second], ignore_index=True)[["model", "position", "battles", "win_rate"]]


def single_scores(data: RunData) -> pd.DataFrame:
    """Mean single-answer score per model and category: long frame ``model, category, score, n``."""
    s = _scores_frame(data)
    if s is None:
        return pd.DataFrame(columns=["model", "category", "score", "n"])
    g = s.groupby(["model", "category"])["score"].agg(score="mean", n="size").reset_index()
    return g


def single_scores_table(data: RunData) -> pd.DataFrame:
    """Models x categories of mean scores, with an ``overall`` column, best overall first."""
    s = _scores_frame(data)
    if s is None:
        return pd.DataFrame()
    wide = s.pivot_table(index="model", columns="category", values="score", aggfunc="mean")
    wide["overall"] = s.groupby("model")["score"].mean()
    return wide.sort_values("overall", ascending=False).round(2)


def single_reasons(data: RunData, model: str, question_id: str | None = None) -> pd.DataFrame:
    """The judge's replies for one model's answers: ``question_id, turn, category, score, output, error, answer``."""
    j = data.judgments
    cols = ["question_id", "turn", "category", "score", "output", "error", "answer_a"]
    if j.empty or "score" not in j.columns:
        return pd.DataFrame(columns=cols)
    s = j[(j["model_a"] == model) & (j["model_b"].isna() if "model_b" in j.columns else True)]
    if question_id is not None:
        s = s[s["question_id"].astype(str) == str(question_id)]
    s = s.reindex(columns=cols)
    return s.sort_values(["question_id", "turn"], kind="stable").reset_index(drop=True)


def answer_turns(data: RunData, key: str) -> list[str]:
    """The turns of one answer by key (``[]`` when unknown)."""
    a = _answer(data, key)
    return a["turns"] if a else []


def winner_labels() -> tuple[str, ...]:
    """FastChat winner labels plus ``error`` (a judgment with no parsable verdict)."""
    return (*WINNERS, "error")


def jury_section(report: JudgeReport) -> dict[str, Any] | None:
    """The report's ``jury`` section (see :func:`arena.judging.jury_report.jury_report`), None when absent."""
    section = (report.model_extra or {}).get("jury")
    return section if isinstance(section, dict) and section.get("judges") else None


def jury_bias_table(section: dict[str, Any]) -> pd.DataFrame:
    """One row per judge: calls, parse failures, first-position and longer-answer win rates, flip and tie rates."""
    cols = {"judgments": "judgments", "parse_failures": "parse failures",
            "first_position_win_rate": "first position wins", "longer_answer_win_rate": "longer answer wins",
            "flip_rate": "order flips", "tie_rate": "ties"}
    per = section.get("per_judge") or {}
    rows = [{"judge": name, **{label: (per.get(name) or {}).get(key) for key, label in cols.items()}}
            for name in section["judges"]]
    return pd.DataFrame(rows, columns=["judge", *cols.values()])


def jury_kappa_matrix(section: dict[str, Any]) -> pd.DataFrame:
    """Judges x judges of pairwise Cohen's kappa (1 on the diagonal; NaN where a pair has no shared games)."""
    names = list(section["judges"])
    out = pd.DataFrame(np.nan, index=pd.Index(names, name="judge"), columns=names)
    for name in names:
        out.loc[name, name] = 1.0
    for pair in ((section.get("agreement") or {}).get("pairwise") or {}).values():
        x, y = pair["judges"]
        if x in out.index and y in out.index and pair.get("cohen_kappa") is not None:
            out.loc[x, y] = out.loc[y, x] = float(pair["cohen_kappa"])
    return out


def jury_agreement_table(section: dict[str, Any]) -> pd.DataFrame:
    """One row per pair of judges: games judged by both, raw agreement and Cohen's kappa."""
    pairs = ((section.get("agreement") or {}).get("pairwise") or {}).values()
    return pd.DataFrame([{"judges": " vs ".join(p["judges"]), "games": p.get("games"), "agreement": p.get("agreement"),
                          "Cohen's kappa": p.get("cohen_kappa")} for p in pairs],
                        columns=["judges", "games", "agreement", "Cohen's kappa"])


def jury_self_preference_table(section: dict[str, Any]) -> pd.DataFrame:
    """One row per judge and own model: its win rate under that judge, under the others, and the difference."""
    rows = [{"judge": judge, "own model": model, "win rate (this judge)": v.get("win_rate"),
             "win rate (other judges)": v.get("others_win_rate"), "difference": v.get("difference")}
            for judge, pref in (section.get("self_preference") or {}).items()
            for model, v in (pref.get("per_model") or {}).items()]
    return pd.DataFrame(rows, columns=["judge", "own model", "win rate (this judge)", "win rate (other judges)",
                                       "difference"])
