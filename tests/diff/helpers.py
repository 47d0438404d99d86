"""Build and run small offline configs for the diff tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from arena.config import load_config
from arena.pipeline import run


def fake_config(work_dir: str = "run", **over: Any) -> dict[str, Any]:
    """Two fake candidates, the seeded fake judge, a few MT-Bench questions: runs in about a second."""
    cfg: dict[str, Any] = {
        "name": "diff-test",
        "work_dir": work_dir,
        "seed": 3,
        "questions": {"set": "mt_bench", "limit": 6},
        "models": {
            "alpha": {"provider": "fake", "fake": {"seed": 1}, "generation": {"max_new_tokens": 64}},
            "beta": {"provider": "fake", "fake": {"seed": 2, "max_words": 90}, "generation": {"max_new_tokens": 64}},
        },
        "judge": {"provider": "fake", "mode": "pairwise-all", "fake": {"tie_rate": 0.1}},
        "rating": {"bootstrap": 30},
    }
    return merge(cfg, over)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` merged in, key by key (nested mappings merged)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def run_config(folder: Path, name: str, cfg: dict[str, Any]) -> Path:
    """Write ``cfg`` as ``folder/name.yaml``, run it, return its work dir."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    loaded = load_config(path)
    run(loaded, config_path=str(path), progress=False)
    return loaded.work_dir
