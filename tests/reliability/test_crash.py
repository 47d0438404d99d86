"""Crash safety: SIGKILL at random points, then a re-run finishes with every record exactly once and no
completed judge call paid twice; Ctrl-C stops cleanly and releases the lock."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from arena.judging.reviewer import COMMIT_S
from arena.store import RunLock
from tests.helpers.openai_stub import Reply, StubServer, chat_reply

ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 4
STUB_LATENCY_S = 0.08

CONFIG = """
name: crash
work_dir: run
seed: 3
questions: {{set: mt_bench, limit: 6}}
models:
  a: {{provider: fake, fake: {{seed: 1, latency_s: {gen_latency}}}}}
  b: {{provider: fake, fake: {{seed: 2, latency_s: {gen_latency}}}}}
  c: {{provider: fake, fake: {{seed: 3, latency_s: {gen_latency}}}}}
judge:
  provider: {judge}
  model: stub-judge{remote}
  mode: pairwise-all
  concurrency: {concurrency}
  fake: {{latency_s: 0.05}}
rating: {{bootstrap: 20}}
"""
GAMES = 6 * 2 * 3 * 2  # questions x turns x pairs x orders


def _prompt_of(request: dict[str, Any]) -> str:
    return json.dumps(request.get("messages"), sort_keys=True)


def _handler(n: int, request: dict[str, Any]) -> Reply:
    reply = chat_reply("Both are fine, A is clearer. [[A]]" if n % 3 else "B is more accurate. [[B]]")
    reply.delay_s = STUB_LATENCY_S
    return reply


def _default_sigint() -> None:
    # A runner that starts the tests as a background job hands SIGINT down ignored, and Python then never
    # turns it into KeyboardInterrupt: give the child the default disposition, as an interactive shell would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(cfg: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ARENA_TEST_KEY="sk-test-not-a-real-key-0000")
    return subprocess.Popen([sys.executable, "-m", "arena", "run", "-q", "-c", str(cfg), *extra],
                            cwd=cfg.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    with StubServer(_handler) as server:
        cfg = tmp_path / "arena.yaml"
        # An openai judge takes no fake-judge options (the stub server gives the latency).
        cfg.write_text(CONFIG.format(gen_latency=0.02, judge="openai", concurrency=CONCURRENCY,
                                      remote=f"\n  base_url: {server.url}\n  api_key_env: ARENA_TEST_KEY")
                       .replace("  fake: {latency_s: 0.05}\n", ""))
        kills = 0
        for _ in range(3):
            proc = _start(cfg)
            time.sleep(rng.uniform(0.8, 3.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(30)
        final = _start(cfg)
        out, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()

        judgments = _lines(tmp_path / "run" / "judgments.jsonl")
        keys = [j["key"] for j in judgments]
        assert len(keys) == len(set(keys)) == GAMES, "every judgment exactly once"
        for model in "abc":
            answers = _lines(tmp_path / "run" / "answers" / f"{model}.jsonl")
            assert len({a["key"] for a in answers}) == len(answers) == 6
        per_prompt = Counter(_prompt_of(r) for r in server.requests if r.get("messages"))
        assert len(per_prompt) == GAMES
        repeats = sum(c - 1 for c in per_prompt.values())
        # The stated guarantee since judgments are committed in groups: a kill repeats the calls in flight plus
        # those returned within one commit window (at 80 ms a call, at most one per slot in COMMIT_S = 50 ms).
        window = CONCURRENCY * math.ceil(COMMIT_S / STUB_LATENCY_S)
        assert repeats <= kills * (CONCURRENCY + window), f"{repeats} judge calls repeated after {kills} kills"

        # And a run with everything on disk sends nothing.
        sent = len(server.requests)
        again = _start(cfg)
        again.communicate(timeout=120)
        assert again.returncode == 0 and len(server.requests) == sent


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    # Deterministic, not timed: the fake judge takes 0.3 s a call and judgments are written two at a time
    # (batch_size 1), so once 4 judgments are on disk the run is provably mid-judging with about 20 s of
    # calls still to make when SIGINT arrives.
    cfg = tmp_path / "arena.yaml"
    slow = CONFIG.format(gen_latency=0.0, judge="fake", remote="", concurrency=1).replace(
        "fake: {latency_s: 0.05}", "batch_size: 1\n  fake: {latency_s: 0.3}")
    assert "latency_s: 0.3" in slow
    cfg.write_text(slow)
    proc = _start(cfg)
    judgments = tmp_path / "run" / "judgments.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and len(_lines(judgments)) < 4 and proc.poll() is None:
        time.sleep(0.05)
    done_before = len(_lines(judgments))
    assert proc.poll() is None and 4 <= done_before < GAMES, f"not mid-judging: {done_before} judgments, exit {proc.poll()}"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "run the same command again to resume" in err.decode()
    done = _lines(judgments)
    assert done_before <= len(done) < GAMES
    assert len({j["key"] for j in done}) == len(done)
    with RunLock(tmp_path / "run"):  # released
        pass
    # Resume without the latency: it is not part of the judge's spec, so no finished judgment is redone.
    cfg.write_text(slow.replace("latency_s: 0.3", "latency_s: 0.0"))
    final = _start(cfg)
    final.communicate(timeout=300)
    assert final.returncode == 0
    after = _lines(judgments)
    assert len({j["key"] for j in after}) == len(after) == GAMES
