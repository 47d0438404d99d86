"""A small OpenAI-compatible chat server on loopback, stdlib only (asyncio streams, HTTP/1.1 keep-alive).

Used by the provider tests (scripted failures: 429 with Retry-After, 500, garbage, empty, a hang) and by
``benchmarks/judge_throughput.py`` (fixed added latency). Run alone with
``python -m tests.helpers.openai_stub --port 8011 --latency-ms 100``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What the stub sends back for one request."""

    status: int = 200
    body: bytes | str | dict[str, Any] = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def chat_reply(text: str, *, prompt_tokens: int = 10, completion_tokens: int = 3,
               logprobs: list[dict[str, Any]] | None = None, finish_reason: str = "stop") -> Reply:
    """A well-formed chat completion."""
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    body = {"id": "stub", "object": "chat.completion", "model": "stub", "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}
    return Reply(200, body)


Handler = Callable[[int, dict[str, Any]], Reply]
"""``(request number from 0, request JSON) -> Reply``."""


def fixed(text: str = "[[A]]", latency_s: float = 0.0) -> Handler:
    """Always the same reply after ``latency_s``."""
    def handle(n: int, request: dict[str, Any]) -> Reply:
        reply = chat_reply(text)
        reply.delay_s = latency_s
        return reply
    return handle


class StubServer:
    """The stub in a background thread with its own event loop. Use as a context manager.

    Attributes:
        url: ``http://127.0.0.1:PORT/v1``.
        requests: JSON bodies received, in arrival order.
        headers: Request headers received (lower-case names), in arrival order.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def __enter__(self) -> StubServer:
        self._thread = threading.Thread(target=self._serve, name="openai-stub", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("stub server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._client, self.host, self.port, backlog=512))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_connection(reader, writer, self._record)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _record(self, path: str, headers: dict[str, str], request: dict[str, Any]) -> Reply:
        with self._lock:
            n = len(self.requests)
            self.requests.append(request)
            self.headers.append(headers)
        if path.rstrip("/").endswith("/models"):
            return Reply(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})
        return self.handler(n, request)


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           respond: Callable[[str, dict[str, str], dict[str, Any]], Reply]) -> None:
    """Answer JSON requests on one keep-alive connection until the client closes it."""
    def decoded(method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        try:
            request = json.loads(raw) if raw else {}
        except ValueError:
            request = {}
        return respond(path, headers, request)

    await serve_raw(reader, writer, decoded)


RawResponder = Callable[[str, str, dict[str, str], bytes], Reply]
"""``(method, path with query, lower-case headers, raw body) -> Reply``."""


async def serve_raw(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, respond: RawResponder) -> None:
    """Answer requests (any method, any body) on one keep-alive connection until the client closes it."""
    while True:
        line = await reader.readline()
        if not line:
            return
        try:
            method, path, _ = line.decode("latin-1").split(" ", 2)
        except ValueError:
            return
        headers: dict[str, str] = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        reply = respond(method, path, headers, raw)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        body = reply.body
        if isinstance(body, dict):
            payload = json.dumps(body).encode()
            ctype = "application/json"
        else:
            payload = body.encode() if isinstance(body, str) else body
            ctype = "text/plain"
        head = [f"HTTP/1.1 {reply.status} X", f"Content-Type: {ctype}", f"Content-Length: {len(payload)}",
                *(f"{k}: {v}" for k, v in reply.headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--text", default="[[A]]")
    args = parser.parse_args()
    handler = fixed(args.text, args.latency_ms / 1000)

    async def run() -> None:
        def respond(path: str, headers: dict[str, str], request: dict[str, Any]) -> Reply:
            if path.rstrip("/").endswith("/models"):
                return Reply(200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})
            return handler(0, request)

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await serve_connection(reader, writer, respond)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(client, args.host, args.port, backlog=1024)
        print(f"listening on http://{args.host}:{args.port}/v1", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
