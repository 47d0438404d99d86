"""The arena config: one YAML file, validated by pydantic at load time.

Every mistake becomes a :class:`~arena.errors.ConfigError` whose one-line message names the file, the
line, the key and the fix. Paths in the file are relative to the file itself.
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
    ValidationError,
    field_validator,
    model_validator,
)

from arena.errors import ConfigError, did_you_mean
from arena.providers.base import GenerationSettings
from arena.rating.settings import RatingSettings
from arena.records import Mode


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


class FakeOptions(_Strict):
    """Options of the ``fake`` provider (offline, deterministic)."""

    script: list[str] | None = None
    """Replies returned in order; running out is an error. Without a script: seeded random text."""
    seed: int | None = None
    min_words: int = Field(8, ge=1)
    max_words: int = Field(60, ge=1)
    latency_s: float = Field(0.0, ge=0)
    """Seconds each reply takes (to rehearse progress bars, interrupts and crashes)."""
    # Judge-only knobs: the fake judge emits verdicts in the prompt set's format.
    tie_rate: float = Field(0.1, ge=0, le=1)
    position_bias: float = Field(0.0, ge=-1, le=1)
    """Extra probability that position A wins (negative favours B)."""
    failure_rate: float = Field(0.0, ge=0, le=1)
    """Share of replies with no parsable verdict."""


class ModelConfig(_Strict):
    """A candidate model."""

    provider: Literal["transformers", "openai", "fake", "answers"]
    model: str | None = None
    """Registry preset, HF-format dir, ``.gguf`` file, or the served model name for ``openai``."""
    base_url: str | list[str] | None = None
    """OpenAI-compatible endpoint(s); several URLs share the load. Default: ``$OPENAI_BASE_URL``."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable that holds the API key (the key itself never goes in a file).

    Needed for ``provider: openai`` unless every base URL is on loopback; checked before any work
    (``arena validate``). A server that needs no key but is reached by another address: export a dummy value.
    """
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    system_prompt: str | None = None
    enable: bool = True
    file: Path | None = None
    """For ``provider: answers``: a FastChat/arena-hard answer file (JSONL) with this model's answers."""
    answer_model_id: str | None = None
    """For ``provider: answers``: the ``model_id`` to pick in a file holding several models."""
    batch_size: int = Field(8, ge=1)
    device: str = "auto"
    dtype: str = "auto"
    concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0)
    fake: FakeOptions = Field(default_factory=FakeOptions)

    @model_validator(mode="after")
    def _needs(self) -> ModelConfig:
        if self.provider in ("transformers", "openai") and not self.model:
            raise ValueError(f"provider '{self.provider}' needs 'model' (a preset, path or served model name)")
        if self.provider == "answers" and self.file is None:
            raise ValueError("provider 'answers' needs 'file' (a JSONL file of pre-generated answers)")
        return self


class Prices(_Strict):
    """USD per million tokens, for the cost estimate in the manifest and judge report."""

    input_per_1m: float = Field(0.0, ge=0)
    output_per_1m: float = Field(0.0, ge=0)


class JudgeConfig(_Strict):
    """The judge model and how it reviews."""

    provider: Literal["openai", "transformers", "fake"] = "fake"
    model: str | None = None
    base_url: str | list[str] | None = None
    api_key_env: str = "OPENAI_API_KEY"
    """As for a candidate; not needed by ``--dry-run`` (the fake judge)."""
    mode: Mode = "pairwise-all"
    baseline: str | None = None
    """Model every other model is compared with (``pairwise-baseline``)."""
    prompts: str = "mt-bench"
    """A judge prompt set in ``registry/judges/`` or a path to such a folder."""
    both_orders: bool = True
    """Judge every pair in both positions (against position bias)."""
    concurrency: int = Field(16, ge=1)
    generation: GenerationSettings = Field(
        default_factory=lambda: GenerationSettings(max_new_tokens=1024, temperature=0.0)
    )
    verdict: Literal["generate", "logprobs"] = "generate"
    """``logprobs``: read the verdict from label probabilities in one forward pass (local judges)."""
    batch_size: int = Field(8, ge=1)
    device: str = "auto"
    dtype: str = "auto"
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0)
    max_answer_chars: int = Field(16000, ge=100)
    """Answers longer than this are truncated for the judge, with a note in the judgment."""
    prices: Prices | None = None
    """USD per million tokens; the dry run prints the cost of a real run from them."""
    expected_output_tokens: int | None = Field(None, ge=0)
    """Tokens a judge call is assumed to write, for the dry-run estimate; default: the prompt set's value."""
    fake: FakeOptions = Field(default_factory=FakeOptions)

    @model_validator(mode="after")
    def _needs(self) -> JudgeConfig:
        if self.provider in ("transformers", "openai") and not self.model:
            raise ValueError(f"judge provider '{self.provider}' needs 'model'")
        if self.mode == "pairwise-baseline" and not self.baseline:
            raise ValueError("mode 'pairwise-baseline' needs 'baseline': the name of one of the models")
        return self


class ArenaConfig(_Strict):
    """A whole arena: questions, candidates, judge, rater."""

    name: str = "arena"
    work_dir: Path = Path("outputs/arena")
    """Run directory (relative to the config file)."""
    seed: int = 0
    questions: QuestionsConfig
    models: dict[str, ModelConfig] = Field(min_length=1)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    rating: RatingSettings = Field(default_factory=RatingSettings)

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
        if self.judge.mode != "single" and len(enabled) < 2:
            raise ValueError(f"mode '{self.judge.mode}' needs at least two enabled models")
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
        line = _line_of(self._yaml_root, loc)
        return f"{self._source}:{line}" if line else str(self._source)


# ---------------------------------------------------------------------------------------------- loading


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (key path)."""
    line = None
    for part in loc:
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


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at the parent of ``loc`` (for 'did you mean')."""
    current: Any = ArenaConfig
    for part in loc[:-1]:
        if current is None:
            return []
        if isinstance(current, tuple):  # inside a dict[str, Model]: ``part`` is a name
            current = current[1]
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _field_model(field.annotation)
    if isinstance(current, tuple) or current is None:
        return []
    return list(current.model_fields)


def _field_model(annotation: Any) -> Any:
    """The pydantic model inside an annotation; ``("dict", Model)`` for ``dict[str, Model]``."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is dict:
        value = _field_model(typing.get_args(annotation)[1])
        return ("dict", value) if value is not None else None
    for arg in typing.get_args(annotation):
        inner = _field_model(arg)
        if inner is not None:
            return inner
    return None


def _format_error(path: Path, root: yaml.Node | None, err: Any) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"{path}:{line}" if line else str(path)
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = did_you_mean(str(loc[-1]), _allowed_keys(loc))
        return f"{where}: unknown key '{key}'.{hint or ' Remove it or fix its spelling.'}"
    if kind == "missing":
        return f"{where}: missing key '{key}'; add it (see configs/ for examples)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    shown = f" (got {value!r})" if kind != "value_error" and not isinstance(value, dict | list) else ""
    return f"{where}: key '{key}': {msg}{shown}"


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; re-save the file as UTF-8") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{line}: malformed YAML ({problem}); fix the syntax there") from None
    return data, root


def config_from_dict(data: Any, path: Path, root: yaml.Node | None = None) -> ArenaConfig:
    """Validate a parsed config; relative paths are resolved against ``path``'s folder."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (name, questions, models, judge, rating)")
    try:
        cfg = ArenaConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, root, exc.errors()[0])) from None
    cfg = _resolve_paths(cfg, path.resolve().parent)
    cfg._source, cfg._yaml_root = path, root
    return cfg


def _resolve_paths(cfg: ArenaConfig, base: Path) -> ArenaConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else (base / p).resolve())

    cfg.work_dir = fix(cfg.work_dir) or cfg.work_dir
    cfg.questions.file = fix(cfg.questions.file)
    for m in cfg.models.values():
        m.file = fix(m.file)
        if m.provider == "transformers" and m.model and not Path(m.model).is_absolute():
            candidate = base / m.model
            if candidate.exists():
                m.model = str(candidate.resolve())
    if cfg.judge.provider == "transformers" and cfg.judge.model and (base / cfg.judge.model).exists():
        cfg.judge.model = str((base / cfg.judge.model).resolve())
    return cfg


def load_config(path: str | Path) -> ArenaConfig:
    """Load and validate a config file.

    Raises:
        ConfigError: with ``file:line: key '...': problem; fix`` on one line.
    """
    path = Path(path)
    data, root = read_yaml(path)
    from arena.interop.llmuses_config import is_llmuses_config, translate_and_warn

    if is_llmuses_config(data):  # llmuses/evalscope configs load translated, with a notice per change
        data, root = translate_and_warn(data, path), None
    return config_from_dict(data, path, root)
