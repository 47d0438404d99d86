"""The OpenAI chat-completions wire format, shared by the live provider (:mod:`.openai_api`) and the Batch API
provider (:mod:`.openai_batch`): base URLs and keys, request bodies, reply parsing (text, usage, logprobs) and
the error kinds a failed attempt is reported as.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import httpx

from arena.providers.base import Completion, GenerationSettings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DETAIL_CHARS = 200

class RequestFailure(Exception):
    """One failed attempt: a kind from the module docstring, a detail, and the server's Retry-After."""

    def __init__(self, kind: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


def is_loopback(url: str) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1`` URLs (local servers need no key)."""
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_urls(base_url: str | Sequence[str] | None) -> list[str]:
    """The URLs a config's ``base_url`` means: itself, else ``$OPENAI_BASE_URL``, else OpenAI's API."""
    if base_url is None:
        base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    return [u.rstrip("/") for u in ([base_url] if isinstance(base_url, str) else list(base_url))]


def api_key_missing(base_url: str | Sequence[str] | None, api_key_env: str) -> bool:
    """True when a key is needed and ``$api_key_env`` is unset or empty.

    A key is needed unless every URL is on loopback (a local server without ``--api-key``); for a local
    server reached by another address, export a dummy value.
    """
    urls = resolve_base_urls(base_url)
    return not os.environ.get(api_key_env) and not (urls and all(is_loopback(u) for u in urls))


def chat_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions"


def parse_logprobs(choice: dict[str, Any]) -> tuple[list[dict[str, float]], list[str]] | None:
    """Per-token ``{token: logprob}`` (top candidates plus the chosen token) and the chosen tokens.

    Reads the chat format (``logprobs.content[].top_logprobs``) and the legacy completions format
    (``logprobs.tokens`` / ``logprobs.top_logprobs``) that some servers still send.
    """
    lp = choice.get("logprobs")
    if not isinstance(lp, dict):
        return None
    per_token: list[dict[str, float]] = []
    tokens: list[str] = []
    if isinstance(lp.get("content"), list):
        for item in lp["content"]:
            entry: dict[str, float] = {}
            for alt in item.get("top_logprobs") or []:
                entry.setdefault(str(alt["token"]), float(alt["logprob"]))
            token = str(item.get("token", ""))
            entry.setdefault(token, float(item.get("logprob", float("-inf"))))
            per_token.append(entry)
            tokens.append(token)
        return per_token, tokens
    if isinstance(lp.get("tokens"), list):
        tops = lp.get("top_logprobs") or [{} for _ in lp["tokens"]]
        chosen = lp.get("token_logprobs") or [float("-inf")] * len(lp["tokens"])
        for token, top, value in zip(lp["tokens"], tops, chosen, strict=False):
            entry = {str(k): float(v) for k, v in (top or {}).items()}
            entry.setdefault(str(token), float(value) if value is not None else float("-inf"))
            per_token.append(entry)
            tokens.append(str(token))
        return per_token, tokens
    return None


def completion_from_reply(data: Any, where: str) -> Completion:
    """A chat-completion reply body as a :class:`Completion` (text, token counts, logprobs).

    Shared by the live provider and the Batch API provider (whose output lines hold the same bodies).

    Raises:
        RequestFailure: ``bad_json`` (no ``choices[0].message``) or ``empty`` (no text).
    """
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise RequestFailure("bad_json", f"unreadable reply from {where}: {str(data)[:DETAIL_CHARS]!r}") from None
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise RequestFailure("empty", f"no content in the reply from {where} (finish_reason {choice.get('finish_reason')})")
    usage = data.get("usage") or {}
    completion = Completion(
        text=text,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=choice.get("finish_reason"),
    )
    parsed = parse_logprobs(choice)
    if parsed is not None:
        completion.logprobs, completion.meta["tokens"] = parsed
    return completion


def chat_body(model: str, settings: GenerationSettings, extra_body: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a chat request, without ``messages`` (the same for live and batch requests)."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": settings.max_new_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
    }
    if settings.seed is not None:
        body["seed"] = settings.seed
    if settings.stop:
        body["stop"] = list(settings.stop)
    if settings.top_k is not None:
        body["top_k"] = settings.top_k
    if settings.logprobs is not None:
        body["logprobs"] = True
        body["top_logprobs"] = settings.logprobs
    return body | extra_body


def error_text(resp: httpx.Response) -> str:
    """The server's error message (OpenAI shape ``{"error": {"message": ...}}``) or the start of the body."""
    try:
        data = resp.json()
    except (ValueError, json.JSONDecodeError):
        return resp.text[:DETAIL_CHARS]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message", ""))[:DETAIL_CHARS]
    return json.dumps(data)[:DETAIL_CHARS]
