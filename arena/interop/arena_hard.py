"""arena-hard-auto: ``question.jsonl``, ``model_answer/*.jsonl`` and ``model_judgment/<judge>/*.jsonl``.

Answers are in the messages format (``{"uid"|"question_id", "model", "messages": [{"role", "content":
str | {"answer": str}}]}``). A judgment line holds two games of one model against the baseline::

    {"question_id"|"uid", "model", "judge", "games": [{"user_prompt", "judgment", "score": "A>B"}, {...}]}

Game 1 shows the baseline as A, game 2 swaps them. The five-level labels (``A>>B A>B A=B B>A B>>A``; the
``<`` forms too) are kept as verdicts, and a strong verdict counts ``strong_weight`` battles (3, as
arena-hard's ``show_result.py``). A game whose ``score`` is null is kept as a failed judgment. The
baseline is not named in the files: ``gpt-4-0314`` (arena-hard v0.1's) unless ``baseline=`` says otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from arena.errors import DataError, UserError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.interop.export import answers_to_export, battles_not_held, write_export_notes
from arena.interop.fields import created_of, name_or, qid_of, require
from arena.judging.parsers import normalise_five
from arena.providers.answers import NotText, _turns_of
from arena.questions import read_question_file
from arena.records import Judgment
from arena.store import text_of

FORMAT = "arena-hard"
DEFAULT_BASELINE = "gpt-4-0314"


def import_arena_hard(src: Path, *, baseline: str | None = None, judge: str | None = None,
                      strong_weight: float = 3.0) -> ImportedRun:
    """Read an arena-hard data folder (``data/<bench>/``) or one judgment file.

    Args:
        src: the bench folder, or a ``model_judgment/<judge>/<model>.jsonl`` file.
        baseline: the model of game 1's position A (default ``gpt-4-0314``).
        judge: import only this judge's folder when ``model_judgment/`` holds several.
        strong_weight: battles a strong verdict counts for.
    """
    src = exists_or_fail(src, "arena-hard")
    base = baseline or DEFAULT_BASELINE
    run = ImportedRun(fmt=FORMAT, source=src, strong_weight=strong_weight, mode="pairwise-baseline", baseline=base)
    if baseline is None:
        run.notes.append(f"baseline not given: assumed {DEFAULT_BASELINE} (arena-hard v0.1); pass --baseline otherwise")
    if src.is_file():
        _read_judgments(run, src, src.parent.name)
        return run.finish()
    qfile = src / "question.jsonl"
    if qfile.is_file():
        run.files.append(str(qfile))
        for q in read_question_file(qfile):
            run.add_question(q)
    answer_dir = src / "model_answer"
    for path in sorted(answer_dir.glob("*.jsonl")) if answer_dir.is_dir() else []:
        _read_answers(run, path)
    judgment_dir = src / "model_judgment"
    judges = sorted(p for p in judgment_dir.iterdir() if p.is_dir()) if judgment_dir.is_dir() else []
    if judge is not None:
        judges = [p for p in judges if p.name == judge]
        if not judges:
            raise UserError(f"{judgment_dir}: no folder for judge '{judge}'")
    files = [f for d in judges for f in sorted(d.glob("*.jsonl"))]
    if not files:
        raise DataError(f"{src}: no model_judgment/<judge>/*.jsonl; nothing judged to import (run arena-hard's "
                        "gen_judgment.py first, or `arena run` a config with provider: answers)")
    for path in files:
        _read_judgments(run, path, path.parent.name)
    return run.finish()


def _read_answers(run: ImportedRun, path: Path) -> None:
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        qid = qid_of(obj, where)
        if qid is None:
            raise DataError(f"{where}: no 'uid' (or 'question_id') in this answer")
        try:
            turns = _turns_of(obj)
        except NotText as exc:
            raise DataError(f"{where}: {exc}") from None
        except (KeyError, IndexError, TypeError, AttributeError):
            turns = None
        if turns is None:
            raise DataError(f"{where}: cannot find the answer text (expected 'messages' or 'choices[0].turns')")
        model = name_or(obj, ["model", "model_id"], where, path.stem)
        run.add_answer(model, run.question(qid), turns, created=created_of(obj), where=where)


def _read_judgments(run: ImportedRun, path: Path, judge_dir: str) -> None:
    assert run.baseline is not None
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        require(obj, ["model", "games"], where, "an arena-hard judgment")
        qid = qid_of(obj, where)
        if qid is None:
            raise DataError(f"{where}: no 'question_id' (or 'uid') in this judgment")
        games = obj["games"]
        if not isinstance(games, list) or not 1 <= len(games) <= 2:
            raise DataError(f"{where}: 'games' must be a list of one or two games (baseline as A, then swapped)")
        model = text_of(obj, "model", where)
        if model == run.baseline:
            continue  # arena-hard writes the baseline against itself; no information
        q = run.question(qid)
        judge = name_or(obj, ["judge"], where, judge_dir)
        for swapped, game in zip((False, True), games, strict=False):
            if game is None:
                continue  # this order was not judged (arena's export of a one-order run)
            if not isinstance(game, dict):
                raise DataError(f"{where}: a game must be an object with 'score' and 'judgment'")
            label = game.get("score")
            verdict = normalise_five(str(label)) if label is not None else None
            error = None
            if verdict is None:
                error = "no verdict in the judge reply" if label is None else f"unknown label {label!r}"
            run.add_pair_judgment(
                question=q, model_1=run.baseline, model_2=model, swapped=swapped, verdict=verdict, judge=judge,
                mode="pairwise-baseline", output=_text(game.get("judgment")), prompt_name="arena-hard",
                error=error, where=where,
            )


def _text(judgment: Any) -> str:
    if isinstance(judgment, dict):  # newer arena-hard: {"answer": ...}
        return str(judgment.get("answer", ""))
    return "" if judgment is None else str(judgment)


# ---------------------------------------------------------------------------------------------- export


def export_arena_hard(run_dir: Path, dest: Path, *, baseline: str | None = None) -> list[Path]:
    """Write a run dir in arena-hard's layout under ``dest``.

    ``question.jsonl`` (``uid, category, prompt``), ``model_answer/<model>.jsonl`` (messages format) and
    ``model_judgment/<judge>/<model>.jsonl`` with one line per question and model against the baseline:
    game 1 is the judgment that showed the baseline as A, game 2 the swap (``null`` when that order was not
    judged). Only turn-1 games of pairs that include the baseline have an arena-hard form; the rest are
    counted and skipped, and ``EXPORT_NOTES.txt`` says so, with what else an import of the export would not
    give back of the run's battles (:func:`arena.interop.export.battles_not_held`). ``ans_id`` is the run's
    answer key (an import gives its answers keys of its own).

    Raises:
        UserError: no baseline (the run is not pairwise-baseline and ``baseline`` was not given), or no
            judgment of the run has an arena-hard form (nothing judged would be exported).
    """
    from arena.interop.fastchat import _safe, _write_lines
    from arena.rundir.load import load_run

    data = load_run(run_dir, require=True)
    answers_by_model = answers_to_export(data)
    if baseline is None:
        baseline = data.manifest.baseline if data.manifest is not None else None
    if not baseline:
        raise UserError(f"{run_dir}: arena-hard judgments compare every model with one baseline; "
                        "pass --baseline MODEL")
    held = [j for j in data.judgments if j.model_b is not None and j.turn == 1 and baseline in (j.model_a, j.model_b)]
    if not held:
        raise UserError(f"{run_dir}: none of its {len(data.judgments)} judgments has an arena-hard form (single mode, "
                        f"turn > 1, or a pair without the baseline {baseline}); export fastchat instead, or give "
                        "--baseline a model judged in pairs")
    dest = Path(dest)
    written = []
    qpath = dest / "question.jsonl"
    _write_lines(qpath, [{"uid": q.question_id, "category": q.category, "prompt": q.turns[0],
                          **({"turns": [{"content": t} for t in q.turns]} if len(q.turns) > 1 else {})}
                         for q in data.questions.values()])
    written.append(qpath)
    for model, answers in answers_by_model.items():
        path = dest / "model_answer" / f"{_safe(model)}.jsonl"
        recs: list[dict[str, Any]] = []
        for a in answers:
            q = data.questions.get(a.question_id)
            messages: list[dict[str, Any]] = []
            for i, text in enumerate(a.turns):
                if q is not None and i < len(q.turns):
                    messages.append({"role": "user", "content": q.turns[i]})
                messages.append({"role": "assistant", "content": {"answer": text}})
            recs.append({"uid": a.question_id, "ans_id": a.key, "model": model, "messages": messages,
                         "tstamp": a.created})
        _write_lines(path, recs)
        written.append(path)
    # (judge, model) -> question id -> [game 1, game 2]
    out: dict[tuple[str, str], dict[str, list[Judgment | None]]] = defaultdict(dict)
    skipped = len(data.judgments) - len(held)
    for j in held:
        other = j.model_b if j.model_a == baseline else j.model_a
        assert other is not None  # held judgments are pairwise
        slots = out[(j.judge, other)].setdefault(j.question_id, [None, None])
        slots[0 if j.model_a == baseline else 1] = j
    for (judge, model), per_question in out.items():
        path = dest / "model_judgment" / _safe(judge) / f"{_safe(model)}.jsonl"
        recs = [{"uid": qid, "model": model, "judge": judge,
                 "games": [None if g is None else {"user_prompt": "", "judgment": g.output, "score": g.verdict}
                           for g in games]}
                for qid, games in per_question.items()]
        _write_lines(path, recs)
        written.append(path)
    notes = [f"{skipped} judgments skipped: single-mode, turn > 1, or a pair without the baseline {baseline}; "
             "arena-hard has no form for them"] if skipped else []
    note = write_export_notes(dest, notes + battles_not_held(data, held, "arena-hard"))
    return [*written, note] if note else written
