"""Append-only JSONL files with content keys, torn-line repair and a run-dir lock.

Each record is one line; the lines of one append go out in one write and are fsynced before it returns,
so a crash loses at most the lines of the append in flight (a kill during the write leaves the lines
before it whole and at most one torn line after them). A last line without its newline (a torn write) is
ignored on read and cut off before the next append. Appends hold an exclusive ``flock`` on the file, so
several processes can append at once. A broken line anywhere else is a :class:`~arena.errors.DataError`
naming file and line.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from arena.errors import DataError, UserError

log = logging.getLogger(__name__)
R = TypeVar("R", bound=BaseModel)


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each line of ``path``.

    A leading byte-order mark and blank lines are skipped. A torn last line (no trailing newline, not valid JSON) is skipped with a
    warning; any other bad line raises :class:`DataError` with ``file:line``.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{bad_line}: not UTF-8 text (byte {exc.start}); re-save the file as UTF-8") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors write (CSV and JSON read past it too)
    lines = text.split("\n")
    torn_tail = not text.endswith("\n")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if torn_tail and i == len(lines):
                log.warning("%s:%d: ignoring a torn last line (interrupted write)", path, i)
                return
            raise DataError(f"{path}:{i}: not valid JSON ({exc.msg}); fix or delete this line") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{i}: expected a JSON object, got {type(obj).__name__}")
        yield i, obj


def parse_record(cls: type[R], obj: dict[str, Any], where: str) -> R:
    """Validate ``obj`` as ``cls``; errors name ``where`` (``file:line``) and the field."""
    try:
        return cls.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        raise DataError(f"{where}: field '{field}': {err['msg'].removeprefix('Value error, ')}") from None


def repair_torn_tail(path: Path) -> bool:
    """Cut an unterminated last line off ``path``. Returns True when something was cut."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        data = path.read_bytes()
        cut = data.rfind(b"\n") + 1
        fh.truncate(cut)
    log.warning("%s: removed a torn last line left by an interrupted write", path)
    return True


class JsonlStore(Generic[R]):
    """Typed append-only JSONL file keyed by ``record.key``.

    Example:
        >>> store = JsonlStore(run_dir / "judgments.jsonl", Judgment)   # doctest: +SKIP
        >>> if key not in store: store.append(judgment)                  # doctest: +SKIP
    """

    def __init__(self, path: Path, cls: type[R], key_field: str = "key") -> None:
        self.path = Path(path)
        self.cls = cls
        self.key_field = key_field
        self._records: dict[str, R] | None = None

    def _load(self) -> dict[str, R]:
        if self._records is None:
            records: dict[str, R] = {}
            if self.path.exists():
                for line_no, obj in read_jsonl(self.path):
                    rec = parse_record(self.cls, obj, f"{self.path}:{line_no}")
                    # A later line with the same key supersedes the earlier one (e.g. a retried error).
                    records[str(getattr(rec, self.key_field))] = rec
            self._records = records
        return self._records

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._load().values()))

    def get(self, key: str) -> R | None:
        return self._load().get(key)

    def keys(self) -> set[str]:
        return set(self._load())

    def append(self, record: R) -> None:
        """Write one record as one line, flushed and fsynced before returning (see :meth:`extend`)."""
        self.extend([record])

    def extend(self, records: Iterable[R], *, keep: bool = True) -> None:
        """Append records, one line each, under an exclusive ``flock`` on the file (see :class:`Appender`).

        Several processes may append to one file at once (two browser tabs casting votes): each append
        holds the lock while it repairs a torn tail and writes, so no line is lost or interleaved.

        Args:
            keep: also keep the records in memory (for :meth:`get`). False forgets what was read instead:
                the next question re-reads the file. For a writer that only appends (the reviewer, with
                thousands of judgments a minute): its records need not stay alive, and a large live heap
                makes every full garbage collection of the process slower.
        """
        records = list(records)
        if not records:
            return
        loaded = self._load() if keep else None
        with Appender(self.path) as out:
            out.extend(records)
        if loaded is None:
            self._records = None
            return
        for rec in records:
            loaded[str(getattr(rec, self.key_field))] = rec

    def appender(self) -> Appender:
        """An open append handle on the file, for a writer that appends many times (the reviewer's group
        commits). It forgets what was read (the next question re-reads the file), like ``keep=False``."""
        self._records = None
        return Appender(self.path)

    def rewrite(self, records: Iterable[R]) -> None:
        """Replace the file atomically (write to a temp file, then rename)."""
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        recs = list(records)
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in recs:
                fh.write(rec.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._records = {str(getattr(r, self.key_field)): r for r in recs}


class Appender:
    """The file of a :class:`JsonlStore` held open for appending; :meth:`extend` appends a group of records.

    Each :meth:`extend` takes an exclusive ``flock``, cuts a torn tail another writer may have left, writes
    all the lines in one write and fsyncs before it returns (a kill during it leaves whole lines and at
    most one torn last line). Kept open across appends, a group costs five system calls (lock, size,
    write, fsync, unlock) instead of a dozen: the reviewer's writer thread gives up and takes back the GIL
    around each one, and at hundreds of calls in flight each take waits for the event loop thread. The
    torn-tail check reads the file only when its size is not where this appender's last write left it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        self._end = -1

    def extend(self, records: Iterable[BaseModel]) -> None:
        data = "".join([rec.model_dump_json() + "\n" for rec in records]).encode("utf-8")
        if not data:
            return
        fd = self._fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            # Under the lock: another process appending to the same file waits, so its lines and ours
            # never interleave, and a torn tail is cut before anyone appends after it.
            size = os.fstat(fd).st_size
            if size != self._end and repair_torn_tail(self.path):
                size = os.fstat(fd).st_size
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            self._end = size + len(data)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON (or a pydantic record) to ``path`` through a temp file and rename: readers never see half a file."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def folder_error(where: str, folder: Path, exc: OSError | None = None) -> UserError:
    """The one-line error for a work dir that cannot be made (``exc``: why) or written (no ``exc``)."""
    problem = f"cannot make the folder {folder} ({exc.strerror or exc})" if exc is not None else \
        f"cannot write in the folder {folder} (permission denied or read-only)"
    return UserError(f"{where}: {problem}; give a folder you can write (relative to the config file)")


class RunLock:
    """Exclusive lock on a run dir (``.arena.lock``) held for the life of a run.

    Uses ``flock``, which the kernel drops when the holder dies, so a lock left by a killed process is
    taken over without any manual cleanup; the file records pid and host for the error message. A work
    dir the lock created is removed on release when the run wrote nothing into it.
    """

    def __init__(self, run_dir: Path, where: str | None = None) -> None:
        self.path = Path(run_dir) / ".arena.lock"
        self.where = where or str(run_dir)
        """What an error names first: the config's ``file:line: key 'work_dir'``, else the folder."""
        self._fh: Any = None
        self._created: list[Path] = []

    def acquire(self) -> None:
        # Folders this lock creates, deepest first: removed again on release if the run wrote nothing.
        self._created = [d for d in [self.path.parent, *self.path.parent.parents] if not d.exists()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise folder_error(self.where, self.path.parent, exc) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise UserError(
                f"{self.path.parent}: another arena run is using this work dir ({holder}); "
                "wait for it to finish or use another work_dir"
            ) from None
        previous = self._read_previous(fh)
        if previous:
            log.info("taking over the lock of a finished or killed run (%s)", previous)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}")
        fh.flush()
        self._fh = fh

    @staticmethod
    def _read_previous(fh: Any) -> str:
        fh.seek(0)
        return str(fh.read().strip())

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.seek(0)
                self._fh.truncate()
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
            self._remove_if_unused()

    def _remove_if_unused(self) -> None:
        """A run that failed before writing anything leaves no work dir behind (only if this lock made it)."""
        if not self._created or any(p != self.path for p in self.path.parent.iterdir()):
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
            for folder in self._created:
                folder.rmdir()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_json_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Records of a JSON array file or a JSONL file, each with its ``file:line`` (JSON: ``file:[index]``).

    Not :func:`arena.tables.read_table`: an importer reads another tool's nested records (lists of turns,
    dicts of scores), checks each for its keys and names it in a one-line error, so it needs every record
    as written (an absent key absent, not a NaN cell of a frame) with its location; and a CSV table here is
    the wrong file, answered with the command that imports battle tables.

    Raises:
        DataError: a missing or non-UTF-8 file, a CSV/TSV table (by suffix or content) where JSON is
            expected, broken JSON (``file:line``), or an array item that is not an object.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; re-save the file as UTF-8") from None
    head = text.lstrip()[:1]
    if path.suffix.lower() in (".csv", ".tsv") or (head and head not in "[{"):
        kind = "TSV" if path.suffix.lower() == ".tsv" or "\t" in text.split("\n", 1)[0] else "CSV"
        raise DataError(f"{path}: looks like a {kind} table, but this format reads JSON (a JSON array or JSONL); "
                        "give the tool's .json/.jsonl file, or import a battle table with "
                        "'arena import chatbot-arena FILE DEST --map ... --winner-labels ...'")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); fix the file") from None
        out = []
        for i, obj in enumerate(data):
            if not isinstance(obj, dict):
                raise DataError(f"{path}: item [{i}] is a {type(obj).__name__}, expected a JSON object")
            out.append((f"{path}:[{i}]", obj))
        return out
    return [(f"{path}:{n}", obj) for n, obj in read_jsonl(path)]


def text_of(obj: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    """``obj[key]`` of a record read from another tool's file, as text: a name, an id or a prompt is never null,
    a list or an object, nor blank unless ``empty`` (an answer may be ""). Numbers are written as text.

    Raises:
        DataError: one line naming the record (``where``) and the key.
    """
    value = obj[key]
    if value is None or isinstance(value, (list, tuple, dict, set)) or not (empty or str(value).strip()):
        shown = "null" if value is None else repr(value)[:60]
        raise DataError(f"{where}: {key!r} is {shown}; expected text")
    return str(value)
