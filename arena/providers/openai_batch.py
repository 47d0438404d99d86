"""The ``openai`` provider with ``batch: true``: judge calls through the OpenAI Batch API (half price).

One ``generate_iter`` call writes the requests as JSONL, uploads it (``POST /files``, purpose ``batch``),
creates a batch (``POST /batches``, endpoint ``/v1/chat/completions``), polls it (``GET /batches/{id}``)
and, when it ends, downloads its output and error files (``GET /files/{id}/content``), yielding one
completion per request. Replies are parsed exactly as live replies are
(:func:`~arena.providers.openai_wire.completion_from_reply`), so the reviewer stores them as any judgment.

Resume: every uploaded file and created batch is written to ``RUN_DIR/batches.jsonl`` (the reviewer calls
:meth:`OpenAIBatchProvider.attach_run_dir`) before anything else happens. A request is named by a content
hash of its body (``custom_id``); a later call asking the same request again polls the batch that holds it
instead of submitting it. The file id is written before the batch is created, so a kill between the two
is found again by listing the server's batches for that file: no request is ever submitted twice.

Ends: a ``completed`` batch gives each request its reply or its error line; an ``expired`` or ``cancelled``
batch gives the replies it finished and ``batch_expired`` / ``batch_cancelled`` errors for the rest, and a
``failed`` batch ``batch_failed`` for all. Those errors are judgments with ``error`` like any other, so
``--retry-errors`` submits them again in a new batch; a reply that came back is the batch's answer and is
read again from its output file (remove ``batches.jsonl`` to re-ask it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from arena.errors import UserError
from arena.keys import content_key
from arena.providers.base import Completion, Conversation, GenerationSettings, StreamingProvider
from arena.providers.openai_wire import (
    RequestFailure,
    api_key_missing,
    chat_body,
    completion_from_reply,
    resolve_base_urls,
)
from arena.store import JsonlStore

BATCHES_FILE = "batches.jsonl"
TERMINAL = frozenset({"completed", "expired", "cancelled", "failed"})
"""Batch statuses after which nothing more will come (the others: validating, in_progress, finalizing, cancelling)."""
ENDPOINT = "/v1/chat/completions"


class BatchEntry(BaseModel):
    """One line of ``batches.jsonl``: an uploaded request file and the batch made of it (a later line with
    the same ``key`` supersedes an earlier one)."""

    key: str
    """The uploaded input file's id."""
    batch_id: str | None = None
    """``None`` until the batch is created."""
    custom_ids: list[str]
    status: str = "uploaded"
    answered: list[str] = []
    """Requests with a reply in the output file (set when the batch ends)."""
    model: str
    endpoint: str


def custom_id(body: dict[str, Any]) -> str:
    """The name of a request in a batch: a content hash of its whole body (model, settings, messages)."""
    return "arena-" + content_key(body, length=24)


def result_completion(line: dict[str, Any], where: str) -> Completion:
    """One output- or error-file line as a completion (errors as ``error="<kind>: <detail>"``)."""
    response = line.get("response") or {}
    error = line.get("error")
    if isinstance(error, dict) and error:
        code = str(error.get("code") or "error")
        kind = code if code.startswith("batch_") else f"batch_{code}"
        return Completion(text="", error=f"{kind}: {str(error.get('message', ''))[:200]}")
    status = int(response.get("status_code") or 0)
    body = response.get("body") or {}
    if status != 200:
        kind = "rate_limited" if status == 429 else "server_error" if status >= 500 else f"http_{status}"
        message = body.get("error", {}).get("message", "") if isinstance(body.get("error"), dict) else ""
        return Completion(text="", error=f"{kind}: HTTP {status} in {where}: {str(message)[:200]}")
    try:
        completion = completion_from_reply(body, where)
    except RequestFailure as exc:
        return Completion(text="", error=f"{exc.kind}: {exc.detail}")
    completion.meta["generated_with"] = {"engine": "openai-batch", "served_model": body.get("model"),
                                         "system_fingerprint": body.get("system_fingerprint"), "endpoint": where}
    return completion


class OpenAIBatchProvider(StreamingProvider):
    """Chat completions through the OpenAI Batch API, resumable from ``RUN_DIR/batches.jsonl``.

    Args:
        model: The model name sent in every request.
        base_url: The API (the first URL when several are given); default ``$OPENAI_BASE_URL``, else OpenAI.
        api_key_env: Environment variable holding the key (not needed on loopback).
        poll_s: Seconds between two status polls of the unfinished batches.
        max_requests: Requests per batch (OpenAI accepts 50,000); more make several batches.
        completion_window: The batch window the API is asked for (OpenAI accepts ``24h``).
        timeout_s: Bound on one HTTP call (an upload or download of a large file included).
        max_retries: Attempts after the first for a failed HTTP call (5xx, 429, connection).
        extra_body: Extra JSON fields for every request.
        transport: An httpx transport (tests).
    """

    name = "openai"
    wants_all = True
    """The reviewer hands the whole pending list to one call: one batch, not one per chunk."""

    def __init__(self, model: str, *, base_url: str | Sequence[str] | None = None, api_key_env: str = "OPENAI_API_KEY",
                 poll_s: float = 30.0, max_requests: int = 50_000, completion_window: str = "24h",
                 timeout_s: float = 120.0, max_retries: int = 5, extra_body: dict[str, Any] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        urls = resolve_base_urls(base_url)
        if not urls:
            raise UserError("base_url is an empty list; give at least one OpenAI-compatible URL")
        if api_key_missing(urls, api_key_env):
            raise UserError(f"{api_key_env} is not set in the environment; export it or set api_key_env")
        self.model = model
        self.base_url = urls[0]
        self._api_key = os.environ.get(api_key_env) or None
        self.poll_s, self.max_requests, self.window = poll_s, max_requests, completion_window
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.extra_body = dict(extra_body or {})
        self._transport = transport
        self.ledger: JsonlStore[BatchEntry] | None = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBatchProvider(model={self.model!r}, base_url={self.base_url!r})"

    def attach_run_dir(self, run_dir: Path) -> None:
        """Keep the batch ledger in ``run_dir/batches.jsonl`` (required before generating)."""
        self.ledger = JsonlStore(Path(run_dir) / BATCHES_FILE, BatchEntry)

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        """One completion per conversation, in order (waits for every batch to end)."""
        out: list[Completion | None] = [None] * len(conversations)
        for i, c in self.generate_iter(conversations, settings):
            out[i] = c
        return [c if c is not None else Completion(text="", error="batch_missing: no result") for c in out]

    def generate_iter(self, conversations: Sequence[Conversation],
                      settings: GenerationSettings) -> Iterator[tuple[int, Completion]]:
        """Submit what no batch in the ledger holds, then yield each batch's results as it ends."""
        if self.ledger is None:
            raise UserError("the batch provider needs a run dir for batches.jsonl (call attach_run_dir first)")
        ledger = self.ledger
        base = chat_body(self.model, settings, self.extra_body)
        bodies: dict[str, dict[str, Any]] = {}
        wanted: dict[str, list[int]] = {}
        for i, conv in enumerate(conversations):
            body = base | {"messages": [{"role": m["role"], "content": m["content"]} for m in conv]}
            cid = custom_id(body)
            bodies[cid] = body
            wanted.setdefault(cid, []).append(i)
        start = time.perf_counter()
        with httpx.Client(timeout=httpx.Timeout(self.timeout_s), transport=self._transport,
                          headers=self._headers()) as client:
            open_entries = self._claim(client, ledger, set(wanted))
            fresh = [cid for cid in wanted if not any(cid in e.custom_ids for e in open_entries)]
            for k in range(0, len(fresh), self.max_requests):
                open_entries.append(self._submit(client, ledger, fresh[k:k + self.max_requests], bodies))
            while open_entries:
                still = []
                for entry in open_entries:
                    batch = self._json(client, "GET", f"/batches/{entry.batch_id}")
                    if batch.get("status") not in TERMINAL:
                        still.append(entry)
                        continue
                    results = self._results(client, batch)
                    ledger.append(entry.model_copy(update={"status": batch["status"], "answered": sorted(
                        c for c, line in results.items() if (line.get("response") or {}).get("status_code") == 200)}))
                    for cid in entry.custom_ids:
                        if cid not in wanted:
                            continue
                        line = results.get(cid)
                        c = (result_completion(line, f"batch {entry.batch_id}") if line is not None
                             else Completion(text="", error=_missing(batch)))
                        c.latency_s = time.perf_counter() - start
                        c.meta["batch_id"] = entry.batch_id
                        for i in wanted.pop(cid):
                            yield i, c
                open_entries = still
                if open_entries:
                    time.sleep(self.poll_s)

    # ------------------------------------------------------------------ internals

    def _claim(self, client: httpx.Client, ledger: JsonlStore[BatchEntry], wanted: set[str]) -> list[BatchEntry]:
        """Ledger entries that hold requests asked for again: unfinished batches (all their requests) and
        ended ones (the requests they answered, downloaded again). An upload whose batch creation was not
        recorded is looked up on the server by file id, else its batch is created now."""
        claimed: list[BatchEntry] = []
        taken: set[str] = set()
        for entry in reversed(list(ledger)):  # latest first: a request retried later is found there
            covers = set(entry.custom_ids) if entry.status not in TERMINAL else set(entry.answered)
            mine = (covers & wanted) - taken
            if not mine:
                continue
            if entry.batch_id is None:
                found = self._find_batch(client, entry.key)
                entry = entry.model_copy(update={"batch_id": found}) if found else self._create(client, entry)
                ledger.append(entry)
            taken |= mine
            claimed.append(entry.model_copy(update={"custom_ids": sorted(mine)}))
        return claimed

    def _submit(self, client: httpx.Client, ledger: JsonlStore[BatchEntry], cids: list[str],
                bodies: dict[str, dict[str, Any]]) -> BatchEntry:
        lines = "".join(json.dumps({"custom_id": c, "method": "POST", "url": ENDPOINT, "body": bodies[c]},
                                   ensure_ascii=False) + "\n" for c in cids)
        uploaded = self._json(client, "POST", "/files", data={"purpose": "batch"},
                              files={"file": ("arena-batch.jsonl", lines.encode("utf-8"), "application/jsonl")})
        entry = BatchEntry(key=str(uploaded["id"]), custom_ids=cids, model=self.model, endpoint=self.base_url)
        ledger.append(entry)  # before the batch exists: a kill from here on is found again by file id
        entry = self._create(client, entry)
        ledger.append(entry)
        return entry

    def _create(self, client: httpx.Client, entry: BatchEntry) -> BatchEntry:
        batch = self._json(client, "POST", "/batches", json={
            "input_file_id": entry.key, "endpoint": ENDPOINT, "completion_window": self.window,
            "metadata": {"created_by": "arena"}})
        return entry.model_copy(update={"batch_id": str(batch["id"]), "status": str(batch.get("status", "validating"))})

    def _find_batch(self, client: httpx.Client, file_id: str) -> str | None:
        after: str | None = None
        while True:
            page = self._json(client, "GET", "/batches", params={"limit": 100, **({"after": after} if after else {})})
            for b in page.get("data", []):
                if b.get("input_file_id") == file_id:
                    return str(b["id"])
            if not page.get("has_more") or not page.get("data"):
                return None
            after = str(page["data"][-1]["id"])

    def _results(self, client: httpx.Client, batch: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``custom_id -> line`` from the output file, then the error file (a request is in one of them)."""
        results: dict[str, dict[str, Any]] = {}
        for key in ("error_file_id", "output_file_id"):
            if batch.get(key):
                text = self._call(client, "GET", f"/files/{batch[key]}/content").text
                for raw in text.splitlines():
                    if raw.strip():
                        line = json.loads(raw)
                        results[str(line.get("custom_id"))] = line
        return results

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _json(self, client: httpx.Client, method: str, path: str, **kw: Any) -> dict[str, Any]:
        resp = self._call(client, method, path, **kw)
        try:
            data = resp.json()
        except ValueError:
            raise UserError(f"{self.base_url}{path}: the batch API sent no JSON ({resp.text[:120]!r})") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.base_url}{path}: the batch API sent {type(data).__name__}, not an object")
        return data

    def _call(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
        """One API call, retried with backoff on connection errors, 429 and 5xx; other errors stop the run."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            try:
                resp = client.request(method, url, **kw)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code < 400:
                    return resp
                problem = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code != 429 and resp.status_code < 500:
                    break
            if attempt < self.max_retries:
                time.sleep(min(30.0, 0.5 * 2**attempt))
        if self._api_key:
            problem = problem.replace(self._api_key, "***")
        raise UserError(f"batch API {method} {url} failed ({problem}); the run can be resumed: "
                        f"submitted batches are in {BATCHES_FILE}")


def _missing(batch: dict[str, Any]) -> str:
    status = batch.get("status")
    if status == "failed":
        errors = (batch.get("errors") or {}).get("data") or [{}]
        return f"batch_failed: {str(errors[0].get('message', 'the batch failed validation'))[:200]}"
    if status in ("expired", "cancelled"):
        return f"batch_{status}: the batch {status} before this request ran"
    return f"batch_missing: batch {batch.get('id')} ended {status} with no line for this request"
