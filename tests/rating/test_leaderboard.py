"""Leaderboard API: bootstrap, ranks, baseline win rate, categories, single mode, style control, Elo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from arena.rating import RatingSettings, battles_frame, compute_leaderboard, rank_bounds
from arena.rating.style import style_features


def _rows(n_questions: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strength = {"base": 0.0, "good": 1.0, "bad": -1.0}
    rows = []
    for q in range(n_questions):
        cat = "math" if q % 2 else "writing"
        for m in ("good", "bad"):
            p = 1 / (1 + np.exp(-(strength[m] - strength["base"])))
            for swapped in (False, True):
                win = rng.random() < p
                a, b = ("base", m) if swapped else (m, "base")
                winner = (
                    ("model_b" if swapped else "model_a") if win else ("model_a" if swapped else "model_b")
                )
                rows.append(
                    {"question_id": f"q{q}", "model_a": a, "model_b": b, "winner": winner, "category": cat}
                )
    return battles_frame(rows)


def test_seeded_bootstrap_is_reproducible():
    frame = _rows()
    r1 = compute_leaderboard(frame, RatingSettings(bootstrap=100, seed=7)).rows
    r2 = compute_leaderboard(frame, RatingSettings(bootstrap=100, seed=7)).rows
    r3 = compute_leaderboard(frame, RatingSettings(bootstrap=100, seed=8)).rows
    assert r1 == r2 and r1 != r3


def test_row_contract_and_baseline_win_rate():
    res = compute_leaderboard(_rows(), RatingSettings(bootstrap=100), baseline="base")
    keys = {
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "rank_low",
        "rank_high",
        "battles",
        "wins",
        "losses",
        "ties",
    }
    for row in res.rows:
        assert keys | {"win_rate", "win_rate_low", "win_rate_high"} <= set(row)
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
        assert row["win_rate_low"] <= row["win_rate"] <= row["win_rate_high"]
    by = {r["model"]: r for r in res.rows}
    assert by["base"]["rating"] == pytest.approx(1000) and by["base"]["win_rate"] == pytest.approx(0.5)
    assert [r["model"] for r in res.rows] == ["good", "base", "bad"]
    assert by["good"]["win_rate"] > 0.6 and by["bad"]["win_rate"] < 0.4
    assert by["base"]["battles"] == 240 and by["good"]["battles"] == 120
    assert by["good"]["wins"] + by["good"]["losses"] + by["good"]["ties"] == 120
    json.loads(res.to_json())


def test_extras_matrices_and_categories():
    res = compute_leaderboard(_rows(), RatingSettings(bootstrap=20))
    ex = res.extras
    models = ex["models"]
    counts = np.array(ex["battle_counts"])
    assert counts[models.index("good"), models.index("base")] == 120
    obs = ex["observed_win_rate"]
    assert obs[models.index("good")][models.index("bad")] is None  # never met
    pred = np.array(ex["predicted_win_rate"])
    np.testing.assert_allclose(pred + pred.T, 1.0)
    assert set(ex["categories"]) == {"math", "writing"}
    assert all(len(rows) == 3 for rows in ex["categories"].values())


def test_question_resampling_keeps_questions_together():
    # Each question: both orders of one pair, always the same verdict pattern, so any resample of whole
    # questions gives exactly 50% for the pair, while resampling single battles does not.
    rows = []
    for q in range(40):
        rows.append({"question_id": f"q{q}", "model_a": "x", "model_b": "y", "winner": "model_a"})
        rows.append({"question_id": f"q{q}", "model_a": "y", "model_b": "x", "winner": "model_a"})
    frame = battles_frame(rows)
    by_q = compute_leaderboard(frame, RatingSettings(bootstrap=200, resample="question")).rows
    by_b = compute_leaderboard(frame, RatingSettings(bootstrap=200, resample="battle")).rows
    assert by_q[0]["ci_high"] - by_q[0]["ci_low"] == pytest.approx(0, abs=1e-6)
    assert by_b[0]["ci_high"] - by_b[0]["ci_low"] > 10


def test_rank_bounds_from_intervals():
    low = np.array([10.0, 8.0, 1.0])
    high = np.array([12.0, 11.0, 3.0])
    best, worst = rank_bounds(low, high)
    assert best.tolist() == [1, 1, 3]
    assert worst.tolist() == [2, 2, 3]


@pytest.mark.parametrize("touch", [1000.0, np.nextafter(1000.0, 2000.0), np.nextafter(1000.0, 0.0)])
def test_rank_bounds_of_touching_intervals_do_not_turn_on_rounding(touch):
    """An interval ending where another starts (an anchored model's bound sits exactly on the anchor) gives the
    same ranks whether the two bounds are equal or a rounding error apart (the same battles as rows, counts or
    weights gave rank ranges 4-5 or 4-4), and touching intervals overlap: neither model is surely above."""
    low = np.array([1000.0, 400.0, 1200.0])
    high = np.array([1800.0, touch, 2000.0])
    best, worst = rank_bounds(low, high)
    assert best.tolist() == [1, 2, 1] and worst.tolist() == [3, 3, 2]


def test_elo_method_with_bootstrap_and_anchor():
    res = compute_leaderboard(
        _rows(), RatingSettings(method="elo", bootstrap=30, anchor={"model": "base", "rating": 1000})
    )
    assert res.method == "elo"
    by = {r["model"]: r for r in res.rows}
    assert by["base"]["rating"] == pytest.approx(1000)
    assert by["good"]["rating"] > 1000 > by["bad"]["rating"]


def test_single_mode_scores():
    rng = np.random.default_rng(0)
    rows = []
    for q in range(30):
        for m, mu in (("a", 8.0), ("b", 5.0)):
            for turn in (1, 2):
                rows.append(
                    {
                        "question_id": q,
                        "model": m,
                        "turn": turn,
                        "category": "c" + str(q % 3),
                        "score": float(np.clip(mu + rng.normal(0, 1), 1, 10)),
                    }
                )
    scores = pd.DataFrame(rows)
    res = compute_leaderboard(pd.DataFrame(), RatingSettings(bootstrap=100), scores=scores)
    assert res.method == "single"
    assert [r["model"] for r in res.rows] == ["a", "b"]
    for row in res.rows:
        assert row["score_low"] <= row["score"] <= row["score_high"]
        assert (row["rating"], row["ci_low"], row["ci_high"]) == (
            row["score"],
            row["score_low"],
            row["score_high"],
        )
    assert abs(res.rows[0]["score"] - scores[scores.model == "a"].score.mean()) < 1e-12
    assert set(res.extras["scores_by_turn"]) == {"1", "2"}
    assert set(res.extras["scores_by_category"]) == {"c0", "c1", "c2"}


def _single_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores rank hi > mid > lo, while the battles (pairs built from other questions) favour lo."""
    rng = np.random.default_rng(4)
    means = {"hi": 8.5, "mid": 8.3, "lo": 4.0}
    scores = pd.DataFrame(
        [
            {"question_id": f"q{q}", "model": m, "score": float(np.clip(mu + rng.normal(0, 0.8), 1, 10))}
            for q in range(40)
            for m, mu in means.items()
        ]
    )
    battles = pd.DataFrame(
        [{"question_id": f"p{q}", "model_a": "lo", "model_b": x, "winner": "model_a"} for q in range(6) for x in ("hi", "mid")]
        + [{"question_id": "p9", "model_a": "hi", "model_b": "mid", "winner": "tie"}]
    )
    return scores, battles


@pytest.mark.parametrize("with_battles", [False, True])
def test_single_mode_is_ordered_and_ranked_by_score(with_battles):
    """MT-Bench's convention: order by mean score, ranks from the score intervals, implied rating beside."""
    scores, battles = _single_case()
    frame = battles if with_battles else pd.DataFrame()
    res = compute_leaderboard(frame, RatingSettings(bootstrap=200, seed=1), scores=scores)
    assert res.method == "single"
    means = scores.groupby("model")["score"].mean().sort_values(ascending=False)
    assert [r["model"] for r in res.rows] == list(means.index) == ["hi", "mid", "lo"]
    by = {r["model"]: r for r in res.rows}
    # hi and mid overlap: they share ranks 1-2; lo is clearly third.
    assert (by["hi"]["rank"], by["hi"]["rank_high"]) == (1, 2)
    assert (by["mid"]["rank"], by["mid"]["rank_high"]) == (1, 2)
    assert (by["lo"]["rank"], by["lo"]["rank_high"]) == (3, 3)
    if with_battles:
        assert res.extras["rating_method"] == "bt"
        assert by["lo"]["rating"] > by["hi"]["rating"]  # the battles' own verdict, shown beside
        assert by["lo"]["battles"] == 12
    else:
        assert by["lo"]["rating"] == by["lo"]["score"]


def test_scores_do_not_change_the_battles_intervals():
    """Scores bootstrap on their own seeded stream: `arena rate battles.jsonl` equals a single-mode run's."""
    scores, battles = _single_case()
    settings = RatingSettings(bootstrap=100, seed=3)
    alone = {r["model"]: r for r in compute_leaderboard(battles, settings).rows}
    with_scores = compute_leaderboard(battles, settings, scores=scores).rows
    for row in with_scores:
        for field in ("rating", "ci_low", "ci_high", "battles", "wins"):
            assert row[field] == alone[row["model"]][field], field


def test_single_mode_model_without_scores_ranks_last():
    scores, battles = _single_case()
    extra = pd.DataFrame([{"question_id": "p1", "model_a": "new", "model_b": "hi", "winner": "model_a"}])
    res = compute_leaderboard(pd.concat([battles, extra]), RatingSettings(bootstrap=50), scores=scores)
    assert res.rows[-1]["model"] == "new" and res.rows[-1]["score"] is None
    assert res.rows[-1]["rank"] == 4


def test_style_control_recovers_planted_length_effect():
    rng = np.random.default_rng(1)
    true = np.array([-0.5, 0.0, 0.5])
    n = 3000
    a = rng.integers(0, 3, n)
    b = (a + rng.integers(1, 3, n)) % 3
    la, lb = rng.integers(100, 3000, n), rng.integers(100, 3000, n)
    frame = pd.DataFrame({"model_a": a, "model_b": b, "len_a": la, "len_b": lb, "winner": "tie"})
    feats, names = style_features(frame)
    assert names == ["len"]
    z = true[a] - true[b] + 0.7 * feats[:, 0]
    frame["winner"] = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "model_a", "model_b")
    frame["model_a"] = "m" + frame["model_a"].astype(str)
    frame["model_b"] = "m" + frame["model_b"].astype(str)
    res = compute_leaderboard(frame, RatingSettings(bootstrap=40, style_control=True))
    style = res.extras["style"]
    assert style["features"] == ["len"]
    assert style["coef_low"][0] <= 0.7 <= style["coef_high"][0]
    assert abs(style["coefficients"][0] - 0.7) < 0.1
    ratings = {r["model"]: r["rating"] for r in style["rows"]}
    assert ratings["m2"] - ratings["m0"] == pytest.approx(400 / np.log(10), rel=0.25)
    off = compute_leaderboard(frame, RatingSettings(bootstrap=0))
    assert "style" not in off.extras


def test_jsonable_arrays_give_plain_python_values():
    """Float arrays become lists of Python floats with None for NaN/inf, as element by element would give;
    integer and boolean arrays stay whole; nested containers are walked."""
    from arena.rating.rows import jsonable

    values = np.array([[1.5, np.nan, -0.0], [np.inf, -np.inf, 2.0]])
    got = jsonable({"m": values, "k": np.array([3, 4]), "b": np.array([True]), "t": (np.float32(0.5), np.int64(7))})
    assert got == {"m": [[1.5, None, -0.0], [None, None, 2.0]], "k": [3, 4], "b": [True], "t": [0.5, 7]}
    assert all(type(v) is float for v in got["m"][0] if v is not None) and type(got["k"][0]) is int
    assert json.dumps(got, allow_nan=False)


def test_the_interval_column_names_its_confidence_level():
    from arena.rating.report import format_leaderboard

    res = compute_leaderboard(_rows(), RatingSettings(bootstrap=20, confidence=0.9))
    text = format_leaderboard(res, "table")
    assert "rating (90% CI)" in text and "95%" not in text


def test_rank_bounds_closer_than_the_refit_precision_touch():
    """Bootstrap refits stop within a tolerance of their optimum: two bounds 1.4e-6 points apart (the quickstart's
    level resamples, at 1000.0000009 and 999.9999995) are equal as far as the refits can tell, so the intervals
    touch and overlap (ranks 1-3 for all three, as its README shows); without that precision they stay apart."""
    low = np.array([1000.0000008748545, 982.5846845316386, 982.5846844333033])
    high = np.array([1017.4153155772132, 1017.4153154683613, 999.9999995184851])
    best, worst = rank_bounds(low, high, 0.017)
    assert best.tolist() == [1, 1, 1] and worst.tolist() == [3, 3, 3]
    best, worst = rank_bounds(low, high)
    assert best.tolist() == [1, 1, 2] and worst.tolist() == [2, 3, 3]
