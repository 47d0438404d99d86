"""Chatbot Arena's own battle dumps (``clean_battle_*.json``): style features nested in ``conv_metadata``, the
``anony`` mark, and LMArena's one-hot winner columns, read the same through every entry point as the flat columns
they stand for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from arena.errors import DataError
from arena.rating import battles_frame, compute_leaderboard
from arena.rating.lmarena import METADATA_STYLE, _metadata_count, metadata_style
from tests.invariance.conftest import ENTRY_POINTS, RefusedError, api_rows, assert_same_rows, settings_for

KINDS = {"header": ("h1", "h2", "h3"), "list": ("ordered", "unordered"), "bold": ("**", "__")}


def _metadata(row: pd.Series, rng: np.random.Generator) -> dict[str, Any]:
    """FastChat's ``conv_metadata`` for a flat row: the length as a token count, each markdown count split at
    random over its kinds (``{"h1": 2, "h2": 1}``), as Chatbot Arena writes them."""
    meta: dict[str, Any] = {"sum_user_tokens": 12}
    for side in "ab":
        meta[f"sum_assistant_{side}_tokens"] = int(row[f"len_{side}"])
        for feature, kinds in KINDS.items():
            total = int(row[f"{feature}_{side}"])
            split = rng.multinomial(total, np.full(len(kinds), 1.0 / len(kinds)))
            meta[f"{feature}_count_{side}"] = {k: int(v) for k, v in zip(kinds, split, strict=True)}
    return meta


@pytest.fixture(scope="module")
def flat(synthetic_style: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    out = synthetic_style.copy()
    for feature in KINDS:
        for side in "ab":
            out[f"{feature}_{side}"] = rng.poisson(2.0, len(out))
    return out


def _dump(flat: pd.DataFrame) -> pd.DataFrame:
    """The flat battles as a Chatbot Arena dump: style columns folded into ``conv_metadata``."""
    rng = np.random.default_rng(5)
    style = [f"{f}_{s}" for f in ("len", *KINDS) for s in "ab"]
    dump = flat.drop(columns=style)
    dump["conv_metadata"] = [_metadata(row, rng) for _, row in flat.iterrows()]
    return dump


@pytest.mark.parametrize("entry", ["api", "rate"])
def test_style_features_nested_in_conv_metadata_rate_as_the_flat_columns(entry: str, flat: pd.DataFrame,
                                                                         tmp_path: Path) -> None:
    settings = settings_for("style", 60)
    want = api_rows(flat, settings, None, tmp_path)
    got = ENTRY_POINTS[entry](_dump(flat), settings, None, tmp_path)
    assert_same_rows(got, want, label=f"conv_metadata/{entry}")
    coefficients = compute_leaderboard(battles_frame(_dump(flat).to_dict(orient="records")), settings).extras["style"]
    assert coefficients["features"] == ["len", "header", "list", "bold"]


def test_conv_metadata_from_parquet_and_csv_reads_as_from_json(flat: pd.DataFrame, tmp_path: Path) -> None:
    from arena.rating.read import read_battles

    dump = _dump(flat)
    dump.to_parquet(tmp_path / "d.parquet")
    dump.to_csv(tmp_path / "repr.csv", index=False)  # pandas writes each dict as Python's repr
    dump.assign(conv_metadata=dump["conv_metadata"].map(json.dumps)).to_csv(tmp_path / "json.csv", index=False)
    (tmp_path / "d.json").write_text(dump.to_json(orient="records"), encoding="utf-8")
    want = read_battles(tmp_path / "d.json")
    for name in ("d.parquet", "repr.csv", "json.csv"):
        got = read_battles(tmp_path / name)
        for col in ("len_a", "len_b", "header_a", "header_b", "list_a", "list_b", "bold_a", "bold_b"):
            assert got[col].tolist() == want[col].tolist() == flat[col].astype(float).tolist(), (name, col)


@pytest.mark.parametrize("entry", ["api", "rate", "import", "viz"])
def test_votes_that_were_not_anonymous_are_dropped_with_a_note(entry: str, synthetic: pd.DataFrame,
                                                               tmp_path: Path) -> None:
    settings = settings_for("bt", 50)
    want = api_rows(synthetic, settings, None, tmp_path)
    named = synthetic.sample(frac=0.3, random_state=2).assign(winner="model_a")  # would move every rating
    mixed = pd.concat([synthetic.assign(anony=True), named.assign(anony=False)]).sample(frac=1.0, random_state=3)
    got = ENTRY_POINTS[entry](mixed.reset_index(drop=True), settings, None, tmp_path)
    assert_same_rows(got, want, label=f"anony/{entry}")
    result = compute_leaderboard(battles_frame(mixed.to_dict(orient="records")), settings)
    assert any(f"dropped {len(named)} votes that were not anonymous" in w for w in result.warnings)


@pytest.mark.parametrize(("column", "value", "message"), [
    ("anony", "maybe", "row 2: anony 'maybe' is not true or false"),
    ("conv_metadata", "tokens: 12", "row 2: conv_metadata 'tokens: 12' is not a mapping of answer statistics"),
    ("conv_metadata", "[1, 2]", "row 2: conv_metadata '[1, 2]' is not a mapping of answer statistics"),
    ("conv_metadata", "__import__('os')", "row 2: conv_metadata \"__import__('os')\" is not a mapping"),
    ("conv_metadata", {"header_count_a": {"h1": "two"}}, "row 2: conv_metadata.header_count_a {'h1': 'two'} is not a count"),
    ("conv_metadata", {"sum_assistant_a_tokens": -4}, "row 2: len_a -4.0 is not a count >= 0"),
])
def test_bad_chatbot_arena_fields_are_refused_in_one_line(column: str, value: Any, message: str) -> None:
    rows = [{"model_a": "x", "model_b": "y", "winner": "model_a", column: True if column == "anony" else {}},
            {"model_a": "x", "model_b": "y", "winner": "tie", column: value}]
    with pytest.raises(DataError) as info:
        battles_frame(rows)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_metadata_is_a_missing_style_value() -> None:
    rows = [{"model_a": "x", "model_b": "y", "winner": "model_a", "conv_metadata": None},
            {"model_a": "x", "model_b": "y", "winner": "tie",
             "conv_metadata": {"sum_assistant_a_tokens": 5, "sum_assistant_b_tokens": 9,
                               "header_count_a": {"h1": 1, "h2": None}}}]
    frame = battles_frame(rows)
    assert np.isnan(frame["len_a"].iloc[0]) and frame["len_a"].iloc[1] == 5 and frame["header_a"].iloc[1] == 1
    assert np.isnan(frame["header_b"].iloc[1])


@pytest.mark.parametrize("metas", [
    [{"sum_assistant_a_tokens": 5, "header_count_a": {"h1": 2, "h2": 1}}, None, float("nan"),
     {"sum_assistant_b_tokens": 7.5, "list_count_b": {}, "bold_count_a": None}],
    [{"sum_assistant_a_tokens": 3, "header_count_a": {"h1": 1, "h2": None}}],  # None among a kind's counts: 0
    [{key: k for k, key in enumerate(METADATA_STYLE.values())} for _ in range(3)],
], ids=["mixed", "none-in-kinds", "every-key"])
def test_metadata_read_in_one_pass_as_row_by_row(metas: list[Any]) -> None:
    """The one-pass reading of ``conv_metadata`` gives the row-by-row reading's columns (or hands over to it)."""
    column = pd.Series(metas, dtype=object)
    fast = metadata_style(column, "x")
    slow = {col: [np.nan if m is None or isinstance(m, float) else _metadata_count(m.get(key)) for m in metas]
            for col, key in METADATA_STYLE.items()}
    for col in METADATA_STYLE:
        assert np.array_equal(fast[col].to_numpy(dtype=float), np.array(slow[col], dtype=float), equal_nan=True), col


@pytest.mark.parametrize("count", [True, {"h1": True}, "3", {"h1": "2"}])
def test_a_count_that_is_not_a_number_is_refused_however_many_rows(count: Any) -> None:
    """A boolean or text count is refused in a table of any size (the one-pass reading does not sum it)."""
    metas = [{"header_count_a": 1}] * 50 + [{"header_count_a": count}]
    with pytest.raises(DataError, match="row 51: conv_metadata.header_count_a"):
        metadata_style(pd.Series(metas, dtype=object), "x")


def test_given_style_columns_win_over_conv_metadata(flat: pd.DataFrame) -> None:
    dump = _dump(flat)
    both = dump.assign(**{c: flat[c] for c in ("len_a", "len_b")})
    frame = battles_frame(both.to_dict(orient="records"))
    assert frame["len_a"].tolist() == flat["len_a"].astype(float).tolist() and "header_a" not in frame.columns


def test_refusals_name_the_file(tmp_path: Path) -> None:
    from arena.rating.read import read_battles

    path = tmp_path / "b.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "tie", "anony": "no"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"b.jsonl: row 1: anony 'no' is not true or false"):
        read_battles(path)
    with pytest.raises(RefusedError):
        ENTRY_POINTS["rate"](pd.DataFrame([{"model_a": "x", "model_b": "y", "winner": "tie", "anony": "no"}]),
                             settings_for("bt", 0), None, tmp_path)


def _one_hot(frame: pd.DataFrame) -> pd.DataFrame:
    """The winner as LMArena's Kaggle/Hugging Face preference data writes it: one 0/1 column per outcome."""
    out = frame.drop(columns=["winner"])
    for col, label in (("winner_model_a", "model_a"), ("winner_model_b", "model_b"), ("winner_tie", "tie")):
        out[col] = (frame["winner"] == label).astype(int)
    return out


@pytest.mark.parametrize("entry", ["api", "rate", "rate-csv", "import", "viz"])
def test_one_hot_winner_columns_rate_as_the_winner_column(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    battles = synthetic[synthetic["winner"] != "tie (bothbad)"].reset_index(drop=True)
    settings = settings_for("bt", 50)
    want = api_rows(battles, settings, None, tmp_path)
    got = ENTRY_POINTS[entry](_one_hot(battles), settings, None, tmp_path)
    assert_same_rows(got, want, label=f"one-hot/{entry}")


@pytest.mark.parametrize("values", [(1, 1, 0), (0, 0, 0), (1, 0, "x"), (0.5, 0.5, 0)])
def test_one_hot_rows_that_are_not_one_outcome_are_refused(values: tuple[Any, Any, Any]) -> None:
    rows = [{"model_a": "x", "model_b": "y", "winner_model_a": 0, "winner_model_b": 1, "winner_tie": 0},
            {"model_a": "x", "model_b": "y", **dict(zip(("winner_model_a", "winner_model_b", "winner_tie"), values,
                                                       strict=True))}]
    with pytest.raises(DataError, match=r"row 2: winner_model_a .*: exactly one of them must be 1"):
        battles_frame(rows)


def test_a_winner_column_wins_over_one_hot_columns(synthetic: pd.DataFrame) -> None:
    both = _one_hot(synthetic).assign(winner=synthetic["winner"], winner_tie=7)  # the winner column is read
    assert battles_frame(both.to_dict(orient="records"))["winner"].tolist() == synthetic["winner"].tolist()


def _timed(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The battles as a timestamped log (one vote a second, in frame order), its rows then shuffled."""
    return frame.assign(tstamp=1.7e9 + np.arange(len(frame))).sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("entry", ["api", "rate", "rate-csv", "viz"])
def test_a_timed_log_gives_the_same_elo_in_any_row_order(entry: str, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("elo", 40)
    want = api_rows(synthetic, settings, None, tmp_path)  # file order = time order
    assert want != api_rows(synthetic.sample(frac=1.0, random_state=1), settings, None, tmp_path)  # order matters
    if entry == "viz":  # the browser rates a bare file with arena rate's defaults (bt): Elo through its settings
        from arena import browse as vd
        from arena.records import Manifest
        from tests.invariance.conftest import write_battles

        data = vd.load_source(write_battles(_timed(synthetic, 2), tmp_path / "log.jsonl"))
        data.manifest = Manifest(rating=settings.model_dump())
        got = vd.leaderboard_rows(data, bootstrap=settings.bootstrap)[0].to_dict(orient="records")
    else:
        got = ENTRY_POINTS[entry](_timed(synthetic, 2), settings, None, tmp_path)
    assert_same_rows(got, want, label=f"elo-time/{entry}")


def test_time_order_is_noted_and_dates_read_as_times(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("elo", 0)
    log = _timed(synthetic, 3)
    result = compute_leaderboard(battles_frame(log.to_dict(orient="records")), settings)
    assert any("battles run in the order of their tstamp" in w for w in result.warnings)
    dated = log.assign(tstamp=pd.to_datetime(log["tstamp"], unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    assert compute_leaderboard(battles_frame(dated.to_dict(orient="records")), settings).rows == result.rows


def test_a_log_missing_a_time_runs_in_file_order_with_a_note(synthetic: pd.DataFrame, tmp_path: Path) -> None:
    settings = settings_for("elo", 0)
    log = _timed(synthetic, 4)
    log.loc[5, "tstamp"] = None
    result = compute_leaderboard(battles_frame(log.to_dict(orient="records")), settings)
    assert result.rows == compute_leaderboard(battles_frame(log.drop(columns="tstamp").to_dict(orient="records")),
                                              settings).rows
    assert any("1 of" in w and "no usable tstamp, so battles run in file order" in w for w in result.warnings)
    with pytest.raises(DataError, match=r"elo.order time .* 1 of \d+ rows have none; give every row a time"):
        compute_leaderboard(battles_frame(log.to_dict(orient="records")), settings_for("elo", 0, elo_order="time"))
    code, text = ENTRY_POINTS["rate"].__globals__["cli"](["rate", str(_write(log.drop(columns="tstamp"), tmp_path)),
                                                          "--method", "elo", "--elo-order", "time"])
    assert code == 2 and "there is no tstamp column" in text and text.strip().count("\n") == 0


def _write(frame: pd.DataFrame, tmp_path: Path) -> Path:
    from tests.invariance.conftest import write_battles

    return write_battles(frame, tmp_path / "b.jsonl")


@pytest.mark.parametrize("ids", [True, False])
def test_an_imported_timed_log_rates_as_the_log(ids: bool, synthetic: pd.DataFrame, tmp_path: Path) -> None:
    import json

    from tests.invariance.conftest import cli

    log = _timed(synthetic if ids else synthetic.drop(columns="question_id"), 5)
    src = _write(log, tmp_path)
    code, text = cli(["import", "chatbot-arena", str(src), str(tmp_path / "run"), "--bootstrap", "30"])
    assert code == 0, text
    for args in (["--bootstrap", "30"], ["--method", "elo", "--bootstrap", "30"]):
        rows = []
        for path in (src, tmp_path / "run" / "battles.jsonl"):
            out = tmp_path / "out.json"
            code, text = cli(["rate", str(path), "--format", "json", "--out", str(out), *args])
            assert code == 0, text
            rows.append(json.loads(out.read_text(encoding="utf-8")))
        assert_same_rows(rows[1], rows[0], label=f"import {args}")
        if "elo" not in args:  # the import's own leaderboard (Bradley-Terry) is arena rate's on the log
            written = json.loads((tmp_path / "run" / "leaderboard.json").read_text(encoding="utf-8"))
            assert_same_rows(written, rows[0], label="import leaderboard")
