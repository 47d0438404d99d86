"""The seeded fake judge honours its tie rate, position bias and failure rate (roughly) and is deterministic."""

from __future__ import annotations

import random

import pytest

from arena.config import FakeOptions
from arena.providers.base import GenerationSettings
from arena.providers.fake_judge import fake_verdict, make_fake_judge

N = 4000


def _rates(opts: FakeOptions) -> dict[str, float]:
    rng = random.Random(0)
    draws = [fake_verdict(rng, opts) for _ in range(N)]
    ok = [d for d in draws if d is not None]
    decisive = [d for d in ok if d != "A=B"]
    return {"fail": 1 - len(ok) / N, "tie": (len(ok) - len(decisive)) / len(ok),
            "first": sum(d.startswith("A") for d in decisive) / len(decisive)}


@pytest.mark.parametrize(
    ("tie", "bias", "fail"),
    [(0.1, 0.0, 0.0), (0.3, 0.4, 0.1), (0.0, -0.5, 0.2), (0.5, 0.2, 0.0)],
)
def test_rates_roughly_honoured(tie: float, bias: float, fail: float) -> None:
    r = _rates(FakeOptions(tie_rate=tie, position_bias=bias, failure_rate=fail))
    assert r["fail"] == pytest.approx(fail, abs=0.03)
    assert r["tie"] == pytest.approx(tie, abs=0.03)
    assert r["first"] == pytest.approx(0.5 + bias / 2, abs=0.04)


def test_replies_parse_and_are_deterministic(make_judge) -> None:
    judge = make_judge()
    opts = FakeOptions(failure_rate=0.2)
    convs = [[{"role": "user", "content": f"game {i}"}] for i in range(200)]
    out1 = make_fake_judge(judge, opts, seed=3).generate(convs, GenerationSettings())
    out2 = make_fake_judge(judge, opts, seed=3).generate(list(reversed(convs)), GenerationSettings())
    assert [c.text for c in out1] == [c.text for c in reversed(out2)]  # order does not matter
    parsed = [judge.parse(c.text) for c in out1]
    failures = sum(p.error is not None for p in parsed)
    assert 20 <= failures <= 60
    assert all(p.verdict in (None, "A>B", "B>A", "A=B") for p in parsed)


def test_single_mode_scores(make_judge) -> None:
    judge = make_judge(mode="single")
    convs = [[{"role": "user", "content": f"q {i}"}] for i in range(50)]
    scores = [judge.parse(c.text).score for c in make_fake_judge(judge, FakeOptions(), 0).generate(convs, GenerationSettings())]
    assert all(s is not None and 1 <= s <= 10 for s in scores)


def test_five_level_format(make_judge) -> None:
    judge = make_judge(prompts="arena-hard")
    convs = [[{"role": "user", "content": f"q {i}"}] for i in range(100)]
    verdicts = {judge.parse(c.text).verdict for c in make_fake_judge(judge, FakeOptions(), 0).generate(convs, GenerationSettings())}
    assert {"A>>B", "B>>A", "A>B", "B>A"} <= verdicts
