"""Checks before spending, found by fuzzing configs: each bad config stops `arena validate` and `arena run` with
one line naming the config file, the key and the fix, before any answer is generated (no work dir is made).

Every case here was once refused only after generation had started (answers written, or judgments paid for
and then the rater refusing its settings), or refused with a message naming neither the file nor the key, or
ended in ``arena: failed`` (exit 1).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers.cli_config import BASE, run_cli


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenAI cases have a key: what is refused is the option, not a missing key."""
    monkeypatch.setenv("ARENA_TEST_CHECKS_KEY", "sk-dummy-for-the-test")


CASES = [
    # (label, config text, what the one-line error holds)
    ("unknown question set", BASE.replace("{set: mt_bench, limit: 2}", "{set: mt_bnch}"),
     ["cfg.yaml:3: key 'questions.set': unknown question set 'mt_bnch'", "Did you mean 'mt_bench'?"]),
    ("unknown category", BASE.replace("limit: 2}", "categories: [wrting]}"),
     ["cfg.yaml:3: key 'questions.categories': unknown category 'wrting'"]),
    ("filters leave no question", BASE.replace("limit: 2}", "ids: ['nope']}"),
     ["cfg.yaml:3: key 'questions': the filters leave no question"]),
    ("questions file is a folder", BASE.replace("{set: mt_bench, limit: 2}", "{file: .}"),
     ["cfg.yaml:3: key 'questions.file':", "no question.jsonl in this folder"]),
    ("unknown prompt set", BASE.replace("mode: pairwise-all}", "mode: pairwise-all, prompts: mt-bnch}"),
     ["cfg.yaml:7: key 'judge.prompts': unknown judge prompt set 'mt-bnch'"]),
    ("unknown prompt set of a juror", BASE.replace(
        "judge: {provider: fake, mode: pairwise-all}",
        "judge:\n  - {name: j1, provider: fake}\n  - {name: j2, provider: fake, prompts: nope}"),
     ["cfg.yaml:9: key 'judge.1.prompts': unknown judge prompt set 'nope'"]),
    ("candidate base_url empty list", BASE.replace("b: {provider: fake}", "b: {provider: openai, model: m, base_url: [], api_key_env: ARENA_TEST_CHECKS_KEY}"),
     ["cfg.yaml:6: key 'models.b.base_url': base_url is an empty list"]),
    ("candidate dtype unknown", BASE.replace(
        "b: {provider: fake}", "b: {provider: transformers, model: smollm2-135m-instruct, dtype: float17}"),
     ["cfg.yaml:6: key 'models.b.dtype': unknown dtype 'float17'"]),
    ("elo with a tie model", BASE.replace("{bootstrap: 5}", "{bootstrap: 5, method: elo, ties: davidson}"),
     ["cfg.yaml:8: key 'rating.ties': rating.ties 'davidson': elo takes half or drop"]),
    ("elo reweighted", BASE.replace("{bootstrap: 5}", "{bootstrap: 5, method: elo, reweight: inverse-pair}"),
     ["cfg.yaml:8: key 'rating.reweight': rating.reweight inverse-pair: elo runs battles one by one"]),
    ("elo with sandwich intervals", BASE.replace("{bootstrap: 5}", "{method: elo, ci: sandwich}"),
     ["cfg.yaml:8: key 'rating.ci': rating method 'elo': unknown interval type 'sandwich'. Available: bootstrap"]),
    ("bt-position with a tie model", BASE.replace("{bootstrap: 5}", "{method: bt-position, ties: rao-kupper}"),
     ["cfg.yaml:8: key 'rating.ties': rating.ties 'rao-kupper': bt-position takes half or drop"]),
    ("work dir is a file", BASE.replace("work_dir: run", "work_dir: cfg.yaml"),
     ["cfg.yaml:2: key 'work_dir':", "cfg.yaml is a file; give a folder for the run"]),
    ("work dir inside a file", BASE.replace("work_dir: run", "work_dir: cfg.yaml/run"),
     ["cfg.yaml:2: key 'work_dir':", "which is a file"]),
    ("model name too long for a file", BASE.replace("  b: {provider: fake}", f"  {'b' * 300}: {{provider: fake}}"),
     [f"cfg.yaml:6: key 'models.{'b' * 300}': the model name is 300 characters long"]),
    ("model names sharing an answer file", BASE.replace("  a: {provider: fake}", "  a b: {provider: fake}\n  a_b: {provider: fake}"),
     ["cfg.yaml:6: key 'models.a_b': models 'a b' and 'a_b' would share the answer file answers/a_b.jsonl"]),
    ("blank model name", BASE.replace("  a: {provider: fake}", "  ' ': {provider: fake}"),
     ["cfg.yaml:4: key 'models': a model name is ' '; give every model a name"]),
]


@pytest.mark.parametrize("command", [["validate"], ["run", "-q", "--dry-run"], ["run", "-q"]],
                         ids=["validate", "dry-run", "run"])
@pytest.mark.parametrize(("label", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, text: str,
                                 expected: list[str], command: list[str]) -> None:
    code, err = run_cli(tmp_path, text, command, capsys)
    assert code == 2, (label, err)
    assert err.startswith("arena: error: ") and err.count("\n") == 1, err
    for part in expected:
        assert part in err, (label, err)
    assert not (tmp_path / "run").exists(), "refused before the work dir is made"


def test_second_candidate_is_checked_before_the_first_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The run used to generate model a's answers, then fail building model b's provider."""
    text = BASE.replace("b: {provider: fake}", "b: {provider: openai, model: m, base_url: [], api_key_env: ARENA_TEST_CHECKS_KEY}")
    code, err = run_cli(tmp_path, text, ["run", "-q", "--dry-run"], capsys)
    assert code == 2 and "models.b.base_url" in err
    assert not (tmp_path / "run" / "answers").exists()


def test_real_judge_provider_is_built_before_generation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A judge option only the provider's constructor refuses stops `arena run` before the candidates answer;
    a dry run (the fake judge stands in) is not stopped by it."""
    text = BASE.replace("judge: {provider: fake, mode: pairwise-all}",
                        "judge: {provider: openai, model: j, base_url: [], api_key_env: ARENA_TEST_CHECKS_KEY, mode: pairwise-all}")
    code, err = run_cli(tmp_path, text, ["run", "-q"], capsys)
    assert code == 2 and "cfg.yaml:7: key 'judge.base_url': base_url is an empty list" in err, err
    assert not (tmp_path / "run").exists()
    code, err = run_cli(tmp_path, text, ["run", "-q", "--dry-run"], capsys)
    assert code == 0, err


GOOD = [
    ("elo", "{bootstrap: 5, method: elo}"),
    ("davidson", "{bootstrap: 5, ties: davidson}"),
    ("rao-kupper sandwich", "{ties: rao-kupper, ci: sandwich}"),
    ("style control", "{bootstrap: 5, style_control: true}"),
    ("style control reweighted sandwich", "{style_control: true, reweight: inverse-pair, ci: sandwich}"),
    ("bt-position", "{bootstrap: 5, method: bt-position}"),
    ("no bootstrap", "{bootstrap: 0, resample: battle}"),
]


@pytest.mark.parametrize(("label", "rating"), GOOD, ids=[g[0] for g in GOOD])
def test_rating_settings_the_rater_takes_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str,
                                             rating: str) -> None:
    for mode in ("pairwise-all", "pairwise-baseline, baseline: a", "single"):
        text = BASE.replace("{bootstrap: 5}", rating).replace("mode: pairwise-all", f"mode: {mode}")
        code, err = run_cli(tmp_path, text, ["validate"], capsys)
        assert code == 0, (label, mode, err)


def test_shipped_fake_configs_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The checks refuse nothing the pipeline takes: the offline shipped configs still run."""
    root = Path(__file__).parents[1] / "configs"
    for name in ("fake.yaml", "jury.yaml"):
        text = (root / name).read_text().replace("work_dir: ../outputs/", "work_dir: run/")
        code, err = run_cli(tmp_path, textwrap.dedent(text), ["run", "-q", "--dry-run"], capsys)
        assert code == 0, (name, err)
