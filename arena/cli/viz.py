"""``arena viz RUN_DIR``: start the Streamlit battle browser on a run dir or a battles file.

The server runs as a child process that never outlives the command: SIGTERM, SIGINT and SIGHUP are passed
on to it, and a child still running ``STOP_GRACE_S`` seconds later is killed.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import click

from arena.errors import UserError

RUN_ENV = "ARENA_VIZ_RUN"
"""Environment variable the app reads the source from (same name as ``viz.RUN_ENV``)."""
STOP_GRACE_S = 10.0
"""Seconds the server gets to stop after a stop signal is passed on, before it is killed."""
_POLL_S = 0.2


TOKEN_ENV = "ARENA_VIZ_TOKEN"
"""Set for the app when served beyond loopback: the token a vote needs (same name as ``arena.browse.votes``)."""
PASSWORD_ENV = "ARENA_VIZ_PASSWORD"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): only this machine can connect."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def vote_access(host: str, password: str | None, env: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The app's environment for casting votes, and the token to print (None: nothing to print).

    On loopback no secret is needed (any token or password left in ``env`` is removed unless one was
    given). Beyond it a vote needs ``password`` (``--password`` or ``$ARENA_VIZ_PASSWORD``) or else a fresh
    random token that is printed at start.
    """
    env = {k: v for k, v in env.items() if k not in (TOKEN_ENV, PASSWORD_ENV)}
    if password:
        env[PASSWORD_ENV] = password
        return env, None
    if is_loopback(host):
        return env, None
    token = secrets.token_urlsafe(16)
    env[TOKEN_ENV] = token
    return env, token


def _stop_signals() -> list[signal.Signals]:
    names = ("SIGTERM", "SIGINT", "SIGHUP")  # SIGHUP: the terminal closed (absent on Windows)
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def app_file() -> Path:
    """``viz/app.py`` of this installation: the top-level ``viz`` package shipped next to ``arena``."""
    spec = importlib.util.find_spec("viz")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "app.py"
            if candidate.is_file():
                return candidate
    # A source checkout run from outside the repository: viz/ sits next to arena/.
    candidate = Path(__file__).resolve().parents[2] / "viz" / "app.py"
    if candidate.is_file():
        return candidate
    raise UserError("the battle browser (package 'viz') is not installed; reinstall arena: pip install arena")


def streamlit_command(source: Path, port: int | None, host: str, headless: bool) -> list[str]:
    """The ``python -m streamlit run`` command line that serves the browser."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file()),
           "--server.address", host, "--server.headless", "true" if headless else "false",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--client.toolbarMode", "viewer"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    return [*cmd, "--", str(source)]


def serve(cmd: Sequence[str], env: dict[str, str], *, grace_s: float = STOP_GRACE_S) -> tuple[int, bool]:
    """Run the server command as a child until it exits; never leave it running.

    A stop signal received meanwhile is passed on to the child (Streamlit stops cleanly on SIGTERM and
    SIGINT); a child still running ``grace_s`` seconds later is killed, and so is one left by an error of
    our own. The previous signal handlers are restored on return.

    Returns:
        The child's exit status and whether a stop signal was received.
    """
    received: list[int] = []
    proc: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signum)

    previous = {s: signal.signal(s, on_signal) for s in _stop_signals()}
    try:
        proc = subprocess.Popen(list(cmd), env=env)
        if received:  # a signal that came before the child existed
            proc.send_signal(received[0])
        stop_by: float | None = None
        while True:
            try:
                return proc.wait(timeout=_POLL_S), bool(received)
            except subprocess.TimeoutExpired:
                if received and stop_by is None:
                    stop_by = time.monotonic() + grace_s
                if stop_by is not None and time.monotonic() > stop_by:
                    proc.kill()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("viz")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to serve on (default: Streamlit's 8501).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 exposes the browser to the network.")
@click.option("--password", envvar=PASSWORD_ENV, default=None, show_envvar=True,
              help="Password that casting a vote needs (default beyond loopback: a token printed at start).")
@click.option("--headless/--no-headless", default=True, show_default=True,
              help="Headless: do not open a web browser window.")
def command(run_dir: Path, port: int | None, host: str, password: str | None, headless: bool) -> None:
    """Browse a run: leaderboard, matchups, every battle, judge report, single-mode scores.

    RUN_DIR is a run dir written by `arena run`, a battles file (JSONL, JSON, CSV or parquet in FastChat
    columns) or an llmuses/evalscope battle.jsonl. The browser listens on 127.0.0.1 unless --host says
    otherwise; served beyond loopback, casting a vote (the Vote page) needs the token printed at start or
    the --password.
    """
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run dir or battles file; pass the work_dir of a config or a battles file")
    source = run_dir.resolve()
    env, token = vote_access(host, password, dict(os.environ))
    env[RUN_ENV] = str(source)
    # The app imports `arena` and `viz`; make the package root importable when running from a checkout.
    root = str(app_file().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = streamlit_command(source, port, host, headless)
    click.echo(f"arena viz: serving {source} at http://{host}:{port or 8501} (Ctrl+C to stop)", err=True)
    if token is not None:
        click.echo(f"arena viz: served beyond loopback; votes need this token: {token}", err=True)
    code, stopped = serve(cmd, env)
    if not stopped and code != 0:
        raise click.ClickException(f"streamlit exited with status {code}")
