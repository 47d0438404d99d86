"""An empty ``base_url`` is refused by the OpenAI spec's check, first: with ``batch: true`` it raised IndexError
in the batch provider's constructor (exit 1), and with no API key set the first error was the missing key.
As the real judge's API key, its endpoints do not stop a dry run (the fake judge stands in).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arena.errors import UserError
from arena.providers.specs import OpenAISpec, SpecProblem
from tests.helpers.cli_config import BASE, assert_refused, run_cli

BATCH_JUDGE = "judge: {provider: openai, model: j, base_url: [], batch: true, api_key_env: ARENA_TEST_REFUSALS_KEY, mode: pairwise-all}"


@pytest.mark.parametrize("key", [True, False], ids=["key set", "key unset"])
@pytest.mark.parametrize("command", [["validate"], ["run", "-q"], ["judge", "-q"]], ids=["validate", "run", "judge"])
def test_empty_base_url_list_for_a_batch_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, command: list[str], key: bool) -> None:
    """It raised IndexError in the batch provider's constructor (exit 1); with no key, the first error was the
    missing key, though no URL was given."""
    if key:
        monkeypatch.setenv("ARENA_TEST_REFUSALS_KEY", "sk-dummy-for-the-test")
    else:
        monkeypatch.delenv("ARENA_TEST_REFUSALS_KEY", raising=False)
    text = BASE.replace("judge: {provider: fake, mode: pairwise-all}", BATCH_JUDGE)
    assert_refused(tmp_path, text, command, capsys, ["cfg.yaml:7: key 'judge.base_url': base_url is an empty list"])


def test_empty_base_url_list_of_a_candidate_comes_before_its_missing_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARENA_TEST_REFUSALS_KEY", raising=False)
    text = BASE.replace("b: {provider: fake}",
                        "b: {provider: openai, model: m, base_url: [], api_key_env: ARENA_TEST_REFUSALS_KEY}")
    assert_refused(tmp_path, text, ["run", "-q", "--dry-run"], capsys,
                   ["cfg.yaml:6: key 'models.b.base_url': base_url is an empty list"])


def test_dry_run_is_not_stopped_by_the_real_judges_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.replace("judge: {provider: fake, mode: pairwise-all}", BATCH_JUDGE)
    code, err = run_cli(tmp_path, text, ["run", "-q", "--dry-run"], capsys)
    assert code == 0, err


@pytest.mark.parametrize(("base_url", "problem"), [([], "empty list"), ([""], "blank URL"), ("", "blank URL"),
                                                   (["http://127.0.0.1:1/v1", "  "], "blank URL")], ids=repr)
@pytest.mark.parametrize("spend", [True, False])
def test_spec_check_refuses_empty_base_urls(base_url: Any, problem: str, spend: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARENA_TEST_REFUSALS_KEY", raising=False)
    spec = OpenAISpec(model="m", base_url=base_url, api_key_env="ARENA_TEST_REFUSALS_KEY")
    with pytest.raises(SpecProblem, match=problem) as caught:
        spec.check(question_ids=set(), spend=spend)
    assert caught.value.key == "base_url"


@pytest.mark.parametrize("base_url", [["http://127.0.0.1:1/v1", "http://localhost:2/v1"], "http://127.0.0.1:1/v1", None])
def test_spec_check_takes_urls_and_none(base_url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_TEST_REFUSALS_KEY", "sk-dummy-for-the-test")
    OpenAISpec(model="m", base_url=base_url, api_key_env="ARENA_TEST_REFUSALS_KEY").check(question_ids=set(), spend=True)


def test_a_batch_judge_with_several_urls_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Batch API provider silently used the first of several base_urls: one job goes to one server."""
    monkeypatch.setenv("ARENA_TEST_REFUSALS_KEY", "sk-dummy-for-the-test")
    urls = ["http://127.0.0.1:1/v1", "http://localhost:2/v1"]
    with pytest.raises(SpecProblem, match="base_url lists 2; give one URL") as caught:
        OpenAISpec(model="m", base_url=urls, api_key_env="ARENA_TEST_REFUSALS_KEY", batch=True).check(
            question_ids=set(), spend=True)
    assert caught.value.key == "base_url"
    OpenAISpec(model="m", base_url=urls[:1], api_key_env="ARENA_TEST_REFUSALS_KEY", batch=True).check(
        question_ids=set(), spend=True)


def test_batch_provider_refuses_an_empty_list_before_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.providers.openai_batch import OpenAIBatchProvider

    monkeypatch.delenv("ARENA_TEST_REFUSALS_KEY", raising=False)
    with pytest.raises(UserError, match="base_url is an empty list"):
        OpenAIBatchProvider("m", base_url=[], api_key_env="ARENA_TEST_REFUSALS_KEY")
