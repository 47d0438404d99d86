"""Loading a config file: YAML, one-line errors naming ``file:line``, paths, llmuses translation.

Every mistake becomes a :class:`~arena.errors.ConfigError` whose one-line message names the file, the
line, the key and the fix. Paths in the file are relative to the file itself. Seeds are resolved once, by
the schema (:class:`~arena.config.schema.ArenaConfig`), so no later stage falls back on its own.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from arena.config.schema import ArenaConfig, JudgeConfig, ModelConfig, line_of
from arena.errors import ConfigError, UserError, did_you_mean
from arena.providers.specs import spec_class

_ROLES: dict[str, type[BaseModel]] = {"models": ModelConfig, "judge": JudgeConfig}


def _yaml_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key path as written in the YAML: a role's ``spec`` level is flat there."""
    if len(loc) > 2 and loc[0] == "models" and loc[2] == "spec":
        return (*loc[:2], *loc[3:])
    if len(loc) > 1 and loc[0] == "judge" and loc[1] == "spec":
        return (loc[0], *loc[2:])
    if loc and loc[0] == "jurors":  # a jury: the list under 'judge:'
        rest = loc[2:]
        return ("judge", *loc[1:2], *(rest[1:] if rest[:1] == ("spec",) else rest))
    if loc and loc[0] == "jury":
        return ("rating", "jury", *loc[1:])
    return loc


def _role_keys(model: type[BaseModel], data: Any) -> list[str] | None:
    """Keys valid in a candidate or judge mapping: the role's own plus its provider spec's."""
    own = [k for k in model.model_fields if k != "spec"]
    provider = data.get("provider", "fake" if model is JudgeConfig else None) if isinstance(data, dict) else None
    try:
        spec_fields = list(spec_class(str(provider)).model_fields) if provider is not None else []
    except UserError:
        spec_fields = []
    return own + spec_fields


def _allowed_keys(loc: tuple[Any, ...], data: Any) -> list[str]:
    """Field names valid at the parent of ``loc`` (a YAML key path), for 'did you mean'."""
    current: Any = ArenaConfig
    node = data
    for part in loc[:-1]:
        if isinstance(part, int):  # an element of the jury list under 'judge:'
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        node = node.get(part) if isinstance(node, dict) else None
        if current is None:
            return []
        if isinstance(current, tuple):  # inside a dict[str, Model]: ``part`` is a name
            current = current[1]
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _field_model(field.annotation)
    if current in _ROLES.values():
        return _role_keys(current, node) or []
    if isinstance(current, tuple) or current is None:
        return []
    return list(current.model_fields)


def _field_model(annotation: Any) -> Any:
    """The pydantic model inside an annotation; ``("dict", Model)`` for ``dict[str, Model]``."""
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


def _format_error(path: Path, root: yaml.Node | None, err: Any, data: Any = None) -> str:
    loc = _yaml_loc(tuple(err["loc"]))
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = line_of(root, loc)
    where = f"{path}:{line}" if line else str(path)
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = did_you_mean(str(loc[-1]), _allowed_keys(loc, data))
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
    twice = _repeated_key(root)
    if twice is not None:
        key, second, first = twice
        raise ConfigError(f"{path}:{second}: key '{key}' is given twice in one mapping (first on line {first}); YAML "
                          "keeps only the last, so the first would be ignored: rename or remove one")
    return data, root


def _repeated_key(node: yaml.Node | None) -> tuple[str, int, int] | None:
    """The first key that a mapping of the document gives twice (a copied model block left under its old name):
    the key, its second line and its first line."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                if key.value in seen:
                    return key.value, key.start_mark.line + 1, seen[key.value]
                seen[key.value] = key.start_mark.line + 1
            found = _repeated_key(value)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _repeated_key(item)
            if found is not None:
                return found
    return None


def config_from_dict(data: Any, path: Path, root: yaml.Node | None = None) -> ArenaConfig:
    """Validate a parsed config; relative paths are resolved against ``path``'s folder."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (name, questions, models, judge, rating)")
    try:
        cfg = ArenaConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, root, exc.errors()[0], data)) from None
    cfg = _resolve_paths(cfg, path.resolve().parent)
    cfg._source, cfg._yaml_root = path, root
    return cfg


def _resolve_paths(cfg: ArenaConfig, base: Path) -> ArenaConfig:
    if not cfg.work_dir.is_absolute():
        cfg.work_dir = (base / cfg.work_dir).resolve()
    q = cfg.questions.file
    if q is not None and not q.is_absolute():
        cfg.questions.file = (base / q).resolve()
    for m in cfg.models.values():
        m.spec.resolve_paths(base)
    for judge in {id(j): j for j in [cfg.judge, *cfg.jurors]}.values():
        judge.spec.resolve_paths(base)
    return cfg


def load_config(path: str | Path) -> ArenaConfig:
    """Load and validate a config file (llmuses/evalscope configs load translated, with a notice per change).

    Raises:
        ConfigError: with ``file:line: key '...': problem; fix`` on one line.
    """
    path = Path(path)
    data, root = read_yaml(path)
    from arena.config.llmuses import is_llmuses_config, translate_and_warn

    if is_llmuses_config(data):
        data, root = translate_and_warn(data, path), None
    return config_from_dict(data, path, root)
