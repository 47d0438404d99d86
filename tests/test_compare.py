"""``arena compare`` on real data: LLMFAO crowd votes against evalica's golden Bradley-Terry scores, a
leaderboard against itself and against its reverse, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from arena.cli import main
from arena.errors import DataError
from arena.rating.compare import Side, agreement, board_from_table, compare, format_comparison, load_side

LLMFAO = Path(__file__).resolve().parent / "data" / "llmfao"
CROWD = LLMFAO / "crowd-comparisons.csv"
GOLDEN = LLMFAO / "evalica_llmfao-golden.csv"
MAP = ["--map", "model_a=left,model_b=right", "--winner-labels", "left=model_a,right=model_b,tie=tie"]


@pytest.fixture(scope="module")
def crowd_board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("board") / "leaderboard.json"
    main(["rate", str(CROWD), *MAP, "--bootstrap", "50", "--format", "json", "--out", str(out)])
    return out


def _reversed(path: Path, dest: Path) -> Path:
    rows = json.loads(path.read_text(encoding="utf-8"))
    n = len(rows)
    flipped = [{"model": r["model"], "rating": -r["rating"], "ci_low": -r["ci_high"], "ci_high": -r["ci_low"],
                "rank": n + 1 - r["rank"]} for r in rows]
    dest.write_text(json.dumps(flipped), encoding="utf-8")
    return dest


def test_compare_with_itself_is_one(crowd_board: Path) -> None:
    side = load_side(crowd_board)
    result = compare(side, side)
    assert result["models"] == 59 and result["bootstrap"] is None
    for kind in ("rating", "rank"):
        for value in result["correlations"][kind].values():
            assert value == pytest.approx(1.0)
    ag = result["agreement"]
    assert ag["agreement"] == 1.0 and ag["same_order"] == ag["pairs_separated_by_b"] > 0
    assert ag["separability_a"] == ag["separability_b"]


def test_reversed_leaderboard_is_minus_one(crowd_board: Path, tmp_path: Path) -> None:
    result = compare(load_side(crowd_board), load_side(_reversed(crowd_board, tmp_path / "rev.json")))
    for kind in ("rating", "rank"):
        for value in result["correlations"][kind].values():
            assert value == pytest.approx(-1.0)
    ag = result["agreement"]
    assert ag["agreement"] == -1.0 and ag["opposite_order"] == ag["pairs_separated_by_b"] > 0


def test_agreement_counts_by_hand() -> None:
    # B separates m1>m2 (no overlap) and m1>m3; m2/m3 overlap in B. A: m1>m2 separated, m1/m3 overlap.
    b = board_from_table(pd.DataFrame({"model": ["m1", "m2", "m3"], "rating": [10.0, 0.0, 1.0],
                                       "ci_low": [9.0, -1.0, -1.0], "ci_high": [11.0, 1.0, 3.0]}), "b")
    a = board_from_table(pd.DataFrame({"model": ["m1", "m2", "m3"], "rating": [5.0, 0.0, 4.0],
                                       "ci_low": [4.0, -1.0, 2.0], "ci_high": [6.0, 1.0, 6.0]}), "a")
    ag = agreement(a, b)
    assert (ag["same_order"], ag["opposite_order"], ag["not_separated_by_a"]) == (1, 0, 1)
    assert ag["agreement"] == 0.5 and ag["separability_b"] == pytest.approx(2 / 3)
    # A separates m2<m3 too, but B does not: that pair is not counted.
    assert ag["separability_a"] == pytest.approx(2 / 3)


def test_a_board_without_intervals_has_no_separability() -> None:
    """Zero-width intervals (none given, or 0 bootstrap rounds) separate no pair by evidence: that side's
    separability is unknown, where it used to read 1.0 (every pair separated)."""
    bare = board_from_table(pd.DataFrame({"model": ["m1", "m2", "m3"], "rating": [3.0, 2.0, 1.0]}), "bare")
    wide = board_from_table(pd.DataFrame({"model": ["m1", "m2", "m3"], "rating": [3.0, 2.0, 1.0],
                                          "ci_low": [2.5, 0.0, 0.5], "ci_high": [3.5, 2.2, 1.5]}), "wide")
    ag = agreement(wide, bare)
    assert ag["separability_b"] is None and ag["separability_a"] == pytest.approx(2 / 3)
    assert ag["pairs_separated_by_b"] == 3 and ag["same_order"] == 2 and ag["not_separated_by_a"] == 1


def test_cli_crowd_votes_against_golden_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No script needed: the crowd CSV is mapped and rated, the golden file filtered to its BT column."""
    main(["compare", str(CROWD), str(GOLDEN), "--where", "algorithm=bradley_terry", *MAP,
          "--bootstrap", "20", "--seed", "1", "--format", "json", "--out", str(tmp_path / "c.json")])
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["models"] == 59 and not result["only_in_a"] and not result["only_in_b"]
    # The golden scores are Bradley-Terry on the same votes: the order is the same.
    assert result["correlations"]["rating"]["spearman"] == pytest.approx(1.0, abs=1e-9)
    assert result["correlations"]["rating"]["kendall"] == pytest.approx(1.0, abs=1e-9)
    ag = result["agreement"]
    # Scores without intervals order every pair (agreement counts them all) but have no separability.
    assert ag["opposite_order"] == 0 and ag["separability_b"] is None
    assert ag["pairs_separated_by_b"] == ag["pairs"] and ag["agreement"] == pytest.approx(ag["separability_a"])
    boot = result["bootstrap"]
    assert boot["rounds"] == 20 and boot["resampled"] == [str(CROWD)]
    low, high = boot["intervals"]["rating"]["spearman"]
    assert 0.8 < low <= high <= 1.0
    main(["compare", str(CROWD), str(GOLDEN), "--where", "algorithm=bradley_terry", *MAP, "--bootstrap", "5"])
    table = capsys.readouterr().out
    assert "spearman of ratings" in table and "agreement (A with B's separated pairs)" in table


def test_same_seed_same_intervals_and_md(crowd_board: Path) -> None:
    from arena.rating import RatingSettings

    settings = RatingSettings(bootstrap=20, seed=0)
    cols, labels = {"model_a": "left", "model_b": "right"}, {"left": "model_a", "right": "model_b", "tie": "tie"}
    a = load_side(CROWD, columns=cols, winner_labels=labels, settings=settings)
    b = load_side(crowd_board)
    one, two = compare(a, b, bootstrap=10, seed=5), compare(a, b, bootstrap=10, seed=5)
    assert one["bootstrap"] == two["bootstrap"]
    md = format_comparison(one, "md")
    assert "| spearman of ratings |" in md and "95% CI (10 rounds)" in md


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    few = tmp_path / "few.csv"
    few.write_text("model,rating\nGPT 4,1\nsomething else,2\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(few), str(GOLDEN), "--where", "algorithm=bradley_terry"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "share 1 model(s)" in err
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(GOLDEN), str(GOLDEN)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "--where algorithm=bradley_terry" in err
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(CROWD), str(GOLDEN)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "not a leaderboard" in err
    with pytest.raises(DataError, match="no leaderboard.json"):
        load_side(tmp_path)
    for name, text in (("gap.csv", "model,rating\na,1000\n,1010\nb,990\n"),
                       ("gap.json", '[{"model": "a", "rating": 1000}, {"model": null, "rating": 1010}]'),
                       ("blank.csv", 'model,rating\na,1000\n"  ",1010\n')):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")  # a row without a model crashed (TypeError sorting the names)
        with pytest.raises(SystemExit) as exc:
            main(["compare", str(path), str(few)])
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and err.count("\n") == 0 and "row 2: no model name in column 'model'" in err, err


def test_side_from_run_dir(tmp_path: Path, crowd_board: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "leaderboard.json").write_text(crowd_board.read_text(encoding="utf-8"), encoding="utf-8")
    side: Side = load_side(run)
    assert len(side.board) == 59 and side.battles is None


def test_compare_reports_benchmark_quality_of_battle_sides() -> None:
    side_a = load_side(CROWD, columns={"model_a": "left", "model_b": "right"},
                       winner_labels={"left": "model_a", "right": "model_b", "tie": "tie"})
    side_b = load_side(GOLDEN, where={"algorithm": "bradley_terry"})
    result = compare(side_a, side_b, bootstrap=0)
    quality = result["quality"]
    assert quality["b"] is None and quality["a"]["reference"]["models"] == result["models"]
    assert quality["a"]["separability"]["share"] is None and quality["a"]["reference"]["agreement"] is None
    assert quality["a"]["fragility"]["battles_to_change_top"] >= 1
    text = format_comparison(result)
    assert "fewest battles to change #1" in text and "pair-rank Brier of A vs B" in text


def test_correlation_intervals_come_from_each_side_s_own_bootstrap() -> None:
    """The rounds behind the correlation intervals are the side's own rating bootstrap (the leaderboard's, reused
    when its rounds and seed match); the two sides resample independently (B with the seed + 1), so a battles
    file compared with itself gets a correlation of 1 with an interval below 1, not a degenerate [1, 1]."""
    from arena.rating import RatingSettings, compute_leaderboard
    from arena.rating.compare import _bootstrap_ratings

    cols, labels = {"model_a": "left", "model_b": "right"}, {"left": "model_a", "right": "model_b", "tie": "tie"}
    a, b = (load_side(CROWD, columns=cols, winner_labels=labels, settings=RatingSettings(bootstrap=30, seed=s))
            for s in (7, 7))
    assert _bootstrap_ratings(a, 30, 7) is a.samples
    again = compute_leaderboard(a.battles, RatingSettings(bootstrap=30, seed=8)).samples
    pd.testing.assert_frame_equal(_bootstrap_ratings(b, 30, 8), again)
    result = compare(a, b, bootstrap=30, seed=7)
    assert result["correlations"]["rating"]["spearman"] == pytest.approx(1.0)
    low, high = result["bootstrap"]["intervals"]["rating"]["spearman"]
    assert 0.5 < low <= high < 1.0


@pytest.mark.parametrize(("model", "rating"), [("Model", "Arena Score"), ("model_name", "elo"), ("name", "ELO_RATING")])
def test_leaderboards_read_under_the_names_other_tools_write(tmp_path: Path, model: str, rating: str) -> None:
    """LMArena's ``Model, Arena Score``, older Chatbot Arena tables' ``elo``: the same board as ``model, rating``."""
    ours = pd.DataFrame({"model": ["a", "b", "c"], "rating": [1000.0, 1100.0, 900.0]})
    theirs = ours.rename(columns={"model": model, "rating": rating})
    pd.testing.assert_frame_equal(board_from_table(theirs, "t"), board_from_table(ours, "o"))


def test_battles_on_one_question_compare_without_bootstrap_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every battle on one question: question resampling cannot vary it, so the correlations get no interval (with
    a note) and separability, max-t agreement and the Brier score are n/a, where compare used to stop with 'gives
    no bootstrap samples' (and the quality section read separability 0 and a perfect Brier score of 0)."""
    rows = [{"question_id": "q1", "model_a": a, "model_b": b, "winner": ("model_a", "model_b", "tie")[k % 3]}
            for k, (a, b) in enumerate([("x", "y"), ("y", "z"), ("x", "z")] * 15)]
    path = tmp_path / "one.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    main(["compare", str(path), str(path), "--bootstrap", "20", "--format", "json", "--out", str(tmp_path / "c.json")])
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["bootstrap"] is None and any("resamples are all alike" in n for n in result["notes"])
    for side in ("a", "b"):
        quality = result["quality"][side]
        assert quality["separability"]["share"] is None
        assert quality["reference"]["agreement"] is None and quality["reference"]["brier"] is None
