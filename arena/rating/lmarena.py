"""LMArena's (Chatbot Arena's) own table columns, read as FastChat's battle columns by
:func:`arena.rating.frame.validate_frame`: one-hot winners, style statistics nested in ``conv_metadata``, the
``anony`` mark of an anonymous vote, and the ``tstamp`` that orders online Elo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from arena.errors import DataError, shown

ONE_HOT_WINNER: dict[str, str] = {"winner_model_a": "model_a", "winner_model_b": "model_b", "winner_tie": "tie"}
"""One column per outcome, 1 on the row's outcome (LMArena's human-preference datasets on Kaggle and Hugging Face):
read as the ``winner`` column when a frame has these and no ``winner``."""


def one_hot_winner(frame: pd.DataFrame, where: str) -> pd.Series:
    """The ``winner`` labels of :data:`ONE_HOT_WINNER` columns; a row where not exactly one of them is 1 (or true)
    is refused, naming it and its values."""
    cols = list(ONE_HOT_WINNER)
    values = np.stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in cols],
                      axis=1)
    ok = np.isin(values, (0.0, 1.0)).all(axis=1) & (values.sum(axis=1) == 1.0)
    if not ok.all():
        pos = int(np.flatnonzero(~ok)[0])
        cells = ", ".join(f"{c} {shown(frame[c].iloc[pos])}" for c in cols)
        raise DataError(f"{where}: row {pos + 1}: {cells}: exactly one of them must be 1, the outcome of the battle")
    labels = np.array(list(ONE_HOT_WINNER.values()), dtype=object)
    return pd.Series(labels[values.argmax(axis=1)], index=frame.index, dtype="str")


METADATA_COLUMN = "conv_metadata"
"""Chatbot Arena's per-battle answer statistics (``clean_battle_*.json``, the public ``arena_*`` dumps): a mapping per
row that holds the style features FastChat's style control reads (:data:`METADATA_STYLE`)."""
METADATA_STYLE: dict[str, str] = {
    "len_a": "sum_assistant_a_tokens", "len_b": "sum_assistant_b_tokens",
    "header_a": "header_count_a", "header_b": "header_count_b",
    "list_a": "list_count_a", "list_b": "list_count_b",
    "bold_a": "bold_count_a", "bold_b": "bold_count_b",
}
"""Style column -> ``conv_metadata`` key. A count given per kind (``{"h1": 2, "h2": 1}``) is summed, as FastChat does;
the length is in tokens there, which the normalised difference of style control does not depend on."""
ANONYMOUS_COLUMN = "anony"
"""Chatbot Arena's mark of an anonymous vote (the models' names hidden until the vote); its leaderboard rates only
those, and so does every rater here: rows where it is false are dropped with a note."""


def metadata_style(column: pd.Series, where: str) -> dict[str, pd.Series]:
    """The style columns of a ``conv_metadata`` column (see :data:`METADATA_STYLE`): a missing mapping or key is a
    missing value; a mapping written as text (a JSON object, or Python's repr of a dict, as a CSV export of the
    dump holds it) is read; a row whose metadata is not a mapping, or a count that is neither a number nor a
    mapping of numbers, is refused, naming its row."""
    metas = column.tolist()
    if any(issubclass(kind, str) for kind in set(map(type, metas))):
        metas = [_mapping_text(m) if isinstance(m, str) else m for m in metas]
    fast = _metadata_fast(metas)
    if fast is not None:
        return {col: pd.Series(v, index=column.index) for col, v in fast.items()}
    values = {col: np.full(len(column), np.nan) for col in METADATA_STYLE}
    for pos, meta in enumerate(metas):
        if meta is None or (isinstance(meta, float) and np.isnan(meta)):
            continue
        if not isinstance(meta, Mapping):
            raise DataError(f"{where}: row {pos + 1}: {METADATA_COLUMN} {shown(meta):.60} is not a mapping of answer "
                            "statistics (Chatbot Arena's: sum_assistant_a_tokens, header_count_a, ...)")
        for col, key in METADATA_STYLE.items():
            count = _metadata_count(meta.get(key))
            if count is None and meta.get(key) is not None:
                raise DataError(f"{where}: row {pos + 1}: {METADATA_COLUMN}.{key} {shown(meta[key]):.60} is not a count")
            values[col][pos] = np.nan if count is None else count
    return {col: pd.Series(v, index=column.index) for col, v in values.items()}


def _mapping_text(text: str) -> Any:
    """The mapping a text cell writes (JSON, else a Python literal: no code is run); the text itself when it is
    neither (the caller refuses it); None for blank text."""
    import ast

    if not text.strip():
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, Mapping):
            return value
    return text


_NO_METADATA: dict[str, Any] = dict.fromkeys(METADATA_STYLE.values())
"""The stand-in of a row without ``conv_metadata``: every count missing."""


def _metadata_fast(metas: list[Any]) -> dict[str, np.ndarray] | None:
    """:func:`metadata_style`'s columns in one pass over the rows and one conversion (several times faster than its
    row-by-row checks) where every row is a dict or missing and every count a number (int or float), missing, or a
    dict of numbers (summed); None where anything is not, and those checks decide."""
    keys = tuple(METADATA_STYLE.values())
    present = metas
    if set(map(type, metas)) - {dict}:
        if not all(type(m) is dict or m is None or (type(m) is float and m != m) for m in metas):
            return None
        present = [m if type(m) is dict else _NO_METADATA for m in metas]
    try:
        rows = list(map(itemgetter(*keys), present))
    except KeyError:  # some row lacks a key: a missing value
        rows = [tuple(map(m.get, keys)) for m in present]
    flat = list(chain.from_iterable(rows))
    kinds = set(map(type, flat))
    if dict in kinds:  # a count given per kind ({"h1": 2, "h2": 1}): summed
        parts = chain.from_iterable(v.values() for v in flat if type(v) is dict)
        if not set(map(type, parts)) <= {int, float}:
            return None
        flat = [sum(v.values()) if type(v) is dict else v for v in flat]
        kinds = set(map(type, flat))
    if not kinds <= {int, float, type(None)}:  # None converts to NaN below
        return None
    table = np.array(flat, dtype=float).reshape(len(rows), len(keys))
    return {col: np.ascontiguousarray(table[:, k]) for k, col in enumerate(METADATA_STYLE)}


def _metadata_count(item: Any) -> float | None:
    """A ``conv_metadata`` count: a number, or the sum of a mapping of numbers (None among them is 0); None when
    ``item`` is missing or neither."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)

    if isinstance(item, Mapping) and all(v is None or number(v) for v in item.values()):
        return float(sum(float(v) for v in item.values() if v is not None))
    return float(item) if number(item) else None


def anonymous_rows(column: pd.Series, where: str) -> np.ndarray:
    """Where the ``anony`` column does not say false (true, 1, or missing: unknown, kept); a value that is not a
    yes or no is refused, naming its row."""
    words = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
    missing = column.isna().to_numpy(dtype=bool)
    said = column.astype(str).str.strip().str.casefold().map(words)
    bad = said.isna().to_numpy(dtype=bool) & ~missing
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: row {pos + 1}: {ANONYMOUS_COLUMN} {shown(column.iloc[pos])} is not true or false")
    return missing | said.fillna(False).to_numpy(dtype=bool)


TIME_COLUMN = "tstamp"
"""When each battle was judged (Chatbot Arena's dumps: seconds since 1970; a date and time text reads too). Online
Elo runs battles in this order when every row has one (FastChat sorts its battles by it), so a log in any row
order gives the same Elo; the order-free raters ignore it."""


def battle_times(column: pd.Series) -> np.ndarray:
    """A time column as seconds (floats): numbers as they are, date and time text (ISO 8601) or datetimes as
    seconds since 1970 (UTC when no zone is given); NaN where a value is missing or neither."""
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.to_datetime(column, utc=True)
    else:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not (np.isnan(numbers) & column.notna().to_numpy(dtype=bool)).any():
            return numbers
        stamps = pd.to_datetime(column.astype("object"), errors="coerce", utc=True, format="ISO8601")
    seconds = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
    return np.where(stamps.isna().to_numpy(dtype=bool), np.nan, seconds)
