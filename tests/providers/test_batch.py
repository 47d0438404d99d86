"""The OpenAI Batch API provider against a loopback stub of the files and batches endpoints: results go
through the reviewer's parsing and store; expiry, partial failures, a cancelled batch and a failed one
give counted errors; a resumed run polls the batches it finds in batches.jsonl and submits nothing twice."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from arena.config.loader import load_config
from arena.judging.estimate import estimate_spend, format_estimate
from arena.judging.plan import Game, plan_games
from arena.judging.reviewer import judgments_path, review
from arena.providers.base import GenerationSettings
from arena.providers.openai_batch import BATCHES_FILE, OpenAIBatchProvider
from arena.providers.specs import OpenAISpec
from arena.records import Judgment
from arena.store import JsonlStore
from tests.helpers.batch_stub import BatchStub
from tests.judging import conftest as judging_fixtures

SETTINGS = GenerationSettings(max_new_tokens=16)
questions, answers, make_judge = judging_fixtures.questions, judging_fixtures.answers, judging_fixtures.make_judge


@pytest.fixture
def games(questions, answers) -> list[Game]:
    return plan_games(questions, answers, "pairwise-all").games


def _provider(stub: BatchStub) -> OpenAIBatchProvider:
    provider = OpenAISpec(model="judge-model", base_url=stub.url, batch=True, batch_poll_s=0.01).build(seed=0, name="j")
    assert isinstance(provider, OpenAIBatchProvider)
    return provider


def _stored(run_dir: Path) -> dict[str, Judgment]:
    return {j.key: j for j in JsonlStore(judgments_path(run_dir), Judgment)}


def _submitted(stub: BatchStub) -> list[str]:
    """custom_ids of every request line in every uploaded input file."""
    inputs = {b["input_file_id"] for b in stub.state.batches.values()}
    return [json.loads(x)["custom_id"] for f in inputs for x in stub.state.files[f].decode().splitlines()]


def test_completed_batch_with_partial_failures_then_retry_only_those(tmp_path, games, make_judge) -> None:
    judge = make_judge()
    with BatchStub(reject=("gamma",)) as stub:
        stats = review(games, judge, _provider(stub), tmp_path, SETTINGS, progress=False)
        rejected = [g for g in games if "gamma" in json.dumps(judge.render(g).conversation)]
        assert 0 < len(rejected) < len(games)
        assert (stub.state.uploads, stub.state.creates, stub.state.chat_calls) == (1, 1, 0)
        assert stats.judged == len(games) and stats.errors == len(rejected)
        assert stats.error_kinds == {"http_400": len(rejected)}
        stored = _stored(tmp_path)
        good = [j for j in stored.values() if j.error is None]
        assert len(good) == len(games) - len(rejected) and all(j.verdict == "A>B" for j in good)
        assert all(j.prompt_tokens == 20 and j.completion_tokens == 4 for j in good)
        ledger = [json.loads(x) for x in (tmp_path / BATCHES_FILE).read_text().splitlines()]
        assert ledger[-1]["batch_id"] == "batch_1" and ledger[-1]["status"] == "completed"
        assert len(ledger[-1]["answered"]) == len(good)

        # Everything on disk: nothing is uploaded or created.
        review(games, judge, _provider(stub), tmp_path, SETTINGS, progress=False)
        assert (stub.state.uploads, stub.state.creates) == (1, 1)

        # --retry-errors submits only the failed requests, in a new batch.
        stats = review(games, judge, _provider(stub), tmp_path, SETTINGS, retry_errors=True, progress=False)
        assert (stub.state.uploads, stub.state.creates) == (2, 2)
        second = stub.state.files[stub.state.batches["batch_2"]["input_file_id"]].decode().splitlines()
        assert len(second) == len(rejected)
        assert stats.judged == len(rejected) and stats.errors == len(rejected)  # the stub still rejects them


def test_expired_batch_keeps_what_finished_and_resubmits_only_the_rest(tmp_path, games, make_judge) -> None:
    judge = make_judge()
    with BatchStub(end="expired", done_share=0.5) as stub:
        stats = review(games, judge, _provider(stub), tmp_path, SETTINGS, progress=False)
        half = int(len(games) * 0.5)
        assert stats.errors == len(games) - half and stats.error_kinds == {"batch_expired": len(games) - half}
        stub.end = "completed"
        stats = review(games, judge, _provider(stub), tmp_path, SETTINGS, retry_errors=True, progress=False)
        assert stats.judged == len(games) - half and stats.errors == 0
        sent = _submitted(stub)
        assert len(sent) == len(set(sent)) + (len(games) - half)  # only the expired ones twice
        assert all(j.error is None for j in _stored(tmp_path).values()) and len(_stored(tmp_path)) == len(games)


def test_batch_cancelled_midway(tmp_path, games, make_judge) -> None:
    judge = make_judge()
    with BatchStub(hold=True, done_share=0.25) as stub:
        result: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: result.update(
            stats=review(games, judge, _provider(stub), tmp_path, SETTINGS, progress=False)))
        worker.start()
        deadline = time.time() + 10
        while time.time() < deadline and not any(stub.state.polls.values()):
            time.sleep(0.01)
        httpx.post(f"{stub.url}/batches/batch_1/cancel")  # as from the dashboard, while the run polls
        worker.join(10)
        stats = result["stats"]
        done = int(len(games) * 0.25)
        assert stats.judged == len(games) and stats.errors == len(games) - done
        assert stats.error_kinds == {"batch_cancelled": len(games) - done}
        assert (stub.state.uploads, stub.state.creates) == (1, 1)
        assert len(_stored(tmp_path)) == len(games)


def test_failed_batch_is_errors_not_verdicts(tmp_path, games, make_judge) -> None:
    with BatchStub(end="failed") as stub:
        stats = review(games, make_judge(), _provider(stub), tmp_path, SETTINGS, progress=False)
    assert stats.errors == len(games) and stats.error_kinds == {"batch_failed": len(games)}
    assert all(j.verdict is None for j in _stored(tmp_path).values())


@pytest.mark.parametrize("created_on_server", [False, True])
def test_killed_between_upload_and_ledger_resumes_without_resubmitting(
        tmp_path, games, make_judge, monkeypatch, created_on_server: bool) -> None:
    judge = make_judge()
    with BatchStub() as stub:
        provider = _provider(stub)
        real_create = OpenAIBatchProvider._create

        def dies(self: OpenAIBatchProvider, client: httpx.Client, entry: Any) -> Any:
            if created_on_server:
                real_create(self, client, entry)  # the server made the batch; the ledger never heard of it
            raise KeyboardInterrupt

        monkeypatch.setattr(OpenAIBatchProvider, "_create", dies)
        with pytest.raises(KeyboardInterrupt):
            review(games, judge, provider, tmp_path, SETTINGS, progress=False)
        monkeypatch.setattr(OpenAIBatchProvider, "_create", real_create)
        stats = review(games, judge, _provider(stub), tmp_path, SETTINGS, progress=False)
        assert stats.judged == len(games) and stats.errors == 0
        assert (stub.state.uploads, stub.state.creates) == (1, 1)


def test_several_batches_when_over_max_requests(tmp_path, games, make_judge) -> None:
    with BatchStub() as stub:
        provider = _provider(stub)
        provider.max_requests = 5
        stats = review(games, make_judge(), provider, tmp_path, SETTINGS, progress=False)
        assert stats.judged == len(games) and stats.errors == 0
        assert stub.state.creates == -(-len(games) // 5) and len(_submitted(stub)) == len(games)


def test_batch_option_from_yaml_and_half_price_estimate(tmp_path, games, make_judge) -> None:
    cfg = tmp_path / "arena.yaml"
    cfg.write_text("questions: {set: mt_bench, limit: 2}\nmodels: {a: {provider: fake}, b: {provider: fake}}\n"
                   "judge: {provider: openai, model: gpt-4o, batch: true, base_url: 'http://127.0.0.1:9/v1',\n"
                   "        prices: {input_per_1m: 2.5, output_per_1m: 10}}\n")
    jc = load_config(cfg).judge
    assert isinstance(jc.spec, OpenAISpec) and jc.spec.batch
    live = jc.model_copy(update={"spec": jc.spec.model_copy(update={"batch": False})})
    judge = make_judge()
    batch_cost, live_cost = estimate_spend(games, judge, jc), estimate_spend(games, judge, live)
    assert batch_cost.cost_usd is not None and live_cost.cost_usd is not None
    assert batch_cost.cost_usd == pytest.approx(live_cost.cost_usd / 2, rel=1e-4)
    assert "batch API price" in format_estimate(batch_cost, jc)
    assert jc.spec.key_part() == live.spec.key_part()  # batch or live: the same judgments, the same keys


def test_a_batch_run_reports_the_batch_price(tmp_path: Path) -> None:
    """The judge report's cost of a run through the Batch API is half the live price, as its dry-run estimate."""
    from arena.pipeline import run

    with BatchStub(reply="Both fine, A is clearer. [[A]]") as stub:
        cfg_path = tmp_path / "arena.yaml"
        cfg_path.write_text(
            "name: batch-price\nwork_dir: run\nseed: 3\nquestions: {set: mt_bench, limit: 2}\n"
            "models:\n  a: {provider: fake, fake: {seed: 1}}\n  b: {provider: fake, fake: {seed: 2}}\n"
            f"judge: {{provider: openai, model: stub-judge, base_url: {stub.url}, batch: true, batch_poll_s: 0.01,\n"
            "        prices: {input_per_1m: 2.0, output_per_1m: 8.0}}\nrating: {bootstrap: 0}\n")
        result = run(load_config(cfg_path), progress=False)
    judgments = list(JsonlStore(judgments_path(tmp_path / "run"), Judgment))
    live = sum(j.prompt_tokens * 2.0 / 1e6 + j.completion_tokens * 8.0 / 1e6 for j in judgments)
    assert live > 0
    assert result.report.cost_usd == pytest.approx(live / 2, abs=1e-6)
