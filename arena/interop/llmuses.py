"""modelscope llmuses / evalscope arena: questions, answers, review files and the browser's ``battle.jsonl``.

Every ``.jsonl`` file of a folder is classified by its first record:

- questions: ``{"question_id", "text", "category"}``
- answers: ``{"question_id", "text", "category", "model_id", "answer"}``
- pairwise reviews / ``battle.jsonl``: ``{"model_a", "model_b", "win", "scores"?, "question_id", "category",
  "question", "review_text"? | "output_a", "output_b"}`` (``win`` in ``model_a | model_b | tie``)
- swap-position reviews: ``{"model_a", "model_b", "win_1", "win_2", ...}``; ``win_1`` is the game with
  ``model_a`` shown first, ``win_2`` the swapped game with its winner already mapped back to the record's
  ``model_a / model_b`` (as llmuses' ``AutoReviewerGpt4`` writes it)
- single reviews: ``{"model", "score", "question_id", ...}``
- prompt templates (``{"name", "type", "system_prompt"}``) and anything else are skipped with a note.

A pair of models judged twice on one question in opposite orders (``battle.jsonl`` holds each question in
both orders) becomes the two orders of one game, so the judge report measures order flips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arena.errors import DataError
from arena.interop.common import VERDICT_OF_WINNER, ImportedRun, exists_or_fail
from arena.interop.fields import answer_text, finite_number, require
from arena.questions import read_question_file
from arena.records import WINNERS
from arena.store import read_jsonl, text_of

FORMAT = "llmuses"


def _kind(obj: dict[str, Any]) -> str:
    if "win_1" in obj and "model_a" in obj:
        return "swap"
    if "win" in obj and "model_a" in obj:
        return "pair"
    if "model" in obj and "score" in obj:
        return "single"
    if "answer" in obj and "model_id" in obj:
        return "answers"
    if "system_prompt" in obj or "prompt_template" in obj:
        return "prompts"
    if "question_id" in obj and ("text" in obj or "turns" in obj):
        return "questions"
    return "unknown"


def _first(path: Path) -> dict[str, Any] | None:
    for _, obj in read_jsonl(path):
        return obj
    return None


def import_llmuses(src: Path, *, baseline: str | None = None, judge: str = "gpt-4") -> ImportedRun:
    """Read llmuses/evalscope arena files: one file, or every ``.jsonl`` under a folder.

    Args:
        src: a file (e.g. ``battle.jsonl`` or a review file) or a folder.
        baseline: the baseline of a ``pairwise_baseline`` review (rated as such when given).
        judge: the judge's name (llmuses files do not record it).
    """
    src = exists_or_fail(src, "llmuses / evalscope")
    files = [src] if src.is_file() else sorted(src.rglob("*.jsonl"))
    by_kind: dict[str, list[Path]] = {}
    for path in files:
        obj = _first(path)
        by_kind.setdefault(_kind(obj) if obj is not None else "unknown", []).append(path)
    run = ImportedRun(fmt=FORMAT, source=src, mode="pairwise-all")
    for path in by_kind.get("questions", []):
        run.files.append(str(path))
        for q in read_question_file(path):
            run.add_question(q)
    for path in by_kind.get("answers", []):
        for line_no, obj in run.read(path):
            where = f"{path}:{line_no}"
            require(obj, ["question_id", "model_id", "answer"], where, "an llmuses answer")
            q = run.question(text_of(obj, "question_id", where), _opt_text(obj, "text", where),
                             _opt_text(obj, "category", where))
            run.add_answer(text_of(obj, "model_id", where), q, [answer_text(obj, "answer", where)], where=where)
    canonical: dict[tuple[str, frozenset[str]], tuple[str, str]] = {}
    for path in by_kind.get("pair", []) + by_kind.get("swap", []):
        for line_no, obj in run.read(path):
            _pair_record(run, f"{path}:{line_no}", obj, canonical, judge)
    for path in by_kind.get("single", []):
        for line_no, obj in run.read(path):
            where = f"{path}:{line_no}"
            require(obj, ["model", "score", "question_id"], where, "an llmuses single review")
            q = run.question(text_of(obj, "question_id", where), _opt_text(obj, "question", where),
                             _opt_text(obj, "category", where))
            score = obj["score"]
            ok = isinstance(score, int | float) and finite_number(score) is not None and score >= 0
            run.add_single_judgment(question=q, model=text_of(obj, "model", where), score=float(score) if ok else None,
                                    judge=judge, output=str(obj.get("review_text", "")),
                                    error=None if ok else f"no score (got {score!r})", where=where)
        run.mode = "single" if not by_kind.get("pair") and not by_kind.get("swap") else run.mode
    for kind in ("prompts", "unknown"):
        for path in by_kind.get(kind, []):
            run.notes.append(f"skipped {path}: {'judge prompt templates' if kind == 'prompts' else 'unknown records'}")
    if baseline is not None:
        run.mode, run.baseline = "pairwise-baseline", baseline
    if not run.judgments:
        raise DataError(f"{src}: no review or battle records (model_a/model_b/win, win_1/win_2 or model/score)")
    return run.finish()


def _opt_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    """An optional text field (question text, category): absent or null is None, anything else must be text."""
    return None if obj.get(key) is None else text_of(obj, key, where)


def _check_win(value: Any, where: str, field: str) -> str:
    if value not in WINNERS:
        raise DataError(f"{where}: {field} {value!r} is not one of {', '.join(WINNERS)}")
    return str(value)


def _pair_record(run: ImportedRun, where: str, obj: dict[str, Any],
                 canonical: dict[tuple[str, frozenset[str]], tuple[str, str]], judge: str) -> None:
    require(obj, ["model_a", "model_b", "question_id", "win_1" if "win_1" in obj else "win"], where,
            "an llmuses review")
    qid = text_of(obj, "question_id", where)
    a, b = text_of(obj, "model_a", where), text_of(obj, "model_b", where)
    if a == b:
        raise DataError(f"{where}: model {a!r} is compared with itself; drop this line")
    text = _opt_text(obj, "question", where)
    known = run.questions.get(qid)
    if text is not None and known is not None and known.turns[0] != str(text):
        # The evalscope sample ships Vicuna-80 questions beside battles over other questions with the same
        # ids: keep both apart instead of pairing a verdict with the wrong question.
        origin = where.rsplit(":", 1)[0]
        qid = f"{Path(origin).stem}:{qid}"
        if not any(n.startswith(f"{origin}: question ids clash") for n in run.notes):
            run.notes.append(f"{origin}: question ids clash with the question file (other texts); "
                             f"its questions are imported as '{Path(origin).stem}:<id>'")
    q = run.question(qid, text, _opt_text(obj, "category", where))
    if "output_a" in obj and "output_b" in obj:
        run.add_answer(a, q, [answer_text(obj, "output_a", where)], where=where)
        run.add_answer(b, q, [answer_text(obj, "output_b", where)], where=where)
    m1, m2 = canonical.setdefault((qid, frozenset((a, b))), (a, b))
    scores = obj.get("scores")
    notes = [f"scores {' '.join(f'{s:g}' if isinstance(s, int | float) else str(s) for s in scores)}"] \
        if isinstance(scores, list) else []
    if "win_1" in obj:
        games = [(_check_win(obj["win_1"], where, "win_1"), False, obj.get("review_text_1", "")),
                 (_check_win(obj.get("win_2"), where, "win_2"), True, obj.get("review_text_2", ""))]
    else:
        games = [(_check_win(obj["win"], where, "win"), False, obj.get("review_text", ""))]
    for win, flip, text in games:
        # ``win`` names the record's model_a / model_b; position A is model_a, or model_b in a swapped game.
        if flip and win in ("model_a", "model_b"):
            win = "model_b" if win == "model_a" else "model_a"
        pos_a = b if flip else a
        run.add_pair_judgment(
            question=q, model_1=m1, model_2=m2, swapped=pos_a != m1, verdict=VERDICT_OF_WINNER[win], judge=judge,
            mode="pairwise-all", output=str(text or ""), notes=notes, where=where,
        )
