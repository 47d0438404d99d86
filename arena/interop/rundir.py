"""Read an arena run dir back (for the exporters): questions, answers, judgments, battles."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.errors import UserError
from arena.records import Answer, Battle, Judgment, Question
from arena.store import JsonlStore, parse_record, read_jsonl


@dataclass
class RunData:
    """The records of one run dir."""

    run_dir: Path
    questions: dict[str, Question] = field(default_factory=dict)
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    """Model name -> its answers (the ones the judgments refer to, or all usable ones)."""
    judgments: list[Judgment] = field(default_factory=list)
    battles: list[Battle] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def load_run_dir(run_dir: Path) -> RunData:
    """Load a run dir written by ``arena run`` or ``arena import``.

    Raises:
        UserError: ``run_dir`` is not a run dir (no ``answers/`` and no ``judgments.jsonl``).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "answers").is_dir() and not (run_dir / "judgments.jsonl").is_file():
        raise UserError(f"{run_dir}: not an arena run dir (no answers/ or judgments.jsonl); "
                        "give the work_dir of a run or the DEST of an import")
    data = RunData(run_dir=run_dir)
    qpath = run_dir / "questions.jsonl"
    if qpath.is_file():
        for line_no, obj in read_jsonl(qpath):
            q = parse_record(Question, obj, f"{qpath}:{line_no}")
            data.questions[q.question_id] = q
    jpath = run_dir / "judgments.jsonl"
    if jpath.is_file():
        data.judgments = list(JsonlStore(jpath, Judgment))
    used = {k for j in data.judgments for k in (j.answer_a, j.answer_b) if k}
    answer_dir = run_dir / "answers"
    for path in sorted(answer_dir.glob("*.jsonl")) if answer_dir.is_dir() else []:
        by_question: dict[str, Answer] = {}
        for a in JsonlStore(path, Answer):
            if a.error is None and (not used or a.key in used):
                by_question[a.question_id] = a
        for a in by_question.values():
            data.answers.setdefault(a.model, []).append(a)
    bpath = run_dir / "battles.jsonl"
    if bpath.is_file():
        # Imported aggregated rows carry ``count`` and may lack a question id.
        data.battles = [parse_record(Battle, obj, f"{bpath}:{n}") for n, obj in read_jsonl(bpath)]
    mpath = run_dir / "manifest.json"
    if mpath.is_file():
        data.manifest = json.loads(mpath.read_text(encoding="utf-8"))
    return data
