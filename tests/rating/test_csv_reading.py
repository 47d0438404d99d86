"""A CSV or TSV file reads to the same frame whichever reader takes it: pyarrow's one read where it can
(:func:`arena.csv_table._read_csv_arrow`) or pandas' read with the text columns read again as written
(:func:`arena.csv_table._read_csv` then ``_text_as_written``). Differential: random small files from a vocabulary of
the cells that read differently (names pandas takes for missing, numbers that are names, huge integers, dates,
booleans with gaps, quoted newlines, a byte-order mark, CRLF), each read both ways."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from arena.csv_table import _NA_TEXT, _read_csv, _read_csv_arrow, _text_as_written
from arena.rating.read import read_battles
from arena.tables import NAME_COLUMNS, TEXT_COLUMNS, read_table

NAMES = ["a", "b", "007", "1.10", "NA", "None", "null", "nan", "", "n/a", "#N/A", "True", "x y", '"q,1"',
         '"two\nlines"']
WINNERS = ["model_a", "model_b", "tie", "tie (bothbad)", "NA", "", "null", " model_a"]
OTHER = {
    "weight": ["1", "1.0", "0.5", "2", "", "NA", "+3", "1e3", "nan", "inf"],
    "count": ["1", "2", "10", "", "99999999999999999999", "3.0", " 2", "2 ", "-0", "00", "-5", "1_000", "0x10",
              "9223372036854775808", "1.5e300", "-inf", "NaN", "-nan"],
    "turn": ["1", "2", "", "one"],
    "tstamp": ["1700000000.5", "1700000001", "2024-01-01", "2024-01-01T10:00:00", ""],
    "anony": ["True", "False", "true", "1", "0", ""],
    "note": ["free text", "", "NA", "3"],
}


PLAIN = {"weight": ["1", "1.0", "0.5", "2", "0.25"], "count": ["1", "2", "10", "0"], "turn": ["1", "2"],
         "tstamp": ["1700000000.5", "1700000001"], "anony": ["True", "False"], "note": ["free text", "3"]}
"""Number columns as most files hold them, so that the one read takes many of the files (about a third)."""


def _file(rng: random.Random) -> str:
    plain = rng.random() < 0.5
    other = PLAIN if plain else OTHER
    names = [n for n in NAMES if "x" not in n and n not in _NA_TEXT] if plain else NAMES
    columns = ["model_a", "model_b", "winner", *rng.sample(["question_id", "judge", "category", *OTHER], 3)]
    sep = rng.choice([",", "\t"])
    rows = []
    for _ in range(rng.randint(1, 6)):
        cells = []
        for column in columns:
            if column in other:
                cells.append(rng.choice(other[column]))
            elif column == "winner":
                cells.append(rng.choice(WINNERS))
            else:
                cells.append(rng.choice(names[:-2] if sep == "\t" else names))
        rows.append(sep.join(cells))
    newline = rng.choice(["\n", "\r\n"])
    return rng.choice(["", "\ufeff"]) + newline.join([sep.join(columns), *rows]) + newline


def _pandas_reading(path: Path) -> pd.DataFrame:
    sep = "\t" if path.suffix == ".tsv" else ","
    return _text_as_written(_read_csv(path, sep), path, sep, set(TEXT_COLUMNS), set(NAME_COLUMNS))


@pytest.mark.parametrize("seed", range(300))
def test_pyarrow_reads_a_csv_as_pandas_does(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    text = _file(rng)
    path = tmp_path / ("b.tsv" if "\t" in text.splitlines()[0] else "b.csv")
    path.write_bytes(text.encode("utf-8"))
    fast = _read_csv_arrow(path, "\t" if path.suffix == ".tsv" else ",", set(TEXT_COLUMNS), set(NAME_COLUMNS))
    try:
        slow = _pandas_reading(path)
    except Exception as exc:  # the pandas reading refuses it: so must the one read (it hands over)
        assert fast is None, f"pyarrow read what pandas refuses ({exc})"
        return
    if fast is not None:
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    pd.testing.assert_frame_equal(read_table(path), slow, check_exact=True)


def test_the_one_read_takes_a_plain_battle_file(tmp_path: Path) -> None:
    """The common file (numeric question ids, names, winners, weights, counts, turns) is read by pyarrow: the
    differential test above then checks the path that runs, not only the hand-over."""
    path = tmp_path / "b.csv"
    path.write_text("question_id,model_a,model_b,winner,weight,count,turn\n"
                    "81,1.10,b,model_a,0.5,2,1\n82,007,a,tie,1.0,1,2\n83,a,b,NA,1,NA,1\n")
    fast = _read_csv_arrow(path, ",", set(TEXT_COLUMNS), set(NAME_COLUMNS))
    assert fast is not None
    assert fast["question_id"].tolist() == ["81", "82", "83"] and fast["model_a"].tolist()[:2] == ["1.10", "007"]
    assert fast["winner"].isna().tolist() == [False, False, True] and fast["count"].isna().tolist()[2]
    path.write_text(path.read_text().replace("a,b,NA,1,NA", "a,b,tie,1,1"))
    battles = read_battles(path)
    assert sorted(set(battles["model_a"]) | set(battles["model_b"])) == ["007", "1.10", "a", "b"]


def test_names_pandas_reads_as_missing_are_read_again_as_written(tmp_path: Path) -> None:
    """A model named NA and an empty category: pyarrow reads both as missing, so those columns are read again as the
    file's text, where only the empty cell is missing; the frame is the pandas reading's."""
    path = tmp_path / "b.csv"
    path.write_text("model_a,model_b,winner,category,turn\nNA,b,model_a,,1\nb,NA,NA,code,2\n")
    fast = _read_csv_arrow(path, ",", set(TEXT_COLUMNS), set(NAME_COLUMNS))
    assert fast is not None
    assert fast["model_a"].tolist() == ["NA", "b"] and fast["model_b"].tolist() == ["b", "NA"]
    assert fast["category"].isna().tolist() == [True, False] and fast["winner"].isna().tolist() == [False, True]
    pd.testing.assert_frame_equal(fast, _pandas_reading(path), check_exact=True)
