"""A loopback stub of the OpenAI files and batches endpoints (stdlib only), for the Batch API provider tests.

Implements ``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
``GET /v1/batches`` (list, newest first), ``GET /v1/batches/{id}`` and ``POST /v1/batches/{id}/cancel``,
with the output/error file line shapes of the OpenAI API. A batch runs for ``polls_to_end`` status polls
(or until :meth:`BatchStub.release` when ``hold`` is set) and then ends as ``end`` says: ``completed``,
``expired`` (only the first ``done_share`` of its requests answered), ``cancelled`` (the same, after a
cancel) or ``failed``. Requests whose prompt contains one of ``reject`` come back in the error file with
HTTP 400 (a partial failure). Every upload and batch creation is counted.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tests.helpers.openai_stub import Reply, StubServer, serve_raw


@dataclass
class BatchStubState:
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    uploads: int = 0
    creates: int = 0
    chat_calls: int = 0


class BatchStub(StubServer):
    """The files and batches endpoints in a background thread. Use as a context manager.

    Args:
        reply: The judge's reply text to every request.
        polls_to_end: Status polls a batch answers ``in_progress`` before it ends.
        end: How a batch ends: ``completed``, ``expired``, ``cancelled`` or ``failed``.
        done_share: Share of the requests answered by an expired or cancelled batch (the first ones).
        reject: Prompt substrings whose requests fail with HTTP 400 in the error file.
        hold: Keep every batch ``in_progress`` until :meth:`release`.
    """

    def __init__(self, reply: str = "My verdict: [[A]]", *, polls_to_end: int = 2, end: str = "completed",
                 done_share: float = 0.5, reject: tuple[str, ...] = (), hold: bool = False) -> None:
        super().__init__(handler=lambda n, r: Reply(404, {}))
        self.reply, self.polls_to_end, self.end, self.done_share = reply, polls_to_end, end, done_share
        self.reject, self.hold = reject, hold
        self.state = BatchStubState()
        self._state_lock = threading.Lock()

    def release(self) -> None:
        self.hold = False

    async def _client(self, reader: Any, writer: Any) -> None:
        try:
            await serve_raw(reader, writer, self._respond)
        except Exception:  # noqa: BLE001 - a client that hangs up mid-request
            pass
        finally:
            writer.close()

    # ------------------------------------------------------------------ routes

    def _respond(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        path = urlparse(target).path.rstrip("/")
        parts = path.split("/")[2:]  # after "/v1"
        with self._state_lock:
            if method == "POST" and parts == ["files"]:
                return self._upload(headers, raw)
            if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
                data = self.state.files.get(parts[1])
                return Reply(200, data) if data is not None else Reply(404, {"error": {"message": "no such file"}})
            if method == "POST" and parts == ["batches"]:
                return self._create(json.loads(raw))
            if method == "GET" and parts == ["batches"]:
                listed = sorted(self.state.batches.values(), key=lambda b: -int(b["created_at"]))
                return Reply(200, {"object": "list", "data": listed, "has_more": False})
            if len(parts) >= 2 and parts[0] == "batches" and parts[1] in self.state.batches:
                batch = self.state.batches[parts[1]]
                if method == "POST" and parts[2:] == ["cancel"]:
                    batch["status"] = "cancelling"
                    return Reply(200, batch)
                if method == "GET" and len(parts) == 2:
                    return Reply(200, self._poll(batch))
            if parts == ["chat", "completions"]:
                self.state.chat_calls += 1
            return Reply(404, {"error": {"message": f"no route {method} {path}"}})

    def _upload(self, headers: dict[str, str], raw: bytes) -> Reply:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + raw)
        fields = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                  for p in message.iter_parts()}  # type: ignore[attr-defined]
        if fields.get("purpose") != b"batch" or not fields.get("file"):
            return Reply(400, {"error": {"message": "need purpose=batch and a file"}})
        self.state.uploads += 1
        file_id = f"file-{len(self.state.files) + 1}"
        self.state.files[file_id] = fields["file"]
        return Reply(200, {"id": file_id, "object": "file", "purpose": "batch", "bytes": len(fields["file"])})

    def _create(self, request: dict[str, Any]) -> Reply:
        if request.get("input_file_id") not in self.state.files:
            return Reply(400, {"error": {"message": "unknown input_file_id"}})
        self.state.creates += 1
        batch_id = f"batch_{self.state.creates}"
        self.state.batches[batch_id] = {"id": batch_id, "object": "batch", "status": "validating",
                                        "input_file_id": request["input_file_id"], "endpoint": request["endpoint"],
                                        "created_at": self.state.creates, "output_file_id": None,
                                        "error_file_id": None, "errors": None}
        self.state.polls[batch_id] = 0
        return Reply(200, self.state.batches[batch_id])

    def _poll(self, batch: dict[str, Any]) -> dict[str, Any]:
        if batch["status"] in ("completed", "expired", "cancelled", "failed"):
            return batch
        self.state.polls[batch["id"]] += 1
        if batch["status"] == "cancelling":
            self._finish(batch, "cancelled")
        elif self.hold or self.state.polls[batch["id"]] < self.polls_to_end:
            batch["status"] = "in_progress"
        else:
            self._finish(batch, self.end)
        return batch

    def _finish(self, batch: dict[str, Any], status: str) -> None:
        requests = [json.loads(x) for x in self.state.files[batch["input_file_id"]].decode().splitlines() if x.strip()]
        batch["status"] = status
        if status == "failed":
            batch["errors"] = {"data": [{"code": "invalid_request", "message": "line 1: model not found"}]}
            return
        done = len(requests) if status == "completed" else int(len(requests) * self.done_share)
        out, err = [], []
        for n, req in enumerate(requests):
            cid, text = req["custom_id"], json.dumps(req["body"]["messages"])
            if n >= done:
                err.append({"id": f"r{n}", "custom_id": cid, "response": None,
                            "error": {"code": f"batch_{status}", "message": f"the batch was {status}"}})
            elif any(r in text for r in self.reject):
                err.append({"id": f"r{n}", "custom_id": cid, "error": None, "response": {
                    "status_code": 400, "body": {"error": {"message": "rejected by the stub"}}}})
            else:
                body = {"id": f"chat-{n}", "object": "chat.completion", "model": req["body"]["model"],
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}}
                out.append({"id": f"r{n}", "custom_id": cid, "error": None,
                            "response": {"status_code": 200, "request_id": f"q{n}", "body": body}})
        for key, lines in (("output_file_id", out), ("error_file_id", err)):
            if lines:
                file_id = f"file-{len(self.state.files) + 1}"
                self.state.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                batch[key] = file_id
