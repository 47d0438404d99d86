"""Battles as a DataFrame in FastChat columns, validated (:mod:`arena.rating.encoding` makes integer arrays of them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from arena.errors import DataError, shown
from arena.rating.lmarena import (
    ANONYMOUS_COLUMN,
    METADATA_COLUMN,
    ONE_HOT_WINNER,
    anonymous_rows,
    metadata_style,
    one_hot_winner,
)
from arena.records import WINNERS, Battle

A_WINS, B_WINS, TIE = 0, 1, 2
"""Outcome codes used by every rater."""

FRAME_COLUMNS: tuple[str, ...] = (
    "question_id",
    "model_a",
    "model_b",
    "winner",
    "judge",
    "turn",
    "category",
    "weight",
    "count",
)
STYLE_COLUMNS: tuple[str, ...] = (
    "len_a",
    "len_b",
    "header_a",
    "header_b",
    "list_a",
    "list_b",
    "bold_a",
    "bold_b",
)
_DEFAULTS: dict[str, Any] = {"judge": "", "turn": 1, "category": "general", "weight": 1.0, "count": 1.0}


def _as_dict(item: Battle | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(item, Battle):
        return item.model_dump()
    return dict(item)


NOTES_ATTR = "notes"
"""``frame.attrs`` key of the notes validation leaves for the leaderboard (e.g. dropped self-pairs)."""
QUESTIONS_ATTR = "question_ids"
"""``frame.attrs`` key: False when the battles came without question ids (each battle its own question)."""


def frame_notes(frame: pd.DataFrame) -> list[str]:
    """Notes :func:`validate_frame` attached to ``frame`` (they end up in the leaderboard's warnings)."""
    return list(frame.attrs.get(NOTES_ATTR, []))


def name_notes(models: list[str]) -> list[str]:
    """A note naming models whose names differ only by surrounding spaces or by case (``"gpt-4"`` and
    ``"gpt-4 "``, ``"GPT-4"``): rated apart, as written, which is seldom what was meant."""
    groups: dict[str, list[str]] = {}
    for m in models:
        groups.setdefault(m.strip().casefold(), []).append(m)
    alike = [" and ".join(repr(m) for m in sorted(g)) for g in groups.values() if len(g) > 1]
    if not alike:
        return []
    return [f"models whose names differ only by spaces or case are rated apart: {'; '.join(alike[:5])}"
            + ("; ..." if len(alike) > 5 else "") + " (if they are one model, give it one name in the file)"]


def battles_frame(battles: Iterable[Battle | Mapping[str, Any]]) -> pd.DataFrame:
    """Collect battles into a validated DataFrame with FastChat column names.

    Args:
        battles: :class:`~arena.records.Battle` records or dicts with at least ``model_a``, ``model_b`` and
            ``winner``; ``question_id`` defaults to the row number (each battle its own question).

    Returns:
        A frame with :data:`FRAME_COLUMNS` (plus any style feature columns present), one row per record;
        see :func:`validate_frame` for what it checks, drops and notes.

    Raises:
        DataError: unknown winner label (the message lists the allowed ones), a missing column, or a
            weight or count that is not a finite number >= 0.
    """
    rows = [_as_dict(b) for b in battles]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(FRAME_COLUMNS))
    return validate_frame(frame)


def validate_frame(frame: pd.DataFrame, where: str = "battles") -> pd.DataFrame:
    """Check and normalise a battles frame (any source).

    Semantics of the optional columns, the same for every method:

    - ``count``: the row stands for ``count`` identical battles (default 1).
    - ``weight``: a frequency weight (default 1): a row of weight ``w`` counts as ``w`` battles in the fit,
      the bootstrap and the battle/win/loss/tie counts (arena-hard's strong verdict is weight 3; a judge's
      probability ``p`` for A is two rows of the same game with weights ``p`` and ``1 - p``).
    - ``question_id``: the resampling unit. Without the column (or where it is empty) a battle is its own
      question; a frame with no question ids at all is marked ``attrs["question_ids"] = False`` so that a
      row of count ``n`` resamples as ``n`` questions, exactly as ``n`` rows without ids would.

    - Chatbot Arena's dumps: the style columns come from ``conv_metadata`` when none is given
      (:data:`~arena.rating.lmarena.METADATA_STYLE`), and votes whose ``anony`` is false are dropped (:data:`~arena.rating.lmarena.ANONYMOUS_COLUMN`).

    Rows of weight or count 0 stand for no battle, and rows where a model meets itself carry no information
    about any rating: both are dropped and counted in a note in ``attrs["notes"]`` (see :func:`frame_notes`),
    which the leaderboard reports, as are the votes that were not anonymous; a model or a category named only in
    such rows is not rated.

    Args:
        frame: the battles; not changed.
        where: prefixes error messages (a file name); row numbers in messages are 1-based data rows.

    Raises:
        DataError: a missing column, an unknown winner label, a weight or count that is not a finite number
            >= 0, a style value that is not a count, or an ``anony`` that is not true or false.
    """
    if "winner" not in frame.columns and all(c in frame.columns for c in ONE_HOT_WINNER):
        frame = frame.assign(winner=one_hot_winner(frame, where))
    missing = [c for c in ("model_a", "model_b", "winner") if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}; battles need model_a, model_b, winner"
                        f"{_columns_hint(missing, [str(c) for c in frame.columns])}")
    _refuse_nested(frame, where)
    out = frame.copy()
    notes = frame_notes(frame)
    given = frame.attrs.get(QUESTIONS_ATTR, True) is not False
    blank = blank_cells(out["question_id"]) if "question_id" in out.columns else None
    if blank is None or blank.all():
        given = False
        out["question_id"] = _row_ids(out.index)
    else:
        out["question_id"] = _question_ids(out["question_id"], blank)
    absent = [col for col in _DEFAULTS if col not in out.columns]
    for col, default in _DEFAULTS.items():
        if col not in out.columns:
            out[col] = _constant(default, out.index)
        elif isinstance(default, str) and not pd.api.types.is_string_dtype(out[col]):
            # A text column read as numbers (judge ids 1, 2, ...; gaps make them floats): text, as question ids are.
            out[col] = _text(out[col]).where(out[col].notna(), default)
        else:
            out[col] = out[col].fillna(default)
    for col in ("model_a", "model_b"):
        empty = out[col].isna().to_numpy()
        if empty.any():
            pos = int(np.flatnonzero(empty)[0])
            raise DataError(f"{where}: row {pos + 1}: no {col}; every battle names both models (drop or fill the row)")
        out[col] = _text(out[col])
    out["category"] = out["category"].astype(str)
    if not _all_labels(out["winner"]):  # else every label is one of ours already: nothing to strip or refuse
        out["winner"] = out["winner"].astype(str).str.strip()
        bad = ~out["winner"].isin(WINNERS)
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            value = out["winner"].iloc[pos]
            if pd.isna(value):
                raise DataError(f"{where}: row {pos + 1}: no winner; allowed: {', '.join(WINNERS)}")
            raise DataError(f"{where}: row {pos + 1}: unknown winner {value!r}; allowed: {', '.join(WINNERS)}"
                            f"{_winner_hint(str(value), out.iloc[pos])}")
    for col in ("weight", "count"):
        if col in absent:
            continue  # the default 1.0, as a float column
        try:
            out[col] = pd.to_numeric(out[col]).astype(float)
        except (TypeError, ValueError):
            raise DataError(f"{where}: column {col!r} must be numeric") from None
        values = out[col].to_numpy()
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"{where}: row {pos + 1}: {col} must be a finite number >= 0, not {values[pos]}")
    _refuse_overflow(out["weight"].to_numpy() * out["count"].to_numpy(), where)
    if "turn" not in absent:
        out["turn"] = _turns(out["turn"], where)
    if METADATA_COLUMN in out.columns and not any(c in out.columns for c in STYLE_COLUMNS):
        for col, values in metadata_style(out[METADATA_COLUMN], where).items():
            out[col] = values
    for col in STYLE_COLUMNS:
        if col in out.columns:
            out[col] = _style_counts(out[col], where)
    if ANONYMOUS_COLUMN in out.columns:
        named = ~anonymous_rows(out[ANONYMOUS_COLUMN], where)
        if named.any():
            n = int(named.sum())
            notes.append(f"dropped {n} vote{'' if n == 1 else 's'} that {'was' if n == 1 else 'were'} not anonymous "
                         f"({ANONYMOUS_COLUMN} false), as Chatbot Arena's leaderboard rates anonymous votes only; to "
                         f"rate every vote, rename or drop the {ANONYMOUS_COLUMN} column")
            out = out[~named]
    empty = (out["weight"].to_numpy() * out["count"].to_numpy()) == 0
    if empty.any():
        n = int(empty.sum())
        notes.append(f"dropped {n} row{'' if n == 1 else 's'} of weight or count 0 (no battle)")
        out = out[~empty]
    same = (out["model_a"] == out["model_b"]).to_numpy()
    if same.any():
        n = int(same.sum())
        who = out.loc[same, "model_a"].value_counts().sort_index()
        names = ", ".join(f"{m} x{c}" for m, c in who.head(8).items()) + (", ..." if len(who) > 8 else "")
        notes.append(f"dropped {n} self-pair battle row{'' if n == 1 else 's'} (a model against itself): {names}")
        out = out[~same]
    cols = list(FRAME_COLUMNS) + [c for c in STYLE_COLUMNS if c in out.columns]
    cols += [c for c in out.columns if c not in cols]
    out = out[cols].reset_index(drop=True)
    out.attrs[NOTES_ATTR] = notes
    out.attrs[QUESTIONS_ATTR] = given
    return out


MAX_BATTLES = 1e15
"""The most battles (weight x count summed) a table may stand for: beyond it sums of counts are no longer exact in
floating point (2**53 is about 9e15), and far beyond, products overflow; no real log comes near."""


def _refuse_overflow(battles: np.ndarray, where: str) -> None:
    """Refuse a table whose rows stand for more than :data:`MAX_BATTLES` battles, naming the largest row (a weight
    of 1e308 passed as finite, then overflowed the fit into a singular matrix)."""
    with np.errstate(over="ignore"):
        total = float(battles.sum())
    if total > MAX_BATTLES:  # inf included
        pos = int(np.argmax(battles))
        raise DataError(f"{where}: row {pos + 1}: weight x count {battles[pos]:g}: the rows stand for {total:g} battles, "
                        f"over the {MAX_BATTLES:g} a table may hold; check the weight and count columns")


def _columns_hint(missing: list[str], found: list[str]) -> str:
    """What the file has instead: names that differ only by spaces or case, a header that is one column holding
    separators (a ``;``- or tab-separated file read as CSV), else the columns found."""
    if len(found) == 1 and (sep := next((c for c in ";\t|," if c in found[0]), None)):
        return (f" (the header is one column, {found[0][:60]!r}: the file is separated by {sep!r}; save it "
                "with commas as .csv, or with tabs as .tsv)")
    if {"model", "score"} <= {f.strip().lower() for f in found}:
        return (" (this looks like single-answer scores: model, score; battles are pairwise games. Scores are "
                "rated from a run's judgments: arena run with judge.mode single, or arena import fastchat)")
    near = {m: f for m in missing for f in found if f.strip().lower() == m}
    if near:
        found_near = ", ".join(repr(f) for f in near.values())
        if any(f != f.strip() for f in near.values()):  # --map strips names: only the header can be fixed
            return f" (found {found_near}: remove the spaces around the header's names)"
        return f" (found {found_near}: rename them in the header, or pass --map {','.join(f'{m}={f}' for m, f in near.items())})"
    return f" (found: {', '.join(found[:12])}{', ...' if len(found) > 12 else ''}; name yours with --map)"


def _winner_hint(value: str, row: pd.Series) -> str:
    """What to do about an unknown winner label: a model's name (the file names the winning model, which no
    label mapping can translate), one of ours written otherwise (``Tie``, ``both_bad``: the mapping to give),
    else the mapping option."""
    side = next((col for col in ("model_a", "model_b") if value == row[col]), None)
    if side is not None:
        return (f" (the winner column names the winning model: {value!r} is this row's {side}; write which side "
                "won, model_a or model_b, or tie, in the winner column)")
    ours = _LABEL_SPELLINGS.get("".join(c for c in value.casefold() if c.isalnum()))
    if ours is not None:
        return f' (it reads as {ours!r}: --winner-labels "{value}={ours}")'
    return " (map other labels with --winner-labels THEIRS=OURS,...)"


_LABEL_SPELLINGS: dict[str, str] = {
    **{"".join(c for c in w if c.isalnum()): w for w in WINNERS}, "bothbad": "tie (bothbad)",
}
"""Our labels without case, spaces or punctuation (``Model A``, ``tie(bothbad)``), and ``both_bad`` (LMArena's
newer dumps): the unknown labels whose mapping the error can name."""


def _all_labels(winner: pd.Series) -> bool:
    """True when ``winner`` is a pyarrow-backed text column whose every value is one of :data:`WINNERS`
    (one pyarrow pass instead of pandas' strip and isin); False also where that is not known."""
    chunks = getattr(winner.array, "_pa_array", None)
    if not isinstance(winner.dtype, pd.StringDtype) or chunks is None:
        return False
    import pyarrow as pa
    import pyarrow.compute as pc

    return bool(pc.all(pc.is_in(chunks, value_set=pa.array(WINNERS, type=chunks.type))).as_py() is True)


def _constant(value: Any, index: pd.Index) -> pd.Series:
    """``value`` on every row: the column ``frame[col] = value`` makes (same dtype), built without pandas'
    per-row repeat where the column is pyarrow-backed text."""
    dtype = pd.Series([value]).dtype
    if not (isinstance(value, str) and isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return pd.Series(value, index=index, dtype=dtype)
    import pyarrow as pa

    raw = value.encode("utf-8")
    n = len(index)
    offsets = np.arange(0, len(raw) * (n + 1), len(raw), dtype=np.int64) if raw else np.zeros(n + 1, np.int64)
    text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw * n))
    return pd.Series(pd.array(text, dtype=dtype), index=index)


def _row_ids(index: pd.Index, prefix: str = "") -> pd.Series:
    """The row numbers ``"0", "1", ...`` as strings (after ``prefix``): the question id of a battle that has none."""
    ids = pd.Series(np.arange(len(index)), index=index).astype(str)  # pandas' cast, not numpy's (30x slower)
    return prefix + ids if prefix else ids


def blank_cells(column: pd.Series) -> np.ndarray:
    """Where ``column`` is missing, or text of spaces only (a number never is)."""
    missing = column.isna().to_numpy(dtype=bool, copy=True)
    if pd.api.types.is_string_dtype(column) or column.dtype == object:
        missing |= (column.astype(str).str.strip() == "").to_numpy(dtype=bool)
    return missing


MAX_TURN = 2**31 - 1
"""The largest turn number: a conversation's turn index, far below it in any real log."""


def _turns(turn: pd.Series, where: str) -> pd.Series:
    """Turn numbers as integers (gaps were filled with 1); a turn that is not a whole number from 0 to
    :data:`MAX_TURN` is refused, naming its row (2**63 wrapped to a negative integer)."""
    values = pd.to_numeric(turn, errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(values) & (values >= 0) & (values <= MAX_TURN) & (values == np.round(values)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {pos + 1}: turn {shown(turn.iloc[pos])} is not a whole number from 0 to "
                        f"{MAX_TURN:,}")
    return pd.Series(values.astype(np.int64), index=turn.index)


def _style_counts(column: pd.Series, where: str) -> pd.Series:
    """A style column (an answer's length, or its count of headers, lists or bold spans) as floats: empty cells stay
    missing (the battle then has no difference in that feature); text that is not a number, a negative or an
    infinite value is refused, naming its row (it would have been read as no difference, or broken the fit)."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    given = ~blank_cells(column)
    bad = (np.isnan(values) & given) | ~(np.isnan(values) | np.isfinite(values) & (values >= 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {pos + 1}: {column.name} {shown(column.iloc[pos])} is not a count >= 0 (style "
                        "columns hold an answer's length and its headers, lists and bold spans; leave a cell "
                        "empty where it is unknown)")
    return pd.Series(values, index=column.index)


def _refuse_nested(frame: pd.DataFrame, where: str) -> None:
    """A name column holding a list or an object (a JSON line's ``"model_a": ["x"]``) would become the model
    ``"['x']"``: refused, naming the row."""
    for col in ("question_id", "model_a", "model_b", "winner", "judge", "category"):
        if col in frame.columns and frame[col].dtype == object:
            nested = frame[col].map(lambda v: isinstance(v, (list, tuple, dict, set))).to_numpy(dtype=bool)
            if nested.any():
                pos = int(np.flatnonzero(nested)[0])
                kind = type(frame[col].iloc[pos]).__name__
                raise DataError(f"{where}: row {pos + 1}: {col} is a {kind} ({frame[col].iloc[pos]!r:.60}), "
                                "not a name; give one text value")


def _text(column: pd.Series) -> pd.Series:
    """A column as text, the same whatever the file's format made of it: whole numbers read as floats (a CSV or
    JSON column of numbers with gaps) are written as integers, ``"7"`` and not ``"7.0"``, as an integer column
    and a text column holding ``"7"`` give. Missing values stay missing."""
    if pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        known = values[~np.isnan(values)]
        if np.isfinite(known).all() and np.array_equal(known, np.round(known)) and (np.abs(known) < 2**53).all():
            text = pd.Series(np.where(np.isfinite(values), values, 0).astype(np.int64), index=column.index).astype(str)
            return text.where(column.notna())
    return column.astype(str)


def question_ids(column: pd.Series) -> pd.Series:
    """A question-id column as :func:`validate_frame` reads it: text (``1.0`` is ``"1"``), and a row without an id
    its own question (``#`` and its row number), for a reader that keys other records by question first."""
    return _question_ids(column, blank_cells(column))


def _question_ids(qid: pd.Series, missing: np.ndarray) -> pd.Series:
    """Question ids as text (:func:`_text`); a row ``missing`` one (no id, or a blank one) is its own question,
    with an id no given id equals (``#`` and its row number, more ``#`` if a given id already reads so)."""
    text = _text(qid)
    if not missing.any():
        return text
    given = text[~missing]
    prefix = "#"
    own = _row_ids(qid.index, prefix)
    while own[missing].isin(given).any():
        prefix += "#"
        own = _row_ids(qid.index, prefix)
    return text.where(~missing, own)
