"""arena.browse.votes: the games to vote on, their order, validation, writing and access control."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from arena import browse as vd
from arena.browse import votes as bv
from arena.errors import UserError
from arena.records import HumanVote


def games_frame() -> pd.DataFrame:
    """Four hand-made games: a flipped one, a close one, a lopsided one and an unjudged one."""
    return pd.DataFrame({
        "game_key": ["flip", "close", "lopsided", "unjudged"], "question_id": ["1", "2", "3", "4"],
        "turn": [1, 1, 1, 2], "category": ["c"] * 4, "model_a": ["x"] * 4, "model_b": ["y"] * 4,
        "answer_a": ["a1", "a2", "a3", "a4"], "answer_b": ["b1", "b2", "b3", "b4"],
        "flip": [True, False, False, False], "judge_share_a": [0.5, 0.5, 1.0, float("nan")],
    })


def vote(game: str, who: str = "ann", label: str = "A") -> HumanVote:
    return HumanVote(game_key=game, question_id="1", model_a="x", model_b="y", shown_left="x", label=label,  # type: ignore[arg-type]
                     annotator=who)


def test_flipped_then_close_then_lopsided() -> None:
    order = bv.order_games(games_frame(), [], seed=0)
    assert order[0] == "flip"  # flip (1) + closeness (1)
    assert set(order[1:3]) == {"close", "unjudged"}  # closeness 1 each: seeded order between them
    assert order[3] == "lopsided"


def test_votes_so_far_push_a_game_back_and_own_votes_remove_it() -> None:
    g = games_frame()
    others = [vote("flip", "bob"), vote("flip", "carl"), vote("flip", "dora")]
    assert bv.order_games(g, others, seed=0, annotator="ann")[-2:] == ["flip", "lopsided"]  # 2/(1+3): < 1, > 0
    mine = [vote("close", "ann", "skip")]
    assert "close" not in bv.order_games(g, mine, seed=0, annotator="ann")
    assert "close" in bv.order_games(g, mine, seed=0, annotator="bob")
    # a skip is not a vote on the game: for others its score is unchanged
    assert bv.order_games(g, mine, seed=0, annotator="bob") == bv.order_games(g, [], seed=0, annotator="bob")


def test_order_is_seeded_and_predicted_probabilities_count() -> None:
    g = pd.concat([games_frame()] * 1, ignore_index=True)
    assert bv.order_games(g, [], seed=1) == bv.order_games(g.sample(frac=1, random_state=3), [], seed=1)
    ties = pd.DataFrame({**{c: [games_frame()[c][1]] * 30 for c in bv.GAME_COLUMNS}})
    ties["game_key"] = [f"g{i}" for i in range(30)]
    assert bv.order_games(ties, [], seed=1) != bv.order_games(ties, [], seed=2)
    # the ratings say "close" is lopsided: it drops below the unjudged game
    order = bv.order_games(games_frame(), [], seed=0, predicted_a={"close": 0.99})
    assert order.index("close") > order.index("unjudged")


def test_vote_games_of_a_run(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    g = bv.vote_games(data)
    assert len(g) == g["game_key"].nunique() == data.table["game_key"].nunique()
    assert (g["model_a"] != g["model_b"]).all()
    unswapped = data.table[~data.table["swapped"]].set_index("game_key")
    for r in g.itertuples():
        assert (r.model_a, r.answer_a) == (unswapped.loc[r.game_key, "model_a"], unswapped.loc[r.game_key, "answer_a"])
    assert g["flip"].sum() == data.table.loc[data.table["flip"], "game_key"].nunique()


def test_left_model_is_a_seeded_coin() -> None:
    g = games_frame()
    sides = [bv.left_model(r, "ann", 0) for r in g.to_dict("records")] * 1
    assert sides == [bv.left_model(r, "ann", 0) for r in g.to_dict("records")]
    many = pd.DataFrame({"game_key": [f"g{i}" for i in range(200)], "model_a": "x", "model_b": "y"})
    left = [bv.left_model(r, "ann", 0) for r in many.to_dict("records")]
    assert 60 < left.count("x") < 140


@pytest.mark.parametrize(("label", "left", "winner"), [
    ("A", "x", "model_a"), ("A", "y", "model_b"), ("B", "x", "model_b"), ("B", "y", "model_a"),
    ("tie", "y", "tie"), ("bothbad", "x", "tie (bothbad)"), ("skip", "x", None),
])
def test_vote_winner_in_model_terms(label: str, left: str, winner: str | None) -> None:
    v = bv.make_vote(games_frame(), "close", label, " ann ", left)
    assert v.winner == winner and v.annotator == "ann" and v.model_a == "x" and v.vote_id


@pytest.mark.parametrize(("game", "label", "who", "left", "match"), [
    ("nope", "A", "ann", "x", "not a judged game"),
    ("close", "C", "ann", "x", "vote label 'C' unknown"),
    ("close", "A", "  ", "x", "enter your name"),
    ("close", "A", "a\x00b", "x", "printable"),
    ("close", "A", "a" * 65, "x", "at most 64"),
    ("close", "A", "ann", "z", "not a model of game"),
])
def test_bad_votes_are_refused(game: str, label: str, who: str, left: str, match: str) -> None:
    with pytest.raises(UserError, match=match):
        bv.make_vote(games_frame(), game, label, who, left)


def test_inconsistent_line_on_disk_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match label"):
        HumanVote(game_key="g", question_id="1", model_a="x", model_b="y", shown_left="x", label="A",
                  winner="model_b", annotator="ann")


def test_cast_vote_writes_one_line_in_the_run_dir_only(tmp_path: Path, run_dir: Path) -> None:
    import shutil

    run = shutil.copytree(run_dir, tmp_path / "run")
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    data = vd.load_source(run)
    games = bv.vote_games(data)
    g = games.iloc[0]
    bv.cast_vote(data, games, g["game_key"], "B", "ann", g["model_b"])
    with pytest.raises(UserError):
        bv.cast_vote(data, games, "../../etc/passwd", "A", "ann", g["model_a"])
    after = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    assert set(after) - set(before) == {run / "human_votes.jsonl"}
    assert all(after[p] == before[p] for p in before)
    line = json.loads((run / "human_votes.jsonl").read_text())
    assert line["winner"] == "model_a" and line["judge"] == "human" and line["question_id"] == g["question_id"]
    assert [v.vote_id for v in bv.load_votes(vd.load_source(run))] == [line["vote_id"]]


def test_a_repeated_vote_is_kept_on_disk_and_counted_once(tmp_path: Path, run_dir: Path) -> None:
    """cast_vote appends a second vote of one annotator on one game (two tabs, a change of mind); the people
    leaderboard, the judge comparison and the vote queue count that annotator's latest vote on the game only,
    and the leaderboard says how many were replaced. Another annotator's vote on the game still counts."""
    import shutil

    from arena.browse import people as bp
    from arena.records.votes import latest_votes

    run = shutil.copytree(run_dir, tmp_path / "run")
    data = vd.load_source(run)
    games = bv.vote_games(data)
    g, other = games.iloc[0], games.iloc[1]
    assert bv.earlier_vote(bv.load_votes(data), "ann", g["game_key"]) is None
    bv.cast_vote(data, games, g["game_key"], "A", "ann", g["model_a"])  # model_a wins
    bv.cast_vote(data, games, g["game_key"], "A", "ann", g["model_a"])  # a double submit
    bv.cast_vote(data, games, g["game_key"], "skip", "ann", g["model_a"])  # a skip replaces nothing
    earlier = bv.earlier_vote(bv.load_votes(data), "ann", g["game_key"])
    assert earlier is not None and earlier.label == "A"
    bv.cast_vote(data, games, g["game_key"], "B", "ann", g["model_a"])  # changed mind: model_b wins
    bv.cast_vote(data, games, g["game_key"], "A", "bob", g["model_a"])  # another person: counts apart
    bv.cast_vote(data, games, other["game_key"], "A", "ann", other["model_a"])
    votes = bv.load_votes(data)
    assert len(votes) == 6  # the file keeps every vote
    counted = latest_votes(votes)
    assert [(v.annotator, v.label) for v in counted if v.game_key == g["game_key"]] == [("ann", "skip"), ("ann", "B"), ("bob", "A")]

    rows, warnings, how = bp.leaderboard_for(data, "humans", votes)
    assert int(rows["battles"].sum()) == 2 * 3  # ann's latest on g, bob's on g, ann's on the other game
    assert "computed here from 3 human votes" in how
    assert warnings[0].startswith("human_votes.jsonl: 2 repeated votes replaced by the same annotator's later vote")
    winners = {r["model"]: (r["wins"], r["losses"]) for r in rows.to_dict("records")}
    assert winners[g["model_b"]][0] >= 1 and winners[g["model_a"]][0] >= 1  # ann's B and bob's A, once each
    both, both_warnings, _ = bp.leaderboard_for(data, "both", votes)
    assert both_warnings[0] == warnings[0]

    report = bp.people_report(data, votes, bootstrap=0)
    assert report is not None and report["votes"] == 6 and report["replaced_votes"] == 2
    assert report["matched_votes"] == 3  # ann on g (latest), bob on g, ann on the other game
    # the queue: a game's vote count is one per person (2 on g), not the 4 decisions ann and bob cast
    assert bv.order_games(games, votes, seed=0, annotator="cy") == bv.order_games(games, counted, seed=0, annotator="cy")


def test_a_persons_repeated_votes_push_a_game_back_once() -> None:
    """Three votes of one person on the flipped game count as one (score 2/2, level with the close games); three
    people's push it behind them (2/4), as in test_votes_so_far_push_a_game_back_and_own_votes_remove_it."""
    g = games_frame()
    once = bv.order_games(g, [vote("flip", "ann")], seed=0, annotator="dora")
    assert bv.order_games(g, [vote("flip", "ann", label) for label in ("A", "A", "B")], seed=0, annotator="dora") == once
    assert once.index("flip") < 3
    people = bv.order_games(g, [vote("flip", who) for who in ("ann", "bob", "carl")], seed=0, annotator="dora")
    assert people[-2:] == ["flip", "lopsided"]


def test_imported_is_not_a_name_to_vote_under() -> None:
    with pytest.raises(UserError, match="marks imported votes of unknown people"):
        bv.clean_annotator(" imported ")


def test_battles_file_source_cannot_vote(evalscope_file: Path) -> None:
    data = vd.load_source(evalscope_file)
    with pytest.raises(UserError, match="votes are cast on a run dir"):
        bv.cast_vote(data, games_frame(), "close", "A", "ann", "x")


def test_access_token() -> None:
    assert bv.vote_secret({}) is None and bv.access_ok(None, None)
    assert bv.vote_secret({bv.TOKEN_ENV: "tok"}) == "tok"
    assert bv.vote_secret({bv.TOKEN_ENV: "tok", bv.PASSWORD_ENV: "pw"}) == "pw"
    assert bv.access_ok("tok", "tok") and not bv.access_ok("", "tok") and not bv.access_ok("to", "tok")
