"""`arena viz` never leaves its Streamlit server behind: a real server, stopped by a signal to `arena viz`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_to_arena_viz_stops_the_streamlit_server(tmp_path: Path, sig: signal.Signals) -> None:
    battles = tmp_path / "run" / "battles.jsonl"
    battles.parent.mkdir()
    battles.write_text("".join(json.dumps({"question_id": i, "model_a": "x", "model_b": "y", "winner": w}) + "\n"
                               for i, w in enumerate(["model_a", "model_b", "tie"])))
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "arena", "viz", str(battles.parent), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    children: list[psutil.Process] = []
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None and not _listening(port):
            time.sleep(0.2)
        assert proc.poll() is None and _listening(port), f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("streamlit" in " ".join(c.cmdline()) for c in children)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        psutil.wait_procs(children, timeout=15)
        left = [c.pid for c in children if not _gone(c)]
        assert not left, f"streamlit (pids {left}) still running after {sig.name} to arena viz"
        assert not _listening(port)
        assert proc.returncode == 0  # a stop that was asked for is not a failure
    finally:
        for p in [psutil.Process(proc.pid), *children] if proc.poll() is None else children:
            if not _gone(p):
                p.kill()
