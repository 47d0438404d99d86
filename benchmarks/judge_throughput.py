"""Judge throughput: judged games per second against a local OpenAI-compatible stub with fixed latency.

The stub (``tests/helpers/openai_stub.py``, asyncio, in its own process) answers every request with
``[[A]]`` after a fixed delay, so the ideal throughput at concurrency ``c`` is ``c / latency``. Measured:

- ``arena review``: the full judge stage (render, ``OpenAIProvider`` with ``concurrency=c``, parse, and
  the judgments appended by the reviewer's group commit: one fsync per 50 ms or 256 judgments);
- ``arena provider``: ``OpenAIProvider.generate`` alone;
- ``thread pool``: the FastChat-style client: ``ThreadPoolExecutor(max_workers=c)`` calling the ``openai``
  SDK's synchronous ``chat.completions.create`` and parsing, results kept in memory.

Goal (issue 14): ``review()`` at >= 90% of the provider's own rate at concurrency 64 and 256. The table
header gives the machine's load average: the stub, the client and the judge stage share its CPUs, so a
busy machine measures its own load, not the code.

Run: ``python benchmarks/judge_throughput.py [--latency-ms 100] [--concurrency 1 8 32 64 256]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arena.judging.judge import Judge  # noqa: E402
from arena.judging.plan import Game, plan_games  # noqa: E402
from arena.judging.prompts import load_prompt_set  # noqa: E402
from arena.judging.reviewer import review  # noqa: E402
from arena.keys import content_key  # noqa: E402
from arena.providers.base import GenerationSettings  # noqa: E402
from arena.providers.openai_api import OpenAIProvider  # noqa: E402
from arena.records import Answer, Question  # noqa: E402

SETTINGS = GenerationSettings(max_new_tokens=16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_stub(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.openai_stub", "--port", str(port), "--latency-ms", str(latency_ms)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("stub server did not start")


def make_games(n: int) -> tuple[list[Game], Judge]:
    """``n`` distinct pairwise games (two models, both orders) with short answers."""
    questions = [Question(question_id=f"q{i}", turns=[f"Question number {i}?"]) for i in range((n + 1) // 2)]
    answers = {
        m: {q.question_id: Answer(key=content_key([m, q.question_id]), question_id=q.question_id, model=m,
                                  turns=[f"{m} answers {q.question_id}"]) for q in questions}
        for m in ("model-x", "model-y")
    }
    games = plan_games(questions, answers, "pairwise-all").games[:n]
    judge = Judge(prompts=load_prompt_set("mt-bench"), mode="pairwise-all", judge_id="stub", spec={"provider": "openai"})
    return games, judge


def bench_review(url: str, c: int, games: list[Game], judge: Judge) -> float:
    provider = OpenAIProvider("stub", base_url=url, concurrency=c, timeout_s=30)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        stats = review(games, judge, provider, Path(tmp), SETTINGS, chunk_size=max(c * 2, 32), progress=False)
        elapsed = time.perf_counter() - start
    assert stats.judged == len(games) and stats.errors == 0, stats
    return len(games) / elapsed


def bench_provider(url: str, c: int, games: list[Game], judge: Judge) -> float:
    provider = OpenAIProvider("stub", base_url=url, concurrency=c, timeout_s=30)
    convs = [judge.render(g).conversation for g in games]
    start = time.perf_counter()
    out = provider.generate(convs, SETTINGS)
    elapsed = time.perf_counter() - start
    assert all(x.error is None for x in out)
    return len(games) / elapsed


def bench_thread_pool(url: str, c: int, games: list[Game], judge: Judge) -> float:
    import openai

    client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30)

    def one(game: Game) -> str | None:
        conv = judge.render(game).conversation
        resp = client.chat.completions.create(model="stub", messages=conv, max_tokens=16, temperature=0)  # type: ignore[arg-type]
        return judge.parse(resp.choices[0].message.content or "").verdict

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=c) as pool:
        verdicts = list(pool.map(one, games))
    elapsed = time.perf_counter() - start
    assert all(v == "A>B" for v in verdicts)
    return len(games) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64, 256])
    parser.add_argument("--seconds", type=float, default=2.0, help="Ideal duration of each measurement.")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    proc, url = start_stub(args.latency_ms)
    os.environ.pop("OPENAI_API_KEY", None)  # loopback: no key needed, none sent
    try:
        rows = []
        for c in args.concurrency:
            ideal = c / latency
            n = max(16, int(ideal * args.seconds))
            games, judge = make_games(n)
            bench_provider(url, c, games[: min(n, 2 * c)], judge)  # warm up connections and imports
            r = bench_review(url, c, games, judge)
            p = bench_provider(url, c, games, judge)
            t = bench_thread_pool(url, c, games, judge)
            rows.append((c, n, ideal, r, p, t))
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\njudge throughput, stub latency {args.latency_ms:g} ms, {os.cpu_count()} CPUs, load average {load} "
              "(games/s; % of ideal)\n")
        print("| concurrency | games | ideal | arena review() | arena provider | review / provider | thread pool + openai SDK |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for c, n, ideal, r, p, t in rows:
            print(f"| {c} | {n} | {ideal:.1f} | {r:.1f} ({100 * r / ideal:.0f}%) | {p:.1f} ({100 * p / ideal:.0f}%) "
                  f"| {100 * r / p:.0f}% | {t:.1f} ({100 * t / ideal:.0f}%) |")
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
