"""``manifest.json``: what a reader needs to reproduce every number of a run.

Config (as validated), seeds, versions of arena and its key libraries, prompt hashes, hardware and
timestamps. Never a secret: keys are referenced by the name of their environment variable only, and
credentials in URLs are removed.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import TYPE_CHECKING, Any

from arena import __version__
from arena.errors import scrub
from arena.records import Manifest

if TYPE_CHECKING:
    from arena.config import ArenaConfig

_PACKAGES = ("torch", "transformers", "gguf", "accelerate", "openai", "httpx", "numpy", "scipy", "pandas", "pydantic", "streamlit")


def _scrub_obj(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _scrub_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scrub_obj(v) for v in obj]
    if isinstance(obj, str):
        return scrub(obj)
    return obj


def versions() -> dict[str, str | None]:
    """Installed versions (read from package metadata: nothing is imported)."""
    out: dict[str, str | None] = {"arena": __version__, "python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


_RATING_PACKAGES = ("numpy", "scipy")
_LOCAL_PACKAGES = ("torch", "transformers")
_REMOTE_PACKAGES = ("httpx",)


def relevant_packages(cfg: ArenaConfig) -> list[str]:
    """The packages whose version a run's numbers depend on: arena and the rater's numerics always; torch and
    transformers when a local model generates or judges; httpx when an endpoint is called."""
    out = ["arena", *_RATING_PACKAGES]
    specs = [m.spec for m in cfg.enabled_models.values()] + [j.spec for j in cfg.judges]
    if any(s.scores_labels for s in specs):  # the local kind: it scores labels with its own weights
        out += _LOCAL_PACKAGES
    if any("base_url" in type(s).model_fields for s in specs):
        out += _REMOTE_PACKAGES
    return out


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count()}
    torch = sys.modules.get("torch")  # only if a local model already imported it
    if torch is not None:
        try:
            info["cuda"] = bool(torch.cuda.is_available())
            if info["cuda"]:
                info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception as exc:  # a broken CUDA setup must not break the manifest
            info["cuda_error"] = str(exc)
    return info


def build_manifest(cfg: ArenaConfig, *, config_path: str, started: str, finished: str, dry_run: bool,
                   prompt_hashes: dict[str, str], stages: dict[str, Any], cost_usd: float | None = None,
                   estimate: dict[str, Any] | None = None) -> Manifest:
    """The manifest of a native run (see :class:`~arena.records.Manifest`), scrubbed of secrets."""
    from arena.rundir.outputs import resolve_settings

    return Manifest.model_validate(_scrub_obj({
        "name": cfg.name,
        "created": finished,
        "config_path": config_path,
        "config": cfg.model_dump(mode="json"),
        "seed": cfg.seed,
        "seeds": {"config": cfg.seed, "rating": cfg.rating.seed if cfg.rating.seed is not None else cfg.seed},
        "rating": resolve_settings(cfg.rating, cfg.seed).model_dump(mode="json"),
        "dry_run": dry_run,
        "versions": versions(),
        "hardware": hardware(),
        "prompts": {"set": cfg.judge.prompts, "hashes": prompt_hashes},
        "started": started,
        "finished": finished,
        "stages": stages,
        "cost_usd": cost_usd,
        "estimate": estimate,
    }))
