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
