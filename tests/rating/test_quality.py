"""Benchmark quality (arena.rating.quality) and the judge report sections write_outputs merges."""

from __future__ import annotations

import json
from pathlib import Path

from arena.rating import RatingSettings
from arena.records import Battle
from arena.rundir.load import load_run
from arena.rundir.outputs import write_outputs


def _battles() -> list[Battle]:
    rows = [("a", "b", "model_a", 3.0), ("b", "c", "model_a", 1.0), ("a", "c", "tie", 1.0), ("c", "a", "model_b", 1.0)]
    return [Battle(question_id=f"q{i}", model_a=x, model_b=y, winner=w, count=n)  # type: ignore[arg-type]
            for i, (x, y, w, n) in enumerate(rows)]


def test_report_extras_merged_into_judge_report(tmp_path: Path) -> None:
    extras = {"human_agreement": {"votes": 3, "agreement": 0.5}, "per_judge": [{"judge": "j", "calls": 1}]}
    out = write_outputs(tmp_path, battles=_battles(), judgments=[], answers={}, settings=RatingSettings(seed=0),
                        baseline=None, scores=None, report_extras=extras)
    written = json.loads((tmp_path / "judge_report.json").read_text())
    assert written["human_agreement"] == extras["human_agreement"] and written["per_judge"] == extras["per_judge"]
    assert written["judgments"] == 0 and out.report.model_extra is not None
    assert out.report.model_extra["human_agreement"]["votes"] == 3
    run = load_run(tmp_path)
    assert run.report is not None and run.report.model_extra is not None
    assert run.report.model_extra["per_judge"] == extras["per_judge"]


def test_no_extras_leaves_report_as_before(tmp_path: Path) -> None:
    write_outputs(tmp_path, battles=_battles(), judgments=[], answers={}, settings=RatingSettings(seed=0),
                  baseline=None, scores=None)
    written = json.loads((tmp_path / "judge_report.json").read_text())
    assert "human_agreement" not in written and written["judgments"] == 0


# ---------------------------------------------------------------------------------------------- quality

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from arena.rating import battles_frame  # noqa: E402
from arena.rating.quality import (  # noqa: E402
    benchmark_quality,
    fewest_removals,
    max_t_separation,
    order_probability,
    reference_agreement,
    separability,
    setup,
)


def _frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return battles_frame([{"question_id": q, "model_a": a, "model_b": b, "winner": w} for q, a, b, w in rows])


def test_max_t_one_pair_is_the_studentised_bootstrap() -> None:
    # Two models, differences d_r = 1 + e_r with e = -2..2 (sd of e known): max-t is |e|/sd, one pair.
    e = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    samples = np.stack([1.0 + e, np.zeros(5)], axis=1)
    sign, critical = max_t_separation(np.array([1.0, 0.0]), samples, confidence=0.5)
    sd = e.std(ddof=1)
    assert critical == pytest.approx(np.quantile(np.abs(e) / sd, 0.5))
    assert sign[0, 1] == (1 if critical * sd < 1.0 else 0) and sign[1, 0] == -sign[0, 1]


def test_max_t_is_stricter_than_one_pair_at_a_time() -> None:
    rng = np.random.default_rng(0)
    n, rounds = 30, 2000
    point = np.linspace(0, 3.2, n)
    samples = point + rng.normal(0, 0.5, (rounds, n))
    sign, critical = max_t_separation(point, samples, 0.95)
    assert critical > 1.96 * 1.05  # simultaneous: wider than a single 95% normal interval
    # adjacent models 0.11 apart with sd 0.7 of their difference are never separated; the extremes are
    assert sign[1, 0] == 0 and sign[n - 1, 0] == 1
    share = separability(sign)
    assert share is not None and 0 < share < 1


def test_separability_counts_pairs() -> None:
    sign = np.array([[0, 1, 1], [-1, 0, 0], [-1, 0, 0]])
    assert separability(sign) == pytest.approx(2 / 3)


def test_reference_agreement_and_brier_by_hand() -> None:
    models = ["a", "b", "c"]
    # ours: a>b separated, a>c separated the wrong way round relative to the reference, b,c not separated
    sign = np.array([[0, 1, -1], [-1, 0, 0], [1, 0, 0]])
    prob = np.array([[0.5, 0.9, 0.2], [0.1, 0.5, 0.6], [0.8, 0.4, 0.5]])
    ref = pd.DataFrame({"model": ["a", "b", "c"], "rating": [1100.0, 1000.0, 900.0],
                        "ci_low": [1090.0, 990.0, 890.0], "ci_high": [1110.0, 1010.0, 910.0]})
    out = reference_agreement(models, sign, prob, ref)
    # reference separates all three pairs, a>b, a>c, b>c: +1, -1, 0
    assert out["pairs_separated_by_reference"] == 3 and out["agreement"] == pytest.approx(0.0)
    assert (out["same_order"], out["opposite_order"], out["not_separated"]) == (1, 1, 1)
    assert out["brier"] == pytest.approx(((1 - 0.9) ** 2 + (1 - 0.2) ** 2 + (1 - 0.6) ** 2) / 3)
    # overlapping reference intervals for b, c: that pair is left out
    ref.loc[2, "ci_high"] = 995.0
    assert reference_agreement(models, sign, prob, ref)["pairs_separated_by_reference"] == 2


def test_order_probability_from_rounds() -> None:
    samples = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    p = order_probability(np.array([1.0, 0.0]), samples)
    assert p[0, 1] == pytest.approx((2 + 0.5) / 4) and p[1, 0] == pytest.approx(1.5 / 4)


def test_per_question_discrimination_ties_flips() -> None:
    f = _frame([("q1", "a", "b", "model_a"), ("q1", "b", "a", "model_b"),   # same winner both orders
                ("q2", "a", "b", "model_a"), ("q2", "b", "a", "model_a"),   # a flip
                ("q3", "a", "b", "tie"), ("q4", "a", "b", "model_a"), ("q5", "a", "b", "model_b")])
    q = {r["question_id"]: r for r in benchmark_quality(f, RatingSettings(bootstrap=0), fragility=False)["questions"]}
    assert q["q1"]["discrimination"] == 1.0 and q["q1"]["flip_rate"] == 0.0
    assert q["q2"]["discrimination"] == 0.0 and q["q2"]["flip_rate"] == 1.0
    assert q["q3"]["tie_rate"] == 1.0 and q["q3"]["discrimination"] == 0.0 and q["q3"]["flip_rate"] is None
    assert q["q5"]["discrimination"] == -1.0


def test_fragility_constructed_case() -> None:
    # a beats b 3-1 (BT: equal only at equal wins): 2 of a's wins must go; two of them share q1.
    f = _frame([("q1", "a", "b", "model_a"), ("q1", "b", "a", "model_b"), ("q2", "a", "b", "model_a"),
                ("q3", "a", "b", "model_b")])
    fr = benchmark_quality(f, RatingSettings(bootstrap=50, seed=0))["fragility"]
    assert fr["top"] == "a" and fr["battles_to_change_top"] == 2 and fr["questions_to_change_top"] == 1
    assert fr["loqo_rank_range"] == {"a": [1, 1], "b": [1, 2]}


def test_fragility_of_a_separated_pair_known_answer() -> None:
    # a 30-0 over c on single-battle questions, b ties both: removing a's wins one by one never makes c
    # overtake a while a keeps one win (BT with the ridge keeps a above), so all 30 must go.
    rows = [(f"q{k}", "a", "c", "model_a") for k in range(30)]
    rows += [(f"t{k}", "a", "b", "tie") for k in range(10)] + [(f"u{k}", "b", "c", "tie") for k in range(10)]
    f = _frame(rows)
    st = setup(f)
    a, c = st.enc.models.index("a"), st.enc.models.index("c")
    assert fewest_removals(st, a, c, None) == 30
    assert fewest_removals(st, a, c, st.questions()) == 30
    # Which pairs the max-t test separates depends on the bootstrap draw (b is close to both); a -> c is always
    # separated, so the cheapest separated pair costs at most its 30 (the closest pair below a, a -> b, costs 40:
    # picking only the closest separated pair below each model overstated the fragility).
    for seed in range(4):
        fr = benchmark_quality(f, RatingSettings(bootstrap=200, seed=seed))
        assert fr is not None and fr["separability"]["separated_pairs"] >= 1
        frag = fr["fragility"]
        assert frag["battles_to_change_separated_pair"] <= 30 and frag["questions_to_change_separated_pair"] <= 30
        if fr["separability"]["separated_pairs"] == 1:
            assert frag["battles_to_change_separated_pair_pair"] == ["a", "c"]


def test_quality_same_for_rows_and_counts() -> None:
    rows = [("q1", "a", "b", "model_a")] * 3 + [("q2", "b", "c", "model_a"), ("q3", "a", "c", "tie")]
    plain = _frame(rows)
    counted = battles_frame([{"question_id": "q1", "model_a": "a", "model_b": "b", "winner": "model_a", "count": 3},
                             {"question_id": "q2", "model_a": "b", "model_b": "c", "winner": "model_a"},
                             {"question_id": "q3", "model_a": "a", "model_b": "c", "winner": "tie"}])
    s = RatingSettings(bootstrap=100, seed=4)
    assert benchmark_quality(plain, s) == benchmark_quality(counted, s)


def test_judge_report_has_quality_section(tmp_path: Path) -> None:
    write_outputs(tmp_path, battles=_battles(), judgments=[], answers={}, settings=RatingSettings(bootstrap=50, seed=0),
                  baseline=None, scores=None)
    quality = json.loads((tmp_path / "judge_report.json").read_text())["quality"]
    assert quality["rounds"] == 50 and quality["separability"]["pairs"] == 3
    assert {q["question_id"] for q in quality["questions"]} == {"q0", "q1", "q2", "q3"}
    assert set(quality["fragility"]["loqo_rank_range"]) == {"a", "b", "c"}


def test_first_order_costs_of_all_pairs_match_the_per_pair_effects() -> None:
    """The vectorised first-order costs equal the gap over the largest single-unit closure of :func:`_effects`."""
    import numpy as np

    from arena.rating.quality import _cell_moves, _effects, _first_order_costs

    rng = np.random.default_rng(3)
    rows = [(f"q{k % 17}", a, b, w) for k, (a, b, w) in enumerate(zip(
        rng.choice(list("abcdef"), 300), rng.choice(list("abcdef"), 300),
        rng.choice(["model_a", "model_b", "tie"], 300, p=[0.5, 0.3, 0.2]), strict=True)) if a != b]
    st = setup(_frame(rows))
    pairs = [(x, y) for x in range(6) for y in range(6) if x != y]
    for units in (None, st.questions()):
        got = _first_order_costs(st, _cell_moves(st), pairs, units)
        for k, (x, y) in enumerate(pairs):
            eff = _effects(st, st.point, st.weight, x, y)
            per = eff if units is None else np.asarray(units @ eff).ravel()
            cap = st.weight if units is None else np.ones(len(per))
            gain = max(float((np.where(per < 0, -per, 0.0) / np.maximum(cap, 1e-12)).max()), 1e-300)
            np.testing.assert_allclose(got[k], (st.point[x] - st.point[y]) / gain, rtol=1e-8)
