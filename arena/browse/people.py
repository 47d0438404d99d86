"""People in the browser: leaderboards from the judge, the human votes or both, and judge vs people.

The votes that count (:func:`arena.records.votes.latest_votes`: each annotator's latest vote on a game) become
battles with :func:`arena.records.votes.votes_to_battles` and are rated with the run's own settings
(:func:`arena.browse.leaderboard.rating_settings`); the agreement numbers are
:func:`arena.judging.votes.judge_vs_people`, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from arena.browse.data import RunData
from arena.browse.leaderboard import describe_settings, leaderboard_rows, rating_settings
from arena.records import HumanVote

Who = Literal["judge", "humans", "both"]
WHO: tuple[str, ...] = ("judge", "humans", "both")


def human_battles(votes: Sequence[HumanVote]) -> pd.DataFrame:
    """The votes that count (:func:`~arena.records.votes.latest_votes`) as a validated battles frame (skips
    dropped); empty when no vote decides anything."""
    from arena.rating import validate_frame
    from arena.records.votes import votes_to_battles

    rows = [b.model_dump() for b in votes_to_battles(votes)]
    if not rows:
        return pd.DataFrame()
    return validate_frame(pd.DataFrame(rows), "human_votes.jsonl")


def leaderboard_for(data: RunData, who: str, votes: Sequence[HumanVote], category: str | None = None,
                    bootstrap: int | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Leaderboard rows rated from the judge's battles, the people's votes, or both pooled.

    ``judge`` is :func:`arena.browse.leaderboard_rows`; ``humans`` and ``both`` rate the vote battles
    (:func:`human_battles`: each annotator's vote on a game once; with the judge's battles for ``both``) with the
    source's rating settings, so the three differ only in their battles. When an annotator voted on a game more
    than once, a warning says how many repeats their latest vote replaced.

    Returns:
        ``(rows, warnings, how)`` as :func:`arena.browse.leaderboard_rows`.
    """
    from arena.rating import compute_leaderboard, validate_frame
    from arena.records.votes import repeat_notes

    if who not in WHO:
        raise ValueError(f"who must be one of {', '.join(WHO)}, not {who!r}")
    if who == "judge":
        return leaderboard_rows(data, category, bootstrap)
    people = human_battles(votes)
    parts = [people] if who == "humans" else [data.battles, people]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(), [], "no votes yet"
    frame = validate_frame(pd.concat(parts, ignore_index=True), f"{who} battles")
    if category is not None:
        frame = frame[frame["category"] == category]
    if frame.empty:
        return pd.DataFrame(), [], "no battles in this selection"
    settings = rating_settings(data, bootstrap)
    result = compute_leaderboard(frame, settings)
    n_people = int((frame["judge"] == "human").sum()) if "judge" in frame.columns else len(frame)
    what = f"{n_people:,} human votes" + (f" and {len(frame) - n_people:,} judge battles" if who == "both" else "")
    return (pd.DataFrame(result.rows), [*repeat_notes(votes), *result.warnings],
            f"computed here from {what} ({describe_settings(settings)})")


def people_report(data: RunData, votes: Sequence[HumanVote], bootstrap: int = 200) -> dict[str, Any] | None:
    """:func:`arena.judging.votes.judge_vs_people` on the run's judgments and these votes (None: not a run dir)."""
    from arena.judging.votes import judge_vs_people

    if data.run is None:
        return None
    seed = data.manifest.seed if data.manifest is not None else 0
    return judge_vs_people(data.run.judgments, votes, data.run.answers, bootstrap=bootstrap, seed=int(seed or 0))


def agreement_frame(people: dict[str, Any]) -> pd.DataFrame:
    """Rows ``group, measure, value, ci_low, ci_high`` of the overall, per-category and per-position agreement."""
    groups: list[tuple[str, dict[str, Any]]] = [("all games", people.get("agreement") or {})]
    groups += [(f"category {k}", v) for k, v in (people.get("per_category") or {}).items()]
    groups += [(f"judge order {k}", v) for k, v in (people.get("per_position") or {}).items()]
    rows = []
    for group, stats in groups:
        for measure, stat in stats.items():
            ci = stat.get("ci") or [None, None]
            rows.append({"group": group, "measure": measure.replace("_", " "), "value": stat.get("value"),
                         "ci_low": ci[0], "ci_high": ci[1]})
    return pd.DataFrame(rows, columns=["group", "measure", "value", "ci_low", "ci_high"])
