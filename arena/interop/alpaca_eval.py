"""alpaca_eval: ``model_outputs.json`` and ``annotations.json``.

``model_outputs.json`` is a list of ``{"instruction", "output", "generator", "dataset"?}``;
``annotations.json`` a list of ``{"instruction", "output_1", "generator_1", "output_2", "generator_2",
"preference", "annotator"?}`` where ``output_1`` is the baseline's (alpaca_eval's reference) and
``preference`` is 1 (output 1 better), 2 (output 2 better), 0 (a tie), or a float in [1, 2] from logprob
weighting (``preference - 1`` is the probability that output 2 is better). Null / NaN preferences are
kept as failed judgments.

How a preference becomes battles (the choice documented here and in the manifest notes): with
``p = preference - 1``, a certain preference (p 0 or 1) is one battle of weight 1, and an uncertain one is
split into two rows of the same game, ``model_b`` winning with weight ``p`` and ``model_a`` winning with
weight ``1 - p``. Bradley-Terry then sees exactly the expected win count, so ratings match alpaca_eval's
weighted win rate; ``p = 0.5`` is the same as a tie under ``ties: half``. The judgment keeps ``p`` as
label probabilities and the rounded verdict.

Instructions have no ids: a question's id is a short hash of its instruction, so several files join.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from arena.errors import DataError, UserError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.interop.fields import answer_text, finite_number, require
from arena.judging.battles import style_features
from arena.keys import content_key
from arena.records import Battle, Question
from arena.store import read_json_records, text_of

FORMAT = "alpaca-eval"


def _question(run: ImportedRun, obj: dict[str, Any], where: str) -> Question:
    text = text_of(obj, "instruction", where)
    qid = content_key(text, 12)
    q = run.questions.get(qid)
    if q is None:
        q = run.add_question(Question(question_id=qid, turns=[text], category=str(obj.get("dataset") or "general")))
    return q


def import_alpaca_eval(src: Path, *, baseline: str | None = None) -> ImportedRun:
    """Read alpaca_eval results: a folder (searched for ``model_outputs.json`` and ``annotations.json``) or
    one annotations file.

    Args:
        src: folder or ``annotations.json``.
        baseline: the reference model; default: the most common ``generator_1`` (refused when several are
            equally common).
    """
    src = exists_or_fail(src, "alpaca_eval")
    if src.is_file():
        annotation_files, output_files = [src], []
    else:
        annotation_files = sorted(src.rglob("annotations.json"))
        output_files = sorted(src.rglob("model_outputs.json")) + sorted(src.rglob("reference_outputs.json"))
    if not annotation_files:
        raise DataError(f"{src}: no annotations.json found; run alpaca_eval's evaluate first, or give the file")
    run = ImportedRun(fmt=FORMAT, source=src, mode="pairwise-baseline")
    for path in output_files:
        run.files.append(str(path))
        for where, obj in read_json_records(path):
            require(obj, ["instruction", "output", "generator"], where, "an alpaca_eval model output")
            run.add_answer(text_of(obj, "generator", where), _question(run, obj, where), [answer_text(obj, "output", where)],
                           where=where)
    records = []
    for path in annotation_files:
        run.files.append(str(path))
        for where, obj in read_json_records(path):
            require(obj, ["instruction", "output_1", "generator_1", "output_2", "generator_2", "preference"], where,
                    "an alpaca_eval annotation")
            records.append((where, obj))
    if not records:
        raise DataError(f"{annotation_files[0]}: no annotations in this file")
    base = baseline or _most_common_reference(records, annotation_files[0])
    run.baseline = base
    run.notes.append("preference p in [1, 2] -> model_b wins with weight p-1 and model_a with weight 2-p "
                     "(one row when certain); 0 = tie; null = failed judgment")
    failed = 0
    for where, obj in records:
        failed += _add_annotation(run, where, obj, base)
    if failed:
        run.notes.append(f"{failed} annotations without a preference kept as failed judgments")
    return run.finish()


def _most_common_reference(records: list[tuple[str, dict[str, Any]]], path: Path) -> str:
    """The most common ``generator_1``; a tie between several would make the baseline depend on line order.

    Raises:
        UserError: two or more generators are equally common in ``generator_1``.
    """
    counts = Counter(text_of(o, "generator_1", w) for w, o in records).most_common()
    tied = sorted(name for name, n in counts if n == counts[0][1])
    if len(tied) > 1:
        raise UserError(f"{path}: generator_1 is {' and '.join(map(repr, tied[:3]))} equally often "
                        f"({counts[0][1]} annotations each); name the baseline with --baseline")
    return counts[0][0]


def _add_annotation(run: ImportedRun, where: str, obj: dict[str, Any], baseline: str) -> int:
    q = _question(run, obj, where)
    g1, g2 = text_of(obj, "generator_1", where), text_of(obj, "generator_2", where)
    if baseline not in (g1, g2):
        raise UserError(f"{where}: neither generator is the baseline {baseline!r}; pass --baseline or filter the file")
    out_1, out_2 = answer_text(obj, "output_1", where), answer_text(obj, "output_2", where)
    run.add_answer(g1, q, [out_1], where=where)
    run.add_answer(g2, q, [out_2], where=where)
    pref = obj["preference"]
    judge = str(obj.get("annotator") or "alpaca_eval")
    if pref is None or (isinstance(pref, float) and math.isnan(pref)):
        run.add_pair_judgment(question=q, model_1=g1, model_2=g2, swapped=False, verdict=None, judge=judge,
                              mode="pairwise-baseline", error="no preference", make_battle=False)
        return 1
    value = finite_number(pref)
    if value is None:
        raise DataError(f"{where}: preference {pref!r:.60} is not a number (1, 2, 0 for a tie, or in [1, 2])")
    if value == 0:
        p = 0.5
    elif 1 <= value <= 2:
        p = value - 1
    else:
        raise DataError(f"{where}: preference {value:g} is outside [1, 2] (0 means a tie)")
    verdict = "B>A" if p > 0.5 else "A>B" if p < 0.5 else "A=B"
    j = run.add_pair_judgment(
        question=q, model_1=g1, model_2=g2, swapped=False, verdict=verdict, judge=judge, mode="pairwise-baseline",
        output=str(obj.get("raw_completion") or ""), probabilities={"A": round(1 - p, 6), "B": round(p, 6)},
        notes=[f"preference {value:g}"], make_battle=False,
    )
    fa, fb = style_features(out_1), style_features(out_2)
    style = {f"{k}_a": v for k, v in fa.items()} | {f"{k}_b": v for k, v in fb.items()}
    common: dict[str, Any] = {"question_id": q.question_id, "model_a": g1, "model_b": g2, "judge": judge, "category": q.category,
              "key": j.key, "game_key": j.game_key, **style}
    if value == 0:
        run.battles.append(Battle.model_validate(common | {"winner": "tie"}))
    elif p in (0.0, 1.0):
        run.battles.append(Battle.model_validate(common | {"winner": "model_b" if p == 1 else "model_a"}))
    else:
        run.battles.append(Battle.model_validate(common | {"winner": "model_b", "weight": p}))
        run.battles.append(Battle.model_validate(common | {"winner": "model_a", "weight": 1 - p}))
    return 0
