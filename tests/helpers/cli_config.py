"""Running the CLI on a config text and checking a one-line refusal (config checks and provider options)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.cli import main

BASE = """\
name: t
work_dir: run
questions: {set: mt_bench, limit: 2}
models:
  a: {provider: fake}
  b: {provider: fake}
judge: {provider: fake, mode: pairwise-all}
rating: {bootstrap: 5}
"""
"""Two fake candidates, two MT-Bench questions (two turns each), the fake judge; line 6 is model b."""
COMMANDS = [["validate"], ["run", "-q", "--dry-run"], ["run", "-q"]]
COMMAND_IDS = ["validate", "dry-run", "run"]


def run_cli(tmp_path: Path, text: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Write ``text`` to ``tmp_path/cfg.yaml``, run ``arena ARGS -c cfg.yaml``; the exit code and stderr."""
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    try:
        main([*args, "-c", str(path)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def assert_refused(tmp_path: Path, text: str, command: list[str], capsys: pytest.CaptureFixture[str],
                   expected: list[str]) -> None:
    """The command exits 2 with one ``arena: error:`` line holding every part of ``expected``, and no model
    answered."""
    code, err = run_cli(tmp_path, text, command, capsys)
    assert code == 2, err
    assert err.startswith("arena: error: ") and err.count("\n") == 1, err
    for part in expected:
        assert part in err, err
    assert not (tmp_path / "run" / "answers").exists(), "refused before any answer is generated"
