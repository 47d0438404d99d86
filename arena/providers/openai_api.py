"""The ``openai`` provider: any OpenAI-compatible ``/v1/chat/completions`` server (OpenAI, vLLM, SGLang, llama.cpp).

Requests go out concurrently with httpx's async client (at most ``concurrency`` in flight), each bounded
by ``timeout_s``, and are retried with exponential backoff and full jitter on rate limits (honouring
``Retry-After``), 5xx replies, timeouts, connection errors, non-JSON bodies and empty replies. A request
that still fails becomes a :class:`~arena.providers.base.Completion` with ``error="<kind>: <detail>"``
instead of an exception, so one bad item never sinks the batch. Error kinds: ``rate_limited``,
``server_error``, ``timeout``, ``bad_json``, ``empty``, ``connection``, ``http_<code>``.

Time bound: one attempt is cut after ``timeout_s`` (a hard ``asyncio`` bound on top of httpx's socket
timeouts), one wait between attempts is at most ``max(backoff_cap_s, max_retry_after_s)``, so one request
takes at most ``(max_retries + 1) * timeout_s + max_retries * max(backoff_cap_s, max_retry_after_s)``
(about 17 minutes with the defaults) plus its turn in the concurrency queue. ``deadline_s`` bounds a whole
``generate`` call: items not finished by then get ``error="timeout: ..."``.

The API key is read from the environment variable named by ``api_key_env`` when the provider is built;
it is sent only in the ``Authorization`` header and scrubbed from every error text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import random
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import httpx

from arena.errors import UserError
from arena.providers.base import Completion, Conversation, GenerationSettings, StreamingProvider
from arena.providers.openai_wire import (
    DETAIL_CHARS,
    RequestFailure,
    api_key_missing,
    chat_body,
    chat_url,
    completion_from_reply,
    error_text,
    is_loopback,
    resolve_base_urls,
)
from arena.providers.retry import RETRYABLE_KINDS, RetryPolicy, parse_retry_after

__all__ = ["OpenAIProvider"]

_CONNECTIONS_PER_CLIENT = 8
"""Connections per httpx client (see ``_run_all``)."""


class OpenAIProvider(StreamingProvider):
    """Chat completions from an OpenAI-compatible server, concurrent, retried and time-bounded.

    Args:
        model: The served model name (``gpt-4o``, the vLLM ``--served-model-name`` ...).
        base_url: One URL or several (requests go round-robin, so several servers share the load; a retry
            goes to the next one). Default ``$OPENAI_BASE_URL``, else ``https://api.openai.com/v1``.
        api_key_env: Name of the environment variable holding the key. Required unless every base URL is
            on loopback (local servers work without a key).
        concurrency: Requests in flight at once.
        timeout_s: Bound on one attempt, in seconds.
        max_retries: Attempts after the first for retryable failures.
        backoff_base_s: Backoff scale (see :class:`~arena.providers.retry.RetryPolicy`).
        backoff_cap_s: Longest single backoff wait.
        max_retry_after_s: Longest ``Retry-After`` honoured.
        deadline_s: Optional bound on a whole ``generate`` call.
        extra_body: Extra JSON fields for every request (e.g. vLLM's ``{"top_k": 20}``).
        transport: An httpx async transport (tests, proxies).

    Raises:
        UserError: No key in the environment for a non-loopback URL.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | Sequence[str] | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        max_retry_after_s: float = 60.0,
        deadline_s: float | None = None,
        extra_body: dict[str, Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if concurrency < 1:
            raise UserError(f"concurrency must be at least 1, got {concurrency}")
        if timeout_s <= 0:
            raise UserError(f"timeout_s must be positive, got {timeout_s}")
        urls = resolve_base_urls(base_url)
        if not urls:
            raise UserError("base_url is an empty list; give at least one OpenAI-compatible URL")
        self.model = model
        self.base_urls = urls
        self.api_key_env = api_key_env
        key = os.environ.get(api_key_env) or None
        self.local = all(is_loopback(u) for u in self.base_urls)
        if api_key_missing(urls, api_key_env):
            raise UserError(
                f"{api_key_env} is not set in the environment; export it or set api_key_env "
                "(a local server reached by a non-loopback address needs a dummy value)"
            )
        self._api_key = key
        self.concurrency = concurrency
        self.timeout_s = float(timeout_s)
        self.policy = RetryPolicy(max_retries=max_retries, base_s=backoff_base_s, cap_s=backoff_cap_s,
                                  max_retry_after_s=max_retry_after_s)
        self.deadline_s = deadline_s
        self.extra_body = dict(extra_body or {})
        self._transport = transport
        self._urls = itertools.cycle([chat_url(u) for u in self.base_urls])
        self._urls_lock = threading.Lock()
        self._rng = random.Random()
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_urls!r}, concurrency={self.concurrency})"

    @property
    def request_bound_s(self) -> float:
        """Longest one request can take once it has its turn (see the module docstring)."""
        p = self.policy
        return (p.max_retries + 1) * self.timeout_s + p.max_retries * max(p.cap_s, p.max_retry_after_s)

    # ------------------------------------------------------------------ public API

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """Return one completion per conversation, in order; failures are completions with ``error``."""
        results: list[Completion | None] = [None] * len(conversations)
        for i, completion in self.generate_iter(conversations, settings):
            results[i] = completion
        return [c if c is not None else Completion(text="", error="connection: no result") for c in results]

    def generate_iter(
        self, conversations: Sequence[Conversation], settings: GenerationSettings
    ) -> Iterator[tuple[int, Completion]]:
        """Yield ``(index, completion)`` as each request finishes (not in input order).

        The requests run on an event loop in a worker thread, so this works when the caller already runs
        an event loop (Streamlit, Jupyter). Closing the iterator early cancels what is still in flight.
        """
        batches = self.generate_batches(conversations, settings)
        try:
            for batch in batches:
                yield from batch
        finally:
            batches.close()

    def generate_batches(
        self, conversations: Sequence[Conversation], settings: GenerationSettings
    ) -> Generator[list[tuple[int, Completion]], None, None]:
        """:meth:`generate_iter` a list at a time: the requests that finished together (in one turn of the
        event loop, or while the consumer was busy), so the consumer handles them in one go."""
        n = len(conversations)
        if n == 0:
            return
        out: queue.Queue[Any] = queue.Queue()
        done = object()
        state: dict[str, Any] = {}

        def worker() -> None:
            try:
                asyncio.run(self._run_all(conversations, settings, out.put, state))
            except BaseException as exc:  # handed to the consuming thread, re-raised there
                out.put(("__exception__", exc))  # a tuple: results come as lists
            finally:
                out.put(done)

        thread = threading.Thread(target=worker, name="arena-openai", daemon=True)
        thread.start()
        received = 0
        try:
            while True:
                # Take everything that has arrived in one go (each item a list: the results of one turn
                # of the event loop): fewer wake-ups, fewer GIL hand-overs with the event loop thread.
                items = [out.get()]
                with contextlib.suppress(queue.Empty):
                    while len(items) < 1024:
                        items.append(out.get_nowait())
                batch: list[tuple[int, Completion]] = []
                for item in items:
                    if isinstance(item, tuple):  # the worker's exception, after the results before it
                        if batch:
                            yield batch
                        raise item[1]
                    if item is done:
                        if batch:
                            yield batch
                        return
                    received += len(item)
                    batch += item
                yield batch
        finally:
            if received < n and thread.is_alive():
                loop, task = state.get("loop"), state.get("task")
                if loop is not None and task is not None:
                    loop.call_soon_threadsafe(task.cancel)
                thread.join(timeout=10)

    # ------------------------------------------------------------------ internals

    async def _run_all(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings,
        emit: Callable[[list[tuple[int, Completion]]], None],
        state: dict[str, Any],
    ) -> None:
        """Make every request; hand ``emit`` the ``(index, completion)`` pairs, as a list per turn of the loop."""
        loop = state["loop"] = asyncio.get_running_loop()
        state["task"] = asyncio.current_task()
        # httpcore's async pool scans every connection and queued request on each event (quadratic in
        # the pool size), so the concurrency is spread over several small clients; a free slot names the
        # client to use, and no client ever has more requests than connections.
        slots: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        async with contextlib.AsyncExitStack() as stack:
            for start in range(0, self.concurrency, _CONNECTIONS_PER_CLIENT):
                size = min(_CONNECTIONS_PER_CLIENT, self.concurrency - start)
                limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
                # Environment proxies are for the outside world; loopback servers are reached directly.
                client = await stack.enter_async_context(httpx.AsyncClient(
                    timeout=httpx.Timeout(self.timeout_s), limits=limits, transport=self._transport,
                    trust_env=not self.local, verify=self._ssl()))
                for _ in range(size):
                    slots.put_nowait(client)
            body = self._body(settings)
            # The requests that finish in one turn of the event loop are handed over together, at the
            # start of the next turn (not one queue hand-over, and one wake-up of the consumer, each).
            ready: list[tuple[int, Completion]] = []

            def flush() -> None:
                if ready:
                    emit(ready.copy())
                    ready.clear()

            def put(item: tuple[int, Completion]) -> None:
                if not ready:
                    loop.call_soon(flush)
                ready.append(item)

            async def one(i: int, conv: Conversation) -> None:
                put((i, await self._request(slots, conv, body)))

            tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(conversations)]
            _, pending = await asyncio.wait(tasks, timeout=self.deadline_s)
            if pending:
                started = {t for t in pending}
                for t in pending:
                    t.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for i, t in enumerate(tasks):
                    if t in started:
                        put((i, Completion(text="", error=f"timeout: generate() deadline of {self.deadline_s:g}s passed")))
            flush()
            for t in tasks:
                if t.done() and not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]

    def _body(self, settings: GenerationSettings) -> dict[str, Any]:
        return chat_body(self.model, settings, self.extra_body)

    def _ssl(self) -> ssl.SSLContext:
        """The TLS settings every client of this provider shares, made on first use.

        httpx builds a fresh SSL context (loading the CA bundle, about 20 ms of CPU) for each client it
        is not given one; with one client per ``_CONNECTIONS_PER_CLIENT`` slots, every ``generate`` call
        at concurrency 256 paid that 32 times. The context is the one httpx would make (certifi's bundle,
        or ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR`` when the environment is trusted), made once.
        """
        with self._ssl_lock:
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context(trust_env=not self.local)
            return self._ssl_context

    def _next_url(self) -> str:
        with self._urls_lock:
            return next(self._urls)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _scrub(self, text: str) -> str:
        text = " ".join(text.split())[:DETAIL_CHARS]
        return text.replace(self._api_key, "***") if self._api_key else text

    async def _request(
        self, slots: asyncio.Queue[httpx.AsyncClient], conv: Conversation, body: dict[str, Any]
    ) -> Completion:
        start = time.perf_counter()
        payload = body | {"messages": [{"role": m["role"], "content": m["content"]} for m in conv]}
        failure = RequestFailure("connection", "no attempt made")
        attempts = 0
        faults: list[str] = []  # kind of every failed attempt, retried or final, for the run summary
        for attempt in range(self.policy.max_retries + 1):
            attempts = attempt + 1
            url = self._next_url()
            # A slot is held only while a request is on the wire: backoff sleeps free it.
            client = await slots.get()
            try:
                completion = await asyncio.wait_for(self._attempt(client, url, payload), self.timeout_s)
            except asyncio.TimeoutError:
                failure = RequestFailure("timeout", f"no reply within {self.timeout_s:g}s from {url}")
            except RequestFailure as exc:
                failure = exc
            else:
                completion.latency_s = time.perf_counter() - start
                completion.meta["attempts"] = attempts
                completion.meta["faults"] = faults
                return completion
            finally:
                slots.put_nowait(client)
            faults.append(failure.kind)
            if failure.kind not in RETRYABLE_KINDS or attempt == self.policy.max_retries:
                break
            await asyncio.sleep(self.policy.backoff(attempt, self._rng, failure.retry_after))
        return Completion(text="", error=f"{failure.kind}: {self._scrub(failure.detail)}",
                          latency_s=time.perf_counter() - start, meta={"attempts": attempts, "faults": faults})

    async def _attempt(self, client: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> Completion:
        try:
            resp = await client.post(url, json=payload, headers=self._headers())
        except httpx.TimeoutException:
            raise RequestFailure("timeout", f"no reply within {self.timeout_s:g}s from {url}") from None
        except httpx.TransportError as exc:
            raise RequestFailure("connection", f"{type(exc).__name__} reaching {url}: {exc}") from None
        status = resp.status_code
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        if status == 429:
            raise RequestFailure("rate_limited", f"HTTP 429 from {url}: {error_text(resp)}", retry_after)
        if status == 408:
            raise RequestFailure("timeout", f"HTTP 408 from {url}", retry_after)
        if status >= 500:
            raise RequestFailure("server_error", f"HTTP {status} from {url}: {error_text(resp)}", retry_after)
        if status >= 400:
            raise RequestFailure(f"http_{status}", f"{url}: {error_text(resp)}")
        try:
            data = resp.json()
        except ValueError:
            raise RequestFailure("bad_json", f"unreadable reply from {url}: {resp.text!r}") from None
        completion = completion_from_reply(data, url)
        completion.meta["generated_with"] = self._generated_with(data, url)
        return completion

    def _generated_with(self, data: dict[str, Any], url: str) -> dict[str, Any]:
        """What the endpoint says produced a reply: its served model and ``system_fingerprint`` (where
        present), and which base URL answered (credentials removed)."""
        from arena.errors import scrub

        served, fingerprint = data.get("model"), data.get("system_fingerprint")
        base = next((b for b in self.base_urls if url.startswith(b.rstrip("/"))), url)
        return {"engine": self.name, "served_model": served if isinstance(served, str) else None,
                "system_fingerprint": fingerprint if isinstance(fingerprint, str) else None,
                "endpoint": scrub(base)}


