"""The fast (pyarrow) CSV/TSV reader and the fast checks of validate_frame give exactly the frames of the
reference path (pandas' own reader, the per-row validation), or step aside for it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from arena.errors import DataError
from arena.rating.frame import validate_frame
from arena.rating.read import read_battles
from arena.tables import _read_csv_arrow, apply_mapping, read_table

pytest.importorskip("pyarrow")

HEAD = "question_id,model_a,model_b,winner"
# name -> (file text, whether the pyarrow reader takes it)
CSV_CASES: dict[str, tuple[str, bool]] = {
    "whole-number question ids": (f"{HEAD}\n1,a,b,model_a\n2,b,c,tie\n3,c,a,model_b\n", True),
    "text question ids": (f"{HEAD}\n58e1f0,a,b,model_a\nq2,b,c,tie (bothbad)\nq3,c,a,model_b\n", True),
    "question ids with gaps": (f"{HEAD}\n1,a,b,model_a\n,b,c,tie\n3,c,a,model_b\n", True),
    "question ids all missing": (f"{HEAD}\n,a,b,model_a\n,b,c,tie\n", True),
    "no question_id column": ("model_a,model_b,winner\na,b,model_a\nb,c,tie\n", True),
    "leading zeros and minus signs": (f"{HEAD}\n007,a,b,model_a\n-8,b,c,tie\n-0,c,a,model_b\n", True),
    "a plus sign": (f"{HEAD}\n1,a,b,model_a\n+8,b,c,tie\n", False),
    "a model named by a number": (f"{HEAD}\n1,7,b,model_a\n2,b,c,tie\n", False),
    "numeric-looking text among text": (f"{HEAD}\nq1,a,b,model_a\n1e3,b,c,tie\n", False),
    "spaces around numbers": (f"{HEAD}\n 1,a,b,model_a\n2 ,b,c,tie\n", True),
    "winner with spaces and self-pair": (f"{HEAD}\n1,a,b, model_a \n2,b,b,tie\n3,c,a,model_b\n", True),
    "missing-value markers in text": (f"{HEAD}\n1,NA,b,model_a\n2,None,c,<NA>\n3,c,n/a,model_b\n", False),
    "booleans": (f"{HEAD},flag\n1,a,b,model_a,True\n2,b,c,tie,false\n", True),
    "booleans with gaps": (f"{HEAD},flag\n1,a,b,model_a,True\n2,b,c,tie,\n", False),
    "an empty column": (f"{HEAD},note\n1,a,b,model_a,\n2,b,c,tie,\n", True),
    "fractional weights": (f"{HEAD},weight\n1,a,b,model_a,0.1\n2,b,c,tie,3\n", False),
    "whole-number weights and turn": (f"{HEAD},weight,turn,count\n1,a,b,model_a,3,1,2\n2,b,c,tie,1,2,\n", True),
    "large whole numbers with gaps": (f"{HEAD},n\n1,a,b,model_a,9007199254740993\n2,b,c,tie,\n", False),
    "large whole numbers": (f"{HEAD},n\n1,a,b,model_a,9007199254740993\n2,b,c,tie,-9007199254740993\n", True),
    "dates": (f"{HEAD},when\n1,a,b,model_a,2024-05-01\n2,b,c,tie,2024-05-02\n", False),
    "text with gaps (extra column)": (f"{HEAD},judge\n1,a,b,model_a,gpt-4\n2,b,c,tie,\n", False),
    "quoted commas, quotes and line breaks": (
        f'{HEAD},note\n1,"a, the first",b,model_a,"say ""hi""\nthen go"\n2,b,c,tie,"x\r\ny"\n', True
    ),
    "CRLF lines and a blank line": (f"{HEAD}\r\n1,a,b,model_a\r\n\r\n2,b,c,tie\r\n", True),
    "byte order mark": (f"\ufeff{HEAD}\n1,a,b,model_a\n", True),
    "no final newline": (f"{HEAD}\n1,a,b,model_a\n2,b,c,tie", True),
    "duplicate header names": ("model_a,model_b,winner,x,x\na,b,tie,p,q\n", False),
    "an empty header name": ("model_a,model_b,winner,\na,b,tie,p\n", False),
    "header only": (f"{HEAD}\n", False),
    "a short row": (f"{HEAD}\n1,a,b,model_a\n2,b,c\n", False),
    "a long row": (f"{HEAD}\n1,a,b,model_a\n2,b,c,tie,extra\n", False),
    "unicode names": (f"{HEAD}\n1,模型-α,b,model_a\n2,b,ünï,tie\n", True),
    "CR-only lines": (f"{HEAD}\r1,a,b,model_a\r2,b,c,tie\r", True),
    "a quote inside an unquoted value": (f'{HEAD}\n1,a"x,b,model_a\n2,b,c,tie\n', True),
    "a quoted missing-value marker": (f'{HEAD}\n1,"NA",b,model_a\n2,b,c,tie\n', False),
    "whitespace-only text": (f"{HEAD}\n1, ,b,model_a\n2,b,c,tie\n", True),
}


def _write(tmp_path: Path, case: str, suffix: str = ".csv") -> Path:
    text, _ = CSV_CASES[case]
    path = tmp_path / f"battles{suffix}"
    path.write_bytes((text.replace(",", "\t") if suffix == ".tsv" else text).encode("utf-8"))
    return path


def _reference(path: Path, **mapping) -> pd.DataFrame:
    """read_battles as it was before the fast paths: pandas' reader (its errors as arena words them), then
    the mapping and the validation."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("arena.tables._read_csv_arrow", lambda path, sep, text=(): None)
        frame = read_table(path)
    return validate_frame(apply_mapping(frame, mapping.get("columns", {}), mapping.get("labels", {}), str(path)),
                          where=str(path))


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_dtype=True, check_exact=True)
    assert [repr(d) for d in got.dtypes] == [repr(d) for d in want.dtypes]
    assert got.attrs == want.attrs


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_reads_as_pandas_reads_it(tmp_path, case):
    """read_table's frame is pd.read_csv's, value for value and dtype for dtype; the fast path is taken where
    it can prove that, and steps aside elsewhere."""
    path = _write(tmp_path, case)
    try:
        want = pd.read_csv(path, encoding="utf-8-sig")
    except Exception:  # pandas refuses the file: the reader must refuse it too
        assert _read_csv_arrow(path, ",") is None
        with pytest.raises(DataError):
            read_table(path)
        return
    _same(read_table(path), want)
    assert (_read_csv_arrow(path, ",") is not None) == CSV_CASES[case][1]


@pytest.mark.parametrize("case", [c for c, (_, fast) in CSV_CASES.items() if fast])
def test_tsv_takes_the_same_path(tmp_path, case):
    path = _write(tmp_path, case, ".tsv")
    _same(read_table(path), pd.read_csv(path, sep="\t", encoding="utf-8-sig"))
    assert _read_csv_arrow(path, "\t") is not None


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_read_battles_gives_the_reference_frame_or_error(tmp_path, case):
    path = _write(tmp_path, case)
    try:
        want = _reference(path)
    except Exception as exc:  # the same error, word for word
        with pytest.raises(type(exc)) as info:
            read_battles(path)
        assert str(info.value) == str(exc)
        return
    _same(read_battles(path), want)


def test_mapping_on_the_fast_path_gives_the_reference_frame(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("qid,left,right,verdict,extra\n1,a,b,A\n2,b,c, draw \n3,c,a,B\n4,c,c,A\n".replace(
        "A\n", "A,x\n").replace("B\n", "B,y\n").replace(" draw \n", " draw ,z\n"))
    columns = {"question_id": "qid", "model_a": "left", "model_b": "right", "winner": "verdict"}
    labels = {"A": "model_a", "B": "model_b", "draw": "tie"}
    assert _read_csv_arrow(path, ",") is not None
    _same(read_battles(path, columns=columns, winner_labels=labels),
          _reference(path, columns=columns, labels=labels))
    with pytest.raises(DataError, match=r"row 1: unknown winner 'A'"):
        read_battles(path, columns=columns)


def test_big_file_takes_the_fast_path_and_matches(tmp_path):
    """Enough rows for pandas to type the file in several chunks and pyarrow to read it in several blocks."""
    rows = 600_000
    ids = pd.RangeIndex(rows)
    frame = pd.DataFrame({
        "question_id": ids,
        "model_a": "m" + (ids % 7).astype(str),
        "model_b": "m" + ((ids + 1) % 7).astype(str),
        "winner": pd.Series(["model_a", "model_b", "tie", "tie (bothbad)"])[ids % 4].to_numpy(),
        "note": pd.Series(['say "x"\nok', "plain, comma", "z"])[ids % 3].to_numpy(),
    })
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    assert _read_csv_arrow(path, ",") is not None
    _same(read_table(path), pd.read_csv(path))
    _same(read_battles(path), _reference(path))


FRAMES = {
    "all labels ours, defaults absent": {"model_a": ["a", "b"], "model_b": ["b", "c"], "winner": ["model_a", "tie"]},
    "labels with spaces": {"model_a": ["a", "b"], "model_b": ["b", "c"], "winner": [" model_a", "tie (bothbad) "]},
    "an unknown label": {"model_a": ["a", "b"], "model_b": ["b", "c"], "winner": ["model_a", "Tie"]},
    "a missing label": {"model_a": ["a", "b"], "model_b": ["b", "c"], "winner": ["model_a", None]},
    "defaults given with gaps": {"model_a": ["a", "b"], "model_b": ["b", "b"], "winner": ["model_b", "tie"],
                                 "judge": ["j", None], "turn": [2, None], "category": [None, "x"],
                                 "weight": [0.5, None], "count": [None, 2], "question_id": [7, None]},
    "a negative weight": {"model_a": ["a", "b"], "model_b": ["b", "c"], "winner": ["tie", "tie"], "weight": [1, -1]},
}


def _reference_validate(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """validate_frame with its shortcuts turned off: pandas' strip and isin on every winner, pandas' own
    constant columns."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("arena.rating.frame._all_labels", lambda winner: False)
        patch.setattr("arena.rating.frame._constant", lambda value, index: value)
        return validate_frame(frame, where=where)


@pytest.mark.parametrize("dtype", [None, object])
@pytest.mark.parametrize("case", list(FRAMES))
def test_validate_shortcuts_change_nothing(case, dtype):
    frame = pd.DataFrame(FRAMES[case])
    if dtype is object:
        frame = frame.astype(object)
    try:
        want = _reference_validate(frame, "f.csv")
    except DataError as exc:
        with pytest.raises(DataError) as info:
            validate_frame(frame, where="f.csv")
        assert str(info.value) == str(exc)
        return
    _same(validate_frame(frame, where="f.csv"), want)


def test_the_label_shortcut_is_taken_on_text_columns():
    from arena.rating.frame import _all_labels

    assert _all_labels(pd.Series(["model_a", "tie", "tie (bothbad)", "model_b"], dtype="str")) is (
        pd.Series(["x"], dtype="str").array.__class__.__name__ == "ArrowStringArray")
    assert not _all_labels(pd.Series(["model_a", " tie"], dtype="str"))
    assert not _all_labels(pd.Series(["model_a", None], dtype="str"))
    assert not _all_labels(pd.Series(["model_a", "tie"], dtype=object))


@pytest.mark.parametrize("case", list(FRAMES))
def test_parquet_battles_read_as_the_reference_path_reads_them(tmp_path, case):
    path = tmp_path / "b.parquet"
    pd.DataFrame(FRAMES[case]).to_parquet(path)
    try:
        want = _reference_validate(pd.read_parquet(path), str(path))
    except DataError as exc:
        with pytest.raises(DataError) as info:
            read_battles(path)
        assert str(info.value) == str(exc)
        return
    _same(read_battles(path), want)


TEXT_CASES = {  # name -> (file text, whether the battle reader's fast path takes it)
    "whole-number ids and model names": (f"{HEAD}\n1,7,b,model_a\n2,b,-3,tie\n0,c,a,model_b\n", True),
    "ids with a leading zero": (f"{HEAD}\n007,a,b,model_a\n8,b,c,tie\n", False),
    "ids too long for int64": (f"{HEAD}\n12345678901234567890,a,b,model_a\n8,b,c,tie\n", False),
    "ids mixing text and whole numbers": (f"{HEAD}\nq1,a,b,model_a\n8,b,c,tie\n-2,c,a,tie\n", True),
    "ids mixing text and fractions": (f"{HEAD}\nq1,a,b,model_a\n8.0,b,c,tie\n", False),
    "a model named 1e3": (f"{HEAD}\n1,1e3,b,model_a\n2,b,c,tie\n", False),
    "an unknown label": (f"{HEAD}\n1,a,b,Tie\n", True),
    "a number as label": (f"{HEAD}\n1,a,b,1\n", True),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_text_columns_read_as_validation_prints_them(tmp_path, case):
    """Columns validation takes as text may be read as text: the battles are the reference path's, the
    errors its errors, word for word."""
    from arena.rating.read import _text_sources

    text, fast = TEXT_CASES[case]
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    assert (_read_csv_arrow(path, ",", _text_sources({})) is not None) == fast
    try:
        want = _reference(path)
    except DataError as exc:
        with pytest.raises(DataError) as info:
            read_battles(path)
        assert str(info.value) == str(exc)
        return
    _same(read_battles(path), want)


@pytest.mark.parametrize(("columns", "text"), [
    ({"model_a": "model_b", "model_b": "model_a"}, "question_id model_a model_b winner category"),
    ({"judge": "question_id"}, "model_a model_b winner category"),  # the ids become the judge: as read
    ({"question_id": "turn"}, "turn model_a model_b winner category"),
    ({"judge": "model_a", "model_a": "note"}, "note question_id model_b winner category"),
    ({"category": "note", "question_id": "note"}, "note model_a model_b winner"),
])
def test_mapped_columns_read_as_the_reference_path_reads_them(tmp_path, columns, text):
    """Only a file column that ends up as text columns alone is read as text."""
    from arena.rating.read import _text_sources

    path = tmp_path / "b.csv"
    path.write_text("question_id,model_a,model_b,winner,turn,note\n1,a,b,model_a,1,7\n2,b,c,tie,2,x\n"
                    "3,c,a,model_b,1,8\n", encoding="utf-8")
    assert _text_sources(columns) == set(text.split())
    _same(read_battles(path, columns=columns), _reference(path, columns=columns))


TOKENS = ["a", "b", "gpt-4", "7", "-3", "007", "0", "1.5", "1e3", "inf", "NaN", "NA", "None", "", " ", " x",
          "True", "false", "t", "model_a", "model_b", "tie", "tie (bothbad)", " tie ", '"q,1"', '"two\nlines"',
          "12345678901234567890", "+4", "2024-05-01", "nan", "fa", "in"]


POOLS = {  # the usual values of each column; TOKENS are the tricky ones
    "question_id": ["1", "2", "17", "0"], "model_a": ["a", "b", "gpt-4", "7"], "model_b": ["a", "b", "c"],
    "winner": ["model_a", "model_b", "tie", "tie (bothbad)"], "judge": ["j1", "gpt-4"], "turn": ["1", "2"],
    "category": ["math", "x y"], "weight": ["1", "3", "0"], "extra": ["p", "q r"],
}


def _random_csv(seed: int) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    tricky = float(rng.choice([0.0, 0.05, 0.3]))
    cols = [c for c in POOLS if c in ("model_a", "model_b", "winner") or rng.random() < 0.5]
    lines = [",".join(cols)]
    for _ in range(int(rng.integers(1, 8))):
        lines.append(",".join(str(rng.choice(TOKENS if rng.random() < tricky else POOLS[c])) for c in cols))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(60))
def test_random_files_read_as_the_reference_path_reads_them(tmp_path, seed):
    """Seeded random CSV files drawn from tricky values (numbers, markers, words, quotes): the table is
    pd.read_csv's and the battles the reference path's (or the same error), whichever path reads them."""
    path = tmp_path / "r.csv"
    path.write_text(_random_csv(seed), encoding="utf-8")
    try:
        want_table = pd.read_csv(path, encoding="utf-8-sig")
    except Exception:
        with pytest.raises(DataError):
            read_table(path)
        return
    _same(read_table(path), want_table)
    try:
        want = _reference(path)
    except DataError as exc:
        with pytest.raises(DataError) as info:
            read_battles(path)
        assert str(info.value) == str(exc)
        return
    _same(read_battles(path), want)


def test_random_files_exercise_both_paths(tmp_path):
    from arena.rating.read import _text_sources

    taken = []
    for seed in range(60):
        path = tmp_path / f"r{seed}.csv"
        path.write_text(_random_csv(seed), encoding="utf-8")
        taken.append(_read_csv_arrow(path, ",", _text_sources({})) is not None)
    assert 15 <= sum(taken) <= 45, sum(taken)
