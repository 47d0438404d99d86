"""Adaptive judging from the outside: ``--retry-errors`` re-asks only the errored calls (and counts them), and
the CLI summary says why judging stopped, after how many rounds and calls."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from arena.cli.run import judge_command, run_command
from arena.config.schema import JudgeConfig
from arena.judging.adaptive import AdaptiveSettings, adaptive_review
from arena.judging.factory import build_judge, build_judge_provider
from arena.judging.reviewer import judgments_path
from arena.providers.base import Completion, Conversation, GenerationSettings, Provider
from arena.records import Judgment
from arena.store import JsonlStore
from tests.judging.test_adaptive import POINTS, _config, _games


class FailOn:
    """The fake judge, except that calls whose prompt holds ``bad`` fail as a rate limit would."""

    name = "fail-on"

    def __init__(self, inner: Provider, bad: str | None) -> None:
        self.inner, self.bad, self.calls = inner, bad, 0

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        self.calls += len(conversations)
        out = self.inner.generate(conversations, settings)
        return [Completion(text="", error="rate_limited: HTTP 429")
                if self.bad is not None and self.bad in c[-1]["content"] else r
                for c, r in zip(conversations, out, strict=True)]


def test_retry_errors_reasks_only_the_errored_calls(tmp_path: Path) -> None:
    games = _games(n_models=4, n_questions=8)
    jc = JudgeConfig.model_validate({"provider": "fake", "fake": {"position_bias": 0.4}})
    judge = build_judge(jc)
    settings = AdaptiveSettings(budget=30, target_ci=None, both_orders=False, seed=0, points=POINTS, round_size=10)

    def loop(bad: str | None, retry: bool) -> tuple[Any, Any, FailOn]:
        provider = FailOn(build_judge_provider(jc, judge, seed=0), bad)
        stats, outcome = adaptive_review(games, judge, provider, tmp_path, jc.generation, settings, chunk_size=4,
                                         retry_errors=retry, progress=False)
        return stats, outcome, provider

    stats, outcome, _ = loop("m1 on", retry=False)
    failed = stats.errors
    assert outcome.stopped == "budget" and outcome.calls == 30 and 0 < failed < 30
    stats, outcome, provider = loop(None, retry=False)
    assert provider.calls == 0 and stats.judged == 0 and outcome.retried == 0, "without the flag nothing is re-asked"
    stats, outcome, provider = loop(None, retry=True)
    assert provider.calls == stats.judged == outcome.retried == failed and stats.errors == 0
    assert outcome.stopped == "budget" and outcome.calls == 30 and stats.done_before == 30
    latest = {j.key: j for j in JsonlStore(judgments_path(tmp_path), Judgment)}
    assert len(latest) == 30 and all(j.error is None and j.verdict is not None for j in latest.values())
    _, outcome, provider = loop(None, retry=True)
    assert provider.calls == 0 and outcome.retried == 0, "nothing errored is left to re-ask"


def test_summary_says_why_adaptive_judging_stopped(tmp_path: Path) -> None:
    path = _config(tmp_path, budget=40, both_orders=False)
    res = CliRunner().invoke(run_command, ["-c", str(path), "-q"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("adaptive judging stopped"))
    assert "(budget)" in line and "budget of 40 calls" in line and "40 calls on disk" in line, line
    assert " rounds" in line and "widest 95% interval +/-" in line, line
    # The stage alone with a target every interval already meets: stopped by the target, no new call.
    path = _config(tmp_path, budget=None, target_ci=10_000.0, both_orders=False)
    res = CliRunner().invoke(judge_command, ["-c", str(path), "-q"])
    assert res.exit_code == 0, res.output
    assert "adaptive judging stopped (target_ci): every 95% interval is within +/-10000.0 points" in res.output
    assert "0 calls made" in res.output and "40 calls on disk" in res.output


def test_judge_retry_errors_reaches_adaptive_judging(tmp_path: Path) -> None:
    # The fake judge fails the same games every time (seeded by content): a retry re-asks exactly those.
    path = _config(tmp_path, budget=40, both_orders=False, fake={"position_bias": 0.5, "failure_rate": 0.3})
    first = CliRunner().invoke(run_command, ["-c", str(path), "-q"])
    assert first.exit_code == 0, first.output
    failed = sum(1 for j in JsonlStore(judgments_path(tmp_path / "run"), Judgment) if j.error is not None)
    assert 0 < failed < 40 and f"{failed} failed" in first.output
    plain = CliRunner().invoke(judge_command, ["-c", str(path), "-q"])
    assert "judge: 0 calls made" in plain.output and "asked again" not in plain.output
    retry = CliRunner().invoke(judge_command, ["-c", str(path), "-q", "--retry-errors"])
    assert retry.exit_code == 0, retry.output
    assert f"judge: {failed} calls made" in retry.output, retry.output
    assert "40 calls on disk, widest" in retry.output and f"{failed} errored judgments asked again" in retry.output
