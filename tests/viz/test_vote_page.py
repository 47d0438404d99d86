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
