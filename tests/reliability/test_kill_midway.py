"""Kill -9 in the middle of judging: (1) with group commit, a resumed run repeats no more judge calls than
were in flight plus one commit window; (2) in the middle of a Batch API batch, a resumed run polls the
batch it finds in batches.jsonl and submits nothing again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.batch_stub import BatchStub
from tests.helpers.openai_stub import Reply, StubServer, chat_reply

ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 8
COMMIT_N = 16

REVIEW = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.judge_throughput import make_games
from arena.judging.reviewer import review
from arena.providers.base import GenerationSettings
from arena.providers.openai_api import OpenAIProvider
games, judge = make_games({games})
provider = OpenAIProvider("stub", base_url={url!r}, concurrency={concurrency}, timeout_s=30)
stats = review(games, judge, provider, Path({run!r}), GenerationSettings(max_new_tokens=16), progress=False,
               commit_s={commit_s}, commit_n={commit_n})
print(stats.judged, stats.done_before)
"""


def _slow_reply(n: int, request: dict[str, Any]) -> Reply:
    reply = chat_reply("[[A]]")
    reply.delay_s = 0.03
    return reply


def _review(url: str, run: Path, games: int, commit_s: float) -> subprocess.Popen[bytes]:
    code = REVIEW.format(root=str(ROOT), games=games, url=url, concurrency=CONCURRENCY, run=str(run),
                         commit_s=commit_s, commit_n=COMMIT_N)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.slow
@pytest.mark.parametrize("commit_s", [0.05, 30.0])  # the time bound, and the count bound alone
def test_kill_repeats_at_most_in_flight_plus_one_window(tmp_path: Path, commit_s: float) -> None:
    games = 600
    with StubServer(_slow_reply) as server:
        kills = 0
        for delay in (0.9, 1.4):
            proc = _review(server.url, tmp_path, games, commit_s)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(30)
        final = _review(server.url, tmp_path, games, commit_s)
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()
        lines = [json.loads(x) for x in (tmp_path / "judgments.jsonl").read_text().splitlines() if x.strip()]
        assert len({j["key"] for j in lines}) == games
        per_prompt = Counter(json.dumps(r["messages"], sort_keys=True) for r in server.requests if r.get("messages"))
        assert len(per_prompt) == games
        repeats = sum(c - 1 for c in per_prompt.values())
        assert kills == 2
        # the window: judgments returned in the last commit_s (at 8 / 0.03 s, about 13 in 0.05 s), at most COMMIT_N
        assert repeats <= kills * (CONCURRENCY + COMMIT_N), f"{repeats} calls repeated after {kills} kills"


CONFIG = """
name: batch-kill
work_dir: run
seed: 3
questions: {{set: mt_bench, limit: 4}}
models:
  a: {{provider: fake, fake: {{seed: 1}}}}
  b: {{provider: fake, fake: {{seed: 2}}}}
  c: {{provider: fake, fake: {{seed: 3}}}}
judge:
  provider: openai
  model: stub-judge
  base_url: {url}
  batch: true
  batch_poll_s: 0.05
rating: {{bootstrap: 20}}
"""
GAMES = 4 * 2 * 3 * 2  # questions x turns x pairs x orders


def _run(cfg: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "arena", "run", "-q", "-c", str(cfg)], cwd=cfg.parent,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_in_the_middle_of_a_batch_resumes_polling(tmp_path: Path) -> None:
    with BatchStub(hold=True, reply="Both fine, A is clearer. [[A]]") as stub:
        cfg = tmp_path / "arena.yaml"
        cfg.write_text(CONFIG.format(url=stub.url))
        proc = _run(cfg)
        deadline = time.time() + 120
        while time.time() < deadline and not any(p >= 3 for p in stub.state.polls.values()) and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()
        proc.send_signal(signal.SIGKILL)  # while it polls the batch
        proc.wait(30)
        assert (stub.state.uploads, stub.state.creates) == (1, 1)
        assert not (tmp_path / "run" / "judgments.jsonl").exists() or not (tmp_path / "run" / "judgments.jsonl").read_text()
        stub.release()
        final = _run(cfg)
        _, err = final.communicate(timeout=180)
        assert final.returncode == 0, err.decode()
        assert (stub.state.uploads, stub.state.creates, stub.state.chat_calls) == (1, 1, 0), "nothing resubmitted"
        judgments = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
        assert len({j["key"] for j in judgments}) == len(judgments) == GAMES
        assert all(j["verdict"] == "A>B" for j in judgments)
        assert json.loads((tmp_path / "run" / "leaderboard.json").read_text())
