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
busy machine measures its own load, not the code. With ``--repeats N`` each measurement is made N times,
interleaved (review, provider, thread pool, then again), and the table gives medians; ``review / provider``
is the median of the N ratios of a review run to the provider run right after it. The second table gives
the CPU time of this process (client and judge stage; the stub runs apart) per judged game, which a
loaded machine disturbs less than games/s: once the client is CPU-bound (256 in flight), games/s is
about the inverse of it.

Run: ``python benchmarks/judge_throughput.py [--latency-ms 100] [--concurrency 1 8 32 64 256] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

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


class Measured(NamedTuple):
    rate: float
    """Games per second."""
    cpu_us: float
    """CPU time of this process per game, in microseconds."""


def bench_review(url: str, c: int, games: list[Game], judge: Judge) -> Measured:
    provider = OpenAIProvider("stub", base_url=url, concurrency=c, timeout_s=30)
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        stats = review(games, judge, provider, Path(tmp), SETTINGS, chunk_size=max(c * 2, 32), progress=False)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert stats.judged == len(games) and stats.errors == 0, stats
    return Measured(len(games) / elapsed, 1e6 * cpu / len(games))


def bench_provider(url: str, c: int, games: list[Game], judge: Judge) -> Measured:
    provider = OpenAIProvider("stub", base_url=url, concurrency=c, timeout_s=30)
    convs = [judge.render(g).conversation for g in games]
    start, cpu = time.perf_counter(), time.process_time()
    out = provider.generate(convs, SETTINGS)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(x.error is None for x in out)
    return Measured(len(games) / elapsed, 1e6 * cpu / len(games))


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
    parser.add_argument("--repeats", type=int, default=1, help="Measurements of each kind per concurrency (medians shown).")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    proc, url = start_stub(args.latency_ms)
    os.environ.pop("OPENAI_API_KEY", None)  # loopback: no key needed, none sent
    load_before = os.getloadavg()
    med = statistics.median
    try:
        rows = []
        for c in args.concurrency:
            ideal = c / latency
            n = max(16, int(ideal * args.seconds))
            games, judge = make_games(n)
            bench_provider(url, c, games[: min(n, 2 * c)], judge)  # warm up connections and imports
            runs = []
            for _ in range(max(1, args.repeats)):
                runs.append((bench_review(url, c, games, judge), bench_provider(url, c, games, judge),
                             bench_thread_pool(url, c, games, judge)))
            r, p = med(x[0].rate for x in runs), med(x[1].rate for x in runs)
            ratio = med(x[0].rate / x[1].rate for x in runs)
            ratios = ", ".join(f"{100 * x[0].rate / x[1].rate:.0f}" for x in runs)
            cpu_r, cpu_p = med(x[0].cpu_us for x in runs), med(x[1].cpu_us for x in runs)
            rows.append((c, n, ideal, r, p, ratio, ratios, med(x[2] for x in runs), cpu_r, cpu_p))
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        before = " / ".join(f"{x:.1f}" for x in load_before)
        print(f"\njudge throughput, stub latency {args.latency_ms:g} ms, {os.cpu_count()} CPUs, load average {load} "
              f"(at the start {before}), {max(1, args.repeats)} repeat(s), medians (games/s; % of ideal)\n")
        print("| concurrency | games | ideal | arena review() | arena provider | review / provider (each repeat) "
              "| thread pool + openai SDK |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for c, n, ideal, r, p, ratio, ratios, t, _, _ in rows:
            print(f"| {c} | {n} | {ideal:.1f} | {r:.1f} ({100 * r / ideal:.0f}%) | {p:.1f} ({100 * p / ideal:.0f}%) "
                  f"| {100 * ratio:.0f}% ({ratios}) | {t:.1f} ({100 * t / ideal:.0f}%) |")
        print("\nCPU time of the client process per judged game (µs, medians)\n")
        print("| concurrency | arena review() | arena provider | review / provider |")
        print("|---:|---:|---:|---:|")
        for c, *_, cpu_r, cpu_p in rows:
            print(f"| {c} | {cpu_r:.0f} | {cpu_p:.0f} | {cpu_r / cpu_p:.2f} |")
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
