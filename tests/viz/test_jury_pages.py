"""A jury run in the browser: the leaderboard's jury switch (each juror, majority, all pooled) and the judge
page's jury section (per-judge biases, Cohen's and Fleiss' kappa, self-preference)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from arena import browse as vd
from arena.browse import leaderboard as lb
from tests.viz.test_app import DEFAULT, open_page, texts

CONFIG = """
name: jury-viz
work_dir: run
seed: 0
questions: {{set: mt_bench, limit: 6}}
models:
  alpha: {{provider: fake, fake: {{seed: 1}}}}
  beta: {{provider: fake, fake: {{seed: 2, max_words: 120}}}}
  gamma: {{provider: fake, fake: {{seed: 3, max_words: 30}}}}
judge:
  - {{name: favours-first, provider: fake, mode: pairwise-all, prompts: mt-bench, {family}
      fake: {{tie_rate: 0.1, position_bias: 0.4}}}}
  - {{name: favours-second, provider: fake, mode: pairwise-all, prompts: arena-hard,
      fake: {{tie_rate: 0.1, position_bias: -0.4}}}}
rating: {{bootstrap: 20, jury: {jury}}}
"""
JUDGES = ["favours-first", "favours-second"]


def make_jury_run(root: Path, jury: str, family: str | None = None) -> Path:
    """Run a two-judge jury (the fake judges of configs/jury.yaml) into ``root/run``; ``family``: the first
    judge's own candidates (self-preference)."""
    from arena.config import load_config
    from arena.pipeline import run

    root.mkdir(parents=True, exist_ok=True)
    path = root / "arena.yaml"
    path.write_text(CONFIG.format(jury=jury, family=f"family: {family}," if family else ""), encoding="utf-8")
    run(load_config(path), config_path=str(path), progress=False)
    return root / "run"


@pytest.fixture(scope="module")
def jury_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A jury run whose leaderboard rates the majority vote (as configs/jury.yaml)."""
    return make_jury_run(tmp_path_factory.mktemp("jury"), "majority")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def leaderboard_json(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``leaderboard.json`` (a list of rows, or a document with ``rows``)."""
    doc = json.loads((run_dir / "leaderboard.json").read_text(encoding="utf-8"))
    return list(doc["rows"] if isinstance(doc, dict) else doc)


def battles_per_model(rows: list[dict[str, object]]) -> dict[str, float]:
    """Each model's battles as the leaderboard counts them: the sum of count x weight of the rows it played."""
    out: dict[str, float] = defaultdict(float)
    for r in rows:
        n = float(r.get("count", 1.0)) * float(r.get("weight", 1.0))  # type: ignore[arg-type]
        out[str(r["model_a"])] += n
        out[str(r["model_b"])] += n
    return dict(out)


def jury_radio(at):  # type: ignore[no-untyped-def]
    found = [r for r in at.radio if r.key == "jury"]
    return found[0] if found else None


def table(at) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """The leaderboard table on the page, by model."""
    frame = at.dataframe[0].value
    return {str(r["model"]): dict(r) for r in frame.to_dict(orient="records")}


def test_switch_only_for_a_jury_run(run_dir: Path, jury_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert jury_radio(open_page(run_dir, DEFAULT, monkeypatch)) is None
    radio = jury_radio(open_page(jury_dir, DEFAULT, monkeypatch))
    assert radio is not None
    assert radio.options == [*JUDGES, "majority", "all pooled"]
    assert radio.value == lb.JURY_MAJORITY  # the config's rating.jury


@pytest.mark.parametrize("choice", ["judge:favours-first", "judge:favours-second", "majority", "all"])
def test_each_choice_rates_its_battles(jury_dir: Path, choice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pooled = lines(jury_dir / "jury_battles.jsonl")
    expected_rows = {"majority": lines(jury_dir / "battles.jsonl"), "all": pooled}.get(
        choice, [r for r in pooled if r["judge"] == choice.removeprefix("judge:")])
    expected = battles_per_model(expected_rows)
    at = open_page(jury_dir, DEFAULT, monkeypatch)
    radio = jury_radio(at)
    assert radio is not None
    radio.set_value(choice).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = table(at)
    assert {m: float(r["battles"]) for m, r in shown.items()} == pytest.approx(expected)  # type: ignore[arg-type]
    caption = texts(at)
    if choice == "majority":
        assert "leaderboard.json as written by the run" in caption
    else:
        assert f"{lb.jury_label(choice)}: computed here from {len(expected_rows):,} battles" in caption
    if choice != "majority":
        assert at.query_params["jury"] in (choice, [choice])  # a shareable link


def test_judges_disagree_on_the_leaderboard(jury_dir: Path) -> None:
    data = vd.load_source(jury_dir)
    ratings = {c: lb.jury_leaderboard_rows(data, c)[0].set_index("model")["rating"] for c in lb.jury_choices(data)}
    # opposite position biases: the two jurors' ratings are not the same numbers
    assert not ratings["judge:favours-first"].sort_index().equals(ratings["judge:favours-second"].sort_index())


def test_default_view_equals_leaderboard_json(jury_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = {str(r["model"]): r for r in leaderboard_json(jury_dir)}
    shown = table(open_page(jury_dir, DEFAULT, monkeypatch))
    assert set(shown) == set(written)
    for model, row in shown.items():
        assert row["rating"] == pytest.approx(round(written[model]["rating"], 1))
        assert row["battles"] == written[model]["battles"]


@pytest.mark.parametrize("how", ["per-judge", "majority", "all"])
def test_default_choice_rated_here_equals_the_runs_leaderboard(how: str, tmp_path: Path) -> None:
    """The library path the switch uses, on the run's own choice, gives leaderboard.json's numbers."""
    run_dir = make_jury_run(tmp_path, how)
    data = vd.load_source(run_dir)
    default = lb.jury_default(data)
    assert default == {"per-judge": "judge:favours-first", "majority": "majority", "all": "all"}[how]
    rows, _, _ = lb.rated_rows(data, lb.jury_frame(data, str(default)))
    mine = rows.set_index("model")
    for r in leaderboard_json(run_dir):
        for col in ("rating", "ci_low", "ci_high", "battles", "wins", "losses", "ties"):
            assert mine.loc[r["model"], col] == pytest.approx(r[col], abs=1e-9), (how, r["model"], col)


def test_stale_jury_link_falls_back_to_the_default(jury_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(jury_dir, DEFAULT, monkeypatch, jury="judge:nobody")
    radio = jury_radio(at)
    assert radio is not None and radio.value == lb.JURY_MAJORITY


def test_unknown_jury_choice_refused(jury_dir: Path, run_dir: Path) -> None:
    from arena.errors import UserError

    with pytest.raises(UserError, match="jury choice 'judge:nobody'"):
        lb.jury_leaderboard_rows(vd.load_source(jury_dir), "judge:nobody")
    with pytest.raises(UserError, match="not a jury run"):
        lb.jury_frame(vd.load_source(run_dir), "majority")


def test_judge_page_shows_the_jury(jury_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads((jury_dir / "judge_report.json").read_text())["jury"]
    at = open_page(jury_dir, "views/judge.py", monkeypatch)
    text = texts(at)
    assert "Jury" in [s.value for s in at.subheader]
    for name in JUDGES:
        assert name in text
    fleiss = [m for m in at.metric if m.label == "Fleiss' kappa"]
    assert len(fleiss) == 1 and fleiss[0].value == f"{report['agreement']['fleiss_kappa']['value']:.3f}"
    frames = [d.value for d in at.dataframe]
    bias = next(f for f in frames if "first position wins" in f.columns)
    assert list(bias["judge"]) == JUDGES
    first = report["per_judge"]["favours-first"]["first_position_win_rate"]
    assert bias.loc[0, "first position wins"] == f"{100 * first:.1f}%"
    matrix = next(f for f in frames if list(f.columns) == JUDGES)
    kappa = report["agreement"]["pairwise"]["favours-first | favours-second"]["cohen_kappa"]
    assert matrix.loc["favours-first", "favours-second"] == f"{kappa:.3f}" == matrix.loc["favours-second", "favours-first"]
    assert "self-preference to measure" in text  # fake judges own no candidate


def test_judge_page_without_a_jury_has_no_jury_section(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/judge.py", monkeypatch)
    assert "Jury" not in [s.value for s in at.subheader]
    assert not [m for m in at.metric if m.label == "Fleiss' kappa"]


def test_judge_page_self_preference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = make_jury_run(tmp_path, "all", family="alpha")  # alpha counts as favours-first's own model
    pref = json.loads((run_dir / "judge_report.json").read_text())["jury"]["self_preference"]["favours-first"]
    at = open_page(run_dir, "views/judge.py", monkeypatch)
    table_ = next(d.value for d in at.dataframe if "own model" in d.value.columns)
    assert table_.to_dict(orient="records") == [{
        "judge": "favours-first", "own model": "alpha",
        "win rate (this judge)": f"{100 * pref['per_model']['alpha']['win_rate']:.1f}%",
        "win rate (other judges)": f"{100 * pref['per_model']['alpha']['others_win_rate']:.1f}%",
        "difference": f"{100 * pref['per_model']['alpha']['difference']:+.1f} points"}]
