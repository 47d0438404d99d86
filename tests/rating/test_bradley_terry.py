"""Bradley-Terry: hand-checkable cases, recovery, agreement with an independent scipy fit, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from arena.errors import DataError, UserError
from arena.rating import (
    A_WINS,
    B_WINS,
    TIE,
    RatingSettings,
    battles_frame,
    bradley_terry,
    compute_leaderboard,
    frame_notes,
    to_ratings,
)

SCIPY_TOL = 1e-4
SCALE = 400 / np.log(10)


def _synthetic(true: np.ndarray, n_battles: int, rng: np.random.Generator, tie_rate: float = 0.0):
    n = len(true)
    a = rng.integers(0, n, n_battles)
    b = (a + rng.integers(1, n, n_battles)) % n
    p = 1 / (1 + np.exp(-(true[a] - true[b])))
    outcome = np.where(rng.random(n_battles) < p, A_WINS, B_WINS)
    outcome = np.where(rng.random(n_battles) < tie_rate, TIE, outcome)
    return a, b, outcome


def _frame(a, b, outcome, questions=None):
    labels = np.array(["model_a", "model_b", "tie"])[outcome]
    rows = [
        {"model_a": f"m{x}", "model_b": f"m{y}", "winner": w} for x, y, w in zip(a, b, labels, strict=True)
    ]
    if questions is not None:
        for row, q in zip(rows, questions, strict=True):
            row["question_id"] = str(q)
    return battles_frame(rows)


def test_three_model_cycle_gives_equal_ratings():
    a, b, o = np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([A_WINS] * 3)
    np.testing.assert_allclose(bradley_terry(3, (a, b, o)), 0.0, atol=1e-12)


def test_two_models_closed_form():
    # 3 wins to 1: s0 - s1 = ln 3 exactly (ridge 0).
    a, b = np.zeros(4, int), np.ones(4, int)
    o = np.array([A_WINS, A_WINS, A_WINS, B_WINS])
    s = bradley_terry(2, (a, b, o), ridge=0.0)
    assert s[0] - s[1] == pytest.approx(np.log(3), abs=1e-9)


def test_order_and_aggregation_do_not_matter():
    rng = np.random.default_rng(1)
    a, b, o = _synthetic(np.array([0.0, 0.5, 1.0, -0.5]), 400, rng, tie_rate=0.3)
    s1 = bradley_terry(4, (a, b, o))
    flipped = np.where(o == A_WINS, B_WINS, np.where(o == B_WINS, A_WINS, TIE))
    s2 = bradley_terry(4, (b, a, flipped))
    perm = rng.permutation(len(a))
    s3 = bradley_terry(4, (a[perm], b[perm], o[perm]))
    s4 = bradley_terry(4, (a[:200], b[:200], o[:200], np.full(200, 2.0)))
    s5 = bradley_terry(4, (np.r_[a[:200], a[:200]], np.r_[b[:200], b[:200]], np.r_[o[:200], o[:200]]))
    np.testing.assert_allclose(s1, s2, atol=1e-9)
    np.testing.assert_allclose(s1, s3, atol=1e-9)
    np.testing.assert_allclose(s4, s5, atol=1e-9)


def test_agrees_with_independent_scipy_fit():
    rng = np.random.default_rng(2)
    true = rng.normal(0, 1, 8)
    a, b, o = _synthetic(true, 3000, rng, tie_rate=0.35)
    y = np.where(o == A_WINS, 1.0, np.where(o == B_WINS, 0.0, 0.5))

    def nll(s):
        z = s[a] - s[b]
        return (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).sum()

    ref = minimize(nll, np.zeros(8), method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-14}).x
    ref -= ref.mean()
    np.testing.assert_allclose(bradley_terry(8, (a, b, o), ridge=0.0), ref, atol=SCIPY_TOL)


def test_drop_ties_ignores_ties():
    rng = np.random.default_rng(3)
    a, b, o = _synthetic(np.array([0.0, 1.0, -1.0]), 300, rng, tie_rate=0.4)
    keep = o != TIE
    np.testing.assert_allclose(
        bradley_terry(3, (a, b, o), ties="drop"), bradley_terry(3, (a[keep], b[keep], o[keep])), atol=1e-9
    )


def test_recovers_known_strengths_with_interval_coverage():
    rng = np.random.default_rng(4)
    true = np.array([-1.0, -0.3, 0.0, 0.4, 0.9])
    true_r = to_ratings(true)
    covered, total = 0, 0
    for rep in range(12):
        a, b, o = _synthetic(true, 600, rng)
        res = compute_leaderboard(_frame(a, b, o), RatingSettings(bootstrap=150, seed=rep, resample="battle"))
        for row in res.rows:
            k = int(row["model"][1:])
            covered += row["ci_low"] <= true_r[k] <= row["ci_high"]
            total += 1
            assert abs(row["rating"] - true_r[k]) < 120
    assert 0.85 <= covered / total <= 1.0


def test_disconnected_and_one_sided_models_are_finite_with_warnings():
    frame = battles_frame(
        [
            {"model_a": "a", "model_b": "b", "winner": "model_a"},
            {"model_a": "a", "model_b": "b", "winner": "model_b"},
            {"model_a": "c", "model_b": "d", "winner": "model_a"},  # c never loses, d never wins
            {"model_a": "c", "model_b": "d", "winner": "model_a"},
        ]
    )
    res = compute_leaderboard(frame, RatingSettings(bootstrap=50))
    for row in res.rows:
        for key in ("rating", "ci_low", "ci_high"):
            assert row[key] is not None and np.isfinite(row[key])
    text = " ".join(res.warnings)
    assert "disconnected" in text and "never lost" in text and "never won" in text
    ratings = {r["model"]: r["rating"] for r in res.rows}
    assert ratings["c"] > ratings["a"] > ratings["d"]


def test_model_that_never_lost_ranks_first():
    frame = battles_frame(
        [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 5
        + [{"model_a": "y", "model_b": "z", "winner": w} for w in ("model_a", "model_b", "tie")]
    )
    res = compute_leaderboard(frame, RatingSettings(bootstrap=20))
    assert res.rows[0]["model"] == "x"
    assert all(np.isfinite(r["rating"]) for r in res.rows)


def test_unknown_winner_label_lists_allowed():
    with pytest.raises(DataError, match=r"unknown winner 'left'.*model_a, model_b, tie, tie \(bothbad\)"):
        battles_frame([{"model_a": "a", "model_b": "b", "winner": "left"}])


@pytest.mark.parametrize(
    ("rows", "kept", "note"),
    [
        ([("a", "a")], 0, "dropped 1 self-pair battle row (a model against itself)"),
        ([("a", "b"), ("b", "b"), ("c", "c"), ("a", "c")], 2, "dropped 2 self-pair battle rows"),
        ([("a", "b")], 1, None),
    ],
)
def test_self_pairs_are_dropped_with_a_counted_note(rows, kept, note):
    frame = battles_frame([{"model_a": x, "model_b": y, "winner": "tie"} for x, y in rows])
    assert len(frame) == kept
    assert (frame["model_a"] != frame["model_b"]).all()
    notes = frame_notes(frame)
    assert (note is None and notes == []) or (len(notes) == 1 and notes[0].startswith(note))
    if kept:
        res = compute_leaderboard(frame, RatingSettings(bootstrap=0))
        assert [w for w in res.warnings if "self-pair" in w] == notes


def test_anchor_pins_rating_and_unknown_anchor_is_user_error():
    rng = np.random.default_rng(5)
    a, b, o = _synthetic(np.array([0.0, 1.0, -1.0]), 200, rng)
    frame = _frame(a, b, o)
    res = compute_leaderboard(frame, RatingSettings(bootstrap=30, anchor={"model": "m1", "rating": 1200}))
    row = next(r for r in res.rows if r["model"] == "m1")
    assert row["rating"] == pytest.approx(1200) and row["ci_low"] == pytest.approx(1200)
    plain = compute_leaderboard(frame, RatingSettings(bootstrap=0))
    assert np.mean([r["rating"] for r in plain.rows]) == pytest.approx(1000)
    diffs = {r["model"]: r["rating"] for r in res.rows}
    base = {r["model"]: r["rating"] for r in plain.rows}
    assert diffs["m0"] - diffs["m2"] == pytest.approx(base["m0"] - base["m2"], abs=1e-6)
    with pytest.raises(UserError, match="unknown model 'm9'"):
        compute_leaderboard(frame, RatingSettings(bootstrap=0, anchor={"model": "m9", "rating": 1}))


def test_battles_frame_accepts_records_and_dicts():
    from arena.records import Battle

    frame = battles_frame(
        [
            Battle(question_id=1, model_a="a", model_b="b", winner="tie (bothbad)", category="math"),
            {"question_id": "2", "model_a": "b", "model_b": "a", "winner": "model_a", "weight": 3.0},
        ]
    )
    assert frame["question_id"].tolist() == ["1", "2"]
    assert frame["weight"].tolist() == [1.0, 3.0]
    assert frame["category"].tolist() == ["math", "general"]
    res = compute_leaderboard(frame, RatingSettings(bootstrap=0))
    by = {r["model"]: r for r in res.rows}
    # weight is a frequency: the weight-3 win counts as three battles, and the leaderboard says so.
    assert by["b"]["wins"] == 3 and by["b"]["ties"] == 1 and by["a"]["losses"] == 3
    assert by["b"]["battles"] == 4
    assert any("weighted sums" in w for w in res.warnings)
    assert by["b"]["rating"] > by["a"]["rating"]


def test_names_that_differ_only_by_spaces_or_case_get_a_note():
    """'gpt-4', 'gpt-4 ' and 'GPT-4' are rated apart, as written, with a note naming them; distinct names none."""
    from arena.rating import RatingSettings, compute_leaderboard

    rows = [("gpt-4", "b", "model_a"), ("gpt-4 ", "b", "model_b"), ("GPT-4", "c", "tie"), ("b", "c", "tie")]
    frame = battles_frame([{"model_a": a, "model_b": b, "winner": w} for a, b, w in rows])
    result = compute_leaderboard(frame, RatingSettings(bootstrap=0))
    assert {r["model"] for r in result.rows} == {"gpt-4", "gpt-4 ", "GPT-4", "b", "c"}
    assert any("differ only by spaces or case" in w and "'GPT-4' and 'gpt-4' and 'gpt-4 '" in w for w in result.warnings)
    clean = compute_leaderboard(battles_frame([{"model_a": "a", "model_b": "b", "winner": "tie"}]),
                                RatingSettings(bootstrap=0))
    assert not any("differ only" in w for w in clean.warnings)


@pytest.mark.parametrize("size", [None, 50, 10**9])  # the largest code, a given bound, a bound too big to mark
def test_compact_codes_are_numpys_unique(size):
    """Distinct codes in order and each code's index among them, as ``np.unique(return_inverse=True)`` gives,
    by marking where the range is small and by sorting where it is not."""
    from arena.rating.bt import compact_codes

    code = np.random.default_rng(3).integers(0, 50, 1000) * 7 % 50
    uniq, inverse = compact_codes(code, size)
    want_uniq, want_inverse = np.unique(code, return_inverse=True)
    np.testing.assert_array_equal(uniq, want_uniq)
    np.testing.assert_array_equal(inverse, want_inverse.ravel())
    assert compact_codes(np.zeros(0, dtype=np.int64))[0].size == 0
