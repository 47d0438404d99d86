"""arena.tables: the one table reader (formats by suffix, content sniffing, column and label mapping).

Kept under tests/rating/ because rating owns it for now; it mirrors arena/tables.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from arena.cli import main
from arena.cli.rate import command
from arena.errors import DataError, UserError
from arena.rating.read import read_battles
from arena.tables import apply_mapping, parse_mapping, read_table

ROWS = [
    {"question_id": "q1", "model_a": "a", "model_b": "b", "winner": "model_a"},
    {"question_id": "q1", "model_a": "b", "model_b": "c", "winner": "tie"},
    {"question_id": "q2", "model_a": "c", "model_b": "a", "winner": "model_b"},
]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (None, {}),
        ("", {}),
        ("model_a=left", {"model_a": "left"}),
        ("model_a=left, model_b = right,", {"model_a": "left", "model_b": "right"}),
        ("tie (bothbad)=both bad", {"tie (bothbad)": "both bad"}),
        ("a=b=c", {"a": "b=c"}),
    ],
)
def test_parse_mapping(text, want):
    assert parse_mapping(text, "--map") == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_a", "--map 'model_a': expected NAME=VALUE"),
        ("=left", "--map '=left': expected NAME=VALUE"),
        ("model_a=", "expected NAME=VALUE"),
        ("model_a=x,model_a=y", "--map: 'model_a' is given twice"),
    ],
)
def test_parse_mapping_errors_name_the_option(text, message):
    with pytest.raises(UserError) as info:
        parse_mapping(text, "--map")
    assert message in str(info.value) and "\n" not in str(info.value)


def _write(path: Path, kind: str) -> Path:
    frame = pd.DataFrame(ROWS)
    if kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif kind == "json":
        path.write_text(json.dumps(ROWS, indent=1))
    elif kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif kind == "parquet":
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize(
    ("name", "kind"),
    [("b.jsonl", "jsonl"), ("b.ndjson", "jsonl"), ("b.json", "json"), ("b.jsonl", "json"), ("b.json", "jsonl"),
     ("b.csv", "csv"), ("b.tsv", "tsv"), ("b.parquet", "parquet")],
)
def test_read_table_formats_keep_file_order(tmp_path, name, kind):
    if kind == "parquet":
        pytest.importorskip("pyarrow")
    frame = read_table(_write(tmp_path / name, kind))
    assert frame[["question_id", "model_a", "model_b", "winner"]].to_dict(orient="records") == ROWS


@pytest.mark.parametrize(("name", "kind"), [("b.jsonl", "jsonl"), ("b.json", "json"), ("b.csv", "csv"), ("b.tsv", "tsv")])
def test_a_byte_order_mark_reads_as_without_it(tmp_path, name, kind):
    """Text files saved with a UTF-8 byte-order mark (as some Windows editors save them) read as they do without
    one, in every text format (JSON lines used to refuse its first line)."""
    path = _write(tmp_path / name, kind)
    plain = read_table(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    pd.testing.assert_frame_equal(read_table(path), plain)


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("b.json", "csv", "looks like CSV, not JSON; rename it to b.csv"),
        ("b.jsonl", "tsv", "looks like TSV, not JSON; rename it to b.tsv"),
        ("b.csv", "jsonl", "looks like JSON, not CSV; rename it to b.jsonl"),
        ("b.csv", "json", "looks like JSON, not CSV"),
        ("b.json", "parquet", "looks like parquet, not JSON; rename it to b.parquet"),
        ("b.parquet", "csv", "looks like CSV, not parquet"),
    ],
)
def test_wrong_suffix_is_named_in_one_line(tmp_path, name, kind, message):
    if kind == "parquet":
        pytest.importorskip("pyarrow")
    with pytest.raises(DataError) as info:
        read_table(_write(tmp_path / name, kind))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("b.jsonl", '{"a": 1}\n{"a": \n{"a": 2}\n', DataError, "b.jsonl:2: not valid JSON"),
        ("b.json", '[{"a": 1},\n {"a": }]', DataError, "b.json:2: not valid JSON"),
        ("b.json", "[1, 2]", DataError, "element 1 of the JSON array is int"),
        ("b.csv", "", DataError, "empty file"),
        ("b.txt", "model_a,model_b\n", UserError, "unknown table format '.txt'"),
        ("missing.jsonl", None, DataError, "file not found"),
    ],
)
def test_read_table_errors(tmp_path, name, content, error, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(error) as info:
        read_table(path)
    assert message in str(info.value) and "\n" not in str(info.value)


THEIRS = pd.DataFrame(
    {"left": ["x", "y"], "right": ["y", "z"], "verdict": ["L", "R"], "model_a": ["id1", "id2"], "prompt": [1, 2]}
)


@pytest.mark.parametrize(
    ("columns", "labels", "want"),
    [
        (
            {"model_a": "left", "model_b": "right", "winner": "verdict"},
            {"L": "model_a", "R": "model_b"},
            {"model_a": ["x", "y"], "model_b": ["y", "z"], "winner": ["model_a", "model_b"]},
        ),
        (  # a swap of two of our own columns
            {"model_a": "model_b", "model_b": "model_a"},
            {},
            {"model_a": ["B"], "model_b": ["A"]},
        ),
    ],
)
def test_apply_mapping(columns, labels, want):
    frame = THEIRS if "left" in columns.values() else pd.DataFrame({"model_a": ["A"], "model_b": ["B"]})
    out = apply_mapping(frame, columns, labels, "f.csv")
    assert {k: out[k].tolist() for k in want} == want
    assert "left" not in out.columns and "verdict" not in out.columns
    assert list(frame.columns) == list(frame.columns)  # input unchanged


@pytest.mark.parametrize(
    ("columns", "labels", "error", "message"),
    [
        ({"model_a": "lft"}, {}, DataError, "f.csv: --map model_a=lft: no column 'lft'. Did you mean 'left'?"),
        ({"model_a": "nope"}, {}, DataError, "The file's columns: left, right, verdict, model_a, prompt"),
        ({}, {"L": "a_wins"}, UserError, "--winner-labels L=a_wins: 'a_wins' is not a winner label"),
    ],
)
def test_apply_mapping_errors(columns, labels, error, message):
    with pytest.raises(error) as info:
        apply_mapping(THEIRS, columns, labels, "f.csv")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_label_left_unmapped_is_the_usual_unknown_winner_error(tmp_path):
    path = tmp_path / "theirs.csv"
    THEIRS.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 2: unknown winner 'R'; allowed: model_a"):
        read_battles(path, columns={"model_a": "left", "model_b": "right", "winner": "verdict"},
                     winner_labels={"L": "model_a"})


@pytest.mark.parametrize(
    ("winner", "hint"),
    [
        ("x", "the winner column names the winning model: 'x' is this row's model_a; write which side won"),
        ("y", "'y' is this row's model_b"),
        ("Tie", """it reads as 'tie': --winner-labels "Tie=tie")"""),
        ("TIE (BOTHBAD)", """it reads as 'tie (bothbad)': --winner-labels "TIE (BOTHBAD)=tie (bothbad)")"""),
        ("both_bad", """it reads as 'tie (bothbad)': --winner-labels "both_bad=tie (bothbad)")"""),
        ("Model A", """it reads as 'model_a': --winner-labels "Model A=model_a")"""),
        ("left", "map other labels with --winner-labels THEIRS=OURS,..."),
    ],
)
def test_an_unknown_winner_label_says_what_to_do(tmp_path, capsys, winner, hint):
    path = tmp_path / "b.csv"
    pd.DataFrame({"model_a": ["x", "x"], "model_b": ["y", "y"], "winner": ["model_a", winner]}).to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        read_battles(path)
    assert f"row 2: unknown winner {winner!r}" in str(info.value) and hint in str(info.value)
    with pytest.raises(SystemExit) as exc:
        main(["rate", str(path)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and hint in err


def test_a_hinted_lower_case_mapping_reads_the_file(tmp_path):
    path = tmp_path / "b.csv"
    pd.DataFrame({"model_a": ["x", "x"], "model_b": ["y", "y"], "winner": ["model_a", "TIE (BOTHBAD)"]}).to_csv(
        path, index=False)
    result = CliRunner().invoke(command, [str(path), "--bootstrap", "0", "--winner-labels", "TIE (BOTHBAD)=tie (bothbad)"])
    assert result.exit_code == 0, result.output


def test_read_battles_maps_and_validates(tmp_path):
    path = tmp_path / "theirs.csv"
    THEIRS.to_csv(path, index=False)
    frame = read_battles(
        path,
        columns={"model_a": "left", "model_b": "right", "winner": "verdict", "question_id": "prompt"},
        winner_labels={"L": "model_a", "R": "model_b"},
    )
    assert frame[["question_id", "model_a", "model_b", "winner"]].values.tolist() == [
        ["1", "x", "y", "model_a"],
        ["2", "y", "z", "model_b"],
    ]
    assert frame["count"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "model_a"], "--map 'model_a': expected NAME=VALUE"),
        (["--map", "model_a=lft"], "no column 'lft'"),
        (["--winner-labels", "L=x"], "'x' is not a winner label"),
    ],
)
def test_rate_cli_mapping_errors_are_one_line_user_errors(tmp_path, args, message):
    path = tmp_path / "theirs.csv"
    THEIRS.to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), *args])
    assert isinstance(res.exception, UserError), res.output
    assert message in str(res.exception) and "\n" not in str(res.exception)


def test_rate_help_documents_count_weight_and_mapping():
    res = CliRunner().invoke(command, ["--help"])
    text = " ".join(res.output.split())
    for phrase in ("count n is exactly n identical battles", "frequency weight", "--map", "--winner-labels",
                   "--elo-order", "--method bt", "dropped"):
        assert phrase in text, phrase


JSONL_CASES = {
    "flat": [  # strings, ints, floats, booleans, nulls, a key missing from some lines, keys in another order
        {"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "weight": 1, "ok": True},
        {"model_b": "c", "question_id": 2, "model_a": "b", "winner": "tie", "weight": 0.5, "ok": None},
        {"question_id": 3, "model_a": "c", "model_b": "a", "winner": "model_b", "judge": "j", "ok": False},
    ],
    "a column of nulls": [{"model_a": "a", "note": None}, {"model_a": "b"}],
    "nested": [{"model_a": "a", "model_b": "b", "winner": "tie", "meta": {"len": [1, 2]}}],
    "mixed types": [{"question_id": 1, "model_a": "a"}, {"question_id": "q2", "model_a": "b"}],
    "date-like text": [{"model_a": "a", "when": "2024-05-01T10:00:00"}, {"model_a": "b", "when": "2024-05-02"}],
}


@pytest.mark.parametrize("case", list(JSONL_CASES))
def test_jsonl_reads_as_the_line_by_line_reader_reads_it(tmp_path, case):
    """The fast (pyarrow) JSONL reader gives exactly the frame of the line-by-line reader, or steps aside."""
    from arena.store import read_jsonl
    from arena.tables import _read_flat_jsonl

    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in JSONL_CASES[case]), encoding="utf-8")
    want = pd.DataFrame([obj for _, obj in read_jsonl(path)])
    pd.testing.assert_frame_equal(read_table(path), want)
    assert (_read_flat_jsonl(path) is not None) == (case == "flat")  # the fast path is taken where it can be


def test_jsonl_torn_last_line_and_broken_lines_keep_their_meaning(tmp_path):
    """A torn last line is skipped (an interrupted write); a broken line elsewhere is a file:line error."""
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps(ROWS[1]) + "\n" + '{"model_a": "c", "mod', encoding="utf-8")
    assert len(read_table(path)) == 2
    path.write_text(json.dumps(ROWS[0]) + "\n{oops\n" + json.dumps(ROWS[1]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t\.jsonl:2: not valid JSON"):
        read_table(path)


def test_a_numeric_judge_column_reads_as_text(tmp_path):
    """Judge ids written as numbers (gaps make them floats) become text, written as the whole numbers they are,
    gaps the empty default, with no pandas warning (filling a float column with text is deprecated)."""
    import warnings

    path = tmp_path / "b.csv"
    path.write_text("model_a,model_b,winner,judge\na,b,model_a,1\nb,a,tie,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_battles(path)
    assert frame["judge"].tolist() == ["1", ""]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("model_a, model_b, winner\na, b, model_a\n",
         r"missing column\(s\) model_b, winner; .*found ' model_b', ' winner': remove the spaces"),
        ("Model_A,model_b,Winner\na,b,model_a\n",
         r"missing column\(s\) model_a, winner; .*pass --map model_a=Model_A,winner=Winner\)$"),
        ("model_a;model_b;winner\na;b;model_a\n", r"the header is one column, .*separated by ';'"),
        ("left,right,verdict\na,b,model_a\n", r"\(found: left, right, verdict; name yours with --map\)$"),
        ("question_id,model,score\n1,a,8\n", r"this looks like single-answer scores: model, score; battles are pair"),
        ("model_a,model_b,winner\na,b,\n", r"b\.csv: row 1: no winner; allowed: model_a"),
    ],
)
def test_a_header_or_winner_that_does_not_fit_says_what_the_file_has(tmp_path, content, message):
    path = tmp_path / "b.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_battles(path)


def _every_format(rows: list[dict], folder: Path) -> dict[str, Path]:
    """The same rows as ``b.csv``, ``b.tsv``, ``b.jsonl`` and ``b.parquet`` in ``folder``, by suffix."""
    frame = pd.DataFrame(rows)
    paths = {s: folder / f"b.{s}" for s in ("csv", "tsv", "jsonl", "parquet")}
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], index=False, sep="\t")
    paths["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    frame.to_parquet(paths["parquet"])
    return paths


def test_csv_names_keep_their_text_as_in_json_lines_and_parquet(tmp_path):
    """Models, question ids and judges that look like numbers (``007``, ``1.10``, ``1.1``, ``TRUE``) are the
    file's text in CSV and TSV, as JSON lines and parquet keep them (pandas alone reads 7, 1.1, 1.1, True:
    ``1.10`` and ``1.1`` would be one model). Gaps stay gaps; a mapped column is read as text too."""
    rows = [
        {"model_a": "007", "model_b": "1.10", "winner": "model_a", "question_id": "01", "judge": "TRUE"},
        {"model_a": "1.1", "model_b": "007", "winner": "tie", "question_id": None, "judge": "2"},
        {"model_a": "1.10", "model_b": "1.1", "winner": "model_b", "question_id": "1", "judge": None},
    ]
    for k, row in enumerate(rows):  # quoted values over two lines: the text columns are read again around them
        row["note"] = f"line {k}\n\"quoted\", too"
    frame = pd.DataFrame(rows)
    paths = _every_format(rows, tmp_path)
    want = read_battles(paths["jsonl"])
    assert want["model_a"].tolist() == ["007", "1.1", "1.10"] and want["judge"].tolist() == ["TRUE", "2", ""]
    for suffix, path in paths.items():
        got = read_battles(path)
        for col in ("model_a", "model_b", "question_id", "judge", "note"):
            assert got[col].tolist() == want[col].tolist(), (suffix, col)
    mapped = tmp_path / "m.csv"
    frame.rename(columns={"model_a": "left"}).to_csv(mapped, index=False)
    assert read_battles(mapped, columns={"model_a": "left"})["model_a"].tolist() == ["007", "1.1", "1.10"]


def test_csv_names_that_pandas_reads_as_missing_keep_their_name(tmp_path):
    """Models and questions named ``NA``, ``None``, ``null``, ``nan``, ``n/a``, ``#N/A`` are names in CSV and TSV,
    as in JSON lines and parquet: pandas reads these words as missing, and the CSV was refused ("no model_a")
    while the same battles as JSON lines rated. Only an empty cell is a missing name; the same ratings
    through ``arena rate`` from every format. A winner is a label: ``NA`` there stays missing."""
    words = ["NA", "None", "null", "nan", "n/a", "#N/A", "NULL", "<NA>"]
    rng = np.random.default_rng(3)
    rows = []
    for k in range(160):
        a, b = rng.choice(len(words), 2, replace=False)
        rows.append({"model_a": words[a], "model_b": words[b], "winner": ["model_a", "model_b", "tie"][k % 3],
                     "question_id": words[k % len(words)] if k % 5 else None, "judge": words[(k + 1) % len(words)]})
    paths = _every_format(rows, tmp_path)
    want = read_battles(paths["jsonl"])
    assert sorted(set(want["model_a"])) == sorted(words)
    boards = {}
    for suffix, path in paths.items():
        got = read_battles(path)
        for col in ("model_a", "model_b", "question_id", "judge"):
            assert got[col].tolist() == want[col].tolist(), (suffix, col)
        result = CliRunner().invoke(command, [str(path), "--bootstrap", "0"])
        assert result.exit_code == 0, result.output
        boards[suffix] = result.output
    assert len(set(boards.values())) == 1
    votes = tmp_path / "v.csv"
    votes.write_text("model_a,model_b,winner\na,b,model_a\na,b,NA\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2: no winner"):
        read_battles(votes)


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_a_file_that_is_not_utf8_is_refused_naming_where(tmp_path, suffix):
    """JSON lines in Latin-1 crashed arena rate, import and the browser with a UnicodeDecodeError (exit 1):
    pyarrow's fast reader took the bytes as text unchecked. Now every reader refuses it in one line."""
    path = tmp_path / f"b.{suffix}"
    if suffix == "jsonl":
        path.write_bytes(b'{"model_a": "a", "model_b": "b", "winner": "model_a"}\n'
                         b'{"model_a": "caf\xe9", "model_b": "b", "winner": "tie"}\n')
        where = r"b\.jsonl:2: not UTF-8 text"
    else:
        path.write_bytes(b"model_a,model_b,winner\na,b,model_a\ncaf\xe9,b,tie\n")
        where = r"b\.csv: not UTF-8 text"
    with pytest.raises(DataError, match=where):
        read_battles(path)
    from arena import browse as vd

    assert any("not UTF-8 text" in note for note in vd.load_source(path).notes)


@pytest.mark.parametrize("sep,suffix", [(",", "csv"), ("\t", "tsv")])
def test_a_header_that_names_a_column_twice_is_refused(tmp_path, sep, suffix):
    """pandas reads a repeated ``winner`` as ``winner.1``, and the first was rated silently; names that merely
    end in ``.1``, and empty header cells, are read as before."""
    path = tmp_path / f"b.{suffix}"
    path.write_text(sep.join(["model_a", "model_b", "winner", "winner"]) + "\n"
                    + sep.join(["a", "b", "model_a", "model_b"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"b\.{suffix}: the header names column 'winner' twice \(columns 3 and 4\)"):
        read_battles(path)
    result = CliRunner().invoke(command, [str(path), "--bootstrap", "0"])
    assert isinstance(result.exception, DataError) and "twice" in str(result.exception)
    fine = tmp_path / f"f.{suffix}"
    fine.write_text(sep.join(["model_a", "model_b", "winner", "x", "x.1", "", ""]) + "\n"
                    + sep.join(["a", "b", "model_a", "1", "2", "", ""]) + "\n", encoding="utf-8")
    assert read_battles(fine)["model_a"].tolist() == ["a"]


@pytest.mark.parametrize("value", ["inf", "-inf", "-1", "1e400"])
def test_a_weight_or_count_that_is_not_finite_and_non_negative_names_its_row(tmp_path, value):
    """An infinite weight passed the check's row search (inf >= 0) and crashed with an IndexError."""
    for col in ("weight", "count"):
        path = tmp_path / "b.csv"
        path.write_text(f"model_a,model_b,winner,{col}\na,b,model_a,1\nb,a,tie,{value}\n", encoding="utf-8")
        with pytest.raises(DataError, match=rf"b\.csv: row 2: {col} must be a finite number >= 0, not "):
            read_battles(path)


@pytest.mark.parametrize("value", [["a"], {"name": "a"}])
def test_a_name_that_is_a_list_or_an_object_is_refused(tmp_path, value):
    """A JSON line whose model is ``["a"]`` was rated as the model ``"['a']"``."""
    path = tmp_path / "b.jsonl"
    rows = [{"model_a": "b", "model_b": "c", "winner": "tie"}, {"model_a": value, "model_b": "b", "winner": "model_a"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"b\.jsonl: row 2: model_a is a (list|dict) .*not a name"):
        read_battles(path)


def test_whole_number_floats_read_as_integers_only_when_all_are_whole_and_finite():
    """The text of a float column: ``7.0`` -> ``"7"`` when every value is a whole number; with a fraction or an
    infinity among them every value keeps pandas' float text (an infinity never becomes ``"0"``)."""
    import numpy as np

    from arena.rating.frame import _text

    assert _text(pd.Series([1.0, np.nan, 7.0])).tolist()[::2] == ["1", "7"]
    assert _text(pd.Series([1.0, np.nan, 2.5])).tolist()[::2] == ["1.0", "2.5"]
    assert _text(pd.Series([1.0, np.nan, np.inf])).tolist()[::2] == ["1.0", "inf"]
    assert pd.isna(_text(pd.Series([1.0, np.nan])).iloc[1])
