"""Reading one field of another tool's record: a one-line :class:`~arena.errors.DataError` naming the record
(``where``: ``file:line``) for a value that is missing, of the wrong kind or blank, never a silent conversion
(a list that would become the text ``"['a']"``, NaN read as a tie, ``True`` as 1)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from arena.errors import DataError
from arena.store import text_of


def require(obj: dict[str, Any], keys: Sequence[str], where: str, what: str) -> None:
    """Raise a one-line :class:`DataError` naming the missing keys of ``obj``."""
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(repr(k) for k in missing)} in {what}; "
                        f"expected keys {', '.join(keys)}")


def answer_text(obj: dict[str, Any], key: str, where: str) -> str:
    """An answer's text ``obj[key]``: a number is written as text, ``""`` is an empty answer; null, a list or an
    object is no answer text (never the answer ``"None"``).

    Raises:
        DataError: one line naming the record (``where``) and the key.
    """
    value = obj[key]
    if value is None or isinstance(value, (list, tuple, dict, set)):
        shown = "null" if value is None else f"{type(value).__name__} {value!r:.60}"
        raise DataError(f"{where}: {key!r} is {shown}; expected the answer's text (\"\" for an empty answer)")
    return str(value)


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float (a number, or text that reads as one); None for anything else (a boolean,
    NaN, infinity, null, a list)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def name_or(obj: dict[str, Any], keys: Sequence[str], where: str, default: str) -> str:
    """The first of ``keys`` that ``obj`` has with a value (a model or judge name), as text; ``default`` when
    none has one (absent, null or ``""``).

    Raises:
        DataError: the value is a list, an object or blank (naming ``where`` and the key).
    """
    for key in keys:
        if obj.get(key) is not None and obj.get(key) != "":
            return text_of(obj, key, where)
    return default


def turn_of(obj: dict[str, Any], where: str) -> int:
    """A judgment record's ``turn`` (1 when absent): a whole number from 1 to :data:`MAX_TURN`.

    Raises:
        DataError: one line naming the record (``where``) and the value.
    """
    from arena.rating.frame import MAX_TURN

    if "turn" not in obj:
        return 1
    value = obj["turn"]
    whole = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if isinstance(value, bool) or not whole or not 1 <= value <= MAX_TURN:
        raise DataError(f"{where}: turn {value!r:.60} is not a whole number from 1 to {MAX_TURN:,}; "
                        "write the turn judged (1 for the first)")
    return int(value)


def qid_of(obj: dict[str, Any], where: str) -> str | None:
    """A record's question id (``question_id`` or arena-hard's ``uid``) as text; None when it has neither.

    Raises:
        DataError: the id is a list, an object or blank (naming ``where``).
    """
    key = "question_id" if obj.get("question_id") is not None else "uid"
    return None if obj.get(key) is None else text_of(obj, key, where)


def created_of(obj: dict[str, Any], key: str = "tstamp") -> str | None:
    """When a record was made, as arena's ISO text: ``obj[key]`` as written (text, e.g. arena's own export) or
    converted from a Unix time (FastChat's and arena-hard's ``tstamp``); None when absent or unreadable."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value
    seconds = finite_number(value) if not isinstance(value, str) else None
    if seconds is None:
        return None
    from datetime import datetime, timezone

    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- export notes
