"""Self-pairs, single-mode scores and refusals, through the API and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from arena.errors import DataError
from arena.rating import battles_frame, compute_leaderboard
from tests.invariance.conftest import (
    ENTRY_POINTS,
    RefusedError,
    api_rows,
    assert_same_rows,
    cli,
    invert,
    permutation,
    settings_for,
    shuffle,
    write_battles,
)


@pytest.mark.parametrize("entry", ["api", "rate", "import", "viz"])
def test_self_pairs_are_dropped_and_counted(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("bt", 50)
    want = api_rows(synthetic, settings, None, tmp_path)
    selfish = pd.concat([synthetic, pd.DataFrame([{"question_id": "q0", "model_a": "m1", "model_b": "m1",
                                                   "winner": "model_a"}] * 3)], ignore_index=True)
    got = ENTRY_POINTS[entry](shuffle(selfish, 4), settings, None, tmp_path)
    assert_same_rows(got, want, label=f"self-pairs/{entry}")


def test_self_pair_warning_counts_them(synthetic: pd.DataFrame) -> None:
    selfish = pd.concat([synthetic, pd.DataFrame([{"model_a": "m1", "model_b": "m1", "winner": "tie"}] * 3)],
                        ignore_index=True)
    result = compute_leaderboard(battles_frame(selfish.to_dict(orient="records")), settings_for("bt", 0))
    assert any("3" in w and "self" in w.lower() for w in result.warnings), result.warnings


def test_self_pairs_in_arena_rate_warn_and_exit_0(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    selfish = pd.concat([synthetic, pd.DataFrame([{"model_a": "m2", "model_b": "m2", "winner": "tie"}] * 2)],
                        ignore_index=True)
    code, out = cli(["rate", str(write_battles(selfish, tmp_path / "b.jsonl")), "--bootstrap", "0"])
    assert code == 0, out
    assert "2" in out and "self" in out.lower()


def scores_frame(seed: int = 0, n_models: int = 4, n_questions: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"question_id": f"q{q}", "model": f"s{k}", "turn": 1 + q % 2, "category": "math" if q % 3 else "writing",
             "score": float(np.clip(round(3 + 1.5 * k + rng.normal(0, 2)), 1, 10))}
            for k in range(n_models) for q in range(n_questions)]
    return pd.DataFrame(rows)


def single_rows(scores: pd.DataFrame, rounds: int = 100) -> list[dict]:
    empty = battles_frame([])
    return compute_leaderboard(empty, settings_for("bt", rounds), scores=scores).rows


def test_single_mode_ordered_by_mean_score_and_order_free() -> None:
    scores = scores_frame()
    rows = single_rows(scores)
    means = scores.groupby("model")["score"].mean()
    assert [r["model"] for r in rows] == list(means.sort_values(ascending=False, kind="stable").index)
    for r in rows:
        assert r["score"] == pytest.approx(means[r["model"]])
    assert_same_rows(single_rows(shuffle(scores, 2)), rows, label="single/shuffled")
    names = {m: m for m in scores["model"]}
    mapping = permutation(pd.DataFrame({"model_a": list(names), "model_b": list(names)}))
    renamed = scores.assign(model=scores["model"].map(mapping))
    assert_same_rows(single_rows(renamed), rows, invert(mapping), label="single/renamed")


@pytest.mark.parametrize("entry", ["api", "rate"])
def test_a_weight_that_is_not_a_number_is_refused_in_one_line(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    bad = synthetic.assign(weight="heavy")
    with pytest.raises((RefusedError, DataError)) as info:
        ENTRY_POINTS[entry](bad, settings_for("bt", 0), None, tmp_path)
    assert "weight" in str(info.value) and str(info.value).strip().count("\n") == 0
    assert getattr(info.value, "code", 2) == 2


@pytest.mark.parametrize("entry", ["api", "rate", "rate-csv", "import", "viz"])
@pytest.mark.parametrize("column", ["weight", "count"])
def test_rows_standing_for_more_battles_than_floats_count_are_refused(entry: str, column: str, synthetic: pd.DataFrame,
                                                                       tmp_path: Path) -> None:
    """A weight of 1e308 is finite, and overflowed the fit into a singular matrix (a crash, exit 1)."""
    bad = synthetic.assign(**{column: 1.0})
    bad.loc[3, column] = 1e308
    with pytest.raises((RefusedError, DataError)) as info:
        ENTRY_POINTS[entry](bad, settings_for("bt", 20), None, tmp_path)
    assert "row 4: weight x count 1e+308" in str(info.value) and str(info.value).strip().count("\n") == 0
    assert getattr(info.value, "code", 2) == 2


@pytest.mark.parametrize("entry", ["api", "rate", "viz"])
def test_a_turn_past_the_integers_is_refused_in_one_line(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """2**63 passed as a whole number >= 0, wrapped to a negative integer, and was refused later as 'battles: row 1:
    turn -9223372036854775808' (no file name, a number the file does not hold)."""
    bad = synthetic.assign(turn=1).astype({"turn": object})
    bad.loc[2, "turn"] = 2**63
    with pytest.raises((RefusedError, DataError)) as info:
        ENTRY_POINTS[entry](bad, settings_for("bt", 0), None, tmp_path)
    # JSON lines read 2**63 as the float nearest it (pyarrow: it does not fit an int64), the API keeps the int
    assert re.search(r"row 3: turn (9223372036854775808|9.223372036854776e\+18) is not a whole number from 0 to "
                     r"2,147,483,647", str(info.value)) and str(info.value).strip().count("\n") == 0


def test_weights_are_frequency_weights_in_counts(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """A row of weight w counts as w battles in battles/wins/losses/ties (W + L + T = battles)."""
    from tests.invariance.conftest import to_weights

    rows = api_rows(to_weights(synthetic), settings_for("bt", 0), None, tmp_path)
    for r in rows:
        assert r["wins"] + r["losses"] + r["ties"] == r["battles"]
    played = pd.concat([synthetic["model_a"], synthetic["model_b"]]).value_counts()
    assert {r["model"]: r["battles"] for r in rows} == played.to_dict()


@pytest.mark.parametrize("entry", ["api", "rate"])
def test_elo_refuses_a_fractional_count_in_one_line(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """Elo runs whole battles: a count of 2.5 cannot be expanded, so Elo refuses rather than answers."""
    frame = synthetic.assign(count=1.0)
    frame.loc[3, "count"] = 2.5
    with pytest.raises((RefusedError, DataError)) as info:
        ENTRY_POINTS[entry](frame, settings_for("elo", 0), None, tmp_path)
    text = str(info.value).strip()
    assert "count" in text and text.count("\n") == 0
    assert getattr(info.value, "code", 2) == 2  # bad input, not a crash


def test_browser_recomputes_an_imported_run_with_its_settings(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """``arena import`` records its rating settings in manifest.json; the browser rates with them (seed 3)."""
    import json

    from arena import browse as vd
    from tests.invariance.conftest import to_counts

    src = write_battles(to_counts(synthetic), tmp_path / "counts.jsonl")
    dest = tmp_path / "imported"
    code, out = cli(["import", "chatbot-arena", str(src), str(dest), "--bootstrap", "60", "--seed", "3"])
    assert code == 0, out
    want = json.loads((dest / "leaderboard.json").read_text(encoding="utf-8"))
    (dest / "leaderboard.json").unlink()
    data = vd.load_source(dest)
    rows, _, how = vd.leaderboard_rows(data)
    assert "60 bootstrap rounds" in how and "seed 3" in how, how
    assert_same_rows(rows.to_dict(orient="records"), want, label="viz/imported")


def _numeric_ids_with_gaps(synthetic: pd.DataFrame) -> pd.DataFrame:
    """The synthetic battles with whole-number question ids (``q7`` -> 7) and some rows without one; a row
    without an id sits at a row number that is also a given id (7), which must not merge it into question 7."""
    frame = synthetic.copy()
    ids: list[Any] = [int(q[1:]) for q in frame["question_id"]]
    for k in (3, 7, 40):
        ids[k] = None
    frame["question_id"] = pd.Series(ids, dtype=object)
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_whole_number_question_ids_with_gaps_read_the_same_in_every_format(
    suffix: str, synthetic: pd.DataFrame, tmp_path: Path
) -> None:
    """A column of whole numbers with gaps is read as floats by CSV, JSON lines and parquet readers alike; the ids
    are still ``"7"`` (not ``"7.0"``), as the rows give them to the API, and a row without an id is its own
    question, whatever its row number: same ids, same question-bootstrap numbers."""
    from arena.rating import validate_frame
    from arena.rating.read import read_battles

    frame = _numeric_ids_with_gaps(synthetic)
    path = tmp_path / f"b{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        write_battles(frame, path)
    got = read_battles(path)
    want = validate_frame(frame)
    assert got["question_id"].tolist() == want["question_id"].tolist()
    given = [str(q) for q in frame["question_id"] if q is not None]
    assert set(given) <= set(got["question_id"]) and "7.0" not in set(got["question_id"])
    assert got["question_id"].nunique() == len(set(given)) + 3  # three rows alone, none merged into a question
    settings = settings_for("bt", 50)
    assert_same_rows(compute_leaderboard(got, settings).rows, compute_leaderboard(want, settings).rows,
                     label=f"ids with gaps/{suffix}")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_battle_without_a_model_is_refused_in_one_line(suffix: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    frame = synthetic.copy()
    frame["model_b"] = frame["model_b"].astype(object)
    frame.loc[4, "model_b"] = None
    code, out = cli(["rate", str(write_battles(frame, tmp_path / f"b{suffix}")), "--bootstrap", "0"])
    assert code == 2 and f"b{suffix}: row 5: no model_b; every battle names both models" in out
    assert len(out.strip().splitlines()) == 1


def test_blank_question_ids_are_no_ids_in_rate_and_import_alike(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    """A JSON line's question id "" or "  " is no id (each such battle its own question), as an empty CSV cell
    is, and as the Chatbot Arena importer took it: blank ids shared one bootstrap cluster under arena rate."""
    from arena.interop import import_run
    from arena.rating.read import read_battles

    frame = synthetic.copy()
    frame.loc[frame.index[::7], "question_id"] = ""
    frame.loc[frame.index[3::11], "question_id"] = "  "
    path = write_battles(frame, tmp_path / "b.jsonl")
    got = read_battles(path)
    blank = frame["question_id"].str.strip() == ""
    assert got.loc[blank.to_numpy(), "question_id"].str.startswith("#").all()
    assert got["question_id"].nunique() == frame.loc[~blank, "question_id"].nunique() + int(blank.sum())
    settings = settings_for("bt", 50)
    imported = import_run("chatbot-arena", path, tmp_path / "run", bootstrap=50)
    assert all(b.question_id is None for b, k in zip(imported.imported.battles, blank, strict=True) if k)
    want = compute_leaderboard(got, settings).rows
    assert_same_rows(json.loads((tmp_path / "run" / "leaderboard.json").read_text()), want, label="blank ids")


@pytest.mark.parametrize(("n_models", "entry", "resample"),  # import and the browser resample questions
                         [(5, "api", "battle"), (5, "rate", "battle"), (40, "api", "battle"), (5, "api", "question"),
                          (5, "rate", "question"), (5, "import", "question"), (5, "viz", "question"),
                          (40, "api", "question")])
def test_rows_of_weight_or_count_zero_change_nothing(n_models: int, entry: str, resample: str, tmp_path: Path) -> None:
    """Rows that stand for no battle (weight 0, count 0) give the leaderboard of the file without them, intervals
    included: inside played pairs, as the only rows of the last pair in the cells' order (where a running sum of
    the cells' shares used to pass 1 before its end and crash the vectorised sampler, used from 512 cells on),
    and as the only rows of a model, which is then not rated."""
    rng = np.random.default_rng(n_models)
    names = [f"m{k:02d}" for k in range(n_models)]
    pairs = [(a, b) for k, a in enumerate(names) for b in names[k + 1:]]
    played = pd.DataFrame([{"question_id": f"q{(k + n) % 7}", "model_a": a, "model_b": b, "winner": w,
                            "count": int(rng.integers(1, 9))}
                           for k, (a, b) in enumerate(pairs[:-1]) for n, w in enumerate(("model_a", "model_b", "tie"))])
    played["weight"] = 1.0
    nothing = ((*pairs[-1], 3, 0.0), (*pairs[-1], 0, 1.0), (*pairs[0], 0, 2.0), ("m99", names[0], 2, 0.0))
    empty = pd.DataFrame([{"question_id": "q1", "model_a": a, "model_b": b, "winner": "model_a", "count": c,
                           "weight": w} for a, b, c, w in nothing])
    settings = settings_for("bt", 40, resample=resample)
    want = api_rows(played, settings, None, tmp_path)
    got = ENTRY_POINTS[entry](pd.concat([empty.iloc[:1], played, empty.iloc[1:]], ignore_index=True), settings, None,
                              tmp_path)
    assert_same_rows(got, want, label=f"zero rows/{n_models}/{entry}/{resample}")


@pytest.mark.parametrize("entry", ["api", "rate"])
@pytest.mark.parametrize("value", ["long", -5, float("inf")])
def test_a_style_value_that_is_not_a_count_is_refused_in_one_line(entry: str, value: Any, synthetic_style: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    """A length that is text, negative or infinite was read as no difference (text) or broke the features
    (``(x_a - x_b) / (x_a + x_b)`` of a negative length); it is refused, naming its row."""
    bad = synthetic_style.astype({"len_a": object})
    bad.loc[5, "len_a"] = value
    with pytest.raises((RefusedError, DataError)) as info:
        ENTRY_POINTS[entry](bad, settings_for("style", 0), None, tmp_path)
    assert "row 6: len_a" in str(info.value) and str(info.value).strip().count("\n") == 0


def test_empty_style_cells_are_missing_values(synthetic_style: pd.DataFrame) -> None:
    """An empty or blank style cell is an unknown value, as a null is: the same style-controlled leaderboard and
    coefficients either way, and not those of the cells' given lengths."""
    settings = settings_for("style", 30)
    nulls = synthetic_style.astype({"len_a": object})
    nulls.loc[[2, 7, 11], "len_a"] = None
    blanks = nulls.copy()
    blanks.loc[[2, 7, 11], "len_a"] = ["", "  ", ""]

    def style(frame: pd.DataFrame) -> dict[str, Any]:
        return compute_leaderboard(battles_frame(frame.to_dict(orient="records")), settings).extras["style"]

    assert style(blanks) == style(nulls)
    assert style(nulls)["coefficients"] != style(synthetic_style)["coefficients"]
