"""JSONL store: append, resume by key, torn-line repair, bad lines, the run lock."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from arena.errors import DataError, UserError
from arena.records import Answer
from arena.store import JsonlStore, RunLock, read_jsonl


def answer(key: str, text: str = "hi") -> Answer:
    return Answer(key=key, question_id="1", model="m", turns=[text])


def test_append_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    store = JsonlStore(path, Answer)
    store.extend([answer("k1"), answer("k2")])
    again = JsonlStore(path, Answer)
    assert again.keys() == {"k1", "k2"}
    assert "k1" in again and "k3" not in again
    assert path.read_text().count("\n") == 2


def test_extend_keeps_what_it_read_and_wrote(tmp_path: Path) -> None:
    """The default ``keep=True``: the records read and those appended stay in memory (no re-read)."""
    store = JsonlStore(tmp_path / "a.jsonl", Answer)
    store.append(answer("k1"))
    held = store._records
    store.extend([answer("k2")])
    assert store._records is held and held is not None and set(held) == {"k1", "k2"}


def test_later_line_supersedes_earlier(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "a.jsonl", Answer)
    store.append(answer("k", "old"))
    store.append(answer("k", "new"))
    got = JsonlStore(tmp_path / "a.jsonl", Answer).get("k")
    assert got is not None and got.turns == ["new"]



def test_extend_without_keeping_forgets_and_rereads(tmp_path: Path) -> None:
    """``keep=False`` writes the lines but holds no records: the store reads the file again when asked."""
    store = JsonlStore(tmp_path / "a.jsonl", Answer)
    store.append(answer("k1", "old"))
    store.extend([answer("k1", "new"), answer("k2")], keep=False)
    assert store._records is None  # nothing held in memory
    got = store.get("k1")
    assert got is not None and got.turns == ["new"] and store.keys() == {"k1", "k2"}
    store.extend([answer("k3")], keep=False)
    store.append(answer("k4"))
    assert store.keys() == JsonlStore(tmp_path / "a.jsonl", Answer).keys() == {"k1", "k2", "k3", "k4"}

def test_appender_writes_groups_and_repairs_a_tail_torn_between_them(tmp_path: Path) -> None:
    """The reviewer's open handle: each group whole, and a torn line another writer left between two
    groups (the file's size is not where the last group ended) is cut before the next group."""
    path = tmp_path / "a.jsonl"
    store = JsonlStore(path, Answer)
    store.append(answer("k0"))
    with store.appender() as out:
        assert store._records is None  # it forgets what was read, like extend(keep=False)
        out.extend([answer("k1"), answer("k2")])
        with path.open("a") as fh:
            fh.write('{"key": "k9", "question_id": "1", "mod')  # another writer killed mid-line
        out.extend([answer("k3")])
        out.extend([])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and all(line.startswith("{") and line.endswith("}") for line in lines)
    assert lines[1] == answer("k1").model_dump_json()
    assert store.keys() == {"k0", "k1", "k2", "k3"}


def test_torn_last_line_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    JsonlStore(path, Answer).append(answer("k1"))
    with path.open("a") as fh:
        fh.write('{"key": "k2", "question_id": "1", "mod')  # crash mid-write
    store = JsonlStore(path, Answer)
    assert store.keys() == {"k1"}
    store.append(answer("k3"))
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(line.startswith("{") and line.endswith("}") for line in lines)
    assert JsonlStore(path, Answer).keys() == {"k1", "k3"}


def test_broken_middle_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(DataError, match=r"a\.jsonl:2: not valid JSON"):
        list(read_jsonl(path))


def test_non_utf8_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(DataError, match=r"a\.jsonl:2: not UTF-8"):
        list(read_jsonl(path))


def test_invalid_record_names_field(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"key": "k", "question_id": "1", "model": "m", "turns": "oops"}\n')
    with pytest.raises(DataError, match=r"a\.jsonl:1: field 'turns'"):
        JsonlStore(path, Answer).keys()


def _hold_lock(run_dir: str, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event) -> None:
    with RunLock(Path(run_dir)):
        ready.set()
        stop.wait(10)


def test_lock_refuses_second_process_and_is_released(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, stop))
    proc.start()
    try:
        assert ready.wait(20)
        with pytest.raises(UserError, match="another arena run is using this work dir"):
            RunLock(tmp_path).acquire()
    finally:
        stop.set()
        proc.join(10)
    with RunLock(tmp_path):
        pass


def test_stale_lock_of_killed_process_is_taken_over(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, stop))
    proc.start()
    assert ready.wait(20)
    proc.kill()
    proc.join(10)
    assert "pid" in (tmp_path / ".arena.lock").read_text()  # the dead holder left its note behind
    with RunLock(tmp_path):
        assert str(__import__("os").getpid()) in (tmp_path / ".arena.lock").read_text()


def test_lock_removes_the_work_dir_it_created_when_nothing_was_written(tmp_path: Path) -> None:
    work = tmp_path / "outputs" / "run"
    with pytest.raises(RuntimeError), RunLock(work):
        assert work.is_dir()
        raise RuntimeError("the run failed before writing anything")
    assert not (tmp_path / "outputs").exists()
    with RunLock(work):
        (work / "answers.jsonl").write_text("{}\n")
    assert (work / "answers.jsonl").is_file()  # written work is kept


def test_lock_keeps_a_work_dir_it_did_not_create(tmp_path: Path) -> None:
    with RunLock(tmp_path):
        pass
    assert tmp_path.is_dir()


def _append_many(path: str, prefix: str, n: int) -> None:
    store = JsonlStore(Path(path), Answer)
    for i in range(n):
        store.append(answer(f"{prefix}{i}", prefix * 20_000))  # lines past the I/O buffer: several writes each


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), p, 40)) for p in ("x", "y")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    keys = JsonlStore(path, Answer).keys()
    assert keys == {f"{p}{i}" for p in ("x", "y") for i in range(40)}
    assert path.read_text().count("\n") == 80


def test_append_waits_for_a_writer_in_the_middle_of_a_line(tmp_path: Path) -> None:
    """Another tab holding the lock with half a line written: our append must not cut its line as torn."""
    import fcntl
    import threading

    path = tmp_path / "votes.jsonl"
    JsonlStore(path, Answer).append(answer("first"))
    half_written = threading.Event()

    def other_tab() -> None:
        line = answer("other").model_dump_json() + "\n"
        with path.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.write(line[:30])
            fh.flush()
            half_written.set()
            threading.Event().wait(0.5)
            fh.write(line[30:])
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    t = threading.Thread(target=other_tab)
    t.start()
    half_written.wait(5)
    JsonlStore(path, Answer).append(answer("mine"))
    t.join(5)
    assert JsonlStore(path, Answer).keys() == {"first", "other", "mine"}
