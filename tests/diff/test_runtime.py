"""Every answer records what generated it; arena diff names batch size and dtype of a local model, and
an endpoint's served model / system_fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.diff import diff_runs  # noqa: E402
from arena.providers.hf import chat_template_hash  # noqa: E402
from arena.rundir.load import load_run  # noqa: E402
from tests.diff.helpers import fake_config, run_config  # noqa: E402
from tests.helpers.openai_stub import Reply, chat_reply  # noqa: E402
from tests.providers.test_hf import TEMPLATE, make_tokenizer, save_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny"))


def local(tiny: Path, **over: Any) -> dict[str, Any]:
    model = {"provider": "transformers", "model": str(tiny), "device": "cpu", "dtype": "float32",
             "generation": {"max_new_tokens": 6}} | over
    cfg = fake_config(questions={"limit": 3})
    cfg["models"]["alpha"] = model
    return cfg


def names(d: Any) -> set[tuple[str, str, str]]:
    return {(c.group, c.subject, c.setting) for c in d.changes}


def test_local_answers_record_their_runtime(tmp_path: Path, tiny: Path) -> None:
    run = load_run(run_config(tmp_path, "a", local(tiny) | {"work_dir": "a"}))
    rt = [a.generated_with for a in run.answers.values() if a.model == "alpha"]
    assert rt and all(r is not None for r in rt)
    r = rt[0]
    assert r is not None
    assert (r.engine, r.batch_size, r.padding_side, r.device, r.dtype) == ("transformers", 8, "left", "cpu", "float32")
    assert r.chat_template_hash == chat_template_hash(make_tokenizer(TEMPLATE)) != "none"
    assert set(r.versions) == {"torch", "transformers"}
    fake = [a.generated_with for a in run.answers.values() if a.model == "beta"][0]
    assert fake is not None and (fake.engine, fake.batch_size, fake.chat_template_hash) == ("fake", 8, None)


def test_chat_template_hash_tells_templates_apart() -> None:
    assert chat_template_hash(make_tokenizer(None)) == "none"
    assert chat_template_hash(make_tokenizer(TEMPLATE)) != chat_template_hash(make_tokenizer(TEMPLATE + " "))


def test_batch_size_of_a_local_model(tmp_path: Path, tiny: Path) -> None:
    a = run_config(tmp_path, "a", local(tiny) | {"work_dir": "a"})
    b = run_config(tmp_path, "b", local(tiny, batch_size=1) | {"work_dir": "b"})
    assert names(diff_runs(a, b)) == {("candidates", "alpha", "batch_size")}


def test_dtype_of_a_local_model(tmp_path: Path, tiny: Path) -> None:
    a = run_config(tmp_path, "a", local(tiny) | {"work_dir": "a"})
    b = run_config(tmp_path, "b", local(tiny, dtype="bfloat16") | {"work_dir": "b"})
    d = diff_runs(a, b)
    assert names(d) == {("candidates", "alpha", "dtype")}
    assert (d.changes[0].a, d.changes[0].b) == ("float32", "bfloat16")


def test_endpoint_served_model_and_fingerprint(tmp_path: Path, stub_server: Any) -> None:
    def served(model: str, fingerprint: str) -> Any:
        def handle(n: int, request: dict[str, Any]) -> Reply:
            reply = chat_reply(f"answer {n} from the server")
            assert isinstance(reply.body, dict)
            reply.body |= {"model": model, "system_fingerprint": fingerprint}
            return reply
        return handle

    runs = []
    for name, model, fp in (("a", "llama-3-8b", "fp_1"), ("b", "llama-3-8b", "fp_2")):
        server = stub_server(served(model, fp))
        cfg = fake_config(name, questions={"limit": 2})
        cfg["models"]["alpha"] = {"provider": "openai", "model": "served", "base_url": server.url,
                                  "generation": {"max_new_tokens": 16}}
        runs.append(run_config(tmp_path, name, cfg))
    run = load_run(runs[0])
    rt = next(a.generated_with for a in run.answers.values() if a.model == "alpha")
    assert rt is not None and (rt.engine, rt.served_model, rt.system_fingerprint) == ("openai", "llama-3-8b", "fp_1")
    assert rt.endpoint is not None and rt.endpoint.startswith("http://127.0.0.1:")
    d = diff_runs(runs[0], runs[1])
    # the two stub servers listen on different ports: the base URL and the endpoint differ too
    assert {s for _, subject, s in names(d) if subject == "alpha"} == {"base_url", "endpoint", "system_fingerprint"}
