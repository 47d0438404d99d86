"""`arena viz`: the command line it builds, and its errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from arena.cli import main
from arena.cli.viz import app_file, streamlit_command


def test_app_file_is_the_packaged_viz_app() -> None:
    assert app_file() == Path(__file__).resolve().parents[2] / "viz" / "app.py"


def test_streamlit_command(tmp_path: Path) -> None:
    cmd = streamlit_command(tmp_path, 8765, "127.0.0.1", True)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[-2:] == ["--", str(tmp_path)]


def test_missing_run_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["viz", str(tmp_path / "nope")])
    assert exc.value.code == 2
    assert "no such run dir" in capsys.readouterr().err


def _served(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Run `arena viz ARGS` with the server replaced: the command line and environment it would start."""
    import arena.cli.viz as cv

    seen: dict[str, object] = {}

    def fake_serve(cmd: list[str], env: dict[str, str]) -> tuple[int, bool]:
        seen.update(cmd=list(cmd), env=dict(env))
        return 0, False

    monkeypatch.setattr(cv, "serve", fake_serve)
    monkeypatch.delenv("ARENA_VIZ_PASSWORD", raising=False)
    monkeypatch.setenv("ARENA_VIZ_TOKEN", "left-over-from-the-parent")
    main(["viz", *args])
    return seen["cmd"], seen["env"]  # type: ignore[return-value]


def test_binds_to_loopback_by_default_and_needs_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cmd, env = _served(monkeypatch, [str(tmp_path)])
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert "ARENA_VIZ_TOKEN" not in env and "ARENA_VIZ_PASSWORD" not in env
    assert "token" not in capsys.readouterr().err


def test_beyond_loopback_votes_need_the_printed_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cmd, env = _served(monkeypatch, [str(tmp_path), "--host", "0.0.0.0"])
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    token = env["ARENA_VIZ_TOKEN"]
    assert len(token) >= 16 and token != "left-over-from-the-parent"
    assert f"votes need this token: {token}" in capsys.readouterr().err
    _, again = _served(monkeypatch, [str(tmp_path), "--host", "0.0.0.0"])
    assert again["ARENA_VIZ_TOKEN"] != token  # fresh each start


def test_password_replaces_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _, env = _served(monkeypatch, [str(tmp_path), "--host", "10.1.2.3", "--password", "s3cret"])
    assert env["ARENA_VIZ_PASSWORD"] == "s3cret" and "ARENA_VIZ_TOKEN" not in env
    assert "token" not in capsys.readouterr().err


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("example.org", False)])
def test_is_loopback(host: str, loop: bool) -> None:
    from arena.cli.viz import is_loopback

    assert is_loopback(host) is loop
