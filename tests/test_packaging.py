"""A wheel (not only an editable install) carries registry/ and configs/ and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_registry_and_configs(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("arena_judge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ["arena/_data/registry/questions/mt_bench/question.jsonl",
                   "arena/_data/registry/judges/mt-bench/judge.yaml",
                   "arena/_data/registry/models/presets.yaml",
                   "arena/_data/configs/quickstart.yaml",
                   "viz/app.py"]:
        assert needed in names, needed
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import arena.resources as r, arena.questions as q, arena.config as c;"
            "assert '_data' in str(r.registry_dir()), r.registry_dir();"
            "print(len(q.load_questions(c.QuestionsConfig(set='mt_bench'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "80"
