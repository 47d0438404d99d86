"""Loading local transformers models: presets, HF directories and GGUF files, shared in-process.

The model is a registry preset, an HF-format directory or a ``.gguf`` file (see `arena.providers.presets`). A GGUF file
is dequantised by transformers on first load and the result is saved as safetensors in a cache directory, so
later loads read an HF directory and skip the slow conversion. Loaded models are also shared in-process:
two candidates built from the same weights (say greedy and sampled) hold one copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.errors import ProviderError, UserError
from arena.providers.presets import ResolvedModel, resolve_model

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}
_CACHE_FORMAT = 1
"""Bump when the layout of a converted-GGUF cache entry changes, so old entries are not reused."""


@dataclass
class LoadedModel:
    """A model and tokenizer in memory, with where they came from."""

    model: Any
    tokenizer: Any
    source: str
    """``"hf-dir"``, ``"gguf-convert"`` (first load of a GGUF file) or ``"gguf-cache"``."""
    load_time_s: float
    weights_dir: Path
    """The HF directory the weights were read from (the cache entry for a GGUF file)."""


_MODELS: dict[tuple[str, str, str], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget every model loaded in this process (frees memory once no provider holds them)."""
    with _MODELS_LOCK:
        _MODELS.clear()


_DEVICE_FIX = "use auto (cuda when torch sees a GPU, else cpu), cpu, cuda, cuda:N or mps"


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` is ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values are checked and pass through.

    Raises:
        UserError: ``device`` is not a torch device string, is ``meta`` (which holds no weights), or names an
            accelerator (``cuda``, ``cuda:N``, ``mps``, ...) that torch does not see on this machine. Checked
            when the provider is built, so ``arena validate`` refuses it before any model is loaded.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise UserError(f"device {device!r} is not a torch device; {_DEVICE_FIX}") from None
    if parsed.type == "cpu":
        return device
    if parsed.type == "meta":
        raise UserError(f"device 'meta' holds no weights and cannot generate; {_DEVICE_FIX}")
    seen = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None
    if seen is None or seen.type != parsed.type:
        have = f"only {seen.type}" if seen is not None else f"torch {torch.__version__}, no accelerator"
        raise UserError(f"device {device!r}: torch sees no {parsed.type} device on this machine ({have}); "
                        "use device: auto or cpu, or run where that device is")
    count = torch.accelerator.device_count()
    if parsed.index is not None and parsed.index >= count:
        visible = ", ".join(f"{parsed.type}:{i}" for i in range(count))
        raise UserError(f"device {device!r}: torch sees {count} {parsed.type} device{'s' if count != 1 else ''} "
                        f"({visible}); use one of them or device: auto")
    return device


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """``"auto"`` is bfloat16 on CUDA and float32 elsewhere."""
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise UserError(f"unknown dtype '{dtype}'. Available: auto, {', '.join(sorted(_DTYPES))}") from None


def default_cache_root(cache_dir: str | Path | None = None) -> Path:
    """Where converted GGUF weights go: ``cache_dir``, else ``$ARENA_CACHE_DIR/models``, else ``~/.cache/arena/models``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("ARENA_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "models"
    return Path.home() / ".cache" / "arena" / "models"


def gguf_cache_dir(gguf_path: Path, cache_dir: str | Path | None = None) -> Path:
    """The cache entry for one GGUF file: keyed by its absolute path, size and modification time."""
    stat = gguf_path.stat()
    ident = f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{_CACHE_FORMAT}"
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    return default_cache_root(cache_dir) / f"{gguf_path.stem}-{digest}"


def _dtype_kwargs(dtype: torch.dtype) -> dict[str, Any]:
    # transformers 4.56 renamed `torch_dtype` to `dtype`; keep working with the older name too.
    major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def _convert_gguf(resolved: ResolvedModel, target: Path) -> None:
    """Dequantise a GGUF file with transformers and save it at ``target`` atomically (temp dir + rename)."""
    assert resolved.gguf_file is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(resolved.path, gguf_file=resolved.gguf_file)
    # Keep float32 on disk: GGUF blocks dequantise exactly to float32, not to bf16/fp16.
    model = AutoModelForCausalLM.from_pretrained(
        resolved.path, gguf_file=resolved.gguf_file, **_dtype_kwargs(torch.float32)
    )
    _drop_gguf_quantizer(model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        info = {"gguf": str(resolved.file), "format": _CACHE_FORMAT, "transformers": transformers.__version__}
        (tmp / "arena-source.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "arena-source.json").is_file():  # not another process winning the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _drop_gguf_quantizer(model: Any) -> None:
    """Make a dequantised GGUF model saveable as a plain dense checkpoint.

    transformers >= 5 keeps a GGUF "quantizer" on the model even when every weight was dequantised (no
    GGUF matmul kernel installed), and refuses to save it. The weights are plain tensors, so drop the marker.
    """
    if getattr(model, "hf_quantizer", None) is None:
        return
    packed = sorted({type(m).__name__ for m in model.modules() if "gguf" in type(m).__name__.lower()})
    if packed:
        raise ProviderError(
            f"transformers kept GGUF weights packed ({', '.join(packed)}); arena needs them dequantised to "
            "cache them. Uninstall the `kernels` package or load an HF-format directory instead."
        )
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        model.is_quantized = False


def load_model(
    model: str | Path,
    *,
    device: str = "auto",
    dtype: str = "auto",
    cache_dir: str | Path | None = None,
) -> LoadedModel:
    """Load (or reuse from this process) a causal LM and its tokenizer.

    Args:
        model: A preset name, an HF-format directory or a ``.gguf`` file.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        dtype: ``"auto"`` (bf16 on CUDA, fp32 on CPU), ``"float32"``, ``"bfloat16"``, ``"float16"``.
        cache_dir: Root folder for converted GGUF weights (see `default_cache_root`).

    Returns:
        The loaded model, shared with every other caller that asked for the same weights, device and dtype.
    """
    resolved = resolve_model(model)
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    key = (str(resolved.file), device, str(torch_dtype))
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        start = time.perf_counter()
        if resolved.kind == "gguf":
            weights_dir = gguf_cache_dir(resolved.file, cache_dir)
            source = "gguf-cache"
            if not (weights_dir / "arena-source.json").is_file():
                _convert_gguf(resolved, weights_dir)
                source = "gguf-convert"
        else:
            weights_dir, source = resolved.path, "hf-dir"
        tokenizer = AutoTokenizer.from_pretrained(weights_dir)
        lm: Any = AutoModelForCausalLM.from_pretrained(weights_dir, **_dtype_kwargs(torch_dtype))
        lm.to(device)
        lm.eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        loaded = LoadedModel(lm, tokenizer, source, time.perf_counter() - start, weights_dir)
        _MODELS[key] = loaded
        return loaded
