"""The one table reader: battles (and other row tables) from JSONL, a JSON array, CSV, TSV or parquet.

Every entry point that reads a user's table (``arena rate``, ``arena import``, the browser) goes through
:func:`read_table`, so a file reads the same everywhere: the format is chosen by suffix, the content is
sniffed so a file with the wrong suffix gets a one-line error that says what it looks like, and rows keep
file order. :func:`apply_mapping` renames another tool's columns and winner labels to FastChat's
(``--map`` / ``--winner-labels``). :func:`arena.rating.read.read_battles` chains read, mapping and the
rater's validation; a table of human votes (``human_votes.jsonl``) is recognised by :func:`is_vote_table`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from arena.csv_table import read_csv_table
from arena.errors import DataError, UserError, did_you_mean

if TYPE_CHECKING:
    from arena.records import HumanVote

JSON_SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".ndjson")
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".tsv")
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
_SNIFF_BYTES = 4096


def parse_mapping(text: str | None, option: str) -> dict[str, str]:
    """Parse ``"a=b,c=d"`` into ``{"a": "b", "c": "d"}`` (spaces around names are stripped).

    Args:
        text: the option's value; ``None`` or empty gives ``{}``.
        option: the option's name (``--map``), used in error messages.

    Raises:
        UserError: a part without ``=``, an empty name on either side, or a name given twice.
    """
    out: dict[str, str] = {}
    if not text:
        return out
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UserError(
                f"{option} {part.strip()!r}: expected NAME=VALUE pairs separated by commas, "
                f"e.g. {option} model_a=left,model_b=right"
            )
        if key in out:
            raise UserError(f"{option}: {key!r} is given twice ({key}={out[key]} and {key}={value})")
        out[key] = value
    return out


def _sniff(head: bytes) -> str:
    """What the first bytes of a file look like: ``parquet``, ``json``, ``csv``, ``tsv`` or ``empty``."""
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        return "empty"
    if text[:1] in (b"{", b"["):
        return "json"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def _wrong_format(path: Path, expected: str, found: str) -> DataError:
    rename = {"json": ".jsonl", "csv": ".csv", "tsv": ".tsv", "parquet": ".parquet"}[found]
    names = {"json": "JSON", "csv": "CSV", "tsv": "TSV", "parquet": "parquet"}
    return DataError(
        f"{path}: looks like {names[found]}, not {names[expected]}; rename it to {path.stem}{rename}"
    )


TEXT_COLUMNS: tuple[str, ...] = ("question_id", "model_a", "model_b", "winner", "judge", "category", "model")
"""Columns that hold names or labels, never numbers: a CSV reader must keep their text (``"007"``, ``"1.10"``)."""

NAME_COLUMNS: tuple[str, ...] = tuple(c for c in TEXT_COLUMNS if c != "winner")
"""Columns that hold names: only an empty cell is missing, so a model or question named ``NA``, ``None``,
``null`` or ``nan`` keeps its name, as in JSON lines and parquet (pandas reads those words as missing). A winner
is a label: its missing words stay missing (a skipped vote written by R as ``NA``)."""

def read_table(path: Path, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a table, keeping file order.

    The suffix picks the reader: ``.jsonl``/``.ndjson``/``.json`` (JSON lines, or one JSON array of
    objects), ``.csv``, ``.tsv``, ``.parquet``/``.pq``. The content is sniffed first: a CSV file named
    ``.json`` (or JSON named ``.csv``, or parquet named either) is refused with the name to give it.
    In a CSV or TSV file the :data:`TEXT_COLUMNS` (under the names ``columns``, the mapping the caller applies
    next, gives them: OUR -> THEIR) keep the file's text where pandas would read numbers: models ``007`` and
    ``1.10`` stay ``"007"`` and ``"1.10"``, as JSON lines and parquet give them; in the :data:`NAME_COLUMNS`
    only an empty cell is missing (a model named ``NA`` or ``None`` keeps its name).

    Raises:
        DataError: missing file, content that does not match the suffix, a broken JSON line
            (``file:line``), a JSON array element that is not an object, or an unreadable CSV/parquet.
        UserError: an unknown suffix, or parquet without pyarrow.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        kind = _sniff(fh.read(_SNIFF_BYTES))
    if suffix in JSON_SUFFIXES:
        if kind in ("csv", "tsv", "parquet"):
            raise _wrong_format(path, "json", kind)
        return _read_json(path)
    if suffix in CSV_SUFFIXES:
        expected = "tsv" if suffix == ".tsv" else "csv"
        if kind in ("json", "parquet"):
            raise _wrong_format(path, expected, kind)
        sep = "\t" if suffix == ".tsv" else ","
        def theirs(ours: tuple[str, ...]) -> set[str]:
            return {(columns or {}).get(c, c) for c in ours} | set(ours)

        return read_csv_table(path, sep, theirs(TEXT_COLUMNS), theirs(NAME_COLUMNS))
    if suffix in PARQUET_SUFFIXES:
        if kind in ("json", "csv", "tsv"):
            raise _wrong_format(path, "parquet", kind)
        return _read_parquet(path)
    raise UserError(
        f"{path}: unknown table format {suffix or '(no suffix)'!r}; use .jsonl, .json, .csv, .tsv or .parquet"
    )


def _read_json(path: Path) -> pd.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"["):
        return _read_json_array(path)
    fast = None if head.startswith(b"\xef\xbb\xbf") else _read_flat_jsonl(path)
    if fast is not None:
        return fast
    from arena.store import read_jsonl

    return pd.DataFrame([obj for _, obj in read_jsonl(path)])


def _read_json_array(path: Path) -> pd.DataFrame:
    try:
        rows = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    bad = next((k for k, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise DataError(
            f"{path}: element {bad + 1} of the JSON array is {type(rows[bad]).__name__}, "
            "expected an object with named fields"
        )
    return pd.DataFrame(rows)


def _read_flat_jsonl(path: Path) -> pd.DataFrame | None:
    """JSON lines through pyarrow's reader (several times faster than pandas' or a Python loop on a large
    file), where it gives exactly the frame of the line-by-line reader: every column strings, numbers or
    booleans (nulls among them). Anything else (a broken or torn line, bytes that are not UTF-8, nested values,
    a column of nulls only, text pyarrow would read as a timestamp, no pyarrow) gives None, and the line-by-line reader decides, with its ``file:line`` errors."""
    try:
        import pyarrow as pa
        import pyarrow.json as pa_json
    except ImportError:
        return None
    try:
        table = pa_json.read_json(path)
        table.validate(full=True)  # pyarrow reads bytes that are not UTF-8 into text without a check
    except (pa.ArrowException, OSError, ValueError):
        return None
    flat = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
            pa.types.is_boolean)
    if not all(any(kind(field.type) for kind in flat) for field in table.schema):
        return None
    return table.to_pandas()


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise UserError("reading parquet needs pyarrow: pip install pyarrow") from None
    except Exception as exc:  # pyarrow raises its own error types for a broken file
        raise DataError(f"{path}: cannot read as parquet ({str(exc).splitlines()[0]})") from None


def apply_mapping(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    winner_labels: Mapping[str, str],
    where: str,
) -> pd.DataFrame:
    """Rename another tool's columns and winner labels to ours.

    Args:
        frame: the table as read.
        columns: OUR column -> THEIR column (``--map model_a=left,model_b=right``). Their column is renamed
            (a swap such as ``model_a=model_b,model_b=model_a`` works); a column of ours already in the file
            is replaced by the mapped one.
        winner_labels: THEIR winner label -> OURS (``--winner-labels left=model_a,right=model_b,tie=tie``),
            applied to the ``winner`` column after the column mapping; labels not listed are kept as they
            are, so a leftover label meets the usual unknown-winner error in validation.
        where: the file, for error messages.

    Returns:
        A new frame; the input is not changed.

    Raises:
        DataError: a mapped column that the file does not have (the message lists the file's columns), or
            winner labels without a ``winner`` column.
        UserError: a winner label mapped to something that is not one of our labels.
    """
    from arena.records import WINNERS

    have = [str(c) for c in frame.columns]
    for ours, theirs in columns.items():
        if theirs not in frame.columns:
            raise DataError(
                f"{where}: --map {ours}={theirs}: no column {theirs!r}.{did_you_mean(theirs, have)} "
                f"The file's columns: {', '.join(have) or '(none)'}"
            )
    for theirs, ours in winner_labels.items():
        if ours not in WINNERS:
            raise UserError(
                f"--winner-labels {theirs}={ours}: {ours!r} is not a winner label; map to one of "
                f"{', '.join(WINNERS)}"
            )
    out = frame
    if columns:
        mapped = pd.DataFrame({ours: frame[theirs] for ours, theirs in columns.items()}, index=frame.index)
        dropped = [c for c in frame.columns if c in set(columns.values()) | set(columns)]
        rest = frame.drop(columns=dropped)
        out = pd.concat([mapped, rest], axis=1)
    else:
        out = frame.copy()
    if winner_labels:
        if "winner" not in out.columns:
            raise DataError(
                f"{where}: --winner-labels given but there is no winner column; map one with --map winner=COLUMN"
            )
        raw = out["winner"]
        text = raw.where(raw.isna(), raw.astype(str).str.strip())
        mapped = text.map(dict(winner_labels))
        out["winner"] = mapped.where(mapped.notna(), text)
    out.attrs.update(frame.attrs)
    return out


VOTE_COLUMNS: tuple[str, ...] = ("game_key", "shown_left", "label", "annotator")
"""Columns that mark a table of human votes (one :class:`~arena.records.HumanVote` a row)."""


def is_vote_table(frame: pd.DataFrame) -> bool:
    """True when ``frame`` holds human votes (``human_votes.jsonl``) rather than battles."""
    return set(VOTE_COLUMNS) <= {str(c) for c in frame.columns}


def read_votes_frame(frame: pd.DataFrame, where: str) -> list[HumanVote]:
    """Validate each row of a vote table as a :class:`~arena.records.HumanVote` (errors name the row)."""
    from pydantic import ValidationError

    from arena.records import HumanVote

    votes = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        clean = {k: v for k, v in row.items() if not (isinstance(v, float) and v != v)}  # NaN: absent
        try:
            votes.append(HumanVote.model_validate(clean))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"]) or "row"
            raise DataError(f"{where}: vote {i + 1}: {loc}: {err['msg'].removeprefix('Value error, ')}") from None
    return votes
