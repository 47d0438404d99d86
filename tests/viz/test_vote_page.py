"""The Vote page under AppTest: blind answers, votes on disk, names revealed after the vote, access token."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.viz.test_app import open_page, texts


@pytest.fixture()
def fresh_run(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


def _models_on_screen(at: AppTest) -> set[str]:
    return {m for m in ("alpha", "beta", "gamma") if m in texts(at)}


def test_vote_page_is_blind_and_writes_votes(fresh_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARENA_VIZ_TOKEN", raising=False)
    monkeypatch.delenv("ARENA_VIZ_PASSWORD", raising=False)
    at = open_page(fresh_run, "views/vote.py", monkeypatch)
    assert "Enter your name" in texts(at)
    at.text_input(key="who").input("ann").run()
    assert not at.exception
    assert {"Answer A", "Answer B"} <= set(texts(at).replace("#### ", "").splitlines())
    assert not _models_on_screen(at)  # names hidden before the vote
    at.button(key="vote_A").click().run()
    assert not at.exception
    lines = [json.loads(x) for x in (fresh_run / "human_votes.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["annotator"] == "ann" and lines[0]["label"] == "A"
    assert f"Left (A) was **{lines[0]['shown_left']}**" in at.success[0].value  # revealed after
    at.button(key="vote_skip").click().run()
    lines = [json.loads(x) for x in (fresh_run / "human_votes.jsonl").read_text().splitlines()]
    assert [v["label"] for v in lines] == ["A", "skip"] and lines[0]["game_key"] != lines[1]["game_key"]
    assert "2 of 18 games voted by you" in at.get("progress")[0].proto.text


def test_battles_file_has_no_vote(evalscope_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(evalscope_file, "views/vote.py", monkeypatch)
    assert "Votes are cast on a run dir" in texts(at)


def test_served_beyond_loopback_a_vote_needs_the_token(fresh_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_VIZ_TOKEN", "tok-123")
    monkeypatch.delenv("ARENA_VIZ_PASSWORD", raising=False)
    at = open_page(fresh_run, "views/vote.py", monkeypatch, who="ann")
    assert at.button(key="vote_A").disabled
    at.text_input(key="token").input("wrong").run()
    assert at.button(key="vote_A").disabled
    at.text_input(key="token").input("tok-123").run()
    assert not at.button(key="vote_A").disabled
    at.button(key="vote_tie").click().run()
    assert json.loads((fresh_run / "human_votes.jsonl").read_text())["winner"] == "tie"


def _vote_all(run: Path, who: str, label_of) -> None:  # type: ignore[no-untyped-def]
    from arena import browse as vd
    from arena.browse import votes as bv

    data = vd.load_source(run)
    games = bv.vote_games(data)
    for g in games.to_dict("records"):
        bv.cast_vote(data, games, g["game_key"], label_of(g), who, g["model_a"])


def test_leaderboard_from_judge_humans_or_both(fresh_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arena import browse as vd
    from arena.browse import people as bp
    from arena.browse import votes as bv

    at = open_page(fresh_run, "views/leaderboard.py", monkeypatch)
    assert at.radio(key="from").disabled  # no votes yet
    _vote_all(fresh_run, "ann", lambda g: "A" if g["model_a"] == "alpha" else "B")  # alpha always wins
    at = open_page(fresh_run, "views/leaderboard.py", monkeypatch, **{"from": "humans"})
    humans = at.dataframe[0].value
    assert humans["model"].iloc[0] == "alpha"
    data = vd.load_source(fresh_run)
    votes = bv.load_votes(data)
    assert humans["battles"].sum() == 2 * len(votes)
    assert "human votes" in texts(at)
    at.radio(key="from").set_value("both").run()
    both = at.dataframe[0].value
    expected, _, _ = bp.leaderboard_for(data, "both", votes)
    assert list(both["model"]) == list(expected["model"])
    assert both["battles"].sum() == 2 * (len(votes) + int(data.battles["count"].sum() if "count" in data.battles else len(data.battles)))


def test_judge_vs_people_page(fresh_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arena import browse as vd
    from arena.browse import people as bp
    from arena.browse import votes as bv

    at = open_page(fresh_run, "views/people.py", monkeypatch)
    assert "No human votes yet" in texts(at)
    _vote_all(fresh_run, "ann", lambda g: "A" if g["judge_share_a"] >= 0.5 else "B")  # people side with the judge
    at = open_page(fresh_run, "views/people.py", monkeypatch)
    assert not at.error
    report = bp.people_report(vd.load_source(fresh_run), bv.load_votes(vd.load_source(fresh_run)))
    assert report is not None and report["comparisons"] > 0
    metrics = {m.label: m.value for m in at.metric}
    value = report["agreement"]["agreement_with_ties"]["value"]
    assert metrics["agreement, ties counted"].startswith(f"{100 * value:.1f}%")
    assert "Judge's leaderboard vs the people's" in texts(at)


def test_two_tabs_of_one_person_on_the_same_game(fresh_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page can write a repeat: two tabs (sessions) of one name draw the same first game, and each casts a
    vote on it. Both lines are kept; the second tab says its vote replaces the first; the people's leaderboard
    and the judge comparison count the latest once and say how many votes were replaced."""
    monkeypatch.delenv("ARENA_VIZ_TOKEN", raising=False)
    monkeypatch.delenv("ARENA_VIZ_PASSWORD", raising=False)
    first = open_page(fresh_run, "views/vote.py", monkeypatch, who="ann")
    second = open_page(fresh_run, "views/vote.py", monkeypatch, who="ann")
    first.button(key="vote_A").click().run()
    second.button(key="vote_B").click().run()  # drawn before the first tab voted: the same game
    assert not first.exception and not second.exception
    lines = [json.loads(x) for x in (fresh_run / "human_votes.jsonl").read_text().splitlines()]
    assert [(v["annotator"], v["label"]) for v in lines] == [("ann", "A"), ("ann", "B")]
    assert lines[0]["game_key"] == lines[1]["game_key"]
    assert "It replaces your earlier vote on this game (A (left) is better" in second.success[0].value
    assert "replaces" not in first.success[0].value

    board = open_page(fresh_run, "views/leaderboard.py", monkeypatch, **{"from": "humans"})
    assert board.dataframe[0].value["battles"].sum() == 2  # one vote: one battle, counted for both models
    note = "human_votes.jsonl: 1 repeated vote replaced by the same annotator's later vote on the same game"
    assert any(w.value.startswith(note) for w in board.warning), [w.value for w in board.warning]
    people = open_page(fresh_run, "views/people.py", monkeypatch)
    assert any(w.value.startswith(note) for w in people.warning)
    assert "1 votes on 1 judged games" in texts(people)
