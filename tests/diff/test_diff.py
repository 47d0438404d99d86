"""arena diff: two runs differing in exactly one setting give a diff naming exactly that setting."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from arena.cli import main
from arena.diff import diff_runs
from arena.diff.diff import compare_values
from arena.diff.format import render
from arena.rundir.load import load_run
from tests.diff.helpers import fake_config, run_config

ROOT = Path(__file__).resolve().parents[2]


def exit_code(argv: list[str]) -> int:
    """``arena ARGV``'s exit status (0 when main returns)."""
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def names(diff) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(c.group, c.subject, c.setting) for c in diff.changes}


def test_identical_configs_give_an_empty_diff_and_zero_deltas(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b"))
    d = diff_runs(a, b)
    assert d.changes == []
    assert {m.model for m in d.models} == {"alpha", "beta"}
    for m in d.models:
        assert m.rating.delta == 0.0 and m.win_rate.delta == 0.0
        assert m.rating.beyond_intervals is False and m.rank_a == m.rank_b
    assert "Settings: identical" in render(d)


def test_candidate_temperature(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b", models={"beta": {"generation": {"temperature": 0.7}}}))
    assert names(diff_runs(a, b)) == {("candidates", "beta", "generation.temperature")}


def test_question_subset(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b", questions={"limit": 4}))
    d = diff_runs(a, b)
    assert names(d) == {("questions", "config", "limit"), ("questions", "ids", "ids")}
    ids = next(c for c in d.changes if c.setting == "ids")
    assert ids.a["count"] == 6 and ids.b["count"] == 4 and ids.a["only_here_count"] == 2
    assert "6 questions; 2 not in B" in render(d)


def test_question_content(tmp_path: Path) -> None:
    qa, qb = tmp_path / "qa.jsonl", tmp_path / "qb.jsonl"
    qa.write_text('{"question_id": "1", "turns": ["Why is the sky blue?"]}\n'
                  '{"question_id": "2", "turns": ["Name a prime."]}\n', encoding="utf-8")
    qb.write_text('{"question_id": "1", "turns": ["Why is the sea blue?"]}\n'
                  '{"question_id": "2", "turns": ["Name a prime."]}\n', encoding="utf-8")
    a = run_config(tmp_path, "a", fake_config("a", questions={"set": None, "limit": None, "file": str(qa)}))
    b = run_config(tmp_path, "b", fake_config("b", questions={"set": None, "limit": None, "file": str(qb)}))
    d = diff_runs(a, b)
    assert names(d) == {("questions", "config", "file"), ("questions", "content", "content_hash")}
    assert next(c for c in d.changes if c.setting == "content_hash").b == ["1"]


def test_batch_size_of_a_fake_candidate(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b", models={"alpha": {"batch_size": 2}}))
    d = diff_runs(a, b)
    assert names(d) == {("candidates", "alpha", "batch_size")}
    assert (d.changes[0].a, d.changes[0].b) == (8, 2)


def test_judge_prompt_version(tmp_path: Path) -> None:
    prompts = tmp_path / "judge-prompts"
    shutil.copytree(ROOT / "registry" / "judges" / "mt-bench", prompts)
    a = run_config(tmp_path, "a", fake_config("a", judge={"prompts": str(prompts)}))
    yaml_path = prompts / "judge.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace('version: "1"', 'version: "2"'), encoding="utf-8")
    b = run_config(tmp_path, "b", fake_config("b", judge={"prompts": str(prompts)}))
    assert names(diff_runs(a, b)) == {("judge", "judge", "prompt_version")}


def test_judge_temperature_and_rating_settings(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b", judge={"generation": {"temperature": 0.5, "max_new_tokens": 1024}},
                                              rating={"ties": "drop"}))
    assert names(diff_runs(a, b)) == {("judge", "judge", "generation.temperature"), ("rating", "settings", "ties")}


def test_a_changed_runtime_that_no_config_shows_is_named(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b"))
    path = b / "answers" / "alpha.jsonl"
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        line["generated_with"]["chat_template_hash"] = "0123456789abcdef"
        line["generated_with"]["versions"] = {"transformers": "9.9"}
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert names(diff_runs(a, b)) == {("candidates", "alpha", "chat_template_hash"),
                                      ("candidates", "alpha", "versions.transformers")}


def test_old_answers_without_runtime_still_load_and_diff(tmp_path: Path) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    for path in (a / "answers").glob("*.jsonl"):
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        path.write_text("".join(json.dumps({k: v for k, v in x.items() if k != "generated_with"}) + "\n"
                                for x in lines), encoding="utf-8")
    run = load_run(a)
    assert run.answers and all(x.generated_with is None for x in run.answers.values())
    b = run_config(tmp_path, "b", fake_config("b"))
    # the old run does not say what engine/batch size it had: those show as absent, nothing else
    changed = {(c.subject, c.setting, c.in_a, c.in_b) for c in diff_runs(a, b).changes}
    assert changed == {(m, "engine", False, True) for m in ("alpha", "beta")}


def test_deltas_exceed_intervals_only_when_they_should() -> None:
    # se 10 each: the difference's 95% half-width is 1.96 * 10 * sqrt(2) = 27.7
    inside = compare_values(1000.0, 1020.0, 10.0, 10.0, None)
    outside = compare_values(1000.0, 1040.0, 10.0, 10.0, None)
    assert inside.beyond_intervals is False and outside.beyond_intervals is True
    assert outside.low == pytest.approx(40 - 27.718, abs=1e-3)
    # a noise floor of sd 20 widens it to 1.96 * sqrt(200 + 800) = 62.0: 40 is within the noise
    noisy = compare_values(1000.0, 1040.0, 10.0, 10.0, 20.0)
    assert noisy.beyond_intervals is True and noisy.beyond_noise is False


@pytest.mark.parametrize("fmt", ["table", "json", "md"])
def test_cli_formats_exit_0(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    b = run_config(tmp_path, "b", fake_config("b", models={"beta": {"system_prompt": "Be brief."}}))
    assert exit_code(["diff", str(a), str(b), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        doc = json.loads(out)
        assert [(c["group"], c["setting"]) for c in doc["changes"]] == [("candidates", "system_prompt")]
        assert {m["model"] for m in doc["models"]} == {"alpha", "beta"}
    else:
        assert "system_prompt" in out and "Be brief." in out


def test_cli_refuses_a_dir_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_config(tmp_path, "a", fake_config("a"))
    (tmp_path / "empty").mkdir()
    assert exit_code(["diff", str(a), str(tmp_path / "empty")]) == 2
    assert "not an arena run dir" in capsys.readouterr().err


def test_a_change_to_a_second_juror_is_named(tmp_path: Path) -> None:
    def jury(tie_rate: float) -> list[dict[str, object]]:
        return [{"name": "left", "provider": "fake", "mode": "pairwise-all", "fake": {"position_bias": 0.3}},
                {"name": "right", "provider": "fake", "mode": "pairwise-all", "fake": {"tie_rate": tie_rate}}]

    a = run_config(tmp_path, "a", fake_config("a") | {"judge": jury(0.1)})
    b = run_config(tmp_path, "b", fake_config("b") | {"judge": jury(0.3)})
    assert names(diff_runs(a, b)) == {("judge", "right", "fake.tie_rate")}


def test_a_zero_width_interval_is_no_standard_error() -> None:
    """Runs rated with 0 bootstrap rounds carry bounds equal to the rating: that is no interval, not a
    standard error of 0 (which would call every difference beyond the intervals)."""
    from arena.diff.diff import rating_se
    from arena.records import LeaderboardRow

    row = LeaderboardRow(model="a", rating=1000.0, ci_low=1000.0, ci_high=1000.0)
    assert rating_se(row) == (1000.0, None)
    delta = compare_values(1000.0, 1001.0, *(rating_se(row)[1],) * 2, None)
    assert delta.delta == 1.0 and delta.beyond_intervals is None
    assert rating_se(LeaderboardRow(model="a", rating=1000.0, ci_low=990.0, ci_high=1010.0))[1] == pytest.approx(
        20 / (2 * 1.959964), rel=1e-3)


def test_intervals_are_read_at_the_level_each_run_computed_them(tmp_path: Path) -> None:
    """A run rated at 80% intervals (rating.confidence) against the same run at 95%: the standard errors read off
    the two are close (the same bootstrap rounds), where reading the 80% ones as 95% made them 35% smaller."""
    a = run_config(tmp_path, "a", fake_config("a", rating={"bootstrap": 200}))
    b = run_config(tmp_path, "b", fake_config("b", rating={"bootstrap": 200, "confidence": 0.8}))
    d = diff_runs(a, b)
    assert names(d) == {("rating", "settings", "confidence")}
    for m in d.models:
        assert m.rating.delta == 0.0
        half = (m.rating.high - m.rating.low) / 2  # 1.96 * sqrt(se_a^2 + se_b^2): both alike, so ~1.96 * sqrt(2) se_a
        a_row = next(r for r in load_run(a).leaderboard if r.model == m.model)
        se_a = (a_row.ci_high - a_row.ci_low) / (2 * 1.959964)
        assert half == pytest.approx(1.959964 * math.sqrt(2) * se_a, rel=0.12)
