"""One table: representation x entry point x method, each compared with the API on plain rows.

Bradley-Terry (both resampling units), style control and pairwise-baseline win rates must give the same
ratings, intervals, ranks and battle counts for every representation through every entry point. Elo depends on
row order (documented): it must follow renamed models and swapped sides exactly, and for counts and weights
either honour them (same battle counts) or refuse in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from arena.errors import DataError
from tests.invariance.conftest import (
    DEFAULTS_ONLY,
    ENTRY_POINTS,
    REPRESENTATIONS,
    RefusedError,
    api_rows,
    assert_same_rows,
    by_model,
    expand,
    settings_for,
    shuffle,
)

ROUNDS = 100
BASELINE = "m0"

ORDER_FREE = ["bt", "bt-battle", "style", "baseline"]
RELABELLED = {"permuted-names", "renamed"}
POINT_FIELDS = ("rating", "battles", "wins", "losses", "ties")


def method_settings(method: str) -> tuple[Any, str | None]:
    if method == "bt-battle":
        return settings_for("bt", ROUNDS, resample="battle"), None
    if method == "baseline":
        return settings_for("bt", ROUNDS), BASELINE
    return settings_for(method, ROUNDS), None


def cases() -> list[Any]:
    out = []
    for method in ORDER_FREE:
        for entry in ENTRY_POINTS:
            if entry in DEFAULTS_ONLY and method != "bt":
                continue
            for rep in REPRESENTATIONS:
                if entry == "api" and rep == "rows":
                    continue  # the reference itself
                out.append(pytest.param(method, entry, rep, id=f"{method}-{entry}-{rep}"))
    return out


def dataset(method: str, request: pytest.FixtureRequest) -> pd.DataFrame:
    return request.getfixturevalue("synthetic_style" if method == "style" else "synthetic")


@pytest.mark.parametrize(("method", "entry", "rep"), cases())
def test_order_free_methods_agree(method: str, entry: str, rep: str, request: pytest.FixtureRequest,
                                  tmp_path: Path) -> None:
    frame = dataset(method, request)
    settings, baseline = method_settings(method)
    want = api_rows(frame, settings, baseline, tmp_path)
    new, back = REPRESENTATIONS[rep](frame)
    base = baseline if baseline is None else {v: k for k, v in back.items()}.get(baseline, baseline)
    got = ENTRY_POINTS[entry](new, settings, base, tmp_path)
    if method == "bt-battle" and rep in RELABELLED:
        # Resampling single battles is one multinomial over (pair, outcome) cells ordered by model index, so
        # a relabelling permutes which cell gets which draw: the point fit and the counts are exact, the
        # interval only equal in distribution (same width up to Monte-Carlo noise).
        assert_same_rows(got, want, back, fields=POINT_FIELDS, label=f"{method}/{entry}/{rep}")
        widths = {m: r["ci_high"] - r["ci_low"] for m, r in by_model(got, back).items()}
        for m, r in by_model(want).items():
            assert widths[m] == pytest.approx(r["ci_high"] - r["ci_low"], rel=0.35), m
        return
    assert_same_rows(got, want, back, label=f"{method}/{entry}/{rep}")


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("rep", ["rows", "counts", "weights", "shuffled", "renamed", "swapped"])
def test_llmfao_crowd_votes_bt(entry: str, rep: str, llmfao: pd.DataFrame, tmp_path: Path) -> None:
    """Real data: 3,000 LLMFAO crowd votes over many models, Bradley-Terry with a 50-round bootstrap."""
    settings = settings_for("bt", 50)
    want = api_rows(llmfao, settings, None, tmp_path)
    new, back = REPRESENTATIONS[rep](llmfao)
    got = ENTRY_POINTS[entry](new, settings, None, tmp_path)
    assert_same_rows(got, want, back, label=f"llmfao/{entry}/{rep}")


# ------------------------------------------------------------------------------------------------- Elo


@pytest.mark.parametrize("entry", ["api", "rate"])
@pytest.mark.parametrize("rep", ["permuted-names", "renamed", "swapped"])
def test_elo_follows_names_and_sides(entry: str, rep: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("elo", ROUNDS)
    want = api_rows(synthetic, settings, None, tmp_path)
    new, back = REPRESENTATIONS[rep](synthetic)
    got = ENTRY_POINTS[entry](new, settings, None, tmp_path)
    assert_same_rows(got, want, back, label=f"elo/{entry}/{rep}")


def test_elo_depends_on_row_order_as_documented(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """Elo is sequential: the same rows in another order give other point ratings, the same counts."""
    settings = settings_for("elo", 0)
    a = by_model(api_rows(synthetic, settings, None, tmp_path))
    b = by_model(api_rows(shuffle(synthetic), settings, None, tmp_path))
    assert any(abs(a[m]["rating"] - b[m]["rating"]) > 1e-6 for m in a)
    assert all(a[m][c] == b[m][c] for m in a for c in ("battles", "wins", "losses", "ties"))
    again = by_model(api_rows(synthetic, settings, None, tmp_path))
    assert all(a[m]["rating"] == again[m]["rating"] for m in a)


@pytest.mark.parametrize("entry", ["api", "rate"])
@pytest.mark.parametrize("rep", ["counts", "weights"])
def test_elo_honours_or_refuses_aggregated_rows(entry: str, rep: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("elo", ROUNDS)
    want = api_rows(synthetic, settings, None, tmp_path)
    new, _ = REPRESENTATIONS[rep](synthetic)
    try:
        got = ENTRY_POINTS[entry](new, settings, None, tmp_path)
    except (DataError, RefusedError) as exc:
        assert str(exc).strip().count("\n") == 0, f"refusal is not one line: {exc}"
        assert getattr(exc, "code", 2) == 2
        return
    assert_same_rows(got, want, fields=("battles", "wins", "losses", "ties"), label=f"elo/{entry}/{rep}")
    # A unit count or weight changes nothing: the same sequential updates in the same order.
    ones = synthetic.assign(**{rep[:-1]: 1})
    assert_same_rows(ENTRY_POINTS[entry](ones, settings, None, tmp_path), want, label=f"elo/{entry}/{rep}=1")


@pytest.mark.parametrize("entry", ["api", "rate"])
def test_elo_count_is_expanded_like_rows(entry: str, tmp_path: Path) -> None:
    """A count-n row is n identical battles (any expansion order gives the same): Elo equals Elo on the n rows."""
    rows = pd.DataFrame([{"model_a": "x", "model_b": "y", "winner": "model_a", "question_id": "q"}] * 5)
    counted = pd.DataFrame([{"model_a": "x", "model_b": "y", "winner": "model_a", "question_id": "q", "count": 5}])
    settings = settings_for("elo", 0)
    want = api_rows(rows, settings, None, tmp_path)
    try:
        got = ENTRY_POINTS[entry](counted, settings, None, tmp_path)
    except (DataError, RefusedError):
        return
    assert_same_rows(got, want, label=f"elo/{entry}/count-expansion")


@pytest.mark.parametrize("entry", ["api", "rate"])
@pytest.mark.parametrize("rep", ["counts", "weights"])
def test_elo_in_file_order_expands_a_row_into_consecutive_battles(entry: str, rep: str, synthetic: pd.DataFrame,
                                                                   tmp_path: Path) -> None:
    """``order: file``: a row of count (or integer weight) n is n consecutive updates, as n plain rows."""
    new, _ = REPRESENTATIONS[rep](synthetic)
    settings = settings_for("elo", ROUNDS, elo_order="file")
    want = api_rows(expand(new, rep[:-1]), settings, None, tmp_path)
    got = ENTRY_POINTS[entry](new, settings, None, tmp_path)
    assert_same_rows(got, want, fields=("rating", "battles", "wins", "losses", "ties"), label=f"elo-file/{entry}/{rep}")


@pytest.mark.parametrize("entry", ["api", "rate"])
def test_elo_shuffled_order_is_seeded(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """``order: shuffle`` on aggregated rows: the same seed gives the same numbers, another seed others."""
    counts, _ = REPRESENTATIONS["counts"](synthetic)
    one = ENTRY_POINTS[entry](counts, settings_for("elo", 0, seed=1, elo_order="shuffle"), None, tmp_path)
    again = ENTRY_POINTS[entry](counts, settings_for("elo", 0, seed=1, elo_order="shuffle"), None, tmp_path)
    other = by_model(ENTRY_POINTS[entry](counts, settings_for("elo", 0, seed=2, elo_order="shuffle"), None, tmp_path))
    assert_same_rows(again, one, label=f"elo-shuffle/{entry}")
    assert any(abs(r["rating"] - other[m]["rating"]) > 1e-6 for m, r in by_model(one).items())


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("resample", ["question", "battle"])
def test_generated_arenas_bt_all_representations(seed: int, resample: str, tmp_path: Path) -> None:
    """Generated cases: arenas of 3 to 6 models, 2 to 5 questions per pair, every representation at once."""
    from tests.invariance.conftest import synthetic_battles

    frame = synthetic_battles(seed=seed, n_models=3 + seed % 4, questions_per_pair=2 + seed % 4)
    settings = settings_for("bt", 60, seed=seed, resample=resample)
    want = api_rows(frame, settings, None, tmp_path)
    for rep, make in REPRESENTATIONS.items():
        new, back = make(frame)
        fields = POINT_FIELDS if resample == "battle" and rep in RELABELLED else None
        got = api_rows(new, settings, None, tmp_path)
        assert_same_rows(got, want, back, **({"fields": fields} if fields else {}), label=f"gen{seed}/{resample}/{rep}")


@pytest.mark.parametrize("ties", ["half", "drop", "davidson", "rao-kupper"])
@pytest.mark.parametrize("ci", ["bootstrap", "sandwich"])
def test_generated_arena_tie_models_and_reweighting_all_representations(ties: str, ci: str, tmp_path: Path) -> None:
    """A generated arena where an anchored bound touches another model's (found by fuzzing: its rank range turned
    on a rounding error between rows and counts): every tie model, both interval types, inverse-pair reweighting."""
    import numpy as np

    from arena.rating import RatingSettings

    rng = np.random.default_rng(7)
    n = int(rng.integers(2, 8))
    names = [f"m{k}" for k in range(n)]
    strength = rng.normal(0, 1, n)
    rows = []
    n_questions = int(rng.integers(1, 6))
    for _ in range(int(rng.integers(10, 120))):
        i, j = rng.choice(n, 2, replace=False)
        p = 1 / (1 + np.exp(-(strength[i] - strength[j])))
        r = rng.random()
        winner = "model_a" if r < p * 0.8 else ("model_b" if r < 0.8 else str(rng.choice(["tie", "tie (bothbad)"])))
        rows.append({"question_id": f"q{rng.integers(n_questions)}", "model_a": names[i], "model_b": names[j],
                     "winner": winner})
    frame = pd.DataFrame(rows)
    settings = RatingSettings.model_validate({"ties": ties, "ci": ci, "reweight": "inverse-pair", "bootstrap": 20,
                                             "seed": 7})
    want = api_rows(frame, settings, None, tmp_path)
    for rep in ("counts", "weights", "counts-shuffled", "swapped"):
        new, back = REPRESENTATIONS[rep](frame)
        assert_same_rows(api_rows(new, settings, None, tmp_path), want, back, label=f"{ties}/{ci}/{rep}",
                         check_order=False)
