"""Sandwich intervals, tie models and inverse-pair reweighting (issue 13 items 1-3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from arena.errors import UserError
from arena.rating import RatingSettings, compute_leaderboard, encode, validate_frame
from arena.rating import ties as tm
from arena.rating.report import format_leaderboard
from tests.invariance.conftest import cli

STRENGTH_TOL = 0.08
"""Natural-scale tolerance on recovered strengths (about 14 rating points) at 40k battles."""
PARAM_TOL = 0.1
"""Relative tolerance on recovered tie parameters."""
WIDTH_TOL = 0.10
"""Sandwich and bootstrap interval widths agree within 10% on large data."""


def _simulate(model: str, s: np.ndarray, n_battles: int, seed: int, nu: tuple[float, float] = (0.4, 0.2),
              theta: float = 1.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(s), n_battles)
    b = (a + rng.integers(1, len(s), n_battles)) % len(s)
    d = s[a] - s[b]
    if model == "davidson":
        z = np.exp(d / 2) + np.exp(-d / 2) + sum(nu)
        probs = np.column_stack([np.exp(d / 2) / z, np.exp(-d / 2) / z, np.full(len(d), nu[0]) / z,
                                 np.full(len(d), nu[1]) / z])
    elif model == "rao-kupper":
        pa, pb = 1 / (1 + theta * np.exp(-d)), 1 / (1 + theta * np.exp(d))
        probs = np.column_stack([pa, pb, 1 - pa - pb, np.zeros(len(d))])
    else:
        p = 1 / (1 + np.exp(-d))
        probs = np.column_stack([p, 1 - p, np.zeros(len(d)), np.zeros(len(d))])
    u = rng.random(n_battles)[:, None]
    kind = (u > np.cumsum(probs, axis=1)).sum(axis=1)
    labels = np.array(["model_a", "model_b", "tie", "tie (bothbad)"])
    return pd.DataFrame({"question_id": [f"q{k % 4000}" for k in range(n_battles)],
                         "model_a": [f"m{k}" for k in a], "model_b": [f"m{k}" for k in b],
                         "winner": labels[kind]})


def _fit(model: type, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, float]]:
    enc = encode(validate_frame(frame))
    cells, _ = tm.tie_cells(enc, enc.weight, bothbad_apart=True)
    lik = model(cells)
    x = tm.fit(lik, cells, cells.weight)
    return x[: enc.n_items], lik.params(x[enc.n_items:])


TRUE = np.array([-0.9, -0.3, 0.0, 0.4, 0.8]) - 0.0


def test_davidson_recovers_strengths_and_both_nus() -> None:
    frame = _simulate("davidson", TRUE, 40_000, seed=1)
    s, params = _fit(tm.Davidson, frame)
    assert s == pytest.approx(TRUE - TRUE.mean(), abs=STRENGTH_TOL)
    assert params["nu_tie"] == pytest.approx(0.4, rel=PARAM_TOL)
    assert params["nu_bothbad"] == pytest.approx(0.2, rel=PARAM_TOL)


def test_rao_kupper_recovers_strengths_and_theta() -> None:
    frame = _simulate("rao-kupper", TRUE, 40_000, seed=2)
    s, params = _fit(tm.RaoKupper, frame)
    assert s == pytest.approx(TRUE - TRUE.mean(), abs=STRENGTH_TOL)
    assert params["theta"] == pytest.approx(1.8, rel=PARAM_TOL)


@pytest.mark.parametrize("ties", ["half", "drop"])
def test_half_and_drop_recover_bradley_terry_strengths(ties: str) -> None:
    frame = _simulate("bt", TRUE, 40_000, seed=3)
    rows = compute_leaderboard(frame, RatingSettings(ties=ties, bootstrap=0)).rows
    scale = 400 / np.log(10)
    got = {r["model"]: (r["rating"] - 1000) / scale for r in rows}
    assert [got[f"m{k}"] for k in range(5)] == pytest.approx(TRUE - TRUE.mean(), abs=STRENGTH_TOL)


def test_davidson_gradient_matches_finite_differences() -> None:
    frame = _simulate("davidson", TRUE, 2_000, seed=4)
    enc = encode(validate_frame(frame))
    cells, _ = tm.tie_cells(enc, enc.weight, bothbad_apart=True)
    for model in (tm.Davidson(cells), tm.RaoKupper(cells)):
        x = np.r_[np.linspace(-0.5, 0.5, 5), np.full(model.n_extra, 0.3)]
        num = [(tm._objective(model, cells, cells.weight, x + e, 0.0) - tm._objective(model, cells, cells.weight, x - e, 0.0)) / 2e-6
               for e in np.eye(len(x)) * 1e-6]
        assert tm.gradient(model, cells, cells.weight, x, 0.0) == pytest.approx(num, rel=1e-4, abs=1e-3)


@pytest.mark.parametrize("resample", ["question", "battle"])
def test_sandwich_and_bootstrap_widths_agree_on_large_data(resample: str) -> None:
    frame = _simulate("davidson", TRUE, 40_000, seed=5)
    base = {"resample": resample, "seed": 1}
    sand = compute_leaderboard(frame, RatingSettings(ci="sandwich", **base)).rows
    boot = compute_leaderboard(frame, RatingSettings(ci="bootstrap", bootstrap=1000, **base)).rows
    w_s = {r["model"]: r["ci_high"] - r["ci_low"] for r in sand}
    w_b = {r["model"]: r["ci_high"] - r["ci_low"] for r in boot}
    for m in w_s:
        assert w_s[m] == pytest.approx(w_b[m], rel=WIDTH_TOL), m


def test_sandwich_clusters_widen_when_questions_repeat_outcomes() -> None:
    """Battles of one question share the outcome: clustering by question must widen the intervals."""
    frame = _simulate("bt", TRUE, 2_000, seed=6)
    frame = pd.concat([frame] * 5, ignore_index=True)  # every question judged 5 times, same verdict
    by_q = compute_leaderboard(frame, RatingSettings(ci="sandwich")).rows
    by_b = compute_leaderboard(frame, RatingSettings(ci="sandwich", resample="battle")).rows
    wq = np.mean([r["ci_high"] - r["ci_low"] for r in by_q])
    wb = np.mean([r["ci_high"] - r["ci_low"] for r in by_b])
    assert wq == pytest.approx(wb * np.sqrt(5), rel=0.05)


def test_inverse_pair_reweighting_removes_pair_frequency_bias() -> None:
    """An intransitive log (no Bradley-Terry fits it exactly) where one pair is battled 20x as often:
    unweighted, that pair dominates; reweighted, the ratings are those of the balanced log."""
    wins = {("m0", "m1"): 70, ("m1", "m2"): 70, ("m0", "m2"): 40, ("m2", "m3"): 55, ("m1", "m3"): 60,
            ("m0", "m3"): 65}
    rows = []
    for (a, b), w in wins.items():
        rows += [{"model_a": a, "model_b": b, "winner": "model_a", "count": w},
                 {"model_a": a, "model_b": b, "winner": "model_b", "count": 100 - w}]
    balanced = pd.DataFrame(rows)
    heavy = balanced.copy()
    heavy.loc[(heavy.model_a == "m0") & (heavy.model_b == "m2"), "count"] *= 20
    want = {r["model"]: r["rating"] for r in compute_leaderboard(balanced, RatingSettings(bootstrap=0)).rows}
    raw = {r["model"]: r["rating"] for r in compute_leaderboard(heavy, RatingSettings(bootstrap=0)).rows}
    rew = compute_leaderboard(heavy, RatingSettings(bootstrap=0, reweight="inverse-pair")).rows
    got = {r["model"]: r["rating"] for r in rew}
    assert max(abs(raw[m] - want[m]) for m in want) > 20
    assert max(abs(got[m] - want[m]) for m in want) < 1e-3
    assert sum(r["battles"] for r in rew) == 2 * int(heavy["count"].sum())  # counts stay unweighted


def test_tie_sensitivity_note_and_table_line() -> None:
    # m0 and m1 beat each other equally, but m1 ties far more often against the rest
    rows = [("m0", "m1", "model_a", 10), ("m0", "m1", "model_b", 10), ("m0", "m2", "model_a", 30),
            ("m0", "m2", "model_b", 10), ("m1", "m2", "model_a", 12), ("m1", "m2", "model_b", 2),
            ("m1", "m2", "tie", 26)]
    frame = pd.DataFrame([{"model_a": a, "model_b": b, "winner": w, "count": c} for a, b, w, c in rows])
    result = compute_leaderboard(frame, RatingSettings(ci="sandwich", ties="drop"))
    assert any(w.startswith("tie sensitivity: the top 3 under ties drop") for w in result.warnings)
    assert result.extras["ties"] == {"model": "drop"}
    text = format_leaderboard(compute_leaderboard(frame, RatingSettings(ci="sandwich", ties="davidson")))
    assert "ties: davidson (nu_tie" in text and "intervals: sandwich" in text


def test_refusals() -> None:
    frame = _simulate("davidson", TRUE, 500, seed=7)
    with pytest.raises(UserError, match="elo takes half or drop"):
        compute_leaderboard(frame, RatingSettings(method="elo", ties="davidson"))
    with pytest.raises(UserError, match="unknown interval type 'sandwich'"):
        compute_leaderboard(frame, RatingSettings(method="elo", ci="sandwich"))
    with pytest.raises(ValueError, match="unknown tie model 'davidsen'. Did you mean 'davidson'"):
        RatingSettings(ties="davidsen")


def test_cli_flags(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    _simulate("davidson", TRUE, 3_000, seed=8).to_csv(path, index=False)
    out = tmp_path / "r.json"
    code, text = cli(["rate", str(path), "--ci", "sandwich", "--ties", "rao-kupper", "--reweight", "inverse-pair",
                      "--format", "json", "--out", str(out)])
    assert code == 0, text
    want = compute_leaderboard(pd.read_csv(path), RatingSettings(ci="sandwich", ties="rao-kupper",
                                                                 reweight="inverse-pair")).rows
    assert json.loads(out.read_text()) == want
    code, text = cli(["rate", str(path), "--ties", "nope"])
    assert code == 2 and "nope" in text


def test_pipeline_config_rating_ci_and_ties(tmp_path: Path) -> None:
    from tests.invariance.test_run_entry_points import QUESTIONS, TEXTS, write_answers

    (tmp_path / "q.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    (tmp_path / "ans").mkdir()
    models = {m: {"provider": "answers", "file": str(write_answers(tmp_path / "ans", m, t)), "answer_model_id": m}
              for m, t in TEXTS.items()}
    for ci, ties in (("sandwich", "half"), ("bootstrap", "davidson")):
        cfg = {"name": "t", "work_dir": str(tmp_path / f"run-{ci}-{ties}"), "seed": 3,
               "questions": {"file": str(tmp_path / "q.jsonl")}, "models": models,
               "judge": {"provider": "fake", "mode": "pairwise-all", "prompts": "mt-bench",
                         "fake": {"seed": 5, "tie_rate": 0.3}},
               "rating": {"bootstrap": 20, "ci": ci, "ties": ties}}
        path = tmp_path / f"{ci}-{ties}.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        code, out = cli(["run", "-q", "-c", str(path)])
        assert code == 0, out
        run = tmp_path / f"run-{ci}-{ties}"
        battles = pd.read_json(run / "battles.jsonl", lines=True)
        doc = json.loads((run / "leaderboard.json").read_text())
        rows = doc["rows"] if isinstance(doc, dict) else doc
        want = compute_leaderboard(battles, RatingSettings(bootstrap=20, ci=ci, ties=ties, seed=3)).rows
        assert {r["model"]: round(r["ci_low"], 6) for r in rows} == {r["model"]: round(r["ci_low"], 6) for r in want}


def test_all_ties_are_refused_by_the_tie_models_and_rated_by_the_others(tmp_path: Path) -> None:
    """With no winner anywhere, Davidson's and Rao-Kupper's tie parameter runs off to infinity (it printed
    nu 1.95e16, or crashed on a singular Hessian with intervals): refused in one line; half rates the models
    equal, drop has nothing left, and neither runs the tie-model sensitivity check."""
    path = tmp_path / "ties.csv"
    path.write_text("model_a,model_b,winner\na,b,tie\nb,a,tie\nb,c,tie (bothbad)\n", encoding="utf-8")
    for model in ("davidson", "rao-kupper"):
        for args in (["--bootstrap", "0"], ["--bootstrap", "20"], ["--ci", "sandwich"]):
            code, out = cli(["rate", str(path), "--ties", model, *args])
            assert code == 2 and "every battle is a tie" in out and len(out.strip().splitlines()) == 1, out
    code, out = cli(["rate", str(path), "--format", "json"])
    assert code == 0 and {r["rating"] for r in json.loads(out.split("\n\n")[0])} == {1000.0}
    code, out = cli(["rate", str(path), "--ties", "drop"])
    assert code == 0 and "tie sensitivity" not in out
