"""CSV and TSV files into the frame every entry point reads (:func:`read_csv_table`, called by
:func:`arena.tables.read_table`): the text columns keep the file's text where pandas would read numbers or missing
values, and pyarrow reads the file in one pass wherever that gives exactly the frame of pandas' reading."""

from __future__ import annotations

import mmap
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from arena.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

_NA_TEXT: tuple[str, ...] = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                             "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
"""The cells ``pd.read_csv`` reads as missing (its default ``na_values``)."""


def _holds(path: Path, needles: list[bytes]) -> bool:
    """Whether the (non-empty) file's bytes hold any of ``needles``."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return any(data.find(needle) >= 0 for needle in needles)


def _header(path: Path, sep: str) -> list[str]:
    """The column names of the file's first line (as Python's csv module reads them)."""
    import csv

    with path.open("rb") as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace")
    return next(csv.reader([first], delimiter=sep), [])


def _csv_parse_options(path: Path, sep: str) -> pa_csv.ParseOptions:
    """pyarrow's CSV parsing of the file: a value can hold a newline only where the file holds a quote; without
    one pyarrow reads in parallel blocks (~2x)."""
    import pyarrow.csv as pa_csv

    return pa_csv.ParseOptions(delimiter=sep, newlines_in_values=_holds(path, [b'"']))


def _read_csv_arrow(path: Path, sep: str, texts: set[str], names: set[str]) -> pd.DataFrame | None:
    """A CSV or TSV file in one read by pyarrow (both cores), where that gives exactly the frame of the pandas
    reading below: pandas' missing words (:data:`_NA_TEXT`) missing, the ``texts`` columns as text, the others
    numbers or booleans without gaps. A ``names`` column with a missing cell (pyarrow read pandas' missing words as
    missing there too) is read again as the file's text, where only an empty cell is missing. Anything else gives
    None, and the pandas reading decides, with its errors: a column of other text, dates, a column with no value,
    booleans with gaps, integers past 2**53 read as floats, columns outside ``texts`` in a file that holds an ``x``
    or ``X`` (pyarrow reads ``0x10`` as 16) or a ``+`` (pyarrow reads ``+3`` as 3.0; decided from the header, before
    reading), a name given twice or empty, bytes that are not UTF-8, a row of the wrong length, no pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pa_compute
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    if path.stat().st_size == 0 or (set(_header(path, sep)) - texts and _holds(path, [b"x", b"X", b"+"])):
        return None
    try:
        table = pa_csv.read_csv(
            path, parse_options=_csv_parse_options(path, sep),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(texts, pa.string()), strings_can_be_null=True, null_values=list(_NA_TEXT),
                true_values=["True", "TRUE", "true"], false_values=["False", "FALSE", "false"]),  # pandas' words
        )
    except (pa.ArrowException, OSError, ValueError):  # text that is not UTF-8 too (check_utf8)
        return None
    if len(set(table.column_names)) < table.num_columns or "" in table.column_names:
        return None
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if field.name in texts or pa.types.is_integer(kind) or (pa.types.is_boolean(kind) and not column.null_count):
            continue
        if not pa.types.is_floating(kind):
            return None
        big = pa_compute.max(pa_compute.abs(column)).as_py()  # pandas keeps huge integers exact; pyarrow does not
        if big is not None and big >= 2.0**53:
            return None
    gaps = [name for name in table.column_names if name in names and table.column(name).null_count]
    if gaps:  # an empty name cell, or a model named NA: the cells as written
        text = _text_columns(path, sep, gaps, table.num_rows)
        if text is None:
            return None
        for name in gaps:
            table = table.set_column(table.column_names.index(name), name, text.column(name))
    for name in texts & set(table.column_names) - names:
        if table.column(name).null_count == table.num_rows:  # pandas reads a column of no label as numbers: NaN
            table = table.set_column(table.column_names.index(name), name, table.column(name).cast(pa.float64()))
    return table.to_pandas()


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig")
        if any(re.search(r"\.\d+$", str(c)) for c in frame.columns):  # pandas renames a repeated x to x.1
            _refuse_repeated_columns(path, sep)
        return frame
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file; expected a header line with column names") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8") from None
    except pd.errors.ParserError as exc:
        kind = "TSV" if sep == "\t" else "CSV"
        raise DataError(f"{path}: cannot read as {kind} ({str(exc).splitlines()[0]})") from None


def _refuse_repeated_columns(path: Path, sep: str) -> None:
    """Refuse a header that names a column twice: pandas would read the second as ``x.1`` and every reader
    would take the first, silently ignoring the other (two ``winner`` columns that disagree)."""
    header = pd.read_csv(path, sep=sep, encoding="utf-8-sig", header=None, nrows=1, dtype=str).iloc[0].tolist()
    seen: dict[str, int] = {}
    for k, name in enumerate(header, start=1):
        if not isinstance(name, str):  # an empty header cell: pandas names it "Unnamed: k"
            continue
        if name in seen:
            raise DataError(f"{path}: the header names column {name!r} twice (columns {seen[name]} and {k}); "
                            "rename or drop one")
        seen[name] = k


def _text_as_written(frame: pd.DataFrame, path: Path, sep: str, texts: set[str], names: set[str]) -> pd.DataFrame:
    """``frame`` with its columns in ``texts`` that pandas read as numbers or booleans, and its columns in ``names``
    where pandas read a cell as missing, read again as the text the file holds (pyarrow, those columns only:
    about what casting them to text costs). In ``names`` only an empty cell is missing; in the other columns
    pandas' missing words stay missing. Where pyarrow cannot read the file so (a column name it sees
    otherwise, rows it counts otherwise), ``frame`` is returned as is."""
    redo = [c for c in frame.columns if (c in texts and not pd.api.types.is_string_dtype(frame[c])
                                         and frame[c].notna().any()) or (c in names and frame[c].isna().any())]
    if not redo:
        return frame
    table = _text_columns(path, sep, redo, len(frame))
    if table is None:
        return frame
    out = frame.copy()
    for name in redo:
        text = pd.Series(table.column(name).to_pandas(), index=frame.index, dtype="str")
        out[name] = text if name in names else text.mask(text.isin(_NA_TEXT))
    return out


def _text_columns(path: Path, sep: str, columns: list[str], rows: int) -> pa.Table | None:
    """The file's ``columns`` as the text it holds (pyarrow; only an empty cell is missing), or None where pyarrow
    reads the file otherwise (a column name it does not see, another number of rows)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        table = pa_csv.read_csv(
            path, parse_options=_csv_parse_options(path, sep),
            convert_options=pa_csv.ConvertOptions(include_columns=columns,
                                                  column_types=dict.fromkeys(columns, pa.string()),
                                                  strings_can_be_null=True, null_values=[""]),
        )
    except (pa.ArrowException, KeyError, ValueError):
        return None
    return table if table.num_rows == rows and table.column_names == columns else None


def read_csv_table(path: Path, sep: str, texts: set[str], names: set[str]) -> pd.DataFrame:
    """The CSV (``sep`` ``,``) or TSV (``\\t``) file as a frame: pyarrow's one read (:func:`_read_csv_arrow`) where it
    gives pandas' frame exactly, else pandas' read with the ``texts`` columns read again as the file's text
    (:func:`_text_as_written`; in ``names`` only an empty cell is missing).

    Raises:
        DataError: an empty file, bytes that are not UTF-8, rows pandas cannot read, a column named twice.
    """
    fast = _read_csv_arrow(path, sep, texts, names)
    if fast is not None:
        return fast
    return _text_as_written(_read_csv(path, sep), path, sep, texts, names)
