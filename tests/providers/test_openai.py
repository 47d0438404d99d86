"""OpenAIProvider against a real HTTP server on loopback: retries, error kinds, logprobs, keys, time bounds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from arena.errors import UserError
from arena.providers.base import GenerationSettings
from arena.providers.openai_api import OpenAIProvider
from arena.providers.openai_wire import is_loopback, parse_logprobs
from arena.providers.retry import RetryPolicy, parse_retry_after
from tests.helpers.openai_stub import Reply, chat_reply

CONV = [{"role": "user", "content": "Which is better?"}]
SETTINGS = GenerationSettings(max_new_tokens=16)


def provider(url: str | list[str], **kw: Any) -> OpenAIProvider:
    opts: dict[str, Any] = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "timeout_s": 5.0, "max_retries": 3}
    return OpenAIProvider("stub", base_url=url, **(opts | kw))


def failing_first(*first: Reply) -> Any:
    """A handler that sends ``first`` replies in order, then succeeds with ``[[A]]``."""
    def handle(n: int, request: dict[str, Any]) -> Reply:
        return first[n] if n < len(first) else chat_reply("[[A]]", prompt_tokens=42, completion_tokens=5)
    return handle


@pytest.mark.parametrize(
    "bad",
    [
        Reply(500, {"error": {"message": "boom"}}),
        Reply(502, "bad gateway"),
        Reply(200, "this is not json"),
        Reply(200, {"unexpected": True}),
        chat_reply(""),
        Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}),
    ],
    ids=["500", "502-text", "garbage", "no-choices", "empty", "429"],
)
def test_retries_then_succeeds(stub_server, bad: Reply) -> None:
    server = stub_server(failing_first(bad, bad))
    [c] = provider(server.url).generate([CONV], SETTINGS)
    assert c.error is None
    assert c.text == "[[A]]"
    assert (c.prompt_tokens, c.completion_tokens) == (42, 5)
    assert c.finish_reason == "stop"
    assert c.meta["attempts"] == 3
    assert len(server.requests) == 3


def test_retry_after_is_honoured(stub_server) -> None:
    server = stub_server(failing_first(Reply(429, "", {"Retry-After": "0.6"})))
    start = time.perf_counter()
    [c] = provider(server.url).generate([CONV], SETTINGS)
    assert c.error is None
    assert time.perf_counter() - start >= 0.55  # backoff alone would be <= 0.05 s


@pytest.mark.parametrize(
    ("reply", "kind", "requests"),
    [
        (Reply(500, "boom"), "server_error", 4),
        (Reply(429, "", {"Retry-After": "0"}), "rate_limited", 4),
        (Reply(200, "<html>"), "bad_json", 4),
        (chat_reply("   "), "empty", 4),
        (Reply(400, {"error": {"message": "bad request: max_tokens"}}), "http_400", 1),
        (Reply(404, "no such model"), "http_404", 1),
    ],
)
def test_gives_up_with_error_kind(stub_server, reply: Reply, kind: str, requests: int) -> None:
    server = stub_server(lambda n, r: reply)
    [c] = provider(server.url).generate([CONV], SETTINGS)
    assert c.error is not None and c.error.startswith(kind + ":")
    assert c.text == ""
    assert len(server.requests) == requests  # 4xx other than 429/408 are not retried


def test_batch_keeps_good_items_when_one_fails(stub_server) -> None:
    def handle(n: int, request: dict[str, Any]) -> Reply:
        text = request["messages"][0]["content"]
        return Reply(500, "down") if text == "bad" else chat_reply(f"echo {text}")

    server = stub_server(handle)
    convs = [[{"role": "user", "content": t}] for t in ("one", "bad", "three")]
    out = provider(server.url, max_retries=1).generate(convs, SETTINGS)
    assert [c.text for c in out] == ["echo one", "", "echo three"]
    assert out[1].error is not None and out[1].error.startswith("server_error")


def test_hanging_server_is_bounded(stub_server) -> None:
    server = stub_server(lambda n, r: Reply(200, chat_reply("late").body, delay_s=30))
    p = provider(server.url, timeout_s=0.3, max_retries=1)
    start = time.perf_counter()
    [c] = p.generate([CONV], SETTINGS)
    elapsed = time.perf_counter() - start
    assert c.error is not None and c.error.startswith("timeout:")
    assert elapsed < p.request_bound_s + 1.0
    assert elapsed < 3.0


def test_batch_deadline(stub_server) -> None:
    server = stub_server(lambda n, r: Reply(200, chat_reply("late").body, delay_s=30))
    p = provider(server.url, timeout_s=20, deadline_s=0.3)
    start = time.perf_counter()
    out = p.generate([CONV, CONV], SETTINGS)
    assert time.perf_counter() - start < 3.0
    assert all(c.error is not None and "deadline" in c.error for c in out)


def test_connection_refused_is_an_error_not_an_exception() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    [c] = provider(f"http://127.0.0.1:{port}/v1", max_retries=1).generate([CONV], SETTINGS)
    assert c.error is not None and c.error.startswith("connection:")


def test_request_body_and_logprobs(stub_server) -> None:
    lp = [
        {"token": "[[", "logprob": -0.01, "top_logprobs": [{"token": "[[", "logprob": -0.01}]},
        {"token": "A", "logprob": -0.3, "top_logprobs": [{"token": "A", "logprob": -0.3}, {"token": "B", "logprob": -1.5}]},
        {"token": "]]", "logprob": 0.0, "top_logprobs": []},
    ]
    server = stub_server(lambda n, r: chat_reply("[[A]]", logprobs=lp))
    settings = GenerationSettings(max_new_tokens=7, temperature=0.5, seed=3, stop=["\n\n"], logprobs=5)
    [c] = provider(server.url).generate([CONV], settings)
    body = server.requests[0]
    assert body["model"] == "stub" and body["max_tokens"] == 7 and body["temperature"] == 0.5
    assert body["seed"] == 3 and body["stop"] == ["\n\n"]
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["messages"] == CONV
    assert c.logprobs is not None and c.logprobs[1] == {"A": -0.3, "B": -1.5}
    assert c.meta["tokens"] == ["[[", "A", "]]"]


def test_parse_legacy_logprobs() -> None:
    choice = {"logprobs": {"tokens": ["[[", "B"], "token_logprobs": [-0.1, -0.2],
                           "top_logprobs": [{"[[": -0.1}, {"B": -0.2, "A": -2.0}]}}
    parsed = parse_logprobs(choice)
    assert parsed is not None
    assert parsed[0][1] == {"B": -0.2, "A": -2.0} and parsed[1] == ["[[", "B"]


def test_round_robin_over_base_urls(stub_server) -> None:
    s1 = stub_server(lambda n, r: chat_reply("one"))
    s2 = stub_server(lambda n, r: chat_reply("two"))
    out = provider([s1.url, s2.url]).generate([CONV] * 10, SETTINGS)
    assert {c.text for c in out} == {"one", "two"}
    assert len(s1.requests) == len(s2.requests) == 5


def test_failover_to_second_url(stub_server) -> None:
    bad = stub_server(lambda n, r: Reply(503, "overloaded"))
    good = stub_server(lambda n, r: chat_reply("ok"))
    out = provider([bad.url, good.url], concurrency=1).generate([CONV] * 4, SETTINGS)
    assert all(c.error is None and c.text == "ok" for c in out)


def test_concurrency_limit(stub_server) -> None:
    def handle(n: int, request: dict[str, Any]) -> Reply:
        return Reply(200, chat_reply("x").body, delay_s=0.05)

    server = stub_server(handle)
    start = time.perf_counter()
    out = provider(server.url, concurrency=4).generate([CONV] * 16, SETTINGS)
    elapsed = time.perf_counter() - start
    assert all(c.error is None for c in out)
    assert elapsed >= 4 * 0.05 * 0.9  # 16 requests, 4 at a time, 50 ms each
    assert len(server.requests) == 16


def test_key_from_env_never_in_errors(stub_server, monkeypatch) -> None:
    secret = "sk-test-SECRET-123"
    monkeypatch.setenv("MY_KEY", secret)
    server = stub_server(lambda n, r: Reply(401, {"error": {"message": f"Incorrect API key provided: {secret}"}}))
    p = provider(server.url, api_key_env="MY_KEY")
    [c] = p.generate([CONV], SETTINGS)
    assert server.headers[0]["authorization"] == f"Bearer {secret}"
    assert c.error is not None and c.error.startswith("http_401")
    assert secret not in c.error and secret not in repr(p) and secret not in repr(c)


def test_missing_key_remote_is_a_user_error(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY is not set in the environment; export it or set api_key_env"):
        OpenAIProvider("gpt-4o", base_url="https://api.openai.com/v1")


def test_missing_key_local_is_fine(stub_server, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = stub_server(lambda n, r: chat_reply("hi"))
    [c] = OpenAIProvider("stub", base_url=server.url).generate([CONV], SETTINGS)
    assert c.text == "hi"
    assert "authorization" not in server.headers[0]


def test_default_base_url_from_env(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:9999/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert OpenAIProvider("m").base_urls == ["http://localhost:9999/v1"]


def test_works_inside_a_running_event_loop(stub_server) -> None:
    server = stub_server(lambda n, r: chat_reply("from a loop"))

    async def main() -> str:
        return provider(server.url).generate([CONV], SETTINGS)[0].text

    assert asyncio.run(main()) == "from a loop"


def test_generate_iter_yields_as_they_finish(stub_server) -> None:
    def handle(n: int, request: dict[str, Any]) -> Reply:
        slow = request["messages"][0]["content"] == "slow"
        return Reply(200, chat_reply("s" if slow else "f").body, delay_s=0.5 if slow else 0.0)

    server = stub_server(handle)
    convs = [[{"role": "user", "content": "slow"}], [{"role": "user", "content": "fast"}]]
    order = [i for i, _ in provider(server.url).generate_iter(convs, SETTINGS)]
    assert order == [1, 0]


def test_generate_iter_closed_early_does_not_hang(stub_server) -> None:
    server = stub_server(lambda n, r: Reply(200, chat_reply("x").body, delay_s=0.05 if n == 0 else 5))
    it = provider(server.url, concurrency=8).generate_iter([CONV] * 4, SETTINGS)
    start = time.perf_counter()
    next(it)
    it.close()
    assert time.perf_counter() - start < 3.0


def test_generate_batches_gives_the_replies_that_returned_together_as_one_list(stub_server) -> None:
    """Replies that come back at the same moment arrive as one list (one hand-over to the consumer);
    every index once, the slow one in a list of its own, last."""
    def handle(n: int, request: dict[str, Any]) -> Reply:
        slow = request["messages"][0]["content"] == "slow"
        return Reply(200, chat_reply("s" if slow else "f").body, delay_s=0.6 if slow else 0.2)

    server = stub_server(handle)
    convs = [[{"role": "user", "content": "slow"}]] + [[{"role": "user", "content": "fast"}]] * 30
    batches = list(provider(server.url, concurrency=32).generate_batches(convs, SETTINGS))
    assert sorted(i for b in batches for i, _ in b) == list(range(31))
    assert batches[-1] == [(0, batches[-1][0][1])] and batches[-1][0][1].text == "s"
    assert len(batches) <= 16  # the 30 fast replies, returned together, came at least two to a list


@pytest.mark.parametrize(
    ("url", "local"),
    [("http://127.0.0.1:8000/v1", True), ("http://localhost/v1", True), ("http://[::1]:80/v1", True),
     ("https://api.openai.com/v1", False), ("http://10.0.0.5:8000/v1", False)],
)
def test_is_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_retry_policy_bounds() -> None:
    import random

    p = RetryPolicy(max_retries=5, base_s=1.0, cap_s=4.0, max_retry_after_s=10.0)
    rng = random.Random(0)
    waits = [p.backoff(a, rng) for a in range(10) for _ in range(50)]
    assert min(waits) >= 0 and max(waits) <= 4.0
    assert p.backoff(0, rng, retry_after=100) == 10.0
    assert p.backoff(0, rng, retry_after=2) == 2.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
