"""FastChat: the MT-Bench ``llm_judge`` data folder and the 2023 Vicuna eval tables.

MT-Bench layout (``fastchat/llm_judge/data/<bench>/``)::

    question.jsonl                 {"question_id", "category", "turns": [...], "reference"?}
    reference_answer/<model>.jsonl {"question_id", "choices": [{"turns": [...]}]}
    model_answer/<model>.jsonl     {"question_id", "answer_id", "model_id", "choices": [{"turns": [...]}], "tstamp"}
    model_judgment/<judge>_single.jsonl
        {"question_id", "model", "judge": [judge, prompt], "user_prompt", "judgment", "score", "turn", "tstamp"}
    model_judgment/<judge>_pair.jsonl
        {"question_id", "model_1", "model_2", "g1_winner", "g2_winner", "judge": [judge, prompt],
         "g1_user_prompt", "g1_judgment", "g2_user_prompt", "g2_judgment", "turn", "tstamp"}

In a pair record, game 1 showed ``model_1`` in position A and game 2 the swap; both winners are written in
``model_1 / model_2 / tie / error`` terms (FastChat maps game 2 back). Each game becomes one judgment in the
positions the judge saw and one battle row; ``error`` games are kept as failed judgments. A single score of
-1 is FastChat's parse failure. Single scores also give implied battles (higher score wins per turn).

Vicuna 2023 tables (``fastchat/eval/table/``): ``question.jsonl``, ``answer_<model>.jsonl``
(``{"answer_id", "model_id": "name:version", "question_id", "text"}``) and ``review_<m1>_<m2>.jsonl``
(``{"question_id", "answer1_id", "answer2_id", "text", "score": [s1, s2], "reviewer_id"}``). Each review is one
judged game with answer 1 in position A; the higher score wins, equal scores tie, and the scores are kept in
the judgment's notes and summed per file in the manifest summary (the totals the Vicuna blog published). A
negative score (FastChat's ``[-1, -1]``: the review could not be parsed) is a failed judgment, left out of the
totals and counted as ``failed``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from arena.errors import DataError, UserError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.interop.export import answers_to_export, battles_not_held, write_export_notes
from arena.interop.fields import answer_text, created_of, finite_number, name_or, qid_of, require, turn_of
from arena.judging.parsers import normalise_five
from arena.providers.answers import NotText, _turn
from arena.questions import read_question_dir, read_question_file
from arena.records import Judgment
from arena.store import text_of

FORMAT = "fastchat"
_WINNERS = {"model_1", "model_2", "tie", "error"}


def import_fastchat(src: Path, *, baseline: str | None = None, strong_weight: float = 3.0) -> ImportedRun:
    """Read a FastChat MT-Bench data folder, a Vicuna eval table folder, or one judgment/review file."""
    src = exists_or_fail(src, "FastChat")
    run = ImportedRun(fmt=FORMAT, source=src, strong_weight=strong_weight)
    if src.is_file():
        _import_file(run, src)
    elif any(src.glob("review_*.jsonl")):
        _import_vicuna(run, src)
    else:
        _import_mt_bench(run, src)
    if baseline is not None:
        run.mode, run.baseline = "pairwise-baseline", baseline
    return run.finish()


def _import_file(run: ImportedRun, path: Path) -> None:
    if path.name.startswith("review_"):
        _read_vicuna_review(run, path, {})
    elif path.stem.endswith("_pair"):
        _read_pair_judgments(run, path)
    elif path.stem.endswith("_single"):
        _read_single_judgments(run, path)
    else:
        raise UserError(f"{path}: not a FastChat judgment file (<judge>_pair.jsonl, <judge>_single.jsonl) or "
                        "Vicuna review file (review_<m1>_<m2>.jsonl); give the data folder instead")


# ---------------------------------------------------------------------------------------------- MT-Bench


def _import_mt_bench(run: ImportedRun, folder: Path) -> None:
    qfile = folder / "question.jsonl"
    if qfile.is_file():
        run.files.append(str(qfile))
        for q in read_question_dir(folder):
            run.add_question(q)
    else:
        run.notes.append("no question.jsonl: question texts are unknown, questions named by id only")
    answer_dir = folder / "model_answer"
    for path in sorted(answer_dir.glob("*.jsonl")) if answer_dir.is_dir() else []:
        _read_answers(run, path)
    judgment_dir = folder / "model_judgment"
    pair_files = sorted(judgment_dir.glob("*_pair.jsonl")) if judgment_dir.is_dir() else []
    single_files = sorted(judgment_dir.glob("*_single.jsonl")) if judgment_dir.is_dir() else []
    if not pair_files and not single_files:
        raise DataError(f"{folder}: no model_judgment/*_pair.jsonl or *_single.jsonl; nothing judged to import "
                        "(run FastChat's gen_judgment.py first, or `arena run` a config with provider: answers)")
    for path in pair_files:
        _read_pair_judgments(run, path)
    for path in single_files:
        _read_single_judgments(run, path)
    run.mode = "single" if single_files and not pair_files else "pairwise-all"


def _read_answers(run: ImportedRun, path: Path) -> None:
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        qid = qid_of(obj, where)
        if qid is None:
            raise DataError(f"{where}: no 'question_id' in this answer; FastChat answers need one")
        try:
            turns = obj["choices"][0]["turns"]
        except (KeyError, IndexError, TypeError):
            raise DataError(f"{where}: expected 'choices[0].turns' (FastChat answer format)") from None
        if not isinstance(turns, list):
            raise DataError(f"{where}: 'choices[0].turns' is {turns!r:.60}; expected a list of the answer's turns")
        try:
            texts = [_turn(t) for t in turns]
        except NotText as exc:
            raise DataError(f"{where}: {exc}") from None
        model = name_or(obj, ["model_id"], where, path.stem)
        run.add_answer(model, run.question(qid), texts, created=created_of(obj), where=where)


def _judge_of(obj: dict[str, Any]) -> tuple[str, str]:
    judge = obj.get("judge")
    if isinstance(judge, list | tuple) and judge:
        return str(judge[0]), str(judge[1]) if len(judge) > 1 else ""
    return (str(judge), "") if judge else ("unknown-judge", "")


def _read_pair_judgments(run: ImportedRun, path: Path) -> None:
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        require(obj, ["question_id", "model_1", "model_2", "g1_winner"], where, "a FastChat pair judgment")
        m1, m2 = text_of(obj, "model_1", where), text_of(obj, "model_2", where)
        q = run.question(text_of(obj, "question_id", where))
        judge, prompt = _judge_of(obj)
        turn = turn_of(obj, where)
        for game, swapped in (("g1", False), ("g2", True)):
            winner = obj.get(f"{game}_winner")
            if winner is None:
                continue  # a record judged in one order only (arena's export of a one-order run)
            if not isinstance(winner, str) or winner not in _WINNERS:
                raise DataError(f"{where}: {game}_winner {winner!r} is not one of {', '.join(sorted(_WINNERS))}")
            verdict = None
            if winner == "tie":
                verdict = "A=B"
            elif winner != "error":
                # Position A is model_1 in game 1 and model_2 in game 2.
                a_won = (winner == "model_1") != swapped
                verdict = "A>B" if a_won else "B>A"
            verdict = _with_strength(obj, game, verdict, where)
            run.add_pair_judgment(
                question=q, model_1=m1, model_2=m2, swapped=swapped, verdict=verdict, judge=judge,
                mode="pairwise-all", turn=turn, output=str(obj.get(f"{game}_judgment", "")), prompt_name=prompt,
                error="judge reply had no verdict (FastChat 'error')" if winner == "error" else None, where=where,
                created=created_of(obj),
            )


def _with_strength(obj: dict[str, Any], game: str, verdict: str | None, where: str) -> str | None:
    """``verdict`` (from the winner) with the strength of arena's ``g1_verdict``/``g2_verdict`` (``A>>B``), which
    arena's export adds because FastChat's winners cannot say it.

    Raises:
        DataError: the verdict is not a five-level label, or it names another winner than ``<game>_winner``.
    """
    label = obj.get(f"{game}_verdict")
    if label is None or verdict is None:
        return verdict
    full = normalise_five(str(label))
    if full is None or full.replace(">>", ">").replace("<<", "<") != verdict:
        raise DataError(f"{where}: {game}_verdict {label!r:.40} does not agree with {game}_winner "
                        f"{obj.get(f'{game}_winner')!r}; give a verdict of that winner (e.g. {verdict}) or drop it")
    return full


def _read_single_judgments(run: ImportedRun, path: Path) -> None:
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        require(obj, ["question_id", "model", "score"], where, "a FastChat single judgment")
        judge, prompt = _judge_of(obj)
        score = finite_number(obj["score"])
        if score is None:
            raise DataError(f"{where}: score {obj['score']!r:.60} is not a finite number (-1: FastChat's parse failure)")
        run.add_single_judgment(
            question=run.question(text_of(obj, "question_id", where)), model=text_of(obj, "model", where),
            score=None if score < 0 else score, judge=judge, turn=turn_of(obj, where),
            output=str(obj.get("judgment", "")), prompt_name=prompt,
            error="judge reply had no rating (FastChat score -1)" if score < 0 else None, where=where,
            created=created_of(obj),
        )


# ---------------------------------------------------------------------------------------------- Vicuna 2023


def _model_name(model_id: str) -> str:
    return model_id.split(":", 1)[0]


def _import_vicuna(run: ImportedRun, folder: Path) -> None:
    qfile = folder / "question.jsonl"
    if qfile.is_file():
        run.files.append(str(qfile))
        for q in read_question_file(qfile):
            run.add_question(q)
    answer_ids: dict[str, str] = {}
    for path in sorted(folder.glob("answer_*.jsonl")):
        for line_no, obj in run.read(path):
            where = f"{path}:{line_no}"
            require(obj, ["question_id", "text"], where, "a Vicuna answer")
            model = _model_name(name_or(obj, ["model_id"], where, path.stem.removeprefix("answer_")))
            run.add_answer(model, run.question(text_of(obj, "question_id", where)), [answer_text(obj, "text", where)],
                           where=where)
            if "answer_id" in obj:
                answer_ids[str(obj["answer_id"])] = model
    files = sorted(folder.glob("review_*.jsonl"))
    for path in files:
        _read_vicuna_review(run, path, answer_ids)
    common = set.intersection(*({s["model_1"], s["model_2"]} for s in run.summary["reviews"]))
    if len(files) > 1 and len(common) == 1:
        run.mode, run.baseline = "pairwise-baseline", common.pop()
        run.notes.append(f"every review file pairs a model with {run.baseline}: rated as its baseline")
    else:
        run.mode = "pairwise-all"


_REVIEW_NAME = re.compile(r"review_(.+?)_(.+)")


def _read_vicuna_review(run: ImportedRun, path: Path, answer_ids: dict[str, str]) -> None:
    m = _REVIEW_NAME.fullmatch(path.stem)
    names = (m.group(1), m.group(2)) if m else ("model_1", "model_2")
    totals = [0.0, 0.0]
    n = second_ge = failed = 0
    pair: tuple[str, str] | None = None
    for line_no, obj in run.read(path):
        where = f"{path}:{line_no}"
        require(obj, ["question_id", "score"], where, "a Vicuna review")
        score = obj["score"]
        numbers = [finite_number(s) if isinstance(s, int | float) else None for s in score] \
            if isinstance(score, list) and len(score) == 2 else []
        if len(numbers) != 2 or None in numbers:
            raise DataError(f"{where}: 'score' must be a list of two finite numbers [s1, s2], got {score!r:.80}")
        m1 = answer_ids.get(str(obj.get("answer1_id")), names[0])
        m2 = answer_ids.get(str(obj.get("answer2_id")), names[1])
        pair = pair or (m1, m2)
        s1, s2 = float(score[0]), float(score[1])  # the numbers checked above
        ok = s1 >= 0 and s2 >= 0  # FastChat's eval writes [-1, -1] when it cannot parse the review
        if ok:
            totals[0] += s1
            totals[1] += s2
            n += 1
            second_ge += s2 >= s1
        else:
            failed += 1
        run.add_pair_judgment(
            question=run.question(text_of(obj, "question_id", where)), model_1=m1, model_2=m2, swapped=False,
            verdict=("A>B" if s1 > s2 else "B>A" if s2 > s1 else "A=B") if ok else None,
            judge=name_or(obj, ["reviewer_id"], where, "gpt-4"), mode="pairwise-all",
            output=str(obj.get("text", "")), prompt_name=str(obj.get("reviewer_id", "")),
            notes=[f"scores {s1:g} {s2:g}"], where=where,
            error=None if ok else f"review scores {s1:g} {s2:g}: FastChat could not parse the review",
        )
    if pair is None:
        raise DataError(f"{path}: no reviews in this file")
    if failed:
        run.notes.append(f"{path.name}: {failed} reviews with a negative score (FastChat's [-1, -1]: the review "
                         "could not be parsed) kept as failed judgments, left out of the totals")
    run.summary.setdefault("reviews", []).append({
        "file": path.name, "model_1": pair[0], "model_2": pair[1], "questions": n,
        "total_1": totals[0], "total_2": totals[1], "model_2_better_or_equal": second_ge, "failed": failed,
    })


# ---------------------------------------------------------------------------------------------- export


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in name)


def export_fastchat(run_dir: Path, dest: Path) -> list[Path]:
    """Write a run dir's questions, answers and judgments in FastChat's MT-Bench layout under ``dest``.

    Pairwise judgments are joined by judge and game into ``model_judgment/<judge>_pair.jsonl`` records (game
    1 = the canonical order, game 2 = the swap; an order that was not judged is written as ``null``); single
    judgments go to ``<judge>_single.jsonl``. FastChat's winners have no strength: each record also holds
    ``g1_verdict``/``g2_verdict`` (the five-level verdict, e.g. ``A>>B``, in the positions the judge saw), which
    FastChat ignores and :func:`import_fastchat` reads back. ``answer_id`` is the run's answer key (an import
    gives its answers keys of its own). What an import of the export would not give back of the run's
    ``battles.jsonl`` (weights other than the verdict's, battles without a judgment, a jury's rule) is said in
    ``EXPORT_NOTES.txt`` (:func:`arena.interop.export.battles_not_held`).
    """
    from arena.rundir.load import load_run

    data = load_run(run_dir, require=True)
    answers_by_model = answers_to_export(data)
    dest = Path(dest)
    written: list[Path] = []
    qpath = dest / "question.jsonl"
    _write_lines(qpath, [
        {"question_id": _id_out(q.question_id), "category": q.category, "turns": q.turns,
         **({"reference": q.reference} if q.reference else {})}
        for q in data.questions.values()
    ])
    written.append(qpath)
    for model, answers in answers_by_model.items():
        path = dest / "model_answer" / f"{_safe(model)}.jsonl"
        _write_lines(path, [
            {"question_id": _id_out(a.question_id), "answer_id": a.key, "model_id": model,
             "choices": [{"index": 0, "turns": a.turns}], "tstamp": a.created}
            for a in answers
        ])
        written.append(path)
    pairs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    singles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # (judge, game key) -> order -> judgment: every judge of a jury judges the same games (same game keys).
    games: dict[tuple[str, str], dict[bool, Judgment]] = defaultdict(dict)
    order: list[tuple[str, str]] = []
    for j in data.judgments:
        if j.model_b is None:
            singles[j.judge].append({
                "question_id": _id_out(j.question_id), "model": j.model_a, "judge": [j.judge, j.prompt_name],
                "user_prompt": "", "judgment": j.output, "score": j.score if j.score is not None else -1,
                "turn": j.turn, "tstamp": j.created,
            })
            continue
        game_id = (j.judge, j.game_key)
        if game_id not in games:
            order.append(game_id)
        games[game_id][j.swapped] = j
    for gk in order:
        g = games[gk]
        first = g.get(False) or g[True]
        m1, m2 = (first.model_a, first.model_b) if not first.swapped else (first.model_b, first.model_a)
        rec: dict[str, Any] = {"question_id": _id_out(first.question_id), "model_1": m1, "model_2": m2}
        for game, swapped in (("g1", False), ("g2", True)):
            jg = g.get(swapped)
            rec[f"{game}_winner"] = None if jg is None else _fastchat_winner(jg)
        for game, swapped in (("g1", False), ("g2", True)):
            jg = g.get(swapped)
            rec[f"{game}_verdict"] = None if jg is None else jg.verdict
        rec["judge"] = [first.judge, first.prompt_name]
        for game, swapped in (("g1", False), ("g2", True)):
            jg = g.get(swapped)
            rec[f"{game}_user_prompt"] = ""
            rec[f"{game}_judgment"] = "" if jg is None else jg.output
        rec["turn"] = first.turn
        rec["tstamp"] = first.created
        pairs[first.judge].append(rec)
    for judge, recs in pairs.items():
        path = dest / "model_judgment" / f"{_safe(judge)}_pair.jsonl"
        _write_lines(path, recs)
        written.append(path)
    for judge, recs in singles.items():
        path = dest / "model_judgment" / f"{_safe(judge)}_single.jsonl"
        _write_lines(path, recs)
        written.append(path)
    note = write_export_notes(dest, battles_not_held(data, data.judgments, "FastChat"))
    return [*written, note] if note else written


def _fastchat_winner(j: Judgment) -> str:
    if j.verdict is None:
        return "error"
    if j.verdict == "A=B":
        return "tie"
    a_won = j.verdict.startswith("A")
    # In the swapped game position A is model_2.
    return "model_1" if a_won != j.swapped else "model_2"


def _id_out(qid: str) -> int | str:
    """FastChat writes integer ids as numbers."""
    return int(qid) if qid.isdigit() and not qid.startswith("0") else qid


def _write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)

