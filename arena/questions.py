"""Question sets: shipped sets in ``registry/questions/`` and files in the common formats.

Accepted line formats (detected per line):

- native / FastChat: ``{"question_id", "category", "turns": [...], "reference": [...]?}``
- llmuses / evalscope: ``{"question_id", "text", "category"}``
- arena-hard: ``{"uid", "category", "cluster", "prompt"}`` or ``{"uid", "turns": [{"content": ...}]}``

A folder in FastChat's layout (``question.jsonl`` + ``reference_answer/*.jsonl``) is read whole: the
reference answers become each question's ``reference``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.config.schema import QuestionsConfig
from arena.errors import DataError, UserError, unknown_name
from arena.records import Question
from arena.resources import registry_dir
from arena.store import parse_record, read_jsonl


def available_sets() -> list[str]:
    """Names of the question sets shipped in the registry."""
    root = registry_dir() / "questions"
    return sorted(p.name for p in root.iterdir() if (p / "question.jsonl").is_file()) if root.is_dir() else []


def _normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """Map one line of any supported format to the native fields."""
    out = dict(obj)
    if "question_id" not in out and "uid" in out:
        out["question_id"] = out.pop("uid")
    if "turns" not in out:
        if "text" in out:
            out["turns"] = [out.pop("text")]
        elif "prompt" in out:
            out["turns"] = [out.pop("prompt")]
        elif "question" in out:
            out["turns"] = [out.pop("question")]
    turns = out.get("turns")
    if isinstance(turns, list):
        out["turns"] = [t["content"] if isinstance(t, dict) and "content" in t else t for t in turns]
    ref = out.get("reference")
    if isinstance(ref, str):
        out["reference"] = [ref]
    if out.get("category") is None:
        out["category"] = "general"
    return out


def read_question_file(path: Path) -> list[Question]:
    """Read a question JSONL file; every bad line is an error naming ``file:line``."""
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for line_no, obj in read_jsonl(path):
        where = f"{path}:{line_no}"
        obj = _normalise(obj)
        if "question_id" not in obj:
            raise DataError(f"{where}: no 'question_id' (or 'uid'); every question needs an id")
        if "turns" not in obj:
            raise DataError(f"{where}: no question text: expected 'turns', 'text' or 'prompt'")
        q = parse_record(Question, obj, where)
        if not q.question_id.strip():
            raise DataError(f"{where}: question_id {q.question_id!r} is blank; give every question a visible id")
        blank = next((k for k, t in enumerate(q.turns, start=1) if not t.strip()), None)
        if blank is not None:
            raise DataError(f"{where}: turn {blank} is empty; every turn is a user message the candidates answer")
        if q.question_id in seen:
            raise DataError(
                f"{where}: duplicate question_id '{q.question_id}' (first on line {seen[q.question_id]}); "
                "ids must be unique"
            )
        seen[q.question_id] = line_no
        questions.append(q)
    if not questions:
        raise DataError(f"{path}: no questions in this file; add at least one line")
    return questions


def read_reference_answers(path: Path) -> dict[str, list[str]]:
    """FastChat ``reference_answer/<model>.jsonl``: question id -> reference text per turn."""
    refs: dict[str, list[str]] = {}
    for line_no, obj in read_jsonl(path):
        try:
            turns = obj["choices"][0]["turns"] if "choices" in obj else obj["turns"]
            refs[str(obj["question_id"])] = [str(t) for t in turns]
        except (KeyError, IndexError, TypeError):
            raise DataError(f"{path}:{line_no}: expected 'question_id' and 'choices[0].turns'") from None
    return refs


def read_question_dir(folder: Path) -> list[Question]:
    """A FastChat-layout folder: ``question.jsonl`` plus optional ``reference_answer/*.jsonl``."""
    qfile = folder / "question.jsonl"
    if not qfile.is_file():
        raise DataError(f"{folder}: no question.jsonl in this folder")
    questions = read_question_file(qfile)
    ref_dir = folder / "reference_answer"
    refs: dict[str, list[str]] = {}
    if ref_dir.is_dir():
        for f in sorted(ref_dir.glob("*.jsonl")):
            refs.update(read_reference_answers(f))
    return [q.model_copy(update={"reference": refs[q.question_id]}) if q.question_id in refs else q for q in questions]


def select(
    questions: Sequence[Question],
    *,
    categories: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Question]:
    """Filter by category and id, then keep the first ``limit`` (file order is kept)."""
    out = list(questions)
    if categories:
        known = {q.category for q in out}
        missing = [c for c in categories if c not in known]
        if missing:
            raise UserError(
                f"questions.categories: unknown categor{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(repr(m) for m in missing)}. Available: {', '.join(sorted(known))}"
            )
        out = [q for q in out if q.category in set(categories)]
    if ids:
        wanted = set(ids)
        out = [q for q in out if q.question_id in wanted]
    if limit is not None:
        out = out[:limit]
    if not out:
        raise UserError("questions: the filters leave no question; loosen 'categories', 'ids' or 'limit'")
    return out


def load_questions(cfg: QuestionsConfig) -> list[Question]:
    """Load the question set a config names, filters applied."""
    return select(load_all_questions(cfg), categories=cfg.categories, ids=cfg.ids, limit=cfg.limit)


def load_all_questions(cfg: QuestionsConfig) -> list[Question]:
    """Load the whole question set a config names, before any filter."""
    if cfg.set is not None:
        folder = registry_dir() / "questions" / cfg.set
        if not (folder / "question.jsonl").is_file():
            raise UserError("questions.set: " + unknown_name("question set", cfg.set, available_sets()))
        questions = read_question_dir(folder)
    else:
        assert cfg.file is not None  # guaranteed by QuestionsConfig
        if cfg.file.is_dir():
            questions = read_question_dir(cfg.file)
        elif cfg.file.is_file():
            questions = read_question_file(cfg.file)
        else:
            raise UserError(f"questions.file: {cfg.file} does not exist; fix the path (relative to the config)")
    return questions


def load_run_questions(cfg: QuestionsConfig) -> tuple[list[Question], set[str]]:
    """The run's questions (after the config's filters) and every question id of the set."""
    pool = load_all_questions(cfg)
    return select(pool, categories=cfg.categories, ids=cfg.ids, limit=cfg.limit), {x.question_id for x in pool}
