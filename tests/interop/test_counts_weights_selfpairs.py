"""Regression tests on real data: pair counts stay counts, weighted preferences count as games, self-pairs
are dropped with a note, a failed import leaves no half-written run dir, table imports take --map.

Data: ``tests/data/chatbot_arena/llmfao_pair_counts.csv`` (all 8,931 LLMFAO crowd votes aggregated into
2,181 pair/outcome rows), ``tests/data/alpaca_eval/annotations.json`` (alpaca_eval-shaped weighted
preferences over real Vicuna-80 answers, with the baseline judged against itself), and LLMFAO's crowd CSV.
See the SOURCE.md files next to them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from arena.cli import main
from arena.errors import DataError
from arena.interop import import_run
from tests.interop.conftest import DATA

COUNTS = DATA / "chatbot_arena" / "llmfao_pair_counts.csv"
ANNOTATIONS = DATA / "alpaca_eval" / "annotations.json"
CROWD = DATA / "llmfao" / "crowd-comparisons.csv"
ROW_KEYS = ("model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "losses", "ties")
LLMFAO_MAP = ["--map", "model_a=left,model_b=right", "--winner-labels", "left=model_a,right=model_b,tie=tie"]


def _rows(path: Path) -> list[tuple[object, ...]]:
    return [tuple(r[k] for k in ROW_KEYS) for r in json.loads(path.read_text(encoding="utf-8"))]


def test_counts_file_import_equals_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bug 1: import folded count into weight and bootstrapped rows (intervals 13-23x too wide, battles = rows)."""
    main(["rate", str(COUNTS), "--bootstrap", "50", "--seed", "3", "--format", "json", "--out", str(tmp_path / "r.json")])
    main(["import", "chatbot-arena", str(COUNTS), str(tmp_path / "run"), "--bootstrap", "50", "--seed", "3"])
    err = capsys.readouterr().err
    assert "2181 aggregated rows standing for 8931 battles" in err
    rated, imported = _rows(tmp_path / "r.json"), _rows(tmp_path / "run" / "leaderboard.json")
    assert imported == rated
    # battles are votes, not rows: every vote has two sides.
    with COUNTS.open(encoding="utf-8") as fh:
        votes = sum(int(r["count"]) for r in csv.DictReader(fh))
    assert sum(r[ROW_KEYS.index("battles")] for r in imported) == 2 * votes
    lines = (tmp_path / "run" / "battles.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2181 and sum(json.loads(line)["count"] for line in lines) == votes
    assert all(json.loads(line)["weight"] == 1.0 for line in lines)


def test_counts_equal_expanded_rows(tmp_path: Path) -> None:
    """A row with count n means n identical rows: point ratings and battle totals agree (no bootstrap)."""
    with COUNTS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:120]
    small = tmp_path / "counts.csv"
    expanded = tmp_path / "expanded.csv"
    with small.open("w", newline="", encoding="utf-8") as f1, expanded.open("w", newline="", encoding="utf-8") as f2:
        w1, w2 = csv.writer(f1), csv.writer(f2)
        w1.writerow(["model_a", "model_b", "winner", "count"])
        w2.writerow(["model_a", "model_b", "winner"])
        for r in rows:
            w1.writerow([r["model_a"], r["model_b"], r["winner"], r["count"]])
            w2.writerows([[r["model_a"], r["model_b"], r["winner"]]] * int(r["count"]))
    a = import_run("chatbot-arena", small, tmp_path / "a", bootstrap=0).leaderboard.rows
    b = import_run("chatbot-arena", expanded, tmp_path / "b", bootstrap=0).leaderboard.rows
    assert [(r["model"], r["battles"], r["wins"], r["ties"]) for r in a] == \
        [(r["model"], r["battles"], r["wins"], r["ties"]) for r in b]
    for x, y in zip(a, b, strict=True):
        assert x["rating"] == pytest.approx(y["rating"], abs=1e-6)


def _annotations() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))
    return data


def test_alpaca_eval_self_pairs_dropped_and_weighted_games(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bugs 2 and 3: the baseline judged against itself failed the import ("plays itself"); weighted
    preferences (two rows per game) must count as one game each, with W/L weighted."""
    records = _annotations()
    selfish = sum(1 for r in records if r["generator_1"] == r["generator_2"])
    assert selfish == 10
    main(["import", "alpaca-eval", str(ANNOTATIONS), str(tmp_path / "run"), "--bootstrap", "20"])
    captured = capsys.readouterr()
    # p = 0.5 for each self-pair: two rows of weight 0.5 per game.
    assert f"dropped {selfish} self-pair games ({2 * selfish} battle rows, {selfish} judgments)" in captured.err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert any(f"dropped {selfish} self-pair games" in n and "vicuna-13b x10" in n for n in manifest["notes"])
    battles = [json.loads(line) for line in (tmp_path / "run" / "battles.jsonl").read_text().splitlines()]
    assert all(b["model_a"] != b["model_b"] for b in battles)
    # Each uncertain game is two rows whose weights sum to 1.
    per_game = Counter()
    for b in battles:
        per_game[b["key"]] += b["weight"]
    assert all(v == pytest.approx(1.0) for v in per_game.values())
    games = [r for r in records if r["generator_1"] != r["generator_2"]]
    assert len(per_game) == len(games) == 40
    board = {r["model"]: r for r in json.loads((tmp_path / "run" / "leaderboard.json").read_text())}
    for model in {str(r["generator_2"]) for r in games}:
        mine = [r for r in games if r["generator_2"] == model]
        p = [float(r["preference"]) - 1 for r in mine]  # type: ignore[arg-type]
        row = board[model]
        assert row["battles"] == pytest.approx(len(mine)), model
        assert row["wins"] == pytest.approx(sum(p), abs=1e-3), model  # the leaderboard keeps 3 decimals
        assert row["losses"] == pytest.approx(len(mine) - sum(p), abs=1e-3), model
    assert board["vicuna-13b"]["battles"] == pytest.approx(len(games))


def test_chatbot_arena_self_pairs_dropped(tmp_path: Path) -> None:
    with COUNTS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:30]
    path = tmp_path / "votes.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["model_a", "model_b", "winner", "count"])
        w.writeheader()
        w.writerows(rows)
        w.writerow({"model_a": rows[0]["model_a"], "model_b": rows[0]["model_a"], "winner": "tie", "count": 7})
    result = import_run("chatbot-arena", path, tmp_path / "run", bootstrap=0)
    assert f"dropped 1 self-pair battle row (a model against itself): {rows[0]['model_a']} x1" \
        in result.imported.notes
    assert len((tmp_path / "run" / "battles.jsonl").read_text().splitlines()) == 30


def test_failed_import_leaves_no_partial_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug 3: an error midway (here in the rating step) left a half-written run dir behind."""
    import arena.rating

    def boom(*args: object, **kwargs: object) -> None:
        raise DataError("rating failed on purpose")

    monkeypatch.setattr(arena.rating, "compute_leaderboard", boom)
    with pytest.raises(DataError, match="on purpose"):
        import_run("alpaca-eval", ANNOTATIONS, tmp_path / "fresh", bootstrap=0)
    assert not (tmp_path / "fresh").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "README.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(DataError, match="on purpose"):
        import_run("alpaca-eval", ANNOTATIONS, existing, bootstrap=0)
    assert sorted(p.name for p in existing.iterdir()) == ["README.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    import_run("alpaca-eval", ANNOTATIONS, existing, bootstrap=0)
    assert {"README.txt", "battles.jsonl", "leaderboard.json", "manifest.json"} <= {p.name for p in existing.iterdir()}


def test_import_llmfao_crowd_csv_with_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 4: a table in another tool's columns and labels imports with --map / --winner-labels."""
    main(["import", "chatbot-arena", str(CROWD), str(tmp_path / "run"), "--bootstrap", "20", *LLMFAO_MAP])
    assert "8931 battle rows" in capsys.readouterr().out
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert len(board) == 59 and sum(r["battles"] for r in board) == 2 * 8931
    # The same votes as pair counts give the same point ratings.
    counted = import_run("chatbot-arena", COUNTS, tmp_path / "counted", bootstrap=0).leaderboard.rows
    crowd = {r["model"]: r["rating"] for r in board}
    for r in counted:
        assert r["rating"] == pytest.approx(crowd[r["model"]], abs=1e-6)


def test_import_table_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["import", "chatbot-arena", str(CROWD), str(tmp_path / "run")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing column(s) model_a, model_b" in err and "--map" in err
    with pytest.raises(SystemExit) as exc:
        main(["import", "chatbot-arena", str(CROWD), str(tmp_path / "run"), "--map", "model_a=left,model_b=right"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "unknown winner 'tie'" not in err
    assert "unknown winner" in err and "--winner-labels" in err
    # A CSV where JSON is expected: by suffix, and by content under a .json name.
    with pytest.raises(DataError, match=r"crowd-comparisons.csv: looks like a CSV table, but this format reads JSON"):
        import_run("alpaca-eval", CROWD, tmp_path / "run")
    disguised = tmp_path / "annotations.json"
    disguised.write_text(CROWD.read_text(encoding="utf-8")[:2000], encoding="utf-8")
    with pytest.raises(DataError, match=r"annotations.json: looks like a CSV table"):
        import_run("alpaca-eval", disguised, tmp_path / "run")
    with pytest.raises(SystemExit) as exc:
        main(["import", "alpaca-eval", str(ANNOTATIONS), str(tmp_path / "run"), "--map", "model_a=left"])
    assert exc.value.code == 2 and "table-shaped formats" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
