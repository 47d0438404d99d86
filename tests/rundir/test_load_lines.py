"""arena.rundir.load: the one JSONL reader of a run dir (orjson lines, torn tails, broken lines) and judgments
validated on first use; the browser reads a run dir through it."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from arena.records import Judgment, LeaderboardRow
from arena.rundir.load import bulk_read, load_run, read_lines


def _judgment(key: str, verdict: str | None = "A>B") -> dict[str, object]:
    return Judgment(key=key, game_key="g" + key, mode="pairwise-all", question_id="q0", model_a="a", model_b="b",
                    answer_a="ka", answer_b="kb", judge="fake", prompt_set="p", prompt_name="n", prompt_version="1",
                    verdict=verdict).model_dump(mode="json")


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.mark.parametrize(
    ("text", "objects", "note"),
    [
        ('{"a": 1}\n\n{"a": 2}\n', [(1, 1), (3, 2)], None),
        ('{"a": 1}\n{"a": 2}', [(1, 1), (2, 2)], None),  # a whole last line without newline is kept (read_jsonl's rule)
        ('{"a": 1}\n{"a": ', [(1, 1)], "the last line is incomplete"),
        ('{"a": 1}\n{"a": \n{"a": 3}\n', [(1, 1)], "f.jsonl:2: not valid JSON"),
        ('{"a": 1}\n[1, 2]\n', [(1, 1)], "f.jsonl:2: expected a JSON object"),
        ('{"a": NaN}\n', [(1, float("nan"))], None),  # not JSON to orjson; the standard reader takes it, as before
    ],
)
def test_read_lines(tmp_path: Path, text: str, objects: list[tuple[int, object]], note: str | None) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(text, encoding="utf-8")
    notes: list[str] = []
    lines = read_lines(path, notes)
    got = [(int(where.rsplit(":", 1)[1]), obj["a"]) for where, obj in lines]
    assert [n for n, _ in got] == [n for n, _ in objects]
    assert [str(v) for _, v in got] == [str(v) for _, v in objects]
    assert all(where.startswith(f"{path}:") for where, _ in lines)
    assert (note is None and notes == []) or (len(notes) == 1 and note is not None and note in notes[0]), notes


def test_judgments_are_validated_on_first_use(tmp_path: Path) -> None:
    bad = _judgment("j2") | {"verdict": "A>>>B"}
    retried = _judgment("j1", verdict=None) | {"error": "parse"}
    (tmp_path / "judgments.jsonl").write_text(_jsonl([retried, bad, _judgment("j1"), _judgment("j3")]))
    run = load_run(tmp_path)
    assert len(run.judgment_lines) == 4 and run.judgment_problems == [] and run.notes == []
    assert [(j.key, j.verdict) for j in run.judgments] == [("j1", "A>B"), ("j3", "A>B")]  # j1: its last line
    assert len(run.judgment_problems) == 1 and "judgments.jsonl:2: field 'verdict'" in run.judgment_problems[0]
    assert run.notes == run.judgment_problems and run.notes[0].endswith("the line is skipped")
    assert run.judgments is run.judgments  # validated once


def test_the_browser_reads_a_run_dir_through_load_run(tmp_path: Path) -> None:
    from arena import browse as vd

    (tmp_path / "judgments.jsonl").write_text(_jsonl([_judgment("j1"), _judgment("j2") | {"verdict": "A>>>B"}]))
    (tmp_path / "leaderboard.json").write_text(json.dumps([{"model": "a", "rating": 1010.0, "ci_low": 1000.0,
        "ci_high": 1020.0, "rank": 1, "battles": 2, "wins": 1.5, "losses": 0, "ties": 0.5}]))
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "m", "imported": {
        "format": "fastchat", "source": "/x", "mode": "pairwise-baseline", "baseline": "b"}}))
    data = vd.load_source(tmp_path)
    assert data.run is not None and data.manifest is data.run.manifest and data.notes is data.run.notes
    assert (data.mode, data.baseline) == ("pairwise-baseline", "b")
    assert data.leaderboard is not None and isinstance(data.leaderboard[0], LeaderboardRow)
    rows, _, how = vd.leaderboard_rows(data)
    assert "as written" in how and rows.iloc[0][["battles", "wins"]].tolist() == [2, 1.5]
    assert rows["battles"].dtype.kind == "i"  # whole counts stay integers, as the file has them
    assert len(data.judgments) == 2  # the browser's frame: every key, as on disk
    report, how = vd.judge_summary(data)  # a judgment that does not validate: no report on a subset
    assert how.startswith("estimated from the battles (judgments.jsonl unreadable") and "judgments.jsonl:2" in how
    assert report.judgments == 2


def test_leaderboard_row_keeps_whole_counts_whole() -> None:
    row = LeaderboardRow.model_validate({"model": "a", "battles": 3, "wins": 1.5, "losses": 0, "ties": 1.5})
    assert json.loads(row.model_dump_json())["battles"] == 3 and isinstance(row.model_dump()["battles"], int)
    assert row.model_dump()["wins"] == 1.5


@pytest.mark.parametrize("enabled", [True, False])
def test_bulk_read_restores_the_collector(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with bulk_read():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), bulk_read():
            raise RuntimeError
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_bulk_frame_is_the_frame_of_the_objects(tmp_path: Path) -> None:
    import pandas as pd

    from arena.rundir.load import bulk_frame

    rows = [_judgment("j1") | {"created": "2026-01-02T03:04:05Z", "notes": ["n"]},
            _judgment("j2", verdict=None) | {"error": "parse", "score": None, "turn": 2},
            _judgment("j3") | {"extra": 1.5}]
    raw = _jsonl(rows).encode()
    want = pd.DataFrame(rows)
    got = bulk_frame(raw)
    assert got is not None and list(got.columns) == list(want.columns)
    for c in want.columns:
        assert got[c].dtype == want[c].dtype, c
        assert got[c].tolist() == want[c].tolist() or got[c].equals(want[c]), c
    assert got["created"].tolist()[0] == "2026-01-02T03:04:05Z"  # text, not a timestamp
    assert "created" not in bulk_frame(_jsonl([{"a": 1}]).encode())  # a forced field absent from the file
    assert bulk_frame(b"\n") is None
    # objects (pyarrow: a struct of every key any line has) and lists of numbers: the caller parses the lines
    assert bulk_frame(_jsonl([{"p": {"A>B": 0.7}}, {"p": {"B>A": 0.3}}]).encode()) is None
    assert bulk_frame(_jsonl([{"x": [1]}, {"x": [1.5]}]).encode()) is None
    assert bulk_frame(b'{"a": 1}\n{"a": \n') is None  # a broken line: the caller parses the lines


def test_the_judgment_frame_of_a_torn_file_leaves_the_torn_line_out(tmp_path: Path) -> None:
    """A run still judging: the whole lines are read in bulk, the torn last one left out with one note (as the
    line reader leaves it out); a last line that is JSON without a newline is kept."""
    (tmp_path / "judgments.jsonl").write_text(_jsonl([_judgment("j1"), _judgment("j2")]) + '{"key": "j3", ')
    run = load_run(tmp_path)
    frame = run.judgment_frame()
    assert frame is not None and frame["key"].tolist() == ["j1", "j2"]
    assert len(run.notes) == 1 and "last line is incomplete" in run.notes[0]
    assert len(run.judgment_lines) == 2 and len(run.notes) == 1
    (tmp_path / "judgments.jsonl").write_text(_jsonl([_judgment("j1"), _judgment("j2")]).rstrip("\n"))
    run = load_run(tmp_path)
    frame = run.judgment_frame()
    assert frame is not None and frame["key"].tolist() == ["j1", "j2"] and run.notes == []


def test_a_judgment_line_of_another_shape_is_skipped_in_the_frame_with_a_note(tmp_path: Path) -> None:
    """A verdict written as a list (or any value that does not validate) crashed the browser's battle table
    (unhashable type: 'list'): such a line is skipped with its file:line note, as Run.judgments skips it."""
    bad = {**_judgment("j2"), "verdict": ["A"]}
    (tmp_path / "judgments.jsonl").write_text(_jsonl([_judgment("j1"), bad, _judgment("j3")]))
    run = load_run(tmp_path)
    frame = run.judgment_frame()
    assert frame is not None and frame["key"].tolist() == ["j1", "j3"]
    assert len(run.notes) == 1 and "judgments.jsonl:2" in run.notes[0] and "skipped" in run.notes[0]
    assert [j.key for j in run.judgments] == ["j1", "j3"] and len(run.notes) == 1
    from arena import browse as vd

    data = vd.load_source(tmp_path)
    assert data.table["bid"].tolist() == ["j1", "j3"]
