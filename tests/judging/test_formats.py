"""The verdict format registry: listing, unknown names, and a new format that is one class plus its registration."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from arena.config import FakeOptions
from arena.errors import UserError
from arena.judging import parsers
from arena.judging.judge import Judge
from arena.judging.parsers import (
    BracketsRating,
    Parsed,
    VerdictFormat,
    available_formats,
    get_format,
    register_format,
)
from arena.judging.plan import plan_games
from arena.judging.prompts import load_prompt_set
from arena.judging.reviewer import judgments_path, review
from arena.providers.base import GenerationSettings
from arena.providers.fake_judge import make_fake_judge
from arena.records import VERDICTS, Judgment
from arena.resources import registry_dir
from arena.store import JsonlStore


class Thumbs(VerdictFormat):
    """A test format: ``VERDICT: left`` / ``right`` / ``even``; the last one counts."""

    name = "test-thumbs"
    labels = ("left", "right", "even")
    instruction = "Answer with VERDICT: left, right or even."
    _to = {"left": "A>B", "right": "B>A", "even": "A=B"}

    def parse(self, text: str) -> Parsed:
        found = re.findall(r"VERDICT: (left|right|even)\b", text)
        return Parsed(verdict=self._to[found[-1]]) if found else Parsed(error="no VERDICT: in the reply")

    def format(self, verdict: str) -> str:
        return {"A>>B": "VERDICT: left", "A>B": "VERDICT: left", "A=B": "VERDICT: even",
                "B>A": "VERDICT: right", "B>>A": "VERDICT: right"}[verdict]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test are undone after it."""
    monkeypatch.setattr(parsers, "_FORMATS", dict(parsers._FORMATS))


def test_shipped_formats_are_listed_with_labels_and_instructions() -> None:
    assert available_formats() == ["brackets-abc", "brackets-five", "brackets-rating"]
    for name in available_formats():
        fmt = get_format(name)
        assert fmt.name == name and fmt.labels and fmt.instruction
    assert get_format("brackets-five").labels == tuple(VERDICTS)
    assert get_format("brackets-rating").labels == tuple(str(i) for i in range(1, 11))


def test_unknown_format_suggests_and_lists() -> None:
    with pytest.raises(UserError) as err:
        get_format("brackets-fiv")
    assert "Did you mean 'brackets-five'" in str(err.value)
    assert "Available: brackets-abc, brackets-five, brackets-rating" in str(err.value)


def test_register_refuses_a_taken_name(registry: None) -> None:
    with pytest.raises(UserError, match="already registered"):
        register_format(BracketsRating(low=1, high=5))
    register_format(BracketsRating(name="rating-1-5", low=1, high=5))
    fmt = get_format("rating-1-5")
    assert fmt.parse("[[5]]").score == 5.0 and "outside 1-5" in (fmt.parse("[[6]]").error or "")
    assert "rating-1-5" in available_formats()


def test_a_new_format_runs_end_to_end_with_the_fake_judge(registry: None, tmp_path: Path, questions, answers) -> None:
    register_format(Thumbs())
    folder = tmp_path / "thumbs-set"
    shutil.copytree(registry_dir() / "judges" / "mt-bench", folder)
    spec = folder / "judge.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("pairwise: brackets-abc", "pairwise: test-thumbs"),
                    encoding="utf-8")
    judge = Judge(prompts=load_prompt_set(folder), mode="pairwise-all", judge_id="fake", spec={"provider": "fake"})
    assert judge.parser_name == "test-thumbs" and isinstance(judge.verdict_format, Thumbs)

    games = plan_games(questions, answers, "pairwise-all").games
    provider = make_fake_judge(judge, FakeOptions(tie_rate=0.3, failure_rate=0.2), seed=1)
    stats = review(games, judge, provider, tmp_path, GenerationSettings(), progress=False)

    rows = list(JsonlStore(judgments_path(tmp_path), Judgment))
    assert stats.judged == len(rows) == len(games)
    decided = [j for j in rows if j.error is None]
    assert all("VERDICT: " in j.output for j in decided)
    assert {j.verdict for j in decided} <= {"A>B", "B>A", "A=B"} and len({j.verdict for j in decided}) == 3
    failed = [j for j in rows if j.error is not None]
    assert stats.errors == len(failed) > 0 and all(j.verdict is None and j.error == "no VERDICT: in the reply" for j in failed)
