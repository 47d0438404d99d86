"""A work_dir that cannot be made or written is refused in one line naming ``work_dir``, the folder and the
reason, before any work: ``/proc/nope`` (no folder can be made there) and a path under a file ended in
FileNotFoundError / NotADirectoryError (exit 1) from the first ``mkdir``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arena.cli import main
from arena.config import load_config
from arena.errors import UserError
from arena.pipeline import run, run_generate, run_judge

CONFIG = """\
name: t
work_dir: {work_dir}
questions: {{set: mt_bench, limit: 2}}
models:
  a: {{provider: fake}}
  b: {{provider: fake}}
judge: {{provider: fake, mode: pairwise-all}}
rating: {{bootstrap: 5}}
"""

needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")

STAGES: list[tuple[str, Callable[[Any], Any]]] = [
    ("run", lambda cfg: run(cfg, progress=False)),
    ("run_generate", lambda cfg: run_generate(cfg, progress=False)),
    ("run_judge", lambda cfg: run_judge(cfg, progress=False)),
    ("run_judge dry-run", lambda cfg: run_judge(cfg, dry_run=True, progress=False)),
]


def _config(tmp_path: Path, work_dir: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(CONFIG.format(work_dir=work_dir))
    return path


@needs_proc
@pytest.mark.parametrize(("label", "stage"), STAGES, ids=[s[0] for s in STAGES])
def test_work_dir_that_cannot_be_made(tmp_path: Path, label: str, stage: Callable[[Any], Any]) -> None:
    cfg = load_config(_config(tmp_path, "/proc/nope"))
    with pytest.raises(UserError) as caught:
        stage(cfg)
    message = str(caught.value)
    assert "cfg.yaml:2: key 'work_dir': cannot make the folder /proc/nope (No such file or directory)" in message
    assert "\n" not in message and "give a folder" in message


def test_work_dir_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    cfg = load_config(_config(tmp_path, "plain/run"))
    with pytest.raises(UserError, match=r":2: key 'work_dir': cannot make the folder .*plain/run \(Not a directory\)"):
        run(cfg, progress=False)


def test_work_dir_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: answer as the kernel answers anyone else
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    try:
        cfg = load_config(_config(tmp_path, "locked"))
        with pytest.raises(UserError, match=r":2: key 'work_dir': cannot write in the folder .*locked"):
            run(cfg, progress=False)
    finally:
        locked.chmod(0o700)


def test_good_work_dir_is_made_with_its_parents(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "deep/er/run"))
    result = run(cfg, progress=False)
    assert result.run_dir == tmp_path / "deep" / "er" / "run"
    assert (result.run_dir / "leaderboard.json").is_file()


@needs_proc
@pytest.mark.parametrize("command", [["validate"], ["run", "-q", "--dry-run"], ["generate", "-q"]],
                         ids=["validate", "run", "generate"])
def test_cli_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    try:
        main([*command, "-c", str(_config(tmp_path, "/proc/nope"))])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("arena: error: ") and err.count("\n") == 1 and "key 'work_dir'" in err, err
