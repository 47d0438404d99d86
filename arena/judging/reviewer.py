"""Stage 2: the reviewer makes the judge calls of a plan and appends ``judgments.jsonl``.

It skips games whose judgment key is already on disk (so nothing is paid twice), keeps unparsable replies
as judgments with ``error`` (counted, never a verdict), and ``retry_errors`` re-asks only those.

Judgments are committed in groups (group commit): a writer thread appends what has returned and fsyncs
once per group, when ``commit_s`` seconds have passed since the oldest unwritten judgment returned or
``commit_n`` judgments are waiting, whichever comes first. One fsync per judgment held a 100 ms judge at
concurrency 64 to about a quarter of its rate; grouped, the judge stage keeps up with the provider.
The judging thread only hands the replies to the writer as they return (those that returned together in
one add); the writer parses the replies and builds the judgment records of a group together, just before
writing them to the file it holds open (:class:`~arena.store.Appender`), and does not keep them in
memory once written (at 256 calls in flight the client is CPU-bound: every microsecond the judging and
writer threads spend per reply, and every GIL hand-over they cause, is taken from the provider's event
loop).

Crash guarantee: a kill (SIGKILL, power loss) costs the judge calls in flight plus one commit window (the
judgments returned in the last ``commit_s`` seconds, or fewer once ``commit_n`` are waiting, plus those that
returned while the group before them was being fsynced), no more: those are asked again by the next run; every judgment written before is kept, and a torn last line is dropped on
read. A Python exception or Ctrl-C writes every judgment that returned before it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar, cast

from tqdm.auto import tqdm

from arena.judging.judge import Judge, RenderedPrompt
from arena.judging.parsers import Parsed
from arena.judging.plan import Game
from arena.providers.base import (
    Completion,
    GenerationSettings,
    Provider,
    StreamingProvider,
    completion_batches,
)
from arena.records import Judgment, now_iso
from arena.store import Appender, JsonlStore

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMIT_S = 0.05
"""Longest a returned judgment waits before it is written and fsynced (seconds)."""
COMMIT_N = 256
"""Most judgments written in one group commit."""
STREAM_CHUNK = 4096
"""Games handed at once to a provider that streams its results (its own concurrency bounds what is in
flight; a large chunk leaves it idle only once per chunk, while its slowest calls finish)."""
STREAM_WAVES = 32
"""A streaming provider's chunk also holds at least this many times its concurrency: between two chunks
it idles for about one call (its slowest calls finishing, then new connections), so a chunk of 32 waves
keeps that barrier near 1/32 of the time at any concurrency (4096 games alone are 16 waves at 256)."""


@dataclass
class ReviewStats:
    planned: int = 0
    done_before: int = 0
    judged: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error_kinds: Counter[str] = field(default_factory=Counter)
    fault_kinds: Counter[str] = field(default_factory=Counter)
    """Every failed attempt, including those a retry recovered from, by kind."""

    def add_calls(self, other: ReviewStats) -> None:
        """Add ``other``'s calls (judged, errors, tokens, time, error and fault kinds) to these, in place;
        the plan (``planned``, ``done_before``) stays as it is (adaptive rounds of one plan)."""
        for name in ("judged", "errors", "prompt_tokens", "completion_tokens", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_kinds.update(other.error_kinds)
        self.fault_kinds.update(other.fault_kinds)

    def __add__(self, other: ReviewStats) -> ReviewStats:
        """Two review calls together (a jury's judges): their plans and their calls."""
        total = ReviewStats(planned=self.planned + other.planned, done_before=self.done_before + other.done_before)
        total.add_calls(self)
        total.add_calls(other)
        return total


def judgments_path(run_dir: Path) -> Path:
    return run_dir / "judgments.jsonl"


def _error_kind(error: str) -> str:
    return error.split(":", 1)[0].strip()[:60]


def _parse_safely(parse: Callable[[str], Parsed], text: str) -> Parsed:
    """``parse(text)``; a parser that raises gives a judgment with an error (its reply kept, so a re-parse can
    read it) instead of stopping the run and losing the calls in flight."""
    try:
        return parse(text)
    except Exception as exc:  # noqa: BLE001 - any parser bug: this reply's verdict is an error, the run goes on
        return Parsed(error=f"parser error: {type(exc).__name__}: {str(exc)[:200]}")


def make_judgment(judge: Judge, game: Game, completion: Completion, prompt_name: str, notes: list[str],
                  key: str | None = None, *, created: str | None = None,
                  parse: Callable[[str], Parsed] | None = None) -> Judgment:
    """Turn a judge reply into a judgment record (parsing failures become ``error``).

    ``key`` is ``judge.key(game)`` when the caller has it already (the reviewer computes it once per game,
    to find what is pending); None computes it here. ``created`` (the record's timestamp, now when None)
    and ``parse`` (``judge.parse`` when None) are given once for a group of records by the reviewer.
    """
    parsed = _parse_safely(parse or judge.parse, completion.text) if completion.error is None else None
    error = completion.error if completion.error is not None else (parsed.error if parsed else None)
    probabilities = completion.meta.get("probabilities") if completion.meta else None
    return Judgment(
        key=judge.key(game) if key is None else key,
        game_key=game.game_key,
        mode=game.mode,
        question_id=game.question.question_id,
        category=game.question.category,
        turn=game.turn,
        model_a=game.model_a,
        model_b=game.model_b,
        answer_a=game.answer_a.key,
        answer_b=game.answer_b.key if game.answer_b else None,
        swapped=game.swapped,
        judge=judge.judge_id,
        prompt_set=judge.prompts.name,
        prompt_name=prompt_name,
        prompt_version=judge.prompts.version,
        output=completion.text,
        verdict=parsed.verdict if parsed and error is None else None,
        score=parsed.score if parsed and error is None else None,
        probabilities=probabilities,
        error=error,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=round(completion.latency_s, 4),
        notes=notes,
        faults=list(completion.meta.get("faults", [])) if completion.meta else [],
        created=created or now_iso(),
    )


def pending_games(games: Sequence[Game], judge: Judge, store: JsonlStore[Judgment], retry_errors: bool) -> list[Game]:
    """Games with no judgment on disk (or, with ``retry_errors``, only an errored one)."""
    return [g for g, _ in _pending(games, judge, store, retry_errors)]


def _pending(games: Sequence[Game], judge: Judge, store: JsonlStore[Judgment],
             retry_errors: bool) -> list[tuple[Game, str]]:
    """:func:`pending_games` with each game's judgment key (computed once: a key hashes the judge spec,
    the prompt and the question, about as much CPU as rendering the game)."""
    todo = []
    for g in games:
        key = judge.key(g)
        done = store.get(key)
        if done is None or (retry_errors and done.error is not None):
            todo.append((g, key))
    return todo


class GroupWriter(Generic[T]):
    """Appends judgments to a store from a writer thread, one fsync per group (see the module docstring).

    ``add`` never waits for the disk; ``close`` writes what is left and re-raises a failed write (or a
    failed ``make``).

    Args:
        make: turns what was added into the judgments to write, in the writer thread, a group at a time
            (the reviewer adds each judge reply as it returns and the records are built here, together,
            not one by one between two results on the judging thread). None: ``add`` takes judgments.
    """

    def __init__(self, store: JsonlStore[Judgment], commit_s: float = COMMIT_S, commit_n: int = COMMIT_N,
                 make: Callable[[list[T]], list[Judgment]] | None = None) -> None:
        self.store, self.commit_s, self.commit_n = store, commit_s, commit_n
        self.make = make
        self._buffer: list[T] = []
        self._oldest = 0.0
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="arena-judgments-writer", daemon=True)
        self._thread.start()

    def add(self, records: Iterable[T]) -> None:
        with self._cond:
            if self._error is not None:
                raise self._error
            first = not self._buffer
            if first:
                self._oldest = time.monotonic()
            self._buffer.extend(records)
            if first or len(self._buffer) >= self.commit_n:  # first: the writer starts its commit_s clock
                self._cond.notify()

    def _run(self) -> None:
        out: Appender | None = None  # the file, opened at the first group and kept open (see Appender)
        try:
            while True:
                with self._cond:
                    while not self._closed and (not self._buffer or (
                            len(self._buffer) < self.commit_n and time.monotonic() - self._oldest < self.commit_s)):
                        self._cond.wait(self.commit_s - (time.monotonic() - self._oldest) if self._buffer else None)
                    group, self._buffer = self._buffer, []
                    closed = self._closed
                if group:
                    records = self.make(group) if self.make is not None else cast("list[Judgment]", group)
                    if out is None:
                        out = self.store.appender()  # written, not kept alive (see JsonlStore.extend)
                    out.extend(records)
                    self.commits += 1
                if closed:
                    return
        except BaseException as exc:  # handed to the judging thread at its next add() or close()
            with self._cond:
                self._error = exc
        finally:
            if out is not None:
                out.close()

    def close(self) -> None:
        """Write every judgment added so far, stop the thread, re-raise a failed write."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if self._error is not None:
            raise self._error


def _attach_run_dir(provider: object, run_dir: Path) -> None:
    """Give a provider that keeps state in the run dir (the batch API's ledger) the run dir, through wrappers."""
    seen = provider
    while seen is not None:
        attach = getattr(seen, "attach_run_dir", None)
        if callable(attach):
            attach(run_dir)
            return
        seen = getattr(seen, "inner", None)


def _chunk_size(provider: object, chunk_size: int, todo: int) -> int:
    """Games rendered and handed to the provider at once (see :func:`review`)."""
    seen = provider
    concurrency = 1
    while seen is not None:  # a batch API provider takes everything in one call: one batch, not many
        if getattr(seen, "wants_all", False):
            return max(todo, 1)
        concurrency = max(concurrency, int(getattr(seen, "concurrency", 1) or 1))
        seen = getattr(seen, "inner", None)
    if not isinstance(provider, StreamingProvider):
        return chunk_size
    return max(chunk_size, STREAM_CHUNK, STREAM_WAVES * concurrency)


def review(
    games: Sequence[Game],
    judge: Judge,
    provider: Provider,
    run_dir: Path,
    settings: GenerationSettings,
    *,
    chunk_size: int = 32,
    retry_errors: bool = False,
    progress: bool = True,
    commit_s: float = COMMIT_S,
    commit_n: int = COMMIT_N,
) -> ReviewStats:
    """Judge every pending game; returns counts, tokens and error kinds of this call.

    Args:
        chunk_size: games rendered and handed to the provider at once (a streaming provider gets at least
            ``STREAM_CHUNK`` and ``STREAM_WAVES`` times its concurrency, a batch API provider all of them).
        commit_s, commit_n: the commit window (see the module docstring): what a kill can cost beyond the
            calls in flight.
    """
    store: JsonlStore[Judgment] = JsonlStore(judgments_path(run_dir), Judgment)
    stats = ReviewStats(planned=len(games))
    todo = _pending(games, judge, store, retry_errors)
    stats.done_before = len(games) - len(todo)
    if not todo:
        return stats
    start = time.perf_counter()
    _attach_run_dir(provider, run_dir)
    size = _chunk_size(provider, chunk_size, len(todo))
    bar = tqdm(total=len(todo), desc=f"judge {judge.judge_id}", unit="call", disable=not progress, leave=False)
    def make(returned: list[_Returned]) -> list[Judgment]:  # in the writer thread (the only one counting)
        created, parse = now_iso(), judge.verdict_format.parse  # once per group, not once per record
        records = [make_judgment(judge, g, c, r.prompt.name, r.notes, key, created=created, parse=parse)
                   for (g, key), r, c in returned]
        for rec in records:
            _count(stats, rec)
        return records

    writer = GroupWriter(store, commit_s, commit_n, make)
    try:
        for i in range(0, len(todo), size):
            chunk = todo[i : i + size]
            rendered = [judge.render(g) for g, _ in chunk]
            convs = [r.conversation for r in rendered]
            if isinstance(provider, StreamingProvider):
                # Each reply goes to the writer as its call returns: a kill loses only the calls in
                # flight and one commit window.
                for batch in completion_batches(provider, convs, settings):
                    writer.add([(chunk[k], rendered[k], c) for k, c in batch])
                    bar.update(len(batch))
            else:
                completions = provider.generate(convs, settings)
                writer.add(zip(chunk, rendered, completions, strict=True))
                bar.update(len(chunk))
    finally:
        bar.close()
        writer.close()
        stats.seconds = time.perf_counter() - start
    return stats


_Returned = tuple[tuple[Game, str], RenderedPrompt, Completion]
"""A judge reply as the reviewer hands it to the writer: (game, its key), what was sent, the completion."""


def _count(stats: ReviewStats, rec: Judgment) -> None:
    stats.judged += 1
    stats.prompt_tokens += rec.prompt_tokens
    stats.completion_tokens += rec.completion_tokens
    stats.fault_kinds.update(rec.faults)
    if rec.error is not None:
        stats.errors += 1
        stats.error_kinds[_error_kind(rec.error)] += 1
