"""bt-position: Bradley-Terry with a position-A (home-advantage) term.

Recovery of known strengths and home advantage from synthetic data; the interval covers the truth; an
unbiased judge's balanced log gives a home term near 0 and the plain Bradley-Terry ratings; swapping every
battle's positions flips the sign of the term only; rows, counts, weights, shuffles and renames give the
same numbers; refusals; the term reaches the leaderboard extras and the table line.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from arena.errors import UserError
from arena.rating import compute_leaderboard
from arena.rating.encoding import encode
from arena.rating.position import fit_bt_position, fit_home, position_cells
from arena.rating.report import format_leaderboard
from arena.rating.settings import RatingSettings

POINTS = 400 / math.log(10)
RECOVERY_TOL = 0.12
"""Largest strength error (log-odds) allowed with ~12k synthetic battles."""


def _synthetic(seed: int, n: int = 6, home: float = 0.5, battles_per_order: int = 400,
               tie_rate: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = rng.normal(0, 0.8, n)
    s -= s.mean()
    rows = []
    q = 0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            p = 1 / (1 + np.exp(-(s[i] - s[j] + home)))
            for _ in range(battles_per_order):
                u = rng.random()
                winner = "tie" if u < tie_rate else ("model_a" if rng.random() < p else "model_b")
                rows.append({"question_id": f"q{q % 97}", "model_a": f"m{i}", "model_b": f"m{j}", "winner": winner})
                q += 1
    return pd.DataFrame(rows), s


def _fit(frame: pd.DataFrame, interval: str = "sandwich", **kw: object) -> tuple[np.ndarray, dict[str, float], list[str]]:
    df = frame.copy()
    df["count"] = df.get("count", 1.0)
    df["weight"] = df.get("weight", 1.0)
    enc = encode(df)
    fit = fit_bt_position(enc, RatingSettings(ci=interval, bootstrap=kw.pop("bootstrap", 200), **kw),
                          np.random.default_rng(0), interval=interval)
    return fit.point, fit.params, enc.models


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_strengths_and_home_advantage(seed: int) -> None:
    frame, truth = _synthetic(seed, home=0.5)
    point, params, _ = _fit(frame)
    assert np.max(np.abs(point - truth)) < RECOVERY_TOL
    assert params["home_log_odds"] == pytest.approx(0.5, abs=0.06)
    assert params["home_ci_low"] < 0.5 * POINTS < params["home_ci_high"]
    assert params["home"] == pytest.approx(params["home_log_odds"] * POINTS)


def test_bootstrap_and_sandwich_agree_on_the_home_interval() -> None:
    frame, _ = _synthetic(3, home=0.3, battles_per_order=150)
    _, sand, _ = _fit(frame, "sandwich")
    _, boot, _ = _fit(frame, "bootstrap", bootstrap=300)
    width_s = sand["home_ci_high"] - sand["home_ci_low"]
    width_b = boot["home_ci_high"] - boot["home_ci_low"]
    assert width_b == pytest.approx(width_s, rel=0.2)


def test_unbiased_balanced_log_gives_plain_bradley_terry() -> None:
    frame, _ = _synthetic(4, home=0.0, tie_rate=0.1)
    point, params, _ = _fit(frame)
    assert params["home_ci_low"] < 0 < params["home_ci_high"]
    plain = compute_leaderboard(frame.assign(count=1.0, weight=1.0), RatingSettings(bootstrap=0))
    with_home = compute_leaderboard(frame.assign(count=1.0, weight=1.0),
                                    RatingSettings(bootstrap=0, method="bt-position"))
    a = {r["model"]: r["rating"] for r in plain.rows}
    b = {r["model"]: r["rating"] for r in with_home.rows}
    assert max(abs(a[m] - b[m]) for m in a) < 3.0, "rating points"


def test_swapping_positions_flips_only_the_home_term() -> None:
    frame, _ = _synthetic(5, home=0.4, battles_per_order=60, tie_rate=0.1)
    swapped = frame.rename(columns={"model_a": "model_b", "model_b": "model_a"})
    swapped["winner"] = swapped["winner"].map({"model_a": "model_b", "model_b": "model_a", "tie": "tie"})
    p1, h1, _ = _fit(frame)
    p2, h2, _ = _fit(swapped)
    np.testing.assert_allclose(p1, p2, atol=1e-8)
    assert h2["home_log_odds"] == pytest.approx(-h1["home_log_odds"], abs=1e-8)


def test_rows_counts_weights_shuffle_and_rename_give_the_same_numbers() -> None:
    frame, _ = _synthetic(6, n=4, home=0.4, battles_per_order=20, tie_rate=0.1)
    base_point, base_params, _ = _fit(frame, "bootstrap", bootstrap=50, resample="battle")
    keys = ["question_id", "model_a", "model_b", "winner"]
    counted = frame.groupby(keys, as_index=False).size().rename(columns={"size": "count"})
    counted["count"] = counted["count"].astype(float)
    weighted = counted.rename(columns={"count": "weight"})
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    renamed = frame.replace({"model_a": {"m0": "zz"}, "model_b": {"m0": "zz"}})
    for variant in (counted, weighted):
        point, params, _ = _fit(variant, "sandwich", resample="battle")
        ref_point, ref_params, _ = _fit(frame, "sandwich", resample="battle")
        np.testing.assert_allclose(point, ref_point, atol=1e-9)
        for k in ("home", "home_ci_low", "home_ci_high"):
            assert params[k] == pytest.approx(ref_params[k], abs=1e-6)
    point, params, _ = _fit(shuffled, "bootstrap", bootstrap=50, resample="battle")
    np.testing.assert_allclose(point, base_point, atol=1e-9)
    assert params == pytest.approx(base_params)
    point, params, models = _fit(renamed, "sandwich")
    ref_point, ref_params, ref_models = _fit(frame, "sandwich")
    by_name = dict(zip(models, point, strict=True))
    np.testing.assert_allclose([by_name["zz" if m == "m0" else m] for m in ref_models], ref_point, atol=1e-9)
    assert params == pytest.approx(ref_params)


def test_counts_resample_as_battles_in_the_bootstrap() -> None:
    frame, _ = _synthetic(7, n=3, home=0.4, battles_per_order=10)
    keys = ["question_id", "model_a", "model_b", "winner"]
    counted = frame.groupby(keys, as_index=False).size().rename(columns={"size": "count"})
    counted["count"] = counted["count"].astype(float)
    _, rows_params, _ = _fit(frame, "bootstrap", bootstrap=100)
    _, count_params, _ = _fit(counted, "bootstrap", bootstrap=100)
    assert count_params == pytest.approx(rows_params)


def test_gradient_vanishes_at_the_fit() -> None:
    frame, _ = _synthetic(8, n=4, home=0.3, battles_per_order=30, tie_rate=0.2)
    df = frame.assign(count=1.0, weight=1.0)
    enc = encode(df)
    credit = np.where(enc.outcome == 0, 1.0, np.where(enc.outcome == 1, 0.0, 0.5))
    cells = position_cells(enc.n_items, enc.a, enc.b, credit, enc.weight)
    x = fit_home(enc.n_items, cells, ridge=0.0)
    p = 1 / (1 + np.exp(-(x[cells.a] - x[cells.b] + x[-1])))
    r = cells.wins - cells.total * p
    grad = np.bincount(cells.a, r, enc.n_items) - np.bincount(cells.b, r, enc.n_items)
    assert np.max(np.abs(grad)) < 1e-7 and abs(r.sum()) < 1e-7


@pytest.mark.parametrize("settings, message", [
    ({"ties": "davidson"}, "half or drop"),
    ({"reweight": "inverse-pair"}, "bt-position fits positions"),
])
def test_refuses_what_it_does_not_model(settings: dict[str, str], message: str) -> None:
    frame, _ = _synthetic(9, n=3, battles_per_order=5)
    with pytest.raises(UserError, match=message):
        _fit(frame, "bootstrap", bootstrap=10, **settings)


def test_home_term_in_leaderboard_extras_and_table() -> None:
    frame, _ = _synthetic(10, n=3, home=0.5, battles_per_order=50)
    result = compute_leaderboard(frame.assign(count=1.0, weight=1.0),
                                 RatingSettings(method="bt-position", bootstrap=50))
    ties = result.extras["ties"]
    assert ties["home_ci_low"] < ties["home"] < ties["home_ci_high"] and ties["home"] > 0
    text = format_leaderboard(result, "md")
    assert f"home {ties['home']:.3g}" in text
