"""Local generation with torch + transformers: batched, left-padded, length-sorted, seeded.

:class:`TransformersProvider` generates (``generate``) and scores verdict labels (``score_next_token``).
Models are loaded, GGUF files converted and cached, and loaded weights shared in-process by
`arena.providers.hf_loading`; token-level helpers (stop strings, counts, top logprobs) live in
`arena.providers.hf_tokens`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import GenerationConfig, StoppingCriteriaList

from arena.errors import ProviderError, UserError
from arena.providers.base import Completion, Conversation, GenerationSettings
from arena.providers.hf_loading import (
    LoadedModel,
    clear_model_cache,
    default_cache_root,
    gguf_cache_dir,
    load_model,
    resolve_device,
    resolve_dtype,
)
from arena.providers.hf_tokens import (
    StopOnStrings,
    count_generated,
    logsumexp,
    tokens_to_stop,
    top_logprobs,
    trim_stop,
)
from arena.providers.presets import resolve_model

__all__ = [
    "LoadedModel",
    "TransformersProvider",
    "chat_template_hash",
    "clear_model_cache",
    "default_cache_root",
    "gguf_cache_dir",
    "load_model",
    "resolve_device",
    "resolve_dtype",
]


class TransformersProvider:
    """Generate with a local transformers model, in length-sorted, left-padded batches.

    Args:
        model: A preset name (``smollm2-135m-instruct``), an HF-format directory or a ``.gguf`` file.
        device: ``"auto"`` (CUDA if available, else CPU) or a torch device string.
        dtype: ``"auto"`` (bf16 on CUDA, fp32 on CPU) or a dtype name.
        batch_size: Conversations per forward batch.
        seed: Sampling seed used when the settings give none.
        cache_dir: Root folder for converted GGUF weights (default ``$ARENA_CACHE_DIR/models`` or
            ``~/.cache/arena/models``).
        max_input_tokens: Keep at most this many prompt tokens (the end of the prompt is kept); ``None``
            keeps what fits in the model's context next to ``max_new_tokens``.

    The model is loaded on first use, so building a provider (``arena validate``, dry runs) is cheap; the
    model path is checked at once.
    """

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        max_input_tokens: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {batch_size}")
        self.model = str(model)
        self.resolved = resolve_model(model)
        self.device = resolve_device(device)
        self.dtype = dtype
        resolve_dtype(dtype, self.device)  # fail early on a bad name
        self.batch_size = batch_size
        self.seed = seed
        self.cache_dir = cache_dir
        self.max_input_tokens = max_input_tokens
        self._loaded: LoadedModel | None = None

    # ------------------------------------------------------------------ loading

    def load(self) -> LoadedModel:
        """Load the model now (otherwise the first call does)."""
        if self._loaded is None:
            self._loaded = load_model(
                self.model, device=self.device, dtype=self.dtype, cache_dir=self.cache_dir
            )
        return self._loaded

    @property
    def tokenizer(self) -> Any:
        return self.load().tokenizer

    def generated_with(self) -> dict[str, Any]:
        """The runtime every answer records (:class:`arena.records.core.GeneratedWith`): chat template hash,
        batch size, padding side (prompts are always left-padded here), device, dtype and library versions."""
        loaded = self.load()
        return {
            "engine": self.name,
            "batch_size": self.batch_size,
            "padding_side": "left",
            "chat_template_hash": chat_template_hash(loaded.tokenizer),
            "device": str(loaded.model.device),
            "dtype": str(loaded.model.dtype).removeprefix("torch."),
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        }

    # ------------------------------------------------------------------ prompts

    def render(self, conversation: Conversation) -> str:
        """The prompt text for one conversation, ending with the assistant's generation prompt.

        Uses the tokenizer's chat template; a template that rejects the system role gets the system message
        merged into the first user message; a tokenizer without a template gets ``role: content`` lines.
        A conversation that ends with an assistant message is a prefill: the prompt ends with that text.
        """
        if len(conversation) > 1 and conversation[-1]["role"] == "assistant":
            return self.render(conversation[:-1]) + conversation[-1]["content"]
        tokenizer = self.tokenizer
        messages = [{"role": m["role"], "content": m["content"]} for m in conversation]
        if not getattr(tokenizer, "chat_template", None):
            lines = [f"{m['role']}: {m['content']}" for m in messages]
            return "\n".join([*lines, "assistant:"])
        try:
            return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        except Exception:
            # Templates such as Gemma's raise on a system message; anything else is a real error.
            if not messages or messages[0]["role"] != "system":
                raise
            merged = _merge_system(messages)
            return str(tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True))

    def encode(self, conversation: Conversation, max_new_tokens: int = 0) -> tuple[list[int], int]:
        """Token ids of the rendered prompt, left-truncated to the input budget, and how many were cut."""
        tokenizer = self.tokenizer
        text = self.render(conversation)
        # A chat template writes its own special tokens (BOS included); the plain format needs them added.
        add_special = not getattr(tokenizer, "chat_template", None)
        ids: list[int] = tokenizer(text, add_special_tokens=add_special)["input_ids"]
        limit = self._input_limit(max_new_tokens)
        if limit is not None and len(ids) > limit:
            return ids[len(ids) - limit :], len(ids) - limit
        return ids, 0

    def _input_limit(self, max_new_tokens: int) -> int | None:
        if self.max_input_tokens is not None:
            return self.max_input_tokens
        context = getattr(self.load().model.config, "max_position_embeddings", None)
        if isinstance(context, int) and context > max_new_tokens:
            return context - max_new_tokens
        return None

    def _batch_tensors(self, rows: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        pad_id = self.tokenizer.pad_token_id
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            if row:
                input_ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
                attention[i, width - len(row) :] = 1
        device = self.load().model.device
        return input_ids.to(device), attention.to(device)

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        # Longest first: similar lengths share a batch (little padding) and an out-of-memory shows at once.
        order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    # ------------------------------------------------------------------ generation

    def generate(
        self, conversations: Sequence[Conversation], settings: GenerationSettings
    ) -> list[Completion]:
        """Return one completion per conversation, in the order given."""
        if not conversations:
            return []
        loaded = self.load()
        runtime = self.generated_with()
        encoded = [self.encode(c, settings.max_new_tokens) for c in conversations]
        results: list[Completion | None] = [None] * len(conversations)
        for batch in self._batches([len(ids) for ids, _ in encoded]):
            completions = self._generate_batch([encoded[i][0] for i in batch], settings, loaded)
            for i, completion in zip(batch, completions, strict=True):
                completion.meta["generated_with"] = runtime
                if encoded[i][1]:
                    completion.meta["truncated_prompt_tokens"] = encoded[i][1]
                results[i] = completion
        return [r for r in results if r is not None]

    def _generation_config(self, settings: GenerationSettings, loaded: LoadedModel) -> GenerationConfig:
        tokenizer = loaded.tokenizer
        eos = loaded.model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        sample = not settings.greedy
        return GenerationConfig(
            max_new_tokens=settings.max_new_tokens,
            do_sample=sample,
            temperature=settings.temperature if sample else None,
            top_p=settings.top_p if sample else None,
            top_k=(settings.top_k or 0) if sample else None,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=eos,
            bos_token_id=loaded.model.generation_config.bos_token_id,
            return_dict_in_generate=True,
            output_logits=settings.logprobs is not None,
        )

    def _eos_ids(self, config: GenerationConfig) -> set[int]:
        eos = config.eos_token_id
        if eos is None:
            return set()
        return {int(e) for e in eos} if isinstance(eos, (list, tuple)) else {int(eos)}

    def _generate_batch(
        self, rows: list[list[int]], settings: GenerationSettings, loaded: LoadedModel
    ) -> list[Completion]:
        tokenizer = loaded.tokenizer
        config = self._generation_config(settings, loaded)
        eos_ids = self._eos_ids(config)
        input_ids, attention = self._batch_tensors(rows)
        extra: dict[str, Any] = {}
        if settings.stop:
            criteria = StopOnStrings(settings.stop, tokenizer, input_ids.shape[1])
            extra["stopping_criteria"] = StoppingCriteriaList([criteria])
        torch.manual_seed(settings.seed if settings.seed is not None else self.seed)
        start = time.perf_counter()
        try:
            with torch.inference_mode():
                out = loaded.model.generate(
                    input_ids=input_ids, attention_mask=attention, generation_config=config, **extra
                )
        except torch.cuda.OutOfMemoryError as exc:
            raise ProviderError(
                f"out of GPU memory generating a batch of {len(rows)} for '{self.model}'; "
                "lower batch_size or max_new_tokens"
            ) from exc
        latency = (time.perf_counter() - start) / len(rows)
        generated = out.sequences[:, input_ids.shape[1] :].tolist()
        logits = out.logits if settings.logprobs is not None else None

        completions = []
        for b, tokens in enumerate(generated):
            n, hit_eos = count_generated(tokens, eos_ids, tokenizer.pad_token_id)
            body = tokens[: n - 1] if hit_eos else tokens[:n]
            text = tokenizer.decode(body, skip_special_tokens=True)
            text, hit_stop = trim_stop(text, settings.stop)
            if hit_stop:
                # Count up to the token that completed the stop string; what follows is padding (which can
                # be the EOS id, so the EOS search above cannot tell).
                n, hit_eos = tokens_to_stop(body, settings.stop or [], tokenizer), False
            completion = Completion(
                text=text,
                prompt_tokens=len(rows[b]),
                completion_tokens=n,
                latency_s=latency,
                finish_reason="stop" if (hit_eos or hit_stop) else "length",
            )
            if logits is not None:
                completion.logprobs, chosen = top_logprobs(
                    logits, b, tokens[:n], settings.logprobs or 0, tokenizer
                )
                completion.meta["token_logprobs"] = chosen
            completions.append(completion)
        return completions

    # ------------------------------------------------------------------ scoring

    def score_next_token(
        self, conversations: Sequence[Conversation], candidates: list[str], *, raw: bool = False
    ) -> list[dict[str, float]]:
        """Log-probability of each candidate label as the reply, right after the generation prompt.

        One forward pass per batch scores the candidates' first tokens. Candidates that share a first token
        ("1" and "10" when digits are single tokens) are told apart exactly with one more pass over the shared
        prefixes: ``P("1") = P(first "1") * (1 - P("0" | "1"))`` and ``P("10") = P(first "1") * P("0" | "1")``.

        Args:
            conversations: The judge prompts.
            candidates: Distinct label strings, e.g. ``["A", "B", "C"]`` or ``"1".."10"``.
            raw: Return the model's log-probabilities as they are instead of normalising over the candidates.

        Returns:
            Per conversation ``{candidate: logprob}``; normalised (the probabilities sum to 1) unless ``raw``.
        """
        if not candidates:
            raise ValueError("score_next_token needs at least one candidate")
        if len(set(candidates)) != len(candidates):
            raise ValueError(f"candidates must be distinct, got {candidates}")
        tokenizer = self.tokenizer
        seqs = {c: tuple(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in candidates}
        empty = [c for c, s in seqs.items() if not s]
        if empty:
            raise ValueError(f"candidates {empty} encode to no tokens")
        if len(set(seqs.values())) != len(seqs):
            raise ValueError(f"candidates {candidates} do not all encode to different tokens")
        prefixes = sorted({s[:k] for s in seqs.values() for k in range(1, len(s))})

        prompts = [self.encode(c, 1)[0] for c in conversations]
        # dist[(conversation, prefix)] = log-softmax over the vocabulary after prompt + prefix.
        rows: list[tuple[int, tuple[int, ...]]] = [(i, ()) for i in range(len(prompts))]
        rows += [(i, p) for i in range(len(prompts)) for p in prefixes]
        full = [prompts[i] + list(p) for i, p in rows]
        dist: dict[tuple[int, tuple[int, ...]], torch.Tensor] = {}
        model = self.load().model
        for batch in self._batches([len(r) for r in full]):
            input_ids, attention = self._batch_tensors([full[j] for j in batch])
            with torch.inference_mode():
                # Only the last position's logits are needed: skip the vocabulary projection elsewhere.
                logits = model(input_ids=input_ids, attention_mask=attention, logits_to_keep=1).logits[:, -1, :]
            logp = torch.log_softmax(logits.float(), dim=-1).cpu()
            for k, j in enumerate(batch):
                dist[rows[j]] = logp[k]

        results = []
        for i in range(len(prompts)):
            scores: dict[str, float] = {}
            for c, s in seqs.items():
                logp_c = sum(float(dist[(i, s[:k])][s[k]]) for k in range(len(s)))
                # Leave out the mass of continuing into a longer candidate that starts with this one.
                nxt = {t[len(s)] for t in seqs.values() if len(t) > len(s) and t[: len(s)] == s}
                if nxt:
                    cont = sum(math.exp(float(dist[(i, s)][t])) for t in nxt)
                    logp_c += math.log(max(1.0 - cont, 1e-30))
                scores[c] = logp_c
            if not raw:
                total = logsumexp(list(scores.values()))
                scores = {c: v - total for c, v in scores.items()}
            results.append(scores)
        return results


def chat_template_hash(tokenizer: Any) -> str:
    """First 16 hex digits of the SHA-256 of the tokenizer's chat template; ``"none"`` without one (the
    plain ``role: content`` format is used then)."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return "none"
    text = template if isinstance(template, str) else repr(sorted(template.items()) if isinstance(template, dict)
                                                                 else template)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _merge_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
    for m in rest:
        if m["role"] == "user":
            m["content"] = f"{system}\n\n{m['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]
