"""What an export to another tool's layout could not hold of a run, said in ``EXPORT_NOTES.txt``, and which
answers it writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arena.records import Answer, Judgment

if TYPE_CHECKING:
    from arena.rundir.load import Run


EXPORT_NOTES = "EXPORT_NOTES.txt"
"""The file an export writes beside the other tool's files when the layout could not hold all of the run."""


def battles_not_held(data: Run, exported: Iterable[Judgment], layout: str, strong_weight: float = 3.0) -> list[str]:
    """What an import of the export would not give back of the run's ``battles.jsonl``, as note lines.

    An import rebuilds one battle of weight 1 (``strong_weight`` for a strong verdict, as the importers'
    default) from each exported pairwise judgment with a verdict, and single mode's implied battles (key
    ``<judgment key>|<judgment key>``) from the exported scores. Notes: battle rows whose judgments are not
    exported (a layout with no form for them, a battle with no judge call behind it), rows that weigh
    otherwise or stand for several battles (``count``), and exported judgments with no battle row (a jury's
    judges that ``rating.jury`` does not rate: an import pools every judge's battles).
    """
    judgments = list(exported)
    keys_out = {j.key for j in judgments}
    pairs = {j.key: j for j in judgments if j.model_b is not None}
    frame = data.battles
    if frame is None or frame.empty:
        return []
    n = len(frame)
    keys = [str(k) if isinstance(k, str) else "" for k in (frame["key"] if "key" in frame.columns else [""] * n)]
    weights = frame["weight"] if "weight" in frame.columns else [1.0] * n
    counts = frame["count"] if "count" in frame.columns else [1.0] * n
    missing = reweighed = 0
    example = ""
    for key, weight, count in zip(keys, weights, counts, strict=True):
        parts = key.split("|")
        if not key or not all(p in keys_out for p in parts):
            missing += 1
            continue
        j = pairs.get(key)
        rebuilt = strong_weight if j is not None and j.verdict is not None and ">>" in j.verdict else 1.0
        if abs(float(weight) - rebuilt) > 1e-9 or abs(float(count) - 1.0) > 1e-9:
            reweighed += 1
            example = example or (f"weight {float(weight):g}" + (f", count {float(count):g}" if count != 1 else "")
                                  + (f" of {j.model_a} vs {j.model_b} on question {j.question_id}" if j else ""))
    rated = set(keys)
    unrated = [j for j in pairs.values() if j.verdict is not None and j.error is None and j.key not in rated]
    notes = []
    if missing:
        notes.append(f"{missing} battle rows of battles.jsonl have no judgment in this {layout} export (a judgment "
                     "the layout cannot hold, or a battle with no judge call behind it): an import of it will not "
                     "have them")
    if reweighed:
        notes.append(f"{reweighed} battle rows weigh other than their verdict's 1 ({strong_weight:g} for a strong "
                     f"verdict) or stand for several battles, e.g. {example}; {layout} holds only the verdict: an "
                     f"import of it counts each as one battle of weight 1 ({strong_weight:g} if strong)")
    if unrated:
        judges = sorted({j.judge for j in unrated})
        notes.append(f"{len(unrated)} exported judgments (of {', '.join(judges)}) have no battle row in battles.jsonl "
                     "(a jury rated by its rule, rating.jury): an import of this export rates every judge's "
                     "judgments, pooled")
    return notes


def answers_to_export(data: Run) -> dict[str, list[Answer]]:
    """Model -> the answers an export writes: those the judgments use, and every usable answer of a model whose
    answers no judgment uses (a model judged only in games the layout cannot hold still has its answers
    exported, so exporting the import of an export writes the same files)."""
    used = data.answers_by_model()
    every = data.answers_by_model(used_only=False)
    return used | {m: answers for m, answers in every.items() if m not in used}


def write_export_notes(dest: Path, notes: Sequence[str]) -> Path | None:
    """Write ``notes`` (one per line) to ``dest/EXPORT_NOTES.txt``; None when there are none (an earlier
    export's notes file in ``dest`` is removed then: it would describe other files)."""
    path = Path(dest) / EXPORT_NOTES
    if not notes:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{n}\n" for n in notes), encoding="utf-8")
    return path
