"""Local generation with torch + transformers: batched, left-padded, length-sorted, seeded.

The model is a registry preset, an HF-format directory or a ``.gguf`` file (see `arena.providers.presets`). A GGUF file
is dequantised by transformers on first load and the result is saved as safetensors in a cache directory, so
later loads read an HF directory and skip the slow conversion. Loaded models are also shared in-process:
two candidates built from the same weights (say greedy and sampled) hold one copy.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    StoppingCriteria,
    StoppingCriteriaList,
)

from arena.errors import ProviderError, UserError
from arena.providers.base import Completion, Conversation, GenerationSettings
from arena.providers.presets import ResolvedModel, resolve_model

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}
_CACHE_FORMAT = 1
"""Bump when the layout of a converted-GGUF cache entry changes, so old entries are not reused."""


@dataclass
class LoadedModel:
    """A model and tokenizer in memory, with where they came from."""

    model: Any
    tokenizer: Any
    source: str
    """``"hf-dir"``, ``"gguf-convert"`` (first load of a GGUF file) or ``"gguf-cache"``."""
    load_time_s: float
    weights_dir: Path
    """The HF directory the weights were read from (the cache entry for a GGUF file)."""


_MODELS: dict[tuple[str, str, str], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget every model loaded in this process (frees memory once no provider holds them)."""
    with _MODELS_LOCK:
        _MODELS.clear()


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` is ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values pass through."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """``"auto"`` is bfloat16 on CUDA and float32 elsewhere."""
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise UserError(f"unknown dtype '{dtype}'. Available: auto, {', '.join(sorted(_DTYPES))}") from None


def default_cache_root(cache_dir: str | Path | None = None) -> Path:
    """Where converted GGUF weights go: ``cache_dir``, else ``$ARENA_CACHE_DIR/models``, else ``~/.cache/arena/models``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("ARENA_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "models"
    return Path.home() / ".cache" / "arena" / "models"


def gguf_cache_dir(gguf_path: Path, cache_dir: str | Path | None = None) -> Path:
    """The cache entry for one GGUF file: keyed by its absolute path, size and modification time."""
    stat = gguf_path.stat()
    ident = f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{_CACHE_FORMAT}"
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    return default_cache_root(cache_dir) / f"{gguf_path.stem}-{digest}"


def _dtype_kwargs(dtype: torch.dtype) -> dict[str, Any]:
    # transformers 4.56 renamed `torch_dtype` to `dtype`; keep working with the older name too.
    major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def _convert_gguf(resolved: ResolvedModel, target: Path) -> None:
    """Dequantise a GGUF file with transformers and save it at ``target`` atomically (temp dir + rename)."""
    assert resolved.gguf_file is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(resolved.path, gguf_file=resolved.gguf_file)
    # Keep float32 on disk: GGUF blocks dequantise exactly to float32, not to bf16/fp16.
    model = AutoModelForCausalLM.from_pretrained(
        resolved.path, gguf_file=resolved.gguf_file, **_dtype_kwargs(torch.float32)
    )
    _drop_gguf_quantizer(model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        info = {"gguf": str(resolved.file), "format": _CACHE_FORMAT, "transformers": transformers.__version__}
        (tmp / "arena-source.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "arena-source.json").is_file():  # not another process winning the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _drop_gguf_quantizer(model: Any) -> None:
    """Make a dequantised GGUF model saveable as a plain dense checkpoint.

    transformers >= 5 keeps a GGUF "quantizer" on the model even when every weight was dequantised (no
    GGUF matmul kernel installed), and refuses to save it. The weights are plain tensors, so drop the marker.
    """
    if getattr(model, "hf_quantizer", None) is None:
        return
    packed = sorted({type(m).__name__ for m in model.modules() if "gguf" in type(m).__name__.lower()})
    if packed:
        raise ProviderError(
            f"transformers kept GGUF weights packed ({', '.join(packed)}); arena needs them dequantised to "
            "cache them. Uninstall the `kernels` package or load an HF-format directory instead."
        )
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        model.is_quantized = False


def load_model(
    model: str | Path,
    *,
    device: str = "auto",
    dtype: str = "auto",
    cache_dir: str | Path | None = None,
) -> LoadedModel:
    """Load (or reuse from this process) a causal LM and its tokenizer.

    Args:
        model: A preset name, an HF-format directory or a ``.gguf`` file.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        dtype: ``"auto"`` (bf16 on CUDA, fp32 on CPU), ``"float32"``, ``"bfloat16"``, ``"float16"``.
        cache_dir: Root folder for converted GGUF weights (see `default_cache_root`).

    Returns:
        The loaded model, shared with every other caller that asked for the same weights, device and dtype.
    """
    resolved = resolve_model(model)
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    key = (str(resolved.file), device, str(torch_dtype))
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        start = time.perf_counter()
        if resolved.kind == "gguf":
            weights_dir = gguf_cache_dir(resolved.file, cache_dir)
            source = "gguf-cache"
            if not (weights_dir / "arena-source.json").is_file():
                _convert_gguf(resolved, weights_dir)
                source = "gguf-convert"
        else:
            weights_dir, source = resolved.path, "hf-dir"
        tokenizer = AutoTokenizer.from_pretrained(weights_dir)
        lm: Any = AutoModelForCausalLM.from_pretrained(weights_dir, **_dtype_kwargs(torch_dtype))
        lm.to(device)
        lm.eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        loaded = LoadedModel(lm, tokenizer, source, time.perf_counter() - start, weights_dir)
        _MODELS[key] = loaded
        return loaded


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
        encoded = [self.encode(c, settings.max_new_tokens) for c in conversations]
        results: list[Completion | None] = [None] * len(conversations)
        for batch in self._batches([len(ids) for ids, _ in encoded]):
            completions = self._generate_batch([encoded[i][0] for i in batch], settings, loaded)
            for i, completion in zip(batch, completions, strict=True):
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
            criteria = _StopOnStrings(settings.stop, tokenizer, input_ids.shape[1])
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
            n, hit_eos = _count_generated(tokens, eos_ids, tokenizer.pad_token_id)
            body = tokens[: n - 1] if hit_eos else tokens[:n]
            text = tokenizer.decode(body, skip_special_tokens=True)
            text, hit_stop = _trim_stop(text, settings.stop)
            if hit_stop:
                # Count up to the token that completed the stop string; what follows is padding (which can
                # be the EOS id, so the EOS search above cannot tell).
                n, hit_eos = _tokens_to_stop(body, settings.stop or [], tokenizer), False
            completion = Completion(
                text=text,
                prompt_tokens=len(rows[b]),
                completion_tokens=n,
                latency_s=latency,
                finish_reason="stop" if (hit_eos or hit_stop) else "length",
            )
            if logits is not None:
                completion.logprobs, chosen = _top_logprobs(
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
                total = _logsumexp(list(scores.values()))
                scores = {c: v - total for c, v in scores.items()}
            results.append(scores)
        return results


class _StopOnStrings(StoppingCriteria):
    """Stop a row once the text it generated contains a stop string.

    transformers' own ``stop_strings`` builds a token-to-string table that fails on some tokenizers (word-level,
    odd prefixes); decoding a short tail of each row works with any tokenizer.
    """

    def __init__(self, stop: list[str], tokenizer: Any, prompt_width: int) -> None:
        self.stop = [s for s in stop if s]
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        # A token decodes to at least one character, so a stop string lies within its length in tokens.
        self.window = max((len(s) for s in self.stop), default=1) + 2

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        tails = input_ids[:, self.prompt_width :][:, -self.window :].tolist()
        done = [
            any(s in self.tokenizer.decode(row, skip_special_tokens=True) for s in self.stop) for row in tails
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _merge_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
    for m in rest:
        if m["role"] == "user":
            m["content"] = f"{system}\n\n{m['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


def _count_generated(tokens: list[int], eos_ids: set[int], pad_id: int | None) -> tuple[int, bool]:
    """Generated tokens up to and including the first EOS (``True``), else without trailing padding."""
    for k, t in enumerate(tokens):
        if t in eos_ids:
            return k + 1, True
    n = len(tokens)
    # Rows that stopped on a stop string are padded to the batch's length afterwards.
    while n and pad_id is not None and tokens[n - 1] == pad_id:
        n -= 1
    return n, False


def _tokens_to_stop(tokens: list[int], stop: list[str], tokenizer: Any) -> int:
    """The fewest leading tokens whose text contains a stop string (binary search; containment is monotone)."""
    lo, hi = 1, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if _trim_stop(tokenizer.decode(tokens[:mid], skip_special_tokens=True), stop)[1]:
            hi = mid
        else:
            lo = mid + 1
    return hi


def _trim_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    if not stop:
        return text, False
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def _top_logprobs(
    logits: tuple[torch.Tensor, ...], row: int, tokens: list[int], top_n: int, tokenizer: Any
) -> tuple[list[dict[str, float]], list[float]]:
    """Top-``top_n`` log-probabilities per generated token, plus the chosen token's when outside the top.

    Uses the raw logits (the model's distribution), not the temperature/top-p warped scores.
    """
    per_token: list[dict[str, float]] = []
    chosen: list[float] = []
    for step, token in enumerate(tokens):
        logp = torch.log_softmax(logits[step][row].float(), dim=-1)
        entry: dict[str, float] = {}
        if top_n:
            values, ids = torch.topk(logp, top_n)
            for v, t in zip(values.tolist(), ids.tolist(), strict=True):
                entry.setdefault(tokenizer.decode([t]), v)
        entry.setdefault(tokenizer.decode([token]), float(logp[token]))
        per_token.append(entry)
        chosen.append(float(logp[token]))
    return per_token, chosen


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))
