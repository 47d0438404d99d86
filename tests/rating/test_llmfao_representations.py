"""Real data: the 8,931 LLMFAO crowd votes (tests/data/llmfao, CC BY 4.0) as rows, aggregated counts and
frequency weights, through the API and ``arena rate`` (with ``--map`` / ``--winner-labels`` on the
crowd CSV as published)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from arena.cli.rate import command
from arena.rating import RatingSettings, compute_leaderboard, elo_updates, validate_frame

DATA = Path(__file__).resolve().parents[1] / "data" / "llmfao"
CROWD = DATA / "crowd-comparisons.csv"
EXACT = 1e-9
FIELDS = ("rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "battles", "wins", "losses", "ties")
ELO_SPEARMAN = 0.95
"""Elo in another order of the same votes: reshuffling the rows themselves gives ~0.97 on this data."""
ELO_MEAN_ABS = 15.0
"""Mean absolute Elo difference between orders; reshuffling the rows themselves gives ~10 points."""


def _aggregate(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Identical (model_a, model_b, winner) votes merged into one row; ``column`` says how many."""
    keys = ["model_a", "model_b", "winner"]
    return rows.groupby(keys, sort=False).size().rename(column).reset_index()


def _rows(res) -> dict[str, dict]:
    return {r["model"]: r for r in res.rows}


def _assert_same(got, want) -> None:
    g, w = _rows(got), _rows(want)
    assert set(g) == set(w)
    for model, row in w.items():
        for field in FIELDS:
            assert g[model][field] == pytest.approx(row[field], abs=EXACT), (model, field)


@pytest.fixture(scope="module")
def votes(llmfao_frame) -> pd.DataFrame:
    """The crowd votes without question ids: every vote is its own resampling unit."""
    return llmfao_frame.drop(columns=["question_id"])


@pytest.mark.parametrize("column", ["count", "weight"])
@pytest.mark.parametrize("resample", ["question", "battle"])
def test_bt_on_aggregated_votes_equals_rows(votes, column, resample):
    settings = RatingSettings(bootstrap=100, seed=1, resample=resample)
    want = compute_leaderboard(votes, settings)
    agg = _aggregate(votes, column)
    assert len(agg) == 2681  # 8,931 votes in 2,681 distinct (left, right, winner) rows
    got = compute_leaderboard(agg, settings)
    _assert_same(got, want)
    assert [r["model"] for r in got.rows] == [r["model"] for r in want.rows]
    assert sum(r["battles"] for r in got.rows) == 2 * len(votes)


def test_bt_battle_resampling_with_questions_equals_counts_across_questions(llmfao_frame):
    """Votes keyed by prompt, aggregated across prompts: equal when single votes are resampled."""
    settings = RatingSettings(bootstrap=100, seed=2, resample="battle")
    want = compute_leaderboard(llmfao_frame, settings)
    got = compute_leaderboard(_aggregate(llmfao_frame, "count"), settings)
    _assert_same(got, want)


def test_elo_on_counts_is_elo_on_the_expanded_votes_in_the_documented_order(votes):
    """Counts run as the seeded shuffle of the expanded votes; that sequence written out as rows is equal."""
    seed = 4
    agg = _aggregate(votes, "count")
    settings = RatingSettings(method="elo", bootstrap=0, seed=seed)
    got = compute_leaderboard(agg, settings)
    assert any(f"shuffled with seed {seed}" in w for w in got.warnings)
    order, step = elo_updates(agg["count"].to_numpy(float), None, "auto", np.random.default_rng(seed))
    assert (step == 1).all() and len(order) == len(votes)
    expanded = agg.drop(columns=["count"]).iloc[order].reset_index(drop=True)
    want = compute_leaderboard(expanded, settings)
    _assert_same(got, want)
    # ... and close to Elo over the votes in file order, as close as another order of the rows.
    in_file_order = pd.Series({m: r["rating"] for m, r in _rows(compute_leaderboard(votes, settings)).items()})
    on_counts = pd.Series({m: r["rating"] for m, r in _rows(got).items()})
    assert in_file_order.corr(on_counts, method="spearman") > ELO_SPEARMAN
    assert (in_file_order - on_counts).abs().mean() < ELO_MEAN_ABS


def test_elo_counts_in_file_order_equal_adjacent_rows(votes):
    """--elo-order file: a count-n row is n consecutive votes, exactly."""
    agg = _aggregate(votes, "count")
    settings = RatingSettings(method="elo", bootstrap=20, seed=0, elo={"order": "file"})
    expanded = agg.loc[agg.index.repeat(agg["count"])].drop(columns=["count"]).reset_index(drop=True)
    _assert_same(compute_leaderboard(agg, settings), compute_leaderboard(expanded, settings))


def _rate(args: list[str]) -> list[dict]:
    res = CliRunner().invoke(command, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_crowd_csv_as_published_through_map_and_winner_labels(llmfao_frame):
    """`arena rate crowd-comparisons.csv --map ... --winner-labels ...` gives the golden path's BT ratings."""
    want = compute_leaderboard(llmfao_frame, RatingSettings(bootstrap=0))
    gold = {r["model"]: r for r in want.rows}
    labels = ["--winner-labels", "left=model_a,right=model_b,tie=tie"]
    common = [str(CROWD), "--format", "json", "--bootstrap", "0", *labels]
    by_id = _rate([*common, "--map", "model_a=model_x,model_b=model_y"])
    raw = pd.read_csv(CROWD)
    name_of = {str(k): v for k, v in zip(raw["model_x"], raw["left"], strict=True)}
    name_of.update({str(k): v for k, v in zip(raw["model_y"], raw["right"], strict=True)})
    assert len(by_id) == len(gold) == 59
    for row in by_id:
        g = gold[name_of[row["model"]]]
        assert row["rating"] == pytest.approx(g["rating"], abs=EXACT)
        assert (row["battles"], row["wins"], row["ties"]) == (g["battles"], g["wins"], g["ties"])
    by_name = _rate([*common, "--map", "model_a=left,model_b=right,question_id=prompt"])
    assert [(r["model"], r["rating"]) for r in by_name] == [(r["model"], r["rating"]) for r in want.rows]


def test_aggregated_csv_through_arena_rate_equals_rows(votes, tmp_path):
    rows_path, counts_path = tmp_path / "rows.csv", tmp_path / "counts.jsonl"
    votes.to_csv(rows_path, index=False)
    _aggregate(votes, "count").to_json(counts_path, orient="records", lines=True)
    args = ["--format", "json", "--bootstrap", "50", "--seed", "7"]
    assert _rate([str(counts_path), *args]) == _rate([str(rows_path), *args])


def test_validated_votes_keep_file_order(votes):
    frame = validate_frame(votes)
    assert frame["model_a"].tolist() == votes["model_a"].tolist()
