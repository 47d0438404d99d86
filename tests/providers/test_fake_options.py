"""Fake provider options: those that size memory or time are bounded (``max_words: 1e30`` hung while eating
memory, ``latency_s: .inf`` crashed in time.sleep), ``min_words`` above ``max_words`` and an empty script are
refused at load, and a script shorter than the calls a run will make is refused before any model answers
(it failed with ProviderError, exit 1, after other models had answered). Called past its script, the provider
itself still fails loudly.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from arena.errors import ProviderError
from arena.providers.fake_options import FakeOptions
from arena.providers.specs import FakeSpec
from tests.helpers.cli_config import BASE, COMMAND_IDS, COMMANDS, assert_refused, run_cli

FAKE_CASES = [
    ("max_words huge", "{max_words: 1000000000000000000000000000000}",
     ["cfg.yaml:6: key 'models.b.fake.max_words':", "less than or equal to 100000"]),
    ("max_words huge float", "{max_words: 1.0e+30}", ["cfg.yaml:6: key 'models.b.fake.max_words':"]),
    ("min_words huge", "{min_words: 200000}", ["cfg.yaml:6: key 'models.b.fake.min_words':", "100000"]),
    ("min above max", "{min_words: 80, max_words: 60}",
     ["cfg.yaml:6: key 'models.b.fake': fake.min_words 80 is above fake.max_words 60"]),
    ("latency infinite", "{latency_s: .inf}", ["cfg.yaml:6: key 'models.b.fake.latency_s':", "3600"]),
    ("latency huge", "{latency_s: 1.0e+30}", ["cfg.yaml:6: key 'models.b.fake.latency_s':", "3600"]),
    ("script empty", "{script: []}", ["cfg.yaml:6: key 'models.b.fake.script': fake.script is empty",
                                      "give at least 1 reply"]),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
@pytest.mark.parametrize(("label", "fake", "expected"), FAKE_CASES, ids=[c[0] for c in FAKE_CASES])
def test_fake_options_that_size_memory_or_time_are_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           label: str, fake: str, expected: list[str],
                                                           command: list[str]) -> None:
    text = BASE.replace("b: {provider: fake}", f"b: {{provider: fake, fake: {fake}}}")
    assert_refused(tmp_path, text, command, capsys, expected)


def test_fake_options_at_their_bounds_are_taken() -> None:
    opts = FakeOptions(min_words=100_000, max_words=100_000, latency_s=3600.0)
    assert (opts.min_words, opts.max_words, opts.latency_s) == (100_000, 100_000, 3600.0)
    assert FakeOptions(min_words=5, max_words=5).max_words == 5
    with pytest.raises(ValidationError):
        FakeOptions(latency_s=math.nan)


# ---------------------------------------------------------------------------------------- a short script

SHORT_SCRIPT = BASE.replace("b: {provider: fake}", "b: {provider: fake, fake: {script: [only one]}}")


@pytest.mark.parametrize("command", [["validate"], ["run", "-q", "--dry-run"], ["run", "-q"], ["generate", "-q"]],
                         ids=["validate", "dry-run", "run", "generate"])
def test_script_shorter_than_the_calls_is_refused_before_any_answer(tmp_path: Path, command: list[str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Two MT-Bench questions of two turns each need four replies; it failed with ProviderError (exit 1) after
    model a had answered. Now no model answers, and arena validate says so too."""
    code, err = run_cli(tmp_path, SHORT_SCRIPT, command, capsys)
    assert code == 2, err
    assert err.startswith("arena: error: ") and err.count("\n") == 1, err
    assert "cfg.yaml:6: key 'models.b.fake.script':" in err, err
    assert "has 1 reply, and this run asks model 'b' for 4 (2 questions not answered yet, one reply per turn)" in err, err
    assert not list((tmp_path / "run" / "answers").glob("*.jsonl")), "no model answered"


def test_script_long_enough_runs_and_a_resume_needs_only_the_missing_calls(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.replace("b: {provider: fake}", "b: {provider: fake, fake: {script: [r1, r2, r3, r4]}}")
    code, err = run_cli(tmp_path, text, ["run", "-q", "--dry-run"], capsys)
    assert code == 0, err
    answers = (tmp_path / "run" / "answers" / "b.jsonl").read_text()
    assert all(f'"r{i}"' in answers for i in range(1, 5))
    # Everything is on disk: the re-run asks for nothing, so the same script is enough again.
    code, err = run_cli(tmp_path, text, ["run", "-q", "--dry-run"], capsys)
    assert code == 0, err


def test_fake_provider_still_fails_loudly_when_called_past_its_script() -> None:
    from arena.providers.base import GenerationSettings

    provider = FakeSpec(fake=FakeOptions(script=["x"])).build(seed=0, name="b")
    settings = GenerationSettings(max_new_tokens=8)
    assert provider.generate([[{"role": "user", "content": "q"}]], settings)[0].text == "x"
    with pytest.raises(ProviderError, match="the script ran out after 1 replies"):
        provider.generate([[{"role": "user", "content": "q"}]], settings)


@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
def test_a_fake_judge_refuses_a_script_it_would_ignore(tmp_path: Path, command: list[str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A fake judge draws its verdicts (tie_rate, position_bias, failure_rate): its script was silently ignored."""
    text = BASE.replace("judge: {provider: fake, mode: pairwise-all}",
                        'judge: {provider: fake, mode: pairwise-all, fake: {script: ["[[A]]"]}}')
    assert_refused(tmp_path, text, command, capsys, ["cfg.yaml:7: key 'judge", "fake.script scripts a fake candidate's answers"])
