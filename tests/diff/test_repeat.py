"""arena repeat: the noise floor of a config, recovered from a fake judge of known noise."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from arena.config import load_config
from arena.diff import diff_runs, load_noise
from arena.diff.repeat import first_difference, repeat_config, run_repeats
from arena.providers.base import Completion, Conversation, GenerationSettings
from arena.providers.specs import SPECS, ProviderSpec
from tests.diff.helpers import fake_config, run_config
from tests.diff.test_diff import exit_code

_BUILDS = itertools.count()


class FlakyGreedy:
    """A 'greedy' candidate whose answer to one question changes with every build (as batch effects do)."""

    name = "flaky"

    def __init__(self, build: int) -> None:
        self.build = build

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        out = []
        for conv in conversations:
            text = "the answer is clear and short"
            if "Compose an engaging travel blog" in conv[-1]["content"]:
                text = f"the answer is {'clear' if self.build % 2 == 0 else 'plain'} and short"
            out.append(Completion(text=text, completion_tokens=6))
        return out


class FlakySpec(ProviderSpec):
    provider: Literal["flaky"] = "flaky"
    can_judge: ClassVar[bool] = False

    def build(self, *, seed: int, name: str) -> Any:
        return FlakyGreedy(next(_BUILDS))


def test_first_difference_is_word_level() -> None:
    assert first_difference("a b c", "a b c") is None
    assert first_difference("a b c", "a x c") == (1, "b", "x")
    assert first_difference("a b", "a b c") == (2, None, "c")


def test_repeat_config_rederives_only_what_samples(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    import yaml

    path.write_text(yaml.safe_dump(fake_config("w", models={"beta": {"generation": {"temperature": 0.8}}})))
    cfg = load_config(path)
    r1, r2 = repeat_config(cfg, 1), repeat_config(cfg, 2)
    assert r1.work_dir == cfg.work_dir / "repeats" / "1"
    assert r1.models["alpha"].generation.seed == cfg.models["alpha"].generation.seed  # greedy: kept
    assert len({cfg.models["beta"].generation.seed, r1.models["beta"].generation.seed,
                r2.models["beta"].generation.seed}) == 3
    assert r1.judge.generation.seed == cfg.judge.generation.seed  # the judge is greedy here
    assert len({cfg.rating.seed, r1.rating.seed, r2.rating.seed}) == 3
    assert repeat_config(cfg, 1).model_dump() == r1.model_dump()  # derived, not drawn


def test_repeats_recover_the_known_noise_of_a_fake_judge(tmp_path: Path) -> None:
    # The fake judge at temperature > 0 with no ties, no position bias and weight-1 verdicts flips a fair
    # coin per battle: a model's win share over n battles varies across repeats with sd sqrt(0.25 / n).
    cfg = fake_config("w", questions={"limit": 8},
                      judge={"generation": {"temperature": 0.7, "max_new_tokens": 1024},
                             "fake": {"tie_rate": 0.0, "position_bias": 0.0}},
                      rating={"strong_weight": 1.0, "bootstrap": 20})
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    loaded = load_config(path)
    floor = run_repeats(loaded, 24)
    assert load_noise(loaded.work_dir) == floor
    battles = json.loads((loaded.work_dir / "repeats" / "1" / "leaderboard.json").read_text())[0]["battles"]
    expected = math.sqrt(0.25 / battles)
    for m in floor.models:
        assert m.repeats == 24 and m.win_rate_sd is not None
        # 24 repeats estimate an sd to about 15% (1 / sqrt(2 * 23)); allow 2.5 of those
        assert m.win_rate_sd == pytest.approx(expected, rel=0.37), (m.model, m.win_rate_sd, expected)
        assert m.rating_sd is not None and m.rating_sd > 0 and m.bootstrap_se is not None
    assert floor.greedy_variation == []  # the fake candidates are greedy and deterministic
    # The run-to-run spread is wider than the bootstrap says: the config's own leaderboard notes it.
    assert floor.notes
    from arena.pipeline import run

    board = run(loaded, progress=False).leaderboard
    expected_notes = [f"arena repeat (24 repeats): {n}" for n in floor.notes]
    assert board is not None and set(expected_notes) <= set(board.warnings)
    assert expected_notes[0] in (loaded.work_dir / "leaderboard.md").read_text(encoding="utf-8")
    # arena diff of two repeats now judges deltas against the noise floor
    d = diff_runs(loaded.work_dir / "repeats" / "1", loaded.work_dir / "repeats" / "2")
    assert d.noise_repeats is None  # a repeat dir has no repeats of its own



def test_greedy_answers_that_vary_are_flagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SPECS, "flaky", FlakySpec)
    cfg = fake_config("w", models={"beta": {"provider": "flaky", "fake": None}})
    cfg["models"]["beta"] = {"provider": "flaky"}
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    floor = run_repeats(load_config(path), 2)
    assert [(v.model, v.position, v.token_a, v.token_b) for v in floor.greedy_variation] == [
        ("beta", 3, "clear", "plain")]
    assert any("greedy candidates whose answers still vary" in n for n in floor.notes)


def test_cli_repeat_writes_noise_and_diff_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    cfg = fake_config("w", judge={"generation": {"temperature": 0.7, "max_new_tokens": 1024}})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert exit_code(["repeat", "-c", str(path), "3"]) == 0
    out = capsys.readouterr().out
    assert "noise floor over 3 repeats" in out and "alpha" in out
    work = run_config(tmp_path, "c", cfg)  # the original run, beside its repeats
    other = run_config(tmp_path, "d", fake_config("other", judge={"generation": {"temperature": 0.7,
                                                                                   "max_new_tokens": 1024}}))
    d = diff_runs(work, other)
    assert d.noise_repeats == 3
    assert all(m.rating.beyond_noise is not None for m in d.models)
    assert exit_code(["repeat", "-c", str(path), "1"]) == 2


def test_repeats_rated_without_intervals_have_no_bootstrap_error() -> None:
    """Repeats rated with 0 bootstrap rounds carry zero-width intervals: no bootstrap error is known, rather than
    an error of 0 that every run-to-run spread 'exceeds'."""
    from arena.diff.repeat import model_noise
    from arena.records import LeaderboardRow
    from arena.rundir.load import Run

    runs = [Run(run_dir=Path(f"r{k}"), leaderboard=[LeaderboardRow(model="a", rating=r, ci_low=r, ci_high=r)])
            for k, r in enumerate((1000.0, 1010.0, 990.0))]
    (noise,) = model_noise(runs)
    assert noise.rating_sd == pytest.approx(10.0) and noise.bootstrap_se is None and not noise.wider_than_bootstrap
