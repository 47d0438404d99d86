"""Read a run dir back as typed records: the one loader for rate, export, the browser and the API.

:func:`load_run` never fails on a missing or partial file: what it could not read is a line in
:attr:`Run.notes` (a torn last line of a JSONL file, written while a run is in progress, is skipped
as everywhere in arena). Files of earlier versions load through the tolerant records of
:mod:`arena.records.outputs`.

JSONL lines are parsed with orjson (a run of 100,000 judgments is about 60-90 MB); a file with a broken
line is read again with :func:`arena.store.read_jsonl` for its ``file:line`` message. ``judgments.jsonl``
is kept as bytes by :func:`load_run`: the browser reads it as a frame in bulk (:meth:`Run.judgment_frame`,
pyarrow, about 4 times faster than parsing each line and building the frame from dicts), and its lines
are parsed on first use of :attr:`Run.judgment_lines` (a torn or broken line is noted then) and validated
on first use of :attr:`Run.judgments` (validating 100,000 of them takes seconds). ``battles.jsonl`` is
read in bulk the same way when it is whole and plain.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from arena.errors import UserError
from arena.records import Answer, Battle, JudgeReport, Judgment, LeaderboardRow, Manifest, Question
from arena.store import parse_record, read_jsonl

if TYPE_CHECKING:
    import pandas as pd

R = TypeVar("R", bound=BaseModel)
Line = tuple[str, dict[str, Any]]
"""``(file:line, object)``: one line of a JSONL file as read."""

RUN_FILES: tuple[str, ...] = ("battles.jsonl", "judgments.jsonl", "leaderboard.json", "leaderboard.md",
                              "judge_report.json", "manifest.json", "questions.jsonl", "jury_battles.jsonl")
"""The files of a run dir besides ``answers/``."""


@dataclass
class Run:
    """Everything one run dir holds, typed."""

    run_dir: Path
    questions: dict[str, Question] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    """Every answer by key (the last line of a key wins, as in the stores)."""
    judgment_raw: bytes | None = field(default=None, repr=False)
    """``judgments.jsonl``'s bytes until :attr:`judgment_lines` has parsed them (then None)."""
    judgment_problems: list[str] = field(default_factory=list)
    """Lines of ``judgments.jsonl`` that do not validate as judgments (filled by :attr:`judgments`)."""
    battles: pd.DataFrame | None = None
    """``battles.jsonl`` validated by :func:`arena.rating.validate_frame` (``count``/``weight`` kept);
    None when the file is missing or unreadable (see :attr:`notes`)."""
    jury_battle_lines: list[Line] = field(default_factory=list)
    """``jury_battles.jsonl`` as read (a jury's run: every juror's battles), not validated: see
    :attr:`jury_battles`."""
    leaderboard: list[LeaderboardRow] = field(default_factory=list)
    leaderboard_extras: dict[str, Any] = field(default_factory=dict)
    """``extras`` of a full leaderboard document (per-category rows etc.), when the file is one."""
    leaderboard_notes: list[str] = field(default_factory=list)
    """The leaderboard's warnings as the run wrote them under ``leaderboard.md``
    (:func:`arena.rating.report.read_notes`); ``[]`` without that file."""
    report: JudgeReport | None = None
    manifest: Manifest | None = None
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def judgment_lines(self) -> list[Line]:
        """``judgments.jsonl`` as read, every line (retries included), not validated (see :attr:`judgments`);
        parsed on first use, a torn or broken line noted in :attr:`notes` as by :func:`read_lines`."""
        raw = self.judgment_raw
        if raw is None:
            return []
        with bulk_read():
            lines = parse_bytes(raw, self.run_dir / "judgments.jsonl", self.notes)
        self.judgment_raw = None  # after parsing: a second thread reading at once parses the same bytes
        return lines

    def judgment_frame(self) -> pd.DataFrame | None:
        """Every line of ``judgments.jsonl`` as a frame (retries included, columns as in the file), or None
        when there is none.

        A clean file is read in bulk by pyarrow without parsing it line by line (a torn last line, a write in
        progress, is left out with a note); a file it does not read as plain columns (a broken line, a value of
        another type than its column's: a list as a verdict) is read through :attr:`judgment_lines`, each line
        validated as a :class:`~arena.records.Judgment` (one that does not validate is skipped with a note, as
        :attr:`judgments` skips it).
        """
        import pandas as pd

        raw = self.judgment_raw
        if raw is not None:
            whole, torn = _whole_lines(raw)
            frame = bulk_frame(whole) if whole else None
            if frame is not None:
                if torn and (note := torn_note(self.run_dir / "judgments.jsonl")) not in self.notes:
                    self.notes.append(note)
                return frame
        lines = self.judgment_lines
        problems: list[str] = []
        with bulk_read():
            valid = parse_lines(lines, Judgment, problems)
        self.notes.extend(p for p in problems if p not in self.notes)
        return pd.DataFrame([j.model_dump() for j in valid]) if valid else None

    @functools.cached_property
    def judgments(self) -> list[Judgment]:
        """One per key, in file order (a retried key: its last line), validated on first use.

        A line that does not validate is skipped; its one-line reason goes to :attr:`judgment_problems`
        and :attr:`notes`.
        """
        problems: list[str] = []
        with bulk_read():
            valid = parse_lines(self.judgment_lines, Judgment, problems)
        self.judgment_problems = problems  # assigned whole: two threads validating at once write the same list
        self.notes.extend(p for p in problems if p not in self.notes)
        return list({j.key: j for j in valid}.values())

    @functools.cached_property
    def jury_battles(self) -> list[Battle]:
        """A jury's battles (every juror's, each carrying its ``judge``), validated on first use; ``[]`` for a
        run with one judge. A line that does not validate is skipped with a note in :attr:`notes`."""
        problems: list[str] = []
        with bulk_read():
            valid = parse_lines(self.jury_battle_lines, Battle, problems)
        self.notes.extend(p for p in problems if p not in self.notes)
        return valid

    def answers_by_model(self, *, used_only: bool = True) -> dict[str, list[Answer]]:
        """Model -> its usable answers (no error), one per question; ``used_only``: only those the
        judgments refer to (all usable ones when there are no judgments)."""
        used = {k for j in self.judgments for k in (j.answer_a, j.answer_b) if k} if used_only else set()
        per: dict[str, dict[str, Answer]] = {}
        for a in self.answers.values():
            if a.error is None and (not used or a.key in used):
                per.setdefault(a.model, {})[a.question_id] = a
        return {m: list(v.values()) for m, v in per.items()}

    @property
    def mode(self) -> str | None:
        """The judge mode: the manifest's, else the judgments'."""
        if self.manifest is not None and self.manifest.mode:
            return self.manifest.mode
        return self.judgments[0].mode if self.judgments else None

    @property
    def baseline(self) -> str | None:
        """The baseline of a pairwise-baseline run."""
        return self.manifest.baseline if self.manifest is not None and self.mode == "pairwise-baseline" else None


@contextlib.contextmanager
def bulk_read() -> Iterator[None]:
    """Pause the cyclic garbage collector while a run is read and tabled.

    The lines of a big run are hundreds of thousands of acyclic dicts; every full collection during the
    read scans them all again, which makes reading 100,000 judgments about 1.5 times slower. The
    collector is enabled again on exit (if it was enabled on entry).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def is_run_dir(path: Path) -> bool:
    """True when ``path`` holds an ``answers/`` folder or any of :data:`RUN_FILES`."""
    return (path / "answers").is_dir() or any((path / n).exists() for n in RUN_FILES)


def _parse(raw: bytes, path: Path) -> tuple[list[Line], bool] | None:
    """Every object of a JSONL file's bytes, with ``torn`` (a last line without newline that does not
    parse, skipped); None when any other line is broken (the caller reads again for the message)."""
    lines = raw.split(b"\n")
    out: list[Line] = []
    loads = orjson.loads
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except orjson.JSONDecodeError:
            if n == len(lines):  # no newline after it: a write in progress
                return out, True
            return None
        if not isinstance(obj, dict):
            return None
        out.append((f"{path}:{n}", obj))
    return out, False


TEXT_FIELDS: tuple[str, ...] = ("created",)
"""Fields pyarrow would read as timestamps: kept as the text of the file."""


def bulk_frame(raw: bytes) -> pd.DataFrame | None:
    """A JSONL file's bytes as a frame read by pyarrow in bulk, with the values ``pd.DataFrame(objects)`` gives
    (lists and objects as Python lists and dicts, text as text); None when pyarrow cannot read it as plain
    columns (the caller parses the lines instead)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.json as pj

    options = pj.ParseOptions(explicit_schema=pa.schema([(f, pa.string()) for f in TEXT_FIELDS]),
                              unexpected_field_behavior="infer")
    try:
        table = pj.read_json(pa.BufferReader(raw), parse_options=options)
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows == 0:
        return None
    if not all(_plain(f.type) for f in table.schema):
        return None
    nested = [f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_null(f.type)]
    absent = [f for f in TEXT_FIELDS if f'"{f}"'.encode() not in raw]  # a forced field the file never has
    frame = table.drop_columns(nested + absent).to_pandas()
    for name in nested:
        frame[name] = pd.Series(table.column(name).to_pylist(), index=frame.index, dtype=object)
    first = orjson.loads(raw[:raw.index(b"\n")] or b"{}")  # columns in order of appearance, as pandas orders them
    order = [c for c in first if c in frame.columns] if isinstance(first, dict) else []
    order += [c for c in table.column_names if c in frame.columns and c not in order]
    return frame[order] if len(frame) == table.num_rows else None


def _plain(kind: Any) -> bool:
    """A column type whose values read back exactly as JSON parses them: text, numbers, booleans, nulls and lists
    of text (an object becomes a struct holding every key any line has, so it is not plain)."""
    import pyarrow as pa

    if pa.types.is_list(kind):
        return bool(pa.types.is_string(kind.value_type) or pa.types.is_null(kind.value_type))
    return bool(pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_null(kind))


def _whole_lines(raw: bytes) -> tuple[bytes, bool]:
    """A JSONL file's bytes up to its last whole line, and whether a torn last line (no newline, not JSON: a
    write in progress) was left out; a last line that is JSON without a newline is kept."""
    whole = raw[: raw.rfind(b"\n") + 1]
    tail = raw[len(whole):]
    if not tail.strip():
        return whole, False
    try:
        orjson.loads(tail)
    except orjson.JSONDecodeError:
        return whole, True
    return raw + b"\n", False


def torn_note(path: Path) -> str:
    """The note on a JSONL file whose last line is torn (no newline, not JSON)."""
    return f"{path.name}: the last line is incomplete (a write in progress?); it is ignored"


def parse_bytes(raw: bytes, path: Path, notes: list[str]) -> list[Line]:
    """The objects of a JSONL file's bytes with their ``file:line``, as :func:`read_lines` reads the file."""
    parsed = _parse(raw, path)
    if parsed is not None:
        rows, torn = parsed
        if torn and torn_note(path) not in notes:
            notes.append(torn_note(path))
        return rows
    out: list[Line] = []
    try:
        out.extend((f"{path}:{n}", obj) for n, obj in read_jsonl(path))
    except UserError as exc:  # read_jsonl names file:line and the fix
        notes.append(f"{exc} (the lines before it are kept)")
    return out


def read_lines(path: Path, notes: list[str]) -> list[Line]:
    """The objects of a JSONL file with their ``file:line``; a missing file is ``[]``.

    A torn last line (no newline, not JSON: a write in progress) is skipped with a note, as
    :func:`arena.store.read_jsonl` skips it; at a broken line elsewhere reading stops with a note
    naming ``file:line`` and the lines before it are kept.
    """
    if not path.is_file():
        return []
    return parse_bytes(path.read_bytes(), path, notes)


def parse_lines(lines: list[Line], cls: type[R], notes: list[str],
                normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[R]:
    """Validate lines as ``cls`` records; a line that does not validate is skipped with a note."""
    out: list[R] = []
    for where, obj in lines:
        try:
            out.append(parse_record(cls, normalise(obj) if normalise else obj, where))
        except UserError as exc:
            notes.append(f"{exc}; the line is skipped")
    return out


def read_json_file(path: Path, notes: list[str]) -> Any:
    """A JSON document, or None (missing; unreadable: with a note)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        notes.append(f"{path.name}: cannot be read ({exc}); it is being written or broken")
        return None


def _model(cls: type[R], obj: Any, path: Path, notes: list[str]) -> R | None:
    if obj is None:
        return None
    try:
        return cls.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        notes.append(f"{path.name}: {'.'.join(map(str, err['loc'])) or '(document)'}: {err['msg']}; it is ignored")
        return None


def load_leaderboard(path: Path, notes: list[str]) -> tuple[list[LeaderboardRow], dict[str, Any]]:
    """Rows (and extras, for a full result document) of ``leaderboard.json``."""
    doc = read_json_file(path, notes)
    rows, extras = (doc.get("rows") or [], doc.get("extras") or {}) if isinstance(doc, dict) else (doc or [], {})
    out = []
    for i, r in enumerate(rows if isinstance(rows, list) else []):
        row = _model(LeaderboardRow, r, path, notes)
        if row is None:
            notes[-1] = notes[-1].replace(f"{path.name}:", f"{path.name}: row {i}:", 1)
            return [], extras
        out.append(row)
    return out, extras


def load_leaderboard_notes(path: Path, notes: list[str]) -> list[str]:
    """The warnings written under the leaderboard in ``leaderboard.md`` (:func:`arena.rating.report.read_notes`);
    ``[]`` when the file is missing, and with a note when it cannot be read."""
    from arena.rating.report import read_notes

    if not path.is_file():
        return []
    try:
        text = path.read_bytes().decode("utf-8")  # as written: no newline translation (a note may hold a \r)
    except (OSError, UnicodeDecodeError) as exc:
        notes.append(f"{path.name}: cannot be read ({exc}); the leaderboard's notes are not shown")
        return []
    return read_notes(text)


def load_manifest(path: Path, notes: list[str]) -> Manifest | None:
    """``manifest.json`` of either shape (native or imported, this or an earlier version)."""
    return _model(Manifest, read_json_file(path, notes), path, notes)


def load_run(run_dir: Path | str, *, require: bool = False) -> Run:
    """Load a run dir written by ``arena run`` or ``arena import``.

    Args:
        run_dir: the run dir.
        require: raise when ``run_dir`` is not a run dir (else: an empty :class:`Run` with a note).

    Raises:
        UserError: with ``require``, ``run_dir`` holds no ``answers/`` and no ``judgments.jsonl``.
    """
    with bulk_read():
        return _load_run(Path(run_dir), require)


def _load_run(root: Path, require: bool) -> Run:
    from arena.questions import _normalise
    from arena.rating import validate_frame

    if require and not (root / "answers").is_dir() and not (root / "judgments.jsonl").is_file():
        raise UserError(f"{root}: not an arena run dir (no answers/ or judgments.jsonl); "
                        "give the work_dir of a run or the DEST of an import")
    run = Run(run_dir=root)
    notes = run.notes
    if not is_run_dir(root):
        notes.append(f"{root} holds no arena files (battles.jsonl, judgments.jsonl, answers/, ...): is it a run "
                     "dir? A run that has just started writes them as it goes")
    run.manifest = load_manifest(root / "manifest.json", notes)
    run.leaderboard, run.leaderboard_extras = load_leaderboard(root / "leaderboard.json", notes)
    run.leaderboard_notes = load_leaderboard_notes(root / "leaderboard.md", notes)
    run.report = _model(JudgeReport, read_json_file(root / "judge_report.json", notes), root / "judge_report.json",
                        notes)
    questions = parse_lines(read_lines(root / "questions.jsonl", notes), Question, notes, normalise=_normalise)
    run.questions = {q.question_id: q for q in questions}
    jpath = root / "judgments.jsonl"
    run.judgment_raw = jpath.read_bytes() if jpath.is_file() else None
    answer_dir = root / "answers"
    for path in sorted(answer_dir.glob("*.jsonl")) if answer_dir.is_dir() else []:
        run.answers.update((a.key, a) for a in parse_lines(read_lines(path, notes), Answer, notes))
    run.jury_battle_lines = read_lines(root / "jury_battles.jsonl", notes)
    bpath = root / "battles.jsonl"
    if bpath.is_file():
        import pandas as pd

        raw = bpath.read_bytes()
        frame = bulk_frame(raw) if raw.endswith(b"\n") else None
        if frame is None:
            rows = [obj for _, obj in parse_bytes(raw, bpath, notes)]
            frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["model_a", "model_b", "winner"])
        try:
            run.battles = validate_frame(frame, str(bpath))
        except UserError as exc:
            notes.append(str(exc))
    return run
