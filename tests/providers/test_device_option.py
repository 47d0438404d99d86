"""The ``device`` of a transformers model is checked when its provider is built (``arena validate``, and
``arena run`` before any model answers), not when the model loads: ``gpu9`` failed mid-run with torch's
RuntimeError (exit 1), and ``cuda`` on a machine without a GPU failed at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arena.errors import UserError
from tests.helpers.cli_config import BASE, COMMAND_IDS, COMMANDS, assert_refused

pytest.importorskip("torch")
pytest.importorskip("transformers")


def _no_accelerator() -> bool:
    import torch

    return not torch.accelerator.is_available()


DEVICE_CASES = [
    ("gpu9", ["cfg.yaml:6: key 'models.b.device':", "'gpu9' is not a torch device", "cpu, cuda, cuda:N"]),
    ("'cuda:x'", ["cfg.yaml:6: key 'models.b.device':", "'cuda:x' is not a torch device"]),
    ("meta", ["cfg.yaml:6: key 'models.b.device':", "'meta'", "holds no weights"]),
]


@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
@pytest.mark.parametrize(("device", "expected"), DEVICE_CASES, ids=[c[0] for c in DEVICE_CASES])
def test_bad_device_is_refused_before_loading(tmp_path: Path, capsys: pytest.CaptureFixture[str], device: str,
                                              expected: list[str], command: list[str]) -> None:
    text = BASE.replace("b: {provider: fake}",
                        f"b: {{provider: transformers, model: smollm2-135m-instruct, device: {device}}}")
    assert_refused(tmp_path, text, command, capsys, expected)


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mps"])
def test_accelerator_missing_here_is_refused_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          device: str) -> None:
    if not _no_accelerator():
        pytest.skip("this machine has an accelerator")
    text = BASE.replace("b: {provider: fake}",
                        f"b: {{provider: transformers, model: smollm2-135m-instruct, device: '{device}'}}")
    assert_refused(tmp_path, text, ["validate"], capsys,
                   ["cfg.yaml:6: key 'models.b.device':", f"'{device}'", "torch sees no", "use device: auto or cpu"])


class _OneCuda:
    """torch.accelerator as a machine with one CUDA GPU shows it."""

    @staticmethod
    def is_available() -> bool:
        return True

    @staticmethod
    def current_accelerator() -> Any:
        import torch

        return torch.device("cuda")

    @staticmethod
    def device_count() -> int:
        return 1


def test_device_index_past_the_visible_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from arena.providers.hf_loading import resolve_device

    monkeypatch.setattr(torch, "accelerator", _OneCuda)
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(UserError, match=r"device 'cuda:3': torch sees 1 cuda device \(cuda:0\)"):
        resolve_device("cuda:3")
    with pytest.raises(UserError, match="device 'mps': torch sees no mps device"):
        resolve_device("mps")


def test_cpu_and_auto_pass() -> None:
    from arena.providers.hf_loading import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cpu:0") == "cpu:0"
    if _no_accelerator():
        assert resolve_device("auto") == "cpu"
