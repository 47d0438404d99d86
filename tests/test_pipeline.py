"""End to end on fake candidates: every run-dir file, and a second run does no new work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from arena.cli import main
from arena.config import load_config
from arena.judging.prompts import load_prompt_set
from arena.pipeline import run
from tests.helpers.openai_stub import fixed

CONFIG = """
name: e2e
work_dir: run
seed: 7
questions: {{set: mt_bench, limit: 4}}
models:
  alpha: {{provider: fake, fake: {{seed: 1}}}}
  beta: {{provider: fake, fake: {{seed: 2, max_words: 150}}}}
  gamma: {{provider: fake, system_prompt: "Be terse.", fake: {{seed: 3}}}}
judge: {{provider: {judge}, model: {model}, mode: {mode}, baseline: {baseline}, prompts: mt-bench}}
rating: {{bootstrap: 50}}
"""


def write_config(tmp_path: Path, *, judge: str = "fake", model: str = "null", mode: str = "pairwise-all",
                 baseline: str = "null") -> Path:
    path = tmp_path / "arena.yaml"
    path.write_text(CONFIG.format(judge=judge, model=model, mode=mode, baseline=baseline))
    return path


def cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_dry_run_writes_every_file_and_second_run_does_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The judge is "openai": the dry run must not call it (no server exists), only count its calls.
    path = write_config(tmp_path, judge="openai", model="gpt-4o")
    assert cli("run", "-q", "--dry-run", "-c", str(path)) == 0
    out = capsys.readouterr().out
    # 4 questions x 2 turns x 3 pairs x 2 orders
    assert "a real run would make 48 judge calls to gpt-4o" in out
    assert "no prices set: add judge.prices to get a cost" in out and "$" not in out
    assert "rehearsal with the fake judge: judge calls 48" in out
    work = tmp_path / "run"
    run_dir = work / "dry-run"
    for name in ["battles.jsonl", "judgments.jsonl", "leaderboard.json", "leaderboard.csv", "leaderboard.md",
                 "judge_report.json", "manifest.json", "questions.jsonl"]:
        assert (run_dir / name).is_file(), name
    for model in ["alpha", "beta", "gamma"]:
        lines = (work / "answers" / f"{model}.jsonl").read_text().splitlines()
        assert len(lines) == 4
        rec = json.loads(lines[0])
        assert len(rec["turns"]) == 2 and rec["spec"]["generation"]["seed"] == 7
    rows = json.loads((run_dir / "leaderboard.json").read_text())
    assert {r["model"] for r in rows} == {"alpha", "beta", "gamma"}
    for r in rows:
        assert {"model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "losses", "ties"} <= set(r)
        assert r["ci_low"] <= r["rating"] <= r["ci_high"]
    battles = [json.loads(x) for x in (run_dir / "battles.jsonl").read_text().splitlines()]
    assert len(battles) == 48
    assert {"question_id", "model_a", "model_b", "winner", "judge", "turn", "category", "weight"} <= set(battles[0])
    report = json.loads((run_dir / "judge_report.json").read_text())
    assert report["calls"] == 48 and report["pairs_both_orders"] == 24
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["dry_run"] and manifest["seed"] == 7
    assert manifest["versions"]["arena"] and "mt-bench@1/pair-v2" in manifest["prompts"]["hashes"]
    estimate = manifest["estimate"]
    assert estimate["judge_calls"] == 48 and estimate["cost_usd"] is None
    # The rehearsal counts the same prompts the same way as the estimate: one token figure, not two.
    assert estimate["prompt_tokens"] == report["prompt_tokens"] > 0
    assert estimate["output_tokens_per_call"] == load_prompt_set("mt-bench").spec.expected_output_tokens
    assert estimate["output_tokens"] == 48 * estimate["output_tokens_per_call"]
    assert f"sending about {estimate['prompt_tokens']:,} prompt tokens" in out
    assert manifest["cost_usd"] == 0  # the fake judge spent nothing

    before = {p: p.stat().st_mtime_ns for p in (work / "answers").iterdir()}
    judgments_before = (run_dir / "judgments.jsonl").read_text()
    assert cli("run", "-q", "--dry-run", "-c", str(path)) == 0
    out = capsys.readouterr().out
    assert "0 new answers, 4 already on disk" in out
    assert "judge: 0 calls made, 48 judgments already on disk" in out
    assert {p: p.stat().st_mtime_ns for p in (work / "answers").iterdir()} == before
    assert (run_dir / "judgments.jsonl").read_text() == judgments_before


def test_adding_a_model_only_does_the_new_work(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    first = run(load_config(path), progress=False)
    assert first.review is not None and first.review.judged == 48
    text = path.read_text().replace("judge:", "  delta: {provider: fake, fake: {seed: 4}}\njudge:")
    path.write_text(text)
    second = run(load_config(path), progress=False)
    assert [g.generated for g in second.generation] == [0, 0, 0, 4]
    # new pairs: delta vs 3 others x 4 questions x 2 turns x 2 orders
    assert second.review is not None and second.review.judged == 48 and second.review.done_before == 48


@pytest.mark.parametrize(("mode", "baseline", "calls"), [("single", "null", 24), ("pairwise-baseline", "alpha", 32)])
def test_modes(tmp_path: Path, mode: str, baseline: str, calls: int) -> None:
    result = run(load_config(write_config(tmp_path, mode=mode, baseline=baseline)), progress=False)
    assert result.review is not None and result.review.judged == calls
    rows = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    if mode == "single":
        assert all(r["score"] is not None for r in rows)
    else:
        assert {r["model"]: r for r in rows}["alpha"]["rating"] == pytest.approx(1000.0)
        assert all("win_rate" in r for r in rows if r["model"] != "alpha")


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("validate", "-c", str(write_config(tmp_path))) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [x\n")
    assert cli("run", "-c", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "malformed YAML" in err and "Traceback" not in err
    assert cli("run", "-c", str(tmp_path / "missing.yaml")) == 2


def test_import_and_help_do_not_import_torch() -> None:
    code = (
        "import sys, arena, arena.cli, arena.pipeline\n"
        "from arena.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'transformers' not in sys.modules\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "clean" in out.stdout


@pytest.mark.parametrize(("override", "per_call"), [(300, 300), (5000, 1024)])  # capped at max_new_tokens
def test_dry_run_estimate_prices_the_real_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                override: int, per_call: int) -> None:
    path = write_config(tmp_path, judge="openai", model="gpt-4o")
    path.write_text(path.read_text().replace(
        "prompts: mt-bench}",
        f"prompts: mt-bench, expected_output_tokens: {override}, prices: {{input_per_1m: 2.5, output_per_1m: 10}}}}"))
    assert cli("run", "-q", "--dry-run", "-c", str(path)) == 0
    out = capsys.readouterr().out
    manifest = json.loads((tmp_path / "run" / "dry-run" / "manifest.json").read_text())
    est = manifest["estimate"]
    assert est["judge_calls"] == 48 and est["output_tokens_per_call"] == per_call
    expected_cost = est["prompt_tokens"] * 2.5 / 1e6 + 48 * per_call * 10 / 1e6
    assert est["cost_usd"] == pytest.approx(expected_cost, abs=1e-6)
    assert out.count("$") == 3  # one cost, and the two prices it comes from
    assert f"cost about ${expected_cost:,.4f} at judge.prices ($2.5 in, $10 out per 1M tokens)" in out
    report = json.loads((tmp_path / "run" / "dry-run" / "judge_report.json").read_text())
    assert report["cost_usd"] == 0 and manifest["cost_usd"] == 0  # the rehearsal is free


def test_dry_run_estimate_counts_only_what_a_real_run_still_needs(tmp_path: Path, stub_server: Any) -> None:
    # A real run (judge on a loopback stub) judged the first three questions; the estimate covers the fourth.
    server = stub_server(fixed("Both fine. [[C]]"))
    path = write_config(tmp_path, judge="openai", model="stub-judge")
    path.write_text(path.read_text().replace("model: stub-judge,", f'model: stub-judge, base_url: "{server.url}",'))
    first = load_config(path)
    first.questions.limit = 3
    real = run(first, progress=False)
    assert real.review is not None and real.review.judged == 3 * 2 * 3 * 2 and real.review.errors == 0
    result = run(load_config(path), dry_run=True, progress=False)
    assert result.estimate is not None and result.estimate.judge_calls == 1 * 2 * 3 * 2
    assert len(server.requests) == 3 * 2 * 3 * 2  # the dry run sent nothing
