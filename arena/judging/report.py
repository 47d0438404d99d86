"""The judge report: how far the judge can be trusted (``judge_report.json``).

Position bias (how often the answer shown first wins), order flips (a pair whose verdict changes when
the two answers swap places), length bias (how often the longer answer wins), tie rate, parse failures,
calls, tokens and cost. Pure functions over judgments and answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from arena.judging.battles import WINNER_OF
from arena.records import Answer, JudgeReport, Judgment


def _winner_model(j: Judgment) -> str | None:
    """Model that won this judgment, ``"tie"``, or None (error / single mode)."""
    if j.verdict is None:
        return None
    winner = WINNER_OF[j.verdict]
    return {"model_a": j.model_a, "model_b": j.model_b}.get(winner, "tie")


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def order_consistency(judgments: Sequence[Judgment]) -> dict[str, Any]:
    """Pairs judged in both orders: how many agree, how many flip."""
    by_game: dict[str, dict[bool, Judgment]] = defaultdict(dict)
    for j in judgments:
        if j.model_b is not None and j.error is None:
            by_game[j.game_key][j.swapped] = j
    pairs = flips = 0
    for orders in by_game.values():
        if len(orders) == 2:
            pairs += 1
            flips += _winner_model(orders[False]) != _winner_model(orders[True])
    return {"pairs_both_orders": pairs, "order_flips": flips, "flip_rate": _share(flips, pairs),
            "consistent_rate": _share(pairs - flips, pairs)}


def length_bias(judgments: Sequence[Judgment], answers: Mapping[str, Answer]) -> dict[str, Any]:
    """Share of decisive verdicts won by the longer answer (0.5 = no length preference)."""
    longer_wins = decisive = 0
    for j in judgments:
        if j.model_b is None or j.verdict in (None, "A=B"):
            continue
        a, b = answers.get(j.answer_a), answers.get(j.answer_b or "")
        if a is None or b is None or j.turn > min(len(a.turns), len(b.turns)):
            continue  # an answer without the judged turn (imported data) says nothing about length
        la, lb = len(a.turns[j.turn - 1]), len(b.turns[j.turn - 1])
        if la == lb:
            continue
        decisive += 1
        a_won = j.verdict is not None and j.verdict.startswith("A")
        longer_wins += a_won == (la > lb)
    return {"decisive_with_length_difference": decisive, "longer_answer_win_rate": _share(longer_wins, decisive)}


def judge_report(
    judgments: Sequence[Judgment],
    answers: Mapping[str, Answer],
    *,
    price_in_per_1m: float = 0.0,
    price_out_per_1m: float = 0.0,
) -> JudgeReport:
    """Everything ``judge_report.json`` holds, from the judgments of the current plan."""
    ok = [j for j in judgments if j.error is None]
    errors = Counter((j.error or "").split(":", 1)[0][:80] for j in judgments if j.error is not None)
    prompt_tokens = sum(j.prompt_tokens for j in judgments)
    completion_tokens = sum(j.completion_tokens for j in judgments)
    report: dict[str, Any] = {
        "judgments": len(judgments),
        "parse_failures": sum(1 for j in judgments if j.error is not None),
        "failure_kinds": dict(errors),
        "calls": len(judgments),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost_usd": round(prompt_tokens * price_in_per_1m / 1e6 + completion_tokens * price_out_per_1m / 1e6, 6),
        "judges": sorted({j.judge for j in judgments}),
        "prompt_sets": sorted({f"{j.prompt_set}@{j.prompt_version}" for j in judgments}),
        "endpoint_faults": dict(Counter(f for j in judgments for f in j.faults)),
        "truncated_answers": sum(1 for j in judgments if any("truncated" in n for n in j.notes)),
    }
    pair = [j for j in ok if j.model_b is not None]
    if pair:
        decisive = [j for j in pair if j.verdict != "A=B"]
        first_wins = sum(1 for j in decisive if j.verdict is not None and j.verdict.startswith("A"))
        report |= {
            "mode": "pairwise",
            "verdicts": dict(Counter(j.verdict for j in pair)),
            "tie_rate": _share(len(pair) - len(decisive), len(pair)),
            "first_position_win_rate": _share(first_wins, len(decisive)),
            "strong_verdict_rate": _share(sum(1 for j in pair if j.verdict and ">>" in j.verdict), len(pair)),
            **order_consistency(pair),
            **length_bias(pair, answers),
        }
    scored = [j for j in ok if j.score is not None]
    if scored:
        report |= {
            "mode": "single",
            "score_distribution": {str(k): v for k, v in sorted(Counter(j.score for j in scored).items())},
            "mean_score": round(sum(j.score for j in scored if j.score is not None) / len(scored), 4),
        }
    return JudgeReport.model_validate(report)


def format_report(report: JudgeReport | Mapping[str, Any]) -> str:
    """A few lines for the terminal (``report``: a record, or a ``judge_report.json`` object)."""
    report = report if isinstance(report, JudgeReport) else JudgeReport.model_validate(report)
    lines = [f"judge calls {report.calls}, parse failures {report.parse_failures}, "
             f"tokens {report.prompt_tokens} in / {report.completion_tokens} out"
             + (f", cost ${report.cost_usd:.4f}" if report.cost_usd else "")]
    if report.mode == "pairwise":
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"
        lines.append(
            f"position bias: first answer wins {pct(report.first_position_win_rate)} of decisive verdicts; "
            f"order flips {report.order_flips}/{report.pairs_both_orders} ({pct(report.flip_rate)}); "
            f"longer answer wins {pct(report.longer_answer_win_rate)}; ties {pct(report.tie_rate)}"
        )
    if report.endpoint_faults:
        lines.append("endpoint faults (retried or final): "
                     + ", ".join(f"{k} x{v}" for k, v in sorted(report.endpoint_faults.items())))
    if report.failure_kinds:
        lines.append("failures: " + ", ".join(f"{k} x{v}" for k, v in report.failure_kinds.items()))
    return "\n".join(lines)
