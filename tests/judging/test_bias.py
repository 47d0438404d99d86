"""The judge report on hand-made judgments: flips, first-position win rate, longer-answer win rate."""

from __future__ import annotations

import pytest

from arena.judging.report import format_report, judge_report, length_bias, order_consistency
from arena.records import Answer, Judgment


def _answer(key: str, text: str) -> Answer:
    return Answer(key=key, question_id="q", model=key, turns=[text])


ANSWERS = {"long": _answer("long", "x" * 100), "short": _answer("short", "y" * 10)}


def _j(game: str, a: str, b: str, verdict: str | None, swapped: bool, error: str | None = None) -> Judgment:
    return Judgment(key=f"{game}-{swapped}", game_key=game, mode="pairwise-all", question_id="q", model_a=a, model_b=b,
                    answer_a=a, answer_b=b, swapped=swapped, judge="j", prompt_set="s", prompt_name="p",
                    prompt_version="1", verdict=verdict, error=error, prompt_tokens=10, completion_tokens=2)  # type: ignore[arg-type]


JUDGMENTS = [
    # g1: consistent, long wins in both orders
    _j("g1", "long", "short", "A>B", False), _j("g1", "short", "long", "B>A", True),
    # g2: flip: position A wins both times
    _j("g2", "long", "short", "A>B", False), _j("g2", "short", "long", "A>B", True),
    # g3: tie then decisive: a flip
    _j("g3", "long", "short", "A=B", False), _j("g3", "short", "long", "B>>A", True),
    # g4: one order errored: not a pair
    _j("g4", "long", "short", "B>A", False), _j("g4", "short", "long", None, True, error="no verdict"),
]


def test_order_flips() -> None:
    oc = order_consistency(JUDGMENTS)
    assert oc["pairs_both_orders"] == 3
    assert oc["order_flips"] == 2
    assert oc["flip_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert oc["consistent_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_length_bias() -> None:
    lb = length_bias([j for j in JUDGMENTS if j.error is None], ANSWERS)
    # decisive: g1 x2 (long), g2 fwd (long), g2 rev (short), g3 rev (long), g4 fwd (short)
    assert lb["decisive_with_length_difference"] == 6
    assert lb["longer_answer_win_rate"] == pytest.approx(4 / 6, abs=1e-4)


def test_length_bias_skips_a_turn_the_answers_lack_and_turn_0_is_no_turn() -> None:
    """A judgment of turn 2 on one-turn answers (imported data) crashed the report with an IndexError; turn 0
    read the last turn (index -1). The first is left out of the length statistic; the second never validates."""
    second = _j("g5", "long", "short", "A>B", False).model_copy(update={"turn": 2})
    lb = length_bias([j for j in JUDGMENTS if j.error is None] + [second], ANSWERS)
    assert lb["decisive_with_length_difference"] == 6
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Judgment.model_validate({**_j("g6", "long", "short", "A>B", False).model_dump(), "turn": 0})


def test_report() -> None:
    r = judge_report(JUDGMENTS, ANSWERS, price_in_per_1m=1.0, price_out_per_1m=2.0)
    assert r.judgments == 8 and r.parse_failures == 1 and r.failure_kinds == {"no verdict": 1}
    # decisive ok judgments: A>B, B>A, A>B, A>B, B>>A, B>A -> first position wins 3 of 6
    assert r.first_position_win_rate == 0.5
    assert r.tie_rate == pytest.approx(1 / 7, abs=1e-4)
    assert r.order_flips == 2
    assert r.cost_usd == pytest.approx((80 * 1.0 + 16 * 2.0) / 1e6)
    text = format_report(r)
    assert "first answer wins 50.0%" in text and "order flips 2/3" in text and "no verdict x1" in text


def test_all_first_position() -> None:
    js = [_j(f"g{i}", "long", "short", "A>B", i % 2 == 1) for i in range(6)]
    assert judge_report(js, ANSWERS).first_position_win_rate == 1.0


def test_report_file_keeps_its_sections() -> None:
    """judge_report.json has the pairwise section only for pairwise judgments, as before the record."""
    pair = judge_report([_j("g1", "long", "short", "A>B", False)], ANSWERS).model_dump(mode="json")
    assert pair["mode"] == "pairwise" and "verdicts" in pair and "mean_score" not in pair
    empty = judge_report([], ANSWERS).model_dump(mode="json")
    assert "mode" not in empty and "verdicts" not in empty and empty["calls"] == 0
