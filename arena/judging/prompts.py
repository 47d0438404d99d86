"""Judge prompt sets: data in ``registry/judges/<set>/`` (or any folder of the same shape).

A set is a folder with ``judge.yaml`` (name, version, verdict formats as ``parsers``, which prompt serves
which situation) and a prompt file (JSONL, FastChat's ``judge_prompts.jsonl`` shape: ``name, type,
system_prompt, prompt_template, output_format``). Users add a set by dropping a folder and naming it in ``judge.prompts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arena.errors import ConfigError, UserError, unknown_name
from arena.keys import content_key
from arena.resources import registry_dir
from arena.store import read_jsonl

Kind = Literal["pairwise", "single"]
Situation = Literal["default", "reference", "multi_turn", "multi_turn_reference"]


class PromptRoles(BaseModel):
    """Prompt names by situation; missing ones fall back (reference -> default, multi_turn_reference -> multi_turn)."""

    model_config = ConfigDict(extra="forbid")

    default: str
    reference: str | None = None
    multi_turn: str | None = None
    multi_turn_reference: str | None = None


class JudgeSetSpec(BaseModel):
    """The ``judge.yaml`` of a prompt set."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    description: str = ""
    source: str = ""
    licence: str = ""
    prompt_file: str = "judge_prompts.jsonl"
    reference_categories: list[str] = Field(default_factory=list)
    """Categories whose reference answer is shown to the judge (FastChat: math, reasoning, coding)."""
    prompts: dict[Kind, PromptRoles]
    parsers: dict[Kind, str]
    """Verdict format by kind, by registered name (:func:`arena.judging.parsers.available_formats`)."""
    expected_output_tokens: int | None = Field(None, ge=0)
    """Tokens a judge call is assumed to write, for the dry-run cost estimate (say in a comment how it was measured)."""


@dataclass(frozen=True)
class Prompt:
    """One prompt template."""

    name: str
    kind: Kind
    system_prompt: str
    template: str
    output_format: str = ""

    @property
    def hash(self) -> str:
        return content_key([self.system_prompt, self.template])


@dataclass(frozen=True)
class PromptSet:
    """A loaded judge prompt set."""

    spec: JudgeSetSpec
    prompts: dict[str, Prompt]
    path: Path
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    def supports(self, kind: Kind) -> bool:
        return kind in self.spec.prompts

    def select(self, kind: Kind, *, multi_turn: bool, reference: bool) -> Prompt:
        """The prompt for a situation, with the documented fallbacks."""
        roles = self.spec.prompts.get(kind)
        if roles is None:
            raise UserError(
                f"judge.prompts: the set '{self.name}' ({self.path}) has no {kind} prompt, which mode "
                f"{'single' if kind == 'single' else 'pairwise-*'} needs; pick a set that has one (e.g. mt-bench)"
            )
        order: list[str | None]
        if multi_turn:
            order = [roles.multi_turn_reference if reference else None, roles.multi_turn]
        else:
            order = [roles.reference if reference else None, roles.default]
        for name in order:
            if name:
                return self.prompts[name]
        raise UserError(
            f"{self.path / 'judge.yaml'}: no {kind} prompt for {'turn 2+' if multi_turn else 'turn 1'}; "
            f"add 'prompts.{kind}.multi_turn'"
        )


def available_sets() -> list[str]:
    root = registry_dir() / "judges"
    return sorted(p.name for p in root.iterdir() if (p / "judge.yaml").is_file()) if root.is_dir() else []


def _spec(path: Path) -> JudgeSetSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return JudgeSetSpec.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML ({exc}); fix the syntax") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path}: key '{key}': {err['msg']}") from None


def load_prompt_set(name_or_path: str | Path) -> PromptSet:
    """Load a prompt set by registry name or folder path."""
    folder = Path(name_or_path)
    if not (folder / "judge.yaml").is_file():
        folder = registry_dir() / "judges" / str(name_or_path)
        if not (folder / "judge.yaml").is_file():
            raise UserError("judge.prompts: " + unknown_name("judge prompt set", str(name_or_path), available_sets()))
    spec = _spec(folder / "judge.yaml")
    prompts: dict[str, Prompt] = {}
    pfile = folder / spec.prompt_file
    for line_no, obj in read_jsonl(pfile):
        try:
            p = Prompt(name=obj["name"], kind=obj["type"], system_prompt=obj.get("system_prompt", ""),
                       template=obj["prompt_template"], output_format=obj.get("output_format", ""))
        except KeyError as exc:
            raise ConfigError(f"{pfile}:{line_no}: missing field {exc}; each prompt needs name, type, prompt_template") from None
        prompts[p.name] = p
    for kind, roles in spec.prompts.items():
        for situation, pname in roles.model_dump().items():
            if pname and pname not in prompts:
                raise ConfigError(
                    f"{folder / 'judge.yaml'}: prompts.{kind}.{situation} names '{pname}', which is not in "
                    f"{spec.prompt_file}. Available: {', '.join(sorted(prompts))}"
                )
        if kind not in spec.parsers:
            raise ConfigError(f"{folder / 'judge.yaml'}: no parser for '{kind}'; add 'parsers.{kind}'")
    return PromptSet(spec=spec, prompts=prompts, path=folder, hashes={n: p.hash for n, p in prompts.items()})
