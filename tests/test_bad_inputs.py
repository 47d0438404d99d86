"""Every case in tests/data/bad/: exit 2, one line naming the file, nothing written over, no work dir left;
``arena validate`` catches every pipeline case with the same message, before any work."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from pathlib import Path

import pytest

from arena.cli import main

CASES_DIR = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "cmd").is_file())


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and p.name not in ("cmd", "expect")}


UNSET_KEY = "ARENA_BAD_INPUT_UNSET_KEY"
"""The API key variable the missing-key cases name; never set."""


def _validate_args(args: list[str]) -> list[str] | None:
    """``arena validate`` for a pipeline command line (``None`` for other commands)."""
    if args[0] not in ("run", "generate", "judge"):
        return None
    return ["validate", "-c", args[args.index("-c") + 1], *(["--dry-run"] if "--dry-run" in args else [])]


@pytest.mark.parametrize("validate", [False, True], ids=["as-given", "validate"])
@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: str, validate: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / case
    shutil.copytree(CASES_DIR / case, work)
    before = _digest(work)
    monkeypatch.chdir(work)
    monkeypatch.delenv(UNSET_KEY, raising=False)
    args = shlex.split((work / "cmd").read_text())
    if validate:
        found = _validate_args(args)
        if found is None:
            pytest.skip("not a pipeline command")
        args = found
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    expected = (work / "expect").read_text().strip()
    assert expected in err, err
    after = _digest(work)
    assert {k: v for k, v in after.items() if k in before} == before  # inputs untouched
    assert not (work / "run").exists(), "a run that failed its checks leaves no work dir"
    assert os.environ.get("ARENA_DEBUG") is None
