"""The reviewer: errors kept and counted, --retry-errors re-asks only those, a re-run makes no call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from arena.judging import reviewer
from arena.judging.judge import Judge
from arena.judging.parsers import Parsed
from arena.judging.plan import plan_games
from arena.judging.reviewer import GroupWriter, judgments_path, make_judgment, review
from arena.keys import PartialKey, content_key
from arena.providers.base import Completion, Conversation, GenerationSettings, StreamingProvider
from arena.records import Judgment
from arena.store import JsonlStore

SETTINGS = GenerationSettings(max_new_tokens=8)


class Scripted:
    """Replies ``[[A]]`` except to games whose prompt contains a word in ``bad`` (unparsable or errored)."""

    name = "scripted"

    def __init__(self, bad: Sequence[str] = (), kind: str = "text") -> None:
        self.bad = set(bad)
        self.kind = kind
        self.calls: list[Conversation] = []

    def _one(self, conv: Conversation) -> Completion:
        self.calls.append(conv)
        if any(b in conv[-1]["content"] for b in self.bad):
            if self.kind == "text":
                return Completion(text="I cannot decide.")
            return Completion(text="", error="rate_limited: HTTP 429")
        return Completion(text="My final verdict is [[A]]", prompt_tokens=100, completion_tokens=7,
                          meta={"probabilities": {"A": 0.7, "B": 0.2, "C": 0.1}})

    def generate(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> list[Completion]:
        return [self._one(c) for c in conversations]


class Streaming(Scripted, StreamingProvider):
    """Yields results one by one (reverse order) and can crash after ``crash_after`` of them."""

    def __init__(self, crash_after: int | None = None) -> None:
        super().__init__()
        self.crash_after = crash_after

    def generate_iter(self, conversations: Sequence[Conversation], settings: GenerationSettings) -> Iterator[tuple[int, Completion]]:
        for n, i in enumerate(reversed(range(len(conversations)))):
            if self.crash_after is not None and n == self.crash_after:
                raise RuntimeError("judge crashed")
            yield i, self._one(conversations[i])


@pytest.fixture
def games(questions, answers):
    return plan_games(questions, answers, "pairwise-all").games


def _stored(tmp_path) -> list[Judgment]:
    return list(JsonlStore(judgments_path(tmp_path), Judgment))


@pytest.mark.parametrize("kind", ["text", "error"])
def test_errors_kept_counted_and_retried(tmp_path, games, make_judge, kind: str) -> None:
    judge = make_judge()
    provider = Scripted(bad=["gamma"], kind=kind)
    stats = review(games, judge, provider, tmp_path, SETTINGS, chunk_size=7, progress=False)
    with_gamma = [g for g in games if "gamma" in (g.model_a, g.model_b)]
    assert stats.judged == len(games) and stats.errors == len(with_gamma)
    assert sum(stats.error_kinds.values()) == stats.errors
    expected_kind = "no verdict ([[A]], [[B]] or [[C]]) in the reply" if kind == "text" else "rate_limited"
    assert stats.error_kinds[expected_kind] == stats.errors
    stored = _stored(tmp_path)
    assert len(stored) == len(games)
    bad = [j for j in stored if j.error is not None]
    assert len(bad) == len(with_gamma) and all(j.verdict is None and j.score is None for j in bad)
    good = [j for j in stored if j.error is None]
    assert all(j.verdict == "A>B" and j.probabilities == {"A": 0.7, "B": 0.2, "C": 0.1} for j in good)
    assert stats.prompt_tokens == 100 * len(good)

    # A plain re-run: everything is on disk, no call.
    again = Scripted()
    stats2 = review(games, judge, again, tmp_path, SETTINGS, progress=False)
    assert again.calls == [] and stats2.done_before == len(games) and stats2.judged == 0

    # --retry-errors: only the errored games are asked again; now they succeed.
    fixed = Scripted()
    stats3 = review(games, judge, fixed, tmp_path, SETTINGS, retry_errors=True, progress=False)
    assert len(fixed.calls) == len(with_gamma) and stats3.errors == 0
    latest = {j.key: j for j in _stored(tmp_path)}
    assert all(j.error is None for j in latest.values())

    # and afterwards retry_errors has nothing left to do
    none = Scripted()
    review(games, judge, none, tmp_path, SETTINGS, retry_errors=True, progress=False)
    assert none.calls == []


def test_streaming_provider_writes_as_results_arrive(tmp_path, games, make_judge) -> None:
    judge = make_judge()
    with pytest.raises(RuntimeError, match="crashed"):
        review(games, judge, Streaming(crash_after=5), tmp_path, SETTINGS, chunk_size=len(games), progress=False)
    assert len(_stored(tmp_path)) == 5  # what finished before the crash is on disk
    rest = Streaming()
    stats = review(games, judge, rest, tmp_path, SETTINGS, chunk_size=len(games), progress=False)
    assert stats.done_before == 5 and len(rest.calls) == len(games) - 5
    stored = {j.key: j for j in _stored(tmp_path)}
    assert {judge.key(g) for g in games} == set(stored)
    for g in games:  # out-of-order results land on the right game
        assert stored[judge.key(g)].model_a == g.model_a and stored[judge.key(g)].swapped == g.swapped


def test_group_commit_writes_in_groups_by_count_and_by_time(tmp_path, games, make_judge) -> None:
    judge = make_judge()
    store: JsonlStore[Judgment] = JsonlStore(judgments_path(tmp_path), Judgment)
    records = [make_judgment(judge, g, Completion(text="[[A]]"), "p", []) for g in games[:25]]
    writer = GroupWriter(store, commit_s=30.0, commit_n=10)
    writer.add(records[:25])
    writer.close()
    assert writer.commits == 1 and len(_stored(tmp_path)) == 25  # one group: all were waiting at once

    timed = GroupWriter(JsonlStore(tmp_path / "t.jsonl", Judgment), commit_s=0.05, commit_n=1000)
    timed.add(records[:3])
    time.sleep(0.5)  # the time bound: on disk after commit_s, with no more judgments arriving
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 3 and timed.commits == 1
    timed.close()

    counted = GroupWriter(JsonlStore(tmp_path / "n.jsonl", Judgment), commit_s=30.0, commit_n=10)
    for r in records:
        counted.add((r,))
    time.sleep(0.5)  # the count bound: full groups written long before commit_s (at most 5 may still wait)
    assert len((tmp_path / "n.jsonl").read_text().splitlines()) >= 20
    counted.close()
    assert len((tmp_path / "n.jsonl").read_text().splitlines()) == 25


def test_streaming_provider_gets_one_large_chunk(tmp_path, games, make_judge) -> None:
    provider = Streaming()
    seen: list[int] = []
    original = provider.generate_iter

    def spy(convs, settings):  # type: ignore[no-untyped-def]
        seen.append(len(convs))
        return original(convs, settings)

    provider.generate_iter = spy  # type: ignore[method-assign]
    review(games, make_judge(), provider, tmp_path, SETTINGS, chunk_size=3, progress=False)
    assert seen == [len(games)]  # no per-chunk barrier: the provider's own concurrency bounds what is in flight


def test_streaming_chunk_scales_with_the_providers_concurrency(tmp_path, games, make_judge, monkeypatch) -> None:
    """A chunk holds STREAM_WAVES times the concurrency: the barrier between chunks stays rare at 256 in flight."""
    monkeypatch.setattr(reviewer, "STREAM_CHUNK", 4)
    monkeypatch.setattr(reviewer, "STREAM_WAVES", 2)
    for concurrency, expected in ((None, 4), (1, 4), (3, 6)):
        provider = Streaming()
        if concurrency is not None:
            provider.concurrency = concurrency  # type: ignore[attr-defined]
        seen: list[int] = []
        original = provider.generate_iter

        def spy(convs, settings, original=original, seen=seen):
            seen.append(len(convs))
            return original(convs, settings)

        provider.generate_iter = spy  # type: ignore[method-assign]
        run_dir = tmp_path / f"c{concurrency}"
        stats = review(games, make_judge(), provider, run_dir, SETTINGS, chunk_size=3, progress=False)
        assert max(seen) == expected and sum(seen) == len(games) == stats.judged
        assert len(_stored(run_dir)) == len(games)


def test_each_games_key_is_computed_once(tmp_path, games, make_judge, monkeypatch) -> None:
    """The key found for the pending check is the one stored: one content hash per game, not two."""
    judge = make_judge()
    calls: list[str] = []
    original = Judge.key

    def counting(self, game):
        calls.append(game.game_key)
        return original(self, game)

    monkeypatch.setattr(Judge, "key", counting)
    review(games, judge, Streaming(), tmp_path, SETTINGS, progress=False)
    review(games[:3], judge, Scripted(), tmp_path / "plain", SETTINGS, progress=False)
    assert len(calls) == len(games) + 3
    monkeypatch.setattr(Judge, "key", original)
    assert {j.key for j in _stored(tmp_path)} == {judge.key(g) for g in games}


def test_judgment_keys_are_those_earlier_versions_wrote(games, questions, answers, make_judge) -> None:
    """A resumed run must find the judgments on disk: keys equal ``content_key`` of the documented dict
    (judge spec, prompt set, prompt name and hash, parser, answers, turn, question, reference, answer limit),
    and the values the key code wrote before it was made faster (computed with it, pairwise and single,
    turn 1 and turn 2 with a reference answer shown)."""
    written_before = {("pairwise-all", 1): "0067ec028f81cd608bf7", ("pairwise-all", 2): "21bffc1146a33e9da1d4",
                      ("single", 1): "8bece63d4f7523579a06", ("single", 2): "008ca53932fbf51b4ab4"}
    for mode in ("pairwise-all", "single"):
        judge = make_judge(mode=mode)
        for g in plan_games(questions, answers, mode).games:
            prompt = judge.prompt_for(g)
            documented = {
                "judge": judge.spec, "set": [judge.prompts.name, judge.prompts.version],
                "prompt": [prompt.name, content_key([prompt.system_prompt, prompt.template])],
                "parser": judge.parser_name,
                "answers": [g.answer_a.key, g.answer_b.key if g.answer_b else None], "turn": g.turn,
                "question": g.question.content_key,
                "reference": g.question.reference if "ref_answer" in prompt.template else None,
                "max_answer_chars": judge.max_answer_chars,
            }
            assert judge.key(g) == content_key(documented) == content_key(judge.key_fields(g))
            if g.question.question_id == "m1" and g.model_a == "alpha" and g.model_b in (None, "beta"):
                assert judge.key(g) == written_before.pop((mode, g.turn))
    assert not written_before
    assert any(judge.key_fields(g)["reference"] for g in games)  # the reference branch was covered


def test_partial_key_equals_content_key() -> None:
    """PartialKey writes the same canonical JSON as content_key, for any split into fixed and varying names."""
    fixed = {"spec": {"z": [1, 2.5, None], "a": "é\"\\\n"}, "flag": True, "n": -3}
    cases = [("x", 7, None), ("\u2028 \x00", 0, [1, "a"]), ("", 2**70, {"b": 1, "a": 2.0})]
    for varying in (("text", "count", "extra"), ("extra", "text", "count")):
        keyer = PartialKey(fixed, varying)
        for values in cases:
            vals = dict(zip(("text", "count", "extra"), values, strict=True))
            assert keyer(*(vals[n] for n in varying)) == content_key(fixed | vals)
    assert PartialKey({}, ("a",))(True) == content_key({"a": True})
    with pytest.raises(ValueError, match="distinct"):
        PartialKey({"a": 1}, ("a",))
    with pytest.raises(TypeError, match="takes 1 values"):
        PartialKey({}, ("a",))(1, 2)


def test_writer_builds_records_in_its_thread_and_reraises_a_failure(tmp_path, games, make_judge) -> None:
    """With ``make``, what was added becomes judgments in the writer thread; a failure there reaches close()."""
    judge = make_judge()
    threads: list[str] = []

    def make(items: list[int]) -> list[Judgment]:
        threads.append(threading.current_thread().name)
        if 99 in items:
            raise RuntimeError("bad reply")
        return [make_judgment(judge, games[i], Completion(text="[[B]]"), "p", []) for i in items]

    writer = GroupWriter(JsonlStore(judgments_path(tmp_path), Judgment), commit_s=30.0, commit_n=1000, make=make)
    writer.add([0, 1, 2])
    writer.close()
    assert threads == ["arena-judgments-writer"] and [j.verdict for j in _stored(tmp_path)] == ["B>A"] * 3
    failing = GroupWriter(JsonlStore(tmp_path / "f.jsonl", Judgment), commit_s=30.0, commit_n=1000, make=make)
    failing.add([99])
    with pytest.raises(RuntimeError, match="bad reply"):
        failing.close()


def test_a_parser_that_raises_gives_a_failed_judgment_not_a_stopped_run(games, make_judge) -> None:
    """A parser bug (``KeyError('a')`` on "My final verdict is a tie." once) stopped the whole judging run: the
    reply is now kept with a parser error, as any reply without a verdict is."""
    judge = make_judge()

    def broken(text: str) -> Parsed:
        raise KeyError("a")

    record = make_judgment(judge, games[0], Completion(text="My final verdict is a tie."), "p", [], parse=broken)
    assert record.verdict is None and record.error == "parser error: KeyError: 'a'"
    assert record.output == "My final verdict is a tie."
