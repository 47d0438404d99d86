"""The public API: every name in ``arena.__all__`` resolves, ``import arena`` stays light, and the README's
Python example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import arena

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [n for n in arena.__all__ if n != "__version__"])
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(arena, name) is not None
    assert name in dir(arena)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        arena.nope  # noqa: B018


@pytest.mark.parametrize("stmt", ["import arena", "import arena.config", "import arena.cli"])
def test_imports_stay_light(stmt: str) -> None:
    code = f"{stmt}; import sys; print(sorted(m for m in ('pandas', 'scipy', 'torch', 'arena.interop') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def _readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README shows a Python example"
    return blocks[0]


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The example reads configs/fake.yaml (no model, no network); run it in a copy so outputs land in tmp_path.
    import shutil

    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(_readme_python_example(), "README.md", "exec"), namespace)  # noqa: S102
