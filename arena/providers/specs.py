"""Provider specs: one typed pydantic model per kind of provider, picked by the config's ``provider`` key.

A spec owns everything about its kind: its options (the keys a config may give next to ``provider``),
what about it changes its outputs (:meth:`ProviderSpec.key_part`, part of every answer and judgment key),
the checks to run before spending (:meth:`ProviderSpec.check`) and how to build the provider
(:meth:`ProviderSpec.build`, which imports the provider module only then, so loading a config never pulls
torch or an SDK). Config, generation and judging ask the spec; none of them tests a provider name.

Adding a provider is one spec class. Built-in kinds are listed in :data:`SPECS`; a third-party spec is
used by its import path (``provider: mypkg.mod:MySpec`` in the YAML), by :func:`register_provider`, or by
an entry point in the group ``arena.providers`` (``name = "mypkg.mod:MySpec"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arena.errors import UserError, unknown_name
from arena.providers.fake_options import FakeOptions

if TYPE_CHECKING:
    from arena.judging.judge import Judge
    from arena.providers.base import Provider

ENTRY_POINT_GROUP = "arena.providers"


class SpecProblem(UserError):
    """A spec check failed: ``key`` is the config key at fault (the caller adds ``file:line``)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def _optional_dependency(kind: str, extra: str | None, exc: ImportError) -> UserError:
    fix = (f"Install with: pip install torch==2.13.0 && pip install 'arena-judge[{extra}]'" if extra
           else "Install the package that provides it")
    return UserError(f"provider '{kind}' requires optional dependencies ({exc.name} missing). {fix}")


class ProviderSpec(BaseModel):
    """Base of every provider spec: the ``provider`` name and the options every kind shares.

    Subclasses add their own options as fields and override :meth:`build` (and, where they have one,
    :meth:`key_part`, :meth:`check`, :meth:`resolve_paths`).
    """

    model_config = ConfigDict(extra="forbid")

    provider: str
    """The kind: a built-in name, a registered name or a ``module:Class`` path."""
    model: str | None = None
    """What the provider runs (a preset, path or served model name); optional for kinds that need none."""
    batch_size: int = Field(8, ge=1)
    """Items handed to the provider per call (local batching; the stages also chunk their work by it)."""
    concurrency: int = Field(8, ge=1)
    """Calls in flight at once (remote providers); the judge also chunks its work by it."""

    can_judge: ClassVar[bool] = True
    """Whether this kind can serve as a judge (pre-generated answers cannot)."""
    needs_model: ClassVar[bool] = False
    """Whether ``model`` is required."""
    scores_labels: ClassVar[bool] = False
    """Whether the built provider can score verdict labels in one forward pass (``verdict: logprobs``)."""
    has_label_probabilities: ClassVar[bool] = True
    """Whether a judge's replies can carry label probabilities (the fake judge's cannot)."""
    free: ClassVar[bool] = False
    """Calls cost nothing (the judge's ``prices`` do not apply)."""
    pregenerated: ClassVar[bool] = False
    """The provider reads answers written before (``lookup``) instead of generating; their text is keyed."""
    """Calls cost nothing (the judge's ``prices`` do not apply)."""
    """Whether a judge's replies can carry label probabilities (the fake judge's cannot)."""

    @model_validator(mode="after")
    def _model_given(self) -> ProviderSpec:
        if self.needs_model and not self.model:
            raise ValueError(f"provider '{self.provider}' needs 'model' (a preset, path or served model name)")
        return self

    def key_part(self) -> dict[str, Any]:
        """What about this provider changes its outputs: part of every answer and judgment key.

        Endpoints, keys, timeouts, batch sizes and concurrency do not change outputs and stay out.
        """
        return {"provider": self.provider, "model": self.model}

    def judge_key_part(self) -> dict[str, Any]:
        """As :meth:`key_part`, for this provider acting as a judge."""
        return self.key_part()

    def judge_id(self) -> str:
        """The judge's name in judgments and reports."""
        return str(self.model)

    def price_factor(self) -> float:
        """What share of the judge's ``prices`` a call costs (``0.5`` through a half-price batch API)."""
        return 1.0

    def resolve_paths(self, base: Path) -> None:
        """Make the spec's file paths absolute against ``base`` (the config file's folder)."""

    def check(self, *, question_ids: set[str], spend: bool) -> None:
        """Raise :class:`SpecProblem` for what would stop a run (files, presets, API keys).

        Args:
            question_ids: every question id of the question set (for pre-generated answers).
            spend: also check what generating or judging needs (presets, API keys), not only the inputs.
        """

    def check_calls(self, *, name: str, pending: Callable[[], tuple[int, int]]) -> None:
        """Raise :class:`SpecProblem` when the provider cannot answer every call a run will make (a fake
        script shorter than them); by default any number of calls is fine.

        Args:
            name: the model's name in the config.
            pending: ``(calls, questions)`` the run will ask this model for (one call per turn of each question
                not answered yet); called only by a spec that needs it, as it reads the answers on disk.
        """

    def build(self, *, seed: int, name: str) -> Provider:
        """Instantiate the provider (importing its module now). ``seed``: the run's resolved seed."""
        raise NotImplementedError(f"{type(self).__name__} does not define build()")

    def build_judge(self, judge: Judge, *, seed: int) -> Provider:
        """The provider behind ``judge``; by default the one :meth:`build` makes."""
        return self.build(seed=seed, name=judge.judge_id)


# ------------------------------------------------------------------------------------------ built-in kinds


class FakeSpec(ProviderSpec):
    """``provider: fake``: scripted or seeded-random replies; as a judge, seeded verdicts."""

    provider: Literal["fake"] = "fake"
    fake: FakeOptions = Field(default_factory=FakeOptions)

    has_label_probabilities: ClassVar[bool] = False
    free: ClassVar[bool] = True

    def key_part(self) -> dict[str, Any]:
        return super().key_part() | {"fake": self.fake.model_dump(include={"script", "seed", "min_words", "max_words"})}

    def judge_key_part(self) -> dict[str, Any]:
        return ProviderSpec.key_part(self) | {"fake": self.fake.model_dump(exclude={"latency_s"})}

    def judge_id(self) -> str:
        return "fake-judge"

    def seed_for(self, seed: int, name: str) -> int:
        """``fake.seed`` if set, else one drawn from the run seed and the model's name (so two fake
        candidates with different names give different answers)."""
        from arena.keys import seed_from

        return self.fake.seed if self.fake.seed is not None else seed_from("fake-candidate", seed, name)

    def check_calls(self, *, name: str, pending: Callable[[], tuple[int, int]]) -> None:
        script = self.fake.script
        if script is None:
            return
        calls, questions = pending()
        if calls > len(script):
            replies = f"{len(script)} repl{'y' if len(script) == 1 else 'ies'}"
            raise SpecProblem("fake.script", f"fake.script has {replies}, and this run asks model '{name}' for "
                              f"{calls} ({questions} questions not answered yet, one reply per turn); add "
                              "replies, or drop script for seeded random text")

    def build(self, *, seed: int, name: str) -> Provider:
        from arena.providers.fake import FakeProvider

        f = self.fake
        return FakeProvider(script=f.script, seed=self.seed_for(seed, name), min_words=f.min_words,
                            max_words=f.max_words, latency_s=f.latency_s)

    def build_judge(self, judge: Judge, *, seed: int) -> Provider:
        from arena.providers.fake_judge import make_fake_judge

        return make_fake_judge(judge, self.fake, seed)


class AnswersSpec(ProviderSpec):
    """``provider: answers``: a FastChat/arena-hard file of pre-generated answers."""

    provider: Literal["answers"] = "answers"
    file: Path
    """A FastChat/arena-hard answer file (JSONL) with this model's answers."""
    answer_model_id: str | None = None
    """The ``model_id`` to pick in a file holding several models."""

    can_judge: ClassVar[bool] = False
    pregenerated: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _file_given(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("file") is None:
            raise ValueError("provider 'answers' needs 'file' (a JSONL file of pre-generated answers)")
        return data

    def key_part(self) -> dict[str, Any]:
        return super().key_part() | {"file": str(self.file), "answer_model_id": self.answer_model_id}

    def resolve_paths(self, base: Path) -> None:
        if not self.file.is_absolute():
            self.file = (base / self.file).resolve()

    def check(self, *, question_ids: set[str], spend: bool) -> None:
        if not self.file.is_file():
            raise SpecProblem("file", f"{self.file} does not exist; fix the path (relative to the config file)")
        from arena.providers.answers import AnswersProvider

        AnswersProvider(file=self.file, model_id=self.answer_model_id).check_questions(set(), question_ids)

    def build(self, *, seed: int, name: str) -> Provider:
        from arena.providers.answers import AnswersProvider

        # Read, not generated: generation asks it for lookup(), never generate().
        return AnswersProvider(file=self.file, model_id=self.answer_model_id)  # type: ignore[return-value]


class OpenAISpec(ProviderSpec):
    """``provider: openai``: any OpenAI-compatible server (OpenAI, vLLM, SGLang, llama.cpp)."""

    provider: Literal["openai"] = "openai"
    base_url: str | list[str] | None = None
    """OpenAI-compatible endpoint(s); several URLs share the load. Default: ``$OPENAI_BASE_URL``."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable that holds the API key (the key itself never goes in a file).

    Needed unless every base URL is on loopback; checked before any work (``arena validate``). A server
    that needs no key but is reached by another address: export a dummy value.
    """
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0)
    batch: bool = False
    """Send judge calls through the OpenAI Batch API (half price, results within ``batch_window``); the
    batch ids are kept in ``RUN_DIR/batches.jsonl`` so a killed run resumes polling instead of resubmitting."""
    batch_poll_s: float = Field(30.0, gt=0)
    """Seconds between two status polls of an unfinished batch."""
    batch_window: str = "24h"
    """The batch's completion window (OpenAI accepts ``24h``)."""
    batch_max_requests: int = Field(50_000, ge=1)
    """Requests per batch (OpenAI's limit is 50,000); more pending calls make several batches."""

    needs_model: ClassVar[bool] = True
    batch_price_factor: ClassVar[float] = 0.5
    """The Batch API's price as a share of the live price (OpenAI: 50% of input and output)."""

    def price_factor(self) -> float:
        return self.batch_price_factor if self.batch else 1.0

    def check(self, *, question_ids: set[str], spend: bool) -> None:
        from arena.providers.openai_wire import api_key_missing

        # The URLs first: an empty list is not loopback, so the key check would blame a missing key.
        urls = [self.base_url] if isinstance(self.base_url, str) else self.base_url
        if urls is not None and not urls:
            raise SpecProblem("base_url", "base_url is an empty list; give at least one OpenAI-compatible URL, "
                              "or leave base_url out for $OPENAI_BASE_URL")
        if urls is not None and any(not u.strip() for u in urls):
            raise SpecProblem("base_url", "base_url has a blank URL; give OpenAI-compatible URLs "
                              "(http://host:port/v1), or leave base_url out for $OPENAI_BASE_URL")
        if self.batch and urls is not None and len(urls) > 1:
            raise SpecProblem("base_url", f"batch: true sends the calls as one Batch API job to one server, and "
                              f"base_url lists {len(urls)}; give one URL, or set batch: false to spread calls over all")
        if spend and api_key_missing(self.base_url, self.api_key_env):
            raise SpecProblem("api_key_env", f"{self.api_key_env} is not set in the environment; export it or set "
                              "api_key_env (a server that needs no key, off loopback: export a dummy value)")

    def build(self, *, seed: int, name: str) -> Provider:
        try:
            from arena.providers.openai_api import OpenAIProvider
            from arena.providers.openai_batch import OpenAIBatchProvider
        except ImportError as exc:
            raise _optional_dependency(self.provider, None, exc) from None
        if self.batch:
            return OpenAIBatchProvider(model=str(self.model), base_url=self.base_url, api_key_env=self.api_key_env,
                                       poll_s=self.batch_poll_s, max_requests=self.batch_max_requests,
                                       completion_window=self.batch_window, timeout_s=self.timeout_s,
                                       max_retries=self.max_retries)
        return OpenAIProvider(model=str(self.model), base_url=self.base_url, api_key_env=self.api_key_env,
                              concurrency=self.concurrency, timeout_s=self.timeout_s, max_retries=self.max_retries)


class TransformersSpec(ProviderSpec):
    """``provider: transformers``: a local model (registry preset, HF-format dir or ``.gguf`` file)."""

    provider: Literal["transformers"] = "transformers"
    device: str = "auto"
    dtype: str = "auto"

    needs_model: ClassVar[bool] = True
    scores_labels: ClassVar[bool] = True

    def resolve_paths(self, base: Path) -> None:
        if self.model and not Path(self.model).is_absolute() and (base / self.model).exists():
            self.model = str((base / self.model).resolve())

    def check(self, *, question_ids: set[str], spend: bool) -> None:
        if not spend or not self.model:
            return
        from arena.providers.presets import resolve_model

        try:
            resolve_model(self.model)
        except UserError as exc:
            raise SpecProblem("model", str(exc)) from None

    def build(self, *, seed: int, name: str) -> Provider:
        try:
            from arena.providers.hf import TransformersProvider
        except ImportError as exc:
            raise _optional_dependency(self.provider, "local", exc) from None
        return TransformersProvider(model=str(self.model), device=self.device, dtype=self.dtype,
                                    batch_size=self.batch_size, seed=seed)


# ------------------------------------------------------------------------------------------------ registry

SpecTarget = type[ProviderSpec] | str
"""A spec class, or its ``"module:Class"`` path (imported on first use)."""

SPECS: dict[str, SpecTarget] = {
    "fake": FakeSpec,
    "answers": AnswersSpec,
    "openai": OpenAISpec,
    "transformers": TransformersSpec,
}


def register_provider(name: str, target: SpecTarget) -> None:
    """Make ``provider: name`` mean ``target`` (a :class:`ProviderSpec` subclass or its ``"module:Class"``)."""
    SPECS[name] = target


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _import_target(target: str, name: str) -> object:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"provider '{name}': cannot import module '{module_name}' ({exc}); "
                        "check the path or install the package that provides it") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"provider '{name}': module '{module_name}' has no '{attr}'; check the class name") from None


def _as_spec_class(obj: object, name: str) -> type[ProviderSpec]:
    if not (isinstance(obj, type) and issubclass(obj, ProviderSpec)):
        raise UserError(f"provider '{name}' is {obj!r}, not a subclass of arena.providers.specs.ProviderSpec")
    return obj


def spec_class(name: str) -> type[ProviderSpec]:
    """The spec class ``provider: name`` means: built-in or registered, ``module:Class``, or entry point.

    Raises:
        UserError: unknown name ("did you mean ...? Available: ..."), or a path that does not import.
    """
    target: object = SPECS.get(name)
    if target is None and ":" in name:
        target = name
    if target is None:
        eps = _entry_points()
        if name not in eps:
            raise UserError(unknown_name("provider", name, [*SPECS, *eps])
                            + " (or a 'module:Class' path to a ProviderSpec subclass)")
        target = eps[name].load()
    if isinstance(target, str):
        target = _import_target(target, name)
    return _as_spec_class(target, name)


def available_providers() -> list[str]:
    """Names ``provider:`` accepts without a ``module:Class`` path."""
    return sorted({*SPECS, *_entry_points()})


def parse_spec(data: dict[str, Any]) -> ProviderSpec:
    """Validate ``data`` (with its ``provider`` key) as the spec class that key names."""
    return spec_class(str(data["provider"])).model_validate(data)

