"""arena.rundir: write_outputs writes the run's outputs; load_run reads them back, old shapes included."""

from __future__ import annotations

import json
from pathlib import Path

from arena.rating import RatingSettings
from arena.records import Answer, Battle, Judgment
from arena.rundir.load import load_run
from arena.rundir.outputs import rating_baseline, resolve_settings, write_outputs


def _battles() -> list[Battle]:
    rows = [("a", "b", "model_a", 3.0), ("b", "c", "model_a", 1.0), ("a", "c", "tie", 1.0), ("c", "a", "model_b", 1.0)]
    return [Battle(question_id=f"q{i}", model_a=x, model_b=y, winner=w, count=n)  # type: ignore[arg-type]
            for i, (x, y, w, n) in enumerate(rows)]


def _judgment() -> Judgment:
    return Judgment(key="j1", game_key="g1", mode="pairwise-all", question_id="q0", model_a="a", model_b="b",
                    answer_a="ka", answer_b="kb", judge="fake", prompt_set="p", prompt_name="n", prompt_version="1",
                    verdict="A>B")


def test_write_then_load_round_trip(tmp_path: Path) -> None:
    answers = {k: Answer(key=k, question_id="q0", model=m, turns=["x" * n]) for k, m, n in (("ka", "a", 5), ("kb", "b", 9))}
    settings = resolve_settings(RatingSettings(bootstrap=5), 7)
    assert settings.seed == 7 and resolve_settings(RatingSettings(seed=3), 7).seed == 3
    out = write_outputs(tmp_path, battles=_battles(), judgments=[_judgment()], answers=answers, settings=settings,
                        baseline=rating_baseline("pairwise-all", "a"), scores=None)
    assert out.battles == 4 and out.leaderboard is not None and out.report.calls == 1
    assert {p.name for p in tmp_path.iterdir()} >= {"battles.jsonl", "judge_report.json", "leaderboard.json",
                                                    "leaderboard.csv", "leaderboard.md"}
    run = load_run(tmp_path)
    assert run.battles is not None and run.battles["count"].tolist() == [3.0, 1.0, 1.0, 1.0]
    assert [r.model for r in run.leaderboard] == [r["model"] for r in out.leaderboard.rows]
    assert run.leaderboard[0].battles == out.leaderboard.rows[0]["battles"]
    assert run.report is not None and run.report.first_position_win_rate == 1.0
    assert run.notes == []


def test_nothing_to_rate_writes_no_leaderboard(tmp_path: Path) -> None:
    out = write_outputs(tmp_path, battles=[], judgments=[], answers={}, settings=RatingSettings(seed=0),
                        baseline=None, scores=[])
    assert out.leaderboard is None and not (tmp_path / "leaderboard.json").exists()
    assert (tmp_path / "battles.jsonl").read_text() == ""


def test_old_shapes_load(tmp_path: Path) -> None:
    """Files written by the previous version: the native manifest without rating/created, dict rows."""
    (tmp_path / "manifest.json").write_text(json.dumps({
        "name": "old", "config": {"seed": 4, "rating": {"method": "bt", "bootstrap": 10, "seed": None},
                                   "judge": {"mode": "pairwise-baseline", "baseline": "b"}},
        "seed": 4, "seeds": {"config": 4, "rating": 4}, "finished": "2024-01-01T00:00:00+00:00", "obsolete": 1}))
    (tmp_path / "leaderboard.json").write_text(json.dumps([{"model": "a", "rating": 1010.0, "ci_low": 1000.0,
        "ci_high": 1020.0, "rank": 1, "battles": 2, "wins": 2, "losses": 0, "ties": 0, "new_column": "kept"}]))
    (tmp_path / "judge_report.json").write_text(json.dumps({"judgments": 2, "calls": 2, "mode": "pairwise",
                                                            "verdicts": {"A>B": 2}, "order_flips": 0}))
    (tmp_path / "battles.jsonl").write_text('{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a"}\n'
                                            '{"model_a": "a", "model_b"')  # torn last line
    run = load_run(tmp_path)
    m = run.manifest
    assert m is not None and m.rating is not None and m.rating["seed"] == 4 and m.created == "2024-01-01T00:00:00+00:00"
    assert m.mode == "pairwise-baseline" and run.baseline == "b"
    assert run.leaderboard[0].rating == 1010.0 and run.leaderboard[0].model_extra == {"new_column": "kept"}
    assert run.report is not None and run.report.order_flips == 0 and run.report.pairwise
    assert run.battles is not None and len(run.battles) == 1
    assert any("incomplete" in n for n in run.notes)


def test_old_imported_manifest_loads(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({
        "name": "import-fastchat", "imported": {"format": "fastchat", "source": "/x", "files": ["/x/a.jsonl"],
                                                "mode": "single", "baseline": None},
        "counts": {"battles": 3}, "notes": ["n"], "rating": {"bootstrap": 10, "seed": 0}, "seed": 0,
        "versions": {"arena": "0.1"}, "created": "2024-01-02T00:00:00+00:00"}))
    run = load_run(tmp_path)
    assert run.manifest is not None and run.manifest.imported is not None
    assert run.manifest.imported.format == "fastchat" and run.mode == "single" and run.manifest.notes == ["n"]


def test_missing_and_broken_files_are_notes(tmp_path: Path) -> None:
    (tmp_path / "judge_report.json").write_text("{broken")
    run = load_run(tmp_path)
    assert run.report is None and run.battles is None and run.leaderboard == []
    assert any("judge_report.json" in n for n in run.notes)
