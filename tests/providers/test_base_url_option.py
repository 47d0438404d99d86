"""An empty ``base_url`` is refused by the OpenAI spec, first: with ``batch: true`` it raised IndexError in the
batch provider's constructor (exit 1), and with no API key set the first error was the missing key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from arena.errors import UserError
from arena.providers.specs import OpenAISpec
from tests.providers.cli_refusal import BASE, assert_refused

BATCH_JUDGE = "judge: {provider: openai, model: j, base_url: [], batch: true, api_key_env: ARENA_TEST_REFUSALS_KEY, mode: pairwise-all}"


@pytest.mark.parametrize("key", [True, False], ids=["key set", "key unset"])
@pytest.mark.parametrize("command", [["validate"], ["run", "-q"]], ids=["validate", "run"])
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


@pytest.mark.parametrize("base_url", [[], [""], "", ["http://127.0.0.1:1/v1", "  "]], ids=repr)
def test_spec_refuses_empty_base_urls(base_url: Any) -> None:
    with pytest.raises(ValidationError, match="base_url"):
        OpenAISpec(model="m", base_url=base_url)


def test_spec_takes_urls_and_none() -> None:
    assert OpenAISpec(model="m", base_url=["http://a/v1", "http://b/v1"]).base_url == ["http://a/v1", "http://b/v1"]
    assert OpenAISpec(model="m", base_url="http://a/v1").base_url == "http://a/v1"
    assert OpenAISpec(model="m").base_url is None


def test_batch_provider_refuses_an_empty_list_before_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.providers.openai_batch import OpenAIBatchProvider

    monkeypatch.delenv("ARENA_TEST_REFUSALS_KEY", raising=False)
    with pytest.raises(UserError, match="base_url is an empty list"):
        OpenAIBatchProvider("m", base_url=[], api_key_env="ARENA_TEST_REFUSALS_KEY")
