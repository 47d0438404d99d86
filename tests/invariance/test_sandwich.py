"""Sandwich intervals and the tie models honour the invariances: rows, counts, weights, shuffle, rename."""

from __future__ import annotations

import pandas as pd
import pytest

from arena.rating import RatingSettings, compute_leaderboard
from tests.invariance.conftest import (
    assert_same_rows,
    fresh_names,
    invert,
    rename,
    shuffle,
    synthetic_battles,
    to_counts,
    to_weights,
)

CASES = [
    {"ci": "sandwich"},
    {"ci": "sandwich", "resample": "battle"},
    {"ci": "sandwich", "ties": "davidson"},
    {"ci": "sandwich", "ties": "rao-kupper"},
    {"ci": "sandwich", "reweight": "inverse-pair"},
    {"ci": "bootstrap", "ties": "davidson", "bootstrap": 30},
    {"ci": "bootstrap", "reweight": "inverse-pair", "bootstrap": 30},
]


@pytest.fixture(scope="module")
def battles() -> pd.DataFrame:
    frame = synthetic_battles(seed=3)
    # some ties of each kind, so the tie models have something to fit
    frame.loc[frame.index % 7 == 0, "winner"] = "tie"
    frame.loc[frame.index % 11 == 0, "winner"] = "tie (bothbad)"
    return frame


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_representations_give_the_same_rows(battles: pd.DataFrame, case: dict[str, object]) -> None:
    settings = RatingSettings.model_validate({"seed": 2, **case})
    want = compute_leaderboard(battles, settings).rows
    assert all(r["ci_high"] > r["ci_low"] for r in want)
    for label, frame in (("counts", to_counts(battles)), ("weights", to_weights(battles)),
                         ("shuffle", shuffle(battles))):
        assert_same_rows(compute_leaderboard(frame, settings).rows, want, label=label)
    names = fresh_names(battles)
    got = compute_leaderboard(rename(battles, names), settings).rows
    assert_same_rows(got, want, back=invert(names), label="rename", check_order=False)


def test_style_sandwich_representations() -> None:
    frame = synthetic_battles(seed=5, style=True)
    settings = RatingSettings(ci="sandwich", style_control=True)
    want = compute_leaderboard(frame, settings).extras["style"]
    for other in (to_counts(frame), to_weights(frame), shuffle(frame)):
        got = compute_leaderboard(other, settings).extras["style"]
        assert got["coefficients"] == pytest.approx(want["coefficients"], abs=1e-6)
        assert got["coef_low"] == pytest.approx(want["coef_low"], abs=1e-6)
        assert [r["ci_low"] for r in got["rows"]] == pytest.approx([r["ci_low"] for r in want["rows"]], abs=1e-3)
