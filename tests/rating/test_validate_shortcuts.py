"""The fast checks of validate_frame (winner labels in one pyarrow pass, constant default columns) give exactly
the frames and errors of the per-row validation, for frames and for parquet files."""

from __future__ import annotations

import pandas as pd
import pytest

from arena.errors import DataError
from arena.rating.frame import validate_frame
from arena.rating.read import read_battles


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_dtype=True, check_exact=True)
    assert [repr(d) for d in got.dtypes] == [repr(d) for d in want.dtypes]
    assert got.attrs == want.attrs


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


def test_encoding_through_pyarrow_gives_the_codes_of_pandas():
    """encode reads pyarrow text columns through pyarrow (model positions, labels, sorted question codes): the same
    arrays as from plain object columns, for names beyond ASCII (sorted by code point, as Python sorts) and a column
    made of several chunks."""
    import numpy as np

    from arena.rating.encoding import encode

    parts = [pd.DataFrame({"model_a": ["é", "Z", "a", "ß", "日本"], "model_b": ["z", "é", "日本", "a", "Z"],
                           "winner": ["model_a", "tie (bothbad)", "tie", "model_b", "model_a"],
                           "question_id": ["é", "É", "e", "日", "10"]}),
             pd.DataFrame({"model_a": ["a"], "model_b": ["Z"], "winner": ["tie"], "question_id": ["9"]})]
    frame = validate_frame(pd.concat([validate_frame(p) for p in parts], ignore_index=True))
    assert isinstance(frame["model_a"].dtype, pd.StringDtype)  # the pyarrow path is the one under test
    plain = frame.astype({c: object for c in ("model_a", "model_b", "winner", "question_id")})
    fast, slow = encode(frame), encode(plain)
    assert fast.models == slow.models == sorted(fast.models)
    for field in ("a", "b", "outcome", "group", "bothbad"):
        got, want = getattr(fast, field), getattr(slow, field)
        assert got.dtype == want.dtype and np.array_equal(got, want), field
    assert fast.group.tolist() == [sorted(frame["question_id"]).index(q) for q in frame["question_id"]]
