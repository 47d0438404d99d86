"""Chatbot Arena battle logs and aggregated pair counts.

Battle logs (FastChat's ``clean_battle_*.json`` or the public ``arena_*`` dumps, as a JSON array or JSONL,
CSV, TSV or parquet): one row per vote with ``model_a, model_b, winner`` (``model_a | model_b | tie |
tie (bothbad)``) and optionally ``question_id, turn, judge, category, language, anony, tstamp, conv_metadata``
(votes with ``anony`` false are dropped and the style features read from ``conv_metadata``, by the validation every
rater shares: :func:`arena.rating.frame.validate_frame`; when every vote has a ``tstamp`` the battles are written
in time order, the order online Elo runs a timed log in, so ``battles.jsonl`` rates as the log). Aggregated
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

import numpy as np
import pandas as pd

from arena.errors import DataError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.rating.frame import FRAME_COLUMNS, STYLE_COLUMNS, frame_notes, validate_frame
from arena.rating.lmarena import TIME_COLUMN, battle_times
from arena.records import Battle

FORMAT = "chatbot-arena"
_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


_GIVEN_ID = "_arena_question_id_given"
"""Marks the rows that had a question id, through validation (which numbers the others): a battle without one
is imported without one, as ``arena rate`` treats it."""


def _with_log_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """A battle log's own defaults before the common validation: a vote without a judge is a person's
    (``human``), the ``language`` column stands in for a missing ``category``."""
    if not {"model_a", "model_b"} <= set(frame.columns):
        return frame  # validation names what is missing among the file's own columns
    out = frame.copy()
    out[_GIVEN_ID] = out["question_id"].map(_present) if "question_id" in out.columns else False
    out["judge"] = out["judge"].where(out["judge"].map(_present), "human") if "judge" in out.columns else "human"
    if "language" in out.columns:
        category = out["category"] if "category" in out.columns else pd.Series(None, index=out.index, dtype=object)
        out["category"] = category.where(category.map(_present), out["language"])
    return out


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
    times: list[np.ndarray] = []
    for path in files:
        run.files.append(str(path))
        frame = apply_mapping(read_table(path, columns), columns or {}, winner_labels or {}, str(path))
        aggregated += int(frame["count"].notna().sum()) if "count" in frame.columns else 0
        battles = validate_frame(_with_log_defaults(frame), where=str(path))  # the one check of battle rows
        run.notes += frame_notes(battles)
        times.append(battle_times(battles[TIME_COLUMN]) if TIME_COLUMN in battles.columns
                     else np.full(len(battles), np.nan))
        given = battles.pop(_GIVEN_ID).to_numpy(dtype=bool)
        style = [c for c in STYLE_COLUMNS if c in battles.columns]
        for k, row in enumerate(battles[[*FRAME_COLUMNS, *style]].to_dict(orient="records")):
            row["question_id"] = row["question_id"] if given[k] else None
            run.battles.append(Battle.model_validate(
                {c: v for c, v in row.items() if not (c in style and isinstance(v, float) and math.isnan(v))}))
    when = np.concatenate(times) if times else np.empty(0)
    if len(when) and np.isfinite(when).all() and (np.diff(when) < 0).any():
        run.battles = [run.battles[k] for k in np.argsort(when, kind="stable")]
        run.notes.append(f"battles written in the order of their {TIME_COLUMN} (online Elo's order for a timed log), "
                         "not in file order")
    if aggregated:
        total = sum(b.count for b in run.battles)
        run.notes.append(f"{aggregated} aggregated rows standing for {total:g} battles: 'count' kept as a count "
                         "(fit, bootstrap and battle totals as that many identical rows)")
    if columns or winner_labels:
        run.notes.append("mapped " + ", ".join([f"{k}<-{v}" for k, v in (columns or {}).items()]
                                               + [f"winner {k}->{v}" for k, v in (winner_labels or {}).items()]))
    return run.finish()
