"""The ``jury`` section of ``judge_report.json``: each judge's biases, how far the judges agree, self-preference.

Built by the pipeline when ``judge:`` is a list (see :mod:`arena.judging.jury` for the statistics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from arena.judging.jury import inter_judge_agreement, self_preference
from arena.judging.report import judge_report
from arena.records import Answer, Battle, Judgment

PER_JUDGE_FIELDS: tuple[str, ...] = (
    "judgments", "parse_failures", "calls", "prompt_tokens", "completion_tokens", "cost_usd", "tie_rate",
    "first_position_win_rate", "strong_verdict_rate", "pairs_both_orders", "order_flips", "flip_rate",
    "longer_answer_win_rate", "decisive_with_length_difference", "mean_score")
"""What the jury section keeps of each judge's own :class:`~arena.records.JudgeReport`."""


def jury_report(per_judge: Mapping[str, Sequence[Judgment]], battles: Sequence[Battle], answers: Mapping[str, Answer],
                *, how: str, own: Mapping[str, set[str]], settings: Any = None,
                prices: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The jury section.

    Args:
        per_judge: each judge's judgments of the current plan, by judge name.
        battles: every judge's battles, each carrying its judge.
        answers: every answer by key (length bias).
        how: ``rating.jury`` (what the main leaderboard rates).
        own: judge -> its own candidate models (self-preference).
        settings: rating settings for each judge's own leaderboard (None: no leaderboards).
        prices: judge -> its :class:`~arena.config.Prices` or None.

    Returns:
        ``how``, ``judges`` (names in order), ``per_judge`` (position and length bias, flips, ties,
        failures, tokens and cost of each), ``agreement`` (pairwise Cohen's kappa, Fleiss' kappa),
        ``self_preference`` and ``leaderboards`` (each judge's rows: model, rating, interval, rank).
    """
    section: dict[str, Any] = {"how": how, "judges": list(per_judge), "per_judge": {}}
    for name, judgments in per_judge.items():
        p = (prices or {}).get(name)
        report = judge_report(judgments, answers, price_in_per_1m=p.input_per_1m if p else 0.0,
                              price_out_per_1m=p.output_per_1m if p else 0.0).model_dump()
        section["per_judge"][name] = {k: report[k] for k in PER_JUDGE_FIELDS if k in report}
    section["agreement"] = inter_judge_agreement(battles)
    section["self_preference"] = self_preference(battles, own)
    if settings is not None:
        section["leaderboards"] = _leaderboards(battles, list(per_judge), settings)
    return section


def _leaderboards(battles: Sequence[Battle], names: list[str], settings: Any) -> dict[str, list[dict[str, Any]]]:
    from arena.rating import battles_frame, compute_leaderboard

    out = {}
    for name in names:
        mine = [b for b in battles if b.judge == name]
        if not mine:
            continue
        rows = compute_leaderboard(battles_frame(mine), settings).rows
        out[name] = [{k: r.get(k) for k in ("model", "rating", "ci_low", "ci_high", "rank")} for r in rows]
    return out


def format_jury(section: Mapping[str, Any]) -> str:
    """A few lines for the terminal from the ``jury`` section."""
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    def num(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    lines = [f"jury of {len(section['judges'])} judges; leaderboard: {section['how']}"]
    for name, r in section["per_judge"].items():
        lines.append(f"  {name}: first answer wins {pct(r.get('first_position_win_rate'))}, longer answer wins "
                     f"{pct(r.get('longer_answer_win_rate'))}, order flips {pct(r.get('flip_rate'))}, ties "
                     f"{pct(r.get('tie_rate'))}, parse failures {r.get('parse_failures', 0)}")
    agreement = section["agreement"]
    for pair in agreement["pairwise"].values():
        lines.append(f"  {' vs '.join(pair['judges'])}: agree on {pct(pair['agreement'])} of {pair['games']} games, "
                     f"Cohen's kappa {num(pair['cohen_kappa'])}")
    fleiss = agreement["fleiss_kappa"]
    lines.append(f"  Fleiss' kappa {num(fleiss['value'])} over {fleiss['games']} games")
    for name, pref in section.get("self_preference", {}).items():
        lines.append(f"  self-preference of {name} ({', '.join(pref['own_models'])}): win rate "
                     f"{100 * pref['mean_difference']:+.1f} points above the other judges'")
    return "\n".join(lines)
