"""People and the judge on the same games: human votes as battles, and how far the judge agrees with them.

:func:`~arena.records.votes.votes_to_battles` turns blind votes (``human_votes.jsonl``, :class:`~arena.records.HumanVote`) into
battle rows that every rater reads; :func:`judge_vs_people` compares the judge's verdicts with the votes
on the games both judged. Each annotator's vote on a game counts once (:func:`~arena.records.votes.latest_votes`:
their latest). Every judge call is compared with every vote that counts on its game (a game judged in both orders
and voted on by two people gives four comparisons), as LLMBar averages its two orders. Outcomes are
compared in the pair's sorted order (:func:`~arena.judging.agreement.canonical_outcome`), ``tie`` and
``tie (bothbad)`` both count as a tie. Intervals are percentile bootstraps over games (seeded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.judging.agreement import agreement_rate, canonical_outcome, cohen_kappa, pair_of
from arena.judging.battles import WINNER_OF, build_battles
from arena.records import Answer, HumanVote, Judgment
from arena.records.votes import latest_votes, votes_to_battles

CONFIDENCE = 0.95


@dataclass(frozen=True)
class _Comparison:
    game: str
    category: str
    judge_swapped: bool
    judge: str
    people: str
    judge_first_won: bool | None
    """The answer the judge saw first won (None: a tie)."""


def _judge_outcome(j: Judgment) -> str:
    assert j.verdict is not None and j.model_b is not None
    return canonical_outcome(j.model_a, j.model_b, WINNER_OF[j.verdict])


def _vote_first_won(v: HumanVote) -> bool | None:
    return None if v.label not in ("A", "B") else v.label == "A"


def _match(judgments: Sequence[Judgment], votes: Sequence[HumanVote]) -> tuple[list[_Comparison], dict[str, list[HumanVote]]]:
    """Every (judgment, vote) pair on the same game; the matched votes by game."""
    by_game: dict[str, list[Judgment]] = defaultdict(list)
    by_pair: dict[tuple[str, int, tuple[str, str]], str] = {}
    for j in judgments:
        if j.model_b is None or j.verdict is None or j.error is not None:
            continue
        by_game[j.game_key].append(j)
        by_pair.setdefault((j.question_id, j.turn, pair_of(j.model_a, j.model_b)), j.game_key)
    comparisons: list[_Comparison] = []
    matched: dict[str, list[HumanVote]] = defaultdict(list)
    for v in votes:
        if v.winner is None:
            continue
        game = v.game_key if v.game_key in by_game else by_pair.get((v.question_id, v.turn, pair_of(v.model_a, v.model_b)))
        if game is None:
            continue
        matched[game].append(v)
        people = canonical_outcome(v.model_a, v.model_b, v.winner)
        for j in by_game[game]:
            assert j.verdict is not None
            comparisons.append(_Comparison(game=game, category=j.category, judge_swapped=j.swapped,
                                           judge=_judge_outcome(j), people=people,
                                           judge_first_won=None if j.verdict == "A=B" else j.verdict.startswith("A")))
    return comparisons, matched


def _agreement(cs: Sequence[_Comparison]) -> dict[str, float | None]:
    judge, people = [c.judge for c in cs], [c.people for c in cs]
    decisive = [(c.judge, c.people) for c in cs if c.judge != "tie" and c.people != "tie"]
    return {
        "agreement_with_ties": agreement_rate(judge, people),
        "agreement_without_ties": agreement_rate([d[0] for d in decisive], [d[1] for d in decisive]),
        "cohen_kappa": cohen_kappa(judge, people),
    }


def _first_wins(flags: Sequence[bool | None]) -> float | None:
    decisive = [f for f in flags if f is not None]
    return sum(decisive) / len(decisive) if decisive else None


def _position(cs: Sequence[_Comparison], votes: Mapping[str, Sequence[HumanVote]]) -> dict[str, float | None]:
    # Each judgment and each vote counts once, however many comparisons it is in.
    seen: dict[tuple[str, bool], bool | None] = {(c.game, c.judge_swapped): c.judge_first_won for c in cs}
    judge = _first_wins(list(seen.values()))
    people = _first_wins([_vote_first_won(v) for g in {c.game for c in cs} for v in votes.get(g, [])])
    return {"judge_first_position_win_rate": judge, "people_first_position_win_rate": people,
            "difference": None if judge is None or people is None else judge - people}


def _interval(samples: list[float | None]) -> list[float] | None:
    values = [s for s in samples if s is not None]
    if not values:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


def _with_intervals(stat: Callable[[Sequence[_Comparison]], dict[str, float | None]], cs: Sequence[_Comparison],
                    rounds: int, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """``stat`` of the comparisons, each value with a bootstrap interval over games."""
    point = stat(cs)
    by_game: dict[str, list[_Comparison]] = defaultdict(list)
    for c in cs:
        by_game[c.game].append(c)
    games = sorted(by_game)
    samples: dict[str, list[float | None]] = {k: [] for k in point}
    for _ in range(rounds if games else 0):
        drawn = rng.integers(0, len(games), len(games))
        resampled = [c for i in drawn for c in by_game[games[i]]]
        for k, v in stat(resampled).items():
            samples[k].append(v)
    return {k: {"value": v, "ci": _interval(samples[k]) if rounds else None} for k, v in point.items()}


def _rank_correlation(judgments: Sequence[Judgment], votes: Sequence[HumanVote], answers: Mapping[str, Answer],
                      bootstrap: int, seed: int) -> dict[str, Any]:
    """The judge's leaderboard (all its pairwise judgments) against the people's, via :func:`arena.rating.compare`."""
    import pandas as pd

    from arena.errors import DataError
    from arena.rating import RatingSettings, battles_frame, compute_leaderboard
    from arena.rating.compare import Side, compare

    settings = RatingSettings(bootstrap=bootstrap, seed=seed)
    sides = []
    for source, battles in (("judge", build_battles(judgments, answers, 1.0)), ("people", votes_to_battles(votes))):
        if not battles:
            return {"skipped": f"no {source} battles to rate"}
        frame = battles_frame(battles)
        rows = compute_leaderboard(frame, settings).rows
        board = pd.DataFrame(rows)[["model", "rating", "ci_low", "ci_high", "rank"]]
        sides.append(Side(source, board, battles=frame, settings=settings))
    try:
        result = compare(sides[0], sides[1], bootstrap=bootstrap, seed=seed)
    except DataError as exc:
        return {"skipped": str(exc)}
    return {k: result[k] for k in ("models", "correlations", "agreement", "bootstrap", "only_in_a", "only_in_b")}


def judge_vs_people(judgments: Sequence[Judgment], votes: Sequence[HumanVote], answers: Mapping[str, Answer],
                    *, bootstrap: int = 200, seed: int = 0) -> dict[str, Any]:
    """How far the judge agrees with people on the games both judged.

    Args:
        judgments: the judge's judgments (single-mode and failed ones are ignored).
        votes: human votes as read, oldest first (skips are ignored; an annotator's repeated vote on a game is
            replaced by their latest, :func:`~arena.records.votes.latest_votes`); a vote meets the judgments of
            its ``game_key``, or of the same question, turn and pair of models when no judgment has that key.
        answers: every answer by key (for the judge's battles in the rank correlation).
        bootstrap: rounds of every bootstrap (0: no intervals).
        seed: seed of every bootstrap.

    Returns:
        ``votes`` (as given), ``replaced_votes`` (repeats dropped by
        :func:`~arena.records.votes.latest_votes`), ``skipped_votes``, ``matched_votes`` (counted votes on a
        judged game), ``games``, ``comparisons``; ``agreement`` (with and
        without ties, Cohen's kappa over first/second/tie), ``per_category`` and ``per_position`` (the
        judge's order: ``original``/``swapped``) with the same three; ``position_bias`` (share of decisive
        verdicts won by the answer shown first, for the judge and for people, and their difference);
        ``rank_correlation`` (:func:`arena.rating.compare` of the judge's leaderboard with the people's, or
        ``skipped`` with the reason). Each statistic is ``{"value", "ci"}`` (95% percentile bootstrap over
        games).
    """
    rng = np.random.default_rng(seed)
    counted = latest_votes(votes)
    comparisons, matched = _match(judgments, counted)
    skipped = sum(1 for v in votes if v.winner is None)
    out: dict[str, Any] = {
        "votes": len(votes),
        "replaced_votes": len(votes) - len(counted),
        "skipped_votes": skipped,
        "matched_votes": sum(len(v) for v in matched.values()),
        "games": len({c.game for c in comparisons}),
        "comparisons": len(comparisons),
        "bootstrap": {"rounds": bootstrap, "seed": seed, "confidence": CONFIDENCE, "unit": "game"},
        "agreement": _with_intervals(_agreement, comparisons, bootstrap, rng),
        "per_category": {
            cat: _with_intervals(_agreement, [c for c in comparisons if c.category == cat], bootstrap, rng)
            for cat in sorted({c.category for c in comparisons})
        },
        "per_position": {
            name: _with_intervals(_agreement, [c for c in comparisons if c.judge_swapped == swapped], bootstrap, rng)
            for name, swapped in (("original", False), ("swapped", True))
            if any(c.judge_swapped == swapped for c in comparisons)
        },
        "position_bias": _with_intervals(lambda cs: _position(cs, matched), comparisons, bootstrap, rng),
    }
    out["rank_correlation"] = _rank_correlation(judgments, counted, answers, bootstrap, seed)
    return out


def format_people(people: Mapping[str, Any]) -> str:
    """A few lines for the terminal from the ``people`` section of ``judge_report.json``."""
    def pct(stat: Mapping[str, Any]) -> str:
        v, ci = stat.get("value"), stat.get("ci")
        if v is None:
            return "n/a"
        return f"{100 * v:.1f}%" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")

    def num(stat: Mapping[str, Any]) -> str:
        v, ci = stat.get("value"), stat.get("ci")
        return "n/a" if v is None else f"{v:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    a = people["agreement"]
    replaced = people.get("replaced_votes") or 0  # absent from reports of earlier versions
    lines = [f"judge vs people: {people['matched_votes']} votes on {people['games']} games "
             f"({people['skipped_votes']} skipped" + (f", {replaced} repeats replaced by a later vote" if replaced else "")
             + f"): agreement {pct(a['agreement_with_ties'])} with ties, "
             f"{pct(a['agreement_without_ties'])} without; Cohen's kappa {num(a['cohen_kappa'])}"]
    pb = people["position_bias"]
    lines.append(f"  first answer wins: judge {pct(pb['judge_first_position_win_rate'])}, "
                 f"people {pct(pb['people_first_position_win_rate'])}")
    rc = people.get("rank_correlation") or {}
    if "correlations" in rc:
        rho = rc["correlations"]["rating"].get("spearman")
        ci = ((rc.get("bootstrap") or {}).get("intervals") or {}).get("rating", {}).get("spearman")
        shown = "n/a" if rho is None else f"{rho:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and ci[0] is not None else "")
        lines.append(f"  leaderboards (judge vs people, {rc['models']} models): Spearman {shown}")
    elif "skipped" in rc:
        lines.append(f"  leaderboards not compared: {rc['skipped']}")
    return "\n".join(lines)
