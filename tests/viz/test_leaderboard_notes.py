"""The notes a run wrote under its leaderboard (``leaderboard.md``) are the notes the browser shows with the rows
it read from ``leaderboard.json``: read back (:func:`arena.rating.report.read_notes`), never rated again."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from arena import browse as vd
from arena.browse import leaderboard as lb
from arena.rating import LeaderboardResult, RatingSettings, battles_frame, compute_leaderboard
from arena.rating.report import format_leaderboard, read_notes
from arena.records import Answer, Battle, Judgment
from arena.rundir.outputs import write_outputs
from tests.invariance.conftest import synthetic_battles
from tests.viz.test_app import DEFAULT, open_page

REPEAT_NOTE = "arena repeat (3 repeats): ratings moved by up to 12 points between identical runs"
"""A note the pipeline adds to the rater's warnings (``write_outputs(notes=...)``), as for ``arena repeat``."""


def _battles(questions: int = 1) -> list[Battle]:
    """Three models on ``questions`` questions; one question: the rater notes that no interval can be measured."""
    rows = [("a", "b", "model_a"), ("b", "c", "model_a"), ("a", "c", "tie"), ("c", "a", "model_b"), ("b", "a", "model_b")]
    return [Battle(question_id=f"q{i % questions}", model_a=x, model_b=y, winner=w)  # type: ignore[arg-type]
            for i, (x, y, w) in enumerate(rows)]


def _judgment() -> Judgment:
    return Judgment(key="j1", game_key="g1", mode="pairwise-all", question_id="q0", model_a="a", model_b="b",
                    answer_a="ka", answer_b="kb", judge="fake", prompt_set="p", prompt_name="n", prompt_version="1",
                    verdict="A>B")


def _written_run(root: Path, questions: int = 1, notes: tuple[str, ...] = (REPEAT_NOTE,)) -> LeaderboardResult:
    """A run dir written by :func:`write_outputs` (as ``arena run`` and ``arena import`` write one)."""
    answers = {k: Answer(key=k, question_id="q0", model=m, turns=["x"]) for k, m in (("ka", "a"), ("kb", "b"))}
    out = write_outputs(root, battles=_battles(questions), judgments=[_judgment()], answers=answers,
                        settings=RatingSettings(bootstrap=20, seed=0), baseline=None, scores=None, notes=notes)
    assert out.leaderboard is not None
    return out.leaderboard


def _result(warnings: list[str], style: bool = False) -> LeaderboardResult:
    """A rating (with ``style``: style-controlled, two tables and a coefficient line above the notes) whose
    warnings are ``warnings``."""
    frame = synthetic_battles(seed=1, n_models=3, questions_per_pair=3, style=style)
    result = compute_leaderboard(frame, RatingSettings(bootstrap=10, seed=0, style_control=style))
    assert bool((result.extras.get("style") or {}).get("rows")) == style
    return dataclasses.replace(result, warnings=warnings)


@pytest.mark.parametrize("warnings", [
    [],
    ["one note"],
    ["first", "second: with | a pipe and 'quotes'", ""],
    ["never lost a battle: x\ny; a model name with a newline", "next"],  # a warning may hold newlines
    ["ends with a newline\n", "a\r\nCRLF inside", "> quoted but not a note line"],
])
@pytest.mark.parametrize("style", [False, True])
def test_read_notes_is_the_inverse_of_the_markdown_writer(warnings: list[str], style: bool) -> None:
    result = _result(warnings, style)
    assert read_notes(format_leaderboard(result, "md")) == warnings


def test_read_notes_of_text_without_notes() -> None:
    assert read_notes("") == []
    assert read_notes("| rank | model |\n|---:|:---|\n| 1 | x |\n\nties: half; intervals: bootstrap\n") == []


def test_browser_shows_the_notes_the_run_wrote(tmp_path: Path) -> None:
    """One question: the rater's 'no interval' note and the pipeline's repeat note are in leaderboard.md only;
    the browser returns exactly the run's warnings with the rows it read from leaderboard.json."""
    result = _written_run(tmp_path)
    assert REPEAT_NOTE in result.warnings and len(result.warnings) >= 2
    assert isinstance(json.loads((tmp_path / "leaderboard.json").read_text()), list)  # the contract: rows only
    data = vd.load_source(tmp_path)
    assert data.leaderboard_notes == result.warnings
    rows, warnings, how, _ = lb.leaderboard_with_style(data)
    assert how == "leaderboard.json as written by the run" and warnings == result.warnings
    assert rows["model"].tolist() == [r["model"] for r in result.rows]
    assert lb.leaderboard_rows(data)[1] == result.warnings


def test_notes_are_read_not_rated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold open of a written run must stay fast: its notes come from the file, with no rating."""
    result = _written_run(tmp_path)
    data = vd.load_source(tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the browser rated the battles again to get the notes")

    monkeypatch.setattr("arena.rating.compute_leaderboard", refuse)
    assert lb.leaderboard_rows(data)[1] == result.warnings
    assert lb.leaderboard_with_style(data)[1] == result.warnings


def test_a_run_without_leaderboard_md_has_no_notes(tmp_path: Path) -> None:
    """An older run dir (leaderboard.json alone): rows, no notes, no problem."""
    _written_run(tmp_path)
    (tmp_path / "leaderboard.md").unlink()
    data = vd.load_source(tmp_path)
    rows, warnings, how = lb.leaderboard_rows(data)
    assert not rows.empty and warnings == [] and how == "leaderboard.json as written by the run"
    assert not any("leaderboard.md" in n for n in data.notes)


def test_unreadable_leaderboard_md_is_a_note(tmp_path: Path) -> None:
    _written_run(tmp_path)
    (tmp_path / "leaderboard.md").write_bytes(b"\xff\xfe broken")
    data = vd.load_source(tmp_path)
    assert lb.leaderboard_rows(data)[1] == []
    assert any(n.startswith("leaderboard.md: cannot be read") for n in data.notes)


def test_a_category_board_from_a_full_document_gets_that_categorys_notes(tmp_path: Path) -> None:
    """leaderboard.json as a full result document (rows and extras with per-category boards): a category's board
    comes with the notes the rater wrote about that category, not the others'."""
    _written_run(tmp_path)
    battles = _battles(questions=3)
    frame = battles_frame(battles)
    frame["category"] = ["math", "math", "writing", "writing", "writing"]
    frame["question_id"] = ["q0", "q0", "q1", "q2", "q1"]  # math: one question, no interval for it
    result = compute_leaderboard(frame, RatingSettings(bootstrap=20, seed=0))
    assert any(w.startswith("category 'math':") for w in result.warnings)
    (tmp_path / "leaderboard.json").write_text(result.to_json(), encoding="utf-8")
    (tmp_path / "leaderboard.md").write_text(format_leaderboard(result, "md"), encoding="utf-8")
    data = vd.load_source(tmp_path)
    assert lb.leaderboard_rows(data)[1] == result.warnings
    rows, warnings, how = lb.leaderboard_rows(data, "math")
    assert how == "leaderboard.json (per category)" and not rows.empty
    assert warnings == [w for w in result.warnings if w.startswith("category 'math':")] and warnings
    assert not any("'math'" in w for w in lb.leaderboard_rows(data, "writing")[1])


def test_pipeline_run_notes_on_the_page(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake pipeline's run (one math question: a category note) shows its leaderboard.md notes on the
    leaderboard page, as arena run printed them."""
    md = (run_dir / "leaderboard.md").read_text(encoding="utf-8")
    notes = [line.removeprefix("> note: ") for line in md.splitlines() if line.startswith("> note: ")]
    assert notes
    at = open_page(run_dir, DEFAULT, monkeypatch)
    shown = [w.value for w in at.warning]
    assert all(n in shown for n in notes), shown
    assert vd.load_source(run_dir).leaderboard_notes == notes
    # an older copy of the run, without leaderboard.md: the page opens, with no such note
    old = Path(shutil.copytree(run_dir, tmp_path / "old"))
    (old / "leaderboard.md").unlink()
    at = open_page(old, DEFAULT, monkeypatch)
    assert not at.exception and not any(n in [w.value for w in at.warning] for n in notes)
