"""The arena config's schema: pydantic models only, a leaf of the package.

It imports the provider specs, the rating settings and the records, nothing that loads pandas, scipy or
an importer. Loading YAML, resolving paths and translating llmuses configs is :mod:`arena.config.loader`.

In the YAML a candidate's or judge's provider options sit flat next to ``provider``
(``models.NAME.provider: openai`` beside ``base_url``); here they are gathered into the typed
:class:`~arena.providers.specs.ProviderSpec` of that kind (``ModelConfig.spec``), and dumped flat again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from arena.errors import UserError, did_you_mean
from arena.providers.base import GenerationSettings
from arena.providers.fake_options import FAKE_JUDGE_SCRIPT, FakeOptions
from arena.providers.specs import FakeSpec, ProviderSpec, spec_class
from arena.rating.settings import RatingSettings
from arena.records import Mode

JuryHow = Literal["per-judge", "majority", "all"]

__all__ = ["ArenaConfig", "FakeOptions", "JudgeConfig", "ModelConfig", "Prices", "QuestionsConfig", "line_of"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionsConfig(_Strict):
    """Which questions the candidates answer."""

    set: str | None = None
    """A question set shipped in ``registry/questions/`` (e.g. ``mt_bench``, ``vicuna_bench``)."""
    file: Path | None = None
    """Or a JSONL file: native, FastChat, llmuses or arena-hard question format."""
    limit: int | None = Field(None, ge=1)
    """Keep only the first N questions (after the category filter)."""
    categories: list[str] | None = None
    """Keep only these categories."""
    ids: list[str] | None = None
    """Keep only these question ids."""

    @field_validator("ids", mode="before")
    @classmethod
    def _ids_to_str(cls, v: Any) -> Any:
        return [str(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _one_source(self) -> QuestionsConfig:
        if (self.set is None) == (self.file is None):
            raise ValueError("give exactly one of 'set' (a shipped question set) or 'file' (a JSONL path)")
        return self


def _validate_spec(value: Any, handler: ValidatorFunctionWrapHandler) -> ProviderSpec:
    """Validate a spec as the class its ``provider`` key names (so third-party kinds validate too)."""
    if isinstance(value, ProviderSpec):
        return value
    if not isinstance(value, dict) or "provider" not in value:
        return handler(value)  # pydantic reports what is missing
    try:
        cls = spec_class(str(value["provider"]))
    except UserError as exc:
        raise ValidationError.from_exception_data("ProviderSpec", [InitErrorDetails(
            type="value_error", loc=("provider",), input=value["provider"], ctx={"error": ValueError(str(exc))})]) from None
    return cls.model_validate(value)


class _WithSpec(_Strict):
    """A role (candidate or judge) around a provider spec whose options sit flat in the YAML."""

    spec: SerializeAsAny[ProviderSpec]
    """The provider and its options (``provider``, ``model`` and the keys of that kind)."""

    @model_validator(mode="before")
    @classmethod
    def _gather_spec(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "spec" in data:
            return data
        own = {k: v for k, v in data.items() if k in cls.model_fields}
        spec = {k: v for k, v in data.items() if k not in cls.model_fields}
        for key, value in cls.spec_defaults().items():
            spec.setdefault(key, value)
        return own | {"spec": spec}

    @classmethod
    def spec_defaults(cls) -> dict[str, Any]:
        """Values a spec takes in this role when the YAML does not give them."""
        return {}

    @field_validator("spec", mode="wrap")
    @classmethod
    def _typed_spec(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> ProviderSpec:
        return _validate_spec(value, handler)

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        spec = out.pop("spec", {})
        return (spec if isinstance(spec, dict) else {}) | out

    @property
    def provider(self) -> str:
        """The provider name as written in the config."""
        return self.spec.provider

    @property
    def model(self) -> str | None:
        return self.spec.model


class ModelConfig(_WithSpec):
    """A candidate model: its provider spec plus what it is asked and how it samples."""

    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    system_prompt: str | None = None
    enable: bool = True


class Prices(_Strict):
    """USD per million tokens, for the cost estimate in the manifest and judge report."""

    input_per_1m: float = Field(0.0, ge=0)
    output_per_1m: float = Field(0.0, ge=0)


class JudgeConfig(_WithSpec):
    """The judge model and how it reviews."""

    spec: SerializeAsAny[ProviderSpec] = Field(default_factory=lambda: FakeSpec(concurrency=16))
    """The judge's provider (default ``fake``); an API key is not needed by ``--dry-run`` (the fake judge)."""
    name: str | None = None
    """The judge's name in judgments, battles and the report; required for each judge of a jury (a list
    under ``judge:``). Not part of the judgment keys: renaming a judge reuses its judgments."""
    family: str | None = None
    """Model family whose candidates count as this judge's own, for self-preference in a jury; default:
    the leading letters of its model name (``gpt-4o`` -> ``gpt``)."""
    mode: Mode = "pairwise-all"
    baseline: str | None = None
    """Model every other model is compared with (``pairwise-baseline``)."""
    prompts: str = "mt-bench"
    """A judge prompt set in ``registry/judges/`` or a path to such a folder."""
    both_orders: bool | Literal["auto"] = True
    """Judge every pair in both positions (against position bias); ``false``: one seeded order; ``auto``
    (with ``budget`` or ``target_ci``): one seeded order, and the second order only for the games where the
    fitted position term most likely decided the verdict (:mod:`arena.judging.adaptive`)."""
    budget: int | None = Field(None, ge=1)
    """Adaptive judging (pairwise modes): at most this many judge calls, chosen in rounds by the expected
    shrinking of the rating intervals; the manifest says why judging stopped."""
    target_ci: float | None = Field(None, gt=0)
    """Adaptive judging: stop once every model's 95% half-width (rating points; against the baseline in
    ``pairwise-baseline``) is at most this."""
    generation: GenerationSettings = Field(
        default_factory=lambda: GenerationSettings(max_new_tokens=1024, temperature=0.0)
    )
    verdict: Literal["generate", "logprobs"] = "generate"
    """``logprobs``: read the verdict from label probabilities in one forward pass (local judges)."""
    max_answer_chars: int = Field(16000, ge=100)
    """Answers longer than this are truncated for the judge, with a note in the judgment."""
    prices: Prices | None = None
    """USD per million tokens; the dry run prints the cost of a real run from them."""
    expected_output_tokens: int | None = Field(None, ge=0)
    """Tokens a judge call is assumed to write, for the dry-run estimate; default: the prompt set's value."""

    @model_validator(mode="before")
    @classmethod
    def _default_provider(cls, data: Any) -> Any:
        if isinstance(data, dict) and "spec" not in data and "provider" not in data:
            return {"provider": "fake"} | data
        return data

    @classmethod
    def spec_defaults(cls) -> dict[str, Any]:
        return {"concurrency": 16}

    @model_validator(mode="after")
    def _needs(self) -> JudgeConfig:
        if not self.spec.can_judge:
            raise ValueError(f"provider '{self.spec.provider}' cannot judge; use openai, transformers or fake")
        fake = getattr(self.spec, "fake", None)
        if fake is not None and fake.script is not None:
            raise ValueError(FAKE_JUDGE_SCRIPT)
        if self.mode == "pairwise-baseline" and not self.baseline:
            raise ValueError("mode 'pairwise-baseline' needs 'baseline': the name of one of the models")
        if self.adaptive and self.mode == "single":
            raise ValueError("budget, target_ci and both_orders 'auto' choose pairs to judge: use mode pairwise-all "
                             "or pairwise-baseline")
        if self.both_orders == "auto" and self.budget is None and self.target_ci is None:
            raise ValueError("both_orders 'auto' asks for second orders within a budget: give 'budget' (judge calls) "
                             "or 'target_ci' (95% half-width in rating points)")
        return self

    @property
    def adaptive(self) -> bool:
        """Judging in adaptive rounds (``budget``, ``target_ci`` or ``both_orders: auto``)."""
        return self.budget is not None or self.target_ci is not None or self.both_orders == "auto"

    def verdict_part(self) -> dict[str, Any]:
        """What about this judge decides its verdicts (two jurors equal here would give the same judgments)."""
        return {"spec": self.spec.judge_key_part(), "generation": self.generation.model_dump(),
                "verdict": self.verdict, "prompts": self.prompts, "max_answer_chars": self.max_answer_chars}

    def chunk_size(self) -> int:
        """Games the reviewer sends at once: enough to keep every call slot and batch busy."""
        return max(self.spec.concurrency, self.spec.batch_size) * 2


class ArenaConfig(_Strict):
    """A whole arena: questions, candidates, judge, rater.

    Seeds are resolved here, once: ``rating.seed`` and every candidate's ``generation.seed`` default to
    ``seed`` (the judge's sampling seed stays as written: it is part of the judgment keys).
    """

    name: str = "arena"
    work_dir: Path = Path("outputs/arena")
    """Run directory (relative to the config file)."""
    seed: int = Field(0, ge=0)
    questions: QuestionsConfig
    models: dict[str, ModelConfig] = Field(min_length=1)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    """The judge; the YAML may give a list of judges (a jury), then this is the first (the lead judge)."""
    jurors: list[JudgeConfig] = Field(default_factory=list)
    """Every judge of a jury (``judge:`` given as a list); empty for a single judge. In a dumped config
    (``manifest.json``) the jury is under ``jurors`` beside its lead judge under ``judge``; a YAML file
    gives it as a list under ``judge:``."""
    jury: JuryHow = "per-judge"
    """``rating.jury`` in the YAML: what a jury's leaderboard rates: ``per-judge`` (the lead judge's
    battles; each judge's leaderboard is in the report), ``majority`` (one battle per game and order, the
    jurors' majority) or ``all`` (every juror's battles pooled)."""
    rating: RatingSettings = Field(default_factory=RatingSettings)

    @model_validator(mode="before")
    @classmethod
    def _jury_keys(cls, data: Any) -> Any:
        """``judge:`` as a list becomes ``jurors``; ``rating.jury`` moves out of the rater's settings."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        dumped = isinstance(out.get("jurors"), list) and out["jurors"] and out.get("judge") == out["jurors"][0]
        if dumped:  # a config as dumped (manifest.json): the lead judge under 'judge', the jury under 'jurors'
            out["judge"] = out.pop("jurors")
        for internal in ("jurors", "jury"):
            if internal in out:
                raise ValueError(f"unknown key '{internal}': give a jury as a list under 'judge:' and choose its "
                                 "leaderboard with 'rating.jury: per-judge|majority|all'")
        rating = out.get("rating")
        if isinstance(rating, dict) and "jury" in rating:
            rest = dict(rating)
            out["jury"] = rest.pop("jury")
            out["rating"] = rest
        judge = out.get("judge")
        if isinstance(judge, list):
            if not judge:
                raise ValueError("'judge' is an empty list: give one judge, or a list of named judges (a jury)")
            out["jurors"] = judge
            del out["judge"]
        return out

    @model_validator(mode="after")
    def _jury(self) -> ArenaConfig:
        if not self.jurors:
            return self
        names = [j.name for j in self.jurors]
        if any(j.adaptive for j in self.jurors):
            raise ValueError("judge budget, target_ci and both_orders 'auto' take one judge, not a jury: give one "
                             "judge, or judge every game (no budget)")
        for i, j in enumerate(self.jurors):
            if not j.name:
                raise ValueError(f"judge[{i}] ({j.spec.judge_id()}) needs a 'name': every judge of a jury is named")
            for key in ("mode", "baseline", "both_orders"):
                if getattr(j, key) != getattr(self.jurors[0], key):
                    raise ValueError(f"judge[{i}].{key} is {getattr(j, key)!r} but judge[0].{key} is "
                                     f"{getattr(self.jurors[0], key)!r}: a jury judges the same games; give every "
                                     "judge the same mode, baseline and both_orders")
            if names.count(j.name) > 1:
                raise ValueError(f"judge name {j.name!r} is given twice; name every judge of the jury differently")
            for k in range(i):
                if self.jurors[k].verdict_part() == j.verdict_part():
                    raise ValueError(f"judges {self.jurors[k].name!r} and {j.name!r} are the same judge (provider, "
                                     "model, settings and prompts): they would give the same judgments; remove one")
        self.judge = self.jurors[0]
        return self

    @model_serializer(mode="wrap")
    def _jury_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        # The lead judge stays under 'judge' (what readers of manifest.json's config expect); the jury is
        # under 'jurors', which loads back only beside its lead judge.
        jurors, jury = out.pop("jurors", None), out.pop("jury", "per-judge")
        if jurors:
            out["jurors"] = jurors
        if jurors or jury != "per-judge":
            out["rating"] = {**(out.get("rating") or {}), "jury": jury}
        return out

    @property
    def judges(self) -> list[JudgeConfig]:
        """Every judge: the jurors of a jury, else the one judge."""
        return list(self.jurors) if self.jurors else [self.judge]

    @model_validator(mode="after")
    def _cross_checks(self) -> ArenaConfig:
        enabled = [m for m, c in self.models.items() if c.enable]
        if not enabled:
            raise ValueError("every model has 'enable: false'; enable at least one")
        baseline = self.judge.baseline
        if baseline is not None and baseline not in enabled:
            raise ValueError(
                f"judge.baseline '{baseline}' is not an enabled model.{did_you_mean(baseline, enabled)} "
                f"Models: {', '.join(enabled)}"
            )
        anchor = self.rating.anchor
        if anchor is not None and anchor.model not in self.models:
            raise ValueError(f"rating.anchor.model '{anchor.model}' is not a model of this config."
                             f"{did_you_mean(anchor.model, list(self.models))} Models: {', '.join(self.models)}")
        if self.judge.mode != "single" and len(enabled) < 2:
            raise ValueError(f"mode '{self.judge.mode}' needs at least two enabled models")
        return self

    @model_validator(mode="after")
    def _position_model(self) -> ArenaConfig:
        """``both_orders: auto`` judges most games in one order: rate with the position term (``bt-position``)
        unless ``rating.method`` is given or the rating settings need plain Bradley-Terry."""
        r = self.rating
        if (self.judge.both_orders == "auto" and "method" not in r.model_fields_set and r.method == "bt"
                and r.ties in ("half", "drop") and r.reweight == "none"):
            self.rating = r.model_copy(update={"method": "bt-position"})
        return self

    @model_validator(mode="after")
    def _resolve_seeds(self) -> ArenaConfig:
        if self.rating.seed is None:
            self.rating = self.rating.model_copy(update={"seed": self.seed})
        for m in self.models.values():
            if m.generation.seed is None:
                m.generation = m.generation.model_copy(update={"seed": self.seed})
        return self

    @property
    def enabled_models(self) -> dict[str, ModelConfig]:
        return {m: c for m, c in self.models.items() if c.enable}

    # Where the config came from, for error messages that name file:line (set by the loader).
    _source: Path | None = PrivateAttr(None)
    _yaml_root: Any = PrivateAttr(None)

    def where(self, *loc: str) -> str:
        """``file:line`` of the key path ``loc`` (e.g. ``"models", "a", "file"``) in the config file.

        The line is that of the deepest key present in the file (a default value points at its parent);
        ``file`` alone when the line is unknown, ``config`` for a config built in Python.
        """
        if self._source is None:
            return "config"
        line = line_of(self._yaml_root, loc)
        return f"{self._source}:{line}" if line else str(self._source)


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (key path; an int indexes a list)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.SequenceNode) and str(part).isdigit():
            if int(part) >= len(node.value):
                break
            node = node.value[int(part)]
            line = node.start_mark.line + 1
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        found = None
        for key_node, value_node in node.value:
            if str(key_node.value) == str(part):
                line = key_node.start_mark.line + 1
                found = value_node
                break
        if found is None:
            break
        node = found
    return line
