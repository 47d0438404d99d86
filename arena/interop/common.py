"""What every importer builds (:class:`ImportedRun`) and how it becomes a run dir (:func:`write_run`).

An importer only reads the other tool's files and fills an :class:`ImportedRun`: questions, answers,
judgments (one per judge call, in the positions the judge saw) and battles. :func:`write_run` then writes
the files the rest of arena reads (``questions.jsonl``, ``answers/<model>.jsonl``, ``judgments.jsonl``,
``battles.jsonl``, ``leaderboard.{json,csv,md}``, ``judge_report.json``, ``manifest.json``), so
``arena rate``, ``arena viz`` and the meta-evaluation work on imported data exactly as on a native run.

Imported answers get keys from the same :func:`arena.generate.answer_key` as generated ones, with a spec
``{"provider": "imported", "format": ..., "model": ...}``; imported judgments get a key from the judge,
the game and the order, so re-importing the same files gives the same keys.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.errors import DataError, UserError
from arena.generate import answer_key, answers_path
from arena.keys import content_key
from arena.records import (
    Answer,
    Battle,
    HumanVote,
    ImportedSource,
    JudgeReport,
    Judgment,
    Manifest,
    Mode,
    Question,
    now_iso,
)
from arena.store import JsonlStore, read_jsonl, write_json_atomic

if TYPE_CHECKING:
    from arena.rating import LeaderboardResult

log = logging.getLogger(__name__)

VERDICT_OF_WINNER = {"model_a": "A>B", "model_b": "B>A", "tie": "A=B", "tie (bothbad)": "A=B"}
"""Position verdict of a winner label (the strength of a verdict is not in winner labels)."""


@dataclass
class ImportedRun:
    """Everything an importer read, ready to be written as a run dir."""

    fmt: str
    source: Path
    questions: dict[str, Question] = field(default_factory=dict)
    answers: dict[str, dict[str, Answer]] = field(default_factory=dict)
    """Model name -> question id -> answer."""
    judgments: list[Judgment] = field(default_factory=list)
    battles: list[Battle] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    """Single-mode score rows (``question_id, model, turn, category, score``)."""
    mode: Mode | None = None
    baseline: str | None = None
    files: list[str] = field(default_factory=list)
    """The source files read, in order."""
    notes: list[str] = field(default_factory=list)
    """What was translated, skipped or assumed: written to the manifest and printed by the CLI."""
    summary: dict[str, Any] = field(default_factory=dict)
    """Format-specific totals worth keeping (e.g. the score sums of the Vicuna reviews)."""
    strong_weight: float = 3.0
    votes: list[HumanVote] = field(default_factory=list)
    """Human votes (skips too), written to ``human_votes.jsonl``; their battles are in :attr:`battles`."""
    _judged: list[tuple[Judgment, float | None]] = field(default_factory=list)
    _answer_where: dict[tuple[str, str], str] = field(default_factory=dict)
    """(model, question id) -> the ``file:line`` its answer came from, for errors about that answer."""
    _key_uses: dict[str, int] = field(default_factory=dict)
    """Judgment key -> how many records had it (:meth:`_unique_key`)."""

    def finish(self) -> ImportedRun:
        """Turn the judged games into battle rows (after all answers are in, for the style features)."""
        from arena.judging.battles import battle_from_judgment

        by_key = self.answers_by_key()
        judged = []
        for j, weight in self._judged:
            battle = battle_from_judgment(j, by_key, self.strong_weight)
            if battle is not None:
                if weight is not None:
                    battle.weight = weight
                judged.append(battle)
        if not judged and not self.battles:
            from arena.judging.battles import single_battles

            # Single mode only: FastChat's implied battles (per question turn, the higher score wins).
            judged = single_battles([j for j in self.judgments if j.model_b is None], by_key)
        self.battles = judged + self.battles
        self._judged = []
        repeats = sum(n - 1 for n in self._key_uses.values())
        if repeats:
            self.notes.append(f"{repeats} judgments repeat an earlier record's judge, prompt, answers, order and turn: "
                              "each is kept as a judge call of its own (its key numbered), as the other tool counts it")
            self.summary["repeated_judgments"] = repeats
        self.drop_self_pairs()
        return self

    def drop_self_pairs(self) -> int:
        """Drop battles and judgments where a model meets itself (no information about any rating).

        alpaca_eval result trees include the baseline judged against itself, for example. Adds one note
        counting the games (a weighted game may be two battle rows), rows and judgments dropped, per model;
        returns the number of games dropped.
        """
        selfish = [b for b in self.battles if b.model_a == b.model_b]
        dropped_j = sum(1 for j in self.judgments if j.model_b is not None and j.model_a == j.model_b)
        if not selfish and not dropped_j:
            return 0
        games: dict[str, set[str]] = {}
        for n, b in enumerate(selfish):
            games.setdefault(b.model_a, set()).add(b.key or f"row {n}")
        self.battles = [b for b in self.battles if b.model_a != b.model_b]
        self.judgments = [j for j in self.judgments if j.model_b is None or j.model_a != j.model_b]
        n_games = sum(len(v) for v in games.values())
        who = ", ".join(f"{m} x{len(v)}" for m, v in sorted(games.items()))
        self.notes.append(f"dropped {n_games} self-pair games ({len(selfish)} battle rows, {dropped_j} judgments) "
                          "where a model meets itself" + (f": {who}" if who else ""))
        self.summary["self_pairs_dropped"] = n_games
        return n_games

    # ------------------------------------------------------------------ building blocks for importers

    def read(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        """Lines of a JSONL file (recorded in :attr:`files`)."""
        self.files.append(str(path))
        return read_jsonl(path)

    def add_question(self, question: Question) -> Question:
        """Keep the first question seen for an id (later files may only repeat it)."""
        return self.questions.setdefault(question.question_id, question)

    def question(self, question_id: str, text: str | None = None, category: str | None = None) -> Question:
        """The question with this id, made from ``text`` when no question file named it."""
        q = self.questions.get(question_id)
        if q is None:
            q = self.add_question(Question(question_id=question_id, turns=[text if text is not None else ""],
                                           category=category or "general"))
        return q

    def add_answer(self, model: str, question: Question, turns: Sequence[str], *, created: str | None = None,
                   where: str | None = None) -> Answer:
        """Record a model's answer; the same model answering a question twice keeps the first answer.

        Raises:
            DataError: the answer has no turns (naming ``where``, the record it came from).
        """
        existing = self.answers.get(model, {}).get(question.question_id)
        if existing is not None:
            return existing
        if not turns:
            raise DataError(f"{where or self.source}: {model}'s answer to question {question.question_id} has no "
                            "turns (no answer text); give its text, \"\" for an empty answer")
        self._answer_where[(model, question.question_id)] = where or str(self.source)
        spec = {"provider": "imported", "format": self.fmt, "model": model}
        fields: dict[str, Any] = {"key": answer_key(question, spec), "question_id": question.question_id,
                                  "model": model, "turns": [str(t) for t in turns], "spec": spec}
        if created:
            fields["created"] = created
        ans = Answer.model_validate(fields)
        self.answers.setdefault(model, {})[question.question_id] = ans
        return ans

    def answer_key_of(self, model: str, question: Question) -> str:
        """Key of ``model``'s answer to ``question`` (whether or not its text was imported)."""
        found = self.answers.get(model, {}).get(question.question_id)
        if found is not None:
            return found.key
        return answer_key(question, {"provider": "imported", "format": self.fmt, "model": model})

    def add_pair_judgment(
        self,
        *,
        question: Question,
        model_1: str,
        model_2: str,
        swapped: bool,
        verdict: str | None,
        judge: str,
        mode: Mode,
        turn: int = 1,
        output: str = "",
        prompt_name: str = "",
        error: str | None = None,
        notes: Iterable[str] = (),
        probabilities: dict[str, float] | None = None,
        weight: float | None = None,
        make_battle: bool = True,
        where: str | None = None,
        created: str | None = None,
    ) -> Judgment:
        """One pairwise judge call over the canonical pair ``(model_1, model_2)``.

        ``swapped`` False: ``model_1`` was shown in position A; True: ``model_2`` was. ``verdict`` is in
        the positions the judge saw (``A>B``: position A won). A battle row is added unless the judgment
        failed; ``weight`` overrides the strong-verdict weight; ``created`` is when the other tool judged it
        (default: now).

        Raises:
            DataError: an imported answer of either model has fewer turns than ``turn`` (naming ``where``).
        """
        for model in (model_1, model_2):
            self._check_turn(model, question, turn, where)
        k1, k2 = self.answer_key_of(model_1, question), self.answer_key_of(model_2, question)
        game_key = content_key(["pair", k1, k2, turn])
        a, b = (model_2, model_1) if swapped else (model_1, model_2)
        ka, kb = (k2, k1) if swapped else (k1, k2)
        if verdict is None and error is None:
            error = "no verdict in the imported record"
        j = Judgment(
            key=self._unique_key(["imported", self.fmt, judge, prompt_name, ka, kb, turn]),
            game_key=game_key, mode=mode, question_id=question.question_id, category=question.category,
            turn=turn, model_a=a, model_b=b, answer_a=ka, answer_b=kb, swapped=swapped, judge=judge,
            prompt_set=f"imported:{self.fmt}", prompt_name=prompt_name, prompt_version="imported", output=output,
            verdict=verdict if error is None else None,
            error=error, notes=list(notes), probabilities=probabilities, **({"created": created} if created else {}),
        )
        self.judgments.append(j)
        if make_battle and j.verdict is not None:
            self._judged.append((j, weight))
        return j

    def add_single_judgment(
        self, *, question: Question, model: str, score: float | None, judge: str, turn: int = 1,
        output: str = "", prompt_name: str = "", error: str | None = None, where: str | None = None,
        created: str | None = None,
    ) -> Judgment:
        """One single-answer grading; its score also becomes a score row (``created``: as in
        :meth:`add_pair_judgment`).

        Raises:
            DataError: the imported answer has fewer turns than ``turn`` (naming ``where``).
        """
        self._check_turn(model, question, turn, where)
        ka = self.answer_key_of(model, question)
        if score is None and error is None:
            error = "no score in the imported record"
        j = Judgment(
            key=self._unique_key(["imported", self.fmt, judge, prompt_name, ka, turn]),
            game_key=content_key(["single", ka, turn]), mode="single", question_id=question.question_id,
            category=question.category, turn=turn, model_a=model, answer_a=ka, judge=judge,
            prompt_set=f"imported:{self.fmt}", prompt_name=prompt_name, prompt_version="imported", output=output,
            score=score if error is None else None, error=error, **({"created": created} if created else {}),
        )
        self.judgments.append(j)
        if j.score is not None:
            self.scores.append({"question_id": question.question_id, "model": model, "turn": turn,
                                "category": question.category, "score": j.score})
        return j

    def _check_turn(self, model: str, question: Question, turn: int, where: str | None) -> None:
        """A judgment of turn ``turn`` needs an answer with that turn (when the answer's text was imported)."""
        answer = self.answers.get(model, {}).get(question.question_id)
        if answer is not None and turn > len(answer.turns):
            n = len(answer.turns)
            raise DataError(f"{where or self.source}: judges turn {turn} of {model}'s answer to question "
                            f"{question.question_id}, but {self._answer_where[(model, question.question_id)]} "
                            f"holds {n} turn{'s' if n != 1 else ''}; fix the answer or drop this judgment")

    def _unique_key(self, parts: list[Any]) -> str:
        """The judgment key of ``parts``; a record repeating an earlier one's gets the repeat number in its key.

        A run's ``judgments.jsonl`` keeps one judgment per key (a later line supersedes an earlier one), so two
        imported records of the same judge call (the same line twice, or one game in two files) would be two
        battles but one judgment when the run dir is read back. Numbered, each stays one judge call everywhere,
        and importing the same files again gives the same keys.
        """
        key = content_key(parts)
        n = self._key_uses.get(key, 0)
        self._key_uses[key] = n + 1
        return key if n == 0 else content_key([*parts, "repeat", n])

    def answers_by_key(self) -> dict[str, Answer]:
        return {a.key: a for per in self.answers.values() for a in per.values()}

    def counts(self) -> dict[str, int | float]:
        return {
            "questions": len(self.questions),
            "models_with_answers": len(self.answers),
            "answers": sum(len(v) for v in self.answers.values()),
            "judgments": len(self.judgments),
            "failed_judgments": sum(1 for j in self.judgments if j.error is not None),
            "battles": len(self.battles),
            "battles_counted": _num(sum(b.count for b in self.battles)),
            "scores": len(self.scores),
            "votes": len(self.votes),
        }


def _num(x: float) -> int | float:
    return int(round(x)) if abs(x - round(x)) < 1e-9 else float(x)


# ---------------------------------------------------------------------------------------------- writing


@dataclass
class ImportResult:
    """What :func:`arena.interop.import_run` wrote."""

    run_dir: Path
    imported: ImportedRun
    leaderboard: LeaderboardResult | None = None
    report: JudgeReport = field(default_factory=JudgeReport)


def write_run(run: ImportedRun, dest: Path, *, bootstrap: int = 1000, seed: int = 0) -> ImportResult:
    """Write an imported run as an arena run dir (see the module docstring for the files).

    Everything is written into a temporary sibling folder and renamed to ``dest`` at the end, so an error
    midway leaves ``dest`` absent or as it was (never half a run). When ``dest`` already exists with other
    files (not a run), the new files are moved into it only after all of them were written.

    Raises:
        UserError: ``dest`` already holds a run (the files would mix); choose an empty folder.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest}: is a file; give a folder for the imported run")
    if dest.exists() and any((dest / name).exists() for name in ("battles.jsonl", "judgments.jsonl", "answers")):
        raise UserError(f"{dest}: already holds a run (battles/judgments/answers); import into an empty folder")
    if not run.battles and not run.scores:
        raise DataError(f"{run.source}: no judged battle or score found to import; is this a {run.fmt} folder/file?")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.importing-", dir=dest.parent))
    try:
        result = _write_files(run, tmp, bootstrap=bootstrap, seed=seed)
        _move_into_place(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    result.run_dir = dest
    return result


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest`` (absent or empty), or move its entries into an existing ``dest``."""
    if not dest.exists() or not any(dest.iterdir()):
        os.replace(tmp, dest)
        return
    for entry in sorted(tmp.iterdir()):
        os.replace(entry, dest / entry.name)


def _write_files(run: ImportedRun, dest: Path, *, bootstrap: int, seed: int) -> ImportResult:
    from arena.rating import RatingSettings
    from arena.rundir.manifest import versions
    from arena.rundir.outputs import rating_baseline, write_outputs

    if run.questions:
        JsonlStore(dest / "questions.jsonl", Question, key_field="question_id").rewrite(run.questions.values())
    for model, per in run.answers.items():
        path = answers_path(dest, model)
        path.parent.mkdir(parents=True, exist_ok=True)
        JsonlStore(path, Answer).rewrite(per.values())
    if run.judgments:
        JsonlStore(dest / "judgments.jsonl", Judgment).rewrite(run.judgments)
    if run.votes:
        JsonlStore(dest / "human_votes.jsonl", HumanVote, key_field="vote_id").rewrite(run.votes)
    settings = RatingSettings.model_validate({"bootstrap": bootstrap, "seed": seed, "strong_weight": run.strong_weight})
    baseline = rating_baseline(run.mode, run.baseline) if run.battles else None
    out = write_outputs(dest, battles=run.battles, judgments=run.judgments, answers=run.answers_by_key(),
                        settings=settings, baseline=baseline, scores=run.scores or None)
    manifest = Manifest(
        name=f"import-{run.fmt}",
        imported=ImportedSource(format=run.fmt, source=str(run.source), files=run.files, mode=run.mode,
                                baseline=run.baseline),
        counts=run.counts(),
        summary=json.loads(json.dumps(run.summary, default=str)),
        notes=run.notes,
        rating=settings.model_dump(mode="json"),
        seed=seed,
        versions=versions(),
        created=now_iso(),
    )
    write_json_atomic(dest / "manifest.json", manifest)
    return ImportResult(run_dir=dest, imported=run, leaderboard=out.leaderboard, report=out.report)


# ---------------------------------------------------------------------------------------------- helpers


def exists_or_fail(src: Path, fmt: str) -> Path:
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: does not exist; give the file or folder written by {fmt}")
    return src
