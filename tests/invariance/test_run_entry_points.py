"""``arena run`` on pre-generated answers with the fake judge: its leaderboard equals ``arena rate`` on its own
battles.jsonl, and the browser (reading the run, or recomputing without leaderboard.json) agrees.

Two of the candidates have byte-identical answers: their answers must stay two records (keys include the
model's name) and each must play every battle the others play.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from arena import browse as vd
from tests.invariance.conftest import assert_same_rows, cli

QUESTIONS = [
    {"question_id": "q1", "category": "math", "turns": ["What is 2+2?", "And 3+3?"]},
    {"question_id": "q2", "category": "writing", "turns": ["Write a haiku about rain.", "Now about snow."]},
    {"question_id": "q3", "category": "writing", "turns": ["Describe a cat.", "Describe a dog."]},
    {"question_id": "q4", "category": "math", "turns": ["Is 7 prime?", "Is 9 prime?"]},
]
TEXTS = {
    "alpha": ["Four. Two and two make four.", "Six."],
    "beta": ["It is 4, because 2+2=4 by counting.", "3+3 is 6, again by counting on."],
    "gamma": ["5", "7"],
}
TWIN = "alpha-twin"
"""A model whose answers are byte-identical to alpha's."""
ROUNDS = 50
SEED = 11


def write_answers(folder: Path, model: str, texts: list[str]) -> Path:
    """A FastChat answer file: one line per question, the same two turns (with the question id) each."""
    path = folder / f"{model}.jsonl"
    lines = []
    for q in QUESTIONS:
        turns = [f"{t} ({q['question_id']})" for t in texts]
        lines.append(json.dumps({"question_id": q["question_id"], "answer_id": f"{model}-{q['question_id']}",
                                 "model_id": model, "choices": [{"index": 0, "turns": turns}], "tstamp": 0}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_run(root: Path, mode: str) -> Path:
    """``arena run`` with ``provider: answers`` candidates and the seeded fake judge; returns the run dir."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    answers = root / "model_answer"
    answers.mkdir()
    models: dict[str, Any] = {}
    for name, texts in [*TEXTS.items(), (TWIN, TEXTS["alpha"])]:
        path = write_answers(answers, name, texts)
        models[name] = {"provider": "answers", "file": str(path), "answer_model_id": name}
    # the twin's file differs only by model_id: the answer texts are the same bytes
    judge: dict[str, Any] = {"provider": "fake", "mode": mode, "prompts": "mt-bench",
                             "fake": {"seed": 5, "tie_rate": 0.2, "position_bias": 0.1}}
    if mode == "pairwise-baseline":
        judge["baseline"] = "gamma"
    cfg = {"name": f"inv-{mode}", "work_dir": str(root / "run"), "seed": SEED,
           "questions": {"file": str(root / "questions.jsonl")}, "models": models, "judge": judge,
           "rating": {"bootstrap": ROUNDS}}
    path = root / "arena.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    code, out = cli(["run", "-q", "-c", str(path)])
    assert code == 0, out
    return root / "run"


@pytest.fixture(scope="module", params=["pairwise-all", "pairwise-baseline", "single"])
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp(request.param), request.param)


def leaderboard(run: Path) -> list[dict[str, Any]]:
    doc = json.loads((run / "leaderboard.json").read_text(encoding="utf-8"))
    return doc["rows"] if isinstance(doc, dict) else doc


def mode_of(run: Path) -> str:
    return str(json.loads((run / "manifest.json").read_text(encoding="utf-8"))["config"]["judge"]["mode"])


def test_identical_answers_stay_two_models(run_dir: Path) -> None:
    keys: dict[str, set[str]] = {}
    for f in (run_dir / "answers").glob("*.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            keys.setdefault(rec["model"], set()).add(rec["key"])
    assert set(keys) == {*TEXTS, TWIN}
    assert not keys["alpha"] & keys[TWIN], "identical texts of two models merged into one answer key"
    judgments = [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    per_model: dict[str, int] = {}
    for j in judgments:
        for m in (j["model_a"], j.get("model_b")):
            if m:
                per_model[m] = per_model.get(m, 0) + 1
    mode = mode_of(run_dir)
    if mode == "pairwise-all":
        assert len(set(per_model.values())) == 1, per_model  # every model in the same number of games
        assert per_model[TWIN] == len(QUESTIONS) * 2 * 2 * (len(TEXTS))  # turns x orders x opponents
    elif mode == "single":
        assert per_model["alpha"] == per_model[TWIN] == len(QUESTIONS) * 2
    else:
        assert per_model["alpha"] == per_model[TWIN] == len(QUESTIONS) * 2 * 2


def test_arena_rate_on_battles_equals_the_runs_leaderboard(run_dir: Path, tmp_path: Path) -> None:
    mode = mode_of(run_dir)
    args = ["rate", str(run_dir / "battles.jsonl"), "--format", "json", "--out", str(tmp_path / "lb.json"),
            "--bootstrap", str(ROUNDS), "--seed", str(SEED)]
    if mode == "pairwise-baseline":
        args += ["--baseline", "gamma"]
    code, out = cli(args)
    assert code == 0, out
    if mode == "single":  # implied battles (the higher score wins a question turn) rate as any battles
        assert_same_rows(json.loads((tmp_path / "lb.json").read_text()), leaderboard(run_dir),
                         fields=("rating", "ci_low", "ci_high", "battles", "wins", "losses", "ties"),
                         label="rate/single", check_order=False)
        return
    assert_same_rows(json.loads((tmp_path / "lb.json").read_text()), leaderboard(run_dir), label=f"rate/{mode}")


def test_browser_recomputes_the_runs_leaderboard(run_dir: Path, tmp_path: Path) -> None:
    """Without leaderboard.json the browser rates the run itself, with the run's settings: same rows."""
    want = leaderboard(run_dir)
    data = vd.load_source(run_dir)
    rows, _, how = vd.leaderboard_rows(data)
    assert "leaderboard.json" in how
    assert_same_rows(rows.to_dict(orient="records"), want, label="viz/as-written")
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "leaderboard.json").unlink()
    data = vd.load_source(copy)
    assert data.notes == []
    rows, _, how = vd.leaderboard_rows(data)
    assert "computed here" in how and f"{ROUNDS} bootstrap rounds" in how and f"seed {SEED}" in how
    assert_same_rows(rows.to_dict(orient="records"), want, label=f"viz/recomputed/{mode_of(run_dir)}")


def test_single_mode_is_ordered_by_mean_score(run_dir: Path) -> None:
    if mode_of(run_dir) != "single":
        pytest.skip("pairwise run")
    rows = leaderboard(run_dir)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    judgments = [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in rows:
        mine = [j["score"] for j in judgments if j["model_a"] == r["model"] and j.get("score") is not None]
        assert r["score"] == pytest.approx(sum(mine) / len(mine))


def test_matchups_count_what_the_leaderboard_counts(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    rows, _, _ = vd.leaderboard_rows(data)
    frames = vd.matchup_frames(data, rows)
    played = frames["battles"].groupby("model")["value"].sum()
    for r in rows.to_dict(orient="records"):
        assert played[r["model"]] == pytest.approx(r["battles"]), r["model"]


def test_browser_names_unusable_manifest_settings(run_dir: Path, tmp_path: Path) -> None:
    """Rating settings that do not validate are not swallowed: a note says so and which settings are used."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "leaderboard.json").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["config"]["rating"]["bootstrap"] = "many"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    data = vd.load_source(copy)
    assert any("config.rating" in n and "bootstrap" in n and "defaults" in n for n in data.notes), data.notes
    _, _, how = vd.leaderboard_rows(data, bootstrap=10)
    assert "defaults" in how


def test_browser_category_slices_equal_the_raters(run_dir: Path) -> None:
    """A category page shows what the rater's per-category leaderboards hold for the same battles."""
    from arena.rating import battles_frame, compute_leaderboard

    data = vd.load_source(run_dir)
    records = [json.loads(x) for x in (run_dir / "battles.jsonl").read_text(encoding="utf-8").splitlines()]
    baseline = "gamma" if mode_of(run_dir) == "pairwise-baseline" else None
    result = compute_leaderboard(battles_frame(records), vd.rating_settings(data), baseline=baseline)
    assert set(result.extras["categories"]) == {"math", "writing"}
    single = mode_of(run_dir) == "single"
    judgments = [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    for cat, want in result.extras["categories"].items():
        if single:  # a single-mode slice is rated as the whole run is: its battles and its scores
            scores = pd.DataFrame([{"question_id": j["question_id"], "model": j["model_a"], "turn": j["turn"],
                                    "category": j["category"], "score": j["score"]} for j in judgments
                                   if j["category"] == cat and j.get("score") is not None])
            part = battles_frame([r for r in records if r["category"] == cat])
            want = compute_leaderboard(part, vd.rating_settings(data), scores=scores).rows
        rows, _, how = vd.leaderboard_rows(data, cat)
        assert_same_rows(rows.to_dict(orient="records"), want, fields=("rating", "ci_low", "ci_high", "rank",
                         "battles", "wins", "losses", "ties", "win_rate"), label=f"viz/category/{cat}",
                         check_order=False)
