"""The provider registry: built-in names, unknown names, ``module:Class`` paths, entry points.

``EchoSpec`` below is a third-party provider defined in this test module only: a run through it needs no
change to any arena file.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pytest

from arena.config import load_config
from arena.errors import ConfigError, UserError
from arena.pipeline import run
from arena.providers import specs
from arena.providers.base import Completion, Conversation, GenerationSettings, Provider
from arena.providers.specs import FakeSpec, ProviderSpec, register_provider, spec_class

PATH = f"{__name__}:EchoSpec"


class EchoProvider:
    """Replies with the last user message, prefixed."""

    name = "echo"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        return [Completion(text=f"{self.prefix}{c[-1]['content'][:40]}", completion_tokens=3) for c in conversations]


class EchoSpec(ProviderSpec):
    prefix: str = "echo: "

    def key_part(self) -> dict[str, Any]:
        return super().key_part() | {"prefix": self.prefix}

    def build(self, *, seed: int, name: str) -> Provider:
        return EchoProvider(self.prefix)


def _config(tmp_path: Path, provider: str, extra: str = "") -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(textwrap.dedent(f"""
        name: t
        work_dir: run
        questions: {{set: mt_bench, limit: 2}}
        models:
          a: {{provider: "{provider}"{extra}}}
          b: {{provider: fake}}
        judge: {{provider: fake, mode: pairwise-all}}
        rating: {{bootstrap: 5}}
        """))
    return p


def test_builtin_names() -> None:
    assert spec_class("fake") is FakeSpec
    assert sorted(specs.SPECS)[:4] == ["answers", "fake", "openai", "transformers"]


def test_unknown_name_suggests_and_lists(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown provider 'opnai'\. Did you mean 'openai'\? Available: answers, fake"):
        spec_class("opnai")
    with pytest.raises(ConfigError, match=r"cfg.yaml:6: key 'models.a.provider': unknown provider 'opnai'"):
        load_config(_config(tmp_path, "opnai"))


@pytest.mark.parametrize(("target", "problem"), [
    (f"{__name__}:Nope", "has no 'Nope'"),
    ("no_such_module_xyz:Spec", "cannot import module 'no_such_module_xyz'"),
    (f"{__name__}:EchoProvider", "not a subclass of arena.providers.specs.ProviderSpec"),
])
def test_bad_paths_are_one_line_errors(target: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        spec_class(target)


def test_third_party_provider_by_path_runs_end_to_end(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, PATH, ", prefix: 'hi: '"))
    assert isinstance(cfg.models["a"].spec, EchoSpec) and cfg.models["a"].spec.prefix == "hi: "
    assert cfg.models["a"].model_dump()["provider"] == PATH  # dumped flat, as written
    result = run(cfg, progress=False)
    answers = [json.loads(line) for line in (cfg.work_dir / "answers" / "a.jsonl").read_text().splitlines()]
    assert len(answers) == 2 and all(a["turns"][0].startswith("hi: ") for a in answers)
    assert result.leaderboard is not None and {r["model"] for r in result.leaderboard.rows} == {"a", "b"}
    with pytest.raises(ConfigError, match=r"unknown key 'models.a.prefx'. Did you mean 'prefix'"):
        load_config(_config(tmp_path, PATH, ", prefx: 'x'"))


def test_register_provider_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(specs.SPECS, "echo", PATH)
    assert spec_class("echo") is EchoSpec
    register_provider("echo2", EchoSpec)
    try:
        assert load_config(_config(tmp_path, "echo2")).models["a"].spec.key_part()["prefix"] == "echo: "
    finally:
        specs.SPECS.pop("echo2")


def test_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = metadata.EntryPoint(name="echo-ep", value=PATH, group=specs.ENTRY_POINT_GROUP)

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [ep] if group == specs.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(specs.metadata, "entry_points", entry_points)
    assert spec_class("echo-ep") is EchoSpec
    assert "echo-ep" in specs.available_providers()
    with pytest.raises(UserError, match="Available: answers, echo-ep, fake"):
        spec_class("nothing")


def test_judge_cannot_be_answers(tmp_path: Path) -> None:
    p = _config(tmp_path, "fake").read_text().replace("judge: {provider: fake", "judge: {provider: answers, file: x.jsonl")
    (tmp_path / "cfg.yaml").write_text(p)
    with pytest.raises(ConfigError, match="provider 'answers' cannot judge"):
        load_config(tmp_path / "cfg.yaml")


def test_spec_kind_literal_matches_registry_name() -> None:
    for name, target in specs.SPECS.items():
        cls = spec_class(name)
        assert cls.model_fields["provider"].annotation == Literal[name], (name, target)  # type: ignore[valid-type]
