"""Chatbot Arena battle logs and aggregated pair counts.

Battle logs (FastChat's ``clean_battle_*.json`` or the public ``arena_*`` dumps, as a JSON array or JSONL,
CSV, TSV or parquet): one row per vote with ``model_a, model_b, winner`` (``model_a | model_b | tie |
tie (bothbad)``) and optionally ``question_id, turn, judge, category, language, anony, tstamp``. Aggregated
counts add a ``count`` column: how many identical votes the row stands for. ``count`` stays a count in
``battles.jsonl`` (a row with ``count: n`` means exactly what n identical rows mean: in the fit, in the
bootstrap, which resamples votes, and in the battles/wins columns), so the leaderboard equals
``arena rate`` on the same file. A ``weight`` column is kept as the battle weight.

Other tools' tables (LLMFAO's crowd CSV: ``left, right, winner`` in ``left/right/tie``) read through the
column and label mapping of :mod:`arena.tables` (``--map model_a=left,model_b=right --winner-labels
left=model_a,right=model_b,tie=tie``). Rows where a model meets itself are dropped with a counted note.
There are no judge calls and usually no texts, so only battles and the leaderboard are written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.errors import DataError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.records import WINNERS, Battle

FORMAT = "chatbot-arena"
_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq")
_REQUIRED = ("model_a", "model_b", "winner")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _number(value: Any, where: str, column: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {column} {value!r} is not a number") from None
    if not x >= 0 or math.isinf(x):
        raise DataError(f"{where}: {column} must be a finite number >= 0, got {value!r}")
    return x


def _text(value: Any) -> str:
    # pandas reads integer-looking ids of a column with gaps as floats: 3.0 -> "3".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def import_chatbot_arena(
    src: Path,
    *,
    columns: Mapping[str, str] | None = None,
    winner_labels: Mapping[str, str] | None = None,
) -> ImportedRun:
    """Read a battle log or pair-count file, or every table file of a folder.

    Args:
        src: a ``.json/.jsonl/.csv/.tsv/.parquet`` file or a folder of them.
        columns: OUR column -> THEIR column (``--map``), see :func:`arena.tables.apply_mapping`.
        winner_labels: THEIR winner label -> OURS (``--winner-labels``).
    """
    from arena.tables import apply_mapping, read_table

    src = exists_or_fail(src, "Chatbot Arena")
    files = [src] if src.is_file() else sorted(p for p in src.iterdir() if p.suffix.lower() in _SUFFIXES)
    if not files:
        raise DataError(f"{src}: no .json, .jsonl, .csv, .tsv or .parquet battle file in this folder")
    run = ImportedRun(fmt=FORMAT, source=src, mode="pairwise-all")
    aggregated = 0
    for path in files:
        run.files.append(str(path))
        frame = apply_mapping(read_table(path, columns), columns or {}, winner_labels or {}, str(path))
        missing = [c for c in _REQUIRED if c not in frame.columns]
        if missing:
            have = ", ".join(str(c) for c in frame.columns) or "(none)"
            raise DataError(f"{path}: missing column(s) {', '.join(missing)} (the file has: {have}); "
                            "name them with --map model_a=COL,model_b=COL,winner=COL")
        for i, obj in enumerate(frame.to_dict(orient="records")):
            where = f"{path}: row {i + 1}"
            for col in _REQUIRED:
                if not _present(obj[col]):
                    raise DataError(f"{where}: empty {col}")
            winner = str(obj["winner"]).strip()
            if winner not in WINNERS:
                raise DataError(f"{where}: unknown winner {winner!r}; allowed: {', '.join(WINNERS)} "
                                "(map other labels with --winner-labels THEIRS=OURS,...)")
            count = weight = 1.0
            if _present(obj.get("count")):
                count = _number(obj["count"], where, "count")
                aggregated += 1
            if _present(obj.get("weight")):
                weight = _number(obj["weight"], where, "weight")
            qid = obj.get("question_id")
            row: dict[str, Any] = {
                "question_id": _text(qid) if _present(qid) else None,
                "model_a": _text(obj["model_a"]), "model_b": _text(obj["model_b"]), "winner": winner,
                "judge": _text(obj["judge"]) if _present(obj.get("judge")) else "human",
                "weight": weight, "count": count,
                "category": next((_text(obj[k]) for k in ("category", "language") if _present(obj.get(k))),
                                 "general"),
            }
            if _present(obj.get("turn")):
                row["turn"] = int(_number(obj["turn"], where, "turn"))
            run.battles.append(Battle.model_validate(row))
    if aggregated:
        total = sum(b.count for b in run.battles)
        run.notes.append(f"{aggregated} aggregated rows standing for {total:g} battles: 'count' kept as a count "
                         "(fit, bootstrap and battle totals as that many identical rows)")
    if columns or winner_labels:
        run.notes.append("mapped " + ", ".join([f"{k}<-{v}" for k, v in (columns or {}).items()]
                                               + [f"winner {k}->{v}" for k, v in (winner_labels or {}).items()]))
    return run.finish()
